#!/usr/bin/env bash
# bench/scale/run.sh (issue 12): measures the issue's figures on a data directory made by
# bench/scale, each next to its baseline measured in the same run.
#
#   build/bench/scale --events 1000000 --out /tmp/scale-1m     # generate (once)
#   bash bench/scale/run.sh /tmp/scale-1m [FIGURE]...            # measure
#
# FIGURE (default: all, in this order; later ones need the server the earlier ones started):
#   rebuild   `vaxledger projections rebuild --data DIR` under /usr/bin/time -v: events/s, max RSS
#   disk      du of DIR/log and DIR/views, per event
#   startup   serve's start to /readyz ready (curl in a tight loop): the first start after the
#             rebuild, then after a clean stop (SIGTERM; the stop is timed too); idle VmRSS
#   http      with the server running: GET a patient's history (its read trail recorded) against
#             nginx serving the same body as a static file, the same GET ?as_of= now (replayed
#             from the patient's stream in the log and decrypted), then POST a vaccination
#             (bench/http/post_vaccination.lua), wrk with 64 connections each; serve's VmRSS
#             sampled every 0.2 s during the load, and VmHWM
#   crash     after the http load: a clean stop and start; then 5 s of POSTs, kill -9 the server,
#             how far the views lag the log, restart to /readyz; then a clean stop and start again
#   append    build/bench/append_bench --appenders 64 (the log alone, with the checkpoint file as
#             serve runs it)
#   pg        PostgreSQL 15 (Debian's), a private cluster in a temporary directory run by the
#             `postgres` user (or `nobody`), synchronous_commit=on: pgbench with 64 clients, one
#             event per transaction into an event-store table (position bigserial, stream,
#             version, type, payload jsonb, signature bytea; unique (stream, version))
#   all       every figure above, then the ratios
#
# Environment: BUILD_DIR (default build), SECONDS_RUN (wrk/pgbench seconds, default 20),
# PORT (default 18191), CONNECTIONS (default 64). Needs: wrk, nginx-light, postgresql-15, curl
# (`bash tools/dev.sh bench-deps`). The server runs with a development identity provider
# (DIR/idp-dev.key, created here) and logs in as the physician named in DIR/bench-scale.env.
# Lines starting with "figure:" are the results; everything else is detail.
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=${1:?usage: bench/scale/run.sh DIR [FIGURE]...}
shift
FIGURES=${*:-all}
BUILD_DIR=${BUILD_DIR:-build}
BIN=$BUILD_DIR/tools/vaxledger
SECONDS_RUN=${SECONDS_RUN:-20}
PORT=${PORT:-18191}
NGINX_PORT=$((PORT + 1))
PG_PORT=$((PORT + 2))
CONNECTIONS=${CONNECTIONS:-64}
WORK=$(mktemp -d /tmp/vaxledger-scale-run-XXXXXX)
SERVER_PID=
# shellcheck disable=SC1091
source "$DIR/bench-scale.env"

cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  if [ -f "$WORK/pg/data/postmaster.pid" ]; then
    runuser -u "$(stat -c %U "$WORK/pg")" -- pg_ctl -D "$WORK/pg/data" -m fast stop > /dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

wants() { [[ " $FIGURES " == *" all "* || " $FIGURES " == *" $1 "* ]]; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
events() { "$BIN" ledger status --data "$DIR" | awk '$1 == "events" { print $2 }'; }
kib_of() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$SERVER_PID/status"; }
gib() { awk -v k="$1" 'BEGIN { printf "%.2f GiB", k / 1048576 }'; }

# Starts serve and waits for /readyz; sets TOOK to the seconds it took.
start_server() {
  local t0
  t0=$(now)
  "$BIN" serve --data "$DIR" --listen 127.0.0.1:$PORT --idp-vkey "$IDP_VKEY" \
    > "$WORK/serve.out" 2> "$WORK/serve.err" &
  SERVER_PID=$!
  until curl -sf -o /dev/null http://127.0.0.1:$PORT/readyz; do
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "serve exited:" >&2; tail -5 "$WORK/serve.err" >&2; exit 1; }
    sleep 0.01
  done
  TOOK=$(since "$t0")
  STARTED_AT=$(curl -sf http://127.0.0.1:$PORT/readyz | sed 's/.*"log_size":\([0-9]*\).*/\1/')
}

stop_server() {  # SIGTERM, waits; sets TOOK to the seconds the stop took
  local t0
  t0=$(now)
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || true
  SERVER_PID=
  TOOK=$(since "$t0")
}

login() {
  local assertion
  assertion=$("$BIN" idp issue --data "$DIR" --insz "$SCALE_PHYSICIAN")
  TOKEN=$(curl -sf -X POST http://127.0.0.1:$PORT/v1/sessions -H "Content-Type: application/json" -d "{\"assertion\":\"$assertion\"}" |
    sed 's/.*"token":"\([^"]*\)".*/\1/')
  export TOKEN
}

# Samples serve's VmRSS every 0.2 s into $WORK/rss until stopped; prints the largest (KiB).
sample_rss_start() {
  : > "$WORK/rss"
  (while kill -0 "$SERVER_PID" 2>/dev/null; do kib_of VmRSS >> "$WORK/rss" || true; sleep 0.2; done) &
  SAMPLER_PID=$!
}
sample_rss_stop() {
  kill "$SAMPLER_PID" 2>/dev/null || true
  wait "$SAMPLER_PID" 2>/dev/null || true
  sort -n "$WORK/rss" | tail -1
}

wrk_run() {  # name, wrk arguments...; prints requests/s
  local name=$1 out rps p99 errors
  shift
  out=$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency "$@")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  errors=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  printf '  %-36s %10s req/s  p99 %8s  non-2xx %s\n' "$name" "$rps" "$p99" "${errors:-0}" |
    tee -a "$WORK/wrk.log" >&2
  echo "$rps"
}

EVENTS=$(events)
echo "data directory $DIR: $EVENTS events; $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB;" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"

if wants rebuild; then
  /usr/bin/time -v "$BIN" projections rebuild --data "$DIR" > "$WORK/rebuild.out" 2> "$WORK/rebuild.err"
  rate=$(sed -n 's/.* events in .* s (\([0-9]*\) events\/s).*/\1/p' "$WORK/rebuild.out")
  secs=$(sed -n 's/.* events in \([0-9.]*\) s (.*/\1/p' "$WORK/rebuild.out")
  rss=$(awk '/Maximum resident set size/ {print $6}' "$WORK/rebuild.err")
  echo "figure: rebuild of every view: $EVENTS events in $secs s = $rate events/s, max RSS $(gib "$rss")"
  REBUILD_RATE=$rate
fi

disk() {
  local log views
  log=$(du -sb "$DIR/log" | cut -f1)
  views=$(du -sb "$DIR/views" 2>/dev/null | cut -f1 || echo 0)
  EVENTS=$(events)
  awk -v l="$log" -v v="$views" -v n="$EVENTS" -v w="$1" 'BEGIN {
    printf "figure: disk %s: log %.0f MB + views %.0f MB for %d events = %.0f + %.0f = %.0f bytes/event\n",
      w, l / 1e6, v / 1e6, n, l / n, v / n, (l + v) / n }'
}
wants disk && disk "after the rebuild"

if wants startup || wants http || wants crash; then
  # The development identity provider's key; its verifier key is kept beside it (bench only).
  if [ ! -f "$DIR/idp-dev.key" ] || [ ! -f "$DIR/bench-idp.vkey" ]; then
    rm -f "$DIR/idp-dev.key"
    "$BIN" idp init --data "$DIR" | awk '$1 == "vkey" {print $2}' > "$DIR/bench-idp.vkey"
  fi
  IDP_VKEY=$(cat "$DIR/bench-idp.vkey")
fi

if wants startup; then
  start_server; first=$TOOK
  idle1=$(kib_of VmRSS)
  echo "figure: start-up to /readyz, first start after the rebuild: $first s; VmRSS idle $(gib "$idle1")"
  login
  stop_server; stop=$TOOK
  start_server; clean=$TOOK
  sleep 1
  idle2=$(kib_of VmRSS)
  echo "figure: start-up to /readyz after a clean stop (SIGTERM, which took $stop s): $clean s; VmRSS idle $(gib "$idle2")"
fi

if wants http; then
  [ -n "$SERVER_PID" ] || start_server
  [ -n "${TOKEN:-}" ] || login
  curl -sf "http://127.0.0.1:$PORT/v1/patients/$SCALE_PATIENT" -H "Authorization: Bearer $TOKEN" \
    > "$WORK/patient.json"
  size=$(wc -c < "$WORK/patient.json")
  mkdir -p "$WORK/www"
  cp "$WORK/patient.json" "$WORK/www/patient.json"
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
  chmod a+rx "$WORK" "$WORK/www" && chmod a+r "$WORK/www/patient.json"  # workers are www-data
  nginx -c "$WORK/nginx.conf"
  echo "  patient history body: $size bytes ($(grep -o '"product"' "$WORK/patient.json" | wc -l) vaccinations)"
  NGINX_RPS=$(wrk_run "nginx static body" "http://127.0.0.1:$NGINX_PORT/patient.json")
  kill "$(cat "$WORK/nginx.pid")"; rm -f "$WORK/nginx.pid"
  sample_rss_start
  GET_RPS=$(wrk_run "GET patient history" -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$PORT/v1/patients/$SCALE_PATIENT")
  # The same record as of now: replayed from the patient's stream in the log, every personal
  # part opened with the patient's data key (issue 16), instead of read from the views.
  AS_OF=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  ASOF_RPS=$(wrk_run "GET patient history ?as_of=" -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$PORT/v1/patients/$SCALE_PATIENT?as_of=$AS_OF")
  # A registration date no earlier run used (one per minute, within the last 300 days), so that
  # no POST is a duplicate of an earlier run's on the same directory (409).
  POST_DATE=$(date -u -d "-$(( $(date +%s) / 60 % 300 + 1 )) days" +%F)
  export POST_DATE
  POST_RPS=$(wrk_run "POST vaccination (durable)" -s bench/http/post_vaccination.lua \
    "http://127.0.0.1:$PORT")
  POST_ERRORS=$(awk '/POST vaccination/ {print $NF}' "$WORK/wrk.log")
  load=$(sample_rss_stop)
  hwm=$(kib_of VmHWM)
  echo "figure: GET a patient's history ($size bytes, $CONNECTIONS connections): $GET_RPS/s; nginx, same body: $NGINX_RPS/s; ratio $(awk -v a="$GET_RPS" -v b="$NGINX_RPS" 'BEGIN {printf "%.2f", a / b}') x (target >= 0.5)"
  echo "figure: GET a patient's history as of now (replayed from the log and decrypted): $ASOF_RPS/s; from the views: $GET_RPS/s; ratio $(awk -v a="$ASOF_RPS" -v b="$GET_RPS" 'BEGIN {printf "%.2f", a / b}') x"
  echo "figure: POST a vaccination, durable, $CONNECTIONS connections: $POST_RPS/s (date $POST_DATE; non-2xx: $POST_ERRORS)"
  echo "figure: serve VmRSS under load (max of samples every 0.2 s): $(gib "$load"); VmHWM $(gib "$hwm")"
fi

if wants crash; then
  if [ -n "$SERVER_PID" ] && [ -n "${POST_RPS:-}" ]; then
    # Right after the load: a clean stop (which may verify what the run appended) and a start.
    stop_server; stop=$TOOK
    start_server; clean=$TOOK
    echo "figure: start-up to /readyz after a clean stop right after the load (SIGTERM took $stop s): $clean s"
  fi
  [ -n "$SERVER_PID" ] || start_server
  [ -n "${TOKEN:-}" ] || login
  # A tail for the crash to leave behind: 5 s of POSTs, then kill -9.
  POST_DATE=$(date -u -d "-$(( $(date +%s) / 60 % 300 + 2 )) days" +%F) SECONDS_RUN=5 \
    wrk_run "POST vaccination before kill -9" -s bench/http/post_vaccination.lua \
    "http://127.0.0.1:$PORT" > /dev/null
  at_kill=$(curl -sf http://127.0.0.1:$PORT/readyz | sed 's/.*"log_size":\([0-9]*\).*/\1/')
  tail_events=$((at_kill - STARTED_AT))  # appended since the last start: verified at the next one
  kill -9 "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
  "$BIN" projections status --data "$DIR" | sed 's/^/  /'
  start_server; crash=$TOOK
  idle=$(kib_of VmRSS)
  echo "figure: start-up to /readyz after kill -9 (log at $at_kill events, $tail_events of them appended since the previous start and verified at this one; views behind as listed above): $crash s; VmRSS $(gib "$idle")"
  stop_server; stop=$TOOK
  start_server; clean=$TOOK
  echo "figure: start-up to /readyz after a clean stop (SIGTERM took $stop s), after the restart: $clean s"
  stop_server
  wants disk && disk "after the load"
fi

if [ -n "$SERVER_PID" ]; then stop_server; fi

if wants append; then
  out=$("$BUILD_DIR/bench/append_bench" --seconds 10 --appenders "$CONNECTIONS" --checkpoint-file 1 \
    --dir "$WORK/append")
  echo "$out" | sed 's/^/  /'
  APPEND_RATE=$(echo "$out" | awk -v c="$CONNECTIONS" '$1 == c {print $2}')
  echo "figure: the log's own append rate, $CONNECTIONS appenders, durable: $APPEND_RATE events/s"
fi

if wants pg; then
  mkdir -p "$WORK/pg"
  PG_USER=postgres
  id -u postgres > /dev/null 2>&1 || PG_USER=nobody
  chown "$PG_USER" "$WORK/pg"
  chmod a+rx "$WORK"
  PGBIN=$(ls -d /usr/lib/postgresql/15/bin)
  as_pg() { runuser -u "$PG_USER" -- "$@"; }
  as_pg "$PGBIN/initdb" -D "$WORK/pg/data" -A trust -U bench > "$WORK/pg/initdb.log"
  as_pg "$PGBIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/server.log" -w \
    -o "-p $PG_PORT -k $WORK/pg -c listen_addresses='' -c synchronous_commit=on -c fsync=on -c max_connections=200 -c shared_buffers=512MB" \
    start > /dev/null
  psql_() { psql -X -q -h "$WORK/pg" -p "$PG_PORT" -U bench -d postgres "$@"; }
  psql_ -c "CREATE TABLE events (position bigserial PRIMARY KEY, stream text NOT NULL,
    version bigint NOT NULL, type text NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(),
    payload jsonb NOT NULL, signature bytea NOT NULL, UNIQUE (stream, version))"
  # One event per transaction, the stream's next version read in the same statement (as an
  # event store appends); the payload is a vaccination.registered event of this registry.
  payload='{"vaccination_id":"v123456-987654","patient":"f72148d3dc1ea929f14254765af39bed","product":"EU/1/20/1528","lot":"FK1017","dose":2,"date":"2021-05-20","performer":"9b1c0e5d2a7f4e3b8c6d1a2b3c4d5e6f","consent":{"decision":"given","date":"2021-05-20","by":"9b1c0e5d2a7f4e3b8c6d1a2b3c4d5e6f"},"actor":"9b1c0e5d2a7f4e3b8c6d1a2b3c4d5e6f","actor_role":"physician","entity":"ent123","personal":{"insz":"85073003328"}}'
  cat > "$WORK/pg/insert.sql" <<SQL
\set s random(1, 1000000000)
INSERT INTO events (stream, version, type, payload, signature)
  SELECT 'patient:' || :s, coalesce(max(version), 0) + 1, 'vaccination.registered',
         '$payload'::jsonb, decode(repeat('ab', 96), 'hex')
  FROM events WHERE stream = 'patient:' || :s;
SQL
  chmod a+r "$WORK/pg/insert.sql"
  out=$(pgbench -n -h "$WORK/pg" -p "$PG_PORT" -U bench -c "$CONNECTIONS" -j 2 -T "$SECONDS_RUN" \
    -f "$WORK/pg/insert.sql" postgres 2>&1)
  echo "$out" | grep -E 'latency average|tps|failed' | sed 's/^/  /'
  rows=$(psql_ -At -c "SELECT count(*) FROM events")
  row_bytes=$(psql_ -At -c "SELECT avg(pg_column_size(e.*))::int FROM events e")
  PG_RATE=$(echo "$out" | awk '/^tps/ {print $3; exit}')
  echo "figure: PostgreSQL 15, $CONNECTIONS pgbench clients, synchronous_commit=on: $PG_RATE events/s ($rows rows of $row_bytes bytes)"
  as_pg "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m fast stop > /dev/null
fi

if [ -n "${POST_RPS:-}" ]; then
  [ -n "${APPEND_RATE:-}" ] && echo "figure: POST / the log's append rate: $(awk -v a="$POST_RPS" -v b="$APPEND_RATE" 'BEGIN {printf "%.2f", a / b}') x (target >= 0.5)"
  [ -n "${PG_RATE:-}" ] && echo "figure: POST / PostgreSQL: $(awk -v a="$POST_RPS" -v b="$PG_RATE" 'BEGIN {printf "%.2f", a / b}') x (target > 1)"
fi
[ -n "${REBUILD_RATE:-}" ] && echo "figure: rebuild $REBUILD_RATE events/s (target >= 300000)"
echo "load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
