# shellcheck shell=bash
# bench_lib.sh: common setup for the federation benchmarks (sourced, not
# run): finds the binaries in a build directory and reuses the integration
# tests' node helpers (private ports, temp data directories, every kizunad
# killed on exit), plus CPU accounting and a hard time limit.
#
# Environment: BUILD (default build-rel next to the sources) or KIZUNAD,
# KIZUNA, KZ_GEN, BENCH_VERIFY explicitly; BENCH_TIMEOUT seconds (default 1800).

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$BENCH_SRC/build-rel}
export KIZUNAD=${KIZUNAD:-$BUILD/node/kizunad}
export KIZUNA=${KIZUNA:-$BUILD/tools/kizuna}
export KZ_GEN=${KZ_GEN:-$BUILD/tools/kz-gen}
BENCH_VERIFY=${BENCH_VERIFY:-$BUILD/tools/bench/bench_verify}
for b in "$KIZUNAD" "$KIZUNA" "$KZ_GEN" "$BENCH_VERIFY"; do
    [ -x "$b" ] || { echo "bench: $b not found; build with" \
        "cmake -B \$BUILD -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build \$BUILD" >&2; exit 1; }
done
# shellcheck source=../../tests/integration/fed_lib.sh
source "$BENCH_SRC/tests/integration/fed_lib.sh"

# A watchdog: the whole run is bounded; on expiry the script is killed and
# its EXIT trap (fed_lib's cleanup) kills every node it started.
BENCH_TIMEOUT=${BENCH_TIMEOUT:-1800}
# It must not hold the script's stdout open (a pipe reader would wait for it).
( sleep "$BENCH_TIMEOUT" && kill -TERM $$ ) >/dev/null 2>&1 </dev/null &
BENCH_WATCHDOG=$!
trap 'echo "bench: time limit ${BENCH_TIMEOUT}s reached" >&2; exit 124' TERM
bench_cleanup() {
    local rc=$?
    pkill -P "$BENCH_WATCHDOG" 2>/dev/null || true   # its sleep
    kill "$BENCH_WATCHDOG" 2>/dev/null || true
    (exit $rc)
    cleanup
}
trap bench_cleanup EXIT

# Fast record count (jq, no python start-up): nrec is polled every 0.2 s.
nrec() { kz "$1" status --json | jq -r .records; }

now() { date +%s.%N; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# cpu_s PID: user + system CPU seconds the process has used.
cpu_s() {
    awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}

# The ceiling, measured now: sets VERIFY_1 (one core), VERIFY_N, NCPU.
measure_ceiling() {
    local out
    out=$("$BENCH_VERIFY" "${1:-2}") || fail "bench_verify"
    VERIFY_1=$(sed -n 's/^verify_1=//p' <<<"$out")
    VERIFY_N=$(sed -n 's/^verify_N=//p' <<<"$out")
    NCPU=$(sed -n 's/^threads=//p' <<<"$out")
    DECODE_1=$(sed -n 's/^decode_verify_1=//p' <<<"$out")
}
