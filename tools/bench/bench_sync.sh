#!/usr/bin/env bash
# bench_sync.sh: initial sync of a filled node to an empty one over loopback:
# records per second from `peer add` until B holds every record, and that
# rate against the verification ceiling (raw Ed25519 verify/s on one core x
# cores) measured in the same run.
#
# usage: BUILD=build-dir tools/bench/bench_sync.sh [--full] [--records N] [--perf]
#   --full      1,000,000 records instead of 200,000
#   --records N any other count (at least 1000)
#   --perf      record `perf record -g` of node B during the transfer
#               (kept with the data under $BENCH_KEEP if set)
set -euo pipefail
N=200000
PERF=0
while [ $# -gt 0 ]; do
    case $1 in
    --full) N=1000000 ;;
    --records) N=$2; shift ;;
    --perf) PERF=1 ;;
    *) echo "usage: $0 [--full] [--records N] [--perf]" >&2; exit 2 ;;
    esac
    shift
done
[[ $N =~ ^[0-9]+$ ]] && [ "$N" -ge 1000 ] || { echo "bench_sync: --records wants >= 1000" >&2; exit 2; }
SYNC_INTERVAL=${SYNC_INTERVAL:-60}
source "$(dirname "$0")/bench_lib.sh"

MEMBERS=100
"$KIZUNA" federation create --out "$T/fed.key" >/dev/null
mk a "$T/fed.key"
mk b "$T/fed.key"
echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), load $(load)"
t0=$(now)
"$KZ_GEN" --data "$T/a" --members $MEMBERS --posts $((N - 2 * MEMBERS)) >/dev/null || fail "kz-gen"
printf 'kz-gen: %d records in %.1f s (load %s)\n' "$N" "$(echo "$(now) - $t0" | bc)" "$(load)"

measure_ceiling 2
echo "ceiling: verify ${VERIFY_1}/s on one core, ${VERIFY_N}/s on $NCPU threads;" \
     "strict decode+verify ${DECODE_1}/s on one core (load $(load))"

start a
start b
WANT=$(( $(nrec a) + 1 ))   # A's records + B's own node record
[ "$(nrec b)" = 1 ] || fail "b is not empty"
if [ "$PERF" = 1 ]; then
    perf record -g -F 499 -p "${PID[b]}" -o "$T/perf.b.data" >/dev/null 2>&1 &
    PERF_PID=$!
fi
cpu_a0=$(cpu_s "${PID[a]}"); cpu_b0=$(cpu_s "${PID[b]}")
# Thread states of B every 20 ms during the transfer: R (running or
# waiting for a CPU) or S (blocked: nothing to do). Pool threads asleep
# while records are still missing mean the pipeline, not the CPU, limits.
( while kill -0 "${PID[b]}" 2>/dev/null; do
    for t in /proc/"${PID[b]}"/task/*; do
        printf '%s:%s ' "$(basename "$t")" "$(awk '{ print $3 }' "$t/stat" 2>/dev/null)"
    done
    echo
    sleep 0.02
  done >"$T/states" 2>/dev/null ) &
SAMPLER=$!
load0=$(load)
t0=$(now)
peer b a
deadline=$((SECONDS + ${SYNC_LIMIT:-900}))
while :; do
    got=$(nrec b)
    [ "$got" = "$WANT" ] && break
    [ "$SECONDS" -ge "$deadline" ] && fail "b holds $got of $WANT records after ${SYNC_LIMIT:-900}s"
    sleep 0.2
done
t1=$(now)
cpu_a1=$(cpu_s "${PID[a]}"); cpu_b1=$(cpu_s "${PID[b]}")
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
python3 - "${PID[b]}" "$T/states" <<'PY' || true
import sys
loop = sys.argv[1]
lr = ls = pr = ps = 0
n = 0
for line in open(sys.argv[2]):
    st = dict(x.split(":", 1) for x in line.split() if ":" in x)
    if not st:
        continue
    n += 1
    for tid, s in st.items():
        if tid == loop:
            lr += s == "R"; ls += s != "R"
        else:
            pr += s == "R"; ps += s != "R"
if n:
    pool = max(1, pr + ps)
    print(f"B thread states over {n} samples: loop thread running/runnable {100 * lr / n:.0f}%;"
          f" pool threads running/runnable {100 * pr / pool:.0f}% (mean {pr / n:.2f} of them at a time)")
PY
# Per thread of B: the loop thread (tid = pid: network, LMDB writer, index)
# against libuv's pool threads (decode + verify).
echo "node B threads (CPU s since start): $(for t in /proc/"${PID[b]}"/task/*; do
    printf '%s%s=%s ' "$(basename "$t")" "$([ "$(basename "$t")" = "${PID[b]}" ] && echo '(loop)')" \
        "$(awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "$t/stat")"; done)"
load1=$(load)
if [ "$PERF" = 1 ]; then
    kill -INT "$PERF_PID"; wait "$PERF_PID" || true
fi
kz b sync status --json > "$T/sync.json"
grep -E "reconciliation .* done" "$T/b.log" "$T/a.log" | sed 's/^/  log: /' | head -6 || true

python3 - "$N" "$t0" "$t1" "$VERIFY_1" "$NCPU" "$VERIFY_N" "$cpu_a0" "$cpu_a1" "$cpu_b0" "$cpu_b1" \
    "$load0" "$load1" "$T/sync.json" "$DECODE_1" <<'PY'
import json, sys
n = int(sys.argv[1]); t0, t1 = float(sys.argv[2]), float(sys.argv[3])
v1, ncpu, vn = float(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
ca = float(sys.argv[8]) - float(sys.argv[7]); cb = float(sys.argv[10]) - float(sys.argv[9])
d1 = float(sys.argv[14])
s = json.load(open(sys.argv[13]))
p = s["peers"][0]
dt = t1 - t0
rate = n / dt
ceil = v1 * ncpu
print(f"sync: {n} records in {dt:.2f} s = {rate:.0f} records/s (load {sys.argv[11]} -> {sys.argv[12]})")
print(f"ratio: {rate:.0f} / ({v1:.0f} verify/s x {ncpu} cores = {ceil:.0f}) = {rate / ceil:.2f} (target >= 0.7);"
      f" against the measured {ncpu}-thread verify rate {vn:.0f}: {rate / vn:.2f}")
print(f"cpu: node B {cb:.1f} s ({cb / dt * 100:.0f}% of one core, {cb / n * 1e6:.0f} us/record),"
      f" node A {ca:.1f} s ({ca / dt * 100:.0f}%, {ca / n * 1e6:.0f} us/record);"
      f" verify alone costs {1e6 / v1:.0f} us/record, strict decode+verify {1e6 / d1:.0f} us")
print(f"wire: B received {p['bytes_in']} bytes ({p['bytes_in'] / n:.0f} per record), sent {p['bytes_out']};"
      f" records_in {p['records_in']}, rejected {s['records_rejected']}")
print(f"RESULT records={n} seconds={dt:.2f} rate={rate:.0f} verify1={v1:.0f} cores={ncpu} ratio={rate / ceil:.2f}")
PY
if [ "$PERF" = 1 ]; then
    if [ -n "${BENCH_KEEP:-}" ]; then cp "$T/perf.b.data" "$BENCH_KEEP/"; fi
    for key in comm dso symbol; do
        echo "perf of node B by $key:"
        { perf report -i "$T/perf.b.data" --no-children --sort "$key" --stdio 2>/dev/null |
            grep -E '^ +[0-9]' | head -15; } || true
    done
fi
stop a
stop b
