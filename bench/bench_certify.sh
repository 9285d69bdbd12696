#!/bin/bash
# bench_certify.sh — the anchor runs of issue 19 (`tdl certify`, default
# settings) on the shipped MNIST subset, one at a time, with wall time and
# peak memory (GNU time), and the m = 2k / 4k / 8k table.
# usage: bench/bench_certify.sh [BUILD_DIR] [THREADS] [quick]
#   quick: only the two anchors (10 classes, binary=5)
# Prints one line a run: name, certificate, stochastic and mean-net test
# errors, KL, m_bound, seconds, peak resident memory.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
threads=${2:-$(nproc)}
mode=${3:-full}
tdl=$build/tdl
[ -x "$tdl" ] || { echo "bench: build first (meson setup build && ninja -C build)" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "bench: needs GNU time (/usr/bin/time)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "bench certify: $(nproc) cores, $threads threads, load $(cut -d' ' -f1-3 /proc/loadavg)"
one() { # NAME ARGS...
    local name=$1
    shift
    /usr/bin/time -f "%e %M" -o "$out/time" "$tdl" certify "$@" --threads "$threads" --quiet --json >"$out/j"
    /usr/bin/python3 - "$out/j" "$out/time" "$name" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
wall, kb = open(sys.argv[2]).read().split()[-2:]
print("%-28s certificate %.4f  stochastic test %.4f  mean net test %.4f  KL %.3f  m_bound %d  %.1f s  %.0f MB"
      % (sys.argv[3], d["certificate"], d["stochastic_test_error"], d["mean_net_test_error"], d["kl"], d["m_bound"],
         float(wall), int(kb) / 1024))
PY
}
one "10 classes, m=8000" --data mnist:split=train --test mnist:split=test --arch 784-600-600-10
one "binary=5, m=8000" --data mnist:split=train,binary=5 --test mnist:split=test,binary=5 --arch 784-600-600-1
[ "$mode" = quick ] && exit 0
one "binary=5, random labels" --data mnist:split=train,binary=5,random-labels=1 \
    --test mnist:split=test,binary=5,random-labels=1 --arch 784-600-600-1
for n in 2000 4000; do
    one "10 classes, m=$n" --data mnist:split=train,n=$n --test mnist:split=test --arch 784-600-600-10
    one "binary=5, m=$n" --data mnist:split=train,n=$n,binary=5 --test mnist:split=test,binary=5 --arch 784-600-600-1
done
