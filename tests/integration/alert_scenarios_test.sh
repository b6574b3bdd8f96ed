#!/usr/bin/env bash
# Alert scenarios: one small case per alert rule under tests/alerts/<name>/
# (config.yaml, input*.jsonl, expected/alerts.jsonl, expected/audit-decisions.txt,
# README.md with the hand-checked arithmetic). Each case is replayed with 1
# shard, 2 shards, and 2 shards routed by fine cell: the outputs must be
# byte-identical, alerts.jsonl must equal the reviewed expected file, the audit
# log's "decision ref" sequence must equal expected/audit-decisions.txt, and the
# audit log must verify. The `tamper` case's log is then edited, cut,
# reordered, extended and rehashed: `sentinel audit verify` must exit 1 naming
# the first bad line each time.
#
# Usage: alert_scenarios_test.sh SENTINEL SOURCE_DIR WORK_DIR [--update] [CASE...]
#   --update rewrites expected/ from the 1-shard run: review every changed line
#   by hand against DESIGN.md sections 4-5 before committing it.
set -euo pipefail
bin=$1 src=$2 work=$3
shift 3
update=
if [ "${1:-}" = "--update" ]; then update=1; shift; fi
only=("$@")
started=$(date +%s%N)
rm -rf "$work" && mkdir -p "$work"
"$bin" keys generate --out "$work/keys" > /dev/null
fail=0
passed=0
failed_cases=()

# "decision ref" per audit record (seq, ts, decision, ref come first, in that
# order), plus the reason of a suppression and the new state of a bias flag.
decisions() {
  sed -E -e 's/^\{"seq":[0-9]+,"ts":"[^"]*","decision":"([^"]*)","ref":"([^"]*)","reasons":(.*)$/\1 \2 \3/' \
    -e 's/^(suppressed [^ ]*) .*"reason":"([^"]*)".*$/\1: \2/' \
    -e 's/^(bias_review [^ ]*) .*"flagged":(true|false).*$/\1 flagged=\2/' \
    -e 's/^((alert|update|trend_watch|duplicate|late|dead_letter) [^ ]*) .*$/\1/' "$1"
}

# Copies a case to the work dir (relative GeoJSON paths keep resolving) and
# appends the audit key generated for this run.
stage_case() {
  local case_dir=$1 dest=$2 sign_every=$3
  rm -rf "$dest" && mkdir -p "$dest"
  cp -r "$case_dir"/. "$dest"/
  printf '\naudit:\n  key: %s\n  sign_every: %s\n' "$work/keys/audit.key" "$sign_every" >> "$dest/config.yaml"
}

run_case() {
  local case_dir=$1 name ok=1
  name=$(basename "$case_dir")
  local staged="$work/cases/$name"
  stage_case "$case_dir" "$staged" 1
  # The same case routed by fine cell (coarse_level = fine_level 14), so that
  # neighbours land on different shards: alerts must not change.
  cp "$staged/config.yaml" "$staged/config-fine.yaml"
  printf 'cells:\n  coarse_level: 14\n' >> "$staged/config-fine.yaml"
  local inputs=()
  for f in "$staged"/input*.jsonl; do inputs+=("$f"); done
  for run in 1 2 2f; do
    local out="$work/$name-$run" shards=${run%f} cfg="$staged/config.yaml"
    [ "$run" = 2f ] && cfg="$staged/config-fine.yaml"
    if ! "$bin" replay -q -c "$cfg" --shards "$shards" --input "${inputs[@]}" --out "$out" \
      > "$out.log" 2>&1; then
      echo "FAIL $name run=$run: replay exited non-zero"
      cat "$out.log"
      ok=0
      continue
    fi
    # Dead letters name their input by path: make it relative to the case.
    decisions "$out/audit.jsonl" | sed "s#$staged/##g" > "$out/audit-decisions.txt"
    if ! "$bin" audit verify "$out/audit.jsonl" --public-key "$work/keys/audit.pub" --sign-every 1 \
      > "$out.verify" 2>&1; then
      echo "FAIL $name run=$run: the audit log does not verify: $(cat "$out.verify")"
      ok=0
    fi
  done
  [ $ok -eq 1 ] || { fail=1; failed_cases+=("$name"); return; }
  for run in 2 2f; do
    for f in alerts.jsonl audit.jsonl; do
      if ! cmp -s "$work/$name-1/$f" "$work/$name-$run/$f"; then
        echo "FAIL $name: $f differs between 1 shard and run $run (2 shards$([ $run = 2f ] && echo ', fine routing')):"
        diff "$work/$name-1/$f" "$work/$name-$run/$f" | head -10 || true
        ok=0
      fi
    done
  done
  if [ -n "$update" ]; then
    mkdir -p "$case_dir/expected"
    cp "$work/$name-1/alerts.jsonl" "$case_dir/expected/alerts.jsonl"
    cp "$work/$name-1/audit-decisions.txt" "$case_dir/expected/audit-decisions.txt"
  fi
  if ! cmp -s "$work/$name-1/alerts.jsonl" "$case_dir/expected/alerts.jsonl"; then
    echo "FAIL $name: alerts.jsonl differs from expected (< expected, > actual):"
    diff "$case_dir/expected/alerts.jsonl" "$work/$name-1/alerts.jsonl" | head -20 || true
    ok=0
  fi
  if ! cmp -s "$work/$name-1/audit-decisions.txt" "$case_dir/expected/audit-decisions.txt"; then
    echo "FAIL $name: audit decisions differ from expected (< expected, > actual):"
    diff "$case_dir/expected/audit-decisions.txt" "$work/$name-1/audit-decisions.txt" | head -20 || true
    ok=0
  fi
  if [ $ok -eq 1 ]; then
    echo "ok   $name"
    passed=$((passed + 1))
  else
    fail=1
    failed_cases+=("$name")
  fi
}

# `sentinel audit verify` on a tampered copy must exit 1 and name line $3.
expect_bad() {
  local what=$1 file=$2 line=$3 every=$4
  local rc=0 msg
  msg=$("$bin" audit verify "$file" --public-key "$work/keys/audit.pub" --sign-every "$every" 2>&1) || rc=$?
  if [ $rc -ne 1 ]; then
    echo "FAIL tamper ($what): verify exited $rc, expected 1: $msg"
    return 1
  fi
  if ! grep -q "line $line " <<< "$msg"; then
    echo "FAIL tamper ($what): expected line $line to be named, got: $msg"
    return 1
  fi
}

# Each kind of tampering with a signed log is found at the right line.
tamper_checks() {
  local log=$1 every=$2 t="$work/tamper" ok=0 n k
  mkdir -p "$t"
  n=$(wc -l < "$log")
  if [ "$n" -lt 6 ]; then
    echo "FAIL tamper: the log has $n records, need at least 6"
    return 1
  fi
  k=3  # the record tampered with (1-based line)
  "$bin" audit verify "$log" --public-key "$work/keys/audit.pub" --sign-every "$every" > /dev/null 2>&1 ||
    { echo "FAIL tamper: the intact log does not verify"; ok=1; }
  # Edit one byte: a character of record k's ref.
  awk -v k=$k 'NR == k { i = index($0, "\"ref\":\"") + 7; c = substr($0, i, 1);
      $0 = substr($0, 1, i - 1) (c == "x" ? "y" : "x") substr($0, i + 1) } { print }' "$log" > "$t/edit.jsonl"
  cmp -s "$log" "$t/edit.jsonl" && { echo "FAIL tamper: the edit changed nothing"; ok=1; }
  expect_bad "edit one byte of line $k" "$t/edit.jsonl" $k "$every" || ok=1
  # Delete record k: line k now holds record k + 1.
  sed "${k}d" "$log" > "$t/delete.jsonl"
  expect_bad "delete line $k" "$t/delete.jsonl" $k "$every" || ok=1
  # Insert a copy of record 1 before record k.
  sed -n 1p "$log" > "$t/copy.line"
  sed "$((k - 1))r $t/copy.line" "$log" > "$t/insert.jsonl"
  expect_bad "insert a copy of line 1 at line $k" "$t/insert.jsonl" $k "$every" || ok=1
  # Swap records k and k + 1.
  awk -v k=$k 'NR == k { held = $0; next } NR == k + 1 { print; print held; next } { print }' "$log" > "$t/swap.jsonl"
  expect_bad "swap lines $k and $((k + 1))" "$t/swap.jsonl" $k "$every" || ok=1
  # Truncate the last record in the middle.
  local size last_len
  size=$(stat -c %s "$log")
  last_len=$(tail -n 1 "$log" | wc -c)
  head -c $((size - last_len / 2)) "$log" > "$t/truncate.jsonl"
  expect_bad "truncate the last record" "$t/truncate.jsonl" "$n" "$every" || ok=1
  # Edit record k and recompute the hash chain from there on (the hashes are
  # unkeyed BLAKE2b-256): only the signatures can catch it. The verifier names
  # the first record after the last signature that still verifies.
  /usr/bin/python3 - "$log" "$t/rechain.jsonl" $k <<'PY'
import hashlib, re, sys
src, dst, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
out, prev = [], None
for i, line in enumerate(open(src, encoding="utf-8").read().split("\n")[:-1], 1):
    if i == k:
        line = re.sub(r'"ref":"(.)', lambda m: '"ref":"' + ("y" if m.group(1) == "x" else "x"), line, count=1)
    if i > k:
        at = line.rindex(',"prev":"') + 9
        line = line[:at] + prev + line[at + 64:]
    if i >= k:
        at = line.rindex(',"hash":"')
        digest = hashlib.blake2b((line[:at] + "}").encode(), digest_size=32).hexdigest()
        line = line[:at + 9] + digest + line[at + 9 + 64:]
    prev = re.search(r'"hash":"([0-9a-f]{64})"', line).group(1)
    out.append(line)
open(dst, "w", encoding="utf-8").write("\n".join(out) + "\n")
PY
  local first_unsigned
  first_unsigned=$(( (k - 1) / every * every + 1 ))
  expect_bad "edit line $k and rehash the chain" "$t/rechain.jsonl" $first_unsigned "$every" || ok=1
  grep -q signature <<< "$("$bin" audit verify "$t/rechain.jsonl" --public-key "$work/keys/audit.pub" 2>&1)" ||
    { echo "FAIL tamper (rehash): not caught by a signature (the rehash itself is wrong?)"; ok=1; }
  # Drop the last record's signature (a log must end signed).
  sed -E '$ s/,"sig":"[0-9a-f]*"\}$/}/' "$log" > "$t/unsigned.jsonl"
  expect_bad "remove the last signature" "$t/unsigned.jsonl" "$n" "$every" || ok=1
  return $ok
}

for case_dir in "$src"/tests/alerts/*/; do
  case_dir=${case_dir%/}
  [ -f "$case_dir/config.yaml" ] || continue
  if [ ${#only[@]} -gt 0 ]; then
    match=0
    for o in "${only[@]}"; do [ "$o" = "$(basename "$case_dir")" ] && match=1; done
    [ $match -eq 1 ] || continue
  fi
  run_case "$case_dir"
done

if [ ${#only[@]} -eq 0 ] || printf '%s\n' "${only[@]}" | grep -qx tamper; then
  if [ -f "$work/tamper-1/audit.jsonl" ]; then
    if tamper_checks "$work/tamper-1/audit.jsonl" 1; then
      echo "ok   tamper: edit, delete, insert, swap, truncate, rehashed edit, unsigned end each found (sign_every 1)"
    else
      fail=1
    fi
    # The same with a signature every 4 records (and the last): still found.
    staged="$work/cases/tamper-every4"
    stage_case "$src/tests/alerts/tamper" "$staged" 4
    "$bin" replay -q -c "$staged/config.yaml" --shards 1 --input "$staged"/input*.jsonl --out "$work/tamper-every4" \
      > "$work/tamper-every4.log" 2>&1 || { echo "FAIL tamper: sign_every 4 replay failed"; fail=1; }
    if tamper_checks "$work/tamper-every4/audit.jsonl" 4; then
      echo "ok   tamper: edit, delete, insert, swap, truncate, rehashed edit, unsigned end each found (sign_every 4)"
    else
      fail=1
    fi
  else
    echo "FAIL tamper: no audit log from the tamper case"
    fail=1
  fi
fi

elapsed=$((($(date +%s%N) - started) / 1000000))
echo "$passed case(s) passed, ${#failed_cases[@]} failed${failed_cases[*]:+: ${failed_cases[*]}} (${elapsed} ms)"
exit $fail
