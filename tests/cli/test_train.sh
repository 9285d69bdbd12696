#!/bin/bash
# CLI tests of training and evaluation: accuracy, reproducibility, logs,
# divergence, PyTorch-trained models, and the errors of `tdl train` / `tdl eval`.
# usage: test_train.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
FIX=$2
. "$(dirname "$0")/lib.sh"

# relative difference |a - b| / |b| <= tol
close() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; s = b < 0 ? -b : b; exit !(d <= t * s) }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

# The issue's done criterion: digits, 64-128-10 relu, default training, test accuracy >= 0.95.
run "$TDL" train --data digits:split=train --arch 64-128-10 --act relu -o "$WORK/d.safetensors" \
    --log "$WORK/log.csv" --log-params "$WORK/snap.npz" --quiet --json
expect_status 0 "train digits"
run "$TDL" eval --model "$WORK/d.safetensors" --data digits:split=test --json
expect_status 0 "eval digits test"
acc=$(json_get accuracy)
if ge "$acc" 0.95; then ok; else bad "digits test accuracy $acc < 0.95"; fi
expect_json n 359 "eval n"
expect_json reduction '"mean"' "eval states the reduction"
# the log: a header and one row per epoch (30 by default)
rows=$(wc -l < "$WORK/log.csv")
if [ "$rows" -eq 31 ]; then ok; else bad "log has $rows lines, expected 31"; fi
if head -n 1 "$WORK/log.csv" | grep -q "epoch,step,lr,loss,accuracy,theta_norm,dist_init"; then ok; else bad "log header"; fi
# snapshots: theta is 30 x 9610
run "$TDL" info --model "$WORK/snap.npz" --json
expect_out '{"name":"theta","dtype":"F64","shape":[30,9610]}' "parameter snapshots"
# the model file keeps init and metadata
run "$TDL" info --model "$WORK/d.safetensors" --json
expect_out '"init.0.weight"' "model keeps its init"
expect_out '"data":"digits:split=train"' "metadata records the data"
expect_out '"loss":"ce"' "metadata records the loss"
expect_json params 9610 "params"

# --log-ntk-drift: the last log row equals `tdl ntk --drift` on the same rows (all of them)
"$TDL" train --data digits:split=train --arch 64-64-10 --epochs 3 --log "$WORK/drift.csv" --log-ntk-drift=5000 --quiet -o "$WORK/dr.safetensors" >/dev/null
logged=$(tail -n 1 "$WORK/drift.csv" | cut -d, -f10)
run "$TDL" ntk --model "$WORK/dr.safetensors" --data digits:split=train --drift --json
direct=$(json_get drift)
# Two code paths over the same Gram matrices: the drift ||K_t - K_0||_F / ||K_0||_F
# differs by the Gram entries' rounding, about P u relative to ||K_0|| (P = 4810
# terms per entry), so absolutely by 64 P u = 6.8e-11 at most.
if [ -n "$logged" ] && [ -n "$direct" ] && awk -v a="$logged" -v b="$direct" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 64 * 4810 * 1.1102e-16) }'; then ok
else bad "logged drift '$logged' vs tdl ntk --drift '$direct'"; fi
if head -n 1 "$WORK/drift.csv" | grep -q ",ntk_drift$"; then ok; else bad "ntk_drift column header"; fi
run "$TDL" train --data iris --arch 4-3 --log-ntk-drift -o "$WORK/x.safetensors"; expect_status 2 "drift without --log"

# Bit-for-bit reproducible with one thread.
"$TDL" train --data digits:split=train --arch 64-128-10 --epochs 3 --threads 1 -o "$WORK/a.safetensors" --quiet >/dev/null
"$TDL" train --data digits:split=train --arch 64-128-10 --epochs 3 --threads 1 -o "$WORK/b.safetensors" --quiet >/dev/null
if cmp -s "$WORK/a.safetensors" "$WORK/b.safetensors"; then ok; else bad "two --threads 1 runs differ"; fi
"$TDL" train --data digits:split=train --arch 64-128-10 --epochs 3 --threads 1 --seed 1 -o "$WORK/c.safetensors" --quiet >/dev/null
if cmp -s "$WORK/a.safetensors" "$WORK/c.safetensors"; then bad "another seed gives the same model"; else ok; fi

# Every optimizer and schedule runs and lowers the loss on a small problem.
for opt in "--opt gd --lr 0.5" "--opt sgd" "--opt momentum" "--opt nesterov" "--opt adam --lr 0.02" \
           "--schedule cosine" "--schedule step --step-every 2 --gamma 0.5" "--weight-decay 1e-3"; do
    run "$TDL" train --data iris:normalize=standard --arch 4-16-3 --act tanh --epochs 20 $opt --json -o "$WORK/o.safetensors"
    expect_status 0 "train $opt"
    loss=$(json_get train_loss)
    if awk -v l="$loss" 'BEGIN { exit !(l < 0.5) }'; then ok; else bad "$opt: final loss $loss not below 0.5"; fi
done
# Regression with mse, a linear model, a deep linear net, a frozen layer, ntk parametrization.
run "$TDL" train --data teacher:n=100,d=5,k=2 --arch 5-32-1 --act relu --epochs 50 --json -o "$WORK/r.safetensors"
expect_status 0 "regression"; expect_json loss_name '"mse"' "regression default loss"
run "$TDL" train --data iris --arch 4-3 --epochs 5 --json -o "$WORK/l.safetensors"; expect_status 0 "linear model"
expect_json stopped '"completed"' "a run that ends normally says stopped completed"
expect_json diverge_factor 1000 "default divergence factor in the JSON"
# (a deep linear net on raw iris at lr 0.1 diverges -- 4.4 -> 5.9e15 in 5 epochs -- and
# now stops as such; on standardized inputs it learns)
run "$TDL" train --data iris:normalize=standard --arch 4-8-8-3 --act identity --epochs 5 -o "$WORK/dl.safetensors" --json
expect_status 0 "deep linear"
if awk -v a="$(json_get train_loss)" -v b="$(json_get initial_loss)" 'BEGIN { exit !(a < b) }'; then ok; else bad "deep linear: loss did not fall"; fi
run "$TDL" train --data iris --arch 4-8-3 --freeze 1 --epochs 5 -o "$WORK/f.safetensors" --quiet; expect_status 0 "frozen layer"
run "$TDL" train --data "xor:n=200" --arch 2-64-1 --param ntk --loss logistic --epochs 5 -o "$WORK/ntk.safetensors" --quiet
expect_status 0 "ntk parametrization, logistic"
run "$TDL" info --model "$WORK/ntk.safetensors" --json; expect_out '"parametrization":"ntk"' "ntk recorded"
# Stop at a target accuracy.
run "$TDL" train --data iris:normalize=standard --arch 4-16-3 --epochs 500 --target-acc 0.9 --json -o "$WORK/t.safetensors"
expect_json reached_target true "target accuracy reached"
expect_json stopped '"target"' "stopped at the target"
ep=$(json_get epochs); if [ "$ep" -lt 500 ]; then ok; else bad "target did not stop training ($ep epochs)"; fi

# Divergence: a clear error, exit 1, the last good checkpoint kept, no model file.
run "$TDL" train --data digits --arch 64-64-10 --loss mse --opt gd --lr 1e6 --epochs 50 -o "$WORK/div.safetensors"
expect_status 1 "divergence exit status"
expect_err "training diverged" "divergence message"
expect_err "div.safetensors.last-good.safetensors" "divergence names the checkpoint"
expect_no_file "$WORK/div.safetensors" "no model file after divergence"
if [ -f "$WORK/div.safetensors.last-good.safetensors" ]; then ok; else bad "last good checkpoint missing"; fi

# A loss that grows by orders of magnitude without overflowing is a divergence too
# (tdl help train: above 1000 x max(initial loss, zero-predictor loss)): digits at
# lr 1e6 went 2.5 -> 1.3e6 in 3 epochs and used to exit 0 with a model file.
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }
run "$TDL" train --data digits --arch 64-8-10 --lr 1e6 --epochs 3 -o "$WORK/grow.safetensors"
expect_status 1 "growing loss: exit status"
expect_err "training diverged" "growing loss: message"
expect_err "exceeds 1000 x" "growing loss: names the criterion"
expect_err "learning rate 1e+06" "growing loss: names the learning rate"
expect_err "e.g. --lr 100000" "growing loss: suggests lr/10"
expect_err "--diverge-factor 0 turns this stop off" "growing loss: names the opt-out"
expect_empty_out "growing loss: no table on stdout"
expect_no_file "$WORK/grow.safetensors" "growing loss: no model file"
run "$TDL" train --data digits --arch 64-8-10 --lr 1e6 --epochs 3 -o "$WORK/grow.safetensors" --json
expect_status 1 "growing loss --json: exit status"
expect_json stopped '"diverged"' "growing loss --json: stopped diverged"
expect_json model null "growing loss --json: no model"
expect_json diverged_nonfinite false "growing loss --json: finite"
expect_json suggested_lr 100000 "growing loss --json: suggested lr"
dl=$(json_get diverged_loss); th=$(json_get diverge_threshold)
if gt "$dl" "$th" && gt "$th" 0; then ok; else bad "diverged_loss $dl not above diverge_threshold $th"; fi
[ "$(wc -l <"$WORK/out")" -eq 1 ] && ok || bad "growing loss --json: one line on stdout"
expect_no_file "$WORK/grow.safetensors" "growing loss --json: no model file"
# the opt-out: the same run trains on, exit 0, with its (huge) loss
rm -f "$WORK"/grow.safetensors.last-good.safetensors
run "$TDL" train --data digits --arch 64-8-10 --lr 1e6 --epochs 3 -o "$WORK/grow.safetensors" --diverge-factor 0 --json
expect_status 0 "--diverge-factor 0: exit status"
expect_json stopped '"completed"' "--diverge-factor 0: completed"
expect_json epochs 3 "--diverge-factor 0: all epochs"
if gt "$(json_get train_loss)" 1e5; then ok; else bad "--diverge-factor 0: loss $(json_get train_loss) expected > 1e5"; fi
if [ -f "$WORK/grow.safetensors" ] && [ ! -e "$WORK/grow.safetensors.last-good.safetensors" ]; then ok; else bad "--diverge-factor 0: model file missing (or a checkpoint written)"; fi
# a larger factor is honoured: 1e9 lets this run finish
run "$TDL" train --data digits --arch 64-8-10 --lr 1e6 --epochs 3 -o "$WORK/grow9.safetensors" --diverge-factor 1e9 --quiet
expect_status 0 "--diverge-factor 1e9"
# A run that only meets a NaN / infinity (growth stop off) ends the same way.
run "$TDL" train --data digits --arch 64-64-10 --loss mse --opt gd --lr 1e6 --epochs 50 --diverge-factor 0 --json -o "$WORK/nan.safetensors"
expect_status 1 "non-finite: exit status"
expect_err "non-finite loss or parameter" "non-finite: message"
expect_err "learning rate 1e+06" "non-finite: names the learning rate"
expect_err "e.g. --lr 100000" "non-finite: suggests lr/10"
expect_json stopped '"diverged"' "non-finite --json: stopped diverged"
expect_json diverged_nonfinite true "non-finite --json: flagged"
expect_json diverged_loss null "non-finite --json: no bare NaN"
expect_no_file "$WORK/nan.safetensors" "non-finite: no model file"
if [ -f "$WORK/nan.safetensors.last-good.safetensors" ]; then ok; else bad "non-finite: last good checkpoint missing"; fi
# bad factors are usage errors, before any work
for f in 0.5 -1 abc; do
    run "$TDL" train --data digits --arch 64-8-10 --diverge-factor "$f" -o "$WORK/bf.safetensors"
    expect_status 2 "--diverge-factor $f"
    expect_err "expected 0 (off) or a factor >= 1" "--diverge-factor $f message"
done
expect_no_file "$WORK/bf.safetensors" "no file after a bad factor"

# Models trained in PyTorch (tests/fixtures/make_torch_trained.py) evaluate to PyTorch's loss.
while read -r name loss accuracy; do
    case $name in
        tanh_f64) args="--model $FIX/torch/tanh_f64.safetensors --act tanh" ;;
        tanh_f32) args="--model $FIX/torch/tanh_f32.safetensors --act tanh" ;;
        relu_npz) args="--model $FIX/torch/relu_state.npz --act relu" ;;
    esac
    run "$TDL" eval $args --loss ce --data "$FIX/torch/data.npz" --json
    expect_status 0 "eval $name"
    got=$(json_get loss)
    if close "$got" "$loss" 1e-12; then ok; else bad "$name: loss $got vs PyTorch $loss"; fi
    got=$(json_get accuracy)
    if [ "$got" = "$accuracy" ]; then ok; else bad "$name: accuracy $got vs PyTorch $accuracy"; fi
done < "$FIX/torch/expected.txt"

# Errors: usage (2) and work (1), one line, no output file.
run "$TDL" train --arch 64-10;                     expect_status 2 "train without data"
run "$TDL" train --data iris;                      expect_status 2 "train without a net"
run "$TDL" train --data iris --arch 4-x-3;         expect_status 2 "bad arch"
run "$TDL" train --data iris --arch 4-3 --lr -1;   expect_status 2 "negative lr"
run "$TDL" train --data iris --arch 4-3 --opt foo; expect_status 2 "unknown optimizer"
run "$TDL" train --data iris --arch 4-3 --act swish; expect_status 2 "unknown activation"
run "$TDL" train --data iris --arch 5-3 -o "$WORK/x.safetensors"; expect_status 1 "input width mismatch"
expect_err "the model takes 5 inputs but the data has 4 features" "width mismatch message"; expect_no_file "$WORK/x.safetensors" "no file on mismatch"
run "$TDL" train --data iris --arch 4-2 -o "$WORK/x.safetensors"; expect_status 1 "too few outputs"
expect_err "2 outputs but the data has 3 classes" "class mismatch message"
run "$TDL" train --data iris --arch 4-3 --loss logistic -o "$WORK/x.safetensors"; expect_status 1 "logistic with 3 outputs"
run "$TDL" train --data iris --arch 4-3 -o /nonexistent/dir/m.safetensors --epochs 1; expect_status 1 "unwritable output"
expect_err "cannot create output file" "unwritable output message"
run "$TDL" eval --model "$WORK/d.safetensors" --data iris; expect_status 1 "eval width mismatch"
run "$TDL" eval --model "$FIX/torch/tanh_f64.safetensors" --data "$FIX/torch/data.npz"; expect_status 1 "eval without activation"
expect_err "give --act" "asks for --act"
run "$TDL" eval --data iris;                       expect_status 2 "eval without model"
run "$TDL" eval --model "$WORK/d.safetensors" --data digits --margin-percentile 101; expect_status 2 "bad percentile"

# training lines say what ran and why it stopped (issue 23): gd is full batch,
# whatever --batch says, and a run the target stopped says so
run "$TDL" train --data iris --arch 4-8-3 --opt gd --epochs 2000 --target-loss 0.3 -o "$WORK/gd.safetensors"
expect_status 0 "gd with a target"
expect_out "lr 0.1, full batch (150), " "gd: full batch, not batch 128"
expect_out "stopped      at the target (train loss <= --target-loss) after " "the target stop is said"
run "$TDL" train --data iris --arch 4-8-3 --opt gd --epochs 3 -o "$WORK/gd.safetensors" --json
expect_json batch 150 "gd: --json batch is the one used"
run "$TDL" info --model "$WORK/gd.safetensors" --json
expect_out '"batch":"150"' "gd: the model file records the batch used"
finish
