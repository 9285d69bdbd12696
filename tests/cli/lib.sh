# lib.sh — a tiny assertion library for the CLI tests (sourced).
# Each check prints "ok"/"FAIL" lines; finish prints "N passed, N failed".
passed=0
failed=0
WORK=$(mktemp -d /tmp/tdl-cli-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# run CMD... : captures stdout, stderr and the exit status
run() {
    "$@" >"$WORK/out" 2>"$WORK/err"
    status=$?
}

# expect_status N DESCRIPTION
expect_status() {
    if [ "$status" -eq "$1" ]; then ok; else bad "$2: exit $status, expected $1; stderr: $(head -c 300 "$WORK/err")"; fi
}
# expect_err FRAGMENT DESCRIPTION: stderr contains FRAGMENT, as one line
expect_err() {
    if grep -qF -- "$1" "$WORK/err" && [ "$(wc -l <"$WORK/err")" -le 2 ]; then ok
    else bad "$2: stderr lacks '$1': $(head -c 300 "$WORK/err")"; fi
}
expect_out() {
    if grep -qF -- "$1" "$WORK/out"; then ok; else bad "$2: stdout lacks '$1': $(head -c 300 "$WORK/out")"; fi
}
expect_empty_out() {
    if [ ! -s "$WORK/out" ]; then ok; else bad "$1: stdout not empty"; fi
}
expect_no_file() {
    if [ ! -e "$1" ] && ! ls "$1".tmp.* >/dev/null 2>&1; then ok; else bad "$2: file $1 (or a temporary) exists"; fi
}
# json_get KEY: the raw value of a top-level scalar key of the JSON on stdout
# json_get KEY: the value of the first "KEY": in the one-line JSON of the
# last run (a scalar: up to the next , or }).  The first: a top-level key
# precedes the nested objects that may repeat its name (a model file's
# metadata in model_provenance holds "loss", "seed", ...).
json_get() {
    awk -v k="\"$1\":" '{ i = index($0, k); if (i) { s = substr($0, i + length(k)); match(s, /^[^,}]*/); print substr(s, 1, RLENGTH); exit } }' "$WORK/out"
}
expect_json() {
    v=$(json_get "$1")
    if [ "$v" = "$2" ]; then ok; else bad "$3: $1 = '$v', expected '$2'"; fi
}

# refuse FRAGMENT DESCRIPTION CMD...: the bad-input contract (tests/BAD_INPUT.md):
# exit 1, exactly one stderr line "tdl: error: ..." containing FRAGMENT,
# nothing on stdout, and, when $OUT is set, no output file (or temporary) there
refuse() {
    local frag=$1 what=$2
    shift 2
    run "$@"
    expect_status 1 "$what"
    if [ "$(wc -l <"$WORK/err")" -eq 1 ] && grep -q "^tdl: error: " "$WORK/err"; then ok
    else bad "$what: not one 'tdl: error:' line: $(head -c 300 "$WORK/err")"; fi
    expect_err "$frag" "$what: names the problem"
    expect_empty_out "$what: no output on stdout"
    if [ -n "${OUT:-}" ]; then expect_no_file "$OUT" "$what: no output file"; rm -f "$OUT"; fi
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# ---- numbers that two computations give: tolerances from the arithmetic ----
# Two evaluations of the same quantity in floating point agree bit for bit only
# when they do the same operations in the same order: the same code path, the
# same BLAS kernel and the same thread count.  The tests assert equality only
# for such runs (with --threads 1, or the same run), and say so; numbers from
# different paths, kernels or thread counts are compared with `near`.
#
# gamma_M = M u / (1 - M u), u = 2^-53: the bound on the relative error of a
# sum or dot product of M terms in any order (Higham, Accuracy and Stability
# of Numerical Algorithms, 2nd ed., 2002, Lemma 3.1 and eq. 3.5), sharp
# when the terms do not cancel.
# near A B M: |A - B| <= 2 gamma_M max(|A|, |B|): two results each within
# gamma_M of the exact value (false when either is empty or not a number).
near() {
    awk -v a="$1" -v b="$2" -v m="$3" 'BEGIN {
        if (a !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ || b !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/) exit 1
        u = 2 ^ -53; g = m * u / (1 - m * u)
        d = a - b; if (d < 0) d = -d; s = a < 0 ? -a : a; t = b < 0 ? -b : b; if (t > s) s = t
        exit !(d <= 2 * g * s) }'
}
# loss_terms ARCH N: M for the mean loss of an MLP ARCH (d0-d1-...-dL) over N
# examples: the longest chain of sums behind it is a dot product of d_{l-1}
# inputs plus the bias in every layer, the d_L terms of the example's loss
# (log-sum-exp), and the N examples of the mean.  The loss is a mean of
# non-negative terms (no cancellation there); the dot products of a layer do
# cancel (weights of both signs), by a factor |w|^T|a| / |w^T a| that the
# bound leaves to its slack: M is 10^2..10^3 here, the observed differences
# a few u.
loss_terms() {
    echo "$1" | awk -F- -v n="$2" '{ m = 0; for (i = 2; i <= NF; i++) m += $(i - 1) + 1; print m + $NF + n }'
}
# numbers_near FILE1 FILE2 M: the numbers of two files (one per line or comma
# separated) pairwise `near` with M; prints the first pair that is not.
numbers_near() {
    paste -d' ' <(tr -s ',[] ' '\n' <"$1" | grep -v '^$') <(tr -s ',[] ' '\n' <"$2" | grep -v '^$') |
        awk -v m="$3" 'BEGIN { u = 2 ^ -53; g = m * u / (1 - m * u) }
             NF != 2 { print "count differs"; bad = 1; exit }
             { d = $1 - $2; if (d < 0) d = -d; s = $1 < 0 ? -$1 : $1; t = $2 < 0 ? -$2 : $2; if (t > s) s = t
               if (d > 2 * g * s) { print $1 " vs " $2; bad = 1; exit } ; n++ }
             END { if (n == 0) { print "no numbers"; bad = 1 }; exit bad }'
}

# ---- the test hook of src/cli/util.c (cli_test_pause) ----
# A command run with TDL_TEST_PAUSE_AT=STEP TDL_TEST_PAUSE_MARK=$WORK/pause
# writes "STEP PID" to the FIFO $WORK/pause on reaching STEP and waits for a
# signal: the test signals it mid-work on that event, with no sleep to guess.
# pause_open: the FIFO, held open read-write on fd 7 (so that no open blocks)
pause_open() {
    rm -f "$WORK/pause"
    mkfifo "$WORK/pause" && exec 7<>"$WORK/pause"
}
# wait_paused PID: waits for the marker line (in $paused); false when PID ends
# without reaching the hook
wait_paused() {
    paused=
    while ! read -r -t 1 -u 7 paused; do
        if ! kill -0 "$1" 2>/dev/null; then read -r -t 1 -u 7 paused; return; fi
    done
}
# wait_catches PID SIG: waits until PID has a handler for SIG installed (the
# SigCgt mask of /proc/PID/status), for commands without the test hook: a
# signal sent before that would be lost (a background job of a script starts
# with SIGINT ignored).  False when PID ends first.
wait_catches() {
    local bit m
    bit=$(($(kill -l "$2") - 1))
    while kill -0 "$1" 2>/dev/null; do
        m=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
        [ -n "$m" ] && [ $(((16#$m >> bit) & 1)) -eq 1 ] && return 0
        sleep 0.01
    done
    return 1
}

# mpi_setup: for the tests of tdl under mpirun (uses $TDL): exit 77 (skip)
# without mpirun or when tdl was built without MPI; else the environment of
# a CI box run as root (OMPI_ALLOW_RUN_AS_ROOT: README, MPI), shared memory
# between the ranks, no leak report of OpenMPI's own allocations under ASan,
# and MPI="timeout 120 mpirun --oversubscribe" (3 ranks on 2 cores; a hang
# ends as exit 124)
mpi_setup() {
    if ! command -v mpirun >/dev/null; then echo "skip: no mpirun (scripts/setup.sh installs openmpi-bin)"; exit 77; fi
    if ! ldd "$TDL" 2>/dev/null | grep -q 'libmpi\.so'; then echo "skip: tdl was built without MPI"; exit 77; fi
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    # no OpenMPI network probing on a CI box; shared memory between the ranks
    export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
    # a sanitizer build: OpenMPI's own allocations are not tdl's leaks
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    MPI="timeout 120 mpirun --oversubscribe"
}
