#!/bin/bash
# CLI tests of `tdl report`: the quick variant of the default report writes
# every listed file (valid PNG/SVG/PDF figures, CSV tables, JSON), the numbers
# in report.md equal those of the individual commands run again here with
# --json, a user's model skips training, a failing section is reported with
# exit status 1, and the output folder is replaced only when it is a report.
# usage: test_report.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
. "$(dirname "$0")/lib.sh"

valid_figure() {
    local f=$1 size
    size=$(stat -c %s "$f" 2>/dev/null || echo 0)
    case $f in
    *.png) [ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] && [ "$size" -gt 8000 ] ;;
    *.svg) head -c 400 "$f" | grep -q '<svg' && tail -c 100 "$f" | grep -q '</svg>' && [ "$size" -gt 8000 ] ;;
    *.pdf) [ "$(head -c 5 "$f")" = "%PDF-" ] && tail -c 32 "$f" | grep -q '%%EOF' && [ "$size" -gt 4000 ] ;;
    esac
}
# md_value LABEL: the value cell of the report.md row "| LABEL | value |"
md_value() { grep -F "| $1 |" "$R/report.md" | head -n 1 | awk -F' [|] ' '{print $2}' | sed 's/ |$//'; }
# g6 NUMBER: printf %.6g, as the report prints numbers
g6() { awk -v v="$1" 'BEGIN { printf "%.6g", v }'; }
# expect_md LABEL JSON_VALUE DESCRIPTION
expect_md() {
    local got want
    got=$(md_value "$1")
    want=$(g6 "$2")
    if [ -n "$2" ] && [ "$got" = "$want" ]; then ok; else bad "$3: report.md '$1' = '$got', the command's JSON gives '$2' (%.6g: $want)"; fi
}
# jfield FILE KEY: a top-level scalar of a one-line JSON file
jfield() { sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" "$1" | head -n 1; }

R=$WORK/rep
D=digits:split=train,n=400
T=digits:split=test,n=200
start=$(date +%s)
# two fast theorem checks: the proofs suite runs every check itself
CHECKS=linear-regression-hessian,saxe-linear-dynamics
# The numbers of report.md are compared below, as the report prints them
# (%.6g), with the same commands run again.  Both sides run with --threads 1:
# one thread, the same BLAS kernel and the same code, run to run, gives the
# same bits, so the printed digits agree even for numbers at roundoff level
# (lambda_min(H), the sign count of near-zero eigenvalues).
run "$TDL" report --quick --out "$R" --checks $CHECKS --threads 1
expect_status 0 "tdl report --quick"
echo "report --quick: $(($(date +%s) - start)) s"
grep -q "^tdl report: \[1/" "$WORK/err" && ok || bad "progress lines on stderr"
cp "$WORK/err" "$WORK/err-report"
expect_empty_out "report prints nothing on stdout"
expect_no_file "$R.tmp" "no temporary folder left"
ls -d "$R".tmp.* >/dev/null 2>&1 && bad "a $R.tmp.* folder is left" || ok
for f in index.html report.md model.safetensors model-init.safetensors .tdl-report; do
    [ -s "$R/$f" ] && ok || bad "missing $f"
done
# issue 22: the Hessian's certified error bound and digits; the class
# structure of G (Papyan's outliers through the dual); issue 19: the
# PAC-Bayes certificate with a data-dependent prior
grep -q "^| error bound of every eigenvalue (certified) | [0-9.e+-]* |$" "$R/report.md" && ok || bad "Hessian row: the certified error bound"
grep -q "^| top 5 eigenvalues of H (certified digits) | " "$R/report.md" && ok || bad "Hessian row: top 5 in certified digits"
grep -q "^## Class structure of the Gauss-Newton part" "$R/report.md" && ok || bad "the class-split section"
grep -q "eigenvectors of G lie mostly (share >= 0.5) in the span of the 10 class means" "$R/report.md" && ok || bad "the class-split summary"
n_rows=$(grep -c "^| [0-9]* | [0-9.e+-]* | [01]\.[0-9]* | [01]\.[0-9]* |$" "$R/report.md")
[ "$n_rows" -eq 10 ] && ok || bad "the class-split table has 10 outlier rows, not $n_rows"
[ -s "$R/json/hessian-dual.json" ] && [ -s "$R/tables/class-split-outliers.csv" ] && ok || bad "json/hessian-dual.json, tables/class-split-outliers.csv"
# lambda_1 of the dual = lambda_1(G) of the exact run, within their bounds
l_dual=$(sed -n 's/.*"gn_lambda_max":\([^,}]*\).*/\1/p' "$R/json/hessian-dual.json")
l_ex=$(sed -n 's/.*"gn_eigenvalues":\[\([^]]*\)\].*/\1/p' "$R/json/hessian.json" | tr ',' '\n' | tail -n 1)
awk -v a="$l_dual" -v b="$l_ex" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 1e-10 * b) }' && ok || bad "dual lambda_1 $l_dual vs exact $l_ex"
grep -q "^## PAC-Bayes certificate (data-dependent prior)" "$R/report.md" && ok || bad "the certificate section"
cert=$(sed -n 's/.*"certificate":\([0-9.e+-]*\).*/\1/p' "$R/json/certify.json")
snn=$(sed -n 's/.*"stochastic_test_error":\([0-9.e+-]*\).*/\1/p' "$R/json/certify.json")
awk -v c="$cert" -v e="$snn" 'BEGIN { exit !(c != "" && c + 0 < 1 && c + 0 >= e + 0) }' && ok || bad "certificate $cert below 1 and >= the stochastic test error $snn"
figs="training hessian-spectrum hessian-density landscape-2d interpolation ntk-spectrum ntk-drift bounds"
for fig in $figs; do
    for ext in png svg pdf; do
        valid_figure "$R/fig/$fig.$ext" && ok || bad "fig/$fig.$ext is not a valid $ext of non-trivial size"
    done
    [ -s "$R/fig/$fig.gp" ] && [ -s "$R/fig/$fig.dat" ] && ok || bad "fig/$fig.gp / .dat missing"
    grep -q "(fig/$fig.png)" "$R/report.md" && grep -q "src=\"fig/$fig.png\"" "$R/index.html" && ok || bad "fig/$fig.png not in the documents"
    grep -q "(fig/$fig.pdf)" "$R/report.md" && ok || bad "no link to fig/$fig.pdf"
done
for t in summary training hessian hessian-eigenvalues landscape ntk ntk-eigenvalues bounds checks steps; do
    [ -s "$R/tables/$t.csv" ] && ok || bad "missing tables/$t.csv"
done
for j in data train model eval-train eval-test hessian landscape-2d interpolation ntk bounds \
    check-linear-regression-hessian check-saxe-linear-dynamics; do
    [ -s "$R/json/$j.json" ] && ok || bad "missing json/$j.json"
done
grep -q '^<!DOCTYPE html>' "$R/index.html" && grep -q '</html>' "$R/index.html" && ok || bad "index.html is not a whole page"
for h in "Model and data" "Training curve" "Hessian spectrum" "Loss landscape" "Neural tangent kernel" "Generalization bounds" "Theorem checks"; do
    grep -q "^## $h" "$R/report.md" && ok || bad "report.md lacks the section '$h'"
done
# the report names the BLAS kernel its numbers were computed with (tdl/blas.h)
kernel=$("$TDL" --version | sed -n 's/^BLAS kernel: \([^ ]*\).*/\1/p')
case "$(md_value "BLAS kernel (OpenBLAS)")" in "$kernel ("*) ok ;; *) bad "report.md names the BLAS kernel '$(md_value "BLAS kernel (OpenBLAS)")', tdl --version '$kernel'" ;; esac
grep -q "Note" "$R/report.md" && bad "the default report has a note (a failed section?): $(grep Note "$R/report.md" | head -n 2)" || ok

# the numbers in report.md are the commands' own: run them again here
M="--model $R/model.safetensors --threads 1"
run "$TDL" eval $M --data $D --json
expect_md "train loss (mean)" "$(json_get loss)" "train loss"
expect_md "train error" "$(json_get error)" "train error"
expect_md "train accuracy" "$(json_get accuracy)" "train accuracy"
run "$TDL" eval $M --data $T --json
expect_md "test loss (mean)" "$(json_get loss)" "test loss"
expect_md "test accuracy" "$(json_get accuracy)" "test accuracy"
run "$TDL" info --data $D --json
expect_md "examples n" "$(json_get n)" "n"
run "$TDL" info --model "$R/model.safetensors" --json
expect_md "parameters P" "$(json_get params)" "P"
run "$TDL" hessian $M --data $D --gn --json
expect_status 0 "hessian --gn"
expect_md "lambda_max(H)" "$(json_get lambda_max)" "Hessian lambda_max"
expect_md "lambda_min(H)" "$(json_get lambda_min)" "Hessian lambda_min"
expect_md "trace(H)" "$(json_get trace)" "Hessian trace"
expect_md "trace(G)" "$(json_get gn_trace)" "Gauss-Newton trace"
expect_md "fraction of negative eigenvalues" "$(json_get negative_fraction)" "negative fraction"
# the eigenvalue table holds every eigenvalue at full precision
n_ev=$(($(wc -l <"$R/tables/hessian-eigenvalues.csv") - 1))
[ "$n_ev" -eq "$(json_get params)" ] && ok || bad "tables/hessian-eigenvalues.csv has $n_ev rows, P = $(json_get params)"
top=$(tail -n 1 "$R/tables/hessian-eigenvalues.csv" | cut -d, -f2)
[ "$(g6 "$top")" = "$(g6 "$(json_get lambda_max)")" ] && ok || bad "largest eigenvalue in the CSV $top"
run "$TDL" ntk $M --data $D --json --drift
expect_md "lambda_max" "$(json_get lambda_max)" "NTK lambda_max"
expect_md "trace" "$(json_get trace)" "NTK trace"
expect_md 'drift \|\|K_T - K_0\|\|_F / \|\|K_0\|\|_F' "$(json_get drift)" "NTK drift"
run "$TDL" landscape --model "$R/model.safetensors" --from-init --data $D --grid 21 --json --threads 1
v=$(json_get loss_start); got=$(grep -F "| loss at the initialization (alpha = 0) |" "$R/report.md" | awk -F' [|] ' '{print $3}' | sed 's/ |$//')
[ "$got" = "$(g6 "$v")" ] && ok || bad "interpolation loss at init: report $got, command $v"
# its figure names the ends init and trained (issue 23: they were M and M2) and has the accuracy axis
grep -q "^set x2tics .*('init' 0, 'trained' 1)" "$R/fig/interpolation.gp" && ok || bad "the report's interpolation does not name its ends init and trained"
grep -q "^set y2label .*accuracy" "$R/fig/interpolation.gp" && ok || bad "the report's interpolation has no accuracy axis"
# model-init.safetensors is that initialization: --to from it gives the same path
run "$TDL" landscape --model "$R/model-init.safetensors" --to "$R/model.safetensors" --data $D --grid 21 --json --threads 1
[ "$(json_get loss_start)" = "$v" ] && ok || bad "model-init.safetensors: --to starts at $(json_get loss_start), --from-init at $v"
# the interpolation starts at the training's initialization: a fresh net of the same seed
# (the loss of a fresh --arch net at the centre of a 3-point slice; another
# slice, so another grouping of the sums: equal up to roundoff, lib.sh `near`)
run "$TDL" landscape --arch 64-16-10 --act relu --seed 0 --data $D --grid 3 --json --threads 1
near "$(json_get centre_loss)" "$v" "$(loss_terms 64-16-10 400)" && ok || bad "model-init.safetensors is not the seed-0 initialization ($(json_get centre_loss) vs $v)"
run "$TDL" bounds $M --data $D --test $T --quick --pac-bayes-opt --bound-seed 0 --json
expect_status 0 "bounds"
# every available row of the command's JSON is a row of the bounds table, with its
# kind and classifier; a bound in the bound column, a measure's fixed-scale value in
# its own column (and no bound); bold exactly when vacuous.  The figure has one bar a
# bound (or a measure's fixed-scale value), named by its row in table order, on a log
# axis, and vertical lines at the train and test errors and at chance.
report_bounds_problems() {
    python3 - "$WORK/out" "$R" <<'PY'
import csv, json, sys
j = json.load(open(sys.argv[1])); R = sys.argv[2]
g6 = lambda v: '-' if v is None else '%.6g' % v
rows = list(csv.reader(open(R + '/tables/bounds.csv')))
head, rows = rows[0], rows[1:]
want_head = ['measure', 'kind', 'classifier', 'value', 'bound', 'fixed-scale value (not a bound)',
             'vacuous', 'below chance', 'delta', 'source']
if head != want_head: sys.exit('tables/bounds.csv header %r' % head)
md = open(R + '/report.md').read()
avail = [m for m in j['measures'] if m['available']]
if [r[0] for r in rows] != [m['name'] for m in avail]:
    sys.exit('table rows %r, command rows %r' % ([r[0] for r in rows], [m['name'] for m in avail]))
bars = []
for m, r in zip(avail, rows):
    kind = m.get('kind'); cls = m.get('classifier')
    bound = None if kind == 'measure' else m['bound']
    fixed = m.get('fixed_scale_value') if kind == 'measure' else None
    want = [m['name'], kind or '-', '-' if kind == 'measure' or not cls else ('Gibbs' if cls == 'gibbs' else cls),
            g6(m['value']), g6(bound), g6(fixed)]
    if r[:6] != want: sys.exit('row %r, expected %r' % (r[:6], want))
    vac = bound is not None and m['vacuous']
    if r[6] != ('-' if bound is None else 'VACUOUS' if vac else 'no'): sys.exit('%s: vacuous cell %r' % (m['name'], r[6]))
    if (('| **%s** |' % m['name']) in md) != vac: sys.exit('%s: bold in report.md is not its vacuous %r' % (m['name'], vac))
    if kind == 'bound' and cls not in ('deterministic', 'gibbs'): sys.exit('%s: a bound for classifier %r' % (m['name'], cls))
    v = fixed if kind == 'measure' else bound
    if v is not None and v > 0: bars.append((m['name'], kind))
gp = open(R + '/fig/bounds.gp').read(); dat = open(R + '/fig/bounds.dat').read()
if 'set logscale x\n' not in gp: sys.exit('fig/bounds.gp: the x axis is not logarithmic')
tics = [l for l in gp.splitlines() if l.startswith('set ytics')]
panels = [[n for n, k in bars if k != 'measure'], [n for n, k in bars if k == 'measure']]
want_tics = [', '.join("'%s' %d" % (n, i + 1) for i, n in enumerate(p)) or "'' 1" for p in panels[:2 if panels[1] else 1]]
if len(tics) != len(want_tics) or any(not t.endswith('(' + w + ')') for t, w in zip(tics, want_tics)): sys.exit('bar labels %r, expected %r' % (tics, want_tics))
if 'with boxxyerror' not in gp: sys.exit('fig/bounds.gp: no horizontal bars')
hatched = "fs pattern 4" in gp and "title 'measure (fixed scale, not a bound)'" in gp
if hatched != any(m.get('kind') == 'measure' and (m.get('fixed_scale_value') or 0) > 0 for m in avail):
    sys.exit('fig/bounds.gp: hatched measure bars with legend %r, the command has fixed-scale values %r' % (hatched, not hatched))
chance = j.get('chance', 0.9)  # digits: 10 classes
for what, v in (('train error', j['train_error']), ('test error', j['test_error']), ('chance 1 - 1/C', chance)):
    title = "'%s = %s'" % (what, g6(v))
    if title not in gp: sys.exit('fig/bounds.gp: no line titled %s' % title)
    if '# %s = %s\n%.17g 0\n' % (what, g6(v), v) not in dat: sys.exit('fig/bounds.dat: no vertical line at the %s %r' % (what, v))
if any('/' in l for l in gp.splitlines() if l.startswith('set label 9')): sys.exit('fig/bounds.gp: a path in the caption')
PY
}
problems=$(report_bounds_problems 2>&1) && ok || bad "bounds section and figure: $problems"
# the checks' section says what it is: built-in experiments, not this model, how long they took, and --no-checks
grep -q '^## Theorem checks (built-in experiments, not this model)' "$R/report.md" && ok || bad "the checks' section title does not say they are built-in experiments"
grep -q 'This section is not about the model above.*The checks took [0-9.]* s of the report.s [0-9.]* s; `tdl report --no-checks` leaves them out' "$R/report.md" \
    && ok || bad "the checks' section does not explain itself, its time and --no-checks"
grep -q '^2 of 2 built-in checks passed (on their own experiments, not on this model)' "$R/report.md" && ok || bad "the checks' summary line: $(grep 'checks passed' "$R/report.md")"
# the checks whose claim holds for any data set run on the report's data: of
# CHECKS, linear-regression-hessian takes --data, and refuses raw digits (GD
# would need ~3e7 steps): the report says why and does not count it a failure
grep -q '^## Theorem checks on this data set' "$R/report.md" && ok || bad "no section of checks on the report's data"
grep -q '^| linear-regression-hessian | does not apply | - | [0-9.e-]* | linear-regression-hessian: digits:split=train,n=400: GD at eta' "$R/report.md" \
    && ok || bad "linear-regression-hessian on the report's data: $(grep '^| linear-regression-hessian |' "$R/report.md" | head -n 1 | cut -c1-160)"
[ "$(($(wc -l <"$R/tables/checks-on-data.csv") - 1))" -eq 1 ] && ok || bad "tables/checks-on-data.csv: $(cat "$R/tables/checks-on-data.csv" | head -c 300)"
grep -q "theorem check on this data (tdl check linear-regression-hessian --quick --data ...) ... does not apply" "$WORK/err-report" \
    && ok || bad "the progress line of a check that does not apply"
# the theorem checks: one row each, with the check's own verdict and criteria
n_rows=$(($(wc -l <"$R/tables/checks.csv") - 1))
[ "$n_rows" -eq 2 ] && ok || bad "$n_rows rows in tables/checks.csv, expected 2"
for c in ${CHECKS//,/ }; do
    run "$TDL" check $c --quick --json --quiet --threads 1
    n_ok=$(grep -o '"ok":true' "$WORK/out" | wc -l)
    n_judged=$(grep -o '"ok":\(true\|false\)' "$WORK/out" | wc -l)
    verdict=$([ "$(json_get passed)" = true ] && echo pass || echo FAIL)
    grep -q "^| $c | $verdict | $n_ok of $n_judged |" "$R/report.md" && ok || bad "check $c: report row $(grep "^| $c |" "$R/report.md" | cut -c1-80), command: $verdict, $n_ok of $n_judged"
done
# the progress counter [k/N] keeps one N from the first line to the last, N
# steps run: a regression data set (no bounds section) is known before step 1
# (issue 23: the counter went /9 ... /8 when the data turned out to be regression)
counter_problems() {
    grep -o '^tdl report: \[[0-9]*/[0-9]*\]' "$1" | tr -d '[]' | awk -F'[ /]' '
        { k = $3; n = $4; if (NR == 1) first = n; if (n != first) { print "N changes from " first " to " n; bad = 1 } ; if (k != NR) { print "step " NR " printed as " k; bad = 1 } }
        END { if (NR == 0) print "no progress lines"; else if (k != first) print "last step " k " of " first; exit (bad || NR == 0 || k != first) }'
}
problems=$(counter_problems "$WORK/err-report") && ok || bad "report --quick progress counter: $problems"
run "$TDL" report --quick --data teacher:n=60,d=4 --no-checks --out "$WORK/rep-regress" --threads 1
expect_status 0 "report on regression data"
problems=$(counter_problems "$WORK/err") && ok || bad "report on regression data, progress counter: $problems"
[ ! -e "$WORK/rep-regress/json/bounds.json" ] && ok || bad "a bounds section for regression data"
run "$TDL" report --quick --checks no-such-check --out "$WORK/rep5"
expect_status 2 "--checks with an unknown name"
expect_err "unknown check 'no-such-check'" "--checks message"

# a user's model: no training, no training curve (said so), the rest runs
R2=$WORK/rep2
run "$TDL" report --model "$R/model.safetensors" --data $D --quick --no-checks --out "$R2" --quiet --threads 1
expect_status 0 "report --model"
expect_empty_out "report --model stdout"
[ ! -s "$WORK/err" ] && ok || bad "--quiet report printed: $(head -c 300 "$WORK/err")"
grep -q "No training curve" "$R2/report.md" && ok || bad "report --model does not say why there is no training curve"
[ ! -e "$R2/fig/training.png" ] && [ ! -e "$R2/json/train.json" ] && ok || bad "report --model trained"
valid_figure "$R2/fig/hessian-spectrum.pdf" && valid_figure "$R2/fig/landscape-2d.svg" && ok || bad "report --model figures"
grep -q "left out (--no-checks)" "$R2/report.md" && ok || bad "--no-checks not said"
h1=$(md_value "trace(H)"); R_SAVE=$R; R=$R2; h2=$(md_value "trace(H)"); R=$R_SAVE
[ -n "$h1" ] && [ "$h1" = "$h2" ] && ok || bad "the same model gives trace(H) $h1 and $h2"
# running again into the same folder replaces the earlier report
run "$TDL" report --model "$R/model.safetensors" --data $D --quick --no-checks --out "$R2" --quiet --grid 5
expect_status 0 "report into an earlier report"
grep -q "5 x 5 grid" "$R2/fig/landscape-2d.gp" && ok || bad "the earlier report was not replaced"
[ -n "$(ls -d "$R2".old.* "$R2".tmp.* 2>/dev/null)" ] && bad "a temporary or old folder is left" || ok

# an interrupted run (SIGINT, SIGTERM) leaves the earlier report as it was and
# no temporary.  The test hook TDL_TEST_PAUSE_AT=landscape-round (src/cli/util.c),
# which the report's commands inherit, pauses the step "2D loss landscape"
# (tdl landscape, a 9 x 9 grid: more than its first round of 64 cells) in the
# middle of its grid; the signal is sent on that event, so it always arrives
# while a command runs and the temporary folder exists.  SIGINT goes to the
# whole process group, as a terminal's Ctrl-C does (setsid gives the report a
# group of its own); SIGTERM to the report alone, as kill does, and the report
# forwards it to the command.  SIGHUP (a closed terminal or a dropped ssh
# session: the report leads its session here) and SIGQUIT also go to the
# report alone: it forwards them too, waits for the command (whose PID the
# hook writes in the marker) and dies of the signal; no command survives it.
# (ulimit -c 0: SIGQUIT's default action dumps core.)
for sig in INT TERM HUP QUIT; do
    before=$(md5sum <"$R2/report.md")
    pause_open
    (ulimit -c 0; TDL_TEST_PAUSE_AT=landscape-round TDL_TEST_PAUSE_MARK="$WORK/pause" \
        exec setsid "$TDL" report --model "$R/model.safetensors" --data $D --quick --grid 9 --no-checks --out "$R2" --quiet 2>"$WORK/err" 7>&-) &
    pid=$!
    wait_paused $pid && ok || bad "SIG$sig: the report's landscape never reached the test hook: $(head -c 300 "$WORK/err")"
    child=${paused##* }
    ls -d "$R2".tmp.* >/dev/null 2>&1 && ok || bad "SIG$sig: no temporary folder while a step runs"
    if [ $sig = INT ]; then
        [ "$(ps -o pgid= -p $pid | tr -d ' ')" = "$pid" ] && ok || bad "setsid: the report does not lead its process group"
        kill -INT -- -$pid
    else
        kill -$sig $pid
    fi
    wait $pid 2>/dev/null
    status=$?
    if [ -n "$child" ] && [ "$child" != "$paused" ] && ! kill -0 "$child" 2>/dev/null; then ok
    else bad "SIG$sig: the report's command (PID '$child') survived it: $(ps -o pid,stat,args -p "$child" 2>/dev/null | tail -n +2)"; kill -KILL "$child" 2>/dev/null; fi
    want=$((128 + $(kill -l $sig)))
    [ "$status" -eq "$want" ] && ok || bad "SIG$sig: exit status $status, expected $want (death by the signal)"
    [ "$(md5sum <"$R2/report.md")" = "$before" ] && [ -s "$R2/index.html" ] && ok || bad "SIG$sig changed the earlier report"
    [ -n "$(ls -d "$R2".tmp.* "$R2".old.* 2>/dev/null)" ] && bad "SIG$sig left a temporary folder" || ok
done

# under nohup (SIGHUP inherited ignored) a hangup neither stops the report nor
# is taken for a stop signal: it runs on, and a later SIGTERM still stops it
# (forwarded, exit 143, no temporary)
before=$(md5sum <"$R2/report.md")
pause_open
(trap '' HUP; TDL_TEST_PAUSE_AT=landscape-round TDL_TEST_PAUSE_MARK="$WORK/pause" \
    exec setsid "$TDL" report --model "$R/model.safetensors" --data $D --quick --grid 9 --no-checks --out "$R2" --quiet 2>"$WORK/err" 7>&-) &
pid=$!
wait_paused $pid && ok || bad "nohup: the report's landscape never reached the test hook: $(head -c 300 "$WORK/err")"
child=${paused##* }
kill -HUP $pid
sleep 0.5
kill -0 $pid 2>/dev/null && ok || bad "nohup: an ignored SIGHUP ended the report"
kill -TERM $pid
for _ in $(seq 200); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
    bad "nohup: SIGTERM after an ignored SIGHUP did not stop the report within 20 s"
    kill -KILL "$child" $pid 2>/dev/null
fi
wait $pid 2>/dev/null
status=$?
[ "$status" -eq 143 ] && ok || bad "nohup then SIGTERM: exit status $status, expected 143"
[ -n "$child" ] && ! kill -0 "$child" 2>/dev/null && ok || bad "nohup then SIGTERM: the report's command survived"
[ "$(md5sum <"$R2/report.md")" = "$before" ] && ok || bad "nohup then SIGTERM changed the earlier report"
[ -n "$(ls -d "$R2".tmp.* "$R2".old.* 2>/dev/null)" ] && bad "nohup then SIGTERM left a temporary folder" || ok

# regression data: a net with one output is trained and analysed; no bounds (they are
# on the classification error), said so, and not a failure
R6=$WORK/rep6
run "$TDL" report --data teacher:n=200,d=10,k=4 --quick --no-checks --out "$R6" --quiet
expect_status 0 "report on regression data"
grep -q "| architecture | 10-16-1 |" "$R6/report.md" && ok || bad "regression net: $(grep architecture "$R6/report.md")"
grep -q "No bounds table" "$R6/report.md" && [ ! -e "$R6/fig/bounds.png" ] && ok || bad "regression report: bounds section"
valid_figure "$R6/fig/training.pdf" && valid_figure "$R6/fig/hessian-spectrum.png" && ok || bad "regression report figures"

# a failing section: the report is written, says which section failed, exit 1
# (test data the model does not fit: the sections that use it fail)
R3=$WORK/rep3
run "$TDL" report --model "$R/model.safetensors" --data $D --test iris --quick --no-checks --out "$R3" --quiet
expect_status 1 "report with test data the model does not fit"
expect_err "part(s) of the report failed" "failure message"
[ -s "$R3/index.html" ] && [ -s "$R3/report.md" ] && ok || bad "no report written when sections fail"
grep -q "The evaluation on the test data (tdl eval) failed: tdl: error:" "$R3/report.md" && ok || bad "the failed section does not give the command's error: $(grep -m1 Note "$R3/report.md")"
grep -q "features" "$R3/logs/eval-test.log" && ok || bad "logs/eval-test.log lacks the error"
# a model that does not fit the training data is refused before any folder appears
run "$TDL" report --model "$R/model.safetensors" --data iris --quick --no-checks --out "$WORK/rep3b" --quiet
expect_status 1 "report with training data the model does not fit"
expect_err "the model cannot be evaluated on iris: the model takes 64 inputs but the data has 4 features" "refusal names the mismatch"
expect_no_file "$WORK/rep3b" "no report folder"

# refusals
mkdir -p "$WORK/mine" && echo keep >"$WORK/mine/notes.txt"
run "$TDL" report --quick --out "$WORK/mine"
expect_status 1 "report into a folder that is not a report"
expect_err "is not a tdl report" "refusal message"
[ "$(cat "$WORK/mine/notes.txt")" = keep ] && ok || bad "the user's folder was touched"
ls -d "$WORK/mine".tmp.* >/dev/null 2>&1 && bad "a temporary folder is left after a refusal" || ok
# an --out that cannot be renamed over is refused at once (one line, exit 1,
# no work, no temporary): ".", "..", the current folder by another spelling, a
# folder that holds it, "/", a mount point; even when it is an earlier report
# (R2), whose files stay as they were
before=$(md5sum <"$R2/report.md")
mkdir -p "$WORK/emptyhere"
# refuse_out CWD OUT FRAGMENT
refuse_out() {
    local t0=$(date +%s)
    cd "$1" || return
    run "$TDL" report --model "$R/model.safetensors" --data $D --quick --no-checks --grid 3 --out "$2"
    cd "$WORK" || return
    expect_status 1 "report --out '$2' in $1"
    expect_err "$3" "report --out '$2' in $1: refusal"
    [ "$(wc -l <"$WORK/err")" -eq 1 ] && ! grep -q "tdl report: \[" "$WORK/err" && ok || bad "report --out '$2' in $1 did work before refusing: $(head -c 300 "$WORK/err")"
    [ $(($(date +%s) - t0)) -le 5 ] && ok || bad "report --out '$2' in $1 took $(($(date +%s) - t0)) s to refuse"
    # the report's temporary is OUT.tmp.XXXXXX, OUT as given (trailing / cut)
    local o=${2%/}
    [ -n "$(cd "$1" && ls -d -- "${o:-/}".tmp.* 2>/dev/null)" ] && bad "report --out '$2' in $1 left a temporary folder" || ok
}
refuse_out "$R2" . "cannot be '.' or '..'"
refuse_out "$R2" ./ "cannot be '.' or '..'"
refuse_out "$R2" "$R2" "the current folder"
refuse_out "$R2" "../$(basename "$R2")" "the current folder"
refuse_out "$R2/fig" .. "cannot be '.' or '..'"
refuse_out "$R2/fig" "$R2" "holds the current folder"
refuse_out "$WORK/emptyhere" . "cannot be '.' or '..'"
refuse_out "$WORK/emptyhere" "$WORK/emptyhere" "the current folder"
refuse_out "$WORK" / "the root folder"
refuse_out "$WORK" /proc "a mount point"
[ "$(md5sum <"$R2/report.md")" = "$before" ] && [ -s "$R2/index.html" ] && [ -e "$R2/.tdl-report" ] && ok || bad "a refused --out changed the earlier report"
[ -z "$(ls -A "$WORK/emptyhere")" ] && ok || bad "a refused --out . wrote into the empty folder: $(ls -A "$WORK/emptyhere")"
run "$TDL" report --model "$R/model.safetensors"
expect_status 2 "--model without --data"
run "$TDL" report --model "$R/model.safetensors" --data $D --epochs 3
expect_status 2 "--epochs with --model"
run "$TDL" report --bogus
expect_status 2 "unknown option"
run "$TDL" report --grid 1
expect_status 2 "--grid 1"
run "$TDL" report --model "$WORK/none.safetensors" --data $D --out "$WORK/rep4"
expect_status 1 "missing model"
expect_no_file "$WORK/rep4" "no folder for a missing model"
run "$TDL" help report
expect_status 0 "help report"
for opt in --model --data --test --out --quick --epochs --width --arch --lr --seed --grid --checks --no-checks --loss --threads --quiet Examples; do
    expect_out -- "$opt" "help report mentions $opt"
done

# an input inside --out, which the report replaces, is refused before any work
# (the earlier report and the input stay as they were)
if [ -d "$R" ] && [ -f "$R/model.safetensors" ]; then
    cp "$R/model.safetensors" "$R/mine.safetensors"
    run "$TDL" report --model "$R/mine.safetensors" --data $D --quick --no-checks --out "$R"
    expect_status 1 "--model inside --out"
    expect_err "lies inside --out" "says why"
    if [ -f "$R/mine.safetensors" ] && ! ls -d "$R".tmp.* >/dev/null 2>&1; then ok; else bad "--model inside --out: the input or a temporary"; fi
    printf '1,2,0\n3,4,1\n' >"$R/d.csv"
    run "$TDL" report --arch 2-4-2 --data "$R/d.csv" --quick --no-checks --out "$R"
    expect_status 1 "--data file inside --out"
    expect_err "lies inside --out" "says why"
    rm -f "$R/mine.safetensors" "$R/d.csv"
else
    bad "no earlier report in $R to test inputs inside --out"
fi
# option values: named, lists without empty items, a value option given once
run "$TDL" report --epochs x --quick
expect_status 2 "bad --epochs"; expect_err "bad value 'x' for --epochs" "names the option"
run "$TDL" report --checks linear-regression-hessian, --quick
expect_status 2 "--checks with an empty item"
run "$TDL" report --epochs 3 --epochs 4 --quick
expect_status 2 "--epochs twice"; expect_err "--epochs given twice" "names the repeated option"

finish
