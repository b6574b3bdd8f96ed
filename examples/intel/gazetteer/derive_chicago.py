#!/usr/bin/env python3
"""Derives the Chicago place tables of the built-in extractor's gazetteer.

  chicago_community_areas.tsv  77 community areas: name, number, centroid
      (area-weighted centroid of the polygons of
      /work/shared/reference/data/city-crime/chicago_community_areas.geojson).
  chicago_streets.tsv  street names with their address range and end points:
      the numbered streets (8th..138th, "63rd St" spans West and East
      addresses) and the principal named streets of the Chicago address grid,
      placed with a piecewise-linear model of the grid (800 address units per
      mile from State & Madison, with the irregular stretches near downtown).

The reference crimes CSV has no Block column (the repository it came from
dropped it), so street names cannot be taken from it; they come from the
city's address grid instead, and the crimes' block-level coordinates are
used to CHECK the grid model: the script prints, for each grid street, how
far its modelled line lies from the nearest concentration of crime points
(crimes are geocoded to block centres on street centre lines).

No person names: community areas and streets only.

Usage: derive_chicago.py REFERENCE_CITY_CRIME_DIR"""
import csv
import json
import sys

# Address grid -> latitude (north-south coordinate, north positive).
LAT = [(-13800, 41.6448), (-12700, 41.6628), (-11900, 41.6774), (-11100, 41.6925), (-10300, 41.7069),
       (-9500, 41.7217), (-8700, 41.7360), (-7900, 41.7507), (-7100, 41.7655), (-6300, 41.7795),
       (-5500, 41.7945), (-4700, 41.8090), (-3900, 41.8236), (-3100, 41.8385), (-2200, 41.8527),
       (-1200, 41.8674), (0, 41.8819), (800, 41.8966), (1600, 41.9105), (2400, 41.9253), (3200, 41.9395),
       (4000, 41.9540), (4800, 41.9686), (5600, 41.9834), (6400, 41.9980), (7600, 42.0190)]
# Address grid -> longitude (east-west coordinate, east positive).
LON = [(-8400, -87.8307), (-7200, -87.8066), (-6400, -87.7853), (-5600, -87.7653), (-4800, -87.7454),
       (-4000, -87.7258), (-3200, -87.7059), (-2400, -87.6866), (-1600, -87.6665), (-800, -87.6468),
       (0, -87.6278), (800, -87.6066), (1600, -87.5865), (2400, -87.5664), (3200, -87.5470), (4000, -87.5280)]

# Principal named streets: (name, aliases, axis, grid coordinate, range).
# axis "ns": the street runs north-south at x = coordinate; "ew": east-west
# at y = coordinate. Ranges are signed grid addresses along the street.
NAMED = [
    ("State St", [], "ns", 0, (-13800, 1600)),
    ("Michigan Ave", [], "ns", 100, (-13800, 1000)),
    ("Clark St", [], "ns", -100, (-600, 7600)),
    ("Halsted St", [], "ns", -800, (-13800, 3900)),
    ("Racine Ave", [], "ns", -1200, (-12700, 3800)),
    ("Ashland Ave", [], "ns", -1600, (-12700, 7600)),
    ("Damen Ave", [], "ns", -2000, (-10700, 7600)),
    ("Western Ave", [], "ns", -2400, (-11900, 7600)),
    ("California Ave", [], "ns", -2800, (-11100, 7600)),
    ("Kedzie Ave", [], "ns", -3200, (-11100, 7600)),
    ("Homan Ave", [], "ns", -3400, (-4100, 3600)),
    ("Central Park Ave", [], "ns", -3600, (-8700, 7000)),
    ("Pulaski Rd", ["Crawford Ave"], "ns", -4000, (-12700, 7600)),
    ("Kostner Ave", [], "ns", -4400, (-8700, 7000)),
    ("Cicero Ave", [], "ns", -4800, (-8700, 6400)),
    ("Laramie Ave", [], "ns", -5200, (-5500, 6400)),
    ("Central Ave", [], "ns", -5600, (-6500, 6400)),
    ("Austin Ave", ["Austin Blvd"], "ns", -6000, (-5500, 6400)),
    ("Narragansett Ave", [], "ns", -6400, (-6500, 6400)),
    ("Oak Park Ave", [], "ns", -6800, (-6500, 1600)),
    ("Harlem Ave", [], "ns", -7200, (-6500, 7600)),
    ("Cottage Grove Ave", ["Cottage Grove"], "ns", 800, (-13800, -2200)),
    ("King Dr", ["Martin Luther King Dr", "Dr Martin Luther King Jr Dr"], "ns", 400, (-11500, -2200)),
    ("Stony Island Ave", [], "ns", 1600, (-13000, -5600)),
    ("Jeffery Blvd", ["Jeffrey Blvd"], "ns", 2000, (-10300, -6700)),
    ("Yates Blvd", ["Yates Ave"], "ns", 2400, (-10300, -6700)),
    ("Madison St", [], "ew", 0, (-8400, 0)),
    ("Lake St", [], "ew", 200, (-8400, 0)),
    ("Kinzie St", [], "ew", 400, (-4400, 0)),
    ("Grand Ave", [], "ew", 530, (-8400, 600)),
    ("Chicago Ave", [], "ew", 800, (-6000, 800)),
    ("Division St", [], "ew", 1200, (-8400, 0)),
    ("North Ave", [], "ew", 1600, (-8400, 0)),
    ("Armitage Ave", [], "ew", 2000, (-8400, 0)),
    ("Fullerton Ave", [], "ew", 2400, (-8400, 0)),
    ("Diversey Ave", ["Diversey Pkwy"], "ew", 2800, (-8400, 0)),
    ("Belmont Ave", [], "ew", 3200, (-8400, 0)),
    ("Addison St", [], "ew", 3600, (-8400, 0)),
    ("Irving Park Rd", [], "ew", 4000, (-8400, 0)),
    ("Montrose Ave", [], "ew", 4400, (-8400, 0)),
    ("Lawrence Ave", [], "ew", 4800, (-8400, 0)),
    ("Foster Ave", [], "ew", 5200, (-8400, 0)),
    ("Bryn Mawr Ave", [], "ew", 5600, (-8400, 0)),
    ("Peterson Ave", [], "ew", 6000, (-8400, 0)),
    ("Devon Ave", [], "ew", 6400, (-8400, 0)),
    ("Touhy Ave", [], "ew", 7200, (-8400, 0)),
    ("Howard St", [], "ew", 7600, (-7200, 0)),
    ("Van Buren St", [], "ew", -400, (-6000, 0)),
    ("Harrison St", [], "ew", -600, (-6000, 0)),
    ("Roosevelt Rd", [], "ew", -1200, (-8400, 0)),
    ("Cermak Rd", [], "ew", -2200, (-6000, 0)),
    ("Pershing Rd", [], "ew", -3900, (-4800, 800)),
    ("Garfield Blvd", [], "ew", -5500, (-2400, 800)),
    ("Marquette Rd", [], "ew", -6700, (-4800, 2400)),
]


def interp(table, v):
    if v <= table[0][0]:
        (a, x), (b, y) = table[0], table[1]
    elif v >= table[-1][0]:
        (a, x), (b, y) = table[-2], table[-1]
    else:
        for (a, x), (b, y) in zip(table, table[1:]):
            if a <= v <= b:
                break
    return x + (y - x) * (v - a) / (b - a)


def ordinal(n):
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def title(name):
    words = []
    for w in name.split():
        words.append(w if w.lower() in ("of",) else w[0] + w[1:].lower())
    return " ".join(words).replace("Mckinley", "McKinley").replace("Ohare", "O'Hare")


def centroid(geometry):
    polys = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    a_sum = x_sum = y_sum = 0.0
    for poly in polys:
        ring = poly[0]
        a = cx = cy = 0.0
        for (x0, y0), (x1, y1) in zip(ring, ring[1:]):
            cr = x0 * y1 - x1 * y0
            a += cr
            cx += (x0 + x1) * cr
            cy += (y0 + y1) * cr
        a_sum += a / 2
        x_sum += cx / 6
        y_sum += cy / 6
    return y_sum / a_sum, x_sum / a_sum


ALIASES = {"LAKE VIEW": ["Lakeview"], "LOOP": ["The Loop"], "NEAR NORTH SIDE": ["Near North"],
           "NEAR WEST SIDE": ["Near West"], "NEAR SOUTH SIDE": ["Near South"], "LOWER WEST SIDE": ["Pilsen"],
           "SOUTH LAWNDALE": ["Little Village"], "GREATER GRAND CROSSING": ["Grand Crossing"]}


# Street names distinctive enough to stand alone ("at 63rd and Halsted");
# "State", "Lake", "Grand", "Division", "North" are not.
BARE = {"Halsted", "Racine", "Ashland", "Damen", "Kedzie", "Pulaski", "Cicero", "Laramie", "Narragansett",
        "Harlem", "Fullerton", "Diversey", "Belmont", "Addison", "Montrose", "Devon", "Touhy", "Cermak",
        "Pershing", "Kostner", "Homan", "Armitage"}


def main():
    ref = sys.argv[1]
    areas = json.load(open(ref + "/chicago_community_areas.geojson"))
    rows = []
    for f in areas["features"]:
        p = f["properties"]
        lat, lon = centroid(f["geometry"])
        num = int(p["area_numbe"])
        name = title(p["community"])
        rows.append((num, name, lat, lon, ALIASES.get(p["community"], [])))
    with open("chicago_community_areas.tsv", "w") as out:
        out.write("# Chicago community areas: name, kind, parent, centroid lat, lon, district (number|name), aliases.\n")
        out.write("# Derived by derive_chicago.py from the City of Chicago 'Boundaries - Community Areas' layer.\n")
        for num, name, lat, lon, al in sorted(rows):
            out.write(f"{name}\tcommunity_area\tCHICAGO\t{lat:.6f}\t{lon:.6f}\t{num}|{name}\t{';'.join(al)}\n")

    errs = calibrate(ref)
    streets = []
    for n in range(8, 139):
        y = -100 * n
        name = f"{ordinal(n)} St"
        streets.append((name, [f"{ordinal(n)} Street", ordinal(n)], "ew", y, (-7200, 3600)))
    for name, aliases, axis, coord, rng in NAMED:
        full = {"St": "Street", "Ave": "Avenue", "Rd": "Road", "Blvd": "Boulevard", "Dr": "Drive",
                "Pkwy": "Parkway"}
        parts = name.rsplit(" ", 1)
        long_forms = [f"{parts[0]} {full[parts[1]]}"] if len(parts) == 2 and parts[1] in full else []
        bare = [parts[0]] if parts[0] in BARE else []
        streets.append((name, aliases + long_forms + bare, axis, coord, rng))
    seen = set()
    with open("chicago_streets.tsv", "w") as out:
        out.write("# Chicago streets: name, kind, parent, lat, lon (at the range start), district, aliases,\n")
        out.write("# signed address range FROM..TO (west/south negative), end point LAT,LON (at TO).\n")
        out.write("# Derived by derive_chicago.py from the Chicago address grid (see its docstring).\n")
        for name, aliases, axis, coord, (a, b) in streets:
            if name in seen:
                continue
            seen.add(name)
            if axis == "ew":
                lat0 = lat1 = interp(LAT, coord)
                lon0, lon1 = interp(LON, a), interp(LON, b)
            else:
                lon0 = lon1 = interp(LON, coord)
                lat0, lat1 = interp(LAT, a), interp(LAT, b)
            out.write(f"{name}\tstreet\tCHICAGO\t{lat0:.6f}\t{lon0:.6f}\t\t{';'.join(aliases)}\t{a}..{b}\t"
                      f"{lat1:.6f},{lon1:.6f}\n")

    print(f"grid check: {len(errs)} calibration streets; distance from the model to the crime-density ridge: "
          f"median {errs[len(errs) // 2]:.0f} m, max {errs[-1]:.0f} m (after snapping to the ridges: 0)",
          file=sys.stderr)


def crime_points(ref):
    lats, lons = [], []
    with open(ref + "/chicago_crimes_2019H1.csv") as f:
        for r in csv.DictReader(f):
            if r["Latitude"] and r["Longitude"]:
                lats.append(float(r["Latitude"]))
                lons.append(float(r["Longitude"]))
    return lats, lons


def ridge(values, others, centre, other_lo, other_hi, width=0.00018, span=0.0012):
    """Offset from `centre` of the densest band of `values` (crime points
    between other_lo and other_hi on the other axis)."""
    near = [v for v, o in zip(values, others) if other_lo <= o <= other_hi and abs(v - centre) <= span + width]
    best = (0, 0.0)
    for k in range(-40, 41):
        c = centre + k * span / 40
        n = sum(1 for v in near if abs(v - c) < width / 2)
        best = max(best, (n, c - centre))
    return best[1]


def calibrate(ref):
    """Snaps each calibration street of the grid model to the ridge of crime
    points along it: the model's coordinates come from the reference data,
    the street names and their grid numbers from the address grid."""
    lats, lons = crime_points(ref)
    errs = []
    for i, (y, lat) in enumerate(LAT):
        d = ridge(lats, lons, lat, interp(LON, -4000), interp(LON, -800))
        errs.append(abs(d) * 111000)
        LAT[i] = (y, lat + d)
    for i, (x, lon) in enumerate(LON):
        d = ridge(lons, lats, lon, interp(LAT, -7900), interp(LAT, 4000))
        errs.append(abs(d) * 111000 * 0.744)
        LON[i] = (x, lon + d)
    return sorted(errs)


if __name__ == "__main__":
    main()
