#!/bin/bash
# bench_lanczos.sh — a few extreme eigenvalues: tdl's Lanczos against scipy's
# eigsh (ARPACK, implicitly restarted Lanczos) on PyTorch float64
# Hessian-vector products, same threads; and the dense partial spectrum.
#  1. top-K (default 5) of the Hessian of the mean cross-entropy of a
#     784-8-10 ReLU net (5 epochs of tdl train) on mnist:split=train,n=2000
#     (P = 6370): best of 3 of
#       tdl, residual test + multiplicity check (what `tdl hessian` ran)
#       tdl, TDL_LANCZOS_STOP_ON_BOUND + multiplicity check
#       tdl, TDL_LANCZOS_STOP_ON_BOUND alone
#       eigsh tol=0 (ARPACK's default: machine precision) and tol=1e-10
#     with the products each used, the time per product of each side, and
#     the largest difference between the two sides' values;
#  2. the dense symmetric eigen-solve of a random P x P matrix (default
#     5000), whole spectrum (dsyevd_2stage) against the top 10 by index
#     range (dsyevr_2stage), values only: what `tdl hessian --method exact
#     --k 10` costs against the full spectrum once H is assembled.
# usage: bench/bench_lanczos.sh [BUILD_DIR] [THREADS] [K] [DENSE_P]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
threads=${2:-$(nproc)}
k=${3:-5}
dense_p=${4:-5000}
tdl=$build/tdl
bench=$build/bench/lanczos_bench
py=/usr/bin/python3
spec="mnist:split=train,n=2000"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
num() { sed -n "s/.*\"$1\": *\([^,}]*\).*/\1/p"; }
export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads

"$tdl" train --data "$spec" --arch 784-8-10 --act relu --epochs 5 --quiet -o "$out/m.safetensors" >/dev/null
"$bench" export "$out/m.safetensors" "$spec" "$out"
t_old=$("$bench" lanczos "$out/m.safetensors" "$spec" "$k" 3 2)
t_new=$("$bench" lanczos "$out/m.safetensors" "$spec" "$k" 3 6)
t_bare=$("$bench" lanczos "$out/m.safetensors" "$spec" "$k" 3 4)
e_0=$("$py" "$top/bench/torch_lanczos.py" "$out" "$threads" "$k" 3 0)
e_10=$("$py" "$top/bench/torch_lanczos.py" "$out" "$threads" "$k" 3 1e-10)
diff=$("$py" -c '
import json, sys
a = json.loads(sys.argv[1])["values"]; b = json.loads(sys.argv[2])["values"]
print(max(abs(x - y) for x, y in zip(a, b)))' "$t_new" "$e_0")
dense=$("$bench" partial "$dense_p" 10 1)

row() { # label json
  printf "    %-44s %7.3f s %5d products  (%.2f ms each)\n" "$1" "$(echo "$2" | num seconds)" \
    "$(echo "$2" | num matvecs)" "$(awk -v s="$(echo "$2" | num seconds_per_hvp)" 'BEGIN{print 1000*s}')"
}
echo "bench lanczos ($threads threads; load: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "  top-$k of the Hessian, 784-8-10 relu on $spec (P = $(echo "$t_new" | num P), ce), best of 3"
row "tdl, residual test + multiplicity check" "$t_old"
row "tdl, stop on bound + multiplicity check" "$t_new"
row "tdl, stop on bound" "$t_bare"
row "eigsh (ARPACK) tol=0, torch HVPs" "$e_0"
row "eigsh (ARPACK) tol=1e-10, torch HVPs" "$e_10"
awk -v a="$(echo "$t_new" | num matvecs)" -v b="$(echo "$e_0" | num matvecs)" \
    -v ta="$(echo "$t_new" | num seconds)" -v tb="$(echo "$e_0" | num seconds)" -v d="$diff" 'BEGIN {
  printf "    products eigsh(tol=0)/tdl(stop on bound + check) = %.2f (target >= 1); time ratio %.2f\n", b / a, tb / ta;
  printf "    max |tdl - eigsh| over the %s values: %.2e\n", "'"$k"'", d;
}'
echo "    tdl error bounds: $(echo "$t_new" | sed -n 's/.*"error_bounds": \[\([^]]*\)\].*/\1/p')"
awk -v f="$(echo "$dense" | num full_seconds)" -v p="$(echo "$dense" | num partial_seconds)" -v n="$dense_p" 'BEGIN {
  printf "  dense eigenvalues of a random symmetric %d x %d matrix\n", n, n;
  printf "    whole spectrum (dsyevd_2stage) %8.2f s\n", f;
  printf "    top 10 (dsyevr_2stage)         %8.2f s   ratio whole/top-10 = %.2f (target > 1)\n", p, f / p;
}'
