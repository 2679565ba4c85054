#!/usr/bin/env bash
# check-banned.sh: fails if C sources call functions the house style bans.
set -euo pipefail
cd "$(dirname "$0")/.."
hits=$(grep -rnE '\b(sprintf|vsprintf|strcpy|strcat|atoi|atol|strtok|gets)[[:space:]]*\(' \
         --include='*.c' --include='*.h' protocol store node tools tests || true)
if [ -n "$hits" ]; then
  echo "banned functions used (see ../shared/STYLE.md):" >&2
  echo "$hits" >&2
  exit 1
fi
echo "check-banned: ok"
