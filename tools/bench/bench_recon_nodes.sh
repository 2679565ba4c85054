#!/usr/bin/env bash
# bench_recon_nodes.sh: reconciliation between two real kizunad processes
# whose stores hold the same N records and then differ by 0, 1, 100 and
# 10,000 records (scattered among the shared ones, then recent): round trips
# and bytes per reconciliation, from the dialler's log line
# "reconciliation (ours) done in ... N messages, B bytes" (payload of the
# RECON messages both ways) and from the link's byte counters (everything on
# the wire: handshake, HELLO, frames, the differing records themselves).
#
# usage: BUILD=build-dir tools/bench/bench_recon_nodes.sh [--full] [--records N]
#   default 200,000 shared records; --full 1,000,000
# Setup: kz-gen fills A, B fetches everything from A (an initial sync), then
# for each case B is stopped, bench_diff adds the differing records to B's
# store, B is restarted, redials A and reconciles on connect.
set -euo pipefail
N=200000
while [ $# -gt 0 ]; do
    case $1 in
    --full) N=1000000 ;;
    --records) N=$2; shift ;;
    *) echo "usage: $0 [--full] [--records N]" >&2; exit 2 ;;
    esac
    shift
done
[[ $N =~ ^[0-9]+$ ]] && [ "$N" -ge 1000 ] || { echo "bench_recon_nodes: --records wants >= 1000" >&2; exit 2; }
SYNC_INTERVAL=86400   # only the reconciliation on connect
source "$(dirname "$0")/bench_lib.sh"
BENCH_DIFF=${BENCH_DIFF:-$BUILD/tools/bench/bench_diff}
[ -x "$BENCH_DIFF" ] || fail "bench_diff not found at $BENCH_DIFF"

"$KIZUNA" federation create --out "$T/fed.key" >/dev/null
mk a "$T/fed.key"
mk b "$T/fed.key"
echo "machine: $(nproc) CPUs, load $(load); $N shared records"
span=$(( N > 20000 ? N : 20000 ))   # room for 10,000 scattered times
from=$(( $(date +%s%3N) - span - 1000 ))
t0=$(now)
"$KZ_GEN" --data "$T/a" --members 100 --posts $((N - 200)) >/dev/null || fail "kz-gen"
to=$(( $(date +%s%3N) - 1000 ))
printf 'kz-gen: %d records in %.1f s\n' "$N" "$(echo "$(now) - $t0" | bc)"
start a
start b
WANT=$(( $(nrec a) + 1 ))   # A's records + B's node record
t0=$(now)
peer b a
wait_count "$WANT" 1800 a b
printf 'initial sync: %d records in %.1f s (load %s)\n' "$N" "$(echo "$(now) - $t0" | bc)" "$(load)"

# counters NAME: "bytes_in bytes_out" of NAME's only peer, all time.
counters() { kz "$1" sync status --json | jq -r '.peers[0] | "\(.bytes_in) \(.bytes_out)"'; }

printf '\n%-10s %6s %6s %5s %9s %9s %9s %10s %8s %s\n' case diffs found msgs "rt" "recon B" "B/diff" "wire B" "ms" load
for c in 0 1/scattered 100/scattered 10000/scattered 1/recent 100/recent 10000/recent; do
    d=${c%%/*}; mode=${c#*/}
    [ "$d" = 0 ] && mode=identical
    read -r bi0 bo0 < <(counters b)
    stop b
    if [ "$d" != 0 ]; then
        if [ "$mode" = scattered ]; then
            "$BENCH_DIFF" --data "$T/b" --records "$d" --from "$from" --to "$to" >/dev/null || fail "bench_diff"
        else
            "$BENCH_DIFF" --data "$T/b" --records "$d" >/dev/null || fail "bench_diff"
        fi
    fi
    before=$(grep -c "reconciliation (ours) done" "$T/b.log" || true)
    LOG_LEVEL=debug start b
    deadline=$((SECONDS + 300))
    until [ "$(grep -c "reconciliation (ours) done" "$T/b.log" || true)" -gt "$before" ]; do
        [ "$SECONDS" -ge "$deadline" ] && fail "no reconciliation on b within 300 s"
        sleep 0.1
    done
    wait_count "$(nrec b)" 120 a b
    sleep 0.5   # let the last records' bytes be counted
    read -r bi1 bo1 < <(counters b)
    line=$(grep "reconciliation (ours) done" "$T/b.log" | tail -1)
    # "... done in MS ms: S to send, F to fetch, M messages, B bytes"
    read -r ms snd fet msgs bytes < <(sed -E 's/.*done in ([0-9]+) ms: ([0-9]+) to send, ([0-9]+) to fetch, ([0-9]+) messages, ([0-9]+) bytes.*/\1 \2 \3 \4 \5/' <<<"$line")
    found=$((snd + fet))
    wire=$(( (bi1 - bi0) + (bo1 - bo0) ))
    per=$( [ "$d" = 0 ] && echo "-" || echo $((bytes / d)) )
    printf '%-10s %6d %6d %5d %9s %9d %9s %10d %8d %s\n' "$d/$mode" "$d" "$found" "$msgs" \
        "$(echo "scale=1; $msgs / 2" | bc)" "$bytes" "$per" "$wire" "$ms" "$(load)"
    [ "$found" = "$d" ] || echo "  note: the reconciliation found $found differences, expected $d" >&2
done
echo "(rt = messages / 2; recon B = RECON payload bytes both ways; wire B = every byte both ways on the"
echo " link during that connection, including handshake, HELLO with node records and the records themselves)"
stop a
stop b
