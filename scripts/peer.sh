#!/usr/bin/env bash
# kaohe beside PostGraphile (issue 18), both over the same PostgreSQL database
# that `kaohe seed-bench 1000` fills, at CLIENTS (50) wrk clients, DURATION (8)
# seconds each:
#   ceiling      `{ __typename }`
#   units        100 units of an organisation with totalCount
#   units-org    the same with each unit's organisation name
# kaohe computes every answer (`Cache-Control: no-cache`); its cached answer to
# `units` is measured too. Prints each RESULT line and kaohe / PostGraphile.
#
# PostGraphile 4.14.1 is installed with npm into PEER_DIR (a temporary folder
# unless given; give one to keep it between runs). Both servers listen on
# 127.0.0.1 only; the script stops both.
#
#   scripts/peer.sh
#   SKIP_BUILD=1 PEER_DIR=$HOME/.cache/kaohe-peer DURATION=8 scripts/peer.sh
#
# Needs wrk, psql, node and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-8}
CLIENTS=${CLIENTS:-50}
UNITS=${UNITS:-1000}
PORT=${PORT:-18083}
PEER_PORT=${PEER_PORT:-18084}
PG=${KAOHE_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
POSTGRAPHILE_VERSION=4.14.1
HOST=127.0.0.1
if ! [[ "$DURATION" =~ ^[0-9]+$ ]] || (( DURATION < 1 || DURATION > 120 )); then
  echo "DURATION must be 1..120 seconds" >&2; exit 2
fi
command -v npm >/dev/null || { echo "npm is missing" >&2; exit 2; }
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

PEER_DIR=${PEER_DIR:-$DATA/postgraphile}
if [[ ! -x "$PEER_DIR/node_modules/.bin/postgraphile" ]]; then
  echo "== installing postgraphile@$POSTGRAPHILE_VERSION into $PEER_DIR"
  mkdir -p "$PEER_DIR"
  npm install --silent --no-audit --no-fund --prefix "$PEER_DIR" "postgraphile@$POSTGRAPHILE_VERSION" >/dev/null
fi
PEER_PID=
stop_peer() { if [[ -n "$PEER_PID" ]]; then kill "$PEER_PID" 2>/dev/null || true; wait "$PEER_PID" 2>/dev/null || true; fi; }
trap 'stop_peer; cleanup' EXIT

bench_env
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS kaohe_peer" -qc "CREATE DATABASE kaohe_peer" >/dev/null
export DATABASE_URL="$PG/kaohe_peer"

echo "== preparing $UNITS units and a published run (PostgreSQL)"
"$BIN" seed-bench "$UNITS" >/dev/null
# Fresh rows (seed-bench analysed them): vacuumed now, so autovacuum does not
# do it in the middle of a measurement, and index-only scans see them visible.
psql "$DATABASE_URL" -qc "VACUUM" >/dev/null
ORG_ID=$(psql "$DATABASE_URL" -Atc "SELECT id FROM organisation WHERE code = 'xuchang'")

start_server
"$PEER_DIR/node_modules/.bin/postgraphile" -c "$DATABASE_URL" -s public -n "$HOST" -p "$PEER_PORT" \
  --disable-query-log >"$DATA/postgraphile.log" 2>&1 &
PEER_PID=$!
PEER_URL="http://$HOST:$PEER_PORT"
for _ in $(seq 1 100); do
  curl -fs "$PEER_URL/graphql" -H 'Content-Type: application/json' -d '{"query":"{ __typename }"}' >/dev/null 2>&1 && break
  sleep 0.2
done

TOKEN=$(login xc-admin)
[[ -n "$TOKEN" ]] || { echo "login failed" >&2; exit 1; }

B="$DATA/bodies"
mkdir -p "$B"
echo '{"query":"{ __typename }"}' >"$B/ceiling.json"
echo '{"query":"{ organisation(code: \"xuchang\") { units(first: 100) { totalCount edges { node { id code name } } } } }"}' >"$B/units.json"
echo '{"query":"{ organisation(code: \"xuchang\") { units(first: 100) { totalCount edges { node { id code name organisation { name } } } } } }"}' >"$B/units-org.json"
echo "{\"query\":\"{ allUnits(condition: { organisationId: \\\"$ORG_ID\\\" }, first: 100, orderBy: ID_ASC) { totalCount nodes { id code name } } }\"}" >"$B/peer-units.json"
echo "{\"query\":\"{ allUnits(condition: { organisationId: \\\"$ORG_ID\\\" }, first: 100, orderBy: ID_ASC) { totalCount nodes { id code name organisationByOrganisationId { name } } } }\"}" >"$B/peer-units-org.json"

# Every body answers 100 rows without errors before it is measured.
check() { # url, token, body
  local out
  out=$(curl -fs "$1/graphql" -H 'Content-Type: application/json' ${2:+-H "Authorization: Bearer $2"} -d @"$3")
  if grep -q '"errors"' <<<"$out"; then echo "$3 answers errors: ${out:0:400}" >&2; exit 1; fi
}
for q in units units-org; do check "$URL" "$TOKEN" "$B/$q.json"; check "$PEER_URL" "" "$B/peer-$q.json"; done

run() { # name, url, token, body, no-cache
  sleep 2 # the previous run's server settles (Node's collector, sockets closing)
  NAME=$1 TOKEN=$3 BODY_FILE=$4 NO_CACHE=$5 wrk -t1 -c4 -d2s -s scripts/load/query.lua "$2" >/dev/null
  NAME=$1 TOKEN=$3 BODY_FILE=$4 NO_CACHE=$5 \
    wrk -t2 -c"$CLIENTS" -d"${DURATION}s" --timeout 10s -s scripts/load/query.lua "$2" | grep '^RESULT'
}
rps() { sed -n 's/.* rps=\([0-9]*\).*/\1/p' <<<"$1"; }
ratio() { awk -v a="$(rps "$1")" -v b="$(rps "$2")" 'BEGIN { printf "%.2f", a / b }'; }

echo "== $CLIENTS clients, ${DURATION}s each"
K_CEIL=$(run kaohe-ceiling "$URL" "" "$B/ceiling.json" 0)
P_CEIL=$(run postgraphile-ceiling "$PEER_URL" "" "$B/ceiling.json" 0)
K_UNITS=$(run kaohe-units-computed "$URL" "$TOKEN" "$B/units.json" 1)
P_UNITS=$(run postgraphile-units "$PEER_URL" "" "$B/peer-units.json" 0)
K_ORG=$(run kaohe-units-org-computed "$URL" "$TOKEN" "$B/units-org.json" 1)
P_ORG=$(run postgraphile-units-org "$PEER_URL" "" "$B/peer-units-org.json" 0)
K_CACHED=$(run kaohe-units-cached "$URL" "$TOKEN" "$B/units.json" 0)
printf '%s\n' "$K_CEIL" "$P_CEIL" "$K_UNITS" "$P_UNITS" "$K_ORG" "$P_ORG" "$K_CACHED"
echo "ratio kaohe/PostGraphile: ceiling $(ratio "$K_CEIL" "$P_CEIL")×, units+totalCount $(ratio "$K_UNITS" "$P_UNITS")× (target ≥ 3), units+organisation $(ratio "$K_ORG" "$P_ORG")× (target ≥ 3)"
echo "kaohe cached units / kaohe ceiling: $(awk -v a="$(rps "$K_CACHED")" -v b="$(rps "$K_CEIL")" 'BEGIN { printf "%.0f%%", 100 * a / b }') (target ≥ 50%)"
echo "kaohe resident memory: $(( $(ps -o rss= -p "$SERVER_PID") / 1024 )) MiB"
