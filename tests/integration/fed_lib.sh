# fed_lib.sh: helpers for the federation tests (sourced, not run): private
# ports, temp data directories, real kizunad processes killed on exit, and
# waiting for convergence.
set -euo pipefail

: "${KIZUNAD:?set KIZUNAD to the kizunad binary}"
: "${KIZUNA:?set KIZUNA to the kizuna binary}"
KZ_GEN=${KZ_GEN:-$(dirname "$KIZUNA")/kz-gen}
[ -x "$KZ_GEN" ] || { echo "FAIL: kz-gen not found at $KZ_GEN (build target kz-gen)" >&2; exit 1; }

T=$(mktemp -d /tmp/kz-fed-XXXXXX)
declare -A PID PORT NID
USED_PORTS=" "

cleanup() {
    local rc=$?
    for n in "${!PID[@]}"; do kill -9 "${PID[$n]}" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "$rc" != 0 ] && [ -n "${KZ_KEEP:-}" ]; then
        echo "kept $T" >&2
    else
        rm -rf "$T"
    fi
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    for f in "$T"/*.log; do
        [ -f "$f" ] || continue
        echo "---- last lines of $(basename "$f")" >&2
        tail -15 "$f" >&2
    done
    exit 1
}
ok() { echo "ok - $*"; }

# A free loopback port in 20000-60000 that this run has not handed out yet.
pick_port() {
    local p
    for _ in $(seq 1 100); do
        p=$((20000 + RANDOM % 40000))
        case "$USED_PORTS" in *" $p "*) continue ;; esac
        if python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', $p))" 2>/dev/null; then
            USED_PORTS="$USED_PORTS$p "
            echo "$p"
            return 0
        fi
    done
    fail "no free port"
}

# mk NAME FEDKEY: a data directory $T/NAME with a fast reconciliation schedule.
mk() {
    local name=$1 fed=$2
    PORT[$name]=$(pick_port)
    NID[$name]=$("$KIZUNA" init --data "$T/$name" --name "$name corp" --federation-key "$fed" \
        --listen "127.0.0.1:${PORT[$name]}" --http "127.0.0.1:$(pick_port)") ||
        fail "init $name"
    # Tests reconcile every second instead of every minute.
    sed -i "s/^\[node\]\$/[node]\nsync_interval = ${SYNC_INTERVAL:-1}/" "$T/$name/kizuna.conf"
}

# start NAME: run kizunad and wait until it answers on its control socket.
start() {
    local name=$1
    "$KIZUNAD" --data "$T/$name" --log-level "${LOG_LEVEL:-info}" 2>>"$T/$name.log" &
    PID[$name]=$!
    for _ in $(seq 1 200); do
        "$KIZUNA" --data "$T/$name" status >/dev/null 2>&1 && return 0
        kill -0 "${PID[$name]}" 2>/dev/null || fail "kizunad $name exited at start"
        sleep 0.05
    done
    fail "kizunad $name did not start"
}

stop() { # SIGTERM and expect a clean exit
    local name=$1 rc
    kill -TERM "${PID[$name]}"
    set +e; wait "${PID[$name]}"; rc=$?; set -e
    unset "PID[$name]"
    [ "$rc" = 0 ] || fail "kizunad $name exited with $rc after SIGTERM"
}

kill9() {
    local name=$1
    kill -9 "${PID[$name]}"
    wait "${PID[$name]}" 2>/dev/null || true
    unset "PID[$name]"
}

kz() { local name=$1; shift; "$KIZUNA" --data "$T/$name" "$@"; }

# peer A B: A dials B.
peer() { kz "$1" peer add "127.0.0.1:${PORT[$2]}" "${NID[$2]}" >/dev/null || fail "peer add $1 -> $2"; }

nrec() { kz "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])'; }

gen() { # gen NAME MEMBERS POSTS (node stopped)
    "$KZ_GEN" --data "$T/$1" --members "$2" --posts "$3" >/dev/null || fail "kz-gen $1"
}

# wait_count EXPECTED TIMEOUT_S NAME...: every node holds EXPECTED records.
wait_count() {
    local want=$1 secs=$2; shift 2
    secs=$((secs * ${KZ_TEST_TIME_SCALE:-1}))  # sanitizer builds run slower
    local deadline=$((SECONDS + secs)) n got
    while :; do
        local all=1 line=""
        for n in "$@"; do
            got=$(nrec "$n" 2>/dev/null || echo "?")
            line="$line $n=$got"
            [ "$got" = "$want" ] || all=0
        done
        [ "$all" = 1 ] && return 0
        [ "$SECONDS" -ge "$deadline" ] && fail "no convergence on $want records within ${secs}s:$line"
        sleep 0.2
    done
}

# wait_record ID TIMEOUT_S NAME...: the record is stored on every node.
wait_record() {
    local id=$1 secs=$2; shift 2
    secs=$((secs * ${KZ_TEST_TIME_SCALE:-1}))  # sanitizer builds run slower
    local deadline=$((SECONDS + secs)) n
    for n in "$@"; do
        until kz "$n" record show "$id" >/dev/null 2>&1; do
            [ "$SECONDS" -ge "$deadline" ] && fail "record $id did not reach $n within ${secs}s"
            sleep 0.1
        done
    done
}

# wait_gone ID TIMEOUT_S NAME...: the record is absent (purged) on every node.
wait_gone() {
    local id=$1 secs=$2; shift 2
    secs=$((secs * ${KZ_TEST_TIME_SCALE:-1}))  # sanitizer builds run slower
    local deadline=$((SECONDS + secs)) n
    for n in "$@"; do
        while kz "$n" record show "$id" >/dev/null 2>&1; do
            [ "$SECONDS" -ge "$deadline" ] && fail "record $id still on $n after ${secs}s"
            sleep 0.1
        done
    done
}

# peer_state NAME NODE: state of NODE in NAME's peer list ("" when absent).
peer_state() {
    kz "$1" peer list --json | python3 -c '
import json, sys
want = sys.argv[1]
for p in json.load(sys.stdin):
    if p["node_id"] == want:
        print(p["state"])' "${NID[$2]}"
}

# wait_member ID NAME...: member ID's attestation has reached every node
# named (profile show answers there), within 10 s (scaled).
wait_member() {
    local m=$1 n i; shift
    for n in "$@"; do
        for i in $(seq 1 $((100 * ${KZ_TEST_TIME_SCALE:-1}))); do
            kz "$n" profile show "$m" >/dev/null 2>&1 && break
            sleep 0.1
        done
        kz "$n" profile show "$m" >/dev/null 2>&1 || fail "member $m did not reach $n"
    done
}

log_has() { grep -q -- "$2" "$T/$1.log" || fail "expected '$2' in $1.log"; }

# member NAME: add a member on NAME, print its id.
member() { kz "$1" member add --name "Test $RANDOM" --reading "てすと" --romaji "Tesuto"; }
