#!/usr/bin/env bash
# Proves the README's start command: `npm start` with no DATABASE_URL comes up on the embedded
# PostgreSQL with the demo inventory, answers a GraphQL query, and stops cleanly on Ctrl-C (SIGINT).
set -euo pipefail
cd "$(dirname "$0")/.."
data_dir=$(mktemp -d /tmp/smi-smoke-XXXXXX)
chmod 755 "$data_dir" # the embedded server runs as the postgres user when we are root
port=$(( 40000 + RANDOM % 10000 ))
pg_port=$(( 50000 + RANDOM % 10000 ))
log="$data_dir/start.log"
: >"$log" # exists before the first grep below, whoever runs first
# Its own process group, so that SIGINT reaches npm and node together, as Ctrl-C in a terminal does.
set -m
t_start=$(date +%s)
PORT=$port DATA_DIR="$data_dir/data" EMBEDDED_PG_PORT=$pg_port npm start >"$log" 2>&1 &
pid=$!
set +m
cleanup() { kill -INT -- "-$pid" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 180); do
  grep -q "smi-gateway ready" "$log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "npm start exited early"; exit 1; }
  sleep 1
done
grep -q "smi-gateway ready" "$log" || { cat "$log"; echo "npm start not ready in 180s"; exit 1; }
echo "npm start ready after $(( $(date +%s) - t_start ))s (build, initdb, migrations, demo data)"
auth=$(grep -m1 -o 'DCC *key: *[^ ]*' "$log" | awk '{print $NF}' || true)
body=$(curl -sf "http://127.0.0.1:$port/graphql" -H 'content-type: application/json' \
  ${auth:+-H "authorization: Bearer $auth"} \
  -d '{"query":"{ serviceFlagCounts { serviceFlag count } }"}')
echo "$body"
echo "$body" | grep -q '"serviceFlag":"A"' || { cat "$log"; echo "unexpected answer"; exit 1; }
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null
kill -INT -- "-$pid"
trap - EXIT
for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
if kill -0 "$pid" 2>/dev/null; then echo "npm start did not stop on SIGINT"; exit 1; fi
if pgrep -f "postgres -D $data_dir" >/dev/null; then echo "embedded PostgreSQL left running"; exit 1; fi
rm -rf "$data_dir"
echo "smoke: npm start OK"
