# Shared by the load and bench scripts (sourced, not run): the
# release binary, a temporary DATA folder removed on exit, and a server
# started on it and waited for. Expects HOST and PORT to be set.

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }

TARGET_DIR=${CARGO_TARGET_DIR:-target}
BIN=${BIN:-$TARGET_DIR/release/kaohe}
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

URL="http://$HOST:$PORT"

# Starts "$BIN" with the environment as it is (its log in $DATA/server.log)
# and waits until /healthz answers.
start_server() {
  "$BIN" >"$DATA/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -fs "$URL/healthz" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "the server did not start; its log:" >&2
  tail -n 20 "$DATA/server.log" >&2
  exit 1
}

# The server's settings for a measurement: its data in $DATA, quiet logs,
# the demo users' password, and (one token per script, many clients) the
# per-caller budget lifted.
bench_env() {
  export DATA_DIR="$DATA" LOG=warn DEMO_PASSWORD=bench-password-1 BIND_ADDR="$HOST:$PORT"
  export RATE_BUDGET=1000000000 RATE_REFILL_PER_HOUR=1000000000
}

# Writes the two compared bodies to $DATA: ceiling.json (`{ __typename }`)
# and dept.json (the department head's page, `dept_body`).
page_bodies() {
  echo '{"query":"{ __typename }"}' >"$DATA/ceiling.json"
  dept_body "$DATA/dept.json"
}

# Points the server at a fresh database (DB=postgres: the database $1 on $PG,
# dropped and created; else SQLite in $DATA), fills it with `seed-bench
# $UNITS` and sets RUN and UNIT to the published run and one of its units.
seed_bench() {
  if [[ "$DB" == postgres ]]; then
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $1" -qc "CREATE DATABASE $1" >/dev/null
    export DATABASE_URL="$PG/$1"
  fi
  echo "== preparing $UNITS units and a published run ($DB)"
  local ids
  ids=$("$BIN" seed-bench "$UNITS" | tail -n1)
  RUN=$(sed -n 's/.*RUN=\([^ ]*\).*/\1/p' <<<"$ids")
  UNIT=$(sed -n 's/.*UNIT=\([^ ]*\).*/\1/p' <<<"$ids")
  [[ -n "$RUN" && -n "$UNIT" ]] || { echo "seed-bench printed: $ids" >&2; exit 1; }
  # Fresh rows (seed-bench analysed them): vacuumed now, so autovacuum does not
  # do it in the middle of a measurement, and index-only scans see them visible.
  if [[ "$DB" == postgres ]]; then psql "$DATABASE_URL" -qc "VACUUM" >/dev/null; fi
}

# Signs in as the demo user $1 (DEMO_PASSWORD=bench-password-1) and prints its
# access token (nothing when refused).
login() {
  gql "" "{\"query\":\"mutation { login(username: \\\"$1\\\", password: \\\"bench-password-1\\\") { accessToken } }\"}" |
    sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p'
}

# Sends one GraphQL body ($2) with the bearer token $1 (none when empty).
gql() { # token, body → answer
  curl -fs "$URL/graphql" -H 'Content-Type: application/json' ${1:+-H "Authorization: Bearer $1"} -d "$2"
}

# Writes to $1 the department head's typical query (a run → its sections →
# indicators → one unit's observations) over RUN and UNIT.
dept_body() {
  cat >"$1" <<JSON
{"query":"query(\$r: ID!, \$u: ID!) { scoreRun(id: \$r) { title status period rubricVersion { label sections { code title maxPoints weight children { code title maxPoints } } } observations(unitId: \$u, first: 50) { totalCount edges { node { id ruleCode status facts { count points level flag } enteredAt } } } } }","variables":{"r":"$RUN","u":"$UNIT"}}
JSON
}

# Prepares a 科室's month of entry in 城口 (an organisation other than the
# readers' 许昌) and writes to $2 one recording a line (writer.lua takes them
# in turn): $1 (1..100) units added to 城口, a run of its own opened over
# them, each line recording into one of them, as a 科室 enters a month unit
# by unit (each unit gathers tens of observations in a run, not thousands).
# $3: the run's year (default 2027; one run per year). Sets WRITER_TOKEN
# (ck-admin's) and CK_RUN.
writer_bodies() {
  WRITER_TOKEN=$(login ck-admin)
  [[ -n "$WRITER_TOKEN" ]] || { echo "login failed (ck-admin)" >&2; exit 1; }
  local i ck version units list opened unit
  for i in $(seq 1 "$1"); do # the demo's 城口 has one school: more, as an admin adds them
    gql "$WRITER_TOKEN" "{\"query\":\"mutation { createUnit(input: { organisationCode: \\\"chengkou\\\", code: \\\"ck-bench-$i\\\", name: \\\"压测学校$i\\\", kind: \\\"school\\\", idempotencyKey: \\\"bench-$i\\\" }) { id } }\"}" >/dev/null
  done
  ck=$(gql "$WRITER_TOKEN" "{\"query\":\"{ organisation(code: \\\"chengkou\\\") { units(first: $1) { edges { node { id } } } rubrics(first: 1) { edges { node { currentVersion { id } } } } } }\"}")
  version=$(sed -n 's/.*"currentVersion":{"id":"\([^"]*\)".*/\1/p' <<<"$ck")
  # (`|| true`: an answer that does not match says so below, not by a silent `set -e` exit.)
  units=$(sed -n 's/.*"units":{\(.*\)},"rubrics".*/\1/p' <<<"$ck" | grep -o '"id":"[^"]*"' | cut -d'"' -f4 || true)
  [[ -n "$units" && -n "$version" ]] || { echo "cannot read 城口's units: $ck" >&2; exit 1; }
  list=$(sed 's/.*/"&"/' <<<"$units" | paste -sd, -)
  opened=$(gql "$WRITER_TOKEN" "{\"query\":\"mutation(\$i: OpenScoreRunInput!) { openScoreRun(input: \$i) { id } }\",\"variables\":{\"i\":{\"rubricVersionId\":\"$version\",\"period\":\"${3:-2027}\",\"unitIds\":[$list],\"title\":\"省级压测\"}}}")
  CK_RUN=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' <<<"$opened")
  [[ -n "$CK_RUN" ]] || { echo "cannot open 城口's run: $opened" >&2; exit 1; }
  echo "== 城口's run covers $(wc -l <<<"$units") units"
  for unit in $units; do
    echo "{\"query\":\"mutation(\$i: RecordObservationInput!) { recordObservation(input: \$i) { id } }\",\"variables\":{\"i\":{\"runId\":\"$CK_RUN\",\"unitId\":\"$unit\",\"ruleCode\":\"2.1.1-1\",\"facts\":{\"count\":1}}}}"
  done >"$2"
}
