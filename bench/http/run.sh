#!/usr/bin/env bash
# HTTP benchmark (issue 4): wrk with 32 keep-alive connections against `vaxledger serve --demo`,
# and, in the same run, nginx serving a static JSON body of similar size on loopback.
#
#   bash bench/http/run.sh [SECONDS]      (needs: apt-get install wrk nginx-light curl)
#
# Prints requests/s and latency for: GET an entity's members, GET a patient's vaccinations,
# POST a vaccination (durable), and nginx's static GET; then the ratios to nginx.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_RUN=${1:-10}
BIN=${BUILD_DIR:-build}/tools/vaxledger
WORK=$(mktemp -d /tmp/vaxledger-http-bench-XXXXXX)
PORT=18181
NGINX_PORT=18182
cleanup() {
  [ -n "${SERVER_PID:-}" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" || true
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN" init --data "$WORK/d" --demo > /dev/null
"$BIN" serve --data "$WORK/d" --listen 127.0.0.1:$PORT --demo ${THREADS:+--threads $THREADS} > "$WORK/serve.out" 2> /dev/null &
SERVER_PID=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:$PORT/healthz > /dev/null && break; sleep 0.1; done

json_field() { sed "s/.*\"$1\":\"\([^\"]*\)\".*/\1/"; }
JSON=(-H "Content-Type: application/json")  # the API refuses other bodies (415)
A=$(curl -s -X POST http://127.0.0.1:$PORT/v1/demo/assertion "${JSON[@]}" -d '{"insz":"75031202151"}' | json_field assertion)
TOKEN=$(curl -s -X POST http://127.0.0.1:$PORT/v1/sessions "${JSON[@]}" -d "{\"assertion\":\"$A\"}" | json_field token)
export TOKEN
LOCATION=$(curl -s -D - -o /dev/null -X POST http://127.0.0.1:$PORT/v1/vaccinations \
  -H "Authorization: Bearer $TOKEN" "${JSON[@]}" \
  -d '{"patient":{"insz":"85073003328"},"product":"EU/1/20/1528","lot":"FK5127","dose":1,"date":"2026-11-20","consent":{"decision":"given","date":"2026-11-20"}}' |
  tr -d '\r' | sed -n 's/^Location: //p')
PATIENT=${LOCATION%%/vaccinations/*}
[ -n "$TOKEN" ] && [ -n "$PATIENT" ] || { echo "login or the first registration failed" >&2; exit 1; }

# nginx: a static body as large as the members response.
mkdir -p "$WORK/www"
curl -s http://127.0.0.1:$PORT/v1/entities/demo-linde -H "Authorization: Bearer $TOKEN" > "$WORK/www/members.json"
cat > "$WORK/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / { root $WORK/www; default_type application/json; }
  }
}
CONF
chmod a+rx "$WORK" "$WORK/www" && chmod a+r "$WORK/www/members.json"  # nginx workers are www-data
nginx -c "$WORK/nginx.conf"

run() {  # name, wrk arguments...
  local name=$1; shift
  local out
  out=$(wrk -t2 -c32 -d"${SECONDS_RUN}s" --latency "$@")
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  local errors
  errors=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  printf '%-34s %10s req/s  p99 %8s  non-2xx %s\n' "$name" "$rps" "$p99" "${errors:-0}" >&2
  echo "$rps"
}

echo "body sizes: members $(wc -c < "$WORK/www/members.json") bytes" >&2
NGINX=$(run "nginx static JSON" http://127.0.0.1:$NGINX_PORT/members.json)
MEMBERS=$(run "GET entity members" -H "Authorization: Bearer $TOKEN" http://127.0.0.1:$PORT/v1/entities/demo-linde)
# POSTs before the patient reads: every read appends a patient.read event, and the log and views
# they leave behind would otherwise still be compacting while the POSTs run.
POST=$(run "POST vaccination (durable)" -s bench/http/post_vaccination.lua http://127.0.0.1:$PORT)
PATIENT_RPS=$(run "GET patient vaccinations" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$PATIENT")
awk -v n="$NGINX" -v m="$MEMBERS" -v p="$PATIENT_RPS" -v w="$POST" 'BEGIN {
  printf "GET members / nginx: %.2f x, GET patient / nginx: %.2f x (target >= 0.5)\n", m / n, p / n
  printf "POST vaccination: %.0f/s (target >= 10000/s)\n", w }' >&2
curl -s http://127.0.0.1:$PORT/readyz >&2; echo >&2
"$BIN" ledger status --data "$WORK/d" 2>/dev/null | grep events >&2 || true
