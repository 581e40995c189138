#!/usr/bin/env bash
# Query throughput (issue 4): the release server on SQLite or PostgreSQL
# answering, at 50 concurrent clients,
#   ceiling  `{ __typename }` (the framework's own ceiling),
#   dept     a department head's typical query: a run → its sections →
#            indicators → one unit's observations,
#   ranking  the 月讲评 ranking of 1,000 units (monthlyRanking, as the integration).
# dept and ranking run twice: as sent (repeated answers come from the response
# cache until a write) and `-uncached` (Cache-Control: no-cache: every request
# runs the query, as right after a write).
# Starts its own server on 127.0.0.1, never another host; bounded time.
#
#   scripts/bench.sh                          # SQLite in a temp folder
#   DB=postgres scripts/bench.sh              # a fresh database kaohe_bench on KAOHE_BENCH_PG
#   DURATION=10 CLIENTS=50 SKIP_BUILD=1 scripts/bench.sh
#
# Needs wrk (apt-get install wrk) and, for DB=postgres, psql.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15}
CLIENTS=${CLIENTS:-50}
UNITS=${UNITS:-1000}
PORT=${PORT:-18081}
DB=${DB:-sqlite}
PG=${KAOHE_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
HOST=127.0.0.1
if ! [[ "$DURATION" =~ ^[0-9]+$ ]] || (( DURATION < 1 || DURATION > 120 )); then
  echo "DURATION must be 1..120 seconds" >&2; exit 2
fi
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

bench_env
seed_bench kaohe_bench

start_server
DEPT_TOKEN=$(login xc-mishuke)
INTEGRATION_TOKEN=$(login xc-yuejiangping)
[[ -n "$DEPT_TOKEN" && -n "$INTEGRATION_TOKEN" ]] || { echo "login failed" >&2; exit 1; }

BODIES="$DATA/bodies"
mkdir -p "$BODIES"
echo '{"query":"{ __typename }"}' >"$BODIES/ceiling.json"
dept_body "$BODIES/dept.json"
echo '{"query":"{ monthlyRanking(organisationCode: \"xuchang\", period: \"2026-10\") { rank finalScore base bonus penalty unit { code name } sections { code score weighted } } }"}' >"$BODIES/ranking.json"

# Every body must answer without errors before it is measured.
for q in "ceiling:" "dept:$DEPT_TOKEN" "ranking:$INTEGRATION_TOKEN"; do
  name=${q%%:*}; token=${q#*:}
  out=$(curl -fs "$URL/graphql" -H 'Content-Type: application/json' ${token:+-H "Authorization: Bearer $token"} -d @"$BODIES/$name.json")
  if grep -q '"errors"' <<<"$out"; then echo "$name answers errors: ${out:0:400}" >&2; exit 1; fi
done

run() {
  export NAME=$1 TOKEN=$2 BODY_FILE="$BODIES/${1%-uncached}.json" NO_CACHE=0
  if [[ "$1" == *-uncached ]]; then NO_CACHE=1; fi
  wrk -t1 -c4 -d2s -s scripts/load/query.lua "$URL" >/dev/null
  wrk -t"$(( CLIENTS < 2 ? 1 : 2 ))" -c"$CLIENTS" -d"${DURATION}s" --timeout 10s -s scripts/load/query.lua "$URL" | grep '^RESULT'
}
echo "== $CLIENTS clients, ${DURATION}s each, $DB"
CEILING=$(run ceiling "")
DEPT=$(run dept "$DEPT_TOKEN")
DEPT_UNCACHED=$(run dept-uncached "$DEPT_TOKEN")
RANKING=$(run ranking "$INTEGRATION_TOKEN")
RANKING_UNCACHED=$(run ranking-uncached "$INTEGRATION_TOKEN")
printf '%s\n' "$CEILING" "$DEPT" "$DEPT_UNCACHED" "$RANKING" "$RANKING_UNCACHED"
rps() { sed -n 's/.* rps=\([0-9]*\).*/\1/p' <<<"$1"; }
echo "dept/ceiling = $(( 100 * $(rps "$DEPT") / $(rps "$CEILING") ))% (uncached $(( 100 * $(rps "$DEPT_UNCACHED") / $(rps "$CEILING") ))%)"
# Resident memory once every run is over (the response cache is bounded by RESPONSE_CACHE_MB).
echo "server resident memory: $(( $(ps -o rss= -p "$SERVER_PID") / 1024 )) MiB"
