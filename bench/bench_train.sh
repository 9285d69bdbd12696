#!/bin/bash
# bench_train.sh — SGD epochs of a 784-600-10 ReLU net on the MNIST subset,
# batch 128, tdl and float64 PyTorch side by side in one run, same threads.
# usage: bench/bench_train.sh [BUILD_DIR] [EPOCHS] [THREADS]
# Prints seconds per epoch of each, the ratio torch/tdl (> 1: tdl faster), and
# the fraction of the machine's dgemm rate that tdl's epoch reaches.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
epochs=${2:-5}
threads=${3:-$(nproc)}
tdl=$build/tdl
[ -x "$tdl" ] || { echo "bench: build first (meson setup build && ninja -C build)" >&2; exit 1; }
py=/usr/bin/python3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

tdl_json=$("$tdl" train --data mnist --arch 784-600-10 --act relu --opt momentum --lr 0.1 \
    --batch 128 --epochs "$epochs" --eval-every 0 --threads "$threads" --quiet --json -o "$out/m.safetensors")
tdl_s=$(echo "$tdl_json" | sed -n 's/.*"seconds_per_epoch":\([^,}]*\).*/\1/p')
tdl_acc=$(echo "$tdl_json" | sed -n 's/.*"train_accuracy":\([^,}]*\).*/\1/p')
torch_json=$(OMP_NUM_THREADS=$threads "$py" "$top/bench/torch_train.py" "$top/data" "$epochs" "$threads")
torch_s=$(echo "$torch_json" | sed -n 's/.*"seconds_per_epoch": \([^,}]*\).*/\1/p')
torch_acc=$(echo "$torch_json" | sed -n 's/.*"train_accuracy": \([^,}]*\).*/\1/p')
gflops=$(OPENBLAS_NUM_THREADS=$threads "$build/bench/dgemm_rate" 2000 5)
# FLOPs of one epoch: per example, forward 2(784*600 + 600*10), weight
# gradients 2(784*600 + 600*10), the hidden delta 2*600*10.
awk -v a="$tdl_s" -v b="$torch_s" -v g="$gflops" -v ta="$tdl_acc" -v pa="$torch_acc" -v e="$epochs" -v t="$threads" 'BEGIN {
  flops = 10000 * (4 * (784 * 600 + 600 * 10) + 2 * 600 * 10);
  printf "bench train: 784-600-10 relu, MNIST subset (10000), batch 128, %d epochs, %d threads\n", e, t;
  printf "  tdl     %.4f s/epoch  (train accuracy %.4f)\n", a, ta;
  printf "  torch   %.4f s/epoch  (float64, train accuracy %.4f)\n", b, pa;
  printf "  ratio torch/tdl = %.2f  (> 1: tdl faster)\n", b / a;
  printf "  dgemm rate %.1f GFLOP/s; tdl epoch reaches %.1f GFLOP/s = %.0f%% of it\n", g, flops / a / 1e9, 100 * flops / a / 1e9 / g;
}'
