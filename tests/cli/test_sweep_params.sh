#!/bin/bash
# CLI tests of `tdl sweep params` (random-features regression against the
# number of features p, tdl/random_features.h): the interpolation threshold
# p = n and the double-descent peak there on a small teacher set, in the
# text, the JSON, sweep.csv and the figure; a ridge that removes the peak;
# the bias moving the threshold; usage errors.
# usage: test_sweep_params.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
. "$(dirname "$0")/lib.sh"

# teacher (d = 6, 3 relu units): n = 64 training examples after split=train.
# Peak: at p = n the 64 x 64 relu-feature matrix is square and its condition
# number jumps (~4e4 here against ~1e2 at p = n/2 and p = 8n), so the
# min-norm fit's test loss jumps by two orders of magnitude (measured: 18.8
# vs 0.03 at p = 32 and 0.013 at p = 512); the assertions ask for a factor 10.
C="--data teacher:n=80,d=6,k=3,seed=2,split=train --test teacher:n=80,d=6,k=3,seed=2,split=test --arch 6-W-1 --no-bias --param ntk --seed 3 --repeats 2 --quiet"
V="--values 32,56,64,72,512"

run "$TDL" sweep params $C $V --json
expect_status 0 "params sweep, JSON"
for k in '"kind":"params"' '"loss_name":"mse"' '"interpolation_threshold":64' '"test_loss_peak":{"value":64,' \
         '"fit":{"method":' '"ridge":0,' '"coefficients":64,"rank":64,"cond":'; do
    expect_out "$k" "json has $k"
done
if grep -q '"training":{' "$WORK/out"; then bad "a params sweep trains nothing: no training object"; else ok; fi
peak=$(grep -o '"test_loss_peak":{"value":64,"mean":[^,]*' "$WORK/out" | sed 's/.*"mean"://')
lo=$(grep -o '"value":32,"train_loss":{[^}]*},"test_loss":{"mean":[^,]*' "$WORK/out" | sed 's/.*"mean"://')
hi=$(grep -o '"value":512,"train_loss":{[^}]*},"test_loss":{"mean":[^,]*' "$WORK/out" | sed 's/.*"mean"://')
if awk -v p="$peak" -v a="$lo" -v b="$hi" 'BEGIN { exit !(p > 10 * a && p > 10 * b && a > 0 && b > 0) }'; then ok
else bad "no double-descent peak at p = n: test loss $lo (p=32), $peak (p=64), $hi (p=512)"; fi
# interpolation from p = n on (train loss at rounding level), not below
tl72=$(grep -o '"value":72,"repeat":0,[^}]*"train_loss":[^,]*' "$WORK/out" | sed 's/.*"train_loss"://')
tl56=$(grep -o '"value":56,"repeat":0,[^}]*"train_loss":[^,]*' "$WORK/out" | sed 's/.*"train_loss"://')
if awk -v a="$tl72" -v b="$tl56" 'BEGIN { exit !(a < 1e-20 && b > 1e-6) }'; then ok; else bad "train loss p=72 '$tl72' (interpolates), p=56 '$tl56' (does not)"; fi

# the human table marks the threshold and the peak
run "$TDL" sweep params $C $V
expect_status 0 "params sweep, text"
expect_out "interpolation threshold: p = 64 (coefficients per output = n = 64)" "threshold line"
if grep -E '^ +64 .*<- p = n \(interpolation threshold\)  <- largest test loss' "$WORK/out" >/dev/null; then ok
else bad "the p = 64 row is not marked as threshold and peak: $(grep -E '^ +64 ' "$WORK/out")"; fi
expect_out "test loss peak at p = 64 (threshold p = 64)" "peak summary"

# a ridge (Hastie et al. 2022, eq. (4) scaling) removes the peak: the largest
# test loss is no longer at p = n and stays below 1
run "$TDL" sweep params $C $V --ridge 0.01 --json
expect_status 0 "params sweep with a ridge"
expect_out '"ridge":0.01' "ridge in the JSON"
if grep -q '"test_loss_peak":{"value":64,' "$WORK/out"; then bad "ridge 0.01 still peaks at p = n"; else ok; fi
rpk=$(grep -o '"test_loss_peak":{"value":[^,]*,"mean":[^,]*' "$WORK/out" | sed 's/.*"mean"://')
if awk -v p="$rpk" 'BEGIN { exit !(p < 1) }'; then ok; else bad "ridge 0.01: largest test loss $rpk"; fi

# a last-layer bias (ntk: b_scale = sigma_b, so sigma_b > 0) is one more
# coefficient per output: threshold n - 1
run "$TDL" sweep params $C --values 63 --bias --sigma-b 1 --json
expect_status 0 "params sweep with a bias"
expect_out '"interpolation_threshold":63' "threshold with a bias"
expect_out '"coefficients":64' "63 features + the bias"

# --out: the CSV's params columns, the figure's threshold line and log x
run "$TDL" sweep params $C $V -o "$WORK/o"
expect_status 0 "params sweep with --out"
if head -1 "$WORK/o/sweep.csv" | grep -q '^sweep_params,.*,seconds,coefficients,rank,cond,coef_norm,interpolation_threshold$'; then ok
else bad "sweep.csv header: $(head -1 "$WORK/o/sweep.csv")"; fi
rows=$(grep -c ',64$' "$WORK/o/sweep.csv")
if [ "$rows" -eq 10 ]; then ok; else bad "sweep.csv: $rows rows end with the threshold 64, expected 10"; fi
if command -v gnuplot >/dev/null; then
    if grep -q "interpolation threshold" "$WORK/o/sweep.gp" && grep -q "set logscale x" "$WORK/o/sweep.gp"; then ok
    else bad "sweep.gp lacks the threshold line or log x"; fi
    # the line stands at p = 64 (data block of the threshold in sweep.dat)
    if grep -q "^64 " "$WORK/o/sweep.dat"; then ok; else bad "sweep.dat has no point at p = 64"; fi
fi

# usage errors (exit 2), one line each
run "$TDL" sweep width --data iris --arch 4-W-3 --values 2 --ridge 1
expect_status 2 "--ridge on a width sweep"
expect_err "--ridge is the ridge of a params sweep" "--ridge names the kind"
run "$TDL" sweep params --data iris --arch 4-W-3 --values 2 --loss ce
expect_status 2 "params sweep with ce"
expect_err "least squares (loss mse)" "loss refused"
run "$TDL" sweep params --data iris --arch 4-W-W-3 --values 2
expect_status 2 "params sweep with two hidden layers"
expect_err "one hidden layer" "depth refused"
run "$TDL" sweep params --data iris --arch 4-W-3 --values 2 --epochs 5
expect_status 2 "params sweep with --epochs"
expect_err "trains nothing" "training option refused"
run "$TDL" sweep params --data iris --arch 4-W-3 --values 2.5
expect_status 1 "fractional p"
expect_err "not a number of random features" "fractional p named"
run "$TDL" sweep params --data iris --arch 4-W-3 --values 4 --ridge -1
expect_status 2 "negative ridge"

finish
