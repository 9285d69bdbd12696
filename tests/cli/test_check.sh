#!/bin/bash
# CLI tests of `tdl check` and the standalone check programs: listing (text
# and --json), JSON keys (SPEC.md: name, claim, source, passed, measured, predicted), exit
# statuses of a pass, a deliberate failure (--broken) and usage errors, and
# figures (valid, refused before the work when the path is bad).
# usage: test_check.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
. "$(dirname "$0")/lib.sh"
BUILD=$(dirname "${TDL_REAL:-$TDL}")   # the build dir, also under the valgrind wrapper
C=linear-regression-hessian

run "$TDL" check --list
expect_status 0 "--list"
expect_out "$C" "--list names the checks"
expect_out "Nesterov" "--list gives sources"
n_listed=$(grep -c '^[a-z]' "$WORK/out")
n_files=$(ls "$(dirname "$0")/../../proofs-checks/"*.c | grep -vcE '/(check|pc_cli|standalone)\.c$')
if [ "$n_listed" -eq "$n_files" ]; then ok; else bad "--list shows $n_listed checks, proofs-checks/ has $n_files"; fi
grep -o '^[a-z][a-z0-9-]*' "$WORK/out" > "$WORK/names.txt"

# --list --json: one valid JSON object {checks: [{name, claim, source, broken}], count}
# whose names are those of the text list, in the same order.  Validated by a
# real JSON parser (python3's json, else jq), not by pattern matching.
json_names() {  # FILE: one check name a line, or exit non-zero when FILE is not valid JSON
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d, dict) and isinstance(d["checks"], list) and d["count"] == len(d["checks"])
for c in d["checks"]:
    assert all(isinstance(c[k], str) and c[k] for k in ("name", "claim", "source", "broken")), c
    print(c["name"])' "$1"
    elif command -v jq >/dev/null 2>&1; then
        jq -e '.count == (.checks | length) and all(.checks[]; (.name | type) == "string" and (.claim | type) == "string" and (.source | type) == "string" and (.broken | type) == "string")' "$1" >/dev/null &&
            jq -r '.checks[].name' "$1"
    else
        echo "no JSON parser (python3 or jq) to validate the output" >&2; return 2
    fi
}
run "$TDL" check --list --json
expect_status 0 "--list --json"
[ "$(wc -l <"$WORK/out")" -eq 1 ] && ok || bad "--list --json is one line"
if json_names "$WORK/out" > "$WORK/jnames.txt"; then ok; else bad "--list --json is not valid JSON with checks[{name,claim,source,broken}] and count: $(head -c 300 "$WORK/out")"; fi
if cmp -s "$WORK/names.txt" "$WORK/jnames.txt"; then ok; else bad "--list --json names differ from --list: $(diff "$WORK/names.txt" "$WORK/jnames.txt" | head -5)"; fi
n_json=$(grep -c . "$WORK/jnames.txt")
# as many as proofs-checks/ has check files (not a number to edit with each new check)
if [ "$n_json" -eq "$n_files" ] && [ "$n_json" -ge 17 ]; then ok; else bad "--list --json lists $n_json checks, expected $n_files (the check files)"; fi
expect_json count "$n_files" "--list --json count"
expect_out '"source":"quadratic-model analysis of GD: Nesterov' "--list --json gives the source"
expect_no_text() { if grep -qF -- "$1" "$WORK/out"; then bad "$2"; else ok; fi; }
expect_no_text "   (" "--list --json prints no text list"
run "$TDL" check --list --json $C
expect_status 2 "--list --json with a NAME"

run "$TDL" check $C --quick --json
expect_status 0 "quick pass"
for k in name claim source setup passed measured predicted rows seconds mode; do expect_out "\"$k\":" "json key $k"; done
expect_json passed true "passed"
expect_json name "\"$C\"" "name"
expect_out '"hessian_rel_error":' "measured keyed by quantity"
[ "$(wc -l <"$WORK/out")" -eq 1 ] && ok || bad "--json is one line"

run "$TDL" check $C --quick --broken
expect_status 1 "--broken fails"
expect_out "verdict: FAIL" "human verdict FAIL"
expect_out "BROKEN SETUP" "broken setup announced"

run "$TDL" check $C --quick
expect_status 0 "human pass"
expect_out "verdict: PASS" "human verdict"
expect_out "measured" "table header"

# the standalone program of the same theorem gives the same verdict and numbers
if [ -x "$BUILD/proofs-checks/$C" ]; then
    "$TDL" check $C --quick --json > "$WORK/a.json"
    "$BUILD/proofs-checks/$C" --quick --json > "$WORK/b.json"
    st=$?
    [ $st -eq 0 ] && ok || bad "standalone exit $st"
    a=$(sed -E 's/"seconds":[^,}]*//' "$WORK/a.json"); b=$(sed -E 's/"seconds":[^,}]*//' "$WORK/b.json")
    if [ -n "${TDL_REAL:-}" ]; then
        # tdl runs under valgrind here, whose emulated arithmetic can move the
        # last bits of BLAS results: compare the verdicts, not the digits
        a=$(grep -o '"passed":[a-z]*' <<<"$a"); b=$(grep -o '"passed":[a-z]*' <<<"$b")
    fi
    [ "$a" = "$b" ] && ok || bad "standalone and tdl check differ"
    run "$BUILD/proofs-checks/$C" --help
    expect_status 0 "standalone --help"
    expect_out "--broken" "standalone help"
    run "$BUILD/proofs-checks/$C" --all
    expect_status 2 "standalone takes no --all"
else
    bad "standalone program $BUILD/proofs-checks/$C missing"
fi

# figures: PNG/SVG/PDF with script and data beside
for ext in png svg pdf; do
    run "$TDL" check $C --quick --plot "$WORK/f.$ext"
    expect_status 0 "--plot .$ext"
    [ -s "$WORK/f.$ext" ] && [ -s "$WORK/f.gp" ] && [ -s "$WORK/f.dat" ] && ok || bad "figure .$ext with .gp/.dat"
done
head -c 8 "$WORK/f.png" | od -An -c | grep -q 'P   N   G' && ok || bad "PNG signature"
head -c 5 "$WORK/f.pdf" | grep -q '%PDF-' && ok || bad "PDF signature"
grep -q '<svg' "$WORK/f.svg" && ok || bad "SVG root"

# bad requests: usage errors exit 2, work errors 1, nothing written
run "$TDL" check no-such-check
expect_status 2 "unknown check"
expect_err "unknown check 'no-such-check'" "unknown check message"
run "$TDL" check
expect_status 2 "no name"
run "$TDL" check $C --all
expect_status 2 "NAME and --all"
run "$TDL" check --all --broken
expect_status 2 "--all --broken"
run "$TDL" check --all --plot "$WORK/x.png"
expect_status 2 "--all with --plot"
run "$TDL" check $C --seed abc
expect_status 2 "bad seed"
run "$TDL" check $C --bogus
expect_status 2 "unknown option"
run "$TDL" check $C --quick --plot "$WORK/nodir/x.png"
expect_status 1 "unwritable figure"
expect_err "$WORK/nodir/x.png" "names the figure"
expect_empty_out "no table when the figure cannot be written"
expect_no_file "$WORK/nodir/x.png" "no figure"
run "$TDL" check $C --quick --plot "$WORK/x.jpg"
expect_status 2 "unknown figure format (usage)"
expect_err "must end in .png, .svg or .pdf" "format message"
expect_no_file "$WORK/x.jpg" "no .jpg"
run "$TDL" check --all --quick --plot-dir "$WORK/nodir"
expect_status 1 "--plot-dir missing"
expect_err "not an existing directory" "--plot-dir message"
finish
