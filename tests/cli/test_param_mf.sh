#!/bin/bash
# CLI tests of --param mf (the mean-field parametrization, tdl/model.h): the
# help, a model file that says "mf" and every command reading it, the
# kernel identity Theta_mf = Theta_ntk / n (same theta), the refusal of the
# analytic kernels, and the usage errors.
# usage: test_param_mf.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
. "$(dirname "$0")/lib.sh"
DATA="teacher:n=24,d=4,k=2,act=erf,seed=3"

# the help names mf and the learning rate it needs
run "$TDL" help train
expect_out "or mf (mean-field, muP" "help train: --param mf"
expect_out "give it --lr n times an ntk step" "help train: the mf learning rate"

# train in mf (lr = n x an ntk step: 64 x 0.5), save; the file says "mf"
run "$TDL" train --arch 4-64-1 --act erf --param mf --data "$DATA" --loss mse --opt gd --lr 32 --steps 60 \
    -o "$WORK/mf.safetensors" --json
expect_status 0 "train --param mf"
l0=$(json_get initial_loss); l1=$(json_get train_loss)
if awk -v a="$l0" -v b="$l1" 'BEGIN { exit !(b > 0 && b < 0.5 * a) }'; then ok; else bad "mf training: loss $l0 -> $l1 (expected to halve)"; fi
run "$TDL" info --model "$WORK/mf.safetensors" --json
expect_status 0 "info on the mf model"
expect_json parametrization '"mf"' "info: parametrization"
# every command reads it through the per-layer scales
run "$TDL" eval --model "$WORK/mf.safetensors" --data "$DATA" --json
expect_status 0 "eval of the mf model"
e1=$(json_get loss)
if awk -v a="$e1" -v b="$l1" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-12 * b) }'; then ok; else bad "eval loss $e1 vs train final $l1"; fi
run "$TDL" hessian --model "$WORK/mf.safetensors" --data "$DATA" --json
expect_status 0 "hessian of the mf model"
run "$TDL" ntk --model "$WORK/mf.safetensors" --data "$DATA" --drift --json
expect_status 0 "ntk --drift of the mf model"
run "$TDL" landscape --model "$WORK/mf.safetensors" --data "$DATA" --grid 5 --json
expect_status 0 "landscape of the mf model"
# the bounds need classes: a 3-class mf net on iris (lr = 16 x 0.5)
run "$TDL" train --arch 4-16-3 --param mf --data iris --opt gd --lr 8 --steps 30 -o "$WORK/mfc.safetensors"
expect_status 0 "train a mf classifier"
run "$TDL" bounds --model "$WORK/mfc.safetensors" --data iris --json
expect_status 0 "bounds of the mf model"

# the same theta (seed, gaussian init): f_mf = f_ntk / sqrt 16, so the
# empirical NTK's trace is the ntk one / 16; both traces are sums of
# n (d + 1) 16-ish positive terms computed the same way: near with M = 1e4
run "$TDL" ntk --arch 4-16-1 --act tanh --init gaussian --param ntk --seed 5 --data "$DATA" --json --threads 1
tn=$(json_get trace)
run "$TDL" ntk --arch 4-16-1 --act tanh --init gaussian --param mf --seed 5 --data "$DATA" --json --threads 1
tm=$(json_get trace)
if awk -v a="$tm" -v b="$tn" 'BEGIN { d = 16 * a - b; if (d < 0) d = -d; exit !(b > 0 && d <= 1e-12 * b) }'; then ok
else bad "trace mf $tm x 16 vs ntk $tn"; fi

# no analytic kernel in the mean-field limit: refused with the reason
refuse "mean-field parametrization has no infinite-width kernel" "ntk --analytic --param mf" \
    "$TDL" ntk --arch 4-16-1 --param mf --data "$DATA" --analytic
refuse "mean-field parametrization has no infinite-width kernel" "ntk --analytic --nngp --param mf" \
    "$TDL" ntk --model "$WORK/mf.safetensors" --data "$DATA" --analytic --nngp
# xavier belongs to the standard parametrization
refuse "mf stores N(0,1) weights" "--param mf --init xavier" \
    "$TDL" ntk --arch 4-16-1 --param mf --init xavier --data "$DATA"
# an unknown parametrization is a usage error naming the three
run "$TDL" train --arch 4-8-1 --param meanfield --data "$DATA"
expect_status 2 "--param meanfield"
expect_err "expected standard, ntk or mf" "--param meanfield: names the choices"

finish
