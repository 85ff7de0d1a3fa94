#!/usr/bin/env bash
# The main job on the embedded Hanford model: the whole study (generate, train VEDs and
# baselines, sweep, report) at the quick scale. Rerunning continues an interrupted run.
set -euo pipefail
ved=${1:-build/apps/ved/ved}
out=${2:-demo-out}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1   # one thread per run; the sweep runs one per core
"$ved" demo --out "$out" "${@:3}"
