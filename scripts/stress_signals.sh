#!/bin/bash
# stress_signals.sh — the signal tests under load: runs cli-landscape and
# cli-report (both interrupt a running command with SIGINT / SIGTERM, on the
# event of the test hook TDL_TEST_PAUSE_AT, see src/cli/util.c) N times in a
# row while the unit suite runs over and over alongside, and counts the passes.
#
# usage: scripts/stress_signals.sh [BUILD_DIR] [N]
#   BUILD_DIR  a configured and built meson build directory (default: build)
#   N          repetitions (default: 20)
# The OpenBLAS environment is passed through, e.g.
#   OPENBLAS_CORETYPE=Prescott scripts/stress_signals.sh build-sig 20
# Prints one line per repetition and "cli-landscape: P of N passed,
# cli-report: P of N passed"; exits 1 unless every run passed.  The meson
# logs of a failed run are kept as BUILD_DIR/meson-logs/stress-<test>-<i>.txt.
set -u
cd "$(dirname "$0")/.."
B=${1:-build}
N=${2:-20}
[ -f "$B/build.ninja" ] || { echo "stress_signals.sh: $B is not a meson build directory" >&2; exit 2; }
ninja -C "$B" >/dev/null || { echo "stress_signals.sh: the build failed" >&2; exit 2; }

# the load: the unit suite in a loop (its own log base, no rebuild), ended on exit
(
    child=
    trap 'kill "$child" 2>/dev/null; exit 0' TERM
    while :; do
        meson test -C "$B" --no-rebuild --suite unit --logbase stress-load >/dev/null 2>&1 &
        child=$!
        wait "$child"
    done
) &
load=$!
trap 'kill "$load" 2>/dev/null; wait "$load" 2>/dev/null' EXIT

declare -A pass=([cli-landscape]=0 [cli-report]=0)
for i in $(seq 1 "$N"); do
    line="run $i/$N:"
    for t in cli-landscape cli-report; do
        if meson test -C "$B" --no-rebuild --logbase "stress-$t" "$t" >/dev/null 2>&1; then
            pass[$t]=$((pass[$t] + 1))
            line="$line $t ok"
        else
            cp "$B/meson-logs/stress-$t.txt" "$B/meson-logs/stress-$t-$i.txt"
            line="$line $t FAILED ($(grep -m 3 '^FAIL' "$B/meson-logs/stress-$t.txt" | tr '\n' ' '))"
        fi
    done
    echo "$line (load $(cut -d' ' -f1 /proc/loadavg))"
done
echo "cli-landscape: ${pass[cli-landscape]} of $N passed, cli-report: ${pass[cli-report]} of $N passed"
[ "${pass[cli-landscape]}" -eq "$N" ] && [ "${pass[cli-report]}" -eq "$N" ]
