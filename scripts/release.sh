#!/usr/bin/env bash
# The release binary to ship, and its symbols kept apart (issue 18):
#   dist/kaohe        stripped (no symbols, no debug info), with a
#                     .gnu_debuglink naming kaohe.debug and its build id
#   dist/kaohe.debug  the symbol table and the line tables (profile.release:
#                     debug = "line-tables-only"), for gdb, perf, addr2line
# Keep kaohe.debug with each release (it matches one build only: same build
# id); put it next to the binary, or in /usr/lib/debug/.build-id/, and
# debuggers and profilers find it. Panics' backtraces name functions only
# with it present.
#
#   scripts/release.sh               # cargo build --profile dist, then split
#   SKIP_BUILD=1 OUT=dist scripts/release.sh
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET_DIR=${CARGO_TARGET_DIR:-target}
OUT=${OUT:-dist}
command -v objcopy >/dev/null || { echo "objcopy is missing (binutils)" >&2; exit 2; }
# The dist profile (Cargo.toml): the release one with fat LTO in one codegen unit.
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  cargo build --profile dist -p kaohe-api
fi
mkdir -p "$OUT"
cp "$TARGET_DIR/dist/kaohe" "$OUT/kaohe.full"
(
  cd "$OUT"
  objcopy --only-keep-debug kaohe.full kaohe.debug
  objcopy --strip-all --add-gnu-debuglink=kaohe.debug kaohe.full kaohe
  rm kaohe.full
)
ls -l "$OUT/kaohe" "$OUT/kaohe.debug" | awk '{ printf "%s %.1f MB\n", $NF, $5 / 1e6 }'
