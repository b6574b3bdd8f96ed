#!/usr/bin/python3
"""Write examples/intel/demo_news.xml: an RSS 2.0 feed of synthetic local news for the embedded demo.

The articles are made up, but each incident article is written around one real
incident of the demo's data set (City of Chicago, "Crimes - 2001 to Present",
data.cityofchicago.org; 2019 H1 as in examples/data/chicago/): its offense
type, day and hour, community area, arrest flag and coordinates. The CSV has
no names and no addresses; the articles name no person either (actors are
descriptions: "a 24-year-old man", "two men", "officers"), and the only places
are community areas and block-level street names ("the 1300 block of West 63rd
Street") from the gazetteer's street grid near the incident's point. Ages,
sexes and circumstances are invented.

Besides the incident articles the feed holds, on purpose, work for the intel
pipeline: syndicated copies (same text, another link and a retouched title),
copies linked with tracking parameters (same canonical URL), non-incident
community news, and vague incident reports with no place or no date.

Standard library only; deterministic (fixed seed):

    /usr/bin/python3 scripts/make_demo_news.py [--root REPO] [--out FILE]
"""
import argparse
import csv
import datetime as dt
import math
import os
import random
import re
import sys
from xml.sax.saxutils import escape

SEED = 20190701
FEED_TITLE = "Sentinel demo: synthetic local news"
SITE = "https://demo-news.example"

# How many incident articles of each kind (about 42 originals; with the
# copies and the other articles the feed holds about 60 items).
KIND_COUNTS = {
    "homicide": 5,
    "shooting": 8,
    "robbery": 6,
    "carjacking": 5,
    "burglary": 5,
    "arson": 3,
    "theft": 4,
    "weapons": 3,
    "narcotics": 3,
}
SYNDICATED = 6
TRACKING = 4

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


# ---------------------------------------------------------------- inputs

def read_community_areas(path):
    """Community-area number -> name, from the gazetteer table's district column ("NUMBER|NAME")."""
    areas = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            number, _, name = cols[5].partition("|")
            areas[int(number)] = name or cols[0]
    return areas


def area_name(areas, row):
    """The community area as running text writes it ("the Loop", "the Near West Side")."""
    name = areas[int(row["Community Area"])]
    return "the " + name if name == "Loop" or name.endswith(" Side") else name


class Street:
    """One gazetteer street: a straight line from FROM (lat/lon) to TO (end point), signed address range."""

    FULL_SUFFIXES = ("Street", "Avenue", "Road", "Boulevard", "Drive", "Parkway")

    def __init__(self, cols):
        self.name = cols[0]
        self.lat0, self.lon0 = float(cols[3]), float(cols[4])
        aliases = [a for a in cols[6].split(";") if a]
        full = [a for a in aliases if a.split()[-1] in self.FULL_SUFFIXES and "Martin" not in a]
        self.display = full[0] if full else self.name
        lo, hi = cols[7].split("..")
        self.addr0, self.addr1 = int(lo), int(hi)
        lat1, lon1 = cols[8].split(",")
        self.lat1, self.lon1 = float(lat1), float(lon1)
        # East-west streets keep their latitude; their negative numbers are west.
        self.east_west = abs(self.lat1 - self.lat0) < abs(self.lon1 - self.lon0)

    def locate(self, lat, lon):
        """(distance in metres from the street's line, signed address) of the point's projection, or None off the ends."""
        ky = 111_320.0
        kx = 111_320.0 * math.cos(math.radians(41.85))
        x0, y0 = self.lon0 * kx, self.lat0 * ky
        dx, dy = self.lon1 * kx - x0, self.lat1 * ky - y0
        px, py = lon * kx - x0, lat * ky - y0
        length2 = dx * dx + dy * dy
        t = (px * dx + py * dy) / length2
        if t < 0.0 or t > 1.0:
            return None
        dist = math.hypot(px - t * dx, py - t * dy)
        return dist, self.addr0 + t * (self.addr1 - self.addr0)

    def block_phrase(self, address):
        block = int(abs(address)) // 100 * 100
        if self.east_west:
            direction = "West" if address < 0 else "East"
        else:
            direction = "South" if address < 0 else "North"
        return block, f"the {block} block of {direction} {self.display}"


def read_streets(path):
    streets = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            streets.append(Street(line.rstrip("\n").split("\t")))
    return streets


def nearest_block(streets, lat, lon, max_metres=45.0):
    """'the 1300 block of West 63rd Street' for the nearest street within max_metres, or None."""
    best = None
    for s in streets:
        hit = s.locate(lat, lon)
        if hit is None or hit[0] > max_metres:
            continue
        if best is None or hit[0] < best[0]:
            best = (hit[0], s, hit[1])
    if best is None:
        return None
    block, phrase = best[1].block_phrase(best[2])
    lo, hi = sorted((best[1].addr0, best[1].addr1))
    if block < 100 or not lo <= best[2] <= hi:
        return None
    return phrase


def classify(row):
    """The article kind an incident row stands for, or None."""
    ptype, desc = row["Primary Type"], row["Description"]
    arrest = row["Arrest"] == "True"
    if "VEHICULAR HIJACKING" in desc:
        return "carjacking"
    if ptype == "HOMICIDE" and desc == "FIRST DEGREE MURDER":
        return "homicide"
    if ptype == "BATTERY" and ("HANDGUN" in desc or "OTHER FIREARM" in desc) and "AGG" in desc:
        return "shooting"
    if ptype == "ROBBERY" and desc == "ARMED: HANDGUN":
        return "robbery"
    if ptype == "BURGLARY" and desc in ("FORCIBLE ENTRY", "HOME INVASION"):
        return "burglary"
    if ptype == "ARSON" and desc == "BY FIRE":
        return "arson"
    if ptype == "THEFT" and desc in ("OVER $500", "FROM BUILDING", "RETAIL THEFT"):
        return "theft"
    if ptype == "WEAPONS VIOLATION" and desc in ("UNLAWFUL POSS OF HANDGUN", "UNLAWFUL USE HANDGUN") and arrest:
        return "weapons"
    if ptype == "NARCOTICS" and arrest and desc.startswith(("POSS: HEROIN", "POSS: CRACK", "POSS: COCAINE",
                                                            "MANU/DELIVER")):
        return "narcotics"
    return None


def read_incidents(path):
    by_kind = {}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            kind = classify(row)
            if kind is None or not row["Latitude"] or row["Community Area"] in ("", "0"):
                continue
            by_kind.setdefault(kind, []).append(row)
    return by_kind


# ---------------------------------------------------------------- time

def chicago_offset_hours(local):
    """UTC offset of Chicago local time in 2019 (US rule: second Sunday of March to first Sunday of November)."""
    def nth_sunday(year, month, n):
        d = dt.date(year, month, 1)
        d += dt.timedelta(days=(6 - d.weekday()) % 7)
        return d + dt.timedelta(weeks=n - 1)
    start = dt.datetime.combine(nth_sunday(local.year, 3, 2), dt.time(2))
    end = dt.datetime.combine(nth_sunday(local.year, 11, 1), dt.time(2))
    return -5 if start <= local < end else -6


def rfc822(local):
    off = chicago_offset_hours(local)
    return (f"{WEEKDAYS[local.weekday()][:3]}, {local.day:02d} {MONTHS[local.month - 1]} {local.year} "
            f"{local:%H:%M:%S} {'-' if off < 0 else '+'}{abs(off):02d}00")


def clock(t):
    """'about 10:30 p.m.', 'about 3 a.m.', 'shortly after noon'."""
    h, m = t.hour, t.minute
    if h == 12 and m == 0:
        return "about noon"
    if h == 0 and m == 0:
        return "about midnight"
    suffix = "a.m." if h < 12 else "p.m."
    h12 = h % 12 or 12
    return f"about {h12}:{m:02d} {suffix}" if m else f"about {h12} {suffix}"


def part_of_day(hour):
    if hour < 5:
        return "early"
    if hour < 12:
        return "morning"
    if hour < 17:
        return "afternoon"
    if hour < 21:
        return "evening"
    return "night"


def publication(rng, when):
    """(publication time, relative-day phrase consistent with it) for an incident at local time `when`."""
    wd = WEEKDAYS[when.weekday()]
    part = part_of_day(when.hour)
    if when.hour < 5:
        pub = when.replace(hour=rng.choice([8, 9, 10, 11]), minute=rng.choice([5, 20, 35, 50]), second=0)
        phrase = rng.choice([f"early {wd}", f"early {wd}", "early this morning"])
        return pub, phrase
    pub = (when + dt.timedelta(days=1)).replace(hour=rng.choice([6, 7, 8, 9]), minute=rng.choice([0, 15, 30, 45]),
                                               second=0)
    options = [f"{wd} {part}", f"{wd} {part}", f"yesterday {part}" if part != "night" else "late yesterday"]
    if when.hour >= 19:
        options.append("last night")
    if when.hour >= 22:
        options.append(f"late {wd}")
    return pub, rng.choice(options)


# ---------------------------------------------------------------- people

def person(rng, sex=None, min_age=17, max_age=66):
    """('a 24-year-old man', 'man', age) or ('a woman, 52,', ...): the comma closes the apposition."""
    sex = sex or rng.choice(["man", "man", "man", "woman"])
    age = rng.randint(min_age, max_age)
    if age < 19 and rng.random() < 0.5:
        noun = "teenager" if rng.random() < 0.5 else ("boy" if sex == "man" else "girl")
        return f"a {age}-year-old {noun}", sex, age
    if rng.random() < 0.7:
        return f"a {age}-year-old {sex}", sex, age
    return f"a {sex}, {age},", sex, age


def pronoun(sex):
    return "he" if sex == "man" else "she"


def possessive(sex):
    return "his" if sex == "man" else "her"


def setting(rng, location):
    """A short phrase for the CSV's location description."""
    loc = location.upper()
    table = [
        ("GAS STATION", ["at a gas station", "in the lot of a gas station"]),
        ("PARKING LOT", ["in a parking lot", "in a parking garage"]),
        ("ALLEY", ["in an alley", "in an alley behind a row of homes"]),
        ("SIDEWALK", ["on the sidewalk", "on a sidewalk"]),
        ("APARTMENT", ["inside an apartment building", "in an apartment"]),
        ("PORCH", ["on the porch of a home", "in the hallway of a building"]),
        ("YARD", ["in a back yard", "in the yard of a home"]),
        ("GARAGE", ["in a garage", "in a detached garage"]),
        ("RESIDENCE", ["outside a home", "at a residence"]),
        ("RESTAURANT", ["outside a restaurant", "in a restaurant"]),
        ("STORE", ["at a store", "inside a corner store"]),
        ("CTA", ["near a CTA station", "on a CTA platform"]),
        ("BAR", ["outside a bar", "in a tavern"]),
        ("VEHICLE", ["in a parked car", "inside a vehicle"]),
        ("PARK", ["in a park", "near a park fieldhouse"]),
    ]
    for key, phrases in table:
        if key in loc:
            return rng.choice(phrases)
    return rng.choice(["on the street", "outside", "on the block"])


# ---------------------------------------------------------------- sentence pools

POLICE_SAID = ["police said", "according to police", "Chicago police said", "a police spokesperson said",
               "police reported"]

NO_ARREST = [
    "No one was in custody, and detectives were investigating.",
    "No arrests had been made as of early this morning.",
    "Police did not report any arrests.",
    "Detectives were still looking for whoever was responsible.",
    "No one had been charged, police said.",
    "The investigation was continuing, and no one was in custody.",
]

WITNESS = [
    "Neighbors said they heard yelling before the police arrived.",
    "A neighbor said the block is usually quiet after dark.",
    "Residents said they had noticed more patrol cars on the block in recent weeks.",
    "A worker at a nearby business said officers canvassed the area for about an hour.",
    "One neighbor said she called 911 after hearing the commotion.",
    "People who live nearby said they did not recognize the vehicle.",
    "A longtime resident said the corner had been calm this year.",
    "Several neighbors gathered behind the police tape as investigators worked.",
]

VIDEO = [
    "Investigators were reviewing video from nearby cameras.",
    "Police were checking whether a doorbell camera captured the suspects.",
    "Detectives asked businesses on the street for surveillance footage.",
    "Officers collected evidence at the scene and searched the surrounding blocks.",
    "Investigators marked the scene with evidence cones before reopening the street.",
]

TIPS = [
    "Anyone with information is asked to contact detectives.",
    "Police asked anyone who saw something to call the district station.",
    "Tips can be submitted anonymously, police said.",
    "Detectives urged witnesses to come forward.",
    "Police asked residents with home video to share it with investigators.",
]

AFTERMATH = [
    "Crime scene tape stayed up across the sidewalk until midmorning.",
    "A squad car remained parked at the corner into the next day.",
    "By the afternoon, traffic on the block was back to normal.",
    "Neighbors said children who usually play outside stayed in.",
    "A block club leader said residents plan to talk about the incident at their next meeting.",
    "The owner of a nearby shop said customers asked about it all morning.",
]

CONTEXT = [
    "It was the second such report in the area this month, according to police data.",
    "The district's commander has promised more foot patrols this spring.",
    "Community groups in the neighborhood have called for more street lighting.",
    "Police said there was no indication the incident was connected to others nearby.",
    "Officers remained on the block for several hours.",
    "The area is served by the police district's tactical team.",
]


def arrest_sentence(rng, kind):
    who, sex, _ = person(rng, min_age=18, max_age=45)
    charge = {
        "homicide": "first-degree murder", "shooting": "aggravated battery with a firearm",
        "robbery": "armed robbery", "carjacking": "aggravated vehicular hijacking", "burglary": "burglary",
        "arson": "arson", "theft": "theft", "weapons": "unlawful use of a weapon", "narcotics": "drug possession",
    }[kind]
    return rng.choice([
        f"{who[0].upper() + who[1:]} was taken into custody and charged with {charge}, police said.",
        f"Officers arrested {who} nearby, and charges of {charge} were filed.",
        f"Police said {who} was arrested a short time later and faces a charge of {charge}.",
        f"{who[0].upper() + who[1:]} was arrested at the scene; {pronoun(sex)} was expected in bond court.",
    ])


def lead_and_title(rng, kind, row, day, place, area, at):
    """The first sentence(s) and the headline of an incident article."""
    said = rng.choice(POLICE_SAID if kind not in ("theft", "narcotics") else ["a department spokesperson said",
                                                                               "authorities said"])
    where = f"in {place} in {area}" if place else f"in {area}"
    desc = row["Description"]
    if kind == "homicide":
        v, sex, age = person(rng, min_age=16, max_age=60)
        how = rng.choice(["shot and killed", "fatally shot", "killed in a shooting"])
        lead = (f"{v[0].upper() + v[1:]} was {how} {day} {where}, {said}. "
                f"{pronoun(sex).capitalize()} was found {setting(rng, row['Location Description'])} {at} "
                f"with gunshot wounds and was pronounced dead at a hospital.")
        title = rng.choice([f"{sex.capitalize()}, {age}, killed in {area} shooting",
                            f"Homicide investigation after {sex} shot and killed in {area}",
                            f"{area} shooting leaves {sex} dead"])
        extra = [rng.choice(["Police are investigating the death as a homicide.",
                             "The medical examiner's office ruled the death a homicide.",
                             "Detectives from the homicide unit were assigned to the case."]),
                 rng.choice(["Detectives said the shooting did not appear to be random.",
                             "Police did not say what led to the shooting.",
                             "Relatives gathered near the scene as investigators worked."])]
    elif kind == "shooting":
        v, sex, age = person(rng)
        wound = rng.choice(["in the leg", "in the arm", "in the shoulder", "in the back", "in the hand"])
        cond = rng.choice(["in good condition", "in fair condition", "in serious condition", "in stable condition"])
        lead = (f"{v[0].upper() + v[1:]} was shot and wounded {day} {where}, {said}. "
                f"{pronoun(sex).capitalize()} was {setting(rng, row['Location Description'])} {at} when "
                f"{rng.choice(['someone in a passing car opened fire', 'a man walked up and fired shots', 'shots were fired from a dark sedan', 'gunfire erupted from across the street'])}, "
                f"striking {'him' if sex == 'man' else 'her'} {wound}.")
        title = rng.choice([f"{sex.capitalize()}, {age}, wounded in {area} shooting",
                            f"Shooting in {area} leaves {sex} wounded",
                            f"{sex.capitalize()} shot {wound} in {area}"])
        extra = [f"{pronoun(sex).capitalize()} was taken to a hospital {cond}."]
    elif kind == "robbery":
        v, sex, age = person(rng)
        robbers = rng.choice(["two men", "a man", "three men", "two young men"])
        loot = rng.choice(["phone and wallet", "cash and phone", "backpack and phone", "car keys and wallet"])
        lead = (f"{v[0].upper() + v[1:]} was robbed at gunpoint {day} {where}, {said}. "
                f"{pronoun(sex).capitalize()} was {setting(rng, row['Location Description'])} {at} when "
                f"{robbers} approached, one displaying a handgun, and demanded {possessive(sex)} {loot}.")
        title = rng.choice([f"{sex.capitalize()} robbed at gunpoint in {area}",
                            f"Armed robbery reported in {area}",
                            f"Gunpoint robbery on {area} block"])
        extra = [rng.choice(["The robbers fled on foot.", "The robbers ran off toward an alley.",
                             "The robbers drove off in a gray SUV."]),
                 rng.choice(["No one was hurt.", f"The {sex} was not hurt.", "No injuries were reported."])]
    elif kind == "carjacking":
        v, sex, age = person(rng, min_age=20)
        car = rng.choice(["a silver sedan", "a black SUV", "a white minivan", "a red hatchback", "a blue pickup"])
        armed = "AGGRAVATED" in desc
        lead = (f"{v[0].upper() + v[1:]} was carjacked {day} {where}, {said}. "
                f"{pronoun(sex).capitalize()} was {setting(rng, row['Location Description'])} {at} when "
                f"{rng.choice(['two men', 'a man', 'three people'])} "
                f"{'with a gun ' if armed else ''}ordered {'him' if sex == 'man' else 'her'} out of {car} "
                f"and drove away in it.")
        title = rng.choice([f"Driver carjacked in {area}", f"Carjacking in {area}: {car[2:]} taken",
                            f"{sex.capitalize()}, {age}, carjacked in {area}"])
        extra = [rng.choice(["The vehicle was found abandoned several miles away a few hours later.",
                             "The vehicle had not been recovered.",
                             f"The {sex} was not injured."])]
    elif kind == "burglary":
        invasion = desc == "HOME INVASION"
        items = rng.choice(["two laptops and a television", "jewelry and cash", "tools and a bicycle",
                            "a gaming console and electronics", "cash from a register"])
        target = rng.choice(["a home", "a two-flat", "a storefront", "a garage", "an apartment"])
        entry = rng.choice(["forced open a rear door", "broke a back window", "pried open a side door"])
        lead = (f"Someone broke into {target} {day} {where}, {said}. The burglary was reported {at} after "
                f"the {rng.choice(['owner', 'resident', 'tenant', 'manager'])} found that the intruder had "
                f"{entry} and taken {items}.")
        title = rng.choice([f"Burglary reported in {area}", f"Burglars hit {target.split(' ', 1)[1]} in {area}",
                            f"{area} {target.split()[-1]} burglarized"])
        extra = ["The residents were home at the time but were not hurt." if invasion
                 else "No one was inside at the time."]
    elif kind == "arson":
        target = rng.choice(["a vacant two-story building", "a parked car", "a garage", "a dumpster behind a store"])
        lead = (f"Someone set fire to {target} {day} {where}, {said}. Firefighters were called {at} and "
                f"put out the flames before they spread to neighboring buildings.")
        title = rng.choice([f"Arson investigated after fire in {area}", f"Fire in {area} ruled arson",
                            f"{area} fire was set on purpose, officials say"])
        extra = [rng.choice(["A fire department spokesperson said investigators found signs an accelerant was used.",
                             "Arson investigators were called to the scene.",
                             "No one was hurt, fire officials said."])]
    elif kind == "theft":
        what = {
            "RETAIL THEFT": ("merchandise from a store", "shoplifting"),
            "FROM BUILDING": ("packages from a building lobby", "theft"),
        }.get(desc, (rng.choice(["a catalytic converter", "a bicycle worth more than $1,000",
                                 "tools from a work van"]), "theft"))
        lead = (f"Police are investigating the theft of {what[0]} {day} {where}, {said}. The theft was "
                f"reported {at}" + ("." if desc in ("RETAIL THEFT", "FROM BUILDING") else
                                    f", and the items were stolen {setting(rng, row['Location Description'])}."))
        title = rng.choice([f"Theft reported in {area}", f"Thieves target {area} block",
                            f"{area}: items stolen, police investigating"])
        extra = [rng.choice(["The loss was estimated at several hundred dollars.",
                             "Police said similar thefts have been reported nearby.",
                             "The owner said the loss would be covered by insurance."])]
    elif kind == "weapons":
        v, sex, age = person(rng, "man", 18, 40)
        lead = (f"Officers recovered a loaded handgun and arrested {v} {day} {where}, {said}. "
                f"Police stopped the {sex} {setting(rng, row['Location Description'])} {at} and found the "
                f"gun in {possessive(sex)} waistband.")
        title = rng.choice([f"Gun recovered, {sex} charged in {area}", f"Weapons arrest in {area}",
                            f"{area} stop leads to gun charge"])
        extra = [f"{pronoun(sex).capitalize()} was charged with unlawful use of a weapon, a weapons violation, "
                 f"because {pronoun(sex)} had no valid concealed carry license."]
    else:  # narcotics
        drug = "heroin" if "HEROIN" in desc else ("crack cocaine" if "CRACK" in desc else
                                                  ("cocaine" if "COCAINE" in desc else "narcotics"))
        v, sex, age = person(rng, "man", 18, 50)
        lead = (f"Police arrested {v} on a narcotics charge {day} {where}, {said}. Officers on patrol saw "
                f"the {sex} {setting(rng, row['Location Description'])} {at} and found {drug} in "
                f"{possessive(sex)} pocket.")
        title = rng.choice([f"Drug arrest in {area}", f"{sex.capitalize()} charged with drug possession in {area}",
                            f"{drug.capitalize()} found in {area} narcotics arrest"])
        extra = [f"{pronoun(sex).capitalize()} was charged with drug possession, police said."]
    return lead, title, extra


def build_body(rng, lead, extra, arrested, kind, budget=(520, 880)):
    """Lead + kind details + arrest line + varied filler, 500-900 characters."""
    sentences = [lead] + extra
    if arrested and kind not in ("weapons", "narcotics"):
        sentences.append(arrest_sentence(rng, kind))
    elif not arrested:
        sentences.append(rng.choice(NO_ARREST))
    pools = [WITNESS, VIDEO, CONTEXT, TIPS, AFTERMATH]
    rng.shuffle(pools)
    target = rng.randint(budget[0], budget[1] - 140)
    for pool in pools:
        if len(" ".join(sentences)) >= target:
            break
        candidate = rng.choice(pool)
        if len(" ".join(sentences + [candidate])) <= budget[1]:
            sentences.append(candidate)
    return " ".join(sentences)


def slugify(text):
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:70].rstrip("-")


# ---------------------------------------------------------------- fixed kinds

def non_incident_articles(rng, areas):
    """Community news with no incident: meetings, parks, schools."""
    picks = rng.sample(sorted(areas.values()), 5)
    days = [dt.datetime(2019, 1, 22, 7, 30), dt.datetime(2019, 2, 26, 8, 0), dt.datetime(2019, 4, 9, 7, 45),
            dt.datetime(2019, 5, 14, 9, 15), dt.datetime(2019, 6, 18, 8, 30)]
    items = [
        (f"{picks[0]} residents to meet with district officers on Thursday",
         f"Residents of {picks[0]} are invited to a community meeting with officers from the local police district "
         f"on Thursday evening at the public library branch. The meeting is part of the city's community policing "
         f"program, and organizers said the agenda includes traffic safety near schools, speeding on side streets "
         f"and plans for summer youth programs. Neighbors may bring questions about street lighting and abandoned "
         f"vehicles. Interpreters in Spanish and Polish will be available, and light refreshments will be served. "
         f"Organizers said the meetings draw a few dozen people each month and that newcomers are welcome."),
        (f"{picks[1]} park fieldhouse reopens after renovation",
         f"The fieldhouse at a neighborhood park in {picks[1]} reopened Monday after a year-long renovation that "
         f"added a new roof, an accessible entrance and an updated gym. Park district officials said the building "
         f"will host after-school programs, senior fitness classes and a spring basketball league. Families who "
         f"toured the building praised the brighter rooms and the new water fountains. A ribbon-cutting is planned "
         f"for later this month, and registration for summer day camp opens next week online and at the front desk. "
         f"The renovation was paid for with park district capital funds."),
        (f"{picks[2]} elementary school fundraiser raises money for library books",
         f"Parents at an elementary school in {picks[2]} raised more than $8,000 at a spring fundraiser over the "
         f"weekend, organizers said. The money will buy new books for the school library and replace worn "
         f"classroom rugs. The event featured a bake sale, a student art show and a raffle of donated gift "
         f"baskets from local businesses. The parent group's president said volunteers spent three months "
         f"planning the evening. A second fundraiser, a fun run around the school, is scheduled for June, and "
         f"families can sign up through the school office."),
        (f"Street resurfacing to close lanes in {picks[3]} next week",
         f"Crews will begin resurfacing several residential streets in {picks[3]} next week, the city's "
         f"transportation department said. Parking restrictions will be posted at least 24 hours ahead, and "
         f"residents are asked to move their cars from the marked blocks. The work is expected to take about "
         f"three weeks, weather permitting. Bus routes will not be rerouted, but drivers should expect short "
         f"delays during the day. The alderman's office said the streets were chosen after a survey of potholes "
         f"and complaints from residents last year."),
        (f"Farmers market returns to {picks[4]} for the summer season",
         f"A weekly farmers market returns to {picks[4]} on Saturday mornings starting this month, with more than "
         f"twenty vendors selling fruit, vegetables, bread, honey and flowers. Organizers said the market accepts "
         f"food assistance benefits and will match purchases of fresh produce up to $25. Live music and a "
         f"children's craft table are planned for the opening weekend. The market runs through October. "
         f"Volunteers are still needed to help set up tents and staff the information table, and neighbors can "
         f"sign up online or at the first market."),
    ]
    return [(title, text, day) for (title, text), day in zip(items, days)]


def vague_articles(rng, by_kind, areas):
    """Incident reports that lack a place or a date: the curation queue's work."""
    out = []
    # No place: a shooting and a robbery reported with a day but nowhere.
    for kind, month in (("shooting", 2), ("robbery", 5)):
        row = rng.choice([r for r in by_kind[kind] if int(r["Month"]) == month])
        when = dt.datetime.strptime(row["Date"], "%Y-%m-%d %H:%M:%S")
        pub, day = publication(rng, when)
        v, sex, _ = person(rng)
        if kind == "shooting":
            title = f"{sex.capitalize()} wounded in shooting, police say"
            text = (f"{v[0].upper() + v[1:]} was shot and wounded {day}, police said in a brief statement that "
                    f"did not say where the shooting happened. The {sex} arrived at a hospital on {possessive(sex)} "
                    f"own with a wound to the leg and was listed in fair condition. Police said {pronoun(sex)} was "
                    f"not cooperating with investigators. No other details were released, and the department did "
                    f"not answer questions about the location. No one was in custody. A spokesperson said more information "
                    f"would be released once detectives had spoken with witnesses, and asked anyone who saw "
                    f"something to call.")
        else:
            title = f"{sex.capitalize()} robbed at gunpoint, police say"
            text = (f"{v[0].upper() + v[1:]} told officers {pronoun(sex)} was robbed at gunpoint {day} by two "
                    f"men who took {possessive(sex)} phone and wallet, according to a police summary released this "
                    f"morning. The summary did not give the location. The {sex} was not hurt. Police said the "
                    f"robbers fled on foot and described them only as young men in dark clothing. Detectives "
                    f"were reviewing the report, and no one had been arrested. The summary listed it among several "
                    f"robberies reported across the city, without addresses, as is common for the overnight "
                    f"report.")
        out.append((title, text, pub))
    # No date: a burglary and a carjacking with a place but no time at all.
    for kind, month in (("burglary", 3), ("carjacking", 6)):
        row = rng.choice([r for r in by_kind[kind] if int(r["Month"]) == month])
        when = dt.datetime.strptime(row["Date"], "%Y-%m-%d %H:%M:%S")
        pub, _ = publication(rng, when)
        area = area_name(areas, row)
        if kind == "burglary":
            title = f"Residents report string of garage burglaries in {area}"
            text = (f"Several residents of {area} say garages on their block have been burglarized, and police "
                    f"confirmed they are looking into at least one report. Neighbors said tools and bicycles were "
                    f"taken, though none could say exactly when the break-ins happened. A police spokesperson said "
                    f"the department had no further details. Residents have started sharing doorbell video in a "
                    f"neighborhood group and plan to raise the issue at the next community meeting. One resident said "
                    f"a lock on a side door had been cut, and another said a neighbor's "
                    f"bicycle went missing from a fenced yard.")
        else:
            v, sex, _ = person(rng, min_age=25)
            title = f"Carjacking victim in {area} describes ordeal"
            text = (f"{v[0].upper() + v[1:]} says {pronoun(sex)} was carjacked in {area} by two men who "
                    f"demanded {possessive(sex)} keys, and is now urging neighbors to stay alert. The {sex} "
                    f"described the ordeal at a neighborhood gathering but did not say when it happened, and police "
                    f"did not immediately confirm a report. {pronoun(sex).capitalize()} said the men took the car, "
                    f"a gray sedan, and that it has not been found. Police encourage victims to report carjackings "
                    f"right away and to note the direction the vehicle was driven. Neighbors at "
                    f"the gathering said they would ask for more patrols near the shopping strip.")
        out.append((title, text, pub))
    return out


# ---------------------------------------------------------------- feed

def wire_title(rng, a):
    """A wire desk's own headline for a copied article (shares few words with the original's)."""
    noun = {"homicide": "deadly shooting", "shooting": "gunfire", "robbery": "holdup", "carjacking": "vehicle hijacking",
            "burglary": "break-in", "arson": "suspicious blaze", "theft": "property loss", "weapons": "gun case",
            "narcotics": "drug case"}[a["kind"]]
    return rng.choice([f"Chicago police probe {noun} on the {a['area']} beat",
                       f"City news digest: {noun} under investigation ({a['area']})"])


def item_xml(title, link, pub, guid, text):
    return ("    <item>\n"
            f"      <title>{escape(title)}</title>\n"
            f"      <link>{escape(link)}</link>\n"
            f"      <pubDate>{rfc822(pub)}</pubDate>\n"
            f"      <guid isPermaLink=\"false\">{escape(guid)}</guid>\n"
            f"      <description>{escape(text)}</description>\n"
            "    </item>\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(here), help="repository root")
    ap.add_argument("--out", default=None, help="output (default: ROOT/examples/intel/demo_news.xml)")
    args = ap.parse_args()
    root = args.root
    out_path = args.out or os.path.join(root, "examples/intel/demo_news.xml")

    rng = random.Random(SEED)
    areas = read_community_areas(os.path.join(root, "examples/intel/gazetteer/chicago_community_areas.tsv"))
    streets = read_streets(os.path.join(root, "examples/intel/gazetteer/chicago_streets.tsv"))
    by_kind = read_incidents(os.path.join(root, "examples/data/chicago/chicago_crimes_2019H1.csv"))

    articles = []  # dicts: title, link, pub, text, kind
    used_links = set()

    def add(kind, title, text, pub, link=None):
        if link is None:
            base = f"{SITE}/{pub.year}/{pub.month:02d}/{slugify(title)}"
            link, n = base, 2
            while link in used_links:
                link, n = f"{base}-{n}", n + 1
        used_links.add(link)
        articles.append({"kind": kind, "title": title, "text": text, "pub": pub, "link": link})

    for kind, count in KIND_COUNTS.items():
        rows = by_kind[kind]
        # Spread over the six months: month 1..6 in turn from a random start.
        start = rng.randrange(6)
        for i in range(count):
            month = (start + i) % 6 + 1
            pool = [r for r in rows if int(r["Month"]) == month and not r["Date"].startswith("2019-06-30")]
            rng.shuffle(pool)
            # Prefer an incident on a gazetteer street, so the article can name a block.
            row, place = pool[0], None
            for r in pool[:200]:
                place = nearest_block(streets, float(r["Latitude"]), float(r["Longitude"]))
                if place:
                    row = r
                    break
            when = dt.datetime.strptime(row["Date"], "%Y-%m-%d %H:%M:%S")
            pub, day = publication(rng, when)
            area = area_name(areas, row)
            at = clock(when)
            lead, title, extra = lead_and_title(rng, kind, row, day, place, area, at)
            text = build_body(rng, lead, extra, row["Arrest"] == "True", kind)
            title = title[4:] if title.startswith("the ") else title  # headlines drop the article
            add(kind, title[0].upper() + title[1:], text, pub)
            articles[-1]["area"] = area

    originals = list(articles)  # incident articles only: the copies below are of these
    for title, text, pub in non_incident_articles(rng, areas):
        add("non_incident", title, text, pub)
    for title, text, pub in vague_articles(rng, by_kind, areas):
        add("vague", title, text, pub)

    # Syndicated copies: same text, another link, a retouched title, a few hours later.
    wire_boilerplate = ["(Distributed by the Demo Wire news service.)", "This story was first published by a "
                        "partner newsroom."]
    for i, a in enumerate(rng.sample(originals, SYNDICATED)):
        # Four keep the headline (the title rule finds them); two are
        # rewritten by the wire desk, so only the text fingerprint matches.
        if i < 4:
            title, text = ["UPDATE: ", "Demo Wire: ", "UPDATED: "][i % 3] + a["title"], a["text"]
        else:
            title = wire_title(rng, a)
            text = a["text"] + " " + wire_boilerplate[i % 2]
        pub = a["pub"] + dt.timedelta(hours=rng.choice([2, 3, 5]))
        link = f"https://wire.demo-news.example/{pub.year}/{pub.month:02d}/{slugify(a['title'])}"
        add("syndicated", title, text, pub, link)

    # Tracking-parameter links to articles already in the feed (same canonical URL).
    trackers = ["?utm_source=twitter&utm_medium=social", "?utm_source=newsletter&utm_campaign=morning",
                "?fbclid=IwAR0demo&utm_source=facebook", "?utm_medium=email&utm_source=alerts"]
    for i, a in enumerate(rng.sample(originals, TRACKING)):
        pub = a["pub"] + dt.timedelta(minutes=rng.choice([20, 45, 90]))
        add("tracking", a["title"], a["text"], pub, a["link"] + trackers[i])

    articles.sort(key=lambda a: (a["pub"], a["link"]))
    now = max(a["pub"] for a in articles)
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n',
             '<rss version="2.0">\n',
             '  <channel>\n',
             f'    <title>{escape(FEED_TITLE)}</title>\n',
             f'    <link>{SITE}/</link>\n',
             '    <description>Synthetic local-news articles written by scripts/make_demo_news.py around real '
             'incidents of the City of Chicago crimes extract (2019 H1). Not real reporting; no person names.'
             '</description>\n',
             '    <language>en-us</language>\n',
             f'    <lastBuildDate>{rfc822(now)}</lastBuildDate>\n']
    for n, a in enumerate(articles, 1):
        parts.append(item_xml(a["title"], a["link"], a["pub"], f"demo-news-{n:03d}", a["text"]))
    parts.append("  </channel>\n</rss>\n")
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("".join(parts))

    counts = {}
    for a in articles:
        counts[a["kind"]] = counts.get(a["kind"], 0) + 1
    lengths = [len(a["text"]) for a in articles]
    print(f"wrote {out_path}: {len(articles)} items "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
          + f"; text {min(lengths)}-{max(lengths)} chars", file=sys.stderr)


if __name__ == "__main__":
    main()
