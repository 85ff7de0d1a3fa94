#!/usr/bin/env python3
"""Collects bench-results/bench_*.json into results.json and writes results.md: one row per
item with ved's figure, the reference measured in the same run, the ratio and the target.

usage: bench_table.py OUT START END   (START/END: wall clock around `ved generate`, or
                                       - - to keep the generation time already in results.json)
"""
import glob, json, os, platform, sys, time
out = sys.argv[1]
previous = {}
if os.path.exists(f"{out}/results.json"):
    previous = json.load(open(f"{out}/results.json"))
def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
gen = (float(sys.argv[3]) - float(sys.argv[2])) if sys.argv[2] != "-" else previous.get("generate_20000_wall_s")
r = {"generate_20000_wall_s": gen, "cores": os.cpu_count(), "machine": cpu_model(),
     "date": time.strftime("%Y-%m-%d %H:%M"), "load_average_at_end": os.getloadavg()}
if sys.argv[2] == "-":  # regenerating the table of an earlier run
    for k in ("date", "load_average_at_end", "machine"):
        if k in previous:
            r[k] = previous[k]
for f in sorted(glob.glob(f"{out}/bench_*.json")):
    r[os.path.basename(f)[:-5]] = json.load(open(f))
json.dump(r, open(f"{out}/results.json", "w"), indent=2)

def num(v, unit=""):
    if v is None: return "—"
    return (f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}") + unit

rows = []
def ratio(v):
    return "—" if v is None else f"{v:.2f}×"

def row(item, ved, ref, ratio, target):
    rows.append(f"| {item} | {ved} | {ref} | {ratio} | {target} |")

t = r.get("bench_tpfa", {})
if t:
    row("Hanford TPFA solves, 1 thread", num(t.get("ved_solves_per_s_1t"), " /s"),
        "SciPy assembly + spsolve: " + num(t.get("scipy_solves_per_s"), " /s"), ratio(t.get("ratio_1t_vs_scipy")), "≥ 10×")
    if "ved_solves_per_s_2t" in t:
        row("Hanford TPFA solves, 2 threads", num(t["ved_solves_per_s_2t"], " /s"), "—", "—", "—")
    if "command_ms_per_field" in t:
        row(f"`ved solve` command, {t['fields']:,} fields, 1 thread", num(t["command_ms_per_field"], " ms/field"),
            "in-process `solve_batch`: " + num(1e3 / t["ved_solves_per_s_1t"], " ms/field"),
            ratio(t.get("ratio_command_vs_solve_batch")), "≤ 1.2×")
        if "ratio_command_vs_scipy" in t:
            row("`ved solve` command against SciPy per field", num(t["command_ms_per_field"], " ms/field"),
                "SciPy assembly + spsolve: " + num(1e3 / t["scipy_solves_per_s"], " ms/field"),
                ratio(t["ratio_command_vs_scipy"]), "≥ 10× (stretch 30×)")
row(f"20,000 Hanford realisations, `ved generate`, {r['cores']} cores", num(r["generate_20000_wall_s"], " s"), "—", "—", "< 30 s")
def training_rows(result, label, reference, target):
    """Rows of one bench_train_step run: batches 64 and 256 against its PyTorch reference."""
    ref = result.get("reference", {})
    for b in (64, 256):
        k = f"samples_per_s_b{b}"
        if "ved_" + k in result:
            row(label.format(b=b), num(result["ved_" + k], " samples/s"), reference + num(ref.get(k), " samples/s"),
                ratio(result.get(f"ratio_eager_b{b}")), target)

for th in (1, 2):
    training_rows(r.get(f"bench_train_step_{th}t", {}),
                  "training step, default model, batch {b}, " + f"{th} thread{'s' if th > 1 else ''}",
                  "PyTorch eager: ", "≥ 1.0× (stretch 1.5×)")
training_rows(r.get("bench_train_step_1t_bf16", {}), "training step, batch {b}, 1 thread, `--precision bf16`",
              "PyTorch eager, bf16 autocast: ", "—")
inf = r.get("bench_scaling", {}).get("inference", {})
for th in (1, 2):
    k = f"{th}t"
    if f"predict_per_s_{k}" in inf:
        row(f"heads at the wells, {inf['fields']:,} fields, `predict`, {th} thread{'s' if th > 1 else ''}",
            num(inf[f"predict_per_s_{k}"], " /s") + f" (eager network {num(inf.get(f'predict_eager_per_s_{k}'), ' /s')})",
            "TPFA `solve_batch`: " + num(inf[f"solve_per_s_{k}"], " /s"), ratio(inf[f"solve_over_predict_{k}"]), "—")
bl = r.get("bench_baselines", {})
if "ved_cca_fit_s_1t" in bl:
    row("CCA fit, all directions, n = 3000, 1 thread", num(bl["ved_cca_fit_s_1t"], " s"),
        f"sklearn CCA ({bl.get('sklearn_components', '?')} components): {num(bl.get('sklearn_cca_fit_s'), ' s')}",
        ratio(bl.get("ratio_sklearn_vs_ved_1t")), "≥ 10×")
    row("CCA fit, same", num(bl["ved_cca_fit_s_1t"], " s"), "NumPy SVD version: " + num(bl.get("numpy_cca_fit_s"), " s"),
        ratio(bl.get("ratio_numpy_vs_ved_1t")), "—")
md = [f"Benchmarks, {r['date']}, {r['cores']} cores ({r['machine']}), load average at the end "
      f"{' '.join(f'{x:.2f}' for x in r['load_average_at_end'])}. Ratio = reference time / ved time.", "",
      "| item | ved | reference, same run | ratio | target |", "|---|---|---|---|---|"] + rows
open(f"{out}/results.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
