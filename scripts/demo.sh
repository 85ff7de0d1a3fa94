#!/usr/bin/env bash
# The main job on the embedded Hanford model: generate a dataset and summarise it.
set -euo pipefail
ved=${1:-build/apps/ved/ved}
out=${2:-demo-out}
mkdir -p "$out"
"$ved" generate --samples 4000 --seed 1 --out "$out/hanford.h5"
"$ved" info "$out/hanford.h5"
