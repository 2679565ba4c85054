#!/usr/bin/env bash
# test_import.sh: `kizuna member import` against a real kizunad: UTF-8 with and
# without BOM, CP932 made with iconv, Japanese headers, quoted fields, bad rows
# reported with their line numbers and nothing imported, --dry-run, idempotent
# re-imports and updates, revoked members skipped, binary / truncated /
# enormous files refused, and a file large enough to travel in several parts.
source "$(dirname "$0")/fed_lib.sh"

# expect CODE CMD...: stdout in $OUT, stderr in $ERR, exit code checked.
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
lacks() { case "$1" in *"$2"*) fail "did not expect '$2' in: $1" ;; esac; }
members() { kz a member list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
# field HR_KEY_NAME FIELD: a field of the member whose name is given, from member list.
by_name() {
    kz a member list --json | python3 -c '
import json, sys
for m in json.load(sys.stdin):
    if m["name"] == sys.argv[1]:
        print(m[sys.argv[2]] if m[sys.argv[2]] is not None else "")' "$1" "$2"
}

FED="$T/fed.key"
"$KIZUNA" federation create --out "$FED" >/dev/null
mk a "$FED"
start a
IMPORT=("$KIZUNA" --data "$T/a" member import)

# ---- UTF-8, English headers, quoted fields --------------------------------------
printf '%s\r\n' 'employee_no,name,reading,romaji,role,joined,left,department' \
    'E001,鈴木 一郎,すずき いちろう,Suzuki Ichiro,alumni,2001,2015,営業部' \
    'E002,"Smith, John",スミス ジョン,John Smith,employee,2010,,"R&D ""Lab"""' \
    'E003,佐藤 花子,サトウ ハナコ,,,1999,2020,' >"$T/utf8.csv"
R0=$(nrec a)
expect 0 "${IMPORT[@]}" "$T/utf8.csv"
contains "$OUT" "3 rows (utf-8): created 3, updated 0, unchanged 0, skipped 0"
[ "$(nrec a)" = $((R0 + 6)) ] || fail "3 members should add 6 records (attest + profile each)"
[ "$(by_name 'Smith, John' department)" = 'R&D "Lab"' ] || fail "quoted field: $(by_name 'Smith, John' department)"
[ "$(by_name 'Smith, John' role)" = employee ] || fail "role employee"
[ "$(by_name '佐藤 花子' role)" = alumni ] || fail "empty role defaults to alumni"
[ "$(by_name '佐藤 花子' reading)" = 'サトウ ハナコ' ] || fail "katakana reading kept as written"
ok "UTF-8 import with quoted commas and quotes"

# ---- re-import: nothing changes ---------------------------------------------------
R1=$(nrec a)
expect 0 "${IMPORT[@]}" "$T/utf8.csv"
contains "$OUT" "created 0, updated 0, unchanged 3, skipped 0"
[ "$(nrec a)" = "$R1" ] || fail "re-import changed the store"
ok "re-import is idempotent"

# ---- UTF-8 with BOM, Japanese headers, an update -------------------------------------
{
    printf '\xef\xbb\xbf'
    printf '%s\r\n' '社員番号,氏名,フリガナ,ローマ字,区分,入社年,退職年,部署' \
        'E001,鈴木 一郎,すずき いちろう,Suzuki Ichiro,退職者,2001,2015,海外営業部' \
        'E004,田中 健,タナカ ケン,Tanaka Ken,社員,２０１２年,,人事部'
} >"$T/bom.csv"
M1=$(by_name '鈴木 一郎' member_id)
expect 0 "${IMPORT[@]}" "$T/bom.csv" --json
echo "$OUT" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["encoding"] == "utf-8" and o["created"] == 1 and o["updated"] == 1, o
r = {x["employee_no"]: x for x in o["results"]}
assert r["E001"]["result"] == "updated" and r["E001"]["member_id"] == sys.argv[1], r
assert sorted(r["E001"]["changes"]) == ["attest", "profile"], r
assert r["E004"]["result"] == "created" and r["E004"]["line"] == 3, r
' "$M1" || fail "BOM import --json: $OUT"
kz a profile show "$M1" --json | python3 -c '
import json, sys
p = json.load(sys.stdin)
assert p["department"] == "海外営業部" and p["tenure_joined"] == 2001, p' || fail "updated profile"
[ "$(by_name '田中 健' joined)" = 2012 ] || fail "full-width year"
expect 0 "${IMPORT[@]}" "$T/bom.csv"
contains "$OUT" "unchanged 2"
ok "UTF-8 with BOM, Japanese headers, update then unchanged"

# ---- CP932 (what Excel in Japan writes), made with iconv ---------------------------------
printf '%s\r\n' '社員番号,氏名,よみがな,部署' \
    'S01,鈴木 次郎,すずき じろう,開発部～技術' \
    'S02,髙橋 美咲,ﾀｶﾊｼ ﾐｻｷ,総務部' \
    'S03,渡邉 翔,ワタナベ ショウ,"法務部, 契約課"' >"$T/sjis-src.csv"
iconv -f UTF-8 -t CP932 "$T/sjis-src.csv" >"$T/sjis.csv" || fail "iconv to CP932"
cmp -s "$T/sjis.csv" "$T/sjis-src.csv" && fail "the CP932 file should differ from UTF-8"
R2=$(nrec a)
expect 1 "${IMPORT[@]}" "$T/sjis.csv" --encoding utf-8
contains "$ERR" "is not valid UTF-8; try --encoding cp932"
contains "$ERR" "nothing imported"
[ "$(nrec a)" = "$R2" ] || fail "a refused file changed the store"
expect 0 "${IMPORT[@]}" "$T/sjis.csv"
contains "$OUT" "3 rows (cp932): created 3"
[ "$(by_name '髙橋 美咲' reading)" = 'ﾀｶﾊｼ ﾐｻｷ' ] || fail "髙 and half-width kana through CP932"
[ "$(by_name '鈴木 次郎' department)" = '開発部～技術' ] || fail "～ through CP932"
[ "$(by_name '渡邉 翔' department)" = '法務部, 契約課' ] || fail "quoted comma in CP932"
expect 0 "${IMPORT[@]}" "$T/sjis.csv" --encoding cp932
contains "$OUT" "unchanged 3"
ok "CP932 import (auto-detected and --encoding cp932)"

# ---- bad rows: all reported with their lines, nothing imported ------------------------------
printf '%s\n' 'employee_no,name,reading,role,joined,left' \
    'B01,良い 人,よい ひと,,,' \
    ',名無し,ななし,,,' \
    'B03,漢字 読み,漢字,,,' \
    'B04,"複数行の' \
    '名前",ふくすう,,,' \
    'B05,年 おかしい,ねん,,19x9,2001' \
    'B06,逆 年,ぎゃく,,2010,2001' \
    'B07,役割,やくわり,boss,,' \
    'B01,重複,じゅうふく,,,' \
    'B09,短い,みじかい' \
    'B10,良い 人2,よい ひと,,,' >"$T/bad.csv"
R3=$(nrec a); N3=$(members)
expect 1 "${IMPORT[@]}" "$T/bad.csv"
for want in "bad.csv line 3: employee_no is missing" \
            "bad.csv line 4: reading '漢字' is not kana" \
            "bad.csv line 5: name holds a line break" \
            "bad.csv line 7: joined '19x9' is not a year" \
            "bad.csv line 8: left (2001) is before joined (2010)" \
            "bad.csv line 9: role 'boss' is not alumni" \
            "bad.csv line 10: employee_no B01 repeats line 2" \
            "bad.csv line 11: 3 fields, but the header has 6" \
            "8 bad rows; nothing imported"; do
    contains "$ERR" "$want"
done
lacks "$ERR" "line 2:"
lacks "$ERR" "line 12:"
[ -z "$OUT" ] || fail "stdout not empty on bad rows: $OUT"
[ "$(nrec a)" = "$R3" ] && [ "$(members)" = "$N3" ] || fail "a file with bad rows imported something"
expect 1 "${IMPORT[@]}" "$T/bad.csv" --json
echo "$OUT" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["ok"] is False and [e["line"] for e in o["errors"]] == [3, 4, 5, 7, 8, 9, 10, 11], o' \
    || fail "--json errors: $OUT"
printf 'employee_no,name,reading,email\nX1,a,あ,a@example.jp\n' >"$T/cols.csv"
expect 1 "${IMPORT[@]}" "$T/cols.csv"
contains "$ERR" "line 1: unknown column 'email' (known columns: employee_no (社員番号), name (氏名)"
printf 'name,reading\nx,あ\n' >"$T/nokey.csv"
expect 1 "${IMPORT[@]}" "$T/nokey.csv"
contains "$ERR" "missing column employee_no"
ok "bad rows: each reported with its line, nothing imported"

# ---- --dry-run --------------------------------------------------------------------------------
printf '%s\n' 'employee_no,name,reading' 'D01,試し 一,ためし はじめ' 'E002,"Smith, John",スミス ジョン' \
    >"$T/dry.csv"
R4=$(nrec a); N4=$(members)
expect 0 "${IMPORT[@]}" "$T/dry.csv" --dry-run
contains "$OUT" "created 1, updated 0, unchanged 1, skipped 0; dry run, nothing written"
[ "$(nrec a)" = "$R4" ] && [ "$(members)" = "$N4" ] || fail "--dry-run wrote"
expect 0 "${IMPORT[@]}" "$T/dry.csv"
contains "$OUT" "created 1, updated 0, unchanged 1"
ok "--dry-run checks on the node and writes nothing"

# ---- revoked members are skipped ---------------------------------------------------------------
M3=$(by_name '佐藤 花子' member_id)
kz a member revoke "$M3" >/dev/null || fail "revoke"
expect 0 "${IMPORT[@]}" "$T/utf8.csv" --json
echo "$OUT" | python3 -c '
import json, sys
o = json.load(sys.stdin)
r = {x["employee_no"]: x for x in o["results"]}
assert r["E003"]["result"] == "skipped" and "revoked" in r["E003"]["note"], r
assert o["skipped"] == 1 and o["updated"] == 1, o   # E001 goes back to 営業部
' || fail "revoked row: $OUT"
ok "rows of revoked members are skipped"

# ---- files that are not CSV exports -------------------------------------------------------------
R5=$(nrec a)
head -c 3000 /dev/urandom >"$T/random.bin"
expect 1 "${IMPORT[@]}" "$T/random.bin"
contains "$ERR" "nothing imported"
printf 'employee_no,name,reading\nT1,"never closed,よみ\nT2,x,y\n' >"$T/trunc.csv"
expect 1 "${IMPORT[@]}" "$T/trunc.csv"
contains "$ERR" "line 2: a quoted field never ends"
{ printf 'employee_no,name,reading\nL1,'; head -c 5000 /dev/zero | tr '\0' 'x'; printf ',よみ\n'; } >"$T/field.csv"
expect 1 "${IMPORT[@]}" "$T/field.csv"
contains "$ERR" "line 2: a field is longer than 4096 bytes"
truncate -s 65M "$T/huge.csv"
expect 1 "${IMPORT[@]}" "$T/huge.csv"
contains "$ERR" "larger than 64 MiB"
printf 'employee_no,name,reading\n' >"$T/empty.csv"
expect 1 "${IMPORT[@]}" "$T/empty.csv"
contains "$ERR" "no rows"
expect 1 "${IMPORT[@]}" "$T/missing.csv"
expect 2 "${IMPORT[@]}" "$T/utf8.csv" --encoding latin1
[ "$(nrec a)" = "$R5" ] || fail "a refused file changed the store"
ok "binary, truncated, enormous and empty files refused"

# ---- a file sent in several parts -----------------------------------------------------------------
python3 - "$T/big.csv" <<'EOF'
import sys
fam = [("鈴木", "すずき"), ("佐藤", "さとう"), ("高橋", "たかはし"), ("田中", "たなか")]
giv = [("一郎", "いちろう"), ("花子", "はなこ"), ("健", "けん")]
with open(sys.argv[1], "w", encoding="utf-8") as f:
    f.write("社員番号,氏名,よみがな,区分,入社年,退職年,部署\n")
    for i in range(7000):
        a, b = fam[i % 4], giv[i % 3]
        f.write(f"P{i:05d},{a[0]} {b[0]}{i},{a[1]} {b[1]},退職者,{1990 + i % 20},{2011 + i % 10},営業部第{i % 9}課\n")
EOF
R6=$(nrec a)
expect 0 "${IMPORT[@]}" "$T/big.csv"
contains "$OUT" "7000 rows (utf-8): created 7000"
[ "$(nrec a)" = $((R6 + 14000)) ] || fail "7000 rows should add 14000 records"
echo "   $(echo "$OUT" | tail -1)"
expect 0 "${IMPORT[@]}" "$T/big.csv"
contains "$OUT" "unchanged 7000"
grep -q "dropping an unfinished import" "$T/a.log" && fail "a part was lost"
log_has a "upload part 1 received"
ok "7000 rows in several parts, then idempotent"

stop a
