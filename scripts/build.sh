#!/usr/bin/env bash
# Configure and build one build type. Usage: scripts/build.sh [Release|Sanitize|Debug] [DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
type="${1:-Release}"
dir="${2:-$root/build}"
[[ "$type" == Release ]] || dir="${2:-$root/build-$(echo "$type" | tr A-Z a-z)}"
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE="$type" >/dev/null
cmake --build "$dir" -j"$(nproc)"
