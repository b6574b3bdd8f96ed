#!/usr/bin/env bash
# Browser tests of the command-centre page against a real server.
# Usage: run.sh SENTINEL_BINARY SOURCE_DIR WORK_DIR
#
# Builds the page (web/) into WORK_DIR, makes an audit key and two tokens
# (e2e-admin, e2e-analyst) with `sentinel tokens add`, starts `sentinel run` on
# a free port with tests/e2e/config.yaml, waits for /readyz, runs
# command_centre.test.mjs in headless Debian Chromium (playwright-core, never a
# downloaded browser), leaves one screenshot per test in WORK_DIR/screenshots,
# stops the server, and checks that no token reached a log. The restart test
# starts two more short-lived servers of its own (same config, own outputs).
# Needs: node and npm, Debian's chromium (CHROMIUM overrides /usr/bin/chromium),
# redis-server (the outage test), curl.
set -euo pipefail
bin=$(realpath "$1") src=$(realpath "$2") work=$3
rm -rf "$work" && mkdir -p "$work" && work=$(realpath "$work")
e2e="$src/tests/e2e"
web="$src/web"
fail() { echo "FAIL: $*"; exit 1; }

export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "$CHROMIUM is missing (Debian package chromium; scripts/install-deps.sh installs it)"
command -v npm > /dev/null || fail "npm is missing (scripts/install-deps.sh installs nodejs and npm)"
command -v redis-server > /dev/null || fail "redis-server is missing (Debian package redis-server)"
command -v curl > /dev/null || fail "curl is missing"

# Installs the locked versions when node_modules is missing or older than the
# lock file. `npm install`, not `npm ci`: the registry reached here lacks some
# other platforms' optional packages (rollup's), so the lock cannot list them
# and `npm ci` refuses it; with the lock in sync, install keeps it unchanged.
install_modules() {
  local dir=$1
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error) || fail "npm install in $dir"
  fi
}
install_modules "$web"
install_modules "$e2e"

# The page under test is built from the current sources, not a stale web/dist.
(cd "$web" && npm run --silent build -- --outDir "$work/web-dist" --emptyOutDir --logLevel warn) > "$work/web-build.log" 2>&1 ||
  { cat "$work/web-build.log"; fail "the page does not build"; }

"$bin" keys generate --out "$work/keys" > /dev/null
admin_token=$("$bin" tokens add --file "$work/tokens.jsonl" --name e2e-admin --role admin)
analyst_token=$("$bin" tokens add --file "$work/tokens.jsonl" --name e2e-analyst --role analyst)
curator_token=$("$bin" tokens add --file "$work/tokens.jsonl" --name e2e-curator --role curator)
[ -n "$admin_token" ] && [ -n "$analyst_token" ] && [ -n "$curator_token" ] || fail "sentinel tokens add printed no token"

sed "s|\.\./\.\./|$src/|g" "$e2e/config.yaml" > "$work/config.yaml"
cat >> "$work/config.yaml" << EOF
server:
  listen: 127.0.0.1:0
  tokens: $work/tokens.jsonl
  web_root: $work/web-dist
audit:
  key: $work/keys/audit.key
  sign_every: 1
intel:
  enabled: true
  database: $work/intel.db
  gazetteer:
    - $src/examples/intel/gazetteer/chicago_community_areas.tsv
    - $src/examples/intel/gazetteer/chicago_streets.tsv
  home_regions: [CHICAGO]
  enrich_min_chars: 0
EOF
"$bin" config check "$work/config.yaml" > /dev/null || fail "the test config does not validate"

mkdir -p "$work/out"
"$bin" run -c "$work/config.yaml" --out "$work/out" > "$work/server.log" 2>&1 &
server_pid=$!
stop_server() {
  if kill -0 "$server_pid" 2> /dev/null; then
    kill -TERM "$server_pid" 2> /dev/null || true
    wait "$server_pid" 2> /dev/null || true
  fi
}
trap stop_server EXIT

# The bound port is in the start-up line: "listening on http://127.0.0.1:PORT/ ...".
url=""
for _ in $(seq 1 300); do
  url=$(grep -oE 'listening on http://[^ ]+/' "$work/server.log" | head -n1 | sed 's/^listening on //') || true
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2> /dev/null || { cat "$work/server.log"; fail "sentinel run exited during start-up"; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/server.log"; fail "no 'listening on' line within 30 s"; }
for _ in $(seq 1 300); do
  curl -sf -o /dev/null "${url}readyz" && break
  sleep 0.1
done
curl -sf -o /dev/null "${url}readyz" || { cat "$work/server.log"; fail "${url}readyz is not ready within 30 s"; }
echo "e2e: server at $url (log: $work/server.log)"

status=0
SENTINEL_URL=$url SENTINEL_ADMIN_TOKEN=$admin_token SENTINEL_ANALYST_TOKEN=$analyst_token \
  SENTINEL_CURATOR_TOKEN=$curator_token E2E_WORK=$work E2E_SOURCE=$src \
  SENTINEL_BINARY=$bin E2E_CONFIG=$work/config.yaml \
  node --test --test-concurrency=1 "$e2e/command_centre.test.mjs" "$e2e/intel_pages.test.mjs" "$e2e/intel_admin.test.mjs" || status=$?

stop_server
trap - EXIT
# DESIGN.md section 8: secrets never appear in logs. The page keeps the token in
# the URL fragment and the Authorization header, so no log line may hold one.
shopt -s nullglob
logs=("$work/server.log" "$work/out" "$work"/extra-*)
for t in "$admin_token" "$analyst_token" "$curator_token"; do
  if grep -rqF -- "$t" "${logs[@]}"; then
    grep -rlF -- "$t" "${logs[@]}"
    fail "a token appears in the server's logs"
  fi
done
[ "$status" -eq 0 ] || fail "browser tests failed (screenshots in $work/screenshots)"
echo "e2e: OK (screenshots in $work/screenshots)"
