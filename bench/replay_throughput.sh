#!/usr/bin/env bash
# Replay throughput of the whole pipeline (parse -> route -> enrich -> signals
# and geofences -> all windows -> alert stage: correlation, sensor, geofence,
# spike, isolation forest, score, bias, dedup -> alerts.jsonl and the signed
# audit log, every output written) on two inputs:
# - dense: a synthetic incident storm (make_stream.py), against merely
#   parsing the same file with the same JSON parser (simdjson On Demand,
#   every field read), measured in the same run;
# - city: the demo's data (126k real Chicago crimes of 2019 H1 + 193k seeded
#   CCTV, sensor and CAD events), generated here by citygen as `make demo` does.
# Prints medians of 5 and the load average around each input's runs.
# Usage: bench/replay_throughput.sh [BUILD_DIR] [EVENTS] [INPUTS]
#   INPUTS: "dense city" (default), "dense" or "city".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
events=${2:-2000000}
inputs=${3:-dense city}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The demo's config: the 77 community areas and 566 schools, its geofence
# rule; plus the audit log, signed (chain head every 64 records). Its
# relative paths are made absolute (the config is copied elsewhere).
sed -e "s#data/#$root/examples/data/#" -e "s#- intel/#- $root/examples/intel/#" "$root/examples/demo.yaml" \
  > "$work/bench.yaml"
"$build/src/app/sentinel" keys generate --out "$work/keys" > /dev/null
cat >> "$work/bench.yaml" <<YAML
audit:
  key: $work/keys/audit.key
YAML

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
# replay_rates OUT INPUT...: five replays; prints the events/s of each.
replay_rates() {
  local out=$1 line secs ev
  shift
  local args=()
  for f in "$@"; do args+=(--input "$f"); done
  for run in 1 2 3 4 5; do
    line=$("$build/src/app/sentinel" replay -c "$work/bench.yaml" "${args[@]}" --out "$out" 2>&1 | tail -1)
    secs=$(echo "$line" | sed -E 's/.*done in ([0-9.]+) s.*/\1/')
    ev=$(echo "$line" | sed -E 's/.*lines, ([0-9]+) events.*/\1/')
    awk -v e="$ev" -v s="$secs" 'BEGIN {printf "%.0f\n", e / s}'
  done
}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

if [[ " $inputs " == *" dense "* ]]; then
  # A dense stream: EVENTS events over ~100 (cell, type) keys in central
  # Chicago, 4 events/s of event time, with 0.1% malformed and 0.1% duplicate lines.
  /usr/bin/python3 "$root/tests/integration/make_stream.py" "$work/in.jsonl" "$events" 5 0.03
  load_before=$(load)
  mapfile -t rates < <(replay_rates "$work/out" "$work/in.jsonl")
  load_after=$(load)
  replay=$(printf '%s\n' "${rates[@]}" | median)
  windows=$(wc -l < "$work/out/windows.jsonl")
  alerts=$(wc -l < "$work/out/alerts.jsonl")
  audits=$(wc -l < "$work/out/audit.jsonl")
  rm -rf "$work/out"
  parse_json=$(SENTINEL_PARSE_FILE="$work/in.jsonl" "$build/bench/parse_bench" \
    --benchmark_filter='Baseline_OnDemandPerLine|Decoder_DecodePerLine' --benchmark_repetitions=5 \
    --benchmark_report_aggregates_only=true --benchmark_format=json 2>/dev/null)
  rate_of() { echo "$parse_json" | /usr/bin/python3 -c "
import json,sys; d=json.load(sys.stdin)
print(int([b for b in d['benchmarks'] if b['name']=='$1_median'][0]['items_per_second']))"; }
  parse=$(rate_of Baseline_OnDemandPerLine)
  decode=$(rate_of Decoder_DecodePerLine)
  echo "dense input: $events lines, $(du -m "$work/in.jsonl" | cut -f1) MB; written: $windows windows, $alerts alert records, $audits audit records"
  echo "dense replay (whole pipeline, every stage, signed audit), median of 5: $replay events/s (runs: ${rates[*]}; load $load_before -> $load_after)"
  echo "parse only (simdjson On Demand, all fields, one core), median of 5: $parse events/s"
  echo "decode only (EventDecoder: parse + validate), median of 5: $decode events/s"
  awk -v r="$replay" -v p="$parse" -v d="$decode" 'BEGIN {printf "ratio replay/parse: %.3f   replay/decode: %.3f\n", r / p, r / d}'
  rm -f "$work/in.jsonl"
fi

if [[ " $inputs " == *" city "* ]]; then
  # The demo's inputs, as `make demo` generates them (same seed).
  "$build/tools/citygen" all --crimes "$root/examples/data/chicago/chicago_crimes_2019H1.csv" \
    --out-dir "$work/city" --seed 42 > /dev/null
  load_before=$(load)
  mapfile -t rates < <(replay_rates "$work/out" "$work/city/crimes.jsonl" "$work/city/streams.jsonl")
  load_after=$(load)
  replay=$(printf '%s\n' "${rates[@]}" | median)
  lines=$(cat "$work/city/crimes.jsonl" "$work/city/streams.jsonl" | wc -l)
  windows=$(wc -l < "$work/out/windows.jsonl")
  alerts=$(wc -l < "$work/out/alerts.jsonl")
  audits=$(wc -l < "$work/out/audit.jsonl")
  echo "city input: $lines lines (demo data, citygen seed 42); written: $windows windows, $alerts alert records, $audits audit records"
  echo "city replay (whole pipeline, every stage, signed audit), median of 5: $replay events/s (runs: ${rates[*]}; load $load_before -> $load_after)"
fi
