#!/usr/bin/env bash
# Installs the Debian packages ved needs, skipping those already installed.
#   scripts/install-deps.sh            build + run dependencies
#   scripts/install-deps.sh --test     also the Python references used by tests/benchmarks, and clang
set -euo pipefail

packages=(g++ cmake ninja-build ccache pkg-config
          libeigen3-dev libsuitesparse-dev libopenblas-dev libhdf5-dev hdf5-tools
          libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libgtest-dev libtorch-dev
          gnuplot-nox libopenmpi-dev openmpi-bin libzip-dev pybind11-dev python3-dev python3-numpy)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(python3-numpy python3-scipy python3-sklearn python3-h5py python3-torch
             clang libclang-rt-dev)  # the checked job: sanitizers and libFuzzer
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "error: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
