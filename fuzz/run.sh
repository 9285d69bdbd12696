#!/bin/sh
# fuzz/run.sh — build the libFuzzer harnesses with clang + ASan + UBSan and
# run each of them.
#
#   fuzz/run.sh [SECONDS] [PARSER ...]
#
# SECONDS   time per harness (default 60)
# PARSER    safetensors npy npz csv idx pt dataspec options (default: all;
#           pt is the torch.save .pt reader,
#           dataspec is the --data SPEC grammar, options the command-line
#           option parsers of src/cli/)
# env       BUILD_DIR (default build-fuzz at the top of the project),
#           FUZZ_JOBS harnesses run at the same time (default 1),
#           FUZZ_ARGS extra libFuzzer flags.
#
# Seeds come from fuzz/corpus/<parser>/ (never modified); new inputs go to
# $BUILD_DIR/corpus/<parser>/, crash/leak/timeout reproducers to
# $BUILD_DIR/artifacts/<parser>/ (emptied at the start of each run), logs to $BUILD_DIR/logs/<parser>.log.
# Exits 1 when any harness found something (or failed to run).
set -eu

secs=${1:-60}
[ $# -gt 0 ] && shift
parsers=${*:-safetensors npy npz csv idx pt dataspec options}
root=$(cd "$(dirname "$0")/.." && pwd)
bdir=${BUILD_DIR:-$root/build-fuzz}
jobs=${FUZZ_JOBS:-1}

if [ ! -f "$bdir/build.ninja" ]; then
    CC=clang meson setup "$bdir" "$root" -Dfuzz=true -Dtests=false \
        -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized
fi
targets=""
for p in $parsers; do targets="$targets fuzz/fuzz_$p"; done
# shellcheck disable=SC2086
ninja -C "$bdir" $targets

max_len() {
    case $1 in
        npy|csv) echo 4096 ;;
        dataspec) echo 2048 ;;
        options) echo 1024 ;;
        *) echo 16384 ;;
    esac
}

run_one() {
    p=$1
    mkdir -p "$bdir/corpus/$p" "$bdir/artifacts/$p" "$bdir/logs"
    dict=""
    [ -f "$root/fuzz/dict/$p.dict" ] && dict="-dict=$root/fuzz/dict/$p.dict"
    rm -rf "$bdir/artifacts/$p"
    mkdir -p "$bdir/artifacts/$p"
    rc=0
    # shellcheck disable=SC2086
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$bdir/fuzz/fuzz_$p" "$bdir/corpus/$p" "$root/fuzz/corpus/$p" \
        -max_total_time="$secs" -max_len="$(max_len "$p")" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$bdir/artifacts/$p/" $dict ${FUZZ_ARGS:-} \
        >"$bdir/logs/$p.log" 2>&1 || rc=$?
    echo "$rc" >"$bdir/logs/$p.status"
}

n=0
for p in $parsers; do
    rm -f "$bdir/logs/$p.status"
    run_one "$p" &
    n=$((n + 1))
    if [ "$n" -ge "$jobs" ]; then
        wait
        n=0
    fi
done
wait

bad=0
for p in $parsers; do
    st=$(cat "$bdir/logs/$p.status" 2>/dev/null || echo 99)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$bdir/logs/$p.log" | tail -n 1)
    found=$(find "$bdir/artifacts/$p" -type f | wc -l)
    if [ "$st" -eq 0 ] && [ "$found" -eq 0 ]; then
        result="nothing found"
    else
        result="FOUND (exit $st, $found artifact(s) in $bdir/artifacts/$p/)"
        bad=1
    fi
    printf '%-12s %6ss  %12s execs  %s\n' "$p" "$secs" "${execs:-?}" "$result"
done
exit $bad
