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
  # A fixed seed and run count: CI repeats the run made before the commit,
  # so a new finding comes from a developer's exploratory run
  # (tools/fuzz.sh --seed N --seconds M), not from a lucky CI machine.
  step "libFuzzer smoke run (seed ${KZ_FUZZ_SEED:-1}, ${KZ_FUZZ_RUNS:-60000} runs per target)"
  rm -rf build/fuzz
  tools/fuzz.sh --seed "${KZ_FUZZ_SEED:-1}" --runs "${KZ_FUZZ_RUNS:-60000}" \
                --seconds "${KZ_FUZZ_SECONDS:-120}"
fi
step "all tests passed"
