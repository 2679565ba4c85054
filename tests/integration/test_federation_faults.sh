#!/usr/bin/env bash
# test_federation_faults.sh: faults between real kizunad processes: a node
# killed with SIGKILL in the middle of a large transfer restarts with an
# intact store and converges; a node that lost its store recovers all of
# it, its own records included, from a peer; a partition (the middle node of a line
# stopped, or a block) with writes on both sides heals and converges.
source "$(dirname "$0")/fed_lib.sh"

"$KIZUNA" federation create --out "$T/fed.key" >/dev/null

# ---- kill -9 in the middle of a large transfer ------------------------------------
mk p "$T/fed.key"
mk q "$T/fed.key"
gen p 50 30000          # 50 attests + 50 profiles + 30000 posts
start p
start q
peer q p
TOTAL=30102             # + two node records
deadline=$((SECONDS + 60))
while :; do
    got=$(nrec q)
    [ "$got" -gt 2000 ] && break
    [ "$SECONDS" -ge "$deadline" ] && fail "q received only $got records in 60 s"
    sleep 0.05
done
[ "$got" -lt "$TOTAL" ] || fail "the transfer finished before the kill; make it larger"
kill9 q
ok "q killed with SIGKILL after $got of $TOTAL records"
start q
wait_count "$TOTAL" 90 p q
ok "q restarts and converges"

# ---- A node that lost its disk gets everything back, its own records included
MQ=$(member q)
PQ=$(kz q post "$MQ" --room lounge "written on q before its disk died")
wait_record "$PQ" 10 p
stop q
rm -f "$T/q/data.mdb" "$T/q/lock.mdb"
start q
peer q p   # the peer list was on the lost disk too
wait_record "$PQ" 60 q
wait_count "$(nrec p)" 90 p q
ok "q with an empty store gets everything back, its own member's post included"

# ---- Partition: the middle node of a line stops; both ends write; heal --------------
mk r1 "$T/fed.key"
mk r2 "$T/fed.key"
mk r3 "$T/fed.key"
for n in r1 r2 r3; do start $n; done
peer r2 r1
peer r3 r2
M1=$(member r1)
M3=$(member r3)
wait_count 7 30 r1 r2 r3   # 3 node records, 2 attestations, 2 profiles
stop r2
P1=$(kz r1 post "$M1" --room lounge "written on the left during the partition")
P3=$(kz r3 post "$M3" --room lounge "written on the right during the partition")
sleep 1
kz r3 record show "$P1" >/dev/null 2>&1 && fail "the post crossed a stopped node"
start r2
wait_record "$P1" 30 r2 r3
wait_record "$P3" 30 r1 r2
wait_count "$(nrec r1)" 30 r1 r2 r3
ok "a stopped middle node: both sides' writes converge after restart"

# Partition by blocking: r2 blocks r3, both ends write, r2 unblocks.
kz r2 peer block "${NID[r3]}" >/dev/null
P1=$(kz r1 post "$M1" --room lounge "left again")
P3=$(kz r3 post "$M3" --room lounge "right again")
wait_record "$P1" 10 r2
sleep 1
kz r3 record show "$P1" >/dev/null 2>&1 && fail "the post crossed a block"
kz r2 record show "$P3" >/dev/null 2>&1 && fail "a blocked node's member's post was accepted"
kz r2 peer unblock "${NID[r3]}" >/dev/null
kz r3 peer add "127.0.0.1:${PORT[r2]}" "${NID[r2]}" >/dev/null  # dial now instead of after backoff
wait_record "$P3" 30 r1 r2
wait_record "$P1" 30 r3
ok "a block partitions; unblocking heals"

for n in p q r1 r2 r3; do stop $n; done
ok "all nodes stop cleanly"
