#!/usr/bin/env bash
# The demo's data set end to end: citygen's deliberate defects come out of
# the pipeline exactly as dead letters, late events and duplicates, and the
# demo command itself runs to completion.
# Usage: demo_test.sh SENTINEL SOURCE_DIR WORK_DIR
set -euo pipefail
bin=$1 src=$2 work=$3
citygen=$(dirname "$bin")/../../tools/citygen
rm -rf "$work" && mkdir -p "$work/examples"
"$citygen" all --crimes "$src/examples/data/chicago/chicago_crimes_2019H1.csv" --out-dir "$work/examples/data/generated" \
  --seed 42 > "$work/citygen.txt"
defect() { awk -v k="$1" '$1 == "defect" && $2 == k {print $3}' "$work/citygen.txt"; }
malformed=$(defect malformed) late=$(defect late) dup=$(defect duplicate)
[ -n "$late" ] && [ -n "$dup" ] || { echo "FAIL: cannot read citygen's summary"; cat "$work/citygen.txt"; exit 1; }
cp "$src/examples/demo.yaml" "$work/examples/" && cp -r "$src/examples/data/chicago" "$work/examples/data/"
cp -r "$src/examples/intel" "$work/examples/"
"$bin" demo --offline --examples "$work/examples" --out "$work/out" --speed 0 2> "$work/demo.log"
summary=$(grep '\[replay\] done' "$work/demo.log")
echo "$summary"
num() { echo "$summary" | sed -E "s/.* ([0-9]+) $1.*/\1/"; }
got_dead=$(num "dead letters") got_late=$(num late) got_dup=$(num duplicates)
# Dead letters: every malformed line, plus the one incident geocoded outside the city.
[ "$got_dead" -eq $((malformed + 1)) ] || { echo "FAIL: $got_dead dead letters, expected $((malformed + 1))"; exit 1; }
[ "$got_late" -eq "$late" ] || { echo "FAIL: $got_late late, expected $late"; exit 1; }
[ "$got_dup" -eq "$dup" ] || { echo "FAIL: $got_dup duplicates, expected $dup"; exit 1; }
[ "$(wc -l < "$work/out/dead-letter.jsonl")" -eq "$got_dead" ] || { echo "FAIL: dead-letter.jsonl line count"; exit 1; }
[ -s "$work/out/global.jsonl" ] || { echo "FAIL: no global summary"; exit 1; }
grep -q '"district":"AUSTIN"' "$work/out/global.jsonl" || { echo "FAIL: global summary without community areas"; exit 1; }
echo "demo_test: OK ($got_dead dead letters, $got_late late, $got_dup duplicates)"

# The live demo (what `make demo` runs): the command centre comes up with a
# token, the replay feeds it, alerts reach the API, the page is served.
"$bin" demo --examples "$work/examples" --out "$work/live" --listen 127.0.0.1:0 --speed 86400 2> "$work/live.log" &
demo_pid=$!
trap 'kill -TERM $demo_pid 2> /dev/null || true; wait $demo_pid 2> /dev/null || true' EXIT
url=""
for _ in $(seq 1 300); do
  url=$(grep -oE 'Command centre: http://[^ ]+' "$work/live.log" | head -n1 | sed 's/^Command centre: //') || true
  [ -n "$url" ] && break
  kill -0 $demo_pid 2> /dev/null || { cat "$work/live.log"; echo "FAIL: the live demo exited"; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/live.log"; echo "FAIL: the live demo printed no address"; exit 1; }
base=${url%%#*} token=${url##*#token=}
alerts=0
for _ in $(seq 1 300); do
  alerts=$(curl -sf -H "Authorization: Bearer $token" "${base}v1/stats" | sed -E 's/.*"alerts":([0-9]+).*/\1/') || alerts=0
  [ "${alerts:-0}" -gt 0 ] && break
  sleep 0.1
done
[ "${alerts:-0}" -gt 0 ] || { tail -20 "$work/live.log"; echo "FAIL: the live demo raised no alert in 30 s"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' "${base}v1/alerts")
[ "$code" = 401 ] || { echo "FAIL: /v1/alerts without a token answered $code"; exit 1; }
curl -sf -H "Authorization: Bearer $token" "${base}v1/alerts?limit=1" | grep '"alert_id"' > /dev/null || { echo "FAIL: no alert listed"; exit 1; }
if [ -f "$src/web/dist/index.html" ]; then
  curl -sf "$base" | grep -i '<html' > /dev/null || { echo "FAIL: the page is not served"; exit 1; }
fi
# The demo's synthetic news feed, served by the demo itself, becomes incidents
# through fetch, parse, extraction, dedup and triage.
incidents=0
for _ in $(seq 1 600); do
  incidents=$(curl -sf -H "Authorization: Bearer $token" "${base}v1/intel/incidents?limit=1" | sed -E 's/.*"total":([0-9]+).*/\1/') || incidents=0
  [ "${incidents:-0}" -gt 0 ] && break
  sleep 0.1
done
[ "${incidents:-0}" -gt 0 ] || { tail -20 "$work/live.log"; echo "FAIL: the demo's news made no incident in 60 s"; exit 1; }
curl -sf -H "Authorization: Bearer $token" "${base}v1/intel/feeds" | grep '"status":"active"' > /dev/null || { echo "FAIL: the demo feed is not active"; exit 1; }
grep -q "$token" "$work/live/"*.jsonl 2> /dev/null && { echo "FAIL: the token reached an output file"; exit 1; }
echo "demo_test: live demo OK ($alerts alerts, $incidents incidents from the news feed at $base)"
