#!/bin/bash
# bench_landscape.sh — a 51 x 51 loss-landscape grid (random filter-normalized
# plane, mean cross-entropy and accuracy at every point) of a 64-128-10 ReLU
# net on digits (n = 1797, P = 9610): `tdl landscape` vs float64 PyTorch
# evaluating the same grid (same directions, read from tdl's -o file) the way
# the loss-landscape project does, one forward pass over the data per point.
# Each peer runs with THREADS threads and with one thread (PyTorch's OpenMP
# pool suffers badly on a shared 2-core machine); the ratio compares the
# best time of each.  PyTorch's losses are checked against tdl's.
# usage: bench/bench_landscape.sh [BUILD_DIR] [THREADS] [GRID]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
threads=${2:-$(nproc)}
n=${3:-51}
tdl=$build/tdl
py=/usr/bin/python3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
num() { sed -n "s/.*\"$1\": *\([^,}]*\).*/\1/p"; }

"$tdl" train --data digits --arch 64-128-10 --act relu --epochs 10 --quiet -o "$out/m.safetensors" >/dev/null
tdl_s=$("$tdl" landscape --model "$out/m.safetensors" --data digits --plane random --grid "$n" --threads "$threads" \
        -o "$out/grid.npz" --json | num seconds)
tdl_1=$("$tdl" landscape --model "$out/m.safetensors" --data digits --plane random --grid "$n" --threads 1 --json | num seconds)
torch_json=$(OMP_NUM_THREADS=$threads "$py" "$top/bench/torch_landscape.py" "$out/m.safetensors" "$out/grid.npz" "$top/data" "$threads")
torch_s=$(echo "$torch_json" | num seconds)
diff=$(echo "$torch_json" | num max_loss_diff)
torch_1=$(OMP_NUM_THREADS=1 "$py" "$top/bench/torch_landscape.py" "$out/m.safetensors" "$out/grid.npz" "$top/data" 1 | num seconds)
awk -v a="$tdl_s" -v a1="$tdl_1" -v b="$torch_s" -v b1="$torch_1" -v t="$threads" -v n="$n" -v d="$diff" 'BEGIN {
  printf "bench landscape: %d x %d grid, 64-128-10 relu on digits (P = 9610, n = 1797, ce + accuracy)\n", n, n;
  printf "    tdl landscape   %8.2f s with %d threads, %8.2f s with 1 (%.3f ms a point at best)\n", a, t, a1, 1000 * (a < a1 ? a : a1) / (n * n);
  printf "    torch           %8.2f s with %d threads, %8.2f s with 1 (%.3f ms a point at best)\n", b, t, b1, 1000 * (b < b1 ? b : b1) / (n * n);
  printf "    largest loss difference torch - tdl: %.2g\n", d;
  printf "    ratio torch/tdl = %.1f best vs best, %.1f at %d threads (target >= 3)\n", (b < b1 ? b : b1) / (a < a1 ? a : a1), b / a, t;
}'
