#!/usr/bin/env bash
# test_federation.sh: real kizunad processes on loopback peer with the CLI
# and converge: two nodes with thousands of records each way, push of a
# post, a line of four nodes and then a ring, refusals (wrong federation
# key, wrong node id, blocked node) with their log lines, and deletion and
# revocation reaching every node.
source "$(dirname "$0")/fed_lib.sh"

"$KIZUNA" federation create --out "$T/fed.key" >/dev/null
"$KIZUNA" federation create --out "$T/other.key" >/dev/null

# ---- Two nodes, thousands of records each way ---------------------------------
mk a "$T/fed.key"
mk b "$T/fed.key"
gen a 20 3000   # 20 attests + 20 profiles + 3000 posts
gen b 15 2000
start a
start b
peer b a
# node records 2, a: 3040, b: 2030
wait_count 5072 60 a b
ok "two nodes converge on 3040 + 2030 records"
[ "$(peer_state b a)" = connected ] || fail "b does not list a as connected"
[ "$(peer_state a b)" = connected ] || fail "a does not list b as connected (inbound)"
kz b sync status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
p = s["peers"][0]
assert s["running"] and p["connected"], s
assert p["last_sync"] is not None, p
assert p["records_in"] >= 3040 and p["bytes_in"] > 0 and p["bytes_out"] > 0, p
' || fail "sync status on b"
kz b peer list | grep -q "connected" || fail "peer list text output"
ok "peer list and sync status report the link"

# Push: a post made on a shows up on b.
M=$(member a)
P=$(kz a post "$M" --room lounge "hello from a")
wait_record "$P" 10 b
ok "a post on a reaches b"

# ---- Refusals: wrong federation key, wrong node id, blocked node --------------
mk x "$T/other.key"
start x
peer x a
sleep 2
[ "$(nrec x)" = 1 ] || fail "x (other federation) got records"
log_has a "does not hold our federation key"
log_has x "a different federation key"
[ "$(peer_state x a)" != connected ] || fail "x is connected to a"
ok "wrong federation key: no link, no data, logged on both sides"

mk c "$T/fed.key"
start c
# c dials a's address believing it is b.
kz c peer add "127.0.0.1:${PORT[a]}" "${NID[b]}" >/dev/null
sleep 2
[ "$(nrec c)" = 1 ] || fail "c got records from the wrong node"
log_has c "is not node"
kz c peer remove "${NID[b]}" >/dev/null
ok "wrong node id: the dialer refuses, no data"

kz a peer block "${NID[c]}" >/dev/null
peer c a
sleep 2
[ "$(nrec c)" = 1 ] || fail "blocked c got records"
log_has a "node is blocked here"
log_has c "ERROR blocked"
[ "$(peer_state a c)" = blocked ] || fail "a does not show c as blocked"
kz a peer unblock "${NID[c]}" >/dev/null
kz c peer add "127.0.0.1:${PORT[a]}" "${NID[a]}" >/dev/null  # dial again now, no backoff wait
wait_count "$(nrec a)" 30 a c
ok "blocked node: no link until unblocked, then it converges"

# ---- Deletion and revocation reach every node ---------------------------------
"$KZ_GEN" --data "$T/a" --delete "$P" --author "$M" --out "$T/del.rec" >/dev/null
D=$(kz a record import "$T/del.rec")
wait_record "$D" 10 a b c
wait_gone "$P" 10 a b c
ok "a moderation delete purges the post on every node"
R=$(kz a member revoke "$M")
wait_record "$R" 10 a b c
ok "a revocation reaches every node"
stop x
stop c

# ---- A line of four, then a ring ------------------------------------------------
for n in l1 l2 l3 l4; do mk $n "$T/fed.key"; done
gen l1 5 400
gen l4 5 300
for n in l1 l2 l3 l4; do start $n; done
peer l2 l1
peer l3 l2
peer l4 l3
# 4 node records + 410 + 310
wait_count 724 60 l1 l2 l3 l4
ok "a line of four converges (multi-hop)"
M1=$(member l1)
P1=$(kz l1 post "$M1" --room lounge "from one end")
wait_record "$P1" 10 l4
ok "a post on one end of the line reaches the other end"
peer l1 l4
M4=$(member l4)
P4=$(kz l4 post "$M4" --room lounge "around the ring")
wait_record "$P4" 10 l1 l2 l3
wait_count "$(nrec l4)" 20 l1 l2 l3 l4
ok "a ring converges"

for n in a b l1 l2 l3 l4; do stop $n; done
ok "all nodes stop cleanly"
