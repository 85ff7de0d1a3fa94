#!/usr/bin/env bash
# Runs every benchmark built in BUILD and collects their JSON into bench-results/.
# Each benchmark measures ved and its reference (SciPy, PyTorch, scikit-learn) in the
# same run and reports the ratio.
set -euo pipefail
build=${1:-build}
out=${2:-bench-results}
mkdir -p "$out"
export OPENBLAS_NUM_THREADS=1
for b in "$build"/bench/bench_*; do
  [[ -x "$b" && -f "$b" ]] || continue
  name=$(basename "$b")
  echo "== $name"
  "$b" --json "$out/$name.json"
done
# Generation throughput: 20,000 Hanford realisations on all cores.
start=$(date +%s.%N)
"$build"/apps/ved/ved generate --samples 20000 --seed 1 --out "$out/gen20k.h5" | tail -1
end=$(date +%s.%N)
/usr/bin/python3 - "$out" "$start" "$end" <<'PY'
import glob, json, os, sys
out, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
results = {"generate_20000_wall_s": end - start, "cores": os.cpu_count()}
for f in sorted(glob.glob(f"{out}/bench_*.json")):
    results[os.path.basename(f)[:-5]] = json.load(open(f))
json.dump(results, open(f"{out}/results.json", "w"), indent=2)
rows = ["| benchmark | metric | value |", "|---|---|---|"]
for name, r in results.items():
    if isinstance(r, dict):
        for k, v in r.items():
            if isinstance(v, (int, float)):
                rows.append(f"| {name} | {k} | {v:.4g} |")
    else:
        rows.append(f"| total | {name} | {r:.4g} |")
open(f"{out}/results.md", "w").write("\n".join(rows) + "\n")
print("\n".join(rows))
PY
rm -f "$out/gen20k.h5"
