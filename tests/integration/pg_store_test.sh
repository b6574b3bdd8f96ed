#!/usr/bin/env bash
# The PostgreSQL incident store against a real server: starts a throwaway
# PostgreSQL cluster on a free loopback port (initdb as the postgres user when
# run as root), makes a database owned by a non-superuser with pg_trgm
# installed, runs integration_pg_store (the store and job-queue cases shared
# with the SQLite unit tests, each in its own schema) and stops the server by
# its PID at the end, also on failure.
# Usage: pg_store_test.sh SENTINEL SOURCE_DIR WORK_DIR
# The test program is WORK_DIR/../integration_pg_store (built beside this
# script's other targets), or $PG_STORE_TEST_BIN.
set -euo pipefail
work=$(realpath -m "$3")
test_bin=${PG_STORE_TEST_BIN:-$(dirname "$work")/integration_pg_store}
rm -rf "$work" && mkdir -p "$work/pg"
server_pid=""
fail() {
  echo "FAIL: $*"
  [ -f "$work/pg/server.log" ] && { echo "== server.log"; tail -30 "$work/pg/server.log"; }
  exit 1
}
stop_server() {
  [ -n "$server_pid" ] || return 0
  # SIGINT is PostgreSQL's fast shutdown; the postmaster is not our child
  # (pg_ctl detaches it), so poll for its exit, then insist.
  kill -INT "$server_pid" 2> /dev/null || true
  for _ in $(seq 1 300); do kill -0 "$server_pid" 2> /dev/null || { server_pid=""; return 0; }; sleep 0.1; done
  kill -KILL "$server_pid" 2> /dev/null || true
  server_pid=""
}
trap stop_server EXIT

[ -x "$test_bin" ] || fail "test program $test_bin is missing (build target integration_pg_store)"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n1)
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || fail "PostgreSQL server binaries are missing (Debian package postgresql)"
command -v psql > /dev/null || fail "psql is missing (Debian package postgresql-client)"
# PostgreSQL refuses to run as root: as root, run the server as postgres.
as_pg=()
if [ "$(id -u)" = 0 ]; then
  as_pg=(runuser -u postgres --)
  chown postgres: "$work/pg"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$pg_bin/initdb" -D "$work/pg/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
  > "$work/initdb.log" 2>&1 || { cat "$work/initdb.log"; fail "initdb"; }
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w -t 30 \
  -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start > "$work/pg_ctl.log" 2>&1 || { server_pid=$(head -n1 "$work/pg/data/postmaster.pid" 2> /dev/null || true); fail "pg_ctl start"; }
server_pid=$(head -n1 "$work/pg/data/postmaster.pid")
[ -n "$server_pid" ] || fail "no postmaster PID"

admin=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres)
"${admin[@]}" -d postgres -c "CREATE ROLE sentinel LOGIN" -c "CREATE DATABASE sentinel OWNER sentinel" \
  || fail "create role and database"
"${admin[@]}" -d sentinel -c "CREATE EXTENSION pg_trgm" || fail "CREATE EXTENSION pg_trgm (Debian package postgresql-contrib)"

SENTINEL_PG_CONNINFO="host=127.0.0.1 port=$port dbname=sentinel user=sentinel connect_timeout=10" \
  "$test_bin" --gtest_output="xml:$work/report.xml" > "$work/test.log" 2>&1 \
  || { tail -60 "$work/test.log"; fail "integration_pg_store"; }
grep -q "SKIPPED" "$work/test.log" && { grep "SKIPPED" "$work/test.log"; fail "cases were skipped"; }
summary=$(grep -E '^\[  PASSED  \]' "$work/test.log")
stop_server
echo "pg_store_test: OK ($summary on PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}'))"
