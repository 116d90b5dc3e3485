#!/usr/bin/env bash
# Install the Debian packages unlearnbench needs, only those that are missing (no network use
# when everything is there). Run as root on Debian bookworm.
# Usage: scripts/deps.sh [--python] [--fuzz]
#   --python  also the python3-* packages the reference scripts and their tests import.
#   --fuzz    also clang and its OpenMP runtime (scripts/fuzz.sh: libFuzzer).
set -euo pipefail
pkgs=(cmake make gcc pkg-config libopenblas-dev libhdf5-dev libinih-dev librandom123-dev
      libssl-dev libcjson-dev libopenmpi-dev openmpi-bin)
for a in "$@"; do
  case $a in
    --python) pkgs+=(python3 python3-numpy python3-h5py python3-torch python3-scipy python3-sklearn python3-matplotlib) ;;
    --fuzz) pkgs+=(clang libomp-dev) ;;
    *) echo "deps.sh: unknown option '$a' (--python, --fuzz)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
