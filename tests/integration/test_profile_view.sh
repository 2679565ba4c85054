#!/usr/bin/env bash
# test_profile_view.sh: `kizuna profile show MEMBER --as VIEWER` on two
# federated nodes: federation, company-only and hidden profiles, the private
# re-hire flag (the member and the home node's operator view only), revoked
# members and unknown viewers.
source "$(dirname "$0")/fed_lib.sh"

# view NODE MEMBER VIEWER: the JSON profile.show --as answer.
view() { kz "$1" profile show "$2" --as "$3" --json || fail "profile show $2 --as $3 on $1"; }
# check NODE MEMBER VIEWER PYTHON_EXPR: assert on the view as p.
check() {
    view "$1" "$2" "$3" | python3 -c "
import json, sys
p = json.load(sys.stdin)
assert $4, p" || fail "on $1: $2 as seen by $3: expected $4"
}
wait_profile() { # wait_profile NODE MEMBER FIELD VALUE: replicated profile has FIELD=VALUE
    local deadline=$((SECONDS + 20))
    until kz "$1" profile show "$2" --json 2>/dev/null | python3 -c '
import json, sys
p = json.load(sys.stdin); sys.exit(0 if str(p.get(sys.argv[1])) == sys.argv[2] else 1)' "$3" "$4"; do
        [ "$SECONDS" -ge "$deadline" ] && fail "profile of $2 did not reach $1 with $3=$4"
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

A1=$(kz a member add --name "青木 一郎" --reading "あおき いちろう") || fail "add A1"
A2=$(kz a member add --name "安藤 二郎" --reading "あんどう じろう") || fail "add A2"
AS=$(kz a member add --name "事務局 花子" --reading "じむきょく はなこ" --role secretariat) || fail "add AS"
B1=$(kz b member add --name "坂本 三郎" --reading "さかもと さぶろう") || fail "add B1"
kz a profile set "$A1" title=課長 open_to=reconnect,rehire visibility=company >/dev/null ||
    fail "profile set A1"
wait_profile b "$A1" visibility company
wait_profile a "$B1" name "坂本 三郎"
wait_profile b "$AS" name "事務局 花子"
wait_profile b "$A2" name "安藤 二郎"

# Without --as: the operator's unfiltered view (rehire only on the home node).
kz a profile show "$A1" --json | python3 -c '
import json, sys
p = json.load(sys.stdin)
assert p["open_to"] == ["reconnect", "rehire"] and "access" not in p, p' || fail "plain show"

check a "$A1" "$A1" 'p["access"] == "visible" and p["open_to"] == ["reconnect", "rehire"] and p["title"] == "課長"'
# A member of the secretariat is still a member: the flag stays with the operator's view.
check a "$A1" "$AS" 'p["access"] == "visible" and p["open_to"] == ["reconnect"]'
check a "$A1" "$A2" 'p["access"] == "visible" and p["open_to"] == ["reconnect"] and p["name"] == "青木 一郎"'
check a "$A1" "$B1" 'p["access"] == "company-only" and "name" not in p and "open_to" not in p and p["home_company"] == "a corp"'
check b "$A1" "$B1" 'p["access"] == "company-only" and "title" not in p and "home_company" in p'
# On another node the flag does not exist: not even the home secretariat sees it there.
check b "$A1" "$A2" 'p["access"] == "visible" and p["open_to"] == ["reconnect"]'
check b "$A1" "$AS" 'p["access"] == "visible" and p["open_to"] == ["reconnect"]'
check b "$A1" "$A1" 'p["access"] == "visible" and p["open_to"] == ["reconnect"]'
ok "company-only profile: same company sees it, the other company does not"

# A federation-wide profile is visible to every live member.
check a "$B1" "$A2" 'p["access"] == "visible" and p["name"] == "坂本 三郎"'
check b "$A2" "$B1" 'p["access"] == "visible"'
# Text output names the access.
kz a profile show "$A1" --as "$B1" >"$T/out" || fail "text view"
grep -q '^access  *company-only$' "$T/out" || fail "text access line: $(cat "$T/out")"
grep -q '^name' "$T/out" && fail "withheld name printed: $(cat "$T/out")"
ok "federation profile visible everywhere; text output"

kz a profile set "$A1" visibility=hidden >/dev/null || fail "hide A1"
wait_profile b "$A1" visibility hidden
check a "$A1" "$A2" 'p["access"] == "hidden" and "name" not in p and "status" not in p'
check a "$A1" "$AS" 'p["access"] == "hidden"'
check b "$A1" "$B1" 'p["access"] == "hidden"'
check a "$A1" "$A1" 'p["access"] == "visible" and p["visibility"] == "hidden"'
ok "hidden profile: only the member sees it"

# Strangers (unknown or revoked keys) see no one; revoked members are not shown.
STRANGER=$(printf 'ab%.0s' $(seq 1 32))
check a "$B1" "$STRANGER" 'p["access"] == "hidden"'
kz a member revoke "$A2" >/dev/null || fail "revoke A2"
check a "$B1" "$A2" 'p["access"] == "hidden"'
check a "$A2" "$AS" 'p["access"] == "hidden"'
check a "$A2" "$A2" 'p["access"] == "visible"'
ok "revoked members and strangers"

set +e
kz a profile show "$A1" --as nothex >/dev/null 2>&1; rc=$?
set -e
[ "$rc" = 2 ] || fail "--as with a bad id should be a usage error, got $rc"
ok "bad --as is a usage error"

stop a
stop b
