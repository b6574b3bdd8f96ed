#!/usr/bin/env bash
# Golden replays: every case under tests/golden gives byte-identical outputs
# with 1, 2 and 3 shards, equal to the reviewed expected/ files.
# Usage: golden_test.sh SENTINEL SOURCE_DIR WORK_DIR [--update]
set -euo pipefail
bin=$1 src=$2 work=$3 update=${4:-}
rm -rf "$work" && mkdir -p "$work"
fail=0
for case_dir in "$src"/tests/golden/*/; do
  case_dir=${case_dir%/}
  name=$(basename "$case_dir")
  inputs=()
  for f in "$case_dir"/input*.jsonl; do inputs+=("$f"); done
  for shards in 1 2 3; do
    out="$work/$name-$shards"
    "$bin" replay -q -c "$case_dir/config.yaml" --shards "$shards" --input "${inputs[@]}" --out "$out" \
      > "$out.log" 2>&1 || { echo "FAIL $name shards=$shards: replay exited $?"; cat "$out.log"; fail=1; continue; }
    # Inputs are named by path in the outputs; make them relative to the case.
    for f in windows dead-letter late; do sed -i "s#$case_dir/##g" "$out/$f.jsonl"; done
    if [ "$update" = "--update" ] && [ "$shards" = 1 ]; then
      mkdir -p "$case_dir/expected"
      cp "$out"/{windows,dead-letter,late}.jsonl "$case_dir/expected/"
    fi
    for f in windows dead-letter late; do
      if ! cmp -s "$out/$f.jsonl" "$case_dir/expected/$f.jsonl"; then
        echo "FAIL $name shards=$shards: $f.jsonl differs from expected:"
        diff "$case_dir/expected/$f.jsonl" "$out/$f.jsonl" | head -20 || true
        fail=1
      fi
    done
  done
  # Pacing by event time (--speed) must not change a byte either.
  out="$work/$name-paced"
  "$bin" replay -q -c "$case_dir/config.yaml" --speed 100000 --input "${inputs[@]}" --out "$out" > "$out.log" 2>&1 ||
    { echo "FAIL $name --speed: replay exited $?"; fail=1; }
  for f in windows dead-letter late; do
    sed -i "s#$case_dir/##g" "$out/$f.jsonl"
    cmp -s "$out/$f.jsonl" "$case_dir/expected/$f.jsonl" || { echo "FAIL $name --speed: $f.jsonl differs"; fail=1; }
  done
  [ $fail -eq 0 ] && echo "ok   $name"
done
exit $fail
