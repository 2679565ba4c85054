#!/usr/bin/env bash
# bench_propagation.sh: 20 kizunad processes on loopback in a random
# connected 3-regular graph (fixed seed); 100 posts from random nodes; for
# each, the time from the CLI returning the post id until the post is stored
# on every node, read from the nodes' own debug log lines
# "stored post ID (peer, ...)" (millisecond timestamps, one clock). p50, p99.
#
# usage: BUILD=build-dir tools/bench/bench_propagation.sh [--nodes N] [--posts P] [--seed S]
# Reconciliation runs only every 10 minutes here, so what is measured is push
# and relay, not the periodic catch-up.
set -euo pipefail
NODES=20 POSTS=100 SEED=7
while [ $# -gt 0 ]; do
    case $1 in
    --nodes) NODES=$2; shift ;;
    --posts) POSTS=$2; shift ;;
    --seed) SEED=$2; shift ;;
    *) echo "usage: $0 [--nodes N] [--posts P] [--seed S]" >&2; exit 2 ;;
    esac
    shift
done
for v in "$NODES" "$POSTS" "$SEED"; do
    [[ $v =~ ^[0-9]+$ ]] || { echo "bench_propagation: numbers only" >&2; exit 2; }
done
[ "$NODES" -ge 4 ] && [ "$NODES" -le 60 ] && [ $((NODES % 2)) = 0 ] ||
    { echo "bench_propagation: --nodes must be even, 4..60" >&2; exit 2; }
[ "$POSTS" -ge 1 ] && [ "$POSTS" -le 1000 ] || { echo "bench_propagation: --posts 1..1000" >&2; exit 2; }
SYNC_INTERVAL=600
LOG_LEVEL=debug
source "$(dirname "$0")/bench_lib.sh"

echo "machine: $(nproc) CPUs, load $(load); $NODES nodes, degree 3, seed $SEED, $POSTS posts"
"$KIZUNA" federation create --out "$T/fed.key" >/dev/null
for i in $(seq 0 $((NODES - 1))); do mk "n$i" "$T/fed.key"; done
for i in $(seq 0 $((NODES - 1))); do start "n$i"; done
declare -A MEM
for i in $(seq 0 $((NODES - 1))); do
    for k in 1 2; do
        MEM[n$i.$k]=$(kz "n$i" member add --name "Member $k of n$i" --reading "めんばー") ||
            fail "member add on n$i"
    done
done

# A random simple connected 3-regular graph (configuration model, retried).
python3 - "$NODES" "$SEED" >"$T/edges" <<'PY'
import random, sys
n, seed = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)
while True:
    stubs = [v for v in range(n) for _ in range(3)]
    rng.shuffle(stubs)
    edges = {tuple(sorted(stubs[i:i + 2])) for i in range(0, len(stubs), 2)}
    if len(edges) != len(stubs) // 2 or any(a == b for a, b in edges):
        continue
    seen, todo = {0}, [0]
    while todo:
        v = todo.pop()
        for a, b in edges:
            for x, y in ((a, b), (b, a)):
                if x == v and y not in seen:
                    seen.add(y)
                    todo.append(y)
    if len(seen) == n:
        break
for a, b in sorted(edges):
    print(a, b)
PY
while read -r a b; do peer "n$a" "n$b"; done <"$T/edges"
echo "graph: $(wc -l <"$T/edges") links: $(tr '\n' ' ' <"$T/edges" | sed 's/\([0-9]*\) \([0-9]*\) /\1-\2 /g')"
ALL=()
for i in $(seq 0 $((NODES - 1))); do ALL+=("n$i"); done
# Every node's own record + each node's 2 members (attestation + profile).
wait_count $((NODES + NODES * 4)) 120 "${ALL[@]}"
echo "all $NODES nodes converged on $((NODES * 5)) records (load $(load))"

RANDOM=$SEED
: >"$T/posts"
for p in $(seq 1 "$POSTS"); do
    i=$((RANDOM % NODES)); k=$((RANDOM % 2 + 1))
    id=$(kz "n$i" post "${MEM[n$i.$k]}" --room lounge "propagation test $p from n$i") || fail "post on n$i"
    echo "$id n$i $(date +%s%3N)" >>"$T/posts"
    deadline=$((SECONDS + 20))
    until [ "$(grep -l "stored post $id" "$T"/n*.log | wc -l)" = "$NODES" ]; do
        [ "$SECONDS" -ge "$deadline" ] && fail "post $p ($id) did not reach every node in 20 s"
        sleep 0.02
    done
    sleep 0.05
done

python3 - "$T" "$NODES" <<'PY'
import datetime, glob, os, re, sys
t, n = sys.argv[1], int(sys.argv[2])
stored = {}   # id -> {node: ms}
pat = re.compile(r'^(\S+)Z .*stored post ([0-9a-f]{64})')
for f in glob.glob(os.path.join(t, "n*.log")):
    node = os.path.basename(f)[:-4]
    for line in open(f, errors="replace"):
        m = pat.match(line)
        if m:
            ts = datetime.datetime.fromisoformat(m.group(1)).replace(tzinfo=datetime.timezone.utc)
            stored.setdefault(m.group(2), {})[node] = ts.timestamp() * 1000
lat, lat_origin = [], []
for line in open(os.path.join(t, "posts")):
    pid, origin, ret = line.split()
    s = stored[pid]
    assert len(s) == n, (pid, len(s))
    last = max(s.values())
    lat.append(last - float(ret))
    lat_origin.append(last - s[origin])
def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(q / 100 * len(v) + 0.5)) - 1)]
for name, v in (("CLI returned -> stored on all", lat), ("stored on origin -> stored on all", lat_origin)):
    print(f"{name}: p50 {pct(v, 50):.0f} ms, p90 {pct(v, 90):.0f} ms, p99 {pct(v, 99):.0f} ms,"
          f" max {max(v):.0f} ms over {len(v)} posts")
print(f"RESULT p50_ms={pct(lat, 50):.0f} p99_ms={pct(lat, 99):.0f}")
PY
echo "load at the end: $(load)"
for i in $(seq 0 $((NODES - 1))); do stop "n$i"; done
