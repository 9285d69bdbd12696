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
# a uniform bound since issue 15 (union bound over dyadic scales, docs/bounds.md Sec. 3): NumPy's
# bound is its fixed-scale value (one output: 2/gamma), kept as fixed_scale_value; the bound is above it
got=$(grep -o '"name":"golowich2018_frobenius".*' "$WORK/out" | sed 's/"name":"golowich2018_l1inf".*//' |
      sed -n 's/.*"fixed_scale_value":\([-0-9.e+]*\).*/\1/p')
if awk -v a="$got" -v b="$ref" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-9 * b) }'; then ok; else bad "golowich fixed-scale value $got vs NumPy $ref"; fi
gb=$(sed -n 's/.*"name":"golowich2018_frobenius","value":[^,]*,"bound":\([^,]*\),.*/\1/p' "$WORK/out")
if awk -v a="$gb" -v b="$ref" 'BEGIN { exit !(a + 0 > b + 0) }'; then ok; else bad "golowich uniform bound $gb not above its fixed-scale value $ref"; fi
expect_out '"kind":"bound","classifier":"deterministic","terms":{"empirical":' "the uniform row names its classifier and terms"
expect_out '"union":' "the union term"
expect_out '"kind":"measure","classifier":null' "a measure names no classifier"
expect_out '"chance":0.5,' "binary labels: chance 0.5"
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
# the ledger through --json (a real JSON parser): every bound's terms add up to it within 1e-12, its
# classifier is named, its delta is the table's total, below_chance is bound < chance
ledger_ok() {
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
n = u = 0
assert d["chance"] == 1 - 1 / 2, d["chance"]
for r in d["measures"]:
    assert r["kind"] in ("bound", "measure"), r
    if r["kind"] == "bound":
        s = sum(r["terms"].values())
        assert abs(s - r["bound"]) <= 1e-12, (r["name"], s, r["bound"])
        assert r["classifier"] in ("deterministic", "gibbs"), r
        assert r["below_chance"] == (r["bound"] < d["chance"]), r
        assert r["name"] == "dziugaite_roy" or r["delta"] == d["delta"], r
        if r["name"] in ("golowich2018_frobenius", "golowich2018_l1inf", "linear_rademacher"):
            t = r["terms"]
            assert list(t) == ["empirical", "complexity", "rounding", "confidence", "union"], r
            assert t["rounding"] >= 0 and t["union"] > 0 and r["classifier"] == "deterministic", r
            assert r["bound"] >= t["empirical"] + t["complexity"] + t["confidence"], r
            assert t["empirical"] <= r["fixed_scale_value"] - t["complexity"] - t["confidence"] + 1e-12, r
            u += 1
        n += 1
    else:
        assert r["bound"] is None and r["terms"] is None and r["classifier"] is None and r["below_chance"] is None, r
        assert "fixed_scale_value" in r and r["bound_reason"], r
assert n >= int(sys.argv[2]), n
print(u)' "$1" "$2"
}
if command -v python3 >/dev/null 2>&1; then
    if nb=$(ledger_ok "$WORK/out" 7); then ok; else bad "the ledger of --json"; fi
    # a positive margin (30th percentile): the two uniform golowich rows are bounds with their five terms
    run "$TDL" bounds --model "$WORK/g.safetensors" --data gauss:n=300,d=5,classes=2,sep=2 --no-flatness --margin-percentile 30 --json
    if nu=$(ledger_ok "$WORK/out" 3) && [ "$nu" = 2 ]; then ok; else bad "the ledger of the uniform rows ($nu)"; fi
fi
# --explain NAME: a bound (its terms and hypotheses), a measure (why not a bound, its fixed-scale value)
run "$TDL" bounds --model "$WORK/g.safetensors" --data gauss:n=300,d=5,classes=2,sep=2 --quick --explain pacbayes_kl
expect_status 0 "--explain a bound"
expect_out "kind        bound on the test error of the Gibbs" "explain names the classifier"
expect_out "terms       empirical" "explain lists the terms"
expect_out "union bound over the sigma' grid: holds (paid, 15 ln 2 in the KL term)" "explain lists the hypotheses"
run "$TDL" bounds --model "$WORK/g.safetensors" --data gauss:n=300,d=5,classes=2,sep=2 --no-flatness --margin-percentile 30 --explain neyshabur2018_pacbayes_spectral
expect_status 0 "--explain a measure"
expect_out "kind        measure: an O~ statement" "explain says why it is not a bound"
expect_out "fixed-scale value" "explain gives the fixed-scale value"
expect_out "depth 2: holds" "explain checks the depth"
run "$TDL" bounds --model "$WORK/g.safetensors" --data gauss:n=300,d=5,classes=2,sep=2 --no-flatness --margin-percentile 30 --explain golowich2018_frobenius
expect_status 0 "--explain a uniform bound"
if grep -qE -- "terms       empirical [0-9.e+-]+ \+ complexity [0-9.e+-]+ \+ rounding [0-9.e+-]+ \+ confidence [0-9.e+-]+ \+ union [0-9.e+-]+ = " "$WORK/out"; then ok; else bad "explain lists the five terms"; fi
expect_out "union bound over the data-chosen scales (norms, gamma): holds (paid, U = " "explain: the union term is paid"
expect_out "grid point: the norms: holds (||W_i||_F balanced to P^(1/L) = " "explain: the norms' grid point"
expect_out "grid point: the margin: holds (gamma = " "explain: the margin's grid point"
# Arora et al. 2019 Thm 5.1: a measure, its checkable hypotheses checked (the
# gauss inputs are not on the unit sphere), the rest listed as assumptions
run "$TDL" bounds --model "$WORK/g.safetensors" --data gauss:n=300,d=5,classes=2,sep=2 --no-flatness --explain arora2019_ntk
expect_status 0 "--explain arora2019_ntk"
expect_out "kind        measure: the theorem bounds the wide GD-trained net" "arora: why a measure"
expect_out "inputs on the unit sphere: does not hold (max | ||x_i|| - 1 | = " "arora: unit sphere checked"
expect_out "second layer fixed: assumed, not checked (false for a net trained by tdl" "arora: GD assumption listed"
run "$TDL" bounds --model "$WORK/g.safetensors" --data gauss:n=300,d=5,classes=2,sep=2 --explain nosuch
expect_status 2 "--explain an unknown name"
expect_err "unknown row (params frobenius_product" "the names are listed"
expect_err "dziugaite_roy)" "the list ends with the certificate"
run "$TDL" bounds --model "$WORK/g.safetensors" --data gauss:n=300,d=5,classes=2,sep=2 --no-flatness --explain pacbayes_kl
expect_status 1 "--explain a row this table does not have"
expect_err "no such row in this table" "missing row message"
# the text table: kind and for columns, the chance line
run "$TDL" bounds --model "$WORK/g.safetensors" --data gauss:n=300,d=5,classes=2,sep=2 --quick --margin-percentile 30
expect_out "chance (1 - 1/C) = 0.5" "chance line"
for re in 'measure +value +bound kind    for   vacuous  source' '^pacbayes_kl .* bound   Gibbs no' '^vc .* bound   det\. ' \
          '^golowich2018_frobenius .* bound   det\. ' '^neyshabur2015_frobenius .* - measure -     -  ' \
          'fixed-scale value [0-9.e+]+: the fixed-class formula at the trained scales'; do
    if grep -qE -- "$re" "$WORK/out"; then ok; else bad "text table lacks /$re/"; fi
done

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
