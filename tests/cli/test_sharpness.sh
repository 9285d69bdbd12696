#!/bin/bash
# CLI tests of `tdl train --log-sharpness K [--sharpness-k k]`: the logged
# top-k Hessian eigenvalues equal `tdl hessian --method lanczos --k k` on the
# parameters of the same step within the two error bounds; the CSV columns,
# the JSON keys, the text summary, the threshold for each optimizer, the
# figure, and the usage errors.
# usage: test_sharpness.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
. "$(dirname "$0")/lib.sh"

DATA=digits:n=200,normalize=standard
# full-batch GD on a small tanh net under mse (the edge-of-stability setting,
# tdl check edge-of-stability), one thread: GD is then bit-for-bit reproducible,
# so a run of t steps ends at the parameters of step t of a longer run
NET=(--data "$DATA" --arch 64-16-10 --act tanh --loss mse --opt gd --lr 0.3 --threads 1 --quiet)

run "$TDL" train "${NET[@]}" --epochs 20 --log-sharpness 5 --sharpness-k 2 --log "$WORK/log.csv" -o "$WORK/m20.safetensors"
expect_status 0 "train --log-sharpness 5 --sharpness-k 2"
expect_out "sharpness    lambda_1 (top Hessian eigenvalue)" "text summary names lambda_1"
expect_out "top-2 by Lanczos every 5 steps: 5 points" "text summary: k, K and the number of points"
expect_out "threshold 6.66667 = 2/eta: full-batch GD is unstable" "text summary: 2/eta for gd at lr 0.3"

# (b) the CSV: the new columns after the old ones, a row at step 0, values at
# steps 0, 5, 10, 15, 20 and empty cells elsewhere
hdr=$(head -n 1 "$WORK/log.csv")
want="epoch,step,lr,loss,accuracy,theta_norm,dist_init,test_loss,test_accuracy,sharpness_1,sharpness_2,sharpness_bound_1,sharpness_bound_2,sharpness_matvecs"
if [ "$hdr" = "$want" ]; then ok; else bad "log header '$hdr'"; fi
rows=$(($(wc -l < "$WORK/log.csv") - 1))
if [ "$rows" -eq 21 ]; then ok; else bad "log has $rows rows, expected 21 (steps 0..20)"; fi
measured=$(awk -F, 'NR > 1 && $10 != "" { printf "%s ", $2 }' "$WORK/log.csv")
if [ "$measured" = "0 5 10 15 20 " ]; then ok; else bad "sharpness measured at steps '$measured', expected 0 5 10 15 20"; fi
# lambda_1 >= lambda_2, bounds >= 0, matvecs >= k
if awk -F, 'NR > 1 && $10 != "" { if (!($10 >= $11 && $12 >= 0 && $13 >= 0 && $14 >= 2)) exit 1 }' "$WORK/log.csv"; then ok
else bad "logged values not descending, or bad bounds/matvecs"; fi

# --log-sharpness does not change the training: the same model file as without it
"$TDL" train "${NET[@]}" --epochs 20 -o "$WORK/plain20.safetensors" >/dev/null
if cmp -s "$WORK/m20.safetensors" "$WORK/plain20.safetensors"; then ok; else bad "--log-sharpness changed the trained model"; fi

# (a) agreement with a separate `tdl hessian --method lanczos --k 2` on the
# parameters of step t (a run of exactly t steps; t = 10 mid-run and t = 20,
# the last step).  Tolerance: each Ritz value lies within its residual norm of
# an eigenvalue (Parlett, Thm 4.5.1; tighter: ||r||^2 / gap, Thm 11.7.1), and here lambda_1 and lambda_2 are far
# apart (relative gap > 0.1 >> the residuals), so both runs approximate the
# same eigenvalue and |a - b| <= e_log + e_hessian, with e the reported
# error bounds (the log's: tdl_lanczos_result.error_bounds, residual or gap
# bound with rounding included; tdl hessian's: its error_bounds when it
# reports them, else its true residuals, both valid bounds).
agree() { # STEP MODEL
    local step=$1 model=$2
    run "$TDL" hessian --model "$model" --data "$DATA" --method lanczos --k 2 --json
    expect_status 0 "hessian lanczos at step $step"
    python3 - "$WORK/out" "$WORK/log.csv" "$step" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))
step = sys.argv[3]
rows = [l.rstrip('\n').split(',') for l in open(sys.argv[2])]
hdr, rows = rows[0], rows[1:]
row = next(r for r in rows if r[1] == step)
col = {n: i for i, n in enumerate(hdr)}
ev = sorted(h['eigenvalues'], reverse=True)           # hessian reports ascending
res = [r for _, r in sorted(zip(h['eigenvalues'], h.get('error_bounds') or h['residuals']), reverse=True)]
for j in range(2):
    a = float(row[col['sharpness_%d' % (j + 1)]])
    ra = float(row[col['sharpness_bound_%d' % (j + 1)]])
    b, rb = ev[j], res[j]
    if not abs(a - b) <= ra + rb:
        print('step %s lambda_%d: logged %.17g (+- %.3g) vs hessian %.17g (+- %.3g)' % (step, j + 1, a, ra, b, rb))
        sys.exit(1)
PY
    if [ $? -eq 0 ]; then ok; else bad "logged sharpness at step $step differs from tdl hessian beyond the error bounds"; fi
}
"$TDL" train "${NET[@]}" --epochs 10 -o "$WORK/m10.safetensors" >/dev/null
agree 10 "$WORK/m10.safetensors"
agree 20 "$WORK/m20.safetensors"
# step 0: the initial parameters (--epochs 0 saves them)
"$TDL" train "${NET[@]}" --epochs 0 -o "$WORK/m0.safetensors" >/dev/null
agree 0 "$WORK/m0.safetensors"

# the last step is measured even when it is not a multiple of K
run "$TDL" train "${NET[@]}" --epochs 12 --log-sharpness 5 --log "$WORK/log12.csv" -o "$WORK/m12.safetensors"
expect_status 0 "train 12 steps, K = 5"
measured=$(awk -F, 'NR > 1 && $10 != "" { printf "%s ", $2 }' "$WORK/log12.csv")
if [ "$measured" = "0 5 10 12 " ]; then ok; else bad "K = 5 over 12 steps measured at '$measured', expected 0 5 10 12"; fi
if head -n 1 "$WORK/log12.csv" | grep -q ",sharpness_1,sharpness_bound_1,sharpness_matvecs$"; then ok; else bad "k = 1 columns"; fi

# minibatch SGD: measured at step 0, then at the first evaluation (epoch ends,
# --eval-every 2: 4 steps an epoch, 8 between evaluations) at least K = 3
# steps after the last measurement, and at the end
run "$TDL" train --data "$DATA" --arch 64-16-10 --act tanh --loss mse --opt sgd --batch 50 --lr 0.1 --epochs 6 --eval-every 2 \
    --log-sharpness 3 --log "$WORK/sgd.csv" --threads 1 --quiet -o "$WORK/sgd.safetensors"
expect_status 0 "sgd --log-sharpness 3"
measured=$(awk -F, 'NR > 1 && $10 != "" { printf "%s ", $2 }' "$WORK/sgd.csv")
if [ "$measured" = "0 8 16 24 " ]; then ok; else bad "sgd: measured at steps '$measured', expected 0 8 16 24"; fi
expect_out "at evaluations (--eval-every) at least 3 steps apart: 4 points" "sgd: the summary says when it measured"
expect_out "(a full-batch threshold: minibatch SGD usually stays below)" "sgd: the threshold is a full-batch one"

# (b) --json: the "sharpness" object
run "$TDL" train "${NET[@]}" --epochs 20 --log-sharpness 5 --sharpness-k 2 --json -o "$WORK/j.safetensors"
expect_status 0 "train --json --log-sharpness"
python3 - "$WORK/out" "$WORK/log.csv" <<'PY'
import json, math, sys
j = json.load(open(sys.argv[1]))
s = j['sharpness']
rows = [l.rstrip('\n').split(',') for l in open(sys.argv[2])][1:]
logged = [(int(r[1]), float(r[9]), float(r[10])) for r in rows if r[9] != '']
assert s['every'] == 5 and s['k'] == 2, s
assert abs(s['threshold'] - 2 / 0.3) < 1e-12, s['threshold']
assert s['threshold_meaning'].startswith('2/eta'), s
assert s['points'] == 5 and len(s['log']) == 5, s
assert [p['step'] for p in s['log']] == [0, 5, 10, 15, 20]
# the same numbers as the CSV (same run, same bits)
for p, (step, l1, l2) in zip(s['log'], logged):
    assert p['step'] == step and p['values'] == [l1, l2], (p, step, l1, l2)
    assert len(p['bounds']) == 2 and p['matvecs'] >= 2
assert s['first'] == logged[0][1] and s['last'] == logged[-1][1]
assert s['max'] == max(l1 for _, l1, _ in logged)
assert s['matvecs'] == sum(p['matvecs'] for p in s['log'])
assert s['bound_max'] == max(max(p['bounds']) for p in s['log'])
PY
if [ $? -eq 0 ]; then ok; else bad "--json sharpness object"; fi

# the threshold for the other optimizers
BASE=(--data "$DATA" --arch 64-16-10 --act tanh --loss mse --threads 1 --quiet -o "$WORK/o.safetensors")
run "$TDL" train "${BASE[@]}" --opt momentum --batch 0 --lr 0.1 --epochs 2 --log-sharpness 1
expect_status 0 "momentum"
expect_out "threshold 38 = 2(1+beta)/eta" "heavy-ball momentum 0.9 at lr 0.1: 2(1.9)/0.1 = 38"
run "$TDL" train "${BASE[@]}" --opt adam --batch 0 --epochs 2 --log-sharpness 1 --json
expect_status 0 "adam"
expect_json threshold null "adam: no threshold"
expect_out '"threshold_reason":"no threshold for Adam' "adam: says why"
run "$TDL" train "${NET[@]}" --epochs 2 --log-sharpness 1 --schedule cosine -o "$WORK/o.safetensors"
expect_out "no threshold: the learning rate follows a schedule" "schedule: no threshold"

# the figure: the eigenvalues and the 2/eta line on the right axis
if command -v gnuplot >/dev/null; then
    run "$TDL" train "${NET[@]}" --epochs 10 --log-sharpness 5 --plot "$WORK/fig.png" -o "$WORK/f.safetensors"
    expect_status 0 "--plot with --log-sharpness"
    if [ -s "$WORK/fig.png" ]; then ok; else bad "no figure"; fi
    if grep -q "lambda_1 (right axis)" "$WORK/fig.gp" && grep -q "2/eta (right axis)" "$WORK/fig.gp"; then ok
    else bad "figure script lacks the sharpness series or the 2/eta line"; fi
fi

# (c) usage errors (exit 2, one line naming the option)
usage() { # FRAGMENT DESCRIPTION ARGS...
    local frag=$1 what=$2
    shift 2
    run "$TDL" train --data "$DATA" --arch 64-16-10 --epochs 1 -o "$WORK/u.safetensors" "$@"
    expect_status 2 "$what"
    expect_err "$frag" "$what: names the problem"
    expect_no_file "$WORK/u.safetensors" "$what: no model written"
}
usage "--log-sharpness: expected K >= 1" "--log-sharpness 0" --log-sharpness 0
usage "--log-sharpness: expected K >= 1" "--log-sharpness abc" --log-sharpness abc
usage "--sharpness-k: expected 1 .. 16" "--sharpness-k 0" --log-sharpness 1 --sharpness-k 0
usage "--sharpness-k: expected 1 .. 16" "--sharpness-k 17" --log-sharpness 1 --sharpness-k 17
usage "--sharpness-k needs --log-sharpness K" "--sharpness-k alone" --sharpness-k 2
usage "layer 0 is frozen" "--log-sharpness with a frozen layer" --log-sharpness 1 --freeze 0

finish
