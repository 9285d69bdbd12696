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
# --- the experiment's parameters (issue 23): checks on the user's data -----
# deep-linear-no-bad-minima on a user's set: Kawaguchi's hypotheses hold for
# standardized iris; GD needs ~1e5 steps there (the check predicts the count
# from the Hessian at the optimum and refuses a smaller budget), ~2 s
DL=deep-linear-no-bad-minima
run "$TDL" check $DL --quick --data iris:normalize=standard --steps 100000 --json
expect_status 0 "$DL --data iris passes"
expect_json passed true "$DL on iris: passed"
expect_out '"data":"iris:normalize=standard"' "$DL --json names the user's data"
expect_out 'data iris:normalize=standard,n=100 (n=100, d=4, k=3 one-hot outputs' "$DL setup names the data and the cut"
expect_out '"depth2_reached":10' "$DL: all 10 runs reached L*"
expect_out '"depth4_saddle13_lambda_min":' "$DL: the contrast saddle P_{1,3} for k = 3"
run "$TDL" check $DL --quick --broken --data iris:normalize=standard --steps 100000 --json
expect_status 1 "$DL --data --broken fails"
expect_json passed false "$DL --broken on iris: passed false"
# the hypothesis refusal: digits has constant pixels, so X^T X is singular
refuse "hypothesis not met on digits:n=100: Sigma_xx = X^T X/n is singular" "$DL --data digits (singular X^T X)" \
    "$TDL" check $DL --quick --data digits
refuse "beyond the budget of 20000: give --steps" "$DL --data iris (raw scale): too few steps, said up front" \
    "$TDL" check $DL --quick --data iris

# linear-regression-hessian on raw iris and on regression targets
run "$TDL" check linear-regression-hessian --quick --data iris --json
expect_status 0 "linear-regression-hessian --data iris"
expect_json passed true "linear-regression-hessian on iris: passed"
run "$TDL" check linear-regression-hessian --quick --data teacher:n=300,d=5,k=2 --json
expect_status 0 "linear-regression-hessian --data teacher (regression targets)"
expect_out 'C=1 target columns' "linear-regression-hessian: regression targets named"

# ntk-width-convergence on a CSV given by an absolute path, with user widths
# and seeds: passes; its figure has one colour per curve for the points, the
# error bars and the fit line, no yellow, and no absolute path in the caption
awk 'BEGIN { for (i = 0; i < 40; i++) printf "%.6f,%.6f,%.6f,%d\n", sin(i), cos(1.7 * i), sin(0.3 * i + 1), i % 2 }' > "$WORK/mine.csv"
run "$TDL" check ntk-width-convergence --quick --data "$WORK/mine.csv" --widths 64,256,1024,4096 --seeds 8 --plot "$WORK/ntk.png"
expect_status 0 "ntk-width-convergence --data CSV --widths --seeds"
expect_out "m = 64, 256, 1024, 4096 (fewer than 3 widths <= 512: no two-hidden-layer curve); 8 seeds per width" "ntk setup names the user's widths and seeds"
expect_out "n=32, d=3" "ntk: the CSV cut to 32 examples"
[ -s "$WORK/ntk.png" ] && [ -s "$WORK/ntk.gp" ] && [ -s "$WORK/ntk.dat" ] && ok || bad "ntk figure with .gp and .dat"
gp_colours() {  # FILE.gp: "points-colour fit-colour" per curve, from the plot command
    grep -o "with yerrorbars lc rgb '[^']*'\|with lines lc rgb '[^']*' lw 2 title 'fit" "$1" |
        sed -E "s/.*rgb '([^']*)'.*/\1/" | paste - -
}
check_ntk_gp() {  # FILE.gp CURVES WHAT
    local pairs n_eb
    pairs=$(gp_colours "$1")
    n_eb=$(grep -c "yerrorbars" "$1")
    if [ "$(grep -c . <<<"$pairs")" -eq "$2" ] && [ "$n_eb" -eq "$2" ]; then ok; else bad "$3: $2 curves with error bars and fits expected: $(grep '^plot\|data index' "$1" | head -8)"; fi
    if awk '$1 != $2 { exit 1 }' <<<"$pairs"; then ok; else bad "$3: a fit line's colour differs from its points': $pairs"; fi
    if [ "$(cut -f1 <<<"$pairs" | sort -u | grep -c .)" -eq "$2" ]; then ok; else bad "$3: curves share a colour: $pairs"; fi
    if grep -qiE "yellow|#f0e442|#ffff00|#e6e600" "$1"; then bad "$3: a yellow colour"; else ok; fi
    grep -q "standard deviation" "$1" && ok || bad "$3: the caption does not say what the bars are"
}
check_ntk_gp "$WORK/ntk.gp" 2 "ntk figure (user data: two curves)"
if grep "^set label 9[78]" "$WORK/ntk.gp" | grep -qF "$WORK"; then bad "ntk caption shows an absolute path"; else ok; fi
grep "^set label 97" "$WORK/ntk.gp" | grep -qF "'mine.csv:n=32;" && ok || bad "ntk caption names the CSV by its file name: $(grep '^set label 97' "$WORK/ntk.gp")"
# the built-in run's figure too (points, bars and fit in one colour)
run "$TDL" check ntk-width-convergence --quick --plot "$WORK/ntk0.png"
expect_status 0 "ntk-width-convergence --quick --plot"
check_ntk_gp "$WORK/ntk0.gp" 3 "ntk figure (built in)"

# parameters a check does not take: usage errors naming the check
run "$TDL" check saxe-linear-dynamics --widths 64,256,1024
expect_status 2 "a parameter the check does not take"
expect_err "saxe-linear-dynamics takes no --widths (its parameters: none)" "names the check and the parameter"
run "$TDL" check edge-of-chaos --data iris
expect_status 2 "--data for a check whose claim takes no data"
expect_err "edge-of-chaos takes no --data: its claim is about random nets' mean-field maps" "says why"
run "$TDL" check linear-regression-hessian --widths 8,16,64
expect_status 2 "--widths for linear-regression-hessian"
expect_err "linear-regression-hessian takes no --widths (its parameters: --data, --steps)" "lists the parameters it takes"
run "$TDL" check ntk-width-convergence --widths 64,128
expect_status 2 "too few widths"
expect_err "ntk-width-convergence: --widths: give at least 3 widths" "the check's own rule"
run "$TDL" check ntk-width-convergence --widths 64,32,128
expect_status 2 "widths not increasing"
expect_err "--widths 64,32,128: expected increasing positive integers" "names the option"
run "$TDL" check ntk-width-convergence --seeds 1
expect_status 2 "one seed: no spread"
run "$TDL" check edge-of-chaos --seeds 9
expect_status 2 "edge-of-chaos --seeds 9 (its statistics hold 8 nets)"
expect_err "edge-of-chaos: --seeds: give 2 to 8 nets" "the check's own range"
run "$TDL" check --all --quick --data iris
expect_status 2 "--data with --all"
expect_err "--data is a parameter of one check's experiment" "--all message"

# ntk-lazy-training on a user's regression set (its test inputs: the data
# grammar's split), the one-output rule, and the hypothesis Theta_inf > 0
run "$TDL" check ntk-lazy-training --quick --data teacher:n=100,d=5,k=2 --seeds 1 --json
expect_status 0 "ntk-lazy-training --data teacher"
expect_json passed true "ntk-lazy-training on a teacher set: passed"
expect_out 'data teacher:d=5,k=2,split=train,test=0.25,n=30' "ntk-lazy-training setup names the training spec used"
run "$TDL" check ntk-lazy-training --quick --broken --data teacher:n=100,d=5,k=2 --seeds 1 --json
expect_status 1 "ntk-lazy-training --data --broken fails"
refuse "has 3 classes; the check trains one-output nets" "ntk-lazy-training --data iris (3 classes)" \
    "$TDL" check ntk-lazy-training --quick --data iris
awk 'BEGIN { for (i = 0; i < 12; i++) printf "%.3f,%.3f,%d\n", i % 3, (i % 3) * 0.5, i % 2 }' > "$WORK/dup.csv"
refuse "hypothesis not met on" "ntk-lazy-training on duplicate inputs (Theta_inf singular)" \
    "$TDL" check ntk-lazy-training --quick --data "$WORK/dup.csv" --test "$WORK/dup.csv"
run "$TDL" check ntk-lazy-training --quick --test iris
expect_status 2 "--test without --data"
expect_err "--test gives held-out data for --data SPEC" "--test alone: message"
run "$TDL" check deep-linear-no-bad-minima --data iris --test iris
expect_status 2 "--test for a check that takes none"
expect_err "deep-linear-no-bad-minima takes no --test" "names the check"

# du-gd-convergence on a user's unit-norm set (passes, --broken fails), and
# its hypothesis refusal on inputs not of unit norm
run "$TDL" check du-gd-convergence --quick --data sphere:n=20,d=6 --seeds 1 --json
expect_status 0 "du-gd-convergence --data sphere"
expect_json passed true "du-gd-convergence on a user's sphere set: passed"
run "$TDL" check du-gd-convergence --quick --broken --data sphere:n=20,d=6 --seeds 1 --json
expect_status 1 "du-gd-convergence --data --broken fails"
refuse "hypothesis not met on iris:binary=1,n=24: the inputs are not of unit norm" "du-gd-convergence --data iris (raw norms)" \
    "$TDL" check du-gd-convergence --quick --data iris:binary=1

# one check's help through the command line of the checks (the standalone
# program's --help after another option, and `tdl check NAME --help`): the
# parameters with their defaults, or why --data is refused
if [ -x "$BUILD/proofs-checks/edge-of-chaos" ]; then
    run "$BUILD/proofs-checks/edge-of-chaos" --quick --help
    expect_status 0 "standalone --quick --help"
    expect_out "--data is not taken: its claim is about random nets' mean-field maps" "the help says why --data is refused"
    expect_out "--seeds N          finite nets R, 2..8" "the help lists the parameters"
fi
# tdl check NAME --help (and -h): that check's help, not the command's
for h in --help -h; do
    run "$TDL" check edge-of-chaos $h
    expect_status 0 "tdl check NAME $h"
    expect_out "--data is not taken: its claim is about random nets' mean-field maps" "tdl check NAME $h: why --data is refused"
    expect_out "--seeds N          finite nets R, 2..8" "tdl check NAME $h: the parameters"
done
run "$TDL" check --help
expect_out "usage: tdl check --list [--json]" "tdl check --help is the command's help"

# every check's parameters: --list --json, the standalone --help and `tdl help check` agree
run "$TDL" check --list --json
expect_out '"name":"deep-linear-no-bad-minima"' "--list --json"
sed 's/},{"name"/}\n{"name"/g' "$WORK/out" |
    sed -nE 's/.*"name":"([^"]*)".*"parameters":\[([^]]*)\].*/\1 \2/p' | sed 's/[",]/ /g' > "$WORK/params.txt"
[ "$(grep -c . "$WORK/params.txt")" -eq "$n_files" ] && ok || bad "--list --json: parameters for every check ($(grep -c . "$WORK/params.txt") of $n_files)"
grep -q "^deep-linear-no-bad-minima  *--data  *--seeds  *--steps *$" "$WORK/params.txt" && ok || bad "deep-linear parameters: $(grep deep-linear "$WORK/params.txt")"
grep -q "^ntk-width-convergence  *--data  *--widths  *--seeds *$" "$WORK/params.txt" && ok || bad "ntk-width parameters: $(grep ntk-width "$WORK/params.txt")"
"$TDL" help check > "$WORK/help.txt"
for p in --data --test --widths --seeds --steps; do
    # the help paragraph of parameter p, and the checks that declare p
    para=$(awk -v p="$p" '$1 == p { on = 1; print; next } on && /^  --|^$/ { on = 0 } on' "$WORK/help.txt" | tr -s ' \n' '  ')
    takers=$(awk -v p="$p" '{ for (i = 2; i <= NF; i++) if ($i == p) print $1 }' "$WORK/params.txt")
    [ -n "$takers" ] && ok || bad "no check takes $p"
    for c in $takers; do
        grep -qF -- "$c" <<<"$para" && ok || bad "tdl help check: the $p paragraph does not name $c: $para"
        "$BUILD/proofs-checks/$c" --help | grep -q -- "^  $p " && ok || bad "proofs-checks/$c --help lacks $p"
    done
    for c in $(grep -o '[a-z][a-z0-9]*\(-[a-z0-9]*\)\{2,\}' <<<"$para" | sort -u); do
        grep -q "^$c .*$p" "$WORK/params.txt" && ok || bad "tdl help check names $c under $p, which it does not take"
    done
done
finish
