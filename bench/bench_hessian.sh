#!/bin/bash
# bench_hessian.sh — tdl and float64 PyTorch side by side, same threads:
#  1. the exact spectrum of a 64-64-10 ReLU net on digits (P = 4810, n = 1797, ce):
#     tdl hessian (assembly + LAPACK) vs torch.autograd.functional.hessian + eigvalsh,
#     and tdl's whole run against LAPACK's eigen-solve alone on a matrix of that size;
#  2. one Hessian-vector product of a 784-1000-10 ReLU net on the MNIST subset
#     (P = 795,010, n = 10,000, ce) vs PyTorch's double backward.
# usage: bench/bench_hessian.sh [BUILD_DIR] [THREADS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
threads=${2:-$(nproc)}
tdl=$build/tdl
py=/usr/bin/python3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
num() { sed -n "s/.*\"$1\": *\([^,}]*\).*/\1/p"; }

"$tdl" train --data digits --arch 64-64-10 --act relu --epochs 5 --quiet -o "$out/m.safetensors" >/dev/null
tdl_s=$("$tdl" hessian --model "$out/m.safetensors" --data digits --threads "$threads" --json | num seconds)
eig_s=$(OPENBLAS_NUM_THREADS=$threads "$build/bench/hessian_bench" eigen 4810)
torch_json=$(OMP_NUM_THREADS=$threads "$py" "$top/bench/torch_hessian.py" exact "$top/data" "$threads")
torch_s=$(echo "$torch_json" | num seconds)
torch_asm=$(echo "$torch_json" | num assembly_seconds)

tdl_hvp=$(OPENBLAS_NUM_THREADS=$threads "$build/bench/hessian_bench" hvp mnist 784-1000-10 3)
torch_hvp=$(OMP_NUM_THREADS=$threads "$py" "$top/bench/torch_hessian.py" hvp "$top/data" "$threads" 3 | num seconds_per_hvp)

awk -v a="$tdl_s" -v e="$eig_s" -v b="$torch_s" -v ba="$torch_asm" -v h="$tdl_hvp" -v th="$torch_hvp" -v t="$threads" 'BEGIN {
  printf "bench hessian (%d threads)\n", t;
  printf "  exact spectrum, 64-64-10 relu on digits (P = 4810, n = 1797, ce)\n";
  printf "    tdl hessian          %8.2f s (assembly + LAPACK dsyevd_2stage)\n", a;
  printf "    LAPACK alone         %8.2f s (random symmetric 4810 x 4810)\n", e;
  printf "    torch                %8.2f s (hessian %.2f s + eigvalsh)\n", b, ba;
  printf "    ratio torch/tdl = %.1f (target >= 15); tdl / LAPACK alone = %.2f (target <= 1.5)\n", b / a, a / e;
  printf "  Hessian-vector product, 784-1000-10 relu on MNIST (P = 795010, n = 10000, ce)\n";
  printf "    tdl %.3f s, torch %.3f s: ratio torch/tdl = %.2f (target >= 2)\n", h, th, th / h;
}'
