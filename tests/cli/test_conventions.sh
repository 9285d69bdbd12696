#!/bin/bash
# CLI tests of PyTorch's conventions as options (issue 23): `tdl eval /
# hessian` under --loss mse:torch and --reduction mean|sum against PyTorch's
# own loss, gradient and Hessian eigenvalues (nn.MSELoss, nn.CrossEntropyLoss,
# nn.BCEWithLogitsLoss, float64), `tdl ntk --ntk-outputs sum` against
# torch.func's summed empirical NTK, the convention and what the numbers
# depend on named in every JSON and text output, the gradient norm, and
# hessian's cond (pos.) on a numerically singular Hessian.
# Fixtures: tests/fixtures/make_torch_conventions.py (PyTorch, float64).
# usage: test_conventions.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
FIX=$2/torch_conventions
. "$(dirname "$0")/lib.sh"

expected() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$FIX/expected.txt"; }
arr() { sed -n "s/.*\"$1\":\[\([^]]*\)\].*/\1/p" "$WORK/out" | head -n 1 | tr ',' ' '; }
u_gamma() { awk -v m="$1" 'BEGIN { u = 2 ^ -53; printf "%.17g", m * u / (1 - m * u) }'; }
# spectra_near "A..." "B..." TOL: same count, |a_i - b_i| <= TOL max_i |b_i|
spectra_near() {
    awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN {
        na = split(a, x, " "); nb = split(b, y, " "); if (na != nb || na == 0) { print "counts " na " and " nb; exit 1 }
        mx = 0; for (i = 1; i <= nb; i++) { s = y[i] < 0 ? -y[i] : y[i]; if (s > mx) mx = s }
        for (i = 1; i <= na; i++) { d = x[i] - y[i]; if (d < 0) d = -d; if (d > t * mx) { print i ": " x[i] " vs " y[i]; exit 1 } }
        exit 0 }'
}

# Tolerances.  tdl and PyTorch sum in different orders; each result is within
# gamma_M of the exact value (lib.sh), M the longest chain of sums behind it.
#   loss of ARCH over n examples:  M = loss_terms ARCH n (lib.sh)
#   gradient norm: the backward pass repeats the chains, plus the P squares
#     of the norm: M = 2 loss_terms + P
#   Hessian eigenvalues: an entry of H chains the forward, backward and
#     second-order passes (3 loss_terms); the eigen-solvers add their backward
#     error P u ||H||_2 (Weyl: |lambda_i(H) - lambda_i(H + E)| <= ||E||_2), so
#     |lambda_tdl - lambda_torch| <= 2 (gamma_{3 loss_terms} + P u) max |lambda|
#   NTK: an entry is a dot product of the P Jacobian entries, each from a
#     chain of loss_terms: 2 (gamma_{P + loss_terms} + n u) max |lambda|
n=12
A3=3-5-3
A1=3-5-1
P3=38     # 3*5 + 5 + 5*3 + 3
P1=26     # 3*5 + 5 + 5 + 1
M3=$(loss_terms $A3 $n)
M1=$(loss_terms $A1 $n)

# ---- losses, gradient norms and Hessian spectra against PyTorch ----
# name loss reduction data model arch P
while read -r name loss red data model arch P; do
    M=$([ "$arch" = $A3 ] && echo "$M3" || echo "$M1")
    run "$TDL" hessian --model "$FIX/$model" --act tanh --data "$FIX/$data" --loss "$loss" --reduction "$red" --json
    expect_status 0 "hessian $name"
    near "$(json_get loss)" "$(expected loss_$name)" "$M" && ok || bad "hessian $name: loss $(json_get loss) vs torch $(expected loss_$name)"
    near "$(json_get gradient_norm)" "$(expected gradnorm_$name)" $((2 * M + P)) && ok ||
        bad "hessian $name: gradient norm $(json_get gradient_norm) vs torch $(expected gradnorm_$name)"
    expect_json gradient_params "$P" "hessian $name"
    tol=$(awk -v g="$(u_gamma $((3 * M)))" -v p="$P" 'BEGIN { printf "%.17g", 2 * (g + p * 2 ^ -53) }')
    why=$(spectra_near "$(arr eigenvalues)" "$(expected eig_$name)" "$tol") && ok || bad "hessian $name: eigenvalue $why (tolerance $tol x max |lambda|)"
    expect_json reduction "\"$red\"" "hessian $name: JSON names the reduction"
    run "$TDL" eval --model "$FIX/$model" --act tanh --data "$FIX/$data" --loss "$loss" --reduction "$red" --json
    expect_status 0 "eval $name"
    near "$(json_get loss)" "$(expected loss_$name)" "$M" && ok || bad "eval $name: loss $(json_get loss) vs torch $(expected loss_$name)"
    near "$(json_get gradient_norm)" "$(expected gradnorm_$name)" $((2 * M + P)) && ok ||
        bad "eval $name: gradient norm $(json_get gradient_norm) vs torch $(expected gradnorm_$name)"
done <<EOF
mse_mean mse:torch mean data.npz tanh3.safetensors $A3 $P3
mse_sum mse:torch sum data.npz tanh3.safetensors $A3 $P3
ce_mean ce mean data.npz tanh3.safetensors $A3 $P3
ce_sum ce sum data.npz tanh3.safetensors $A3 $P3
bce_mean logistic mean data2.npz tanh1.safetensors $A1 $P1
bce_sum logistic sum data2.npz tanh1.safetensors $A1 $P1
EOF

# tdl's own mse is torch's mean x C/2 (C = 3): the bridge the issue asks for
run "$TDL" eval --model "$FIX/tanh3.safetensors" --act tanh --data "$FIX/data.npz" --loss mse --json
want=$(awk -v t="$(expected loss_mse_mean)" 'BEGIN { printf "%.17g", t * 3 / 2 }')
near "$(json_get loss)" "$want" $((M3 + 2)) && ok || bad "tdl's mse $(json_get loss) is not torch's x C/2 = $want"
expect_json mse_convention '"tdl"' "eval --loss mse"
expect_json reduction '"mean"' "eval --loss mse"

# ---- the JSON names the convention and what the numbers depend on ----
run "$TDL" eval --model "$FIX/tanh3.safetensors" --act tanh --data "$FIX/data.npz" --loss mse:torch --json
expect_json loss_name '"mse"' "eval mse:torch"
expect_json mse_convention '"torch"' "eval mse:torch"
expect_out "\"loss_definition\":\"(1/(n C)) sum_i ||f_i - y_i||^2 = torch nn.MSELoss(reduction='mean')\"" "eval mse:torch: the definition"
expect_out '"model_provenance":{"source":"file"' "eval: the model's provenance"
expect_out '"metadata":null,"metadata_reason":"the model file has no metadata' "eval: a plain state dict has no metadata, said so"
expect_out '"blas_core":' "eval: the BLAS kernel"
run "$TDL" eval --model "$FIX/tanh3.safetensors" --act tanh --data "$FIX/data.npz" --loss mse:torch --reduction sum
expect_out "loss         $(awk -v t="$(expected loss_mse_sum)" 'BEGIN { printf "%.10g", t }') (mse, sum over examples, torch's ||f - y||^2)" "eval text: the loss line names the convention"
expect_out "gradient     ||grad L|| = " "eval text: the gradient norm"
expect_out "(no metadata: standard parametrization, tanh, init and seed unknown)" "eval text: the model line"
# a fresh net: parametrization, activation, init, sigma_w, sigma_b, seed
run "$TDL" hessian --arch 3-5-3 --data "$FIX/data.npz" --seed 7 --param ntk --json
expect_out '"model_provenance":{"source":"fresh net","parametrization":"ntk","activation":"relu","sigma_w":1.4142135623730951,"sigma_b":0,"init":"he","seed":7}' "hessian: a fresh net's provenance"
expect_json loss_name '"ce"' "hessian: the default loss"
run "$TDL" hessian --arch 3-5-3 --data "$FIX/data.npz" --seed 7 --param ntk
expect_out "model        fresh net (3-5-3, 38 parameters; ntk parametrization, relu, init he, sigma_w 1.41421, sigma_b 0, seed 7)" "hessian text: the model line"
expect_out "loss (ce, mean over examples) = " "hessian text: the loss line"

# the figure's axis says which loss it is
run "$TDL" hessian --model "$FIX/tanh3.safetensors" --act tanh --data "$FIX/data.npz" --reduction sum --plot "$WORK/h.png"
expect_status 0 "hessian --reduction sum --plot"
grep -q "eigenvalue of the Hessian (summed loss)" "$WORK/h.gp" && ok || bad "hessian --plot: the axis does not say summed loss"

# ---- the NTK summed over the outputs (torch.func) ----
MN=$((P3 + M3))
tol=$(awk -v g="$(u_gamma $MN)" -v n=$n 'BEGIN { printf "%.17g", 2 * (g + n * 2 ^ -53) }')
run "$TDL" ntk --model "$FIX/tanh3.safetensors" --act tanh --data "$FIX/data.npz" --ntk-outputs sum --json
expect_status 0 "ntk --ntk-outputs sum"
why=$(spectra_near "$(arr eigenvalues)" "$(expected ntk_sum_eig)" "$tol") && ok || bad "ntk sum: eigenvalue $why (tolerance $tol x max |lambda|)"
near "$(json_get trace)" "$(expected ntk_sum_trace)" $((MN + n)) && ok || bad "ntk sum: trace $(json_get trace) vs torch $(expected ntk_sum_trace)"
expect_json ntk_outputs '"sum"' "ntk: the JSON names the outputs reduction"
expect_out '"model_provenance":{"source":"file"' "ntk: the model's provenance"
eta_sum=$(json_get eta_max)
run "$TDL" ntk --model "$FIX/tanh3.safetensors" --act tanh --data "$FIX/data.npz" --json
expect_json ntk_outputs '"mean"' "ntk: the default is the mean"
near "$(json_get trace)" "$(awk -v t="$(expected ntk_sum_trace)" 'BEGIN { printf "%.17g", t / 3 }')" $((MN + n + 1)) && ok ||
    bad "ntk mean: trace $(json_get trace) is not torch's sum / C"
# eta_max is the same step size whichever way the kernel is reported
near "$(json_get eta_max)" "$eta_sum" $((MN + n + 2)) && ok || bad "ntk: eta_max $(json_get eta_max) (mean) vs $eta_sum (sum)"
# kernel predictions do not depend on it either
run "$TDL" ntk --model "$FIX/tanh3.safetensors" --act tanh --data "$FIX/data.npz" --test "$FIX/data.npz" --predict --time 5 --json
p_mean=$(json_get test_mse)
run "$TDL" ntk --model "$FIX/tanh3.safetensors" --act tanh --data "$FIX/data.npz" --test "$FIX/data.npz" --predict --time 5 --ntk-outputs sum --json
p_sum=$(json_get test_mse)
awk -v a="$p_mean" -v b="$p_sum" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d <= 1e-12 * a) }' && ok || bad "ntk --predict: test mse $p_mean (mean) vs $p_sum (sum)"

# ---- refused combinations: one line, exit 2 ----
for args in "eval --loss ce:torch" "eval --loss mse:pytorch" "eval --reduction median" "hessian --loss hinge:torch"; do
    set -- $args
    cmd=$1; shift
    run "$TDL" "$cmd" --model "$FIX/tanh3.safetensors" --act tanh --data "$FIX/data.npz" "$@"
    expect_status 2 "$args"
    [ "$(wc -l <"$WORK/err")" -eq 1 ] && ok || bad "$args: not one line: $(cat "$WORK/err")"
done
run "$TDL" ntk --arch 3-5-3 --data "$FIX/data.npz" --reduction sum
expect_status 2 "ntk --reduction"
expect_err "tdl ntk computes no loss" "ntk --reduction"
run "$TDL" ntk --arch 3-5-3 --data "$FIX/data.npz" --full --ntk-outputs sum
expect_status 2 "ntk --full --ntk-outputs sum"
expect_err "--ntk-outputs belongs to the traced empirical kernel" "ntk --full --ntk-outputs sum"
run "$TDL" ntk --arch 3-5-3 --data "$FIX/data.npz" --ntk-outputs total
expect_status 2 "ntk --ntk-outputs total"

# ---- cond (pos.) of a numerically singular Hessian ----
# A linear model on x1, x2 ~ 1000 + N(0, 1), x3 = x1 + x2 exactly: H = [X 1]^T
# [X 1] / n is exactly singular.  Its null eigenvalue comes out as roundoff of
# either sign (1.2e-8 with the Cooperlake kernel: above the zero tolerance
# 5.3e-9, where the old summary printed cond (pos.) 4.8e14 against it), and
# the next one (~5e-7) is below the worst-case roundoff bound (n + P) eps
# ||H||_F ~ 5e-6: whichever is the smallest above the tolerance, it is not
# resolved from 0, and lambda_max over it is no condition number.
run "$TDL" hessian --data "$FIX/collinear.npz" --arch 3-1 --loss mse
expect_status 0 "hessian collinear"
expect_out "cond (pos.)  infinite (numerically singular: the smallest eigenvalue above" "hessian: a numerically singular Hessian says so"
run "$TDL" hessian --data "$FIX/collinear.npz" --arch 3-1 --loss mse --json
expect_out '"condition_positive":null,"condition_positive_reason":"infinite (numerically singular)' "hessian --json: condition_positive null with its reason"
ro=$(json_get roundoff_level); sp=$(json_get smallest_positive_eigenvalue); tl=$(json_get tolerance)
awk -v r="$ro" -v s="$sp" -v t="$tl" 'BEGIN { exit !(t < s && s <= r) }' && ok || bad "collinear: tolerance $tl < smallest positive $sp <= roundoff $ro"
# a well-conditioned Hessian keeps its number, with what it is against
run "$TDL" hessian --model "$FIX/tanh3.safetensors" --act tanh --data "$FIX/data.npz" --loss ce --json
c=$(json_get condition_positive); r=$(json_get condition_positive_ratio)
[ -n "$c" ] && [ "$c" = "$r" ] && [ "$c" != null ] && ok || bad "tanh3: condition_positive '$c' vs ratio '$r'"

# ---- the other commands say the convention they ran under ----
# tdl train: the text's loss and the JSON's reduction/definition; the file
# records it, and eval of the file keeps it (the sum is n times the mean)
run "$TDL" train --arch 3-5-3 --data "$FIX/data.npz" --loss ce --reduction sum --lr 0.001 --epochs 2 -o "$WORK/sum.safetensors"
expect_status 0 "train --reduction sum"
expect_out "loss ce (sum)" "train text: the loss with its reduction"
run "$TDL" train --arch 3-5-3 --data "$FIX/data.npz" --loss ce --reduction sum --lr 0.001 --epochs 2 -o "$WORK/sum.safetensors" --json
expect_json reduction '"sum"' "train --json reduction"
expect_out "torch nn.CrossEntropyLoss(reduction='sum')" "train --json loss_definition"
expect_out '"model_provenance":{"source":"fresh net"' "train --json model_provenance"
run "$TDL" eval --model "$WORK/sum.safetensors" --data "$FIX/data.npz" --json
expect_json reduction '"sum"' "eval of a file trained with --reduction sum keeps it"
lsum=$(json_get loss)
run "$TDL" eval --model "$WORK/sum.safetensors" --data "$FIX/data.npz" --reduction mean --json
lmean=$(json_get loss); n=$(json_get n)
near "$lsum" "$(awk -v m="$lmean" -v n="$n" 'BEGIN { printf "%.17g", m * n }')" "$(loss_terms 3-5-3 12)" && ok || bad "sum $lsum is not n x mean $lmean"
# tdl landscape: JSON and text, the figure's labels
run "$TDL" landscape --model "$WORK/sum.safetensors" --data "$FIX/data.npz" --json --quiet
expect_json reduction '"sum"' "landscape --json reduction"
c=$(json_get centre_loss)
[ "$c" = "$lsum" ] && ok || bad "landscape centre loss $c is not eval's summed loss $lsum"
run "$TDL" landscape --model "$WORK/sum.safetensors" --data "$FIX/data.npz" --plot "$WORK/l.png"
expect_out "loss ce (sum)" "landscape text: the loss with its reduction"
grep -q "^set ylabel 'loss (sum)'" "$WORK/l.gp" && ok || bad "landscape figure: the y label does not say sum"
# tdl sweep trains under the default convention and refuses another
run "$TDL" sweep width --arch 3-W-3 --values 2,4 --data "$FIX/data.npz" --reduction sum --epochs 1
expect_status 2 "sweep --reduction"
expect_err "a sweep trains and reports under tdl's default loss convention" "sweep --reduction message"
# tdl report forwards --reduction: every row and caption says sum
run "$TDL" report --quick --data "$FIX/data.npz" --reduction sum --lr 0.001 --no-checks --out "$WORK/rep" --quiet
expect_status 0 "report --reduction sum"
grep -q "^| train loss (sum) |" "$WORK/rep/report.md" && grep -q "reduction='sum'" "$WORK/rep/report.md" && ok || bad "report: the summary does not say sum"
grep -q "Hessian H of the summed training loss" "$WORK/rep/report.md" && ok || bad "report: the Hessian section does not say summed"
grep -q '"reduction":"sum"' "$WORK/rep/json/hessian.json" "$WORK/rep/json/landscape-2d.json" && ok || bad "report: the commands did not get --reduction"

finish
