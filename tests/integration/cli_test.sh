#!/usr/bin/env bash
# The command line's contract (DESIGN.md section 9): every command has
# --help, and every failure exits non-zero with one line saying what and where.
# Usage: cli_test.sh SENTINEL SOURCE_DIR WORK_DIR
set -euo pipefail
bin=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work"
fail() { echo "FAIL: $*"; exit 1; }

# expect_failure EXPECTED_SUBSTRING CMD...: non-zero exit, one line on stderr containing the text.
expect_failure() {
  local want=$1; shift
  if "$@" > out.txt 2> err.txt; then fail "'$*' succeeded"; fi
  [ "$(wc -l < err.txt)" -eq 1 ] || { cat err.txt; fail "'$*' printed $(wc -l < err.txt) lines, not one"; }
  grep -qF -- "$want" err.txt || { cat err.txt; fail "'$*' did not say '$want'"; }
}

for cmd in replay run demo "config check" "keys generate" "audit verify" "tokens add" "tokens list"; do
  # shellcheck disable=SC2086
  "$bin" $cmd --help > /dev/null || fail "$cmd --help"
done

printf 'windows:\n  tumbling_size: five\n' > bad.yaml
expect_failure "bad.yaml: windows.tumbling_size: expected a duration" "$bin" config check bad.yaml
printf 'windows:\n  bogus: 1\n' > unknown.yaml
expect_failure "windows.bogus: unknown key" "$bin" config check unknown.yaml
"$bin" config check "$src/examples/demo.yaml" > /dev/null || fail "demo.yaml does not validate"
"$bin" config docs > reference.md || fail "config docs exited $?"
grep -q "windows.allowed_lateness" reference.md || fail "config docs lacks windows.allowed_lateness"

printf '{"id":"a","source":"cad","type":"cad.call","time":"2026-03-01T10:00:00Z"}\n' > in.jsonl
expect_failure "bad.yaml: windows.tumbling_size" "$bin" replay -c bad.yaml --input in.jsonl --out out
mkdir -p ck && printf 'garbage' > ck/checkpoint-000000000001.ckpt
"$bin" replay --input in.jsonl --out out2 --checkpoint-dir ck 2> ck.log || fail "replay with only a corrupt checkpoint"
grep -q "checkpoint-000000000001.ckpt: truncated" ck.log || { cat ck.log; fail "corrupt checkpoint not named"; }

# Tokens: printed once, stored hashed (0600), listed by name and role; names are unique.
token=$("$bin" tokens add --file tokens.jsonl --name desk-1 --role analyst) || fail "tokens add"
[[ $token == snt_* ]] || fail "tokens add printed '$token'"
grep -qF "$token" tokens.jsonl && fail "the tokens file holds the token itself"
[ "$(stat -c %a tokens.jsonl)" = 600 ] || fail "the tokens file is not mode 0600"
[ "$("$bin" tokens list --file tokens.jsonl)" = "$(printf 'desk-1\tanalyst')" ] || fail "tokens list"
expect_failure "a token named 'desk-1' exists" "$bin" tokens add --file tokens.jsonl --name desk-1
expect_failure "--name: may hold only" "$bin" tokens add --file tokens.jsonl --name "desk 2"
printf '{"name":"x","role":"boss","hash":"blake2b256:00"}\n' > bad-tokens.jsonl
expect_failure "bad-tokens.jsonl:1: role" "$bin" tokens list --file bad-tokens.jsonl

"$bin" keys generate --out keys > /dev/null || fail "keys generate"
[ "$(stat -c %a keys/audit.key)" = 600 ] || fail "secret key is not mode 0600"
expect_failure "keys" "$bin" keys generate --out keys   # never overwrites a key
printf '' > empty-audit.jsonl
expect_failure "nothere.pub" "$bin" audit verify empty-audit.jsonl --public-key nothere.pub
echo "cli_test: OK"
