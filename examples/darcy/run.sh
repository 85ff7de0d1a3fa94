#!/usr/bin/env bash
# A VED on data ved does not generate itself: 2-D Darcy flow on a 16x16 grid, binary
# coefficient field a -> solution u, given only as .npy files (see README.md).
#
#   examples/darcy/run.sh [BUILD_DIR] [WORK_DIR]        # defaults: build, darcy-out
set -euo pipefail
build=${1:-build}
work=${2:-darcy-out}
ved=$build/apps/ved/ved
mkdir -p "$work"

# 1. The data: x_train.npy [1000, 16, 16], y_train.npy [1000, 256], 50 test pairs.
"$build/examples/darcy_data" --out "$work/data" --n 16 --train 1000 --test 50 --length 0.3 --seed 1
d=$work/data

# 2. The best ridge regression (alpha by exact leave-one-out) on the same files.
"$ved" baseline --method ridge --x "$d/x_train.npy" --y "$d/y_train.npy" \
  --test-x "$d/x_test.npy" --test-y "$d/y_test.npy" --json > "$work/ridge.json"

# 3. ved's default VED with r = 32, from the files alone, scored on the test pairs.
rm -rf "$work/ved"
"$ved" train --x "$d/x_train.npy" --y "$d/y_train.npy" --latent 32 --out "$work/ved" --quiet
"$ved" eval --model "$work/ved" --x "$d/x_test.npy" --y "$d/y_test.npy" --split all --json > "$work/ved.json"

rel() { grep -o '"rel_l2":[-0-9.e]*' "$1" | cut -d: -f2; }
awk -v r="$(rel "$work/ridge.json")" -v v="$(rel "$work/ved.json")" 'BEGIN {
  printf "test rel_l2: ridge %.4f, VED (r = 32) %.4f, ratio %.3f\n", r, v, v / r }'
