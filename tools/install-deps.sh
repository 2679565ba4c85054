#!/usr/bin/env bash
# install-deps.sh: installs every build, run and test dependency of kizuna
# from Debian 12 packages. Idempotent and quiet when all is already there.
set -euo pipefail

PACKAGES=(
  # toolchain
  gcc make cmake pkg-config clang libclang-rt-14-dev
  # libraries (found with pkg-config)
  libuv1-dev libmsgpack-dev libsodium-dev liblmdb-dev libutf8proc-dev
  libjansson-dev libinih-dev libcmocka-dev
  # benchmarks only (tools/bench/bench_search compares with SQLite FTS5)
  libsqlite3-dev
  # operator tools and test helpers
  lmdb-utils python3 procps
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
