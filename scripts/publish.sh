#!/usr/bin/env bash
# publishRun of a monthly run over UNITS (1,000) units, timed through the API
# (issue 18: under 1 s on both databases). Prepares the units with
# `kaohe seed-bench`, opens a 2026-11 run of 许昌's rubric over all of them,
# records one observation per unit, then times `publishRun` (curl's total).
# Starts its own server on 127.0.0.1 (the release build).
#
#   scripts/publish.sh                 # SQLite in a temp folder
#   DB=postgres scripts/publish.sh     # a fresh database kaohe_publish
set -euo pipefail
cd "$(dirname "$0")/.."

UNITS=${UNITS:-1000}
PORT=${PORT:-18085}
DB=${DB:-sqlite}
PG=${KAOHE_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
HOST=127.0.0.1
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

bench_env
if [[ "$DB" == postgres ]]; then
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS kaohe_publish" -qc "CREATE DATABASE kaohe_publish" >/dev/null
  export DATABASE_URL="$PG/kaohe_publish"
fi
echo "== preparing $UNITS units ($DB)"
"$BIN" seed-bench "$UNITS" >/dev/null
start_server
TOKEN=$(login xc-admin)
[[ -n "$TOKEN" ]] || { echo "login failed" >&2; exit 1; }

# Every bench unit's id, a page of 100 at a time.
IDS=() AFTER=null
while :; do
  page=$(gql "$TOKEN" "{\"query\":\"query(\$a: String) { organisation(code: \\\"xuchang\\\") { units(first: 100, after: \$a, search: \\\"bench-\\\") { pageInfo { hasNextPage endCursor } edges { node { id } } } } }\",\"variables\":{\"a\":$AFTER}}")
  mapfile -t got < <(grep -o '"id":"[^"]*"' <<<"$page" | cut -d'"' -f4)
  IDS+=("${got[@]}")
  grep -q '"hasNextPage":true' <<<"$page" || break
  AFTER="\"$(sed -n 's/.*"endCursor":"\([^"]*\)".*/\1/p' <<<"$page")\""
done
(( ${#IDS[@]} == UNITS )) || { echo "found ${#IDS[@]} bench units, expected $UNITS" >&2; exit 1; }
VERSION=$(gql "$TOKEN" '{"query":"{ organisation(code: \"xuchang\") { rubrics(first: 1) { edges { node { currentVersion { id } } } } } }"}' |
  sed -n 's/.*"currentVersion":{"id":"\([^"]*\)".*/\1/p')
LIST=$(printf '"%s",' "${IDS[@]}"); LIST="[${LIST%,}]"
OPENED=$(gql "$TOKEN" "{\"query\":\"mutation(\$i: OpenScoreRunInput!) { openScoreRun(input: \$i) { id version } }\",\"variables\":{\"i\":{\"rubricVersionId\":\"$VERSION\",\"period\":\"2026-11\",\"unitIds\":$LIST,\"title\":\"发布计时\"}}}")
RUN=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' <<<"$OPENED")
[[ -n "$RUN" ]] || { echo "cannot open the run: ${OPENED:0:400}" >&2; exit 1; }
echo "== one observation per unit"
for id in "${IDS[@]}"; do
  gql "$TOKEN" "{\"query\":\"mutation(\$i: RecordObservationInput!) { recordObservation(input: \$i) { id } }\",\"variables\":{\"i\":{\"runId\":\"$RUN\",\"unitId\":\"$id\",\"ruleCode\":\"2.1-1\",\"facts\":{\"points\":\"5\"}}}}" >/dev/null
done
VERSION_NOW=$(gql "$TOKEN" "{\"query\":\"{ scoreRun(id: \\\"$RUN\\\") { version } }\"}" | sed -n 's/.*"version":\([0-9]*\).*/\1/p')
echo "== publishRun of $UNITS units"
OUT=$(curl -fs -o "$DATA/published.json" -w '%{time_total}' "$URL/graphql" -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $TOKEN" \
  -d "{\"query\":\"mutation { publishRun(runId: \\\"$RUN\\\", expectedVersion: $VERSION_NOW) { status } }\"}")
grep -q '"PUBLISHED"' "$DATA/published.json" || { echo "publishRun answered: $(head -c 400 "$DATA/published.json")" >&2; exit 1; }
echo "RESULT publishRun units=$UNITS db=$DB seconds=$OUT"
