#!/usr/bin/env bash
# Province scale (issue 18): one bureau's readers while other writers write.
#   phase 1  READERS (50) clients of 许昌 (a department head's page, as sent:
#            answers come from the response cache until a write it could see)
#   phase 2  the same readers while WRITERS (20) connections of 城口 each
#            record an observation about 5 times a second (DELAY_MS=200)
# and prints the readers' cache hit rate and p99 in both, and the writers'
# throughput. 城口's writes are its own data: they must not empty 许昌's
# answers (per-organisation data generations), nor make 许昌 wait.
# Starts its own server on 127.0.0.1 (the release build), bounded time.
#
#   scripts/province.sh                        # PostgreSQL: a fresh database kaohe_province
#   DB=sqlite scripts/province.sh
#   DURATION=10 READERS=50 WRITERS=20 SKIP_BUILD=1 scripts/province.sh
#
# Needs wrk and, for PostgreSQL, psql.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15}
READERS=${READERS:-50}
WRITERS=${WRITERS:-20}
UNITS=${UNITS:-1000}
PORT=${PORT:-18082}
DB=${DB:-postgres}
PG=${KAOHE_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
HOST=127.0.0.1
if ! [[ "$DURATION" =~ ^[0-9]+$ ]] || (( DURATION < 1 || DURATION > 120 )); then
  echo "DURATION must be 1..120 seconds" >&2; exit 2
fi
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

export DATA_DIR="$DATA" LOG=warn DEMO_PASSWORD=bench-password-1 BIND_ADDR="$HOST:$PORT"
export RATE_BUDGET=1000000000 RATE_REFILL_PER_HOUR=1000000000
seed_bench kaohe_province

start_server
gql() { # token, body → answer
  curl -fs "$URL/graphql" -H 'Content-Type: application/json' ${1:+-H "Authorization: Bearer $1"} -d "$2"
}
login() {
  gql "" "{\"query\":\"mutation { login(username: \\\"$1\\\", password: \\\"bench-password-1\\\") { accessToken } }\"}" |
    sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p'
}
READER_TOKEN=$(login xc-mishuke)
WRITER_TOKEN=$(login ck-admin)
[[ -n "$READER_TOKEN" && -n "$WRITER_TOKEN" ]] || { echo "login failed" >&2; exit 1; }

# 城口's writers record into an open run of their own.
CK=$(gql "$WRITER_TOKEN" '{"query":"{ organisation(code: \"chengkou\") { units(first: 1) { edges { node { id } } } rubrics(first: 1) { edges { node { currentVersion { id } } } } } }"}')
CK_UNIT=$(sed -n 's/.*"units":{"edges":\[{"node":{"id":"\([^"]*\)".*/\1/p' <<<"$CK")
CK_VERSION=$(sed -n 's/.*"currentVersion":{"id":"\([^"]*\)".*/\1/p' <<<"$CK")
OPENED=$(gql "$WRITER_TOKEN" "{\"query\":\"mutation(\$i: OpenScoreRunInput!) { openScoreRun(input: \$i) { id } }\",\"variables\":{\"i\":{\"rubricVersionId\":\"$CK_VERSION\",\"period\":\"2027\",\"unitIds\":[\"$CK_UNIT\"],\"title\":\"省级压测\"}}}")
CK_RUN=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' <<<"$OPENED")
[[ -n "$CK_RUN" ]] || { echo "cannot open 城口's run: $OPENED" >&2; exit 1; }

BODIES="$DATA/bodies"
mkdir -p "$BODIES"
cat >"$BODIES/reader.json" <<JSON
{"query":"query(\$r: ID!, \$u: ID!) { scoreRun(id: \$r) { title status period rubricVersion { label sections { code title maxPoints weight children { code title maxPoints } } } observations(unitId: \$u, first: 50) { totalCount edges { node { id ruleCode status facts { count points level flag } enteredAt } } } } }","variables":{"r":"$RUN","u":"$UNIT"}}
JSON
cat >"$BODIES/writer.json" <<JSON
{"query":"mutation(\$i: RecordObservationInput!) { recordObservation(input: \$i) { id } }","variables":{"i":{"runId":"$CK_RUN","unitId":"$CK_UNIT","ruleCode":"2.1.1-1","facts":{"count":1}}}}
JSON
for f in reader writer; do
  token=$READER_TOKEN; [[ $f == writer ]] && token=$WRITER_TOKEN
  out=$(gql "$token" "@$BODIES/$f.json")
  if grep -q '"errors"' <<<"$out"; then echo "$f answers errors: ${out:0:400}" >&2; exit 1; fi
done

read_phase() {
  NAME=$1 TOKEN=$READER_TOKEN BODY_FILE="$BODIES/reader.json" \
    wrk -t2 -c"$READERS" -d"${DURATION}s" --timeout 10s -s scripts/load/reader.lua "$URL" | grep '^RESULT'
}
NAME=warm TOKEN=$READER_TOKEN BODY_FILE="$BODIES/reader.json" wrk -t1 -c4 -d2s -s scripts/load/reader.lua "$URL" >/dev/null

echo "== phase 1: $READERS readers of 许昌 alone, ${DURATION}s ($DB)"
ALONE=$(read_phase readers-alone)
echo "$ALONE"

echo "== phase 2: the same readers while $WRITERS connections of 城口 write (DELAY_MS=${DELAY_MS:-200})"
WRITER_OUT="$DATA/writers.out"
TOKEN=$WRITER_TOKEN BODY_FILE="$BODIES/writer.json" DELAY_MS=${DELAY_MS:-200} \
  wrk -t1 -c"$WRITERS" -d"$((DURATION + 2))s" --timeout 10s -s scripts/load/writer.lua "$URL" >"$WRITER_OUT" &
WRITER_PID=$!
sleep 1
BESIDE=$(read_phase readers-with-writers)
wait "$WRITER_PID" || true
echo "$BESIDE"
grep '^WRITER' "$WRITER_OUT"

p99() { sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p' <<<"$1"; }
hit() { sed -n 's/.* hit_pct=\([0-9.]*\).*/\1/p' <<<"$1"; }
echo "readers' hit rate: alone $(hit "$ALONE")%, with writers $(hit "$BESIDE")% (target ≥ 90%)"
echo "readers' p99: alone $(p99 "$ALONE") ms, with writers $(p99 "$BESIDE") ms ($(awk -v a="$(p99 "$ALONE")" -v b="$(p99 "$BESIDE")" 'BEGIN { printf "%+.0f%%", (b - a) * 100 / a }'); target within 20%)"
echo "server resident memory: $(( $(ps -o rss= -p "$SERVER_PID") / 1024 )) MiB"
