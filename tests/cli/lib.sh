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
json_get() {
    sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" "$WORK/out" | head -n 1
}
expect_json() {
    v=$(json_get "$1")
    if [ "$v" = "$2" ]; then ok; else bad "$3: $1 = '$v', expected '$2'"; fi
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
