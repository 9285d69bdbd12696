#!/bin/sh
# test.sh — set up, build and run every test suite:
#   1. the meson test suites (unit, cli, proofs) on the release build, once for
#      each OpenBLAS kernel a user may run: pinned to Haswell (AVX2), with
#      OPENBLAS_CORETYPE unset (this CPU's own detection, as on users'
#      machines), and pinned to the generic Prescott kernels with tdl's switch
#      turned off (TDL_BLAS_CORE=keep: what OpenBLAS runs on a CPU it does not
#      recognize); tests compare at tolerances that hold on every kernel;
#   2. the same suites built with AddressSanitizer + UndefinedBehaviorSanitizer
#      (leaks included: a leak turns a command's exit status non-zero);
#   3. the CLI tests with tdl under valgrind memcheck;
#   4. every libFuzzer harness for a short bounded time on its committed corpus.
# Prints a closing line "N passed, N failed" counting the suites of all phases.
# usage: sh scripts/test.sh [--quick]   (--quick: phase 1 with this machine's kernel only)
set -eu
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1
TDL_WITH_CHECKERS=$((1 - quick)) sh scripts/setup.sh
passed=0
failed=0
count() { # count suites of a meson test log
    ok=$(grep -c '"result": "OK"' "$1/meson-logs/testlog.json" || true)
    bad=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$1/meson-logs/testlog.json" || true)
    passed=$((passed + ok))
    failed=$((failed + bad))
}
phase() { echo; echo "== $*"; }
record() { if [ "$1" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $2"; fi; }

release() { # KERNEL-LABEL ENV...: the release suites under one OpenBLAS kernel
    label=$1; shift
    phase "test suites (release build, OpenBLAS kernel: $label)"
    env "$@" meson test -C build --print-errorlogs --num-processes 2 || true
    count build
}
if [ "$quick" -eq 1 ]; then
    release "as set in this environment"
else
    release "Haswell, pinned" OPENBLAS_CORETYPE=Haswell
    release "unset: this CPU's detection" -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE -u TDL_BLAS_CORE
    release "generic Prescott, tdl's switch off" OPENBLAS_CORETYPE=Prescott TDL_BLAS_CORE=keep
fi

if [ "$quick" -eq 0 ]; then
    phase "test suites under AddressSanitizer + UndefinedBehaviorSanitizer"
    if [ ! -f build-asan/build.ninja ]; then
        meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized >/dev/null
    fi
    ninja -C build-asan >/dev/null
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        meson test -C build-asan --print-errorlogs --num-processes 2 --no-suite determinism || true
    count build-asan

    # valgrind runs tdl 20-50x slower: CI takes the CLI tests that cover every
    # command's paths quickly; `VALGRIND_ALL=1 sh scripts/test.sh` runs them all
    # (README: last full result).
    phase "CLI tests under valgrind memcheck"
    vg_tests="tests/cli/test_foundation.sh tests/cli/test_hessian.sh"
    [ "${VALGRIND_ALL:-0}" = 1 ] && vg_tests=$(ls tests/cli/test_*.sh | grep -v -e install -e blas)
    for t in $vg_tests; do
        rc=0
        TDL_REAL=$PWD/build/tdl bash "$t" tests/cli/valgrind-tdl.sh "$PWD/tests/fixtures" || rc=$?
        record $rc "valgrind $t"
    done

    phase "fuzzing: every parser for 20 s (ASan + UBSan)"
    rc=0
    FUZZ_JOBS=2 sh fuzz/run.sh 20 || rc=$?
    record $rc "fuzz/run.sh"
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
