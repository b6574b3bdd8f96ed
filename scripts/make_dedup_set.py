#!/usr/bin/python3
"""Builds tests/data/intel/dedup_labelled.jsonl: a labelled article-dedup set
from REAL news messages of the MUC-3/MUC-4 corpus (1988-1990 Latin-American
terrorism reports, FBIS-style wire and radio news; Sundheim 1992, distributed
for research by NRaD/NIST under DARPA TIPSTER; copied here from the
xinyadu/grit_doc_event_entity repository, commit d8212bc3).

What the set holds (every line one JSON object; line 1 is a "meta" record):
  - originals: MUC messages, text verbatim (paragraphs re-flowed), a headline
    derived from the lead sentence (MUC messages carry none), a URL on a
    fictitious outlet under the reserved .example TLD, the publication date of
    the dateline, and entities taken from the message's first relevant answer
    key template (incident date, place chain, perpetrators and targets), as a
    perfect extractor would give them;
  - near-duplicates made the way syndication makes them, 1-3 per chosen
    original, each a mix of: the same URL with tracking parameters, case,
    default port or fragment; the same story under another outlet's URL;
    re-titled; lead paragraph reworded; truncated; outlet boilerplate added;
    paragraphs reordered; typos. Their entities are those of the original,
    or (as a real extractor on a rewritten copy would do) a subset of the
    actors, or missing;
  - independent reports of one incident: distinct MUC messages whose answer
    keys give the same incident date, place (at least a city) and a shared
    specific perpetrator or target. They are labelled duplicates at incident
    level (dedup asks "do we already have this incident?");
  - hard distinct pairs, all real messages: same place and incident type but
    another incident (another date); same incident date, another place; and
    follow-up stories (same place and a shared actor, a new incident on a
    later date). A third of the same-place pairs get templated headlines
    ("Bombing in Bogota") on both sides, as wire desks write them.

Labels: "group" (articles of one group are duplicates of each other, every
other pair is distinct) and "kind" (what the record is). Records are ordered
by publication time: the evaluation checks each against all earlier ones.

Run: /usr/bin/python3 scripts/make_dedup_set.py [--muc DIR] [--out FILE]
Deterministic (seed below): the same inputs give the same bytes.
"""

import argparse
import datetime as dt
import json
import os
import random
import re
import sys

SEED = 20240606
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MUC = "/work/shared/reference/data/incident-news/muc34/TASK/CORPORA"
DEFAULT_OUT = os.path.join(REPO, "tests", "data", "intel", "dedup_labelled.jsonl")

TEXT_FILES = [f"dev/dev-muc3-{a:04d}-{a + 99:04d}" for a in range(1, 1300, 100)] + ["tst1/tst1-muc3", "tst2/tst2-muc4"]
KEY_FILES = [f"dev/key-dev-{a:04d}.muc4" for a in range(1, 1300, 100)] + ["tst1/key-tst1.v7", "tst2/key-tst2.v4"]

MONTHS = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
OUTLETS = ["latamwire", "centralnews", "andeanpost", "radiodaily", "wirereport", "southernherald",
           "capitaltimes", "regionalmonitor"]
GENERIC_ACTORS = {"terrorists", "terrorist", "guerrillas", "guerrilla", "subversives", "peasants", "civilians",
                  "people", "individuals", "men", "police", "soldiers", "army", "troops", "unidentified",
                  "gunmen", "armed men", "unknown", "persons", "urban terrorists", "members", "rebels"}
SYNONYMS = {"REPORTED": "SAID", "SAID": "STATED", "KILLED": "SLAIN", "ATTACKED": "STRUCK", "TODAY": "ON THIS DAY",
            "YESTERDAY": "THE PREVIOUS DAY", "TERRORISTS": "REBELS", "GUERRILLAS": "INSURGENTS",
            "EXPLODED": "WENT OFF", "WOUNDED": "INJURED", "ACCORDING": "ACCORDING", "SOURCES": "OFFICIALS",
            "POLICE": "AUTHORITIES", "BOMB": "EXPLOSIVE DEVICE", "ANNOUNCED": "DISCLOSED", "KIDNAPPED": "ABDUCTED",
            "MURDERED": "ASSASSINATED", "DEAD": "KILLED", "HOUSE": "HOME", "CAR": "VEHICLE", "STREET": "AVENUE"}
BOILER_HEAD = ["{outlet} WIRE SERVICE --", "FROM OUR CORRESPONDENT --", "BREAKING NEWS --", "{outlet} --"]
BOILER_TAIL = ["COPYRIGHT 1990 {outlet}. ALL RIGHTS RESERVED. THIS MATERIAL MAY NOT BE PUBLISHED, BROADCAST, "
               "REWRITTEN OR REDISTRIBUTED.",
               "FOLLOW {outlet} ON OUR NEWS LINE FOR THE LATEST REPORTS FROM THE REGION. SUBSCRIBE TO OUR DAILY "
               "BULLETIN.",
               "RELATED COVERAGE: SECURITY SITUATION IN THE REGION; GOVERNMENT RESPONSE; INTERNATIONAL REACTION.",
               "THIS REPORT WAS COMPILED FROM WIRE SERVICES. CORRECTIONS MAY BE SENT TO THE NEWS DESK."]
TYPE_HEADLINE = {"ATTACK": "Attack", "BOMBING": "Bombing", "KIDNAPPING": "Kidnapping", "ARSON": "Arson",
                 "ROBBERY": "Robbery", "FORCED WORK STOPPAGE": "Strike"}


def read(path):
    with open(path, encoding="latin-1") as f:
        return f.read()


def parse_messages(root):
    messages = {}
    head = re.compile(r"^((?:DEV-MUC3|TST1-MUC3|TST2-MUC4)-\d{4})\b.*$", re.M)
    for name in TEXT_FILES:
        text = read(os.path.join(root, name))
        marks = list(head.finditer(text))
        for i, m in enumerate(marks):
            body = text[m.end(): marks[i + 1].start() if i + 1 < len(marks) else len(text)]
            paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", body) if p.strip()]
            if paragraphs:
                messages[m.group(1)] = paragraphs
    return messages


def parse_keys(root):
    """message id -> list of templates (slot number -> list of value lines)."""
    keys = {}
    slot_line = re.compile(r"^(\d+)\.\s+[A-Z ]+:\s[A-Z ]+?(?:\s{2,}(.*))?$")
    for name in KEY_FILES:
        for block in re.split(r"\n\s*\n", read(os.path.join(root, name))):
            slots, last = {}, None
            for line in block.splitlines():
                m = slot_line.match(line)
                if m:
                    last = int(m.group(1))
                    slots[last] = [(m.group(2) or "").strip()]
                elif last is not None and line.strip():
                    slots[last].append(line.strip())
            if 0 in slots:
                msg = slots[0][0].split()[0]
                keys.setdefault(msg, []).append(slots)
    return keys


def parse_date(text):
    m = re.fullmatch(r"(\d{1,2}) ([A-Z]{3}) (\d{2})", text.strip())
    if not m or m.group(2) not in MONTHS:
        return None
    try:
        return dt.date(1900 + int(m.group(3)), MONTHS[m.group(2)], int(m.group(1)))
    except ValueError:
        return None


def quoted(values):
    """First alternative of every quoted filler: '"A" / "B"' -> A."""
    out = []
    for v in values:
        v = re.sub(r"^\?\s*", "", v)
        m = re.search(r'"([^"]+)"', v)
        if m:
            out.append(m.group(1))
    return out


def incident(templates):
    """The first relevant template as entities, or None."""
    for t in templates:
        kind = t.get(4, ["*"])[0]
        if kind in ("*", "-", ""):
            continue
        kind = kind.split(":")[0].strip().lstrip("? ")
        date = parse_date(t.get(2, [""])[0])
        loc = t.get(3, [""])[0]
        loc = re.sub(r"\s*\([^)]*\)", "", loc).split(" / ")[0].split(" - ")[0]
        parts = [p.strip() for p in loc.split(":") if p.strip()]
        actors = []
        for slot in (9, 10, 12, 18, 19):
            for a in quoted(t.get(slot, [])):
                if a not in actors:
                    actors.append(a)
        return {"type": kind, "date": date, "place_parts": parts, "actors": actors}
    return None


def specific(actor):
    return actor.lower() not in GENERIC_ACTORS


def entities_json(inc):
    if inc is None or inc["date"] is None or len(inc["place_parts"]) < 2:
        return None
    return {"date": inc["date"].isoformat(), "place": ": ".join(p.lower() for p in inc["place_parts"]),
            "actors": [a.lower() for a in inc["actors"]]}


def dateline_date(paragraphs):
    m = re.search(r",\s*(\d{1,2}) ([A-Z]{3}) (\d{2})\b", paragraphs[0][:120])
    return parse_date(" ".join(m.groups())) if m else None


def lead_sentence(paragraphs):
    first = paragraphs[0]
    first = first.split("--", 1)[1] if "--" in first else first
    first = re.sub(r"\[[^\]]*\]", " ", first)
    first = " ".join(first.split())
    return re.split(r"(?<=[A-Z0-9\"])\.\s", first + " ", maxsplit=1)[0].strip()


def headline(paragraphs):
    words = lead_sentence(paragraphs).replace('"', "").split()
    words = words[:12]
    while words and words[-1].lower() in {"the", "of", "a", "in", "that", "and", "to", "by", "on", "for", "with"}:
        words.pop()
    return " ".join(w if w.startswith("(") else w[:1] + w[1:].lower() for w in words)


def slug(title):
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]


def url_for(rng, outlet, date, title, msg):
    return f"https://www.{outlet}.example/{date:%Y/%m/%d}/{slug(title)}-{msg.lower()[-4:]}"


# ---- syndication transformations -------------------------------------------------------------

def t_tracking_url(rng, url):
    forms = [lambda u: u + "?utm_source=twitter&utm_medium=social&utm_campaign=latam",
             lambda u: u + "?fbclid=IwAR" + "".join(rng.choice("abcdef0123456789") for _ in range(16)),
             lambda u: u.replace("https://www.", "https://WWW.").replace(".example/", ".example:443/") + "#comments",
             lambda u: u + "/?ref=homepage&utm_source=newsletter&gclid=" + str(rng.randrange(10 ** 9)),
             lambda u: u + "?mc_cid=" + str(rng.randrange(10 ** 6)) + "&mc_eid=" + str(rng.randrange(10 ** 6))]
    return rng.choice(forms)(url)


def dateline_city(paragraphs):
    m = re.match(r"^([A-Z][A-Z .'-]+?)(?: \([A-Z .]+\))?,", paragraphs[0])
    return m.group(1).title() if m else "Region"


def t_retitle(rng, title, inc, city):
    place = city
    forms = [lambda: "UPDATE: " + title,
             lambda: title + " - Wire Report",
             lambda: place + ": " + title,
             lambda: " ".join(title.split()[:7]) + " ...",
             lambda: f"{TYPE_HEADLINE.get(inc['type'], 'Incident') if inc else 'Incident'} reported in {place}",
             lambda: "Officials: " + " ".join(title.split()[1:])]
    return rng.choice(forms)()


def reword(rng, sentence):
    words = sentence.split()
    out = [SYNONYMS.get(w, w) if rng.random() < 0.8 else w for w in words]
    # Move a leading attribution ("ACCORDING TO X,") or a time phrase to the end, as rewrite desks do.
    text = " ".join(out)
    m = re.match(r"^(ACCORDING TO [^,]+|[A-Z ]+ HAS REPORTED THAT|[A-Z ]+ REPORTED THAT|[A-Z ]+ SAID THAT),?\s+(.*)$",
                 text)
    if m:
        text = m.group(2) + ", " + m.group(1).replace(" THAT", "").lower().upper() + " SAID"
    return text


def t_lead_reword(rng, paragraphs):
    first = paragraphs[0]
    prefix, lead = (first.split("--", 1) if "--" in first else ("", first))
    sentences = re.split(r"(?<=\.)\s+", lead.strip())
    sentences[0] = reword(rng, sentences[0])
    if len(sentences) > 2 and rng.random() < 0.5:
        sentences[1], sentences[2] = sentences[2], sentences[1]
    new_first = (prefix + "-- " if prefix else "") + " ".join(sentences)
    return [new_first] + paragraphs[1:]


def t_truncate(rng, paragraphs):
    total = sum(len(p) for p in paragraphs)
    keep, size, goal = [], 0, total * rng.uniform(0.45, 0.75)
    for p in paragraphs:
        keep.append(p)
        size += len(p)
        if size >= goal:
            break
    if len(keep) == len(paragraphs) and len(paragraphs) > 1:
        keep = keep[:-1]
    keep[-1] = keep[-1] + " [...]"
    return keep + [rng.choice(["READ THE FULL STORY ON OUR WEBSITE.", "(CONTINUED)", "FULL REPORT TO FOLLOW."])]


def t_boilerplate(rng, paragraphs, outlet):
    name = outlet.upper()
    head = rng.choice(BOILER_HEAD).format(outlet=name)
    tails = rng.sample(BOILER_TAIL, 2)
    return [head + " " + paragraphs[0]] + paragraphs[1:] + [t.format(outlet=name) for t in tails]


def t_reorder(rng, paragraphs):
    if len(paragraphs) < 3:
        return paragraphs[::-1] if len(paragraphs) == 2 else paragraphs
    body = paragraphs[1:]
    i, j = rng.sample(range(len(body)), 2)
    body[i], body[j] = body[j], body[i]
    return [paragraphs[0]] + body


def typo(rng, word):
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(3)
    if op == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == 1:
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def t_typos(rng, paragraphs, rate):
    return [" ".join(typo(rng, w) if rng.random() < rate else w for w in p.split()) for p in paragraphs]


VARIANT_RECIPES = [
    ["tracking_url"],
    ["tracking_url", "boilerplate"],
    ["other_outlet"],
    ["other_outlet", "boilerplate"],
    ["other_outlet", "retitle"],
    ["other_outlet", "retitle", "boilerplate"],
    ["other_outlet", "lead_reword"],
    ["other_outlet", "retitle", "lead_reword"],
    ["other_outlet", "truncate"],
    ["other_outlet", "truncate", "boilerplate"],
    ["other_outlet", "retitle", "truncate"],
    ["other_outlet", "reorder"],
    ["other_outlet", "retitle", "reorder"],
    ["other_outlet", "typos"],
    ["other_outlet", "retitle", "typos"],
    ["other_outlet", "lead_reword", "typos"],
    ["other_outlet", "boilerplate", "reorder", "typos"],
    ["other_outlet", "lead_reword", "truncate"],
]


def make_variant(rng, orig, recipe, serial):
    paragraphs = list(orig["paragraphs"])
    title, url = orig["title"], orig["url"]
    outlet = orig["outlet"]
    inc = orig["inc"]
    for step in recipe:
        if step == "tracking_url":
            url = t_tracking_url(rng, orig["url"])
        elif step == "other_outlet":
            outlet = rng.choice([o for o in OUTLETS if o != orig["outlet"]])
        elif step == "retitle":
            title = t_retitle(rng, title, inc, dateline_city(orig["paragraphs"]))
        elif step == "lead_reword":
            paragraphs = t_lead_reword(rng, paragraphs)
        elif step == "truncate":
            paragraphs = t_truncate(rng, paragraphs)
        elif step == "boilerplate":
            paragraphs = t_boilerplate(rng, paragraphs, outlet)
        elif step == "reorder":
            paragraphs = t_reorder(rng, paragraphs)
        elif step == "typos":
            paragraphs = t_typos(rng, paragraphs, rng.uniform(0.01, 0.03))
            if rng.random() < 0.5:
                title = " ".join(typo(rng, w) if rng.random() < 0.15 else w for w in title.split())
    if "other_outlet" in recipe:
        url = url_for(rng, outlet, orig["published"].date(), title, orig["msg"]) + f"-{serial}"
    published = orig["published"] + dt.timedelta(minutes=rng.randrange(20, 36 * 60))
    ents = orig["entities"]
    roll = rng.random()
    if ents is not None and roll < 0.15:
        ents = None
    elif ents is not None and roll < 0.30 and len(ents["actors"]) > 1:
        ents = dict(ents, actors=rng.sample(ents["actors"], max(1, len(ents["actors"]) // 2)))
    return {"title": title, "url": url, "paragraphs": paragraphs, "published": published, "entities": ents,
            "kind": "variant:" + "+".join(recipe), "msg": orig["msg"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--muc", default=DEFAULT_MUC)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--variant-groups", type=int, default=220)
    ap.add_argument("--pairs", type=int, default=50, help="hard distinct pairs of each kind")
    args = ap.parse_args()
    rng = random.Random(SEED)

    messages = parse_messages(args.muc)
    keys = parse_keys(args.muc)
    docs = {}
    for msg in sorted(messages):
        paragraphs = messages[msg]
        date = dateline_date(paragraphs)
        inc = incident(keys.get(msg, []))
        title = headline(paragraphs)
        if date is None or len(title.split()) < 4 or sum(len(p) for p in paragraphs) < 400:
            continue
        outlet = OUTLETS[sum(map(ord, msg)) % len(OUTLETS)]
        published = dt.datetime(date.year, date.month, date.day, tzinfo=dt.timezone.utc) + dt.timedelta(
            minutes=rng.randrange(6 * 60, 22 * 60))
        docs[msg] = {"msg": msg, "paragraphs": paragraphs, "title": title, "inc": inc, "outlet": outlet,
                     "published": published, "url": url_for(rng, outlet, date, title, msg),
                     "entities": entities_json(inc)}
    relevant = [m for m in sorted(docs) if docs[m]["entities"] is not None]
    print(f"messages {len(messages)}, usable {len(docs)}, with entities {len(relevant)}", file=sys.stderr)

    def place(m):
        return docs[m]["entities"]["place"]

    def day(m):
        return docs[m]["entities"]["date"]

    def shared_actor(a, b):
        sa = {x for x in docs[a]["entities"]["actors"] if specific(x)}
        return bool(sa & {x for x in docs[b]["entities"]["actors"] if specific(x)})

    # Independent reports of one incident (same date, place, a shared specific actor).
    same_incident = [(a, b) for i, a in enumerate(relevant) for b in relevant[i + 1:]
                     if day(a) == day(b) and place(a) == place(b) and shared_actor(a, b)]

    # The corpus logs some wire items twice (e.g. DEV-MUC3-0584/0585): texts sharing at least half of
    # the shorter one's word 5-shingles are one story, whatever their message ids.
    shingles = {}
    for m in docs:
        words = re.findall(r"[A-Z0-9]+", " ".join(docs[m]["paragraphs"]).upper())
        shingles[m] = {" ".join(words[i:i + 5]) for i in range(max(1, len(words) - 4))}
    holders = {}
    for m in sorted(docs):
        for sh in shingles[m]:
            holders.setdefault(sh, []).append(m)
    shared = {}
    for sh, ms in holders.items():
        if len(ms) > 20:
            continue
        for i, a in enumerate(ms):
            for b in ms[i + 1:]:
                shared[(a, b)] = shared.get((a, b), 0) + 1
    corpus_dups = sorted((a, b) for (a, b), n in shared.items()
                         if n >= 0.5 * min(len(shingles[a]), len(shingles[b])))

    parent = {m: m for m in docs}

    def find(m):
        while parent[m] != m:
            parent[m] = parent[parent[m]]
            m = parent[m]
        return m

    # Groups: union-find over story and incident identity, so two records never get "distinct"
    # labels while their texts or their answer keys say they are one.
    for a, b in corpus_dups + same_incident:
        parent[find(a)] = find(b)

    def pick_pairs(pred, n):
        cands = [(a, b) for i, a in enumerate(relevant) for b in relevant[i + 1:]
                 if find(a) != find(b) and pred(a, b)]
        rng.shuffle(cands)
        used, out = set(), []
        for a, b in cands:
            if a in used or b in used:
                continue
            used.update((a, b))
            out.append((a, b))
            if len(out) == n:
                break
        return out

    def days_apart(a, b):
        return abs((dt.date.fromisoformat(day(a)) - dt.date.fromisoformat(day(b))).days)

    same_place_type = pick_pairs(lambda a, b: place(a) == place(b) and docs[a]["inc"]["type"] == docs[b]["inc"]["type"]
                                 and day(a) != day(b), args.pairs)
    same_day_other_place = pick_pairs(lambda a, b: day(a) == day(b) and place(a) != place(b), args.pairs)
    follow_up = pick_pairs(lambda a, b: place(a) == place(b) and shared_actor(a, b) and 0 < days_apart(a, b) <= 180,
                           args.pairs)

    chosen = set()
    for a, b in same_incident[:60]:
        chosen.update((a, b))
    for pairs in (same_place_type, same_day_other_place, follow_up):
        for a, b in pairs:
            chosen.update((a, b))
    pair_kind = {}
    for kind, pairs in (("distinct:same_place_type", same_place_type),
                        ("distinct:same_day_other_place", same_day_other_place), ("distinct:follow_up", follow_up)):
        for a, b in pairs:
            later = a if docs[a]["published"] > docs[b]["published"] else b
            pair_kind.setdefault(later, kind)
    templated = set()
    for a, b in same_place_type[: len(same_place_type) // 3]:
        for m in (a, b):
            inc = docs[m]["inc"]
            docs[m]["title"] = f"{TYPE_HEADLINE.get(inc['type'], 'Incident')} in {inc['place_parts'][-1].title()}"
            docs[m]["url"] = url_for(rng, docs[m]["outlet"], docs[m]["published"].date(), docs[m]["title"], m)
            templated.add(m)

    pool = [m for m in sorted(docs) if m not in chosen]
    rng.shuffle(pool)
    variant_sources = pool[: args.variant_groups]
    # Plain originals with no copy: the rest of the distinct background.
    background = pool[args.variant_groups: args.variant_groups + 150]
    chosen.update(variant_sources)
    chosen.update(background)

    records = []
    for m in sorted(chosen):
        d = docs[m]
        kind = pair_kind.get(m, "original")
        if any(m in p for p in same_incident[:60]) and kind == "original":
            kind = "original:same_incident_report"
        if any(m in p for p in corpus_dups) and kind == "original":
            kind = "original:corpus_duplicate"
        if m in templated:
            kind += ":templated_title"
        records.append({"title": d["title"], "url": d["url"], "paragraphs": d["paragraphs"],
                        "published": d["published"], "entities": d["entities"], "kind": kind, "msg": m})
    serial = 0
    for m in variant_sources:
        for _ in range(rng.choice([1, 1, 2, 2, 3])):
            serial += 1
            recipe = rng.choice(VARIANT_RECIPES)
            records.append(make_variant(rng, docs[m], recipe, serial))

    records.sort(key=lambda r: (r["published"], r["url"]))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        meta = {"meta": {
            "generator": "scripts/make_dedup_set.py", "seed": SEED,
            "source": "MUC-3/MUC-4 corpus (Sundheim 1992, NRaD/NIST, DARPA TIPSTER), via "
                      "github.com/xinyadu/grit_doc_event_entity commit d8212bc3f6677994576aa426c26f6939b0eb8bf1; "
                      "message texts verbatim (re-flowed), headlines derived from the lead, URLs fictitious (.example)",
            "labels": "records sharing 'group' are duplicates (same story or same incident); all others distinct",
            "records": len(records)}}
        f.write(json.dumps(meta, sort_keys=True) + "\n")
        for i, r in enumerate(records):
            out = {"id": i + 1, "group": find(r["msg"]), "kind": r["kind"], "source": f"MUC {r['msg']}",
                   "url": r["url"], "title": r["title"], "text": "\n\n".join(r["paragraphs"]),
                   "published": r["published"].strftime("%Y-%m-%dT%H:%M:%SZ"), "entities": r["entities"]}
            f.write(json.dumps(out, sort_keys=True) + "\n")
    kinds = {}
    for r in records:
        k = r["kind"].split(":")[0] if r["kind"].startswith("variant") else r["kind"]
        kinds[k] = kinds.get(k, 0) + 1
    print(f"wrote {len(records)} records to {args.out}: {json.dumps(kinds, sort_keys=True)}; "
          f"same-incident pairs {len(same_incident)}, corpus duplicate pairs {len(corpus_dups)}", file=sys.stderr)


if __name__ == "__main__":
    main()
