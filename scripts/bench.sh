#!/usr/bin/env bash
# Runs every benchmark built in BUILD and collects their JSON into OUT (bench-results/):
# results.json (everything) and results.md (one row per item: ved's figure, the reference
# measured in the same run, the ratio and the target). Each benchmark measures ved and its
# reference (SciPy, PyTorch, scikit-learn) in the same run.
#   scripts/bench.sh [BUILD] [OUT]
set -euo pipefail
build=${1:-build}
out=${2:-bench-results}
mkdir -p "$out"
rm -f "$out"/bench_*.json
export OPENBLAS_NUM_THREADS=1
for b in "$build"/bench/bench_*; do
  [[ -x "$b" && -f "$b" ]] || continue
  name=$(basename "$b")
  if [[ "$name" == bench_train_step ]]; then
    # The training step at 1 and 2 threads (batches 64 and 256 each), PyTorch eager alongside.
    for t in 1 2; do
      echo "== $name --threads $t"
      "$b" --threads "$t" --batches 64,256 --json "$out/${name}_${t}t.json"
    done
    # Mixed precision (ved train --precision bf16) against PyTorch's bf16 autocast.
    echo "== $name --threads 1 --precision bf16"
    "$b" --threads 1 --batches 64,256 --precision bf16 --json "$out/${name}_1t_bf16.json"
    continue
  fi
  echo "== $name"
  "$b" --json "$out/$name.json"
done
# Generation throughput: 20,000 Hanford realisations on all cores.
echo "== ved generate --samples 20000"
start=$(date +%s.%N)
"$build"/apps/ved/ved generate --samples 20000 --seed 1 --out "$out/gen20k.h5" | tail -1
end=$(date +%s.%N)
rm -f "$out/gen20k.h5"
/usr/bin/python3 "$(dirname "$0")/bench_table.py" "$out" "$start" "$end"
