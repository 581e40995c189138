#!/usr/bin/env bash
# Instructions per request, counted by valgrind's callgrind: `{ __typename }`,
# the department head's page computed (Cache-Control: no-cache) and a
# recording (`recordObservation`, as province.sh's writers send it), for one
# or more release binaries on one seeded database. Unlike req/s on a shared
# VM (which moved by a third within minutes), the counts repeat to within a
# few percent; they leave out the kernel and PostgreSQL, and a copy or fill
# done with `rep movs`/`stos` counts each step (so memcpy weighs more than its
# time). A profile is kept for each binary (callgrind_annotate reads it).
#
#   scripts/instructions.sh old/kaohe new/kaohe
#   DB=sqlite DURATION=10 scripts/instructions.sh target/release/kaohe
#
# Needs valgrind and wrk; the first binary fills the database.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15}
UNITS=${UNITS:-1000}
PORT=${PORT:-18083}
DB=${DB:-postgres}
PG=${KAOHE_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
HOST=127.0.0.1
OUT=${OUT:-$PWD/callgrind}
if ! [[ "$DURATION" =~ ^[0-9]+$ ]] || (( DURATION < 1 || DURATION > 120 )) || (( $# < 1 )); then
  echo "usage: [DURATION=1..120] $0 BIN [BIN…]" >&2; exit 2
fi
command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind" >&2; exit 2; }
SKIP_BUILD=1 BIN=$1
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

bench_env
seed_bench kaohe_instructions
page_bodies
mkdir -p "$OUT"

# wrk on two connections: under valgrind the server runs one thread at a time.
load() {
  export NAME=$1 TOKEN=$2 BODY_FILE="$DATA/$1.json" NO_CACHE=1
  wrk -t1 -c2 -d"$3s" --timeout 10s -s scripts/load/query.lua "$URL" | grep '^RESULT'
}
requests() { sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$1"; }
total() { sed -n 's/^totals: //p' "$1"; }

year=2026
for bin in "$@"; do
  name=$(basename "$(dirname "$bin")")-$(basename "$bin")
  rm -f "$OUT/$name".*
  # The server under callgrind, counting nothing until told.
  cat >"$DATA/under-valgrind" <<SH
#!/bin/sh
exec valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/$name.%p" "$bin"
SH
  chmod +x "$DATA/under-valgrind"
  BIN="$DATA/under-valgrind"
  start_server
  token=$(login xc-mishuke)
  [[ -n "$token" ]] || { echo "login failed" >&2; exit 1; }
  year=$((year + 1)) # a run of its own for each binary
  writer_bodies 20 "$DATA/writer.json" "$year" >/dev/null # sets WRITER_TOKEN
  callgrind_control -i on "$SERVER_PID" >/dev/null 2>&1
  load dept "$token" 5 >/dev/null # warm: kept rows, parsed and validated operations
  callgrind_control -z "$SERVER_PID" >/dev/null 2>&1
  dept=$(load dept "$token" "$DURATION")
  callgrind_control -d dept "$SERVER_PID" >/dev/null 2>&1
  ceiling=$(load ceiling "" "$DURATION")
  callgrind_control -d ceiling "$SERVER_PID" >/dev/null 2>&1
  written=$(TOKEN=$WRITER_TOKEN BODY_FILE="$DATA/writer.json" DELAY_MS=0 \
    wrk -t1 -c2 -d"${DURATION}s" --timeout 10s -s scripts/load/writer.lua "$URL" | grep '^WRITER')
  callgrind_control -d recording "$SERVER_PID" >/dev/null 2>&1
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
  d=$(total "$(ls "$OUT/$name".*.1)"); c=$(total "$(ls "$OUT/$name".*.2)"); w=$(total "$(ls "$OUT/$name".*.3)")
  grep -q ' errors=0$' <<<"$written" || echo "the recordings answered errors: $written" >&2
  echo "$bin: department head's page $(( d / $(requests "$dept") )) instructions a request ($(requests "$dept") requests), { __typename } $(( c / $(requests "$ceiling") )) ($(requests "$ceiling")), a recording $(( w / $(requests "$written") )) ($(requests "$written")); profiles in $OUT/$name.*"
done
