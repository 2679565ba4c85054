#!/usr/bin/env bash
# fuzz.sh: build the libFuzzer targets (clang) and run them.
#
#   tools/fuzz.sh [--seconds N] [--runs N] [--seed S] [--keep DIR] [TARGET...]
#
# TARGET is a name from tests/fuzz/fuzz_NAME.c (all of them by default).
# Each target starts from its corpus in tests/fuzz/corpus/NAME and stops
# after --runs inputs or --seconds, whichever comes first; a crash stops
# the script with exit 1 and leaves the input in the --keep directory (or
# a temporary one), named crash-*. Copy it into tests/fuzz/crashers/NAME/
# and it becomes a regression test (ctest fuzz_replay_NAME).
#
# tools/test.sh runs every target with a fixed seed and a fixed number of
# runs, so CI repeats exactly the run made before committing; exploring
# (a different --seed, long --seconds) is for developers.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=20 runs=-1 seed=0 keep=""
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
for v in "$seconds" "$runs" "$seed"; do
  [[ "$v" =~ ^-?[0-9]+$ ]] || { echo "fuzz.sh: not a number: $v" >&2; exit 2; }
done

build=build/fuzz
if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DKZ_FUZZ=ON -DBUILD_TESTING=ON >/dev/null
fi
cmake --build "$build" -j"$(nproc)" >/dev/null

if [ ${#targets[@]} -eq 0 ]; then
  for src in tests/fuzz/fuzz_*.c; do
    n=$(basename "$src" .c); targets+=("${n#fuzz_}")
  done
fi

for name in "${targets[@]}"; do
  bin="$build/tests/fuzz_$name"
  [ -x "$bin" ] || { echo "fuzz.sh: no target $name" >&2; exit 2; }
  work=$(mktemp -d)
  out=${keep:-$work}
  mkdir -p "$out"
  cp -r "$root/tests/fuzz/corpus/$name/." "$work/" 2>/dev/null || true
  if ! "$bin" -seed="$seed" -runs="$runs" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
         -print_final_stats=1 -artifact_prefix="$out/crash-$name-" "$work" >"$work.log" 2>&1; then
    echo "fuzz target $name found a crash:"
    grep -v '^ *#[0-9]' "$work.log" | tail -25
    ls "$out"/crash-"$name"-* 2>/dev/null
    exit 1
  fi
  units=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$work.log" | grep -Eo '[0-9]+$' || echo '?')
  echo "fuzz_$name: $units executions, no crash"
  rm -rf "$work" "$work.log"
done
