#!/bin/bash
# run_check.sh TDL NAME pass|broken — one quick theorem check for the `proofs`
# suite.  "pass": `tdl check NAME --quick` must exit 0 with "passed":true.
# "broken": the deliberately broken setup must make the same check FAIL —
# exit status exactly 1 with "passed":false (not a crash, not a usage error),
# which shows the check's criterion can fail.
set -u
tdl=$1 name=$2 mode=$3
args=(check "$name" --quick --json --quiet)
[ "$mode" = broken ] && args+=(--broken)
out=$("$tdl" "${args[@]}" 2>/tmp/run_check.$$.err)
rc=$?
err=$(cat /tmp/run_check.$$.err); rm -f /tmp/run_check.$$.err
want_rc=0 want='"passed":true'
[ "$mode" = broken ] && want_rc=1 want='"passed":false'
if [ $rc -ne $want_rc ]; then
    echo "FAIL: tdl ${args[*]}: exit $rc, expected $want_rc"; echo "$err"; echo "$out"; exit 1
fi
case $out in *"$want"*) ;; *) echo "FAIL: tdl ${args[*]}: output lacks $want"; echo "$out"; exit 1;; esac
if [ -n "$err" ]; then echo "FAIL: unexpected stderr: $err"; exit 1; fi
secs=$(printf '%s' "$out" | sed -n 's/.*"seconds":\([0-9.e+-]*\).*/\1/p' | head -1)
echo "ok: $name ($mode) in ${secs}s"
