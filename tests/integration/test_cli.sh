#!/usr/bin/env bash
# test_cli.sh: the operator contract end to end: the kizuna CLI against a real
# kizunad on a temp data directory (init, id, members, profiles, posts, record
# export/import with tampering, usage errors, exit codes, backup and restore,
# the one-node-per-directory lock, clean SIGTERM shutdown).
set -euo pipefail

: "${KIZUNAD:?set KIZUNAD to the kizunad binary}"
: "${KIZUNA:?set KIZUNA to the kizuna binary}"

T=$(mktemp -d /tmp/kz-cli-XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -f "$T/node.log" ] && tail -20 "$T/node.log" >&2; exit 1; }
ok() { echo "ok - $*"; }

# expect CODE CMD...: run CMD, keep stdout in $OUT and stderr in $ERR, check the exit code.
expect() {
    local want=$1; shift
    set +e
    "$@" >"$T/out" 2>"$T/err"
    local got=$?
    set -e
    OUT=$(cat "$T/out"); ERR=$(cat "$T/err")
    [ "$got" = "$want" ] || fail "expected exit $want, got $got from: $* (stdout: $OUT) (stderr: $ERR)"
}
contains() { case "$1" in *"$2"*) ;; *) fail "expected '$2' in: $1" ;; esac; }
is_id() { [[ "$1" =~ ^[0-9a-f]{64}$ ]] || fail "not an id: '$1'"; }
mode_of() { stat -c %a "$1"; }

start_node() { # start_node DIR LOG -> NODE_PID, waits until the node answers
    "$KIZUNAD" --data "$1" 2>"$2" &
    NODE_PID=$!
    PIDS+=("$NODE_PID")
    for _ in $(seq 1 200); do
        # ask the node itself: a stale socket from a killed node may still exist
        "$KIZUNA" --data "$1" status >/dev/null 2>&1 && return 0
        kill -0 "$NODE_PID" 2>/dev/null || fail "kizunad exited at start: $(cat "$2")"
        sleep 0.05
    done
    fail "kizunad did not create $1/control.sock"
}
stop_node() { # stop_node PID: SIGTERM, expect exit 0
    kill -TERM "$1"
    set +e; wait "$1"; local rc=$?; set -e
    [ "$rc" = 0 ] || fail "kizunad exited with $rc after SIGTERM"
}
count() { # count DIR KEY: a number from status --json
    "$KIZUNA" --data "$1" status --json | python3 -c "import json,sys; s=json.load(sys.stdin); print($2)"
}

PORT=$((20000 + RANDOM % 20000))
D="$T/node"
FED="$T/fed.key"

# ---- federation create ----------------------------------------------------------
expect 0 "$KIZUNA" federation create --out "$FED"
[ "$(mode_of "$FED")" = 600 ] || fail "federation key mode $(mode_of "$FED")"
head -1 "$FED" | grep -qx 'kizuna-federation-key-v1' || fail "federation key first line"
cp "$FED" "$T/fed.orig"
expect 1 "$KIZUNA" federation create --out "$FED"
contains "$ERR" "already exists"
cmp -s "$FED" "$T/fed.orig" || fail "federation key was overwritten"
expect 2 "$KIZUNA" federation create
ok "federation create"

# ---- init and id ------------------------------------------------------------------
expect 0 "$KIZUNA" init --data "$D" --name "絆商事 Kizuna Trading" --federation-key "$FED" \
    --listen "127.0.0.1:$PORT"
NODE_ID=$OUT
is_id "$NODE_ID"
[ "$(mode_of "$D")" = 700 ] || fail "data dir mode $(mode_of "$D")"
for f in node.key storage.key federation.key; do
    [ "$(mode_of "$D/$f")" = 600 ] || fail "$f mode $(mode_of "$D/$f")"
done
head -1 "$D/node.key" | grep -qx 'kizuna-node-key-v1' || fail "node key first line"
grep -q "^listen = 127.0.0.1:$PORT\$" "$D/kizuna.conf" || fail "listen not in config"
grep -q '^listen = 127.0.0.1:7480$' "$D/kizuna.conf" || fail "default http not in config"
expect 1 "$KIZUNA" init --data "$D" --name Other --federation-key "$FED"
contains "$ERR" "already holds a node"
for f in kizuna.conf node.key storage.key federation.key data.mdb; do
    [ -e "$D/$f" ] || fail "a refused init removed $D/$f"
done
expect 2 "$KIZUNA" init --data "$T/x" --name Other
expect 2 "$KIZUNA" init --data "$T/x" --name Other --federation-key "$FED" --listen nope
[ ! -e "$T/x" ] || fail "failed init left $T/x behind"
chmod 644 "$T/fed.orig"
expect 1 "$KIZUNA" init --data "$T/x" --name Other --federation-key "$T/fed.orig"
contains "$ERR" "too open"
[ ! -e "$T/x" ] || fail "failed init left $T/x behind"

expect 0 "$KIZUNA" --data "$D" id
[ "$(echo "$OUT" | sed -n 1p)" = "$NODE_ID" ] || fail "id line 1: $OUT"
[ "$(echo "$OUT" | sed -n 2p)" = "127.0.0.1:$PORT $NODE_ID" ] || fail "id line 2: $OUT"
KIZUNA_DATA="$D" expect 0 "$KIZUNA" id
[ "$(echo "$OUT" | sed -n 1p)" = "$NODE_ID" ] || fail "KIZUNA_DATA not used"
ok "init and id"

# ---- node not running: exit 3 ---------------------------------------------------------
expect 3 "$KIZUNA" --data "$D" status
[ "$ERR" = "kizuna: the node is not running (no control socket at $D/control.sock); start it with: kizunad --data $D" ] \
    || fail "not-running message: $ERR"
[ -z "$OUT" ] || fail "stdout not empty"
ok "exit 3 when the node is not running"

# ---- kizunad refuses bad key permissions and bad config -----------------------------------
B="$T/bad"
cp -a "$D" "$B"
chmod 644 "$B/node.key"
expect 1 "$KIZUNAD" --data "$B"
contains "$ERR" "kizunad: permissions 0644 on $B/node.key are too open; chmod 600"
chmod 600 "$B/node.key"
printf 'kizuna-node-key-v1\nnot-hex\n' >"$B/node.key"
expect 1 "$KIZUNAD" --data "$B"
contains "$ERR" "$B/node.key line 2: expected 64 hex digits"
cp "$D/node.key" "$B/node.key"
printf 'color = blue\n' >>"$B/kizuna.conf"
LINE=$(wc -l <"$B/kizuna.conf")
expect 1 "$KIZUNAD" --data "$B"
[ "$ERR" = "kizunad: $B/kizuna.conf:$LINE: unknown key 'color' in [log]" ] || fail "config error: $ERR"
expect 2 "$KIZUNAD" --data "$B" --log-level loud
rm -rf "$B"
ok "kizunad refuses bad keys and config"

# ---- start the node -----------------------------------------------------------------------
start_node "$D" "$T/node.log"
MAIN_PID=$NODE_PID
[ "$(mode_of "$D/control.sock")" = 600 ] || fail "control.sock mode"
expect 1 "$KIZUNAD" --data "$D"
contains "$ERR" "kizunad: $D is already served by pid $MAIN_PID"
grep -q 'INFO  control: listening on' "$T/node.log" || fail "no listening log line"
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z INFO  ' "$T/node.log" || fail "log format"
expect 0 "$KIZUNA" --data "$D" status
contains "$OUT" "$NODE_ID"
contains "$OUT" "peers       none yet"
ok "kizunad runs, second kizunad refused"

# ---- members --------------------------------------------------------------------------------
expect 0 "$KIZUNA" --data "$D" member add --name "鈴木 一郎" --reading "すずき いちろう" \
    --romaji "Suzuki Ichiro" --joined 2005 --left 2019 --department "営業部"
M1=$OUT
is_id "$M1"
expect 0 "$KIZUNA" --data "$D" member add --name "Jane Doe" --reading "ジェーン ドウ" --role employee --joined 2021
M2=$OUT
is_id "$M2"
expect 0 "$KIZUNA" --data "$D" member list --json
echo "$OUT" | python3 -c '
import json, sys
m1, m2 = sys.argv[1], sys.argv[2]
members = {m["member_id"]: m for m in json.load(sys.stdin)}
assert set(members) == {m1, m2}, members
a = members[m1]
assert a["name"] == "鈴木 一郎" and a["reading"] == "すずき いちろう", a
assert a["romaji"] == "Suzuki Ichiro" and a["role"] == "alumni", a
assert a["joined"] == 2005 and a["left"] == 2019 and a["status"] == "live", a
b = members[m2]
assert b["role"] == "employee" and b["joined"] == 2021 and b["left"] is None, b
' "$M1" "$M2" || fail "member list --json"
expect 0 "$KIZUNA" --data "$D" member list
contains "$OUT" "鈴木 一郎 (すずき いちろう)"
expect 2 "$KIZUNA" --data "$D" member add --name X --reading Y --joined 20x5
contains "$ERR" "usage: kizuna member add"
expect 2 "$KIZUNA" --data "$D" member add --name X --reading Y --joined 2010 --left 2001
expect 2 "$KIZUNA" --data "$D" member add --name X --reading Y --role boss
expect 2 "$KIZUNA" --data "$D" member add --reading Y
ok "member add and list"

# ---- profiles ----------------------------------------------------------------------------------
expect 0 "$KIZUNA" --data "$D" profile set "$M1" "current_company=株式会社ミライ" title=課長 \
    "skills=会計, Python,SQL" open_to=mentoring,rehire visibility=company \
    "links=https://example.com/suzuki" "bio=二十年の経験
second line" location=大阪
P1=$OUT
is_id "$P1"
expect 0 "$KIZUNA" --data "$D" profile show "$M1" --json
echo "$OUT" | python3 -c '
import json, sys
p = json.load(sys.stdin)
fields = ["name", "reading", "romaji", "department", "title", "joined", "left", "current_company",
          "current_title", "location", "skills", "bio", "links", "open_to", "visibility"]
for f in fields:
    assert f in p, f
assert p["name"] == "鈴木 一郎" and p["reading"] == "すずき いちろう"
assert p["current_company"] == "株式会社ミライ" and p["title"] == "課長"
assert p["skills"] == ["会計", "Python", "SQL"], p["skills"]
assert p["open_to"] == ["mentoring", "rehire"], p["open_to"]
assert p["visibility"] == "company" and p["location"] == "大阪"
assert p["bio"] == "二十年の経験\nsecond line"
assert p["links"] == ["https://example.com/suzuki"]
assert p["member_id"] == sys.argv[1] and p["home_node_id"] == sys.argv[2]
assert p["home_company"] == "絆商事 Kizuna Trading" and p["role"] == "alumni"
assert p["tenure_joined"] == 2005 and p["tenure_left"] == 2019 and p["status"] == "live"
assert p["profile_id"] == sys.argv[3]
' "$M1" "$NODE_ID" "$P1" || fail "profile show --json"
# rehire never leaves the node: the signed record has no trace of it
expect 0 "$KIZUNA" --data "$D" record show "$P1" --json
echo "$OUT" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["type"] == "profile" and r["signature"] == "valid"
assert r["body"]["open_to"] == ["mentoring"], r["body"]
' || fail "rehire leaked into the profile record"
# clearing a field
expect 0 "$KIZUNA" --data "$D" profile set "$M1" title=
expect 0 "$KIZUNA" --data "$D" profile show "$M1" --json
echo "$OUT" | python3 -c 'import json,sys; p=json.load(sys.stdin); assert p["title"] == "", p' || fail "clear"
BEFORE=$(count "$D" 's["records"]')
expect 2 "$KIZUNA" --data "$D" profile set "$M1" shoe_size=27
contains "$ERR" "unknown profile field 'shoe_size'"
expect 2 "$KIZUNA" --data "$D" profile set "$M1" joined=nineteen
expect 2 "$KIZUNA" --data "$D" profile set "$M1" open_to=jobs
expect 2 "$KIZUNA" --data "$D" profile set "$M1" name=
expect 2 "$KIZUNA" --data "$D" profile set "$M1" links=javascript:alert
expect 2 "$KIZUNA" --data "$D" profile set "$M1" nofield
expect 2 "$KIZUNA" --data "$D" profile set not-an-id name=x
expect 1 "$KIZUNA" --data "$D" profile set "$(printf 'ab%.0s' $(seq 32))" name=x
contains "$ERR" "not held by this node"
[ "$(count "$D" 's["records"]')" = "$BEFORE" ] || fail "refused profile edits changed the store"
ok "profile set and show"

# ---- posts and records ----------------------------------------------------------------------------
expect 0 "$KIZUNA" --data "$D" post "$M1" --room lounge "はじめまして、鈴木です。"
POST=$OUT
is_id "$POST"
expect 0 "$KIZUNA" --data "$D" post "$M1" --room lounge --kind intro --nominate "$M2" "リレー自己紹介です"
is_id "$OUT"
expect 2 "$KIZUNA" --data "$D" post "$M1" --room lounge --nominate "$M2" "nominate without intro"
expect 2 "$KIZUNA" --data "$D" post "$M1" --room lounge --kind ad "bad kind"
expect 2 "$KIZUNA" --data "$D" post "$M1" "no room"
expect 0 "$KIZUNA" --data "$D" record show "$POST" --json
echo "$OUT" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["id"] == sys.argv[1] and r["type"] == "post" and r["author"] == sys.argv[2]
assert r["signature"] == "valid" and r["created"].endswith("Z")
assert r["body"] == {"room": "lounge", "kind": "text", "text": "はじめまして、鈴木です。"}, r["body"]
' "$POST" "$M1" || fail "record show --json"
expect 0 "$KIZUNA" --data "$D" record show "$POST"
contains "$OUT" "signature    valid"
ok "post and record show"

expect 0 "$KIZUNA" --data "$D" record export "$POST" --out "$T/post.rec"
[ -z "$OUT" ] || fail "record export printed to stdout"
python3 -c '
import hashlib, sys
b = open(sys.argv[1], "rb").read()
assert hashlib.blake2b(b, digest_size=32).hexdigest() == sys.argv[2]
' "$T/post.rec" "$POST" || fail "exported bytes do not hash to the id"
expect 1 "$KIZUNA" --data "$D" record export "$POST" --out "$T/post.rec"
contains "$ERR" "already exists"
expect 1 "$KIZUNA" --data "$D" record import "$T/post.rec"
contains "$ERR" "already stored"

STATUS_BEFORE=$("$KIZUNA" --data "$D" status --json | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["records"], s["by_type"], s["tombstones"])')
python3 - "$T" <<'EOF'
import sys
t = sys.argv[1]
raw = bytearray(open(t + "/post.rec", "rb").read())
flip = bytearray(raw); flip[len(raw) // 2] ^= 0x01            # inside the body text
open(t + "/flipped.rec", "wb").write(flip)
sig = bytearray(raw); sig[-1] ^= 0x80                          # inside the signature
open(t + "/badsig.rec", "wb").write(sig)
open(t + "/garbage.rec", "wb").write(b"this is not a kizuna record\n")
open(t + "/empty.rec", "wb").write(b"")
open(t + "/truncated.rec", "wb").write(raw[:-20])
open(t + "/big.rec", "wb").write(b"\x96" + b"\x00" * 20000)
open(t + "/trailing.rec", "wb").write(raw + b"\x00")
EOF
expect 1 "$KIZUNA" --data "$D" record import "$T/flipped.rec"
contains "$ERR" "kizuna: "
expect 1 "$KIZUNA" --data "$D" record import "$T/badsig.rec"
contains "$ERR" "signature does not verify"
expect 1 "$KIZUNA" --data "$D" record import "$T/garbage.rec"
contains "$ERR" "not a kizuna record"
expect 1 "$KIZUNA" --data "$D" record import "$T/empty.rec"
contains "$ERR" "empty"
expect 1 "$KIZUNA" --data "$D" record import "$T/truncated.rec"
expect 1 "$KIZUNA" --data "$D" record import "$T/big.rec"
contains "$ERR" "larger than 16384 bytes"
expect 1 "$KIZUNA" --data "$D" record import "$T/trailing.rec"
expect 1 "$KIZUNA" --data "$D" record import "$T/does-not-exist.rec"
expect 1 "$KIZUNA" --data "$D" record import "$T"
STATUS_AFTER=$("$KIZUNA" --data "$D" status --json | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["records"], s["by_type"], s["tombstones"])')
[ "$STATUS_BEFORE" = "$STATUS_AFTER" ] || fail "refused imports changed the store: $STATUS_BEFORE -> $STATUS_AFTER"
ok "tampered, garbage, empty, truncated and oversize imports refused; store unchanged"

# Records signed outside kizuna (Python's Ed25519): a fresh node record is
# accepted, one dated an hour ahead is refused as future-dated.
if python3 -c 'import cryptography.hazmat.primitives.asymmetric.ed25519' 2>/dev/null; then
    python3 - "$T" <<'EOF'
import hashlib, struct, sys, time
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization
t = sys.argv[1]
def node_record(created_ms, name=b"Outside Co"):
    sk = Ed25519PrivateKey.generate()
    pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    body = b"\x81\x01" + bytes([0xa0 | len(name)]) + name
    head = b"\x01\x01\xc4\x20" + pk + b"\xcf" + struct.pack(">Q", created_ms) + body
    sig = sk.sign(b"kizuna/record/v1\x00" + b"\x95" + head)
    return b"\x96" + head + b"\xc4\x40" + sig
now = int(time.time() * 1000)
ok = node_record(now)
open(t + "/outside.rec", "wb").write(ok)
open(t + "/outside.id", "w").write(hashlib.blake2b(ok, digest_size=32).hexdigest())
open(t + "/future.rec", "wb").write(node_record(now + 3600 * 1000))
EOF
    expect 0 "$KIZUNA" --data "$D" record import "$T/outside.rec"
    [ "$OUT" = "$(cat "$T/outside.id")" ] || fail "import printed $OUT"
    expect 1 "$KIZUNA" --data "$D" record import "$T/future.rec"
    contains "$ERR" "in the future"
    ok "outside-signed record accepted, future-dated record refused"
else
    echo "skip - future-dated import (python3 cryptography not available)"
fi

# ---- usage errors: exit 2 ------------------------------------------------------------------------------
expect 2 "$KIZUNA" --data "$D" frobnicate
contains "$ERR" "unknown command 'frobnicate'"
expect 2 "$KIZUNA" --data "$D" member frob
expect 2 "$KIZUNA" --data "$D" record show
contains "$ERR" "usage: kizuna record show ID [--json]"
expect 2 "$KIZUNA" --data "$D" record show "$POST" extra
expect 2 "$KIZUNA" --data "$D" status --bogus
expect 2 "$KIZUNA" --data "$D" member revoke 1234
expect 2 "$KIZUNA"
expect 2 env -u KIZUNA_DATA "$KIZUNA" status
contains "$ERR" "no data directory"
expect 0 "$KIZUNA" help
contains "$OUT" "member add"
expect 0 "$KIZUNA" post --help
contains "$OUT" "usage: kizuna post MEMBER_ID --room ROOM"
expect 1 "$KIZUNA" --data "$D" record show "$(printf 'cd%.0s' $(seq 32))"
contains "$ERR" "no record"
ok "usage errors exit 2, failures exit 1"

# ---- --json prints JSON only ------------------------------------------------------------------------------
for cmd in "status --json" "member list --json" "profile show $M1 --json" "record show $POST --json"; do
    # shellcheck disable=SC2086
    "$KIZUNA" --data "$D" $cmd | python3 -c 'import json,sys; json.load(sys.stdin)' || fail "$cmd is not pure JSON"
done
ok "--json output is JSON only"

# ---- revoke ---------------------------------------------------------------------------------------------
expect 0 "$KIZUNA" --data "$D" member revoke "$M2"
is_id "$OUT"
expect 1 "$KIZUNA" --data "$D" member revoke "$M2"
contains "$ERR" "already revoked"
expect 1 "$KIZUNA" --data "$D" post "$M2" --room lounge "after revoke"
expect 0 "$KIZUNA" --data "$D" member list --json
echo "$OUT" | python3 -c '
import json, sys
s = {m["member_id"]: m["status"] for m in json.load(sys.stdin)}
assert s[sys.argv[1]] == "revoked" and s[sys.argv[2]] == "live", s
' "$M2" "$M1" || fail "revoked status"
ok "member revoke"

# ---- backup and restore ------------------------------------------------------------------------------------
RECORDS=$(count "$D" 's["records"]')
expect 0 "$KIZUNA" --data "$D" backup "$T/backup"
contains "$OUT" "$T/backup/data.mdb"
contains "$OUT" "node.key"
contains "$OUT" "storage.key"
[ "$(mode_of "$T/backup")" = 700 ] || fail "backup dir mode"
[ ! -e "$T/backup/node.key" ] || fail "backup holds a key file"
expect 1 "$KIZUNA" --data "$D" backup "$T/backup"
contains "$ERR" "refusing to overwrite"
R="$T/restored"
mkdir -m 700 "$R"
cp "$T/backup/data.mdb" "$R/"
cp -p "$D/node.key" "$D/storage.key" "$D/federation.key" "$D/kizuna.conf" "$R/"
sed -i "s/^listen = 127.0.0.1:$PORT\$/listen = 127.0.0.1:$((PORT + 1))/" "$R/kizuna.conf"
start_node "$R" "$T/restored.log"
RESTORED_PID=$NODE_PID
[ "$(count "$R" 's["records"]')" -ge "$RECORDS" ] || fail "restored node lacks records"
expect 0 "$KIZUNA" --data "$R" record show "$POST" --json
expect 0 "$KIZUNA" --data "$R" profile show "$M1" --json
echo "$OUT" | python3 -c 'import json,sys; p=json.load(sys.stdin); assert "rehire" in p["open_to"], p' \
    || fail "restored node lost the private member table"
# member keys still decrypt with the restored storage.key
expect 0 "$KIZUNA" --data "$R" post "$M1" --room lounge "restored"
stop_node "$RESTORED_PID"
ok "backup, restore on a second kizunad"

# ---- clean shutdown --------------------------------------------------------------------------------------------
stop_node "$MAIN_PID"
[ ! -e "$D/control.sock" ] || fail "control.sock left after SIGTERM"
grep -q 'stopped cleanly' "$T/node.log" || fail "no clean-stop log line"
expect 3 "$KIZUNA" --data "$D" member list
ok "SIGTERM: exit 0, socket removed"

# A killed node leaves a stale socket; the next kizunad removes it.
start_node "$D" "$T/node2.log"
kill -9 "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true
[ -S "$D/control.sock" ] || fail "expected a stale socket after kill -9"
expect 3 "$KIZUNA" --data "$D" status
start_node "$D" "$T/node3.log"
expect 0 "$KIZUNA" --data "$D" record show "$POST"
stop_node "$NODE_PID"
ok "stale socket removed after kill -9"

echo "all CLI checks passed"
