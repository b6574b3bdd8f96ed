#!/usr/bin/env bash
# citygen end to end: converts the bundled Chicago CSV, synthesises the streams, and checks
# the output against independent Python re-derivations (times via zoneinfo, severities from
# the reference README's counts, geometry via haversine) and the printed defect counts.
#
# Usage: bash citygen_test.sh SENTINEL_BINARY SOURCE_DIR WORK_DIR
# citygen is found next to the sentinel build: $(dirname SENTINEL_BINARY)/../../tools/citygen
# (override with CITYGEN=/path/to/citygen).
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 SENTINEL_BINARY SOURCE_DIR WORK_DIR" >&2
  exit 2
fi
SENTINEL_BINARY=$1
SOURCE_DIR=$2
WORK_DIR=$3
CITYGEN=${CITYGEN:-$(dirname "$SENTINEL_BINARY")/../../tools/citygen}
PYTHON=/usr/bin/python3
CSV=$SOURCE_DIR/examples/data/chicago/chicago_crimes_2019H1.csv

fail() {
  echo "citygen_test: FAIL: $*" >&2
  exit 1
}

[[ -x $CITYGEN ]] || fail "citygen binary not found at $CITYGEN (build the 'citygen' target)"
[[ -f $CSV ]] || fail "crime CSV not found at $CSV"
rm -rf "$WORK_DIR"
mkdir -p "$WORK_DIR"

# --- 1. the full data set -----------------------------------------------------------------
"$CITYGEN" all --crimes "$CSV" --out-dir "$WORK_DIR/a" --seed 42 >"$WORK_DIR/a.summary" 2>"$WORK_DIR/a.stderr" ||
  fail "citygen all exited non-zero: $(cat "$WORK_DIR/a.stderr")"
[[ ! -s $WORK_DIR/a.stderr ]] || fail "citygen all wrote to stderr on clean input: $(head -3 "$WORK_DIR/a.stderr")"
lines=$(wc -l <"$WORK_DIR/a/crimes.jsonl")
[[ $lines -eq 126218 ]] || fail "crimes.jsonl has $lines lines, expected 126218"

"$PYTHON" - "$CSV" "$WORK_DIR/a/crimes.jsonl" <<'EOF' || fail "crimes.jsonl check"
import csv, json, re, sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

csv_path, jsonl_path = sys.argv[1], sys.argv[2]
chicago = ZoneInfo("America/Chicago")
time_re = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
with open(csv_path, newline="") as f:
    rows = list(csv.DictReader(f))
severities = {"violent": 0, "property": 0, "other": 0}
without_location = 0
errors = []
with open(jsonl_path) as f:
    for n, (line, row) in enumerate(zip(f, rows), start=1):
        try:
            e = json.loads(line)
        except ValueError as ex:
            sys.exit(f"line {n}: not JSON: {ex}")
        def check(cond, what):
            if not cond:
                errors.append(f"line {n}: {what}: {line.strip()[:200]}")
        check(e.get("specversion") == "1.0", "specversion")
        check(e.get("id") == f"crime-{n:06d}", "id")
        check(e.get("source") == "platform", "source")
        slug = re.sub(r"[^a-z0-9]", "_", row["Primary Type"].lower())
        check(e.get("type") == "platform.fir." + slug, "type")
        # PEP 495: fold=0 resolves a skipped time with the pre-transition offset and a
        # repeated one to its first occurrence, the rule citygen documents.
        naive = datetime.strptime(row["Date"], "%Y-%m-%d %H:%M:%S")
        local = naive.replace(tzinfo=chicago, fold=0)
        if local.astimezone(timezone.utc).astimezone(chicago).replace(tzinfo=None) != naive:
            # In the spring-forward gap: citygen maps it to the transition instant, the
            # first wall-clock time after the gap (xx:00 of the next hour).
            local = naive.replace(minute=0, second=0, tzinfo=chicago) + timedelta(hours=1)
        want = local.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        check(isinstance(e.get("time"), str) and time_re.match(e["time"]) and e["time"] == want, f"time (want {want})")
        if row["Latitude"] == "":
            without_location += 1
            check("lat" not in e and "lon" not in e, "lat/lon must be absent")
        else:
            check(e.get("lat") == float(row["Latitude"]) and e.get("lon") == float(row["Longitude"]), "lat/lon")
        check(e.get("severity") in severities, "severity")
        severities[e.get("severity")] = severities.get(e.get("severity"), 0) + 1
        check(e.get("confidence") == 0.9, "confidence")
        d = e.get("data")
        check(isinstance(d, dict) and d.get("primary_type") == row["Primary Type"]
              and d.get("description") == row["Description"]
              and d.get("location_description") == row["Location Description"]
              and d.get("arrest") is (row["Arrest"] == "True")
              and type(d.get("community_area")) is int and d["community_area"] == int(row["Community Area"]), "data")
        if len(errors) > 10:
            break
if errors:
    sys.exit("\n".join(errors[:10]))
if n != len(rows):
    sys.exit(f"{n} events for {len(rows)} CSV rows")
if without_location != 505:
    sys.exit(f"{without_location} events without lat/lon, expected 505")
# Sums of the reference README's per-type counts over citygen's documented classes.
expected = {"violent": 44712, "property": 63107, "other": 18399}
if severities != expected:
    sys.exit(f"severity counts {severities}, expected {expected}")
print(f"crimes.jsonl: {n} events OK, severities {severities}")
EOF

# --- 2. determinism -------------------------------------------------------------------------
"$CITYGEN" synth --events "$WORK_DIR/a/crimes.jsonl" --out "$WORK_DIR/s42.jsonl" --seed 42 >"$WORK_DIR/s42.summary" ||
  fail "citygen synth exited non-zero"
cmp -s "$WORK_DIR/s42.jsonl" "$WORK_DIR/a/streams.jsonl" || fail "synth --seed 42 differs from all --seed 42"
"$CITYGEN" all --crimes "$CSV" --out-dir "$WORK_DIR/b" --seed 42 >/dev/null || fail "second citygen all exited non-zero"
cmp -s "$WORK_DIR/a/crimes.jsonl" "$WORK_DIR/b/crimes.jsonl" || fail "two conversions differ"
cmp -s "$WORK_DIR/a/streams.jsonl" "$WORK_DIR/b/streams.jsonl" || fail "two synth runs with seed 42 differ"
"$CITYGEN" synth --events "$WORK_DIR/a/crimes.jsonl" --out "$WORK_DIR/s7.jsonl" --seed 7 >"$WORK_DIR/s7.summary" ||
  fail "citygen synth --seed 7 exited non-zero"
if cmp -s "$WORK_DIR/s7.jsonl" "$WORK_DIR/a/streams.jsonl"; then fail "seeds 7 and 42 gave identical streams"; fi

# --- 3. the streams and their deliberate defects, for both seeds -------------------------
check_streams() {
  "$PYTHON" - "$WORK_DIR/a/crimes.jsonl" "$1" "$2" <<'EOF'
import json, math, re, sys

crimes_path, streams_path, summary_path = sys.argv[1:4]
summary = open(summary_path).read()
printed = {k: int(v) for k, v in re.findall(r"^\s+defect\s+(\S+)\s+(\d+)$", summary, re.M)}
sources = {k: int(v) for k, v in re.findall(r"^\s+source\s+(\S+)\s+(\d+)$", summary, re.M)}
m = re.search(r"^synth: (\d+) lines", summary, re.M)
if not m or not printed or not sources:
    sys.exit(f"summary not understood:\n{summary}")
printed_lines = int(m.group(1))

crimes = {}
with open(crimes_path) as f:
    for line in f:
        e = json.loads(line)
        crimes[e["id"]] = e

def epoch(t):
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{3}))?Z", t)
    if not m:
        return None
    import calendar
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    return calendar.timegm((y, mo, d, h, mi, s)) + int(m.group(7) or 0) / 1000

def metres(a_lat, a_lon, b_lat, b_lon):
    p1, p2 = math.radians(a_lat), math.radians(b_lat)
    dp, dl = p2 - p1, math.radians(b_lon - a_lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(h))

def malformed_kind(e):
    """The defect a parsed line carries, or None for a valid event."""
    if not isinstance(e.get("time"), str) or epoch(e["time"]) is None:
        return "missing_time"
    if e.get("severity") not in ("violent", "property", "other"):
        return "unknown_severity"
    if not (-90 <= e.get("lat", 0) <= 90):
        return "lat_200"
    if "confidence" in e and not (0 <= e["confidence"] <= 1):
        return "confidence_1_7"
    return None

# Limits each stream promises around its incident: (max metres, min s, max s, confidence range).
limits = {"cctv": (300, 0, 600, (0.5, 0.95)), "sensor.gunshot": (100, 0, 120, (0.6, 0.99)),
          "cad": (200, -300, 300, (0.7, 0.95))}
LATENESS = 330  # max_out_of_orderness 30 s + allowed_lateness 5 min
found = {"out_of_order": 0, "duplicate": 0, "late": 0, "truncated_json": 0, "confidence_1_7": 0,
         "lat_200": 0, "missing_time": 0, "unknown_severity": 0}
by_source = {}
first_line = {}
file_max = -math.inf
source_max = {}
panic = {}
lost_panic = 0
errors = []
n = 0
with open(streams_path) as f:
    for n, line in enumerate(f, start=1):
        def check(cond, what):
            if not cond:
                errors.append(f"line {n}: {what}: {line.strip()[:200]}")
        try:
            e = json.loads(line)
        except ValueError:
            found["truncated_json"] += 1
            lost_panic += '"sensor.panic"' in line
            continue
        kind = malformed_kind(e)
        if kind:
            found[kind] += 1
            if e.get("type") == "sensor.panic":
                if kind == "missing_time":
                    lost_panic += 1
                else:
                    panic.setdefault(e["data"]["device_id"], []).append((epoch(e["time"]), e["data"]["press"]))
            continue
        key = (e.get("source"), e.get("id"))
        if key in first_line:
            found["duplicate"] += 1
            check(first_line[key] == line, "duplicate differs from its original")
            continue
        first_line[key] = line
        src, typ = e.get("source"), e.get("type", "")
        by_source[src] = by_source.get(src, 0) + 1
        check(e.get("specversion") == "1.0", "specversion")
        check(src in ("cctv", "sensor", "cad") and typ.startswith(src + "."), "source/type")
        check(re.fullmatch(rf"{src}-\d{{6,}}", e.get("id", "")), "id")
        check(isinstance(e.get("lat"), float) and isinstance(e.get("lon"), float), "lat/lon")
        check(isinstance(e.get("data"), dict), "data")
        t = epoch(e["time"])
        if t < file_max - LATENESS:
            found["late"] += 1
            check(t < source_max.get(src, -math.inf) - LATENESS, "late in the file but not within its source")
        elif t < file_max:
            found["out_of_order"] += 1
        file_max = max(file_max, t)
        source_max[src] = max(source_max.get(src, -math.inf), t)
        if typ == "sensor.panic":
            check("confidence" not in e and e["severity"] == "violent", "panic attributes")
            panic.setdefault(e["data"]["device_id"], []).append((t, e["data"]["press"]))
            continue
        lim = limits.get(typ, limits.get(src))
        lo, hi = lim[3]
        check(isinstance(e.get("confidence"), float) and lo <= e["confidence"] <= hi, "confidence range")
        if typ == "sensor.gunshot":
            check(e["severity"] == "violent", "gunshot severity")
        ref = e["data"].get("near_incident")
        if ref is None:
            check(typ == "cctv.motion" and e["severity"] == "other", "only background motion has no incident")
            continue
        c = crimes.get(ref)
        check(c is not None and "lat" in c, "near_incident names a located crime")
        if c is None or "lat" not in c:
            continue
        dist = metres(e["lat"], e["lon"], c["lat"], c["lon"])
        dt = t - epoch(c["time"])
        check(dist <= lim[0] * 1.01 + 1, f"{dist:.0f} m from {ref}, limit {lim[0]}")
        check(lim[1] <= dt <= lim[2], f"{dt:.0f} s from {ref}, limits {lim[1]}..{lim[2]}")
        if len(errors) > 10:
            break

# Panic bursts: presses numbered 1..k (k 2..6), each burst within 3 min at one device. A
# malformed line can remove a press; each such loss may leave one burst irregular.
bursts = []
for device, presses in sorted(panic.items()):
    for t, press in sorted(presses):
        b = bursts[-1] if bursts else None
        if b and b["device"] == device and press > b["last"] and t - b["start"] <= 180:
            b["regular"] &= press == b["last"] + 1
            b["last"], b["count"] = press, b["count"] + 1
        else:
            bursts.append({"device": device, "start": t, "last": press, "count": 1, "regular": press == 1})
irregular = [b for b in bursts if not (b["regular"] and 2 <= b["count"] <= 6)]
if len(irregular) > lost_panic:
    errors.append(f"{len(irregular)} irregular panic bursts, {lost_panic} presses lost to malformed lines: {irregular[:3]}")

if errors:
    sys.exit("\n".join(errors[:10]))
want = dict(found)
want["malformed"] = sum(found[k] for k in ("truncated_json", "confidence_1_7", "lat_200", "missing_time", "unknown_severity"))
got = {k.replace("malformed.", "") if k != "malformed" else k: v for k, v in printed.items()}
if got != want:
    sys.exit(f"defects found in the file {want}\n  but the summary printed {got}")
for k in ("out_of_order", "duplicate", "late", "malformed"):
    if want[k] == 0:
        sys.exit(f"no {k} defect at all")
for k in ("truncated_json", "confidence_1_7", "lat_200", "missing_time", "unknown_severity"):
    if want[k] == 0:
        sys.exit(f"no malformed line of kind {k}")
if n != printed_lines or n != sum(sources.values()) + want["duplicate"]:
    sys.exit(f"{n} lines, summary says {printed_lines} lines and {sum(sources.values())} events + duplicates")
valid = sum(by_source.values())
if valid + want["malformed"] != sum(sources.values()):
    sys.exit(f"{valid} valid + {want['malformed']} malformed lines, summary counts {sources}")
ratio = n / len(crimes)
if not 1.0 <= ratio <= 2.0:
    sys.exit(f"streams hold {ratio:.2f} lines per crime event, expected 1..2")
print(f"{streams_path}: {n} lines OK ({ratio:.2f} per crime), {len(bursts)} panic bursts, defects {want}")
EOF
}
check_streams "$WORK_DIR/a/streams.jsonl" "$WORK_DIR/a.summary" || fail "streams check (seed 42)"
check_streams "$WORK_DIR/s7.jsonl" "$WORK_DIR/s7.summary" || fail "streams check (seed 7)"

# --- 4. converter edge cases: quoting, malformed rows, daylight-saving edges -------------
cat >"$WORK_DIR/edge.csv" <<'EOF'
Year,Month,Date,Primary Type,Description,Location Description,Arrest,Community Area,Latitude,Longitude
2019,3,2019-03-10 02:30:00,THEFT,"SHOPLIFTING, ""RETAIL""","CTA ""L"" PLATFORM
SECOND LINE",False,32,41.88,-87.63
2019,3,2019-03-10 01:59:59,NARCOTICS,POSS,STREET,False,1,41.9,-87.6,EXTRA
2019,2,2019-02-30 10:00:00,THEFT,POCKET-PICKING,STREET,True,1,,
2019,11,2019-11-03 01:30:00,PUBLIC PEACE VIOLATION,RECKLESS CONDUCT,STREET,True,7,,
2019,1,2019-01-01 00:00:00,THEFT,OVER $500,ST"REET,False,1,,
2019,1,2019-01-01 00:00:00,SOMETHING NEW,X,STREET,False,0,41.9,-87.6
EOF
"$CITYGEN" convert --crimes "$WORK_DIR/edge.csv" --out "$WORK_DIR/edge.jsonl" >"$WORK_DIR/edge.summary" \
  2>"$WORK_DIR/edge.stderr" || fail "convert of edge.csv exited non-zero"
grep -q "6 rows read, 3 events written, 3 rows skipped" "$WORK_DIR/edge.summary" ||
  fail "edge.csv summary: $(cat "$WORK_DIR/edge.summary")"
for expect in "line 4: skipped: 11 columns, expected 10" "line 5: skipped: bad Date" "line 7: skipped: quote inside"; do
  grep -q "$expect" "$WORK_DIR/edge.stderr" || fail "stderr lacks '$expect': $(cat "$WORK_DIR/edge.stderr")"
done
"$PYTHON" - "$WORK_DIR/edge.jsonl" <<'EOF' || fail "edge.jsonl content"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
assert [e["id"] for e in events] == ["crime-000001", "crime-000004", "crime-000006"], events
gap, repeated, unknown = events
assert gap["time"] == "2019-03-10T08:00:00Z", gap["time"]            # skipped hour: the transition instant
assert gap["data"]["description"] == 'SHOPLIFTING, "RETAIL"', gap["data"]
assert gap["data"]["location_description"] == 'CTA "L" PLATFORM\nSECOND LINE', gap["data"]
assert repeated["time"] == "2019-11-03T06:30:00Z", repeated["time"]  # repeated hour: first occurrence
assert "lat" not in repeated and repeated["severity"] == "other"
assert unknown["type"] == "platform.fir.something_new" and unknown["severity"] == "other", unknown
EOF

# Start-up errors exit non-zero with one line naming the cause.
if "$CITYGEN" convert --crimes "$WORK_DIR/edge.csv" --out "$WORK_DIR/x.jsonl" --time-zone Mars/Olympus 2>"$WORK_DIR/tz.stderr"; then
  fail "an unknown time zone was accepted"
fi
grep -q "Mars/Olympus" "$WORK_DIR/tz.stderr" || fail "time-zone error does not name the zone"
printf 'Date,Primary Type\n2019-01-01 00:00:00,THEFT\n' >"$WORK_DIR/bad_header.csv"
if "$CITYGEN" convert --crimes "$WORK_DIR/bad_header.csv" --out "$WORK_DIR/x.jsonl" 2>"$WORK_DIR/hdr.stderr"; then
  fail "a CSV without the required columns was accepted"
fi
grep -q 'bad_header.csv: line 1: header has no column "Description"' "$WORK_DIR/hdr.stderr" ||
  fail "header error: $(cat "$WORK_DIR/hdr.stderr")"

echo "citygen_test: OK"
