#!/usr/bin/env bash
# build.sh: configure and build kizuna into build/release (or $1 as build dir).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build/release}
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
