#!/usr/bin/env bash
# test_search_reindex.sh: `kizuna search reindex` against a real kizunad:
# members added through the CLI (and a few hundred more from kz-gen) are
# counted right, found by the same queries before and after, hidden and
# revoked members stay out, the index follows changes afterwards, --json
# prints only JSON, the node answers other requests while a rebuild runs
# (--no-wait, --status), and bad command lines are usage errors (exit 2)
# that leave the node serving.
source "$(dirname "$0")/fed_lib.sh"

"$KIZUNA" federation create --out "$T/fed.key" >/dev/null
mk a "$T/fed.key"
start a

# hits ARGS...: the member ids of a JSON search, space-separated, in order.
hits() {
    kz a search "$@" --json | python3 -c '
import json, sys
print(" ".join(h["member_id"] for h in json.load(sys.stdin)["hits"]))'
}
# reindex_json: run it and print "profiles postings profiles_before postings_before".
reindex_json() {
    kz a search reindex --json >"$T/out" 2>"$T/err" || fail "search reindex --json: $(cat "$T/err")"
    [ -s "$T/err" ] && fail "search reindex --json wrote to stderr: $(cat "$T/err")"
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))              # nothing but one JSON object on stdout
assert r.pop("state") == "done", r
assert sorted(r) == ["elapsed_ms", "finished_ms", "postings", "postings_before",
                     "profiles", "profiles_before", "scanned", "started_ms"], r
assert all(isinstance(v, int) and v >= 0 for v in r.values()), r
assert r["finished_ms"] >= r["started_ms"] and r["scanned"] >= r["profiles"], r
print(r["profiles"], r["postings"], r["profiles_before"], r["postings_before"])' "$T/out" ||
        fail "search reindex --json output: $(cat "$T/out")"
}

S=$(kz a member add --name "鈴木 一郎" --reading "すずき いちろう" --department "営業部") || fail "member add"
H=$(kz a member add --name "佐藤 花子" --reading "さとう はなこ" --romaji "Sato Hanako") || fail "member add"
J=$(kz a member add --name "John Smith" --reading "じょん すみす") || fail "member add"
X=$(kz a member add --name "高橋 隠" --reading "たかはし かくれ") || fail "member add"
R=$(kz a member add --name "田中 去" --reading "たなか さる") || fail "member add"
kz a profile set "$S" current_company=住友商事 skills=C,LMDB >/dev/null || fail "profile set"
kz a profile set "$X" visibility=hidden >/dev/null || fail "profile set"
kz a member revoke "$R" >/dev/null || fail "member revoke"

queries=(suzuki すずき ｽｽﾞｷ 住友 hanako john lmdb たかはし たなか)
declare -A before
for q in "${queries[@]}"; do before[$q]=$(hits "$q") || fail "search $q"; done
[ "${before[suzuki]}" = "$S" ] && [ "${before[john]}" = "$J" ] && [ -z "${before[たかはし]}" ] ||
    fail "searches before the rebuild: suzuki '${before[suzuki]}' john '${before[john]}'"

# ---- the human line ---------------------------------------------------------------
out=$(kz a search reindex) || fail "search reindex"
[[ "$out" =~ ^search\ index\ rebuilt:\ 3\ profiles\ \(([0-9]+)\ postings\)\ in\ [0-9]+\.[0-9]{3}\ s\;\ before:\ 3\ profiles\ \(([0-9]+)\ postings\)$ ]] ||
    fail "search reindex printed: '$out'"
[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] && [ "${BASH_REMATCH[1]}" -gt 0 ] ||
    fail "postings before and after differ on an up-to-date index: '$out'"
for q in "${queries[@]}"; do
    [ "$(hits "$q")" = "${before[$q]}" ] || fail "search $q after the rebuild: '$(hits "$q")', before '${before[$q]}'"
done
log_has a "search index rebuilt: 3 profiles"
ok "search reindex counts 3 profiles (hidden and revoked left out); every query finds the same"

# ---- --json, and the index keeps following changes -----------------------------------
read -r p1 n1 p0 n0 <<<"$(reindex_json)"
[ "$p1 $p0" = "3 3" ] && [ "$n1" = "$n0" ] || fail "json counts: $p1 $n1 $p0 $n0"
kz a profile set "$X" visibility=federation >/dev/null || fail "profile set"
kz a profile set "$S" current_company=Globex >/dev/null || fail "profile set"
[ "$(hits たかはし)" = "$X" ] && [ "$(hits globex)" = "$S" ] && [ -z "$(hits 住友)" ] ||
    fail "changes after a rebuild are not searched"
read -r p1 n1 p0 n0 <<<"$(reindex_json)"
[ "$p1 $p0" = "4 4" ] || fail "json counts after unhiding: $p1 $p0"
ok "--json prints one object; changes after a rebuild are indexed and counted"

# ---- a bigger store: members written straight into it by kz-gen ----------------------
stop a
gen a 400 0
start a
read -r p1 n1 p0 n0 <<<"$(reindex_json)"
[ "$p1 $p0" = "404 404" ] && [ "$n1" = "$n0" ] || fail "after kz-gen: $p1 $n1 $p0 $n0"
[ "$(kz a search "" --company "a corp" --limit 100 --json |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["hits"]))')" = 100 ] ||
    fail "company filter after the rebuild"
[ "$(hits suzuki)" = "$S" ] || fail "suzuki after the bigger rebuild"
ok "404 profiles counted after kz-gen; filters and names still found"

# ---- the node serves while it rebuilds ----------------------------------------------
stop a
gen a 6000 0
start a
st=$(kz a search reindex --status) || fail "search reindex --status"
[ "$st" = "no search index rebuild since kizunad started" ] || fail "--status before any: '$st'"
kz a search reindex --no-wait --json >"$T/out" || fail "search reindex --no-wait"
# The reply comes before the first step: the rebuild runs between other work.
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["state"] == "running" and r["started"] is True and r["scanned"] == 0, r
assert r["profiles_before"] == 6404, r' "$T/out" || fail "--no-wait reply: $(cat "$T/out")"
kz a status --json >/dev/null || fail "status while rebuilding"
kz a search suzuki --json >/dev/null || fail "search while rebuilding" # answered, maybe partial
again=$(kz a search reindex --no-wait --json 2>"$T/err") || fail "a second --no-wait"
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["started"] is True or r["state"] == "running", r' "$again" ||
    fail "a second start while running: $again"
for _ in $(seq 1 $((600 * ${KZ_TEST_TIME_SCALE:-1}))); do
    st=$(kz a search reindex --status --json) || fail "--status while rebuilding"
    python3 -c 'import json,sys; sys.exit(json.loads(sys.argv[1])["state"] != "running")' "$st" || break
    sleep 0.1
done
python3 -c '
import json, sys
r = json.loads(sys.argv[1])
# every profile record is read: the 6,404 searchable and the revoked one
assert r["state"] == "done" and r["profiles"] == 6404 and r["scanned"] == 6405, r' "$st" ||
    fail "rebuild did not finish right: $st"
[ "$(hits suzuki)" = "$S" ] || fail "suzuki after the background rebuild"
log_has a "search index rebuilt: 6404 profiles"
ok "--no-wait returns at once; status, search and --status answer while 6,404 profiles are reindexed"

# A rebuild cut short by a stop is finished by the next start.
kz a search reindex --no-wait >/dev/null || fail "search reindex --no-wait"
stop a
start a
[ "$(hits suzuki)" = "$S" ] || fail "suzuki after a stop in the middle of a rebuild"
[ "$(kz a search "" --company "a corp" --limit 100 --json |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["hits"]))')" = 100 ] ||
    fail "company filter after a restart"
ok "a stop in the middle of a rebuild: the next start has the whole index"

# ---- bad command lines: usage errors, the node keeps serving -------------------------
for bad in "--status --no-wait" "extra" "--bogus" "--json=1" "--json --json" "-- extra"; do
    set +e
    # shellcheck disable=SC2086
    kz a search reindex $bad >"$T/out" 2>"$T/err"
    rc=$?
    set -e
    [ "$rc" = 2 ] || fail "search reindex $bad: exit $rc, want 2"
    [ -s "$T/out" ] && fail "search reindex $bad printed on stdout: $(cat "$T/out")"
    grep -qF "usage: kizuna search reindex [--json] [--no-wait | --status]" "$T/err" || fail "no usage line for '$bad': $(cat "$T/err")"
done
grep -q "unexpected argument 'extra'" "$T/err" || fail "message for an extra argument: $(cat "$T/err")"
printf '{"cmd":"search.reindex","args":{"full":true}}\n' | python3 -c '
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read())
r = json.loads(s.makefile().readline())
assert r["ok"] is False and "unknown argument" in r["error"], r
' "$T/a/control.sock" || fail "an unknown argument over the control socket"
[ "$(kz a search -- reindex)" = "no matches" ] || fail "'search -- reindex' should search for the word"
[ "$(hits suzuki)" = "$S" ] || fail "the node stopped serving after bad requests"
ok "extra arguments and unknown options are usage errors (exit 2); 'search -- reindex' searches"

stop a
set +e
kz a search reindex >/dev/null 2>"$T/err"
rc=$?
set -e
[ "$rc" = 3 ] || fail "search reindex without a node: exit $rc, want 3"
ok "without a running node: exit 3"
