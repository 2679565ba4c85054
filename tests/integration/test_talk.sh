#!/usr/bin/env bash
# test_talk.sh: three real nodes in a line (b - a - c: b and c hear each
# other only through a) share the talk room: a relay across the three
# companies shows the same chain everywhere; a company-room post stays out
# of other companies' views; a poll voted on three nodes counts one vote per
# member and a changed vote once; a request on a is answered from c; a
# moderated post disappears from every feed; bad input is refused locally.
source "$(dirname "$0")/fed_lib.sh"

"$KIZUNA" federation create --out "$T/fed.key" >/dev/null
for n in a b c; do mk "$n" "$T/fed.key"; start "$n"; done
peer b a
peer c a

SA=$(kz a member add --name "Sato Sec" --reading "さとう" --role secretariat)
MA=$(kz a member add --name "Aoki A" --reading "あおき")
MB=$(kz b member add --name "Baba B" --reading "ばば")
MC=$(kz c member add --name "Chiba C" --reading "ちば")
for m in "$SA" "$MA" "$MB" "$MC"; do wait_member "$m" a b c; done
ok "members of three companies known on every node"

# wait_json TIMEOUT CMD... : run until the python check on stdin passes.
# The check is the last argument; the node names come first.
until_same() { # until_same TIMEOUT PYEXPR-ON-JSON ARGS... : same output on a, b, c
    local secs=$1 expr=$2; shift 2
    local deadline=$((SECONDS + secs)) out_a out_b out_c
    while :; do
        out_a=$(kz a "$@" --json 2>/dev/null | python3 -c "import json,sys; d=json.load(sys.stdin); print($expr)" 2>/dev/null || echo "err-a")
        out_b=$(kz b "$@" --json 2>/dev/null | python3 -c "import json,sys; d=json.load(sys.stdin); print($expr)" 2>/dev/null || echo "err-b")
        out_c=$(kz c "$@" --json 2>/dev/null | python3 -c "import json,sys; d=json.load(sys.stdin); print($expr)" 2>/dev/null || echo "err-c")
        if [ "$out_a" = "$out_b" ] && [ "$out_b" = "$out_c" ] && [ -n "${WANT:-}" ] &&
            [ "$out_a" = "$WANT" ]; then
            return 0
        fi
        [ "$SECONDS" -ge "$deadline" ] && fail "nodes disagree on '$*': a=$out_a b=$out_b c=$out_c (want ${WANT:-})"
        sleep 0.2
    done
}

# ---- Relay across three companies ---------------------------------------------------
P1=$(kz a post "$MA" --room lounge --kind intro --nominate "$MB" "I'm Aoki; Baba next!") ||
    fail "intro on a"
wait_record "$P1" 10 b c
P2=$(kz b post "$MB" --room lounge --kind intro --nominate "$MC" "Baba here; Chiba next") ||
    fail "intro on b"
WANT="$MA>$MB,$MB>$MC|$MC" until_same 20 \
    '",".join(x["member"]["id"]+">"+x["nominated"]["id"] for x in d["chain"])+"|"+",".join(x["member"]["id"] for x in d["next"])' \
    relay show
kz a relay show | grep -q "next: Chiba C" || fail "relay show text names the next stop"
P3=$(kz c post "$MC" --room lounge --kind intro "Chiba, last of the line") || fail "intro on c"
WANT="$MA,$MB,$MC|" until_same 20 \
    '",".join(x["member"]["id"] for x in d["chain"])+"|"+",".join(x["member"]["id"] for x in d["next"])' \
    relay show
ok "relay a -> b -> c: the same chain on every node; the nominee is the next stop until they post"

# ---- Company room -------------------------------------------------------------------
ROOM_A="company:${NID[a]}"
CP=$(kz a post "$MA" --room "$ROOM_A" "for company a only") || fail "company post"
wait_record "$CP" 10 b c
feed_ids() { kz "$1" feed "${@:2}" --limit 200 --json | python3 -c '
import json, sys
print(" ".join(i["id"] for i in json.load(sys.stdin)["items"]))'; }
feed_ids a --as "$MA" | grep -q "$CP" || fail "a's member does not see the company post"
feed_ids a | grep -q "$CP" || fail "a's operator view lacks the company post"
for n in a b c; do
    feed_ids "$n" --as "$MB" | grep -q "$CP" && fail "b's member sees company a's post on $n"
    feed_ids "$n" --as "$MC" | grep -q "$CP" && fail "c's member sees company a's post on $n"
done
feed_ids b | grep -q "$CP" && fail "node b's view shows company a's post"
kz b feed --room "$ROOM_A" >/dev/null 2>&1 && fail "b may read company a's room"
kz b post "$MB" --room "$ROOM_A" "let me in" 2>/dev/null && fail "b's member posted in a's room"
kz b reply "$MB" "$CP" "sneaky reply" 2>/dev/null && fail "b's member replied in a's room"
ok "a company-room post is seen by its company only (other companies' views on every node exclude it)"

# ---- Topic room ----------------------------------------------------------------------
kz b post "$MB" --room careers "no room yet" 2>/dev/null && fail "post to a missing topic room"
kz a room create "$MA" careers 2>/dev/null && fail "a non-secretariat created a room"
R=$(kz a room create "$SA" careers --title "Career talk") || fail "room create"
wait_record "$R" 10 b c
kz b room list | grep -q "^careers" || fail "room list on b"
TP=$(kz b post "$MB" --room careers "jobs anyone?") || fail "post in a topic room"
wait_record "$TP" 10 a c
feed_ids c --room careers | grep -q "$TP" || fail "topic room feed on c"
ok "topic rooms: created by a secretariat, then open to posts from any company"

# ---- Poll counted across three nodes ---------------------------------------------------
POLL=$(kz a post "$MA" --room lounge --kind poll --option ramen --option soba "Lunch?") ||
    fail "poll"
wait_record "$POLL" 10 b c
kz a vote "$MA" "$POLL" 0 >/dev/null || fail "vote a"
kz b vote "$MB" "$POLL" 0 >/dev/null || fail "vote b"
kz c vote "$MC" "$POLL" 1 >/dev/null || fail "vote c"
kz b vote "$MB" "$POLL" 2 2>/dev/null && fail "vote for a missing option"
sleep 0.01
kz b vote "$MB" "$POLL" 1 >/dev/null || fail "changed vote b"
WANT="1,2,3" until_same 20 '",".join(str(o["votes"]) for o in d["options"])+","+str(d["votes"])' \
    poll show "$POLL"
ok "poll voted on a, b and c: one vote per member, the changed vote counted once (1/2 of 3)"
kz a post "$MA" --edit "$POLL" --close >/dev/null || fail "close poll"
wait_for_closed() {
    local deadline=$((SECONDS + 10))
    until kz c poll show "$POLL" --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["closed"] else 1)'; do
        [ "$SECONDS" -ge "$deadline" ] && fail "poll close did not reach c"
        sleep 0.1
    done
}
wait_for_closed
kz c vote "$MC" "$POLL" 0 2>"$T/err" && fail "vote on a closed poll"
grep -q "closed" "$T/err" || fail "closed poll error: $(cat "$T/err")"
ok "a closed poll refuses votes with a clear error"

# ---- Request on a answered from c ----------------------------------------------------
REQ=$(kz a post "$MA" --room lounge --kind request "Who knows LMDB?") || fail "request"
wait_record "$REQ" 10 c
RP=$(kz c reply "$MC" "$REQ" "I do, ask me") || fail "reply from c"
wait_record "$RP" 10 a
kz a thread "$REQ" --json | python3 -c '
import json, sys
t = json.load(sys.stdin)
assert t["kind"] == "request" and t["state"] == "open", t
assert t["replies"] == 1 and t["thread"][0]["text"] == "I do, ask me", t
assert t["thread"][0]["author"]["company"] == "c corp", t
' || fail "thread on a"
feed_ids a --requests | grep -q "$REQ" || fail "open requests on a"
kz c react "$MA" "$RP" thanks 2>/dev/null && fail "c reacted for a's member"
kz a react "$MA" "$RP" thanks >/dev/null || fail "react"
rc=0; kz a react "$MA" "$RP" love 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "bad reaction kind is a usage error (exit $rc)"
kz a post "$MA" --edit "$REQ" --close "Solved, thanks Chiba" >/dev/null || fail "resolve"
deadline=$((SECONDS + 10))
until kz c thread "$REQ" --json | python3 -c '
import json, sys
t = json.load(sys.stdin)
sys.exit(0 if t["state"] == "resolved" and t["text"] == "Solved, thanks Chiba"
         and t["thread"][0]["reactions"] == {"thanks": 1} else 1)'; do
    [ "$SECONDS" -ge "$deadline" ] && fail "resolution did not reach c"
    sleep 0.1
done
feed_ids a --requests | grep -q "$REQ" && fail "resolved request still listed as open"
ok "a request on a answered from c; reaction, edit and resolution seen on c"

# ---- Moderation ----------------------------------------------------------------------
BAD=$(kz b post "$MB" --room lounge "spam spam spam") || fail "post to moderate"
wait_record "$BAD" 10 a c
for n in a b c; do feed_ids "$n" | grep -q "$BAD" || fail "post not in $n's feed"; done
kz a moderate delete "$BAD" 2>/dev/null && fail "a moderated b's member"
kz c report "$MC" "$BAD" "this is spam" >/dev/null || fail "report"
deadline=$((SECONDS + 10))
until kz b report list | grep -q "this is spam"; do
    [ "$SECONDS" -ge "$deadline" ] && fail "the report did not reach b readable"
    sleep 0.1
done
kz a report list | grep -q "this is spam" && fail "a read a report sealed to b"
kz b moderate delete "$BAD" --reason spam >/dev/null || fail "moderate delete"
wait_gone "$BAD" 10 a b c
for n in a b c; do feed_ids "$n" | grep -q "$BAD" && fail "deleted post still in $n's feed"; done
kz c reply "$MC" "$BAD" "late reply" 2>"$T/err" && fail "reply to a deleted post"
grep -q "deleted" "$T/err" || fail "deleted-post error: $(cat "$T/err")"
ok "a report reaches only b's secretariat; b's moderation removes the post from every feed"

# ---- Author deletion and bad input -------------------------------------------------------
kz a delete "$MB" "$P1" 2>/dev/null && fail "deleting someone else's post"
MINE=$(kz c post "$MC" --room lounge "oops") || fail "post"
kz c delete "$MC" "$MINE" >/dev/null || fail "author delete"
wait_gone "$MINE" 10 a b c
kz a post "$MA" --room lounge "" 2>/dev/null && fail "empty post"
head -c 8001 /dev/zero | tr '\0' x | kz a post "$MA" --room lounge - 2>/dev/null && fail "oversize post"
kz a reply "$MA" "$(printf '%064d' 0)" "to nothing" 2>/dev/null && fail "reply to a missing post"
kz a post "$MA" --room lounge --kind article "not secretariat" 2>/dev/null && fail "article by a member"
kz a post "$SA" --room lounge --kind article "Interview with an alumna" >/dev/null || fail "article"
ok "author deletion; empty, oversize, orphan and unauthorised posts refused"

# ---- Feeds: identical everywhere once replicated, paged without gaps ---------------------
for i in 1 2 3 4 5; do kz c post "$MC" --room lounge "page test $i" >/dev/null || fail "post $i"; done
WANT=$(kz c feed --room lounge --limit 200 --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(",".join(i["id"] + ":" + str(i["replies"]) + ":" + i["text"] for i in d["items"]))')
until_same 20 '",".join(i["id"] + ":" + str(i["replies"]) + ":" + i["text"] for i in d["items"])' \
    feed --room lounge --limit 200
pages=""; cursor=""
while :; do
    out=$(kz a feed --room lounge --limit 2 ${cursor:+--cursor "$cursor"} --json)
    pages="$pages$(echo "$out" | python3 -c 'import json,sys; print("".join(i["id"]+"," for i in json.load(sys.stdin)["items"]), end="")')"
    cursor=$(echo "$out" | python3 -c 'import json,sys; c=json.load(sys.stdin)["next_cursor"]; print(c or "")')
    [ -n "$cursor" ] || break
done
full=$(kz a feed --room lounge --limit 200 --json | python3 -c 'import json,sys; print("".join(i["id"]+"," for i in json.load(sys.stdin)["items"]), end="")')
[ "$pages" = "$full" ] || fail "paging by 2 differs from one page: $pages vs $full"
kz a feed --cursor bogus 2>/dev/null && fail "a bad cursor was accepted"
ok "the lounge feed is the same on a, b and c; pages of 2 add up to the whole feed"
