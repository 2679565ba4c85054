#!/usr/bin/env bash
# test_search.sh: `kizuna search` against real kizunad processes: members
# with Japanese names added through the CLI are found by kanji, kana,
# half-width kana and romaji, with filters, paging, visibility and the two
# first-class queries; then a second node peered with the first finds the
# same profiles, follows a replacement and a revocation, and a block hides
# them. Bad queries fail fast with a clear error.
source "$(dirname "$0")/fed_lib.sh"

"$KIZUNA" federation create --out "$T/fed.key" >/dev/null
mk a "$T/fed.key"
mk b "$T/fed.key"
start a
start b

# hits NAME ARGS...: the member ids of a JSON search, one per line.
hits() {
    local n=$1; shift
    kz "$n" search "$@" --json | python3 -c '
import json, sys
for h in json.load(sys.stdin)["hits"]:
    print(h["member_id"])'
}
# expect_ids NAME "WANT..." ARGS...: the search returns exactly WANT (in order).
expect_ids() {
    local n=$1 want=$2; shift 2
    local got
    got=$(hits "$n" "$@" | tr '\n' ' ' | sed 's/ $//') || fail "search $* on $n"
    [ "$got" = "$want" ] || fail "search $* on $n: got '$got', want '$want'"
}

# ---- One node ------------------------------------------------------------------
S=$(kz a member add --name "鈴木 一郎" --reading "すずき いちろう" --department "営業部" \
    --joined 2005 --left 2015) || fail "member add"
H=$(kz a member add --name "佐藤 花子" --reading "さとう はなこ" --romaji "Sato Hanako" \
    --department "営業部" --joined 2010 --left 2020) || fail "member add"
J=$(kz a member add --name "John Smith" --reading "じょん すみす" --department "開発部" \
    --joined 2012) || fail "member add"
kz a profile set "$S" current_company=住友商事株式会社 current_title="Senior Engineer" \
    location=東京都港区 skills=C,LMDB open_to=mentoring,rehire >/dev/null || fail "profile set"
kz a profile set "$H" current_company=住友商事株式会社 current_title=Designer location=大阪府 \
    >/dev/null || fail "profile set"
kz a profile set "$J" current_company=Initech title=Engineer visibility=company >/dev/null ||
    fail "profile set"

for q in 鈴木 鈴 すずき スズキ ｽｽﾞｷ suzuki SUZUKI "すずき いちろう" 鈴木一郎; do
    expect_ids a "$S" "$q"
done
ok "鈴木 is found by kanji, one kanji, hiragana, katakana, half-width kana and romaji"
expect_ids a "$H $S" 住友
expect_ids a "$J $S" eng
expect_ids a "$J $H $S" "" --company "a corp"
expect_ids a "$S" "" --location 東京
expect_ids a "$S" "" --skill lmdb
expect_ids a "$H" "" --left-from 2016 --left-to 2020
expect_ids a "$S" "" --open-to mentoring
expect_ids a "$S" "" --open-to rehire
expect_ids a "$H" "" --same-current-company-as "$S"
expect_ids a "$H" "" --former-colleagues-of "$S"
ok "filters and the first-class queries"

# Why it matched, and the fields of a hit.
kz a search suzuki --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
h = r["hits"][0]
assert h["name"] == "鈴木 一郎" and h["reading"] == "すずき いちろう", h
assert h["home_company"] == "a corp" and len(h["home_node"]) == 64, h
assert h["current_company"] == "住友商事株式会社" and h["current_title"] == "Senior Engineer", h
assert h["location"] == "東京都港区" and "reading" in h["matched"], h
assert h["rehire"] is True, h          # the secretariat view of its own member
assert r["next_cursor"] is None and r["truncated"] is False, r
' || fail "hit fields"
kz a search 鈴木 | grep -q "^鈴木 一郎 (すずき いちろう) — Senior Engineer @ 住友商事株式会社 — a corp — $S" ||
    fail "human output line"
ok "hit fields, matched fields and the human line"

# Paging: one hit per page, all three, no repeats.
page1=$(kz a search "" --company "a corp" --limit 1 --json)
c1=$(echo "$page1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["next_cursor"])')
page2=$(kz a search "" --company "a corp" --limit 1 --cursor "$c1" --json)
c2=$(echo "$page2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["next_cursor"])')
page3=$(kz a search "" --company "a corp" --limit 1 --cursor "$c2" --json)
all=$(for p in "$page1" "$page2" "$page3"; do echo "$p" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["hits"][0]["member_id"])'; done | tr '\n' ' ')
[ "$all" = "$J $H $S " ] || fail "paging gave '$all'"
echo "$page3" | python3 -c 'import json,sys; assert json.load(sys.stdin)["next_cursor"] is None' ||
    fail "last page has a cursor"
kz a search "" --company "a corp" --limit 1 | grep -q "^next page: --cursor " || fail "human cursor line"
kz a search suzuki --cursor "$c1" >/dev/null 2>&1 && fail "a cursor of another query was accepted"
ok "paging with a cursor"

# Bad queries: a clear error, fast, and the node keeps serving.
set +e
kz a search >/dev/null 2>"$T/err"; rc=$?
set -e
[ "$rc" = 2 ] && grep -q "give a query or a filter" "$T/err" || fail "empty search: rc $rc"
big=$(python3 -c 'print("a" * 10240)')
kz a search "$big" >/dev/null 2>&1 && fail "10 KB query accepted"
kz a search "$(printf 'a\001b')" >/dev/null 2>&1 && fail "control character accepted"
kz a search "$(printf 'bad \xc3\x28')" >/dev/null 2>&1 && fail "invalid UTF-8 accepted"
out=$(kz a search '!!! ・・・') || fail "punctuation-only query failed"
[ "$out" = "no matches" ] || fail "punctuation-only query: $out"
kz a search "" --open-to rehire --as "$H" >/dev/null 2>&1 && fail "rehire filter as a member"
kz a search "" --limit 0 --company x >/dev/null 2>&1 && fail "limit 0 accepted"
printf '{"cmd":"search","args":{"query":"%s"}}\n' "$big" | python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read())
reply = s.makefile().readline()
assert "\"ok\": false" in reply or "\"ok\":false" in reply, reply
' "$T/a/control.sock" || fail "oversized query over the control socket"
expect_ids a "$S" suzuki
ok "bad queries are refused with a reason; the node still answers"

# ---- Two nodes -------------------------------------------------------------------
peer b a
deadline=$((SECONDS + 30))
until [ "$(hits b suzuki 2>/dev/null)" = "$S" ]; do
    [ "$SECONDS" -ge "$deadline" ] && fail "b does not find a's member"
    sleep 0.2
done
ok "a profile created on a is found from b"
kz b search すずき --json | python3 -c '
import json, sys
h = json.load(sys.stdin)["hits"][0]
assert h["home_company"] == "a corp" and "rehire" not in h, h
' || fail "b's view of a's member"
# John's profile is scoped to his company: b's secretariat does not see it,
# a's does; as a member of a, b's node would show it too.
expect_ids b "" john
expect_ids a "$J" john
expect_ids b "$H $S" "" --company "a corp"
ok "company-only profiles stay with their company; re-hire stays home"

# A replacement on a reaches b's index; the old value is gone.
kz a profile set "$S" current_company=Globex >/dev/null || fail "profile set"
deadline=$((SECONDS + 30))
until [ "$(hits b globex 2>/dev/null)" = "$S" ]; do
    [ "$SECONDS" -ge "$deadline" ] && fail "b does not see the new company"
    sleep 0.2
done
expect_ids b "$H" 住友商事
ok "a replaced profile is searched by its new content on b"

# A revocation removes the member from b's results.
kz a member revoke "$H" >/dev/null || fail "revoke"
deadline=$((SECONDS + 30))
while [ -n "$(hits b hanako 2>/dev/null)" ]; do
    [ "$SECONDS" -ge "$deadline" ] && fail "b still finds a revoked member"
    sleep 0.2
done
expect_ids a "" hanako
ok "a revoked member disappears on both nodes"

# Blocking a hides its members on b; unblocking shows them again.
kz b peer block "${NID[a]}" >/dev/null || fail "block"
expect_ids b "" suzuki
kz b peer unblock "${NID[a]}" >/dev/null || fail "unblock"
expect_ids b "$S" suzuki
ok "a block hides the node's members from search"

stop a
stop b
