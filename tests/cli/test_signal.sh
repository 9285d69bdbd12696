#!/bin/bash
# CLI tests of `tdl signal` and `tdl infoplane`: JSON keys of SPEC.md,
# closed-form values (tanh sigma_b = 0 transition, ReLU q*), the finite-net
# and Jacobian modes, plots, bad input (exit codes, one-line errors, refusal
# of too-large nets before allocating, no partial output files).
# usage: test_signal.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
. "$(dirname "$0")/lib.sh"
close() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; s = b < 0 ? -b : b; if (s < 1e-300) s = 1; exit !(d <= t * s) }'; }
arr_len() { sed -n "s/.*\"$1\":\[\([^]]*\)\].*/\1/p" "$WORK/out" | head -n 1 | tr ',' '\n' | grep -c .; }

# help lists every option with its default and an example
run "$TDL" help signal
expect_status 0 "help signal"
for opt in --act --sigma-w --sigma-b --q0 --c0 --depth --maps --simulate --width --nets --init --jacobian \
    --phase-diagram --numeric --quad --seed --json --plot examples; do
    expect_out -- "$opt" "help signal mentions $opt"
done
run "$TDL" help infoplane
expect_status 0 "help infoplane"
for opt in --data --epochs --optimizer --lr --batch --snapshots --estimator --bins --noise-var --json --plot task12; do
    expect_out -- "$opt" "help infoplane mentions $opt"
done

# SPEC keys; tanh in the chaotic phase
run "$TDL" signal --act tanh --sigma-w 1.5 --sigma-b 0.05 --json
expect_status 0 "signal --json"
for k in q_star chi1 xi_q xi_c chi_c c_star phase; do
    v=$(json_get "$k")
    if [ -n "$v" ] && [ "$v" != null ]; then ok; else bad "signal --json: key $k missing or null ('$v')"; fi
done
expect_json phase '"chaotic"' "sigma_w 1.5 is chaotic"
chi=$(json_get chi1)
if close "$chi" 1 10 && awk -v c="$chi" 'BEGIN { exit !(c > 1) }'; then ok; else bad "chi1 $chi should exceed 1"; fi
# nothing but one JSON line on stdout
if [ "$(wc -l <"$WORK/out")" -eq 1 ]; then ok; else bad "signal --json: more than one line on stdout"; fi

# ordered phase at sigma_b = 0: q* = 0 and chi_1 = sigma_w^2 exactly
run "$TDL" signal --act tanh --sigma-w 0.9 --json
expect_status 0 "ordered tanh"
expect_json q_star 0 "q* = 0 for tanh, sigma_b = 0, sigma_w < 1"
if close "$(json_get chi1)" 0.81 1e-12; then ok; else bad "chi1 = $(json_get chi1), expected 0.81"; fi
expect_json c_star 1 "c* = 1 in the ordered phase"

# ReLU closed form q* = sigma_b^2 / (1 - sigma_w^2 / 2)
run "$TDL" signal --act relu --sigma-w 1.2 --sigma-b 0.1 --json
if close "$(json_get q_star)" 0.035714285714285714 1e-10; then ok; else bad "relu q* = $(json_get q_star)"; fi
# and unbounded lengths beyond sigma_w^2 = 2: null with a reason, exit 0
run "$TDL" signal --act relu --sigma-w 1.6 --json
expect_status 0 "relu, unbounded q"
expect_json q_star null "unbounded q* is null"
expect_out '"q_star_reason"' "a reason beside the null"
if grep -qiE 'nan|inf[^o]' "$WORK/out"; then bad "NaN or inf token in JSON"; else ok; fi

# the phase diagram: tanh sigma_b = 0 transition at sigma_w = 1
run "$TDL" signal --act tanh --phase-diagram --json
expect_status 0 "phase diagram"
first=$(sed -n 's/.*"critical_sigma_w":\[\([^],]*\).*/\1/p' "$WORK/out")
if close "$first" 1 1e-9; then ok; else bad "critical sigma_w at sigma_b = 0: '$first', expected 1"; fi
n=$(arr_len sigma_w)
if [ "$n" -eq 36 ]; then ok; else bad "phase diagram sigma_w grid has $n points"; fi

# maps on request
run "$TDL" signal --act erf --sigma-w 1.2 --sigma-b 0.1 --maps --depth 10 --json
expect_status 0 "signal --maps"
for k in q q_next c c_next q_iterates c_iterates; do expect_out "\"$k\":[" "maps has $k"; done
n=$(arr_len q_iterates)
if [ "$n" -eq 11 ]; then ok; else bad "q_iterates has $n entries, expected depth + 1 = 11"; fi

# finite nets and the Jacobian; plots with their .gp/.dat
run "$TDL" signal --act tanh --sigma-w 1.3 --sigma-b 0.05 --simulate --width 200 --depth 10 --nets 2 --json --plot "$WORK/sig.png"
expect_status 0 "signal --simulate"
expect_out '"simulation":{' "simulation object"
if [ -s "$WORK/sig.png" ] && [ -s "$WORK/sig.gp" ] && [ -s "$WORK/sig.dat" ]; then ok; else bad "signal plot files missing"; fi
# The product of 20 orthogonal 64 x 64 factors has singular values 1 up to
# roundoff: each computed factor is orthogonal to about gamma_64 (Householder
# QR, Higham 2002, Thm 19.4), each of the 20 products adds gamma_64 relative,
# the SVD gamma_64 more: |s - 1| <= (2 depth + 1) gamma_64, whatever the BLAS
# kernel or thread count (observed: a few u).
run "$TDL" signal --act identity --jacobian --init orthogonal --width 64 --depth 20 --json
expect_status 0 "signal --jacobian"
mx=$(sed -n 's/.*"max":\([^,}]*\).*/\1/p' "$WORK/out"); mn=$(sed -n 's/.*"min":\([^,}]*\).*/\1/p' "$WORK/out")
tol=$(awk 'BEGIN { u = 2 ^ -53; g = 64 * u / (1 - 64 * u); printf "%.17g", (2 * 20 + 1) * g }')
if close "$mx" 1 "$tol" && close "$mn" 1 "$tol"; then ok; else bad "orthogonal linear Jacobian: s_max $mx, s_min $mn, bound 1 +- $tol"; fi
n=$(arr_len singular_values)
if [ "$n" -eq 64 ]; then ok; else bad "singular_values has $n entries"; fi

# bad input: usage errors exit 2 with a hint, work failures exit 1 with one line
run "$TDL" signal --sigma-w -1
expect_status 2 "negative sigma_w"
expect_err "--sigma-w" "names the option"
run "$TDL" signal --sigma-b nan
expect_status 2 "NaN sigma_b"
run "$TDL" signal --act nonsense
expect_status 2 "unknown activation"
run "$TDL" signal --bogus
expect_status 2 "unknown option"
expect_err "tdl help signal" "hint to help"
run "$TDL" signal --depth 0
expect_status 2 "depth 0"
run "$TDL" signal --depth 100000000
expect_status 2 "depth too large"
run "$TDL" signal --c0 1
expect_status 2 "c0 = 1"
run "$TDL" signal --init uniform
expect_status 2 "unknown init"
run "$TDL" signal --nets 3
expect_status 2 "--nets without --simulate"
run "$TDL" signal --plot "$WORK/x.txt"
expect_status 2 "bad figure extension"
expect_no_file "$WORK/x.txt" "no file for a refused figure"
# a net too large for memory is refused before allocating (exit 1, fast)
run timeout 10 "$TDL" signal --simulate --width 100000000 --json
expect_status 1 "width too large"
expect_err "tdl: error: width 100000000 needs" "one-line memory error"
expect_empty_out "no JSON after an error"
run timeout 10 "$TDL" signal --jacobian --width 3000000 --plot "$WORK/big.png"
expect_status 1 "Jacobian too large"
expect_no_file "$WORK/big.png" "no partial figure"
run "$TDL" signal extra
expect_status 2 "stray argument"

# infoplane: JSON keys and a short run on the 12-bit task
run "$TDL" infoplane --epochs 3 --snapshots 3 --json --plot "$WORK/ip.png"
expect_status 0 "infoplane --json"
for k in epochs train_loss layers estimator bins; do expect_out "\"$k\"" "infoplane has $k"; done
expect_json n 4096 "the 12-bit task has 4096 patterns"
expect_json arch '"12-10-7-5-4-3-2"' "Shwartz-Ziv and Tishby's net by default"
if [ -s "$WORK/ip.png" ] && [ -s "$WORK/ip.gp" ]; then ok; else bad "infoplane plot missing"; fi
# I(X;T) of the first layer is at most 12 bits; I(T;Y) at most H(Y) < 1
awk 'BEGIN{RS="\"i_xt\":\\["; FS="]"} NR>1 {n=split($1, a, ","); for (i=1;i<=n;i++) if (a[i] > 12 + 1e-9) exit 1}' "$WORK/out" && ok || bad "I(X;T) above 12 bits"
run "$TDL" infoplane --data iris --arch 4-6-3 --epochs 2 --snapshots 2 --estimator kde --noise-var 0.5 --json
expect_status 0 "infoplane kde on iris"
expect_json estimator '"kde"' "kde estimator named"
expect_json noise_var 0.5 "noise variance stated"
run "$TDL" infoplane --estimator histogram
expect_status 2 "unknown estimator"
run "$TDL" infoplane --noise-var -1
expect_status 2 "negative noise"
run "$TDL" infoplane --snapshots 1
expect_status 2 "one snapshot"
run "$TDL" infoplane --data iris --epochs 2
expect_status 1 "feature mismatch (default 12-input net on iris)"
expect_err "tdl: error:" "one-line error"
run "$TDL" infoplane --arch 12-2 --epochs 2 --snapshots 2
expect_status 2 "no hidden layer: --arch is a usage error"
run "$TDL" infoplane --data teacher:n=20,d=3,k=2 --arch 3-4-1 --epochs 2
expect_status 1 "regression data has no labels"
run "$TDL" infoplane --data /nonexistent.csv
expect_status 1 "missing data file"
run "$TDL" signal --act tanh --sigma-w 0 --sigma-b 0 --json
expect_status 1 "sigma_w = sigma_b = 0"
expect_err "the length q^1 is 0" "degenerate map explained"
expect_empty_out "no JSON for a degenerate map"
# the messages name the parameter that is at fault
run "$TDL" signal --act relu --depth 2000 --json
expect_status 1 "relu q underflows at depth"
expect_err "lower --depth (below 539)" "an underflow blames --depth"
if grep -q "use sigma_w > 0" "$WORK/err"; then bad "underflow at sigma_w = 1 blames sigma_w"; else ok; fi
expect_empty_out "no JSON after an underflow"
run "$TDL" signal --sigma-b 1e200 --json
expect_status 1 "huge sigma_b"
expect_err "lower --sigma-b" "a huge sigma_b blames --sigma-b"
if grep -q "lower --sigma-w" "$WORK/err"; then bad "huge sigma_b blames sigma_w"; else ok; fi
run "$TDL" signal --act relu --sigma-w 1.5 --q0 1e300 --json
expect_status 1 "huge q0"
expect_err "lower --q0" "a huge q0 blames --q0"
run "$TDL" signal --act relu --sigma-w 100 --json
expect_status 1 "exploding relu"
expect_err "lower --sigma-w or --depth (below 43)" "an exploding net blames sigma_w or the depth"

# progress on stderr only when it is a terminal (script(1) gives a pty)
run "$TDL" signal --depth 600 --simulate --width 20 --json
expect_status 0 "deep simulate"
if [ ! -s "$WORK/err" ]; then ok; else bad "progress on a non-terminal stderr: $(head -c 200 "$WORK/err")"; fi
if command -v script >/dev/null; then
    script -qec "'$TDL' signal --depth 600 --simulate --width 20 --json >/dev/null" /dev/null >"$WORK/tty" 2>&1
    if grep -q "mean field, layer 512/600" "$WORK/tty" && grep -q "random net, layer 592/600" "$WORK/tty"; then ok
    else bad "no progress on a terminal: $(tr '\r' '\n' <"$WORK/tty" | tail -n 2)"; fi
    script -qec "'$TDL' signal --depth 600 --simulate --width 20 --json --quiet >/dev/null" /dev/null >"$WORK/tty" 2>&1
    if grep -q "layer" "$WORK/tty"; then bad "progress despite --quiet"; else ok; fi
fi
finish
