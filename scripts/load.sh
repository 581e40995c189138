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
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }

TARGET_DIR=${CARGO_TARGET_DIR:-target}
BIN="$TARGET_DIR/release/kaohe"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  cargo build --release -p kaohe-api
fi
[[ -x "$BIN" ]] || { echo "no release binary at $BIN" >&2; exit 2; }

DATA=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$DATA"
}
trap cleanup EXIT

# X-Forwarded-For from 127.0.0.1 is believed, so each simulated client has
# its own budget key (wrk itself connects from 127.0.0.1).
BIND_ADDR="$HOST:$PORT" DATA_DIR="$DATA" LOG=warn TRUSTED_PROXIES=127.0.0.1 "$BIN" &
SERVER_PID=$!
for _ in $(seq 1 100); do
  curl -fs "http://$HOST:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "http://$HOST:$PORT/healthz" >/dev/null || { echo "the server did not start" >&2; exit 1; }

URL="http://$HOST:$PORT"
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
