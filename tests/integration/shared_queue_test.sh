#!/usr/bin/env bash
# Two `sentinel run` processes sharing one alert queue through a real
# redis-server (queue.backend: redis): an alert raised by A is listed by B,
# an acknowledgement on B is seen by A, and an alert raised while Redis is
# down reaches B after Redis comes back empty.
# Usage: shared_queue_test.sh SENTINEL SOURCE_DIR WORK_DIR
set -euo pipefail
bin=$1 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; for f in "$work"/*.log; do echo "== $f"; tail -20 "$f"; done; exit 1; }
command -v redis-server > /dev/null || fail "redis-server is missing (Debian package redis-server)"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2> /dev/null || true; done; wait 2> /dev/null || true; }
trap cleanup EXIT
start_redis() {
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$work" > "$work/redis.log" 2>&1 &
  redis_pid=$!
  pids+=("$redis_pid")
  for _ in $(seq 1 100); do redis-cli -p "$port" ping 2> /dev/null | grep -q PONG && return; sleep 0.05; done
  fail "redis-server did not start"
}
start_redis

token=$("$bin" tokens add --file "$work/tokens.jsonl" --name it-admin --role admin)
cat > "$work/config.yaml" << EOF2
server: {listen: "127.0.0.1:0", tokens: $work/tokens.jsonl}
queue: {backend: redis, redis: "127.0.0.1:$port", redis_prefix: it, redis_retry: 100ms}
EOF2
start_sentinel() {  # name -> sets url_<name>
  "$bin" run -c "$work/config.yaml" --out "$work/out-$1" > "$work/$1.log" 2>&1 &
  pids+=("$!")
  local url=""
  for _ in $(seq 1 300); do
    url=$(grep -oE 'listening on http://[^ ]+/' "$work/$1.log" | head -n1 | sed 's/^listening on //') || true
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || fail "sentinel $1 did not start"
  eval "url_$1=$url"
}
start_sentinel a
start_sentinel b
auth=(-H "Authorization: Bearer $token")
post() {  # url id lat
  curl -sf "${auth[@]}" -X POST "$1v1/events" -d \
    "{\"specversion\":\"1.0\",\"id\":\"$2\",\"source\":\"sensor\",\"type\":\"sensor.gunshot\",\"time\":\"2026-03-01T22:15:00Z\",\"lat\":$3,\"lon\":-87.6298,\"severity\":\"violent\",\"confidence\":0.9}" > /dev/null \
    || fail "POST $2 to $1"
}
# Waits until `url` lists an alert whose event_ids hold `event`; prints its id.
alert_of() {
  for _ in $(seq 1 200); do
    local body
    body=$(curl -sf "${auth[@]}" "$1v1/alerts?limit=100") || true
    local id
    id=$(echo "$body" | python3 -c "import json,sys; print(next((a['alert_id'] for a in json.load(sys.stdin)['alerts'] if '$2' in a['event_ids']), ''))" 2> /dev/null) || true
    [ -n "$id" ] && { echo "$id"; return; }
    sleep 0.05
  done
}

post "$url_a" g1 41.8790
id=$(alert_of "$url_b" g1)
[ -n "$id" ] || fail "the alert raised by A never reached B"
curl -sf "${auth[@]}" -X POST "${url_b}v1/alerts/$id/ack" > /dev/null || fail "ack on B"
acked=""
for _ in $(seq 1 200); do
  acked=$(curl -sf "${auth[@]}" "${url_a}v1/alerts/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["acked_by"] or "")') || true
  [ "$acked" = it-admin ] && break
  sleep 0.05
done
[ "$acked" = it-admin ] || fail "B's acknowledgement never reached A (acked_by '$acked')"

# Redis dies; A raises an alert; B's stats show the outage; Redis returns empty.
kill -9 "$redis_pid"; wait "$redis_pid" 2> /dev/null || true
sleep 0.5
curl -sf "${auth[@]}" "${url_b}v1/stats" | grep '"connected":false' > /dev/null || fail "B does not show the outage"
post "$url_a" g2 41.9300
start_redis
id2=$(alert_of "$url_b" g2)
[ -n "$id2" ] || fail "the alert raised during the outage never reached B"
curl -sf "${auth[@]}" "${url_b}v1/stats" | grep '"connected":true' > /dev/null || fail "B still shows the outage"
echo "shared_queue_test: OK (alert $id shared and acknowledged across processes; $id2 survived a Redis restart)"
