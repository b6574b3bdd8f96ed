#!/usr/bin/env bash
# Runs every benchmark of docs/BENCHMARKS.md against the release build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
b=$root/build/release
"$root/bench/replay_throughput.sh" "$b" 2000000
/usr/bin/python3 "$root/bench/http_ingest_latency.py" "$b/src/app/sentinel" 100000 10 1000
"$b/bench/window_state_bench"
"$b/bench/parse_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
"$b/bench/enrich_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true || true
"$b/bench/http_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
