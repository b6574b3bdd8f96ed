#!/usr/bin/env python3
"""Derives organisations.txt (the built-in extractor's perpetrator-organisation
lexicon for the MUC domain) from the PERP: ORGANIZATION ID fills of the MUC DEV
answer keys (the tuning set; TST1-TST4 are never read).

Usage: derive_organisations.py DEV_KEY_DIR > organisations.txt

One output line per distinct key filler: its alternatives joined by " / ",
a tab, and a class: state (armed forces, police, government), criminal (drug
cartels, mafias) or guerrilla (everything else). Alternatives that are bare
generic words (GOVERNMENT, GROUP, ...) are dropped: they would match text that
names no organisation."""
import glob
import re
import sys

GENERIC = {"GOVERNMENT", "GROUP", "MILITARY", "COMMUNISTS", "REGIME", "RIGHTWING", "FAR RIGHTWING",
           "EXTREME LEFT", "GUERRILLAS", "REBEL GROUPS", "MEDELLIN", "ELITE CORPS", "ELITE FORCE",
           "CLANDESTINE GROUP", "MAFIA", "MAFIAS", "MAOISTS", "ASSASSINATION GROUP", "HONDURAN LEFT",
           "EXTREME RIGHTIST GROUPS", "ULTRARIGHTIST FACTIONS", "ULTRALEFTIST GROUPS", "REPRESSIVE CORPS",
           "AN EXTREME LEFTIST AND NATIONALIST GROUP", "MILITARY PATROL", "COMMANDO"}
STATE = re.compile(r"\b(ARMY|ARMED FORCES|POLICE|MILITARY|GOVERNMENT|BATTALION|BRIGADE|GUARD|AIR FORCE|NAVY|"
                   r"REGIME|TROOPS|DETACHMENT|SECURITY|INTELLIGENCE|CIA|UMOPAR|FUSEP|CORPS|GENERAL STAFF|"
                   r"HIGH COMMAND|DICTATORSHIP|ADMINISTRATION)\b")
REBEL = re.compile(r"\b(LIBERATION|LILBERATION|REVOLUTIONARY|PEOPLE'S|POPULAR|PATRIOTIC|FARABUNDO|GUERRILLA|"
                   r"GUERRRILLA|FMLN|ELN|EPL|FARC|SHINING|SENDERO|M-19|CAMILIST|MRTA|ZARATE|CINCHONERO)\b")
CRIMINAL = re.compile(r"\b(CARTEL|CARTELS|MAFIA|MAFIAS|TRAFFICKING|EXTRADITABLES|NARCOTICS|DRUG|GANG|GANGS)\b")


def fillers(path):
    slot = None
    for line in open(path, encoding="latin-1"):
        m = re.match(r"^(\d+)\.\s+", line)
        if m:
            slot = int(m.group(1))
        if slot != 10:
            continue
        value = line[36:].strip()
        if value in ("", "-", "*"):
            continue
        alts = [a.replace('\\"', '"').replace('"', "").strip()
                for a in re.findall(r'"((?:[^"\\]|\\.)*)"', value.lstrip("? "))]
        yield alts


def main():
    seen = set()
    out = []
    for path in sorted(glob.glob(sys.argv[1] + "/key-dev-*")):
        for alts in fillers(path):
            clean = []
            for a in alts:
                a = re.sub(r"\s+", " ", a).strip()
                a = re.sub(r"^(THE|AN|A) ", "", a)
                if not a or a in GENERIC or a in clean:
                    continue
                clean.append(a)
            if not clean:
                continue
            key = " / ".join(clean)
            if key in seen:
                continue
            seen.add(key)
            text = " ".join(clean)
            if CRIMINAL.search(text) and not REBEL.search(text):
                cls = "criminal"
            elif STATE.search(text) and not REBEL.search(text):
                cls = "state"
            else:
                cls = "guerrilla"
            out.append(f"{key}\t{cls}")
    print("# Perpetrator organisations from the MUC-3/4 DEV answer keys (derive_organisations.py).")
    print("# NAME / ALTERNATIVE ... <TAB> class (guerrilla | state | criminal)")
    for line in sorted(out):
        print(line)


if __name__ == "__main__":
    main()
