#!/usr/bin/env bash
# test_events_contact.sh: three real nodes (a line b - a - c, so b and c
# hear each other only through a) agree on an event's confirmed and
# waitlisted seats, including two concurrent answers for the last seat; a
# contact request from a's member to c's member is readable only on c (a and
# b hold ciphertext), the answer with revealed details only on a; inbox and
# metrics count on the home nodes.
source "$(dirname "$0")/fed_lib.sh"

"$KIZUNA" federation create --out "$T/fed.key" >/dev/null
for n in a b c; do mk "$n" "$T/fed.key"; start "$n"; done
peer b a
peer c a

S=$(kz a member add --name "Sato Sec" --reading "さとう" --role secretariat)
MA=$(kz a member add --name "Aoki A" --reading "あおき")
MB=$(kz b member add --name "Baba B" --reading "ばば")
MC=$(kz c member add --name "Chiba C" --reading "ちば")
for m in "$S" "$MA" "$MB" "$MC"; do wait_member "$m" a b c; done
ok "members of three companies known on every node"

# ---- Event with capacity 2, answers from three nodes ---------------------------
E=$(kz a event create "$S" --room general --title "Year-end mixer" --start "2030-12-05 19:00" \
    --capacity 2 --place "Tokyo") || fail "event create"
wait_record "$E" 10 a b c
kz b event create "$MB" --room general --title x --start "2030-12-05 19:00" 2>/dev/null &&
    fail "a member created an event outside the lounge"
kz a rsvp "$MA" "$E" going >/dev/null || fail "rsvp a"
sleep 0.05
# b and c answer for the last seat at the same time, on different nodes.
RB=$(kz b rsvp "$MB" "$E" going) & RBP=$!
RC=$(kz c rsvp "$MC" "$E" going) & RCP=$!
wait $RBP || fail "rsvp b"
wait $RCP || fail "rsvp c"
kz b rsvp "$MB" "$E" perhaps 2>/dev/null && fail "a bad answer was accepted"

show() { kz "$1" event show "$E" --json; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
deadline=$((SECONDS + 20))
while :; do
    line=""
    for n in a b c; do line="$line $(show $n | python3 -c '
import json, sys
e = json.load(sys.stdin)
print("%d/%d/%s" % (e["confirmed"], e["waitlisted"], e["places_digest"]))')"; done
    set -- $line
    [ "$1" = "$2" ] && [ "$2" = "$3" ] && case "$1" in 2/1/*) break ;; esac
    [ "$SECONDS" -ge "$deadline" ] && fail "nodes disagree on the seats:$line"
    sleep 0.2
done
ok "2 confirmed, 1 waitlisted, the same list (digest) on a, b and c"

# The organiser sees who: a's member answered first, then exactly one of b/c.
show_as=$(kz a event show "$E" --as "$S" --json) || fail "organiser view"
echo "$show_as" | python3 -c '
import json, sys
ma, mb, mc = sys.argv[1:4]
e = json.load(sys.stdin)
places = {a["member_id"]: a["place"] for a in e["attendees"]}
assert places[ma] == "confirmed", places
assert sorted([places[mb], places[mc]]) == ["confirmed", "waitlisted"], places
' "$MA" "$MB" "$MC" || fail "organiser's attendee list"
kz b event show "$E" --as "$S" >/dev/null 2>&1 && fail "b showed the attendee list"
kz a event show "$E" --as "$MA" >/dev/null 2>&1 && fail "a non-organiser got the attendee list"
ok "the organiser (on a) sees the attendees; nobody else does"

# A confirmed member leaving frees the seat for the waitlisted one, everywhere.
kz a rsvp "$MA" "$E" no >/dev/null || fail "rsvp change"
deadline=$((SECONDS + 20))
until [ "$(show b | field confirmed)/$(show c | field waitlisted)" = "2/0" ]; do
    [ "$SECONDS" -ge "$deadline" ] && fail "the waitlisted member did not move up"
    sleep 0.2
done
ok "a changed answer moves the waitlist up on every node"

# An event report links to its event; the link replicates.
REP=$(kz a post "$S" --room lounge --event "$E" "Photos from the mixer") || fail "report post"
wait_record "$REP" 10 c
kz c record show "$REP" --json | python3 -c '
import json, sys
assert json.load(sys.stdin)["body"]["event"] == sys.argv[1]
' "$E" || fail "the report post does not link to its event on c"
kz a post "$S" --room lounge --event "$MA" "not an event" 2>/dev/null && fail "a link to a non-event"
ok "an event report post links to its event on every node"

# ---- Private contact a -> c ---------------------------------------------------------
SECRET="Hello Chiba, could we talk about logistics jobs?"
C=$(kz a contact send "$MA" "$MC" "$SECRET") || fail "contact send"
kz a contact send "$MA" "$(printf '%064d' 7)" "hi" 2>/dev/null && fail "contact to an unknown member"
wait_record "$C" 10 a b c
for n in a b; do
    out=$(kz "$n" record show "$C" --json)
    echo "$out" | grep -q "logistics" && fail "$n shows plaintext"
    echo "$out" | grep -q '"sealed_bytes"' || fail "$n does not hold the sealed bytes"
done
kz b contact inbox "$MC" >/dev/null 2>&1 && fail "b opened a member it does not hold"
kz c contact inbox "$MC" --json | python3 -c '
import json, sys
c = [x for x in json.load(sys.stdin) if x["contact_id"] == sys.argv[1]]
assert c and c[0]["message"] == sys.argv[2] and c[0]["kind"] == "request", c
assert c[0]["from"] == sys.argv[3] and c[0]["state"] == "new", c
' "$C" "$SECRET" "$MA" || fail "c cannot read the request"
ok "the request is readable on c only; a and b hold ciphertext"

ACC=$(kz c contact accept "$MC" "$C" --reveal "email: chiba@example.com") || fail "accept"
wait_record "$ACC" 10 a b
kz b record show "$ACC" --json | grep -q "chiba@example.com" && fail "b shows the revealed details"
kz a contact inbox "$MA" --json | python3 -c '
import json, sys
c = [x for x in json.load(sys.stdin) if x["contact_id"] == sys.argv[1]]
assert c and c[0]["kind"] == "accept" and c[0]["reveal"] == "email: chiba@example.com", c
assert c[0]["ref"] == sys.argv[2], c
' "$ACC" "$C" || fail "a cannot read the answer"
kz c contact inbox "$MC" --json | grep -q '"accepted"' || fail "request not marked accepted on c"
ok "accept with reveal readable by the sender on a"

# ---- Inbox and metrics ---------------------------------------------------------------
P=$(kz a post "$MA" --room lounge --kind intro --nominate "$MC" "I am Aoki; next: Chiba") || fail "intro"
wait_record "$P" 10 c
SOON=$(date -u -d '+20 hours' '+%Y-%m-%d %H:%M')
E2=$(kz a event create "$S" --room general --title "Tomorrow" --start "$SOON" --tz UTC) || fail "event 2"
wait_record "$E2" 10 c
kz c rsvp "$MC" "$E2" going >/dev/null || fail "rsvp e2"
# A request on a answered from c, with a reaction from b.
Q=$(kz a post "$MA" --room lounge --kind request "Who knows customs brokers in Osaka?") || fail "request"
wait_record "$Q" 10 b c
sleep 1.1 # a measurable time to the first reply
R=$(kz c reply "$MC" "$Q" "I do, ask me") || fail "reply"
X=$(kz b react "$MB" "$Q" thanks) || fail "react"
wait_record "$R" 10 a
wait_record "$X" 10 a
kz c inbox "$MC" --json | python3 -c '
import json, sys
i = json.load(sys.stdin)
k = i["counts"]
assert k.get("nominated") == 1 and k.get("contact") == 1 and k.get("event") == 1, k
' || fail "inbox on c"
kz a inbox "$MA" --json | python3 -c '
import json, sys
k = json.load(sys.stdin)["counts"]
assert k.get("contact") == 1 and "nominated" not in k, k
assert k.get("reply") == 1 and k.get("reaction") == 1, k
' || fail "inbox on a"
kz b inbox "$MC" >/dev/null 2>&1 && fail "b computed the inbox of a member it does not hold"
ok "inbox: nomination, contact and reminder on c; answer, reply and reaction on a"

wait_count "$(nrec c)" 20 a b c
for n in a c; do
    kz "$n" metrics --json | python3 -c '
import json, sys
m = json.load(sys.stdin)
assert m["members"]["registered"] == 4, m["members"]
assert m["relay"]["intro_posts"] == 1 and m["relay"]["nominations"] == 1, m["relay"]
assert m["relay"]["nominees_posted"] == 0, m["relay"]
assert m["cross_company"]["contacts"] == 2, m["cross_company"]
assert m["contacts"] == 2, m
ev = m["events"]
assert ev["events"] == 2 and ev["rsvp_going"] == 3 and ev["rsvp_no"] == 1, ev
assert ev["confirmed"] == 3 and ev["waitlisted"] == 0, ev
assert m["members"]["active"] == 4, m["members"]
assert sum(b["posts"] for b in m["posts"]["per_two_weeks"]) == 3, m["posts"]
rq = m["requests"]
assert rq["total"] == 1 and rq["replies"] == 1 and rq["replies_per_request"] == 1.0, rq
assert rq["median_first_reply_s"] is not None and rq["median_first_reply_s"] >= 1, rq
assert m["cross_company"]["replies"] == 1 and m["reactions"] == 1 and m["replies"] == 1, m
' || fail "metrics on $n"
done
kz a metrics --since 2099-01-01 --json | python3 -c '
import json, sys
m = json.load(sys.stdin)
assert m["members"]["active"] == 0 and m["contacts"] == 0, m
' || fail "metrics window"
kz a metrics --since yesterday >/dev/null 2>&1 && fail "bad --since accepted"
ok "metrics count the same on a and c"
