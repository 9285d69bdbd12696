#!/bin/bash
# CLI tests of `tdl bounds`: the table, JSON keys, conditions, the quick
# Dziugaite-Roy certificate, figures, and errors.
# usage: test_bounds.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
FIX=$2
. "$(dirname "$0")/lib.sh"

ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
B=$FIX/bounds

# golden case (NumPy values in tests/fixtures/bounds/golden.txt): the CLI prints the library's numbers
run "$TDL" bounds --model "$B/mlp2_logistic.model.npz" --act relu --data "$B/mlp2_logistic.data.npz" --no-flatness --json
expect_status 0 "bounds on the golden two-layer case"
for k in '"measures":[' '"name":"params","value":43' '"name":"vc"' '"name":"neyshabur2019_overparam"' \
         '"name":"bartlett2017_spectral"' '"name":"golowich2018_l1inf"' '"train_error":' '"delta":0.050000000000000003' \
         '"margin_percentile":10' '"conventions":'; do
    expect_out "$k" "json has $k"
done
ref=$(awk '$1 == "mlp2_logistic" && $2 == "golowich2018_frobenius" { print $4 }' "$B/golden.txt")
got=$(sed -n 's/.*"name":"golowich2018_frobenius","value":[^,]*,"bound":\([^,]*\),.*/\1/p' "$WORK/out")
if awk -v a="$got" -v b="$ref" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-9 * b) }'; then ok; else bad "golowich bound $got vs NumPy $ref"; fi
# the linear bound is left out for a two-layer net, with the reason
expect_out '"name":"linear_rademacher","value":null' "linear bound left out"
expect_out 'the model is not linear' "reason for leaving it out"

# a linear model: the linear bound is there, the two-layer ones are left out
run "$TDL" bounds --model "$B/linear_logistic.model.npz" --data "$B/linear_logistic.data.npz" --no-flatness --json
expect_status 0 "linear case"
expect_out '"name":"neyshabur2019_overparam","value":null' "two-layer bound left out for a linear model"
if grep -q '"name":"linear_rademacher","value":[0-9]' "$WORK/out"; then ok; else bad "linear bound missing"; fi

# the human table, a test set, the quick certificate, a figure
run "$TDL" train --data gauss:n=300,d=5,classes=2,sep=2 --arch 5-16-1 --act relu --loss logistic --epochs 10 \
    -o "$WORK/g.safetensors" --quiet
expect_status 0 "train a small net"
run "$TDL" bounds --model "$WORK/g.safetensors" --data gauss:n=300,d=5,classes=2,sep=2 \
    --test gauss:n=300,d=5,classes=2,sep=2,seed=9 --pac-bayes-opt --quick --plot "$WORK/b.png"
expect_status 0 "bounds with --pac-bayes-opt --quick and a figure"
expect_out "test error" "table has the test error"
expect_out "dziugaite_roy" "table has the certificate"
expect_out "pacbayes_kl" "table has the kl bound"
if [ -s "$WORK/b.png" ] && [ -s "$WORK/b.gp" ] && [ -s "$WORK/b.dat" ]; then ok; else bad "figure, script or data missing"; fi
run "$TDL" bounds --model "$WORK/g.safetensors" --data gauss:n=300,d=5,classes=2,sep=2 \
    --test gauss:n=300,d=5,classes=2,sep=2,seed=9 --pac-bayes-opt --quick --json
expect_status 0 "quick certificate as JSON"
expect_out '"dziugaite_roy":{"bound":' "dziugaite_roy object"
cert=$(sed -n 's/.*"dziugaite_roy":{"bound":\([^,]*\),.*/\1/p' "$WORK/out")
snn=$(sed -n 's/.*"snn_train_bound":\([^,]*\),.*/\1/p' "$WORK/out")
if ge "$cert" "$snn" && ge 1 "$cert"; then ok; else bad "certificate $cert vs its SNN train bound $snn"; fi
expect_out '"snn_test_error":' "SNN test error reported"
expect_out '"test_error":' "test error reported"
# help lists every option with its default and an example
run "$TDL" help bounds
expect_status 0 "help bounds"
for o in --data --test --delta --margin-percentile --no-flatness --flat-samples --mc-samples --no-ntk --pac-bayes-opt \
         --pb-epochs --pb-samples --pb-batch --pb-lr --pb-objective --pb-sigma-init --pb-prior-std --pb-delta --pb-delta-prime --quick \
         --bound-seed --json --plot --threads --quiet examples; do
    expect_out -- "$o" "help mentions $o"
done

# errors
run "$TDL" bounds --data iris
expect_status 2 "no model"
expect_err "--model FILE" "no model message"
run "$TDL" bounds --model "$WORK/g.safetensors" --data gauss:n=30,d=5 --delta 2
expect_status 2 "delta out of range"
run "$TDL" bounds --model "$WORK/g.safetensors" --data gauss:n=30,d=5 --bogus
expect_status 2 "unknown option"
run "$TDL" bounds --model "$WORK/g.safetensors" --data iris
expect_status 1 "feature mismatch"
expect_err "tdl: error:" "one-line error"
expect_empty_out "nothing on stdout after an error"
run "$TDL" bounds --model "$WORK/g.safetensors" --data teacher:n=30,d=5,k=2
expect_status 1 "regression data"
expect_err "class labels" "regression message"
run "$TDL" bounds --model "$WORK/g.safetensors" --data gauss:n=30,d=5 --plot "$WORK/x.txt"
expect_status 2 "bad figure extension"
run "$TDL" bounds --model "$WORK/g.safetensors" --data gauss:n=30,d=5 --pac-bayes-opt --pb-prior-std 1
expect_status 2 "prior variance above c: a usage error"
expect_err "prior variance" "prior message"
run "$TDL" bounds --model "$B/mlp2_ce.model.npz" --act relu --data "$B/mlp2_ce.data.npz" --pac-bayes-opt --quick --loss mse
expect_status 1 "wrong surrogate"
expect_err "surrogate" "surrogate message"
expect_no_file "$WORK/x.txt" "no partial figure"

finish
