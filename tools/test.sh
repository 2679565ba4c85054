#!/usr/bin/env bash
# test.sh: installs dependencies, builds from scratch and runs every test:
# the house checks, unit + fuzz-replay + integration tests on a normal build,
# then the whole suite again under ASan+UBSan, then a short libFuzzer smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc)

tools/install-deps.sh
tools/check-banned.sh

step() { printf '\n=== %s\n' "$*"; }

step "release build (warnings are errors)"
rm -rf build/test
cmake -S . -B build/test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKZ_WERROR=ON >/dev/null
cmake --build build/test -j"$jobs"
step "tests (release)"
ctest --test-dir build/test --output-on-failure -j"$jobs"

step "sanitizer build (address,undefined)"
rm -rf build/asan
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DKZ_WERROR=ON \
      -DKZ_SANITIZE=address,undefined >/dev/null
cmake --build build/asan -j"$jobs"
step "tests (ASan+UBSan)"
# Sanitized code runs several times slower: integration deadlines stretch.
KZ_TEST_TIME_SCALE=4 \
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan --output-on-failure -j"$jobs"

if [ "${KZ_SKIP_FUZZ:-0}" != 1 ]; then
  step "libFuzzer smoke run (${KZ_FUZZ_SECONDS:-20}s per target)"
  rm -rf build/fuzz
  CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DKZ_FUZZ=ON -DBUILD_TESTING=ON >/dev/null
  cmake --build build/fuzz -j"$jobs" >/dev/null
  for bin in build/fuzz/tests/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin"); name=${name#fuzz_}
    work=$(mktemp -d)
    cp -r "$root/tests/fuzz/corpus/$name/." "$work/" 2>/dev/null || true
    "$bin" -max_total_time="${KZ_FUZZ_SECONDS:-20}" -max_len=65536 -timeout=10 -print_final_stats=1 \
           -artifact_prefix="$work/crash-" "$work" >"$work.log" 2>&1 || {
      echo "fuzz target $name found a crash:"; tail -40 "$work.log"
      ls "$work"/crash-* 2>/dev/null
      exit 1
    }
    echo "fuzz_$name: $(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$work.log" | grep -Eo '[0-9]+$' || echo '?') executions, no crash"
    rm -rf "$work" "$work.log"
  done
fi
step "all tests passed"
