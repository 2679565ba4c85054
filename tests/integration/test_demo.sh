#!/usr/bin/env bash
# test_demo.sh: the README's main job (tools/demo.sh) sets up three peered
# nodes that converge, then stops them cleanly; run with the built binaries.
set -euo pipefail
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
port=$((20000 + RANDOM % 30000))
out=$(KZ_DEMO_EXIT=1 KZ_DEMO_DIR="$T/demo" KZ_DEMO_PORT=$port \
      timeout 180 bash "$KZ_SOURCE_DIR/tools/demo.sh")
echo "$out" | grep -q "every node holds all" || { echo "demo did not converge:"; echo "$out"; exit 1; }
echo "$out" | grep -q "demo: checked and stopped." || { echo "demo did not stop cleanly"; exit 1; }
for n in a b c; do
  grep -q "stopped cleanly" "$T/demo/$n.log" || { echo "node $n did not stop cleanly"; tail "$T/demo/$n.log"; exit 1; }
  [ ! -e "$T/demo/$n/control.sock" ] || { echo "node $n left its socket"; exit 1; }
done
echo "ok - demo federation of three nodes converges and stops cleanly"
