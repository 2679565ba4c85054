#!/usr/bin/env bash
# demo.sh: the main job for a newcomer. Installs dependencies, builds, and
# starts a local federation of three fictional group companies' nodes on
# loopback, peered with the CLI the way operators do it, with sample alumni
# (Japanese and English) and posts. Prints commands to try; Ctrl-C stops all
# three nodes cleanly.
#
# Environment (all optional):
#   KZ_DEMO_DIR    where the three data dirs go (default: build/demo)
#   KZ_DEMO_PORT   first gossip port (default 7421; the nodes use 3 in a row)
#   KIZUNA, KIZUNAD  use these binaries instead of building (tests do this)
#   KZ_DEMO_EXIT=1 set everything up, check it, stop the nodes and exit
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [ -z "${KIZUNA:-}" ] || [ -z "${KIZUNAD:-}" ]; then
  tools/install-deps.sh
  echo "demo: building (build/release) ..."
  tools/build.sh build/release >/dev/null
  KIZUNA=$root/build/release/tools/kizuna
  KIZUNAD=$root/build/release/node/kizunad
fi

demo=${KZ_DEMO_DIR:-$root/build/demo}
port0=${KZ_DEMO_PORT:-7421}
names=(a b c)
declare -A NAME=([a]="絆商事 (Kizuna Trading)" [b]="さくらシステムズ (Sakura Systems)" [c]="Aozora Bank")
declare -A PORT=([a]=$port0 [b]=$((port0 + 1)) [c]=$((port0 + 2)))
declare -A PID NID

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for n in "${names[@]}"; do
  if port_busy "${PORT[$n]}"; then
    echo "demo: port ${PORT[$n]} is in use; set KZ_DEMO_PORT to a free range" >&2
    exit 1
  fi
done

kz() { local n=$1; shift; "$KIZUNA" --data "$demo/$n" "$@"; }

stop_all() {
  for n in "${names[@]}"; do
    [ -n "${PID[$n]:-}" ] && kill -TERM "${PID[$n]}" 2>/dev/null || true
  done
  for n in "${names[@]}"; do
    [ -n "${PID[$n]:-}" ] && wait "${PID[$n]}" 2>/dev/null || true
  done
}
trap 'stop_all' EXIT
trap 'echo; echo "demo: stopping the three nodes ..."; stop_all; echo "demo: stopped cleanly."; trap - EXIT; exit 0' INT TERM

rm -rf "$demo"
mkdir -p "$demo"
"$KIZUNA" federation create --out "$demo/federation.key" >/dev/null

for n in "${names[@]}"; do
  NID[$n]=$("$KIZUNA" init --data "$demo/$n" --name "${NAME[$n]}" \
              --federation-key "$demo/federation.key" --listen "127.0.0.1:${PORT[$n]}")
  "$KIZUNAD" --data "$demo/$n" 2>"$demo/$n.log" &
  PID[$n]=$!
done
for n in "${names[@]}"; do
  for _ in $(seq 100); do
    [ -S "$demo/$n/control.sock" ] && break
    kill -0 "${PID[$n]}" 2>/dev/null || { echo "demo: node $n failed to start:" >&2; cat "$demo/$n.log" >&2; exit 1; }
    sleep 0.1
  done
done

# Peering as operators do it: each hands out the second line of `kizuna id`.
# A line a - b - c: records from a reach c through b (multi-hop).
peer_line() { kz "$1" id | sed -n 2p; }
# shellcheck disable=SC2046
kz b peer add $(peer_line a) >/dev/null
# shellcheck disable=SC2046
kz c peer add $(peer_line b) >/dev/null

member() { # node, then member add flags; prints the member id
  local n=$1; shift
  kz "$n" member add "$@"
}
SUZUKI=$(member a --name "鈴木 一郎" --reading "すずき いちろう" --romaji "Suzuki Ichiro" \
           --joined 2008 --left 2019 --department "営業部")
TANAKA=$(member a --name "田中 花子" --reading "たなか はなこ" --romaji "Tanaka Hanako" \
           --role secretariat --joined 2012 --department "人事部")
SATO=$(member b --name "佐藤 健" --reading "さとう けん" --romaji "Sato Ken" \
           --joined 2010 --left 2021 --department "開発部")
SMITH=$(member c --name "Emily Smith" --reading "えみりー すみす" --romaji "Emily Smith" \
           --joined 2015 --left 2022 --department "Risk")
WATANABE=$(member c --name "渡辺 美咲" --reading "わたなべ みさき" --romaji "Watanabe Misaki" \
           --joined 2016 --left 2023 --department "Risk")

kz a profile set "$SUZUKI" current_company="住友商事" current_title="Sales Engineer" \
     location="東京都" skills="営業,Go,negotiation" open_to=reconnect,mentoring \
     bio="元営業部。今は商社でエンジニア。" >/dev/null
kz b profile set "$SATO" current_company="Sakura Cloud" current_title="SRE" \
     location="大阪府" skills="Kubernetes,Linux" open_to=business >/dev/null
kz c profile set "$SMITH" current_company="住友商事" current_title="Risk Analyst" \
     location="London" skills="risk,Python" open_to=reconnect >/dev/null
kz c profile set "$WATANABE" current_company="Aozora Bank" current_title="Analyst" \
     location="神奈川県" skills="finance" visibility=company >/dev/null

kz a post "$SUZUKI" --room lounge --kind intro --nominate "$SATO" \
     "はじめまして、鈴木です。営業部に11年いました。次は佐藤さんにお願いします！" >/dev/null
kz b post "$SATO" --room lounge --kind request \
     "Looking for someone who knows risk models in banking — anyone?" >/dev/null
kz c post "$SMITH" --room lounge --kind promo \
     "I run a small consultancy for risk analytics; happy to help fellow alumni." >/dev/null

# Wait until every node holds every record (relayed a -> b -> c and back).
count() { kz "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])'; }
target=0
for _ in $(seq 300); do
  ca=$(count a); cb=$(count b); cc=$(count c)
  if [ "$ca" = "$cb" ] && [ "$cb" = "$cc" ] && [ "$ca" -gt 10 ]; then target=$ca; break; fi
  sleep 0.2
done
if [ "$target" = 0 ]; then
  echo "demo: the three nodes did not converge (a=$ca b=$cb c=$cc records); logs in $demo/*.log" >&2
  exit 1
fi

has_cmd() { "$KIZUNA" help 2>/dev/null | grep -qE "^ +$1( |$)"; }

cat <<EOF

kizuna demo: three companies' nodes are running on loopback, peered in a line
a - b - c, and every node holds all $target records (posts made on a reached c
through b).

  a  ${NAME[a]}  127.0.0.1:${PORT[a]}  data: $demo/a  log: $demo/a.log
  b  ${NAME[b]}  127.0.0.1:${PORT[b]}  data: $demo/b  log: $demo/b.log
  c  ${NAME[c]}  127.0.0.1:${PORT[c]}  data: $demo/c  log: $demo/c.log

Try (from another terminal):
  K="$KIZUNA"
  \$K --data $demo/c status
  \$K --data $demo/c peer list
  \$K --data $demo/a sync status
  \$K --data $demo/c profile show $SUZUKI          # a's alumnus, seen from c
  \$K --data $demo/a member list
  \$K --data $demo/b post $SATO --room lounge "こんにちは from b"
EOF
if has_cmd search; then
cat <<EOF
  \$K --data $demo/c search すずき                 # finds 鈴木 一郎 of company a
  \$K --data $demo/c search ｽｽﾞｷ
  \$K --data $demo/b search suzuki --json
  \$K --data $demo/a search "" --current-company 住友商事   # alumni of a and c
EOF
fi
if has_cmd feed; then
cat <<EOF
  \$K --data $demo/c feed --room lounge
  \$K --data $demo/b relay show
EOF
fi
echo
echo "Ctrl-C stops all three nodes."

if [ "${KZ_DEMO_EXIT:-0}" = 1 ]; then
  kz c profile show "$SUZUKI" >/dev/null
  stop_all
  trap - EXIT
  echo "demo: checked and stopped."
  exit 0
fi
wait
