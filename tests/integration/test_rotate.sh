#!/usr/bin/env bash
# test_rotate.sh: `kizuna member rotate` on two federated nodes: the new key
# is attested with the old key's hand-over, the old key is revoked, the
# profile (and the private re-hire flag and HR key) move to the new key, and
# the member's history, old posts included, follows the chain on both nodes.
source "$(dirname "$0")/fed_lib.sh"

is_id() { [[ "$1" =~ ^[0-9a-f]{64}$ ]] || fail "not an id: '$1'"; }
wait_keys() { # wait_keys NODE MEMBER N: profile show lists N keys
    local deadline=$((SECONDS + 20))
    until kz "$1" profile show "$2" --json 2>/dev/null | python3 -c '
import json, sys
p = json.load(sys.stdin); sys.exit(0 if len(p.get("keys", [])) == int(sys.argv[1]) else 1)' "$3"; do
        [ "$SECONDS" -ge "$deadline" ] && fail "$1 does not show $3 keys for $2"
        sleep 0.1
    done
}

FED="$T/fed.key"
"$KIZUNA" federation create --out "$FED" >/dev/null
mk a "$FED"
mk b "$FED"
start a
start b
peer a b

printf 'employee_no,name,reading,romaji,joined,left,department\nR01,森 太郎,もり たろう,Mori Taro,2003,2018,企画部\n' \
    >"$T/hr.csv"
kz a member import "$T/hr.csv" >/dev/null || fail "import"
OLD=$(kz a member list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["member_id"])')
is_id "$OLD"
kz a profile set "$OLD" title=部長 open_to=mentoring,rehire >/dev/null || fail "profile set"
POST1=$(kz a post "$OLD" --room lounge "古い鍵からの投稿") || fail "post with the old key"
wait_record "$POST1" 20 b

NEW=$(kz a member rotate "$OLD") || fail "rotate"
is_id "$NEW"
[ "$NEW" != "$OLD" ] || fail "rotate returned the old id"
ok "member rotate prints the new member id"

kz a member list --json | python3 -c '
import json, sys
m = {x["member_id"]: x for x in json.load(sys.stdin)}
old, new = m[sys.argv[1]], m[sys.argv[2]]
assert old["status"] == "revoked" and new["status"] == "live", m
assert new["name"] == "森 太郎" and new["joined"] == 2003 and new["left"] == 2018, new
assert new["department"] == "企画部" and new["holds_key"], new
' "$OLD" "$NEW" || fail "member list after rotate"
kz a profile show "$NEW" --json | python3 -c '
import json, sys
p = json.load(sys.stdin)
assert p["name"] == "森 太郎" and p["title"] == "部長" and p["romaji"] == "Mori Taro", p
assert p["open_to"] == ["mentoring", "rehire"], p     # the private flag moved too
assert p["status"] == "live" and p["tenure_joined"] == 2003, p
assert p["keys"] == [sys.argv[1], sys.argv[2]], p
' "$NEW" "$OLD" || fail "profile under the new id"
kz a profile show "$OLD" --json | python3 -c '
import json, sys
p = json.load(sys.stdin)
assert p["status"] != "live" and p["successor"] == sys.argv[1], p' "$NEW" || fail "old id"
ok "profile shows under the new id; the old id is revoked and points to it"

set +e
kz a post "$OLD" --room lounge "still here?" >/dev/null 2>"$T/err"; rc=$?
set -e
[ "$rc" = 1 ] || fail "posting with the revoked old key should fail, got $rc"
POST2=$(kz a post "$NEW" --room lounge "新しい鍵からの投稿") || fail "post with the new key"
for who in "$NEW" "$OLD"; do
    kz a member history "$who" --json | python3 -c '
import json, sys
h = json.load(sys.stdin)
new, old, p2, p1 = sys.argv[1:5]
assert h["member_id"] == new and h["keys"] == [new, old], h
posts = [(r["id"], r["author"]) for r in h["records"] if r["type"] == "post"]
assert posts == [(p2, new), (p1, old)], posts
' "$NEW" "$OLD" "$POST2" "$POST1" || fail "history of $who"
done
kz a member history "$NEW" >"$T/hist" || fail "history text"
grep -q "by old key ${OLD:0:16}" "$T/hist" || fail "text history: $(cat "$T/hist")"
ok "history of the member lists posts by the old key"

# The HR key moved: re-importing the file finds the new key, changes nothing.
kz a member import "$T/hr.csv" --json | python3 -c '
import json, sys
o = json.load(sys.stdin)
r = o["results"][0]
assert r["result"] == "unchanged" and r["member_id"] == sys.argv[1], o' "$NEW" ||
    fail "re-import after rotation"
ok "re-import after rotation is unchanged"

# The other node verifies the hand-over and follows the chain itself.
wait_record "$POST2" 20 b
wait_keys b "$NEW" 2
kz b member history "$OLD" --json | python3 -c '
import json, sys
h = json.load(sys.stdin)
assert h["member_id"] == sys.argv[1], h
assert [r["id"] for r in h["records"] if r["type"] == "post"] == [sys.argv[2], sys.argv[3]], h
' "$NEW" "$POST2" "$POST1" || fail "history on b"
kz b profile show "$NEW" --json | python3 -c '
import json, sys
p = json.load(sys.stdin)
assert p["status"] == "live" and p["title"] == "部長" and "rehire" not in p["open_to"], p' ||
    fail "profile of the new key on b"
ok "the peer node follows the hand-over"

# A second rotation extends the chain; a revoked key cannot be rotated.
NEW2=$(kz a member rotate "$NEW") || fail "second rotate"
kz a member history "$OLD" --json | python3 -c '
import json, sys
h = json.load(sys.stdin)
assert h["keys"] == sys.argv[1:4], h' "$NEW2" "$NEW" "$OLD" || fail "chain of three"
set +e
kz a member rotate "$OLD" >/dev/null 2>"$T/err"; rc=$?
set -e
[ "$rc" = 1 ] && grep -q "revoked" "$T/err" || fail "rotating a revoked key: $rc $(cat "$T/err")"
wait_keys b "$NEW2" 3
ok "second rotation; revoked keys refused"

# The member leaves: the revocation carries the hand-over, the history stays whole.
kz a member revoke "$NEW2" >/dev/null || fail "revoke the current key"
for n in a b; do
    deadline=$((SECONDS + 20))
    until kz "$n" member history "$OLD" --json | python3 -c '
import json, sys
h = json.load(sys.stdin)
sys.exit(0 if h["keys"] == sys.argv[1:4] and len([r for r in h["records"] if r["type"] == "post"]) == 2 else 1)' "$NEW2" "$NEW" "$OLD"; do
        [ "$SECONDS" -ge "$deadline" ] && fail "chain lost on $n after the revocation"
        sleep 0.1
    done
done
ok "revoking the current key keeps the chain (both nodes)"

stop a
stop b
