#!/usr/bin/env bash
# test_crash.sh: durability of acknowledged writes. A burst of `kizuna post`
# runs while kizunad is killed with SIGKILL; after a restart every post id the
# CLI printed (the node acknowledged it) must be readable, and the store must
# still accept writes.
set -euo pipefail

: "${KIZUNAD:?set KIZUNAD to the kizunad binary}"
: "${KIZUNA:?set KIZUNA to the kizuna binary}"

T=$(mktemp -d /tmp/kz-crash-XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$T"/node*.log; do [ -f "$f" ] && tail -5 "$f" >&2; done; exit 1; }

start_node() { # start_node LOG -> NODE_PID
    "$KIZUNAD" --data "$D" 2>"$1" &
    NODE_PID=$!
    PIDS+=("$NODE_PID")
    for _ in $(seq 1 200); do
        if "$KIZUNA" --data "$D" status >/dev/null 2>&1; then return 0; fi
        kill -0 "$NODE_PID" 2>/dev/null || fail "kizunad exited at start: $(cat "$1")"
        sleep 0.05
    done
    fail "kizunad did not start"
}

D="$T/node"
"$KIZUNA" federation create --out "$T/fed.key" >/dev/null
"$KIZUNA" init --data "$D" --name "Crash Test KK" --federation-key "$T/fed.key" \
    --listen "127.0.0.1:$((20000 + RANDOM % 20000))" >/dev/null
start_node "$T/node1.log"
M=$("$KIZUNA" --data "$D" member add --name "耐久 太郎" --reading "たいきゅう たろう")

# The burst: one CLI call per post; an id is recorded only once the CLI has
# printed it, i.e. once the node has replied after its durable commit.
(
    i=0
    while [ "$i" -lt 100000 ]; do
        id=$("$KIZUNA" --data "$D" post "$M" --room lounge "post number $i" 2>/dev/null) || exit 0
        echo "$id" >>"$T/acked"
        i=$((i + 1))
    done
) &
BURST=$!
PIDS+=("$BURST")
sleep 1.5
kill -9 "$NODE_PID"
wait "$NODE_PID" 2>/dev/null || true
wait "$BURST" || true

[ -s "$T/acked" ] || fail "no post was acknowledged before the kill"
ACKED=$(wc -l <"$T/acked")
echo "acknowledged before kill -9: $ACKED posts"

start_node "$T/node2.log"
grep -q "removed stale" "$T/node2.log" || fail "restart did not report the stale control socket"
missing=0
while read -r id; do
    [[ "$id" =~ ^[0-9a-f]{64}$ ]] || fail "bad id line '$id'"
    if ! "$KIZUNA" --data "$D" record show "$id" >/dev/null 2>"$T/err"; then
        echo "missing acknowledged post $id: $(cat "$T/err")" >&2
        missing=$((missing + 1))
    fi
done <"$T/acked"
[ "$missing" = 0 ] || fail "$missing of $ACKED acknowledged posts lost"
POSTS=$("$KIZUNA" --data "$D" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["by_type"]["post"])')
[ "$POSTS" -ge "$ACKED" ] || fail "status counts $POSTS posts, fewer than $ACKED acknowledged"
# the store still takes writes after the crash
"$KIZUNA" --data "$D" post "$M" --room lounge "after the crash" >/dev/null || fail "post after restart"
kill -TERM "$NODE_PID"
wait "$NODE_PID" || fail "kizunad did not exit 0 after SIGTERM"
echo "all $ACKED acknowledged posts survived kill -9 ($POSTS stored)"
