#!/usr/bin/env bash
# bench_import.sh: HR import rate. Generates an N-row CSV of fictional people
# (Japanese names with readings, years, departments), imports it into a fresh
# node and reports rows per second (wall clock and node CPU), then the same
# for a --dry-run before it (every row new) and a re-import (every row
# unchanged). Each new row costs a
# key pair, two Ed25519 signatures (attest by the node, profile by the new
# key), a sealed secret key and two records with their indexes, all in one
# LMDB transaction; the Ed25519 verification ceiling of this machine is
# printed next to it for scale.
#
# usage: tools/bench/bench_import.sh [ROWS]   (default 10000; BUILD as in bench_lib.sh)
# (Do not pipe its output: bench_lib's watchdog keeps the pipe open.)
set -euo pipefail
source "$(dirname "$0")/bench_lib.sh"

ROWS=${1:-10000}
[[ "$ROWS" =~ ^[0-9]+$ ]] && [ "$ROWS" -ge 1 ] && [ "$ROWS" -le 200000 ] ||
    fail "ROWS must be 1..200000"

python3 - "$T/hr.csv" "$ROWS" <<'EOF'
import random, sys
random.seed(7)
fam = [("鈴木", "すずき"), ("佐藤", "さとう"), ("高橋", "たかはし"), ("田中", "たなか"),
       ("伊藤", "いとう"), ("渡辺", "わたなべ"), ("山本", "やまもと"), ("中村", "なかむら")]
giv = [("一郎", "いちろう"), ("花子", "はなこ"), ("健", "けん"), ("美咲", "みさき"),
       ("翔", "しょう"), ("陽菜", "ひな")]
dep = ["営業部", "開発部", "人事部", "経理部", "法務部", "海外事業部"]
with open(sys.argv[1], "w", encoding="utf-8") as f:
    f.write("社員番号,氏名,よみがな,区分,入社年,退職年,部署\r\n")
    for i in range(int(sys.argv[2])):
        a, b = random.choice(fam), random.choice(giv)
        j = random.randint(1975, 2018)
        f.write(f"H{i:07d},{a[0]} {b[0]},{a[1]} {b[1]},退職者,{j},{j + random.randint(1, 15)},"
                f"{random.choice(dep)}\r\n")
EOF
measure_ceiling 2

FED="$T/fed.key"
"$KIZUNA" federation create --out "$FED" >/dev/null
mk a "$FED"
start a
pid=${PID[a]}

run() { # run LABEL ARGS...: import, print wall and node-CPU rates
    local label=$1; shift
    local c0 t0 t1 c1
    c0=$(cpu_s "$pid"); t0=$(now)
    "$KIZUNA" --data "$T/a" member import "$T/hr.csv" "$@" >"$T/out" || fail "import ($label)"
    t1=$(now); c1=$(cpu_s "$pid")
    awk -v l="$label" -v n="$ROWS" -v w="$(echo "$t1 - $t0" | bc -l)" -v c="$(echo "$c1 - $c0" | bc -l)" \
        'BEGIN { printf "%-22s %7d rows  %6.2f s wall  %8.0f rows/s   node CPU %6.2f s  %8.0f rows/CPU-s\n",
                 l, n, w, n / w, c, (c > 0 ? n / c : 0) }'
    head -1 "$T/out" | sed 's/^/    /'
}

echo "load: $(load); Ed25519 verify ceiling: $VERIFY_1/s on one core"
run "dry run (all new)" --dry-run
run "first import"
run "re-import (unchanged)"
stop a
