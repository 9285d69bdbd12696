#!/bin/bash
# CLI tests of `tdl ntk`: JSON keys of SPEC.md, closed-form traces, the
# Gram file, kernel predictions, drift, plots and errors.
# usage: test_ntk.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
. "$(dirname "$0")/lib.sh"
close() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; s = b < 0 ? -b : b; if (s < 1e-300) s = 1; exit !(d <= t * s) }'; }
arr_len() { sed -n "s/.*\"$1\":\[\([^]]*\)\].*/\1/p" "$WORK/out" | head -n 1 | tr ',' '\n' | grep -c .; }
arr_sum() { sed -n "s/.*\"$1\":\[\([^]]*\)\].*/\1/p" "$WORK/out" | head -n 1 | tr ',' '\n' | awk '{s += $1} END {printf "%.17g", s}'; }

# help lists every option with its default and an example
run "$TDL" help ntk
expect_status 0 "help ntk"
for opt in --data --analytic --nngp --h-inf --kernel-act --quad --full --layers --per-layer --method --budget \
    --mc --ridge --predict --test --time --lr --drift --out --json --plot --threads --arch examples; do
    expect_out -- "$opt" "help mentions $opt"
done

# empirical NTK: SPEC keys, trace = sum of eigenvalues, the Gram file
run "$TDL" ntk --arch 5-64-3 --act tanh --data sphere:n=30,d=5 --json -o "$WORK/K.npy" --per-layer
expect_status 0 "empirical ntk"
expect_json n 30 "n"
expect_json kind '"empirical"' "kind"
expect_json method '"structured"' "method"
n=$(arr_len eigenvalues); if [ "$n" -eq 30 ]; then ok; else bad "30 eigenvalues expected, got $n"; fi
for key in lambda_min lambda_max trace condition_number eta_max normalization psd; do
    v=$(json_get $key); if [ -n "$v" ] && [ "$v" != null ]; then ok; else bad "key $key missing"; fi
done
expect_json psd true "Gram matrix PSD"
s=$(arr_sum eigenvalues); tr=$(json_get trace)
if close "$s" "$tr" 1e-10; then ok; else bad "trace $tr vs sum of eigenvalues $s"; fi
ls=$(arr_sum layer_traces); if close "$ls" "$tr" 1e-12; then ok; else bad "layer traces sum $ls vs trace $tr"; fi
# .npy: 128-byte header + 30 x 30 doubles
sz=$(stat -c %s "$WORK/K.npy" 2>/dev/null || echo 0)
if [ "$sz" -eq $((128 + 8 * 900)) ]; then ok; else bad "K.npy has $sz bytes"; fi
# the deep net goes through Jacobian blocks and gives the same kernel as a
# small budget (blocks of one example)
run "$TDL" ntk --arch 5-16-16-2 --act tanh --data sphere:n=20,d=5 --json
t1=$(json_get trace); expect_json method '"jacobian"' "deep net method"
run "$TDL" ntk --arch 5-16-16-2 --act tanh --data sphere:n=20,d=5 --json --budget 1
t2=$(json_get trace); if close "$t1" "$t2" 1e-13; then ok; else bad "budget changed the trace: $t1 vs $t2"; fi
# full kernel: (nC)^2, its trace is C times the traced one
run "$TDL" ntk --arch 5-16-16-2 --act tanh --data sphere:n=20,d=5 --json --full
expect_json dim 40 "full kernel dimension"
t3=$(json_get trace); if close "$t3" "$(awk -v t="$t1" 'BEGIN{printf "%.17g", 2*t}')" 1e-12; then ok; else bad "full trace $t3 vs 2 x $t1"; fi

# H_inf on unit rows: diagonal 1/2, trace n/2
run "$TDL" ntk --h-inf --data sphere:n=20,d=5 --json
expect_status 0 "h-inf"
expect_json kind '"h_inf"' "h_inf kind"
tr=$(json_get trace); if close "$tr" 10 1e-14; then ok; else bad "H_inf trace $tr, expected 10"; fi
v=$(json_get arora_complexity); if [ -n "$v" ] && [ "$v" != null ]; then ok; else bad "arora_complexity missing"; fi

# analytic relu NTK, NTK parametrization, no bias, unit rows (d = 5):
# Sigma1(x,x) = sw^2/5, NNGP = sw^2 Sigma1/2, NTK = NNGP + sw^2/2 Sigma1: trace = n sw^4 / 5
run "$TDL" ntk --arch 5-8-1 --param ntk --sigma-w 1.5 --no-bias --data sphere:n=20,d=5 --analytic --json
expect_json kind '"analytic"' "analytic kind"
tr=$(json_get trace); if close "$tr" 20.25 1e-14; then ok; else bad "analytic relu NTK trace $tr, expected 20.25"; fi
run "$TDL" ntk --arch 5-8-1 --param ntk --sigma-w 1.5 --no-bias --data sphere:n=20,d=5 --analytic --nngp --json
tr=$(json_get trace); if close "$tr" 10.125 1e-14; then ok; else bad "analytic relu NNGP trace $tr, expected 10.125"; fi
# --param ntk keeps the documented default init (he: sigma_w = sqrt 2), as --param standard does
# (issue 23: it silently switched to gaussian, sigma_w = 1, and the trace below was 5 = n/4 sw^4 with sw=1)
run "$TDL" ntk --arch 5-8-1 --param ntk --no-bias --data sphere:n=20,d=5 --analytic --json
tr=$(json_get trace); if close "$tr" 16 1e-14; then ok; else bad "--param ntk default sigma_w: analytic trace $tr, expected 20 sw^4/5 = 16 (sw = sqrt 2)"; fi
# a wide net's empirical kernel is close to the analytic one (width 20000: ~1%)
run "$TDL" ntk --arch 5-20000-1 --param ntk --sigma-w 1.5 --no-bias --data sphere:n=20,d=5 --json
tr=$(json_get trace); if close "$tr" 20.25 0.05; then ok; else bad "wide empirical trace $tr vs analytic 20.25"; fi
# sign / sin closed forms run
run "$TDL" ntk --arch 5-8-8-1 --param ntk --data sphere:n=10,d=5 --analytic --kernel-act sin:1,2,0.3 --json
expect_status 0 "sin kernel"

# Monte Carlo over 200 nets of width 512 against the analytic relu NNGP trace (10.125):
# 20 x 200 products, relative spread ~sqrt 2 / sqrt(200) per entry on the diagonal -> 5%
run "$TDL" ntk --arch 5-512-1 --param ntk --sigma-w 1.5 --no-bias --data sphere:n=20,d=5 --mc 200 --nngp --json
expect_json kind '"monte_carlo_nngp"' "mc kind"
tr=$(json_get trace); if close "$tr" 10.125 0.05; then ok; else bad "MC NNGP trace $tr vs 10.125"; fi
run "$TDL" ntk --arch 5-512-1 --data sphere:n=20,d=5 --mc 1
expect_status 2 "--mc 1"

# kernel predictions: t = inf interpolates the training set (train mse ~ 0)
run "$TDL" ntk --h-inf --data sphere:n=20,d=5 --predict --test sphere:n=10,d=5,seed=3 --json
expect_status 0 "predict"
tm=$(sed -n 's/.*"train_mse":\([^,}]*\).*/\1/p' "$WORK/out")
if close "$tm" 0 1e-15 || awk -v t="$tm" 'BEGIN{exit !(t < 1e-20)}'; then ok; else bad "train mse at t = inf: $tm"; fi
expect_out '"test_predictions"' "test predictions"

# drift of a trained model against its init
"$TDL" train --data iris:normalize=standard --arch 4-32-3 --act tanh --epochs 20 --quiet -o "$WORK/m.safetensors" >/dev/null
run "$TDL" ntk --model "$WORK/m.safetensors" --data iris:normalize=standard --drift --json
expect_status 0 "drift"
d=$(json_get drift); if awk -v d="$d" 'BEGIN{exit !(d > 0 && d < 10)}'; then ok; else bad "drift $d"; fi

# plot
if command -v gnuplot >/dev/null; then
    run "$TDL" ntk --h-inf --data sphere:n=30,d=5 --plot "$WORK/s.png"
    expect_status 0 "plot"
    if [ -s "$WORK/s.png" ] && [ -s "$WORK/s.png.gp" -o -s "$WORK/s.gp" ]; then ok; else bad "plot files missing"; fi
fi

# errors
run "$TDL" ntk --arch 5-8-1 --data sphere:n=10,d=5 --nngp
expect_status 2 "--nngp without --analytic"
run "$TDL" ntk --arch 5-8-1
expect_status 2 "missing --data"
run "$TDL" ntk --arch 5-8-1 --data sphere:n=10,d=5 --predict
expect_status 2 "--predict without --test"
run "$TDL" ntk --arch 5-8-1 --data sphere:n=10,d=5 --drift
expect_status 2 "--drift without --model"
run "$TDL" ntk --arch 5-8-1 --data sphere:n=10,d=5 --bogus
expect_status 2 "unknown option"
run "$TDL" ntk --arch 5-8-1 --data "$WORK/none.csv"
expect_status 1 "missing data file"; expect_err "tdl: error:" "one-line error"
run "$TDL" ntk --arch 4-8-1 --data sphere:n=10,d=5
expect_status 1 "feature mismatch"; expect_err "features" "names the mismatch"
run "$TDL" ntk --arch 5-8-1 --data sphere:n=10,d=5 -o "$WORK/nodir/K.npy"
expect_status 1 "unwritable output"; expect_no_file "$WORK/nodir/K.npy" "no partial output"
run "$TDL" ntk --arch 5-8-1 --data sphere:n=10,d=5 --method structured --layers 7
expect_status 2 "bad layer"
run "$TDL" ntk --arch 5-8-8-1 --data sphere:n=10,d=5 --method structured
expect_status 1 "structured on a deep net"; expect_err "depth" "says why"
# duplicated rows make H_inf singular: the complexity says which ridge to use
run "$TDL" ntk --h-inf --data iris:binary=1 --json
expect_status 0 "singular H_inf"
expect_out 'arora_complexity_reason' "reason for the missing complexity"
finish
