#!/usr/bin/env bash
# Two (or more) release binaries compared on one database, in turn, ROUNDS
# times: `{ __typename }` and the department head's page computed
# (Cache-Control: no-cache), 50 clients, with the CPU each request cost the
# server and PostgreSQL (/proc/<pid>/stat). On a VM whose speed moves by a
# third within minutes, only binaries measured side by side compare.
#
#   scripts/ab.sh old/kaohe new/kaohe
#   ROUNDS=4 DURATION=8 DB=sqlite scripts/ab.sh a b
#
# The first binary fills the database (`seed-bench 1000`). Needs wrk and,
# for DB=postgres (the default), psql. Bounded time; 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
(( $# >= 1 )) || { echo "usage: scripts/ab.sh BINARY [BINARY…]" >&2; exit 2; }
for b in "$@"; do [[ -x "$b" ]] || { echo "not an executable: $b" >&2; exit 2; }; done

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
UNITS=${UNITS:-1000}
PORT=${PORT:-18082}
DB=${DB:-postgres}
PG=${KAOHE_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
HOST=127.0.0.1
if ! [[ "$ROUNDS" =~ ^[0-9]+$ && "$DURATION" =~ ^[0-9]+$ ]] || (( ROUNDS < 1 || ROUNDS > 20 || DURATION < 1 || DURATION > 120 )); then
  echo "ROUNDS must be 1..20 and DURATION 1..120 seconds" >&2; exit 2
fi
SKIP_BUILD=1 BIN=$1
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

bench_env
seed_bench kaohe_ab

page_bodies

ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
  local t=0 p
  for p in $(pgrep -u postgres postgres || true); do t=$(( t + $(ticks "$p") )); done
  echo "$t"
}
HZ=$(getconf CLK_TCK)

echo "== $ROUNDS rounds, ${DURATION}s each, $DB"
for round in $(seq 1 "$ROUNDS"); do
  for bin in "$@"; do
    BIN=$bin
    start_server
    token=$(login xc-mishuke)
    [[ -n "$token" ]] || { echo "login failed" >&2; exit 1; }
    line="round $round $bin:"
    for q in ceiling dept; do
      export NAME=$q TOKEN=$token BODY_FILE="$DATA/$q.json" NO_CACHE=1
      wrk -t1 -c4 -d2s -s scripts/load/query.lua "$URL" >/dev/null
      s0=$(ticks "$SERVER_PID"); p0=$(pg_ticks)
      out=$(wrk -t2 -c50 -d"${DURATION}s" --timeout 10s -s scripts/load/query.lua "$URL" | grep '^RESULT')
      s1=$(ticks "$SERVER_PID"); p1=$(pg_ticks)
      n=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$out")
      rps=$(sed -n 's/.* rps=\([0-9]*\).*/\1/p' <<<"$out")
      errors=$(sed -n 's/.* non2xx=\([0-9]*\) errors=\([0-9]*\).*/\1+\2/p' <<<"$out")
      line+=" $q $rps req/s (errors $errors), server $(( (s1 - s0) * 1000000 / HZ / n )) µs, PostgreSQL $(( (p1 - p0) * 1000000 / HZ / n )) µs;"
      [[ $q == ceiling ]] && ceiling=$rps
    done
    echo "$line page/ceiling $(( 100 * rps / ceiling ))%"
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
  done
done
