#!/bin/bash
# `tdl certify` (issue 19) on tiny configurations (seconds): the ledger adds up
# (each kl^-1 re-computed from the printed terms by bisection, within 1e-9),
# the certificate is at or above the held-out error of the stochastic net,
# random labels give >= 0.5, --prior-fraction 0 is `tdl bounds --pac-bayes-opt`'s
# Dziugaite-Roy certificate for the same net and seed, runs are reproducible,
# and bad input is refused with one line.
# usage: test_certify.sh TDL
TDL=$1
. "$(dirname "$0")/lib.sh"
TINY=(--prior-epochs 8 --prior-lr 0.05 --epochs 2 --batch 100 --test-draws 2 --threads 1 --quiet)

# the ledger re-computed: kl^-1 by bisection (80 halvings of [q, 1]: 2^-80 < 1e-24)
ledger_check() {
    python3 - "$WORK/out" <<'PY'
import json, math, sys
d = json.load(open(sys.argv[1]))
def kl(q, p):
    t = 0.0
    if q > 0: t += q * math.log(q / p)
    if q < 1: t += (1 - q) * math.log((1 - q) / (1 - p))
    return t
def klinv(q, c):
    lo, hi = q, 1.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if kl(q, mid) > c: hi = mid
        else: lo = mid
    return hi
bad = []
for k in ["certificate", "stochastic_test_error", "mean_net_test_error", "kl", "m_bound", "m_prior", "delta",
          "delta_mc", "mc_samples", "objective", "seconds", "theorem", "ledger"]:
    if k not in d: bad.append("missing key " + k)
m, N = d["m_bound"], d["mc_draws"]
mcb = klinv(d["mc_error"], math.log(2 / d["delta_mc"]) / N)
if abs(mcb - d["mc_bound"]) > 1e-9: bad.append("mc_bound %r vs %r" % (d["mc_bound"], mcb))
if d["prior_fraction"] > 0:
    rhs = (d["kl"] + math.log(2 * math.sqrt(m) / d["delta"])) / m
    if abs(rhs - d["kl_rhs"]) > 1e-12 * rhs: bad.append("kl_rhs %r vs %r" % (d["kl_rhs"], rhs))
else:
    # Dziugaite-Roy: B = KL + ln(pi^2 m / (6 delta)) + 2 ln j, over m - 1
    B = d["kl"] + math.log(math.pi ** 2 * m / (6 * d["delta"])) + 2 * math.log(d["dr_j"])
    if abs(B / (m - 1) - d["kl_rhs"]) > 1e-12 * B: bad.append("DR rhs %r vs %r" % (d["kl_rhs"], B / (m - 1)))
cert = klinv(d["mc_bound"], d["kl_rhs"])
if abs(cert - d["certificate"]) > 1e-9: bad.append("certificate %r vs %r" % (d["certificate"], cert))
terms = d["ledger"]["terms"]
if abs(sum(terms.values()) - d["certificate"]) > 1e-12: bad.append("terms do not add up")
if abs(d["confidence"] - (1 - d["delta"] - d["delta_mc"])) > 1e-15: bad.append("confidence")
print("; ".join(bad) if bad else "ok")
PY
}

# ---- 10 classes, data-dependent prior: the ledger, validity, reproducibility ----
run "$TDL" certify --data digits:split=train --test digits:split=test --arch 64-64-10 "${TINY[@]}" --mc 4 --json
expect_status 0 "certify digits 10 classes"
if [ ! -s "$WORK/err" ]; then ok; else bad "--quiet: stderr not empty: $(head -c 200 "$WORK/err")"; fi
v=$(ledger_check); [ "$v" = ok ] && ok || bad "10 classes: ledger: $v"
cp "$WORK/out" "$WORK/first.json"
cert=$(json_get certificate); snn=$(json_get stochastic_test_error)
awk -v c="$cert" -v s="$snn" 'BEGIN { exit !(c >= s && c < 0.9) }' && ok || bad "certificate $cert not in [stochastic test error $snn, chance 0.9)"
expect_json m_prior 721 "stratified half of digits:split=train (1438 rows) to the prior, rounded per class"
expect_json m_bound 717 "the rest to the bound"
expect_json objective '"fquad"' "default objective"
# one thread, the same seed: the same bits
run "$TDL" certify --data digits:split=train --test digits:split=test --arch 64-64-10 "${TINY[@]}" --mc 4 --json
expect_json certificate "$cert" "the same seed reproduces the certificate"
run "$TDL" certify --data digits:split=train --test digits:split=test --arch 64-64-10 "${TINY[@]}" --mc 4 --json --seed 5
c5=$(json_get certificate)
[ "$c5" != "$cert" ] && ok || bad "another seed, the same certificate $c5"

# ---- binary (one output, logistic), deeper, Laplace and flambda ----
run "$TDL" certify --data digits:split=train,binary=5 --test digits:split=test,binary=5 --arch 64-32-32-1 "${TINY[@]}" --json --posterior laplace --objective flambda --mc 300
expect_status 0 "certify binary, depth 3, laplace, flambda"
v=$(ledger_check); [ "$v" = ok ] && ok || bad "binary laplace: ledger: $v"
expect_json mc_draws 300 "laplace: N = --mc whole nets"
cert=$(json_get certificate); snn=$(json_get stochastic_test_error)
awk -v c="$cert" -v s="$snn" 'BEGIN { exit !(c >= s && c < 0.5) }' && ok || bad "binary certificate $cert not in [$snn, 0.5)"

# ---- random labels (binary): every classifier's risk is 1/2, so a valid certificate is >= 0.5 ----
run "$TDL" certify --data digits:split=train,binary=5,random-labels=1 --test digits:split=test,binary=5,random-labels=1 \
    --arch 64-32-1 "${TINY[@]}" --mc 4 --json
expect_status 0 "certify random labels"
cert=$(json_get certificate)
awk -v c="$cert" 'BEGIN { exit !(c >= 0.5) }' && ok || bad "random labels: certificate $cert < 0.5"

# ---- text output: the theorem, the classifier, the ledger ----
run "$TDL" certify --data digits:split=train --test digits:split=test --arch 64-64-10 "${TINY[@]}" --mc 4
expect_status 0 "certify text"
expect_out "theorem       Langford-Seeger / Maurer (2004)" "text names the theorem"
expect_out "the 0-1 error of the stochastic net Q, confidence 0.965" "text: the classifier and the confidence"
expect_out "certificate      " "text: the ledger"
# progress without --quiet
run "$TDL" certify --data digits:split=train --test digits:split=test --arch 64-64-10 --prior-epochs 2 --epochs 1 --mc 1 --test-draws 1 --threads 1
grep -q "tdl certify: posterior epoch 1/1" "$WORK/err" && ok || bad "progress on stderr: $(head -c 200 "$WORK/err")"

# --plot: the posterior's training curve, one point per epoch, with its data and script beside it
run "$TDL" certify --data digits:split=train --test digits:split=test --arch 64-16-10 --prior-epochs 2 --epochs 3 --mc 1 \
    --test-draws 1 --threads 1 --quiet --plot "$WORK/curve.png"
expect_status 0 "certify --plot"
[ -s "$WORK/curve.png" ] && [ -s "$WORK/curve.gp" ] && ok || bad "--plot: no figure or script"
[ "$(grep -c '^[0-9]' "$WORK/curve.dat")" -eq 9 ] && ok || bad "--plot: expected 3 series x 3 epochs in curve.dat: $(head -c 300 "$WORK/curve.dat")"

# ---- --prior-fraction 0: Dziugaite and Roy's certificate, as tdl bounds --pac-bayes-opt computes it ----
run "$TDL" certify --data digits:split=train,binary=5 --test digits:split=test,binary=5 --arch 64-16-1 --prior-fraction 0 \
    --prior-epochs 3 --epochs 2 --mc 3 --test-draws 1 --objective pinsker --threads 1 --quiet --json --seed 3
expect_status 0 "certify data-free"
v=$(ledger_check); [ "$v" = ok ] && ok || bad "data-free: ledger: $v"
dr_cert=$(json_get certificate)
expect_json m_prior 0 "data-free: no prior part"
# the same net: tdl train with the prior's recipe (SGD lr 0.005, momentum 0.99, batch 250, seed 3)
run "$TDL" train --data digits:split=train,binary=5 --arch 64-16-1 --opt sgd --lr 0.005 --momentum 0.99 --batch 250 \
    --epochs 3 --seed 3 --threads 1 -o "$WORK/dr.safetensors"
expect_status 0 "train the data-free net"
run "$TDL" bounds --model "$WORK/dr.safetensors" --data digits:split=train,binary=5 --pac-bayes-opt --pb-epochs 2 \
    --pb-samples 3 --pb-objective pinsker --bound-seed 3 --no-flatness --no-ntk --threads 1 --quiet --json
expect_status 0 "bounds --pac-bayes-opt on the same net"
b_cert=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(repr([r for r in d["measures"] if r["name"]=="dziugaite_roy"][0]["bound"]))' "$WORK/out")
python3 -c 'import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if a == b else 1)' "$dr_cert" "$b_cert" \
    && ok || bad "data-free certificate $dr_cert differs from tdl bounds --pac-bayes-opt's $b_cert"

# ---- bad input ----
run "$TDL" certify --data digits:split=train --test digits:split=test --arch 64-8-10 --objective foo
expect_status 2 "--objective foo"
expect_err "--objective foo: expected fquad, flambda, fclassic or pinsker" "names the choices"
run "$TDL" certify --data digits:split=train --test digits:split=test --arch 64-8-10 --prior-fraction 1
expect_status 2 "--prior-fraction 1"
run "$TDL" certify --data digits:split=train --test digits:split=test --arch 64-8-10 --prior-fraction 0 --objective flambda
expect_status 2 "--prior-fraction 0 with flambda"
expect_err "Dziugaite and Roy" "says why"
run "$TDL" certify --data digits:split=train --arch 64-8-10
expect_status 2 "no --test"
run "$TDL" certify --data digits:split=train --test digits:split=test --arch 64-8-10 --delta 0.6 --delta-mc 0.5
expect_status 2 "delta + delta_mc >= 1"
run "$TDL" certify --data digits:split=train --test digits:split=test --arch 64-8-10 --mc 0
expect_status 2 "--mc 0"
refuse "bounded loss" "mse loss" "$TDL" certify --data digits:split=train --test digits:split=test --arch 64-8-10 --loss mse --quiet
refuse "no class labels" "regression data" "$TDL" certify --data teacher:n=50,d=3,k=2 --test teacher:n=20,d=3,k=2 --arch 3-4-1 --quiet
refuse "at least 8" "a bound part too small" "$TDL" certify --data iris:n=12 --test iris --arch 4-3-3 --prior-fraction 0.5 --quiet
finish
