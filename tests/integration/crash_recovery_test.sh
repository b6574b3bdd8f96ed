#!/usr/bin/env bash
# kill -9 at several moments during a checkpointed replay, resume, and the
# outputs must equal those of an uninterrupted run byte for byte. Also: a
# corrupt newest checkpoint falls back to the previous one, and a resume
# with a different shard count re-partitions the state.
# Usage: crash_recovery_test.sh SENTINEL SOURCE_DIR WORK_DIR
set -euo pipefail
bin=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work"
/usr/bin/python3 "$src/tests/integration/make_stream.py" input.jsonl 200000 11
"$bin" keys generate --out keys > /dev/null
cat > config.yaml <<'YAML'
checkpoint:
  interval: 20ms
  keep: 3
audit:
  key: keys/audit.key
  sign_every: 64
YAML
"$bin" replay -q -c config.yaml --shards 2 --input input.jsonl --out ref
echo "reference: $(wc -l < ref/alerts.jsonl) alert records, $(wc -l < ref/windows.jsonl) windows, $(wc -l < ref/dead-letter.jsonl) dead letters, $(wc -l < ref/late.jsonl) late, $(wc -l < ref/audit.jsonl) audit records"
"$bin" audit verify ref/audit.jsonl --public-key keys/audit.pub --sign-every 64

same_as_ref() {
  local out=$1 label=$2
  for f in windows dead-letter late audit alerts; do
    if ! cmp -s "ref/$f.jsonl" "$out/$f.jsonl"; then
      echo "FAIL $label: $f.jsonl differs from the uninterrupted run"
      cmp "ref/$f.jsonl" "$out/$f.jsonl" || true
      exit 1
    fi
  done
  echo "ok   $label"
}

run_and_kill() {  # out ckpt shards delay [checkpoints to wait for first]
  "$bin" replay -q -c config.yaml --shards "$3" --input input.jsonl --out "$1" --checkpoint-dir "$2" 2>>"$1.log" &
  local pid=$!
  # On a busy machine the first checkpoints may take a while: wait for them
  # (up to 30 s) when asked, so the kill lands after them.
  local want=${5:-0} waited=0
  while [ "$want" -gt 0 ] && [ "$(ls "$2" 2>/dev/null | grep -c ckpt || true)" -lt "$want" ] && [ $waited -lt 300 ]; do
    sleep 0.1; waited=$((waited + 1))
  done
  sleep "$4"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

for delay in 0.05 0.15 0.3 0.5; do
  out=out-$delay ck=ck-$delay
  run_and_kill "$out" "$ck" 2 "$delay"
  run_and_kill "$out" "$ck" 2 0.1   # a second crash during the resumed run
  ls "$ck" | grep -q ckpt || echo "note: no checkpoint before the kill at ${delay}s"
  "$bin" replay -q -c config.yaml --shards 2 --input input.jsonl --out "$out" --checkpoint-dir "$ck" 2>>"$out.log"
  same_as_ref "$out" "killed at ${delay}s and again 0.1s into the resume"
  rm -rf "$out" "$ck"   # each run's outputs are ~300 MB: keep only a failing one
done

# A corrupt newest checkpoint: detected by its checksum, the previous one is used.
out=out-corrupt ck=ck-corrupt
run_and_kill "$out" "$ck" 2 0.05 2
newest=$(ls "$ck"/*.ckpt | sort | tail -1)
[ -n "$newest" ] || { echo "FAIL: no checkpoint written in 0.25s"; exit 1; }
printf 'garbage' | dd of="$newest" bs=1 seek=40 conv=notrunc status=none
"$bin" replay -c config.yaml --shards 2 --input input.jsonl --out "$out" --checkpoint-dir "$ck" 2> "$out.resume.log" >/dev/null
grep -q "checksum mismatch" "$out.resume.log" || { echo "FAIL: corrupt checkpoint not reported"; cat "$out.resume.log"; exit 1; }
same_as_ref "$out" "corrupt newest checkpoint"
rm -rf "$out" "$ck"

# Resume with another number of shards.
out=out-reshard ck=ck-reshard
run_and_kill "$out" "$ck" 2 0.05 1
"$bin" replay -q -c config.yaml --shards 3 --input input.jsonl --out "$out" --checkpoint-dir "$ck"
same_as_ref "$out" "resumed with 3 shards after a crash with 2"

# Rerunning a finished replay changes nothing.
"$bin" replay -q -c config.yaml --shards 2 --input input.jsonl --out "$out" --checkpoint-dir "$ck"
same_as_ref "$out" "rerun after completion"
