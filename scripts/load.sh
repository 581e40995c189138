#!/usr/bin/env bash
# Load test of the request gate: normal traffic's latency alone, then with
# abusive clients (50 clients in all). Starts its own server on 127.0.0.1
# (the release build), never targets another host, runs a bounded time.
#
#   scripts/load.sh                 # 20 s per phase
#   DURATION=10 scripts/load.sh     # at most 120 s per phase
#
# Needs wrk (Debian: apt-get install wrk). Prints NORMAL … p99_ms=… lines.
set -euo pipefail

cd "$(dirname "$0")/.."
DURATION=${DURATION:-20}
if ! [[ "$DURATION" =~ ^[0-9]+$ ]] || (( DURATION < 1 || DURATION > 120 )); then
  echo "DURATION must be 1..120 seconds" >&2; exit 2
fi
NORMAL_CLIENTS=${NORMAL_CLIENTS:-25}
ABUSIVE_CLIENTS=${ABUSIVE_CLIENTS:-25}
PORT=${PORT:-18080}
HOST=127.0.0.1
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

# X-Forwarded-For from 127.0.0.1 is believed, so each simulated client has
# its own budget key (wrk itself connects from 127.0.0.1).
DATA_DIR="$DATA" LOG=warn TRUSTED_PROXIES=127.0.0.1 BIND_ADDR="$HOST:$PORT" start_server
echo "== warm-up (3 s)"
wrk -t1 -c4 -d3s -s scripts/load/normal.lua "$URL" >/dev/null

echo "== phase 1: $NORMAL_CLIENTS normal clients alone, ${DURATION}s"
wrk -t1 -c"$NORMAL_CLIENTS" -d"${DURATION}s" --timeout 10s -s scripts/load/normal.lua "$URL" | grep -E "^NORMAL|Requests/sec"

echo "== phase 2: $NORMAL_CLIENTS normal + $ABUSIVE_CLIENTS abusive clients, ${DURATION}s"
ABUSIVE_OUT=$(mktemp)
wrk -t1 -c"$ABUSIVE_CLIENTS" -d"$((DURATION + 2))s" --timeout 15s -s scripts/load/abusive.lua "$URL" >"$ABUSIVE_OUT" &
ABUSIVE_PID=$!
sleep 1
wrk -t1 -c"$NORMAL_CLIENTS" -d"${DURATION}s" --timeout 10s -s scripts/load/normal.lua "$URL" | grep -E "^NORMAL|Requests/sec"
wait "$ABUSIVE_PID" || true
grep -E "^ABUSIVE|Requests/sec" "$ABUSIVE_OUT" | sed 's/^/  /'
rm -f "$ABUSIVE_OUT"
