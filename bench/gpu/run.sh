#!/usr/bin/env bash
# GPU check, run on the device machine from the repository root:
# builds the training-step benchmark against the machine's PyTorch LibTorch and runs it
# (eager and CUDA-graph replay) against PyTorch eager on the same GPU.
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
python3 -c 'import torch;print("torch", torch.__version__, "cuda", torch.version.cuda)'
cmake -S bench/gpu -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
  -DNLOHMANN_INCLUDE_DIR="$PWD/.gpu/include" -DCMAKE_CUDA_ARCHITECTURES=90 > "$OUT/cmake.log" 2>&1 || { tail -30 "$OUT/cmake.log"; exit 1; }
ninja -C build-gpu > "$OUT/build.log" 2>&1 || { grep -E "error" -A3 "$OUT/build.log" | head -40; exit 1; }
./build-gpu/bench_train_step --device cuda --batches 64,256,1024 --steps ${STEPS:-200} --warmup 20 --graph \
  --python python3 --json "$OUT/bench_train_gpu.json" 2>&1 | tee "$OUT/bench.txt"
# Mixed precision on the GPU: bf16 autocast and TF32, each against PyTorch doing the same.
for p in bf16 tf32; do
  ./build-gpu/bench_train_step --device cuda --batches 64,256,1024 --steps ${STEPS:-200} --warmup 20 --precision $p \
    --python python3 --json "$OUT/bench_train_gpu_$p.json" 2>&1 | tee "$OUT/bench_$p.txt"
done
