#!/bin/bash
# CLI tests of `tdl verify` (issue 21, single quantities): correct answers
# computed with torch / numpy (tests/fixtures/make_verify_fixtures.py, never
# by tdl) pass; planted slips are diagnosed by name; a 1e-3 error fails with
# no diagnosis; a 1e-10 near miss passes; bad files and options give one line.
# usage: test_verify.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
FIX=$2
. "$(dirname "$0")/lib.sh"
F=$FIX/verify
NET=(--model "$F/net.npz" --act tanh --data "$F/data.npz")
MSE=("${NET[@]}" --loss mse)
CE=("${NET[@]}" --loss ce)
# the analytic kernels: depth-2 relu net, NTK parametrization (the weights do not enter)
ANA=(--arch 4-5-3 --act relu --param ntk --sigma-w 1.5 --sigma-b 0.1 --data "$F/data.npz")

# ---- correct answers pass at the default tolerance 1e-8 (each fixture is the
# same quantity computed by torch / numpy in double precision: they agree to
# ~1e-15 relative, far inside 1e-8), exit 0, verdict PASS, slip none
pass() { # DESCRIPTION ARGS...
    local what=$1
    shift
    run "$TDL" verify "$@" --json
    expect_status 0 "$what"
    expect_json verdict '"PASS"' "$what: verdict"
    expect_json slip '"none"' "$what: slip"
    expect_json tol 1e-08 "$what: default tolerance"
}
pass "loss (mse)" --quantity loss "${MSE[@]}" --answer "$F/loss.npy"
pass "loss (ce)" --quantity loss "${CE[@]}" --answer "$F/ce_loss.npy"
pass "gradient" --quantity gradient "${MSE[@]}" --answer "$F/grad.npy"
pass "gradient, one-column csv" --quantity gradient "${MSE[@]}" --answer "$F/grad.csv"
pass "gradient, npz member" --quantity gradient "${MSE[@]}" --answer "$F/answers.npz:grad"
pass "loss, npz member" --quantity loss "${MSE[@]}" --answer "$F/answers.npz:loss"
pass "jacobian" --quantity jacobian "${MSE[@]}" --answer "$F/jac.npy"
pass "hessian" --quantity hessian "${MSE[@]}" --answer "$F/hess.npy"
pass "gn" --quantity gn "${MSE[@]}" --answer "$F/gn.npy"
pass "hvp" --quantity hvp "${MSE[@]}" --vector "$F/v.npy" --answer "$F/hvp.npy"
pass "hessian-eigenvalues" --quantity hessian-eigenvalues "${MSE[@]}" --answer "$F/eig.npy"
pass "ntk traced" --quantity ntk "${MSE[@]}" --answer "$F/ntk.npy"
pass "ntk full" --quantity ntk --ntk-full "${MSE[@]}" --answer "$F/ntk_full.npy"
pass "nngp analytic" --quantity nngp "${ANA[@]}" --answer "$F/nngp.npy"
pass "ntk analytic" --quantity ntk:analytic "${ANA[@]}" --answer "$F/ntk_analytic.npy"
pass "kl-inverse, literal number" --quantity kl-inverse --q 0.1 --c 0.2 --answer "$(cat "$F/kl_inv.txt")"
pass "bound:path_l2, literal number" --quantity bound:path_l2 "${MSE[@]}" --answer "$(cat "$F/path_l2.txt")"
pass "near miss 1e-10" --quantity hessian "${MSE[@]}" --answer "$F/near_hess.npy"

# the JSON keys, and the shape of a matrix
run "$TDL" verify --quantity hessian "${MSE[@]}" --answer "$F/hess.npy" --json
for key in quantity shape tol verdict rel_error abs_error worst_index worst_meaning worst_exact worst_answer slip factor diagnosis; do
    v=$(json_get $key); if [ -n "$v" ]; then ok; else bad "key $key missing"; fi
done
if grep -q '"shape":\[43,43\]' "$WORK/out"; then ok; else bad "hessian shape [43,43] expected: $(head -c 300 "$WORK/out")"; fi
# the text verdict
run "$TDL" verify --quantity gradient "${MSE[@]}" --answer "$F/grad.npy"
expect_status 0 "text pass"
expect_out "PASS" "text verdict"
expect_out "worst entry" "text worst entry"

# ---- planted slips: exit 1, verdict FAIL, the slip named
slip() { # EXPECTED(alternatives a|b) DESCRIPTION ARGS...
    local want=$1 what=$2
    shift 2
    run "$TDL" verify "$@" --json
    expect_status 1 "$what"
    expect_json verdict '"FAIL"' "$what: verdict"
    local got
    got=$(json_get slip | tr -d '"')
    if printf '%s\n' "$want" | tr '|' '\n' | grep -qx -- "$got"; then ok; else bad "$what: slip '$got', expected $want; $(json_get diagnosis)"; fi
    local diag
    diag=$(json_get diagnosis)
    if [ -n "$diag" ] && [ "$diag" != '""' ]; then ok; else bad "$what: no diagnosis"; fi
}
slip sum_not_mean "gradient x n" --quantity gradient "${MSE[@]}" --answer "$F/slip_sum_grad.npy"
slip no_half "mse loss without the 1/2" --quantity loss "${MSE[@]}" --answer "$F/slip_nohalf_loss.npy"
slip outputs_summed "NTK summed over the outputs" --quantity ntk "${MSE[@]}" --answer "$F/slip_ntk_summed.npy"
slip outputs_averaged "NTK divided by C" --quantity ntk "${MSE[@]}" --answer "$F/slip_ntk_averaged.npy"
slip "transposed_weights|column_major" "weights in x out" --quantity gradient "${MSE[@]}" --answer "$F/slip_transposed_grad.npy"
slip biases_first "biases before weights" --quantity gradient "${MSE[@]}" --answer "$F/slip_biasfirst_grad.npy"
slip descending "eigenvalues descending" --quantity hessian-eigenvalues "${MSE[@]}" --answer "$F/slip_desc_eig.npy"
slip sign "a sign flip" --quantity gradient "${MSE[@]}" --answer "$F/slip_sign_grad.npy"
slip one_layer_block "layer 1's block only" --quantity hessian "${MSE[@]}" --answer "$F/slip_layer1_hess.npy"
expect_json layer 1 "one layer's block: the layer"
slip integer_targets "integer targets (loss)" --quantity loss "${MSE[@]}" --answer "$F/slip_int_loss.npy"
slip integer_targets "integer targets (gradient)" --quantity gradient "${MSE[@]}" --answer "$F/slip_int_grad.npy"
slip log2 "cross-entropy in bits" --quantity loss "${CE[@]}" --answer "$F/slip_log2_ce.npy"
slip no_biases "the biases left out" --quantity gradient "${MSE[@]}" --answer "$F/slip_nobias_grad.npy"
slip layers_reversed "the layers in reverse order" --quantity gradient "${MSE[@]}" --answer "$F/slip_reversed_grad.npy"
slip torch_mse "nn.MSELoss" --quantity loss "${MSE[@]}" --answer "$F/slip_torchmse_loss.npy"
slip parametrization "the NTK normalized by the width" --quantity ntk "${MSE[@]}" --answer "$F/slip_param_ntk.npy"
slip unsorted "eigenvalues unsorted" --quantity hessian-eigenvalues "${MSE[@]}" --answer "$F/slip_unsorted_eig.npy"
slip mean_not_sum "the mean where the convention sums" --quantity loss "${MSE[@]}" --reduction sum --answer "$F/slip_mean_loss.npy"
slip column_major "the Jacobian as P x nC" --quantity jacobian "${MSE[@]}" --answer "$F/slip_colmajor_jac.npy"
expect_json shape_ok false "the Jacobian as P x nC: the shapes differ"
slip column_major "the Jacobian's column-major storage read as nC x P" --quantity jacobian "${MSE[@]}" --answer "$F/slip_colmajor_flat_jac.npy"
# the factors: 2/C = 2/3 (nn.MSELoss), 1/m = 1/5 (the width), 1/n = 1/6
for a in "slip_torchmse_loss loss 0.6666666666666666" "slip_param_ntk ntk 0.2" "slip_mean_loss loss 0.16666666666666666"; do
    set -- $a
    red=(); [ "$1" = slip_mean_loss ] && red=(--reduction sum)
    run "$TDL" verify --quantity "$2" "${MSE[@]}" "${red[@]}" --answer "$F/$1.npy" --json
    if awk -v f="$(json_get factor)" -v w="$3" 'BEGIN { exit !(f > w - 1e-9 && f < w + 1e-9) }'; then ok; else bad "$1: factor $3 expected, got $(json_get factor)"; fi
done
# the factor of a scale slip: n = 6, 2, C = 3, 1/ln 2
run "$TDL" verify --quantity gradient "${MSE[@]}" --answer "$F/slip_sum_grad.npy" --json
if awk -v f="$(json_get factor)" 'BEGIN { exit !(f > 6 - 1e-8 && f < 6 + 1e-8) }'; then ok; else bad "factor n = 6 expected, got $(json_get factor)"; fi
run "$TDL" verify --quantity ntk "${MSE[@]}" --answer "$F/slip_ntk_summed.npy" --json
if awk -v f="$(json_get factor)" 'BEGIN { exit !(f > 3 - 1e-8 && f < 3 + 1e-8) }'; then ok; else bad "factor C = 3 expected, got $(json_get factor)"; fi
# the text form names the slip and gives the diagnosis
run "$TDL" verify --quantity gradient "${MSE[@]}" --answer "$F/slip_sum_grad.npy"
expect_status 1 "text fail"
expect_out "FAIL" "text verdict FAIL"
expect_out "sum_not_mean" "text slip"
expect_out "diagnosis" "text diagnosis"

# ---- a genuine 1e-3 error fails with no spurious diagnosis
for a in err_grad:gradient err_hess:hessian; do
    run "$TDL" verify --quantity "${a#*:}" "${MSE[@]}" --answer "$F/${a%%:*}.npy" --json
    expect_status 1 "1e-3 error ($a)"
    expect_json verdict '"FAIL"' "1e-3 error ($a): verdict"
    expect_json slip '"none"' "1e-3 error ($a): no slip"
    # the relative error is the planted 1e-3 (of max |exact|), up to rounding
    if awk -v r="$(json_get rel_error)" 'BEGIN { exit !(r > 0.999e-3 && r < 1.001e-3) }'; then ok; else bad "1e-3 error ($a): rel_error $(json_get rel_error)"; fi
done
# and the same error passes at a looser tolerance
run "$TDL" verify --quantity gradient "${MSE[@]}" --answer "$F/err_grad.npy" --tol 1e-2
expect_status 0 "1e-3 error at --tol 1e-2"
# a shape mismatch fails
run "$TDL" verify --quantity gradient "${MSE[@]}" --answer "$F/hess.npy" --json
expect_status 1 "shape mismatch"
expect_json shape_ok false "shape mismatch: shape_ok"

# ---- bad files: exit 1, one line naming the problem
refuse "cannot open" "missing answer" "$TDL" verify --quantity gradient "${MSE[@]}" --answer "$F/missing.npy"
refuse "3-D" "3-D answer" "$TDL" verify --quantity gradient "${MSE[@]}" --answer "$F/bad3d.npy"
refuse "abc" "non-numeric csv" "$TDL" verify --quantity gradient "${MSE[@]}" --answer "$F/bad.csv"
refuse "2 members" "npz without a member" "$TDL" verify --quantity gradient "${MSE[@]}" --answer "$F/answers.npz"
refuse "no member 'nope'" "npz without that member" "$TDL" verify --quantity gradient "${MSE[@]}" --answer "$F/answers.npz:nope"
refuse "expected a .npy" "unknown format" "$TDL" verify --quantity gradient "${MSE[@]}" --answer "$F/kl_inv.txt"
refuse "not a number" "neither file nor number" "$TDL" verify --quantity gradient "${MSE[@]}" --answer nonsense
refuse "43 parameters" "hvp vector of the wrong length" "$TDL" verify --quantity hvp "${MSE[@]}" --vector "$F/ntk.npy" --answer "$F/hvp.npy"
refuse "not a row" "unknown bound row" "$TDL" verify --quantity bound:nope "${MSE[@]}" --answer 1

# ---- bad options: exit 2, one line
usage() { # FRAGMENT DESCRIPTION ARGS...
    local frag=$1 what=$2
    shift 2
    run "$TDL" verify "$@"
    expect_status 2 "$what"
    expect_err "$frag" "$what: names the problem"
    expect_empty_out "$what: no output"
}
usage "--quantity foo" "unknown quantity" --quantity foo "${MSE[@]}" --answer 1
usage "--quantity Q is required" "no quantity" "${MSE[@]}" --answer 1
usage "--answer" "no answer" --quantity loss "${MSE[@]}"
usage "--vector" "hvp without a vector" --quantity hvp "${MSE[@]}" --answer 1
usage "--vector belongs" "vector without hvp" --quantity loss "${MSE[@]}" --vector "$F/v.npy" --answer 1
usage "--tol" "negative tolerance" --quantity loss "${MSE[@]}" --answer 1 --tol -1
usage "--q" "kl-inverse without --c" --quantity kl-inverse --q 0.1 --answer 1
usage "--data" "no data" --quantity loss --model "$F/net.npz" --act tanh --answer 1
usage "--ntk-full" "--ntk-full on a loss" --quantity loss "${MSE[@]}" --ntk-full --answer 1

# ---- tdl help verify lists the slips it knows, one line each
run "$TDL" help verify
expect_status 0 "help verify"
for s in sum_not_mean mean_not_sum no_half outputs_summed torch_mse parametrization transposed_weights column_major biases_first layers_reversed no_biases descending unsorted sign one_layer_block integer_targets log2; do
    if grep -qE "^  $s " "$WORK/out"; then ok; else bad "help verify lacks the slip $s"; fi
done

finish
