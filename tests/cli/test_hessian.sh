#!/bin/bash
# CLI tests of `tdl hessian`: exact spectra against closed forms and against
# the matrix-free methods, JSON keys, vectors, plots, and errors.
# usage: test_hessian.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
FIX=$2
. "$(dirname "$0")/lib.sh"
close() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; s = b < 0 ? -b : b; if (s < 1e-300) s = 1; exit !(d <= t * s) }'; }
# first / last element of a JSON number array KEY
arr_first() { sed -n "s/.*\"$1\":\[\([^],]*\).*/\1/p" "$WORK/out" | head -n 1; }
arr_last() { sed -n "s/.*\"$1\":\[[^]]*,\([^],]*\)\].*/\1/p" "$WORK/out" | head -n 1; }
arr_len() { sed -n "s/.*\"$1\":\[\([^]]*\)\].*/\1/p" "$WORK/out" | head -n 1 | tr ',' '\n' | grep -c .; }

"$TDL" train --data iris:normalize=standard --arch 4-6-3 --act tanh --epochs 30 --quiet -o "$WORK/m.safetensors" >/dev/null

# exact: all P = 4*6+6+6*3+3 = 51 eigenvalues, ascending, with the SPEC keys
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --gn --json
expect_status 0 "exact hessian"
expect_json params 51 "params"
expect_json method '"exact"' "method"
n=$(arr_len eigenvalues); if [ "$n" -eq 51 ]; then ok; else bad "51 eigenvalues expected, got $n"; fi
n=$(arr_len gn_eigenvalues); if [ "$n" -eq 51 ]; then ok; else bad "51 GN eigenvalues expected, got $n"; fi
for key in trace lambda_min lambda_max negative_fraction condition_positive loss tolerance; do
    v=$(json_get $key); if [ -n "$v" ] && [ "$v" != null ]; then ok; else bad "key $key missing"; fi
done
lmax=$(json_get lambda_max); last=$(arr_last eigenvalues)
if [ "$lmax" = "$last" ]; then ok; else bad "lambda_max $lmax != last eigenvalue $last"; fi
# the trace equals the sum of the eigenvalues
sum=$(sed -n 's/.*"eigenvalues":\[\([^]]*\)\].*/\1/p' "$WORK/out" | tr ',' '\n' | awk '{s += $1} END {printf "%.17g", s}')
tr=$(json_get trace); if close "$sum" "$tr" 1e-10; then ok; else bad "trace $tr vs sum of eigenvalues $sum"; fi
# GN part is PSD: its smallest eigenvalue is >= -tolerance
gmin=$(arr_first gn_eigenvalues); tol=$(json_get tolerance)
if awk -v g="$gmin" -v t="$tol" 'BEGIN { exit !(g >= -t) }'; then ok; else bad "GN min eigenvalue $gmin < -$tol"; fi

# Lanczos top 3 agrees with the exact top 3
exact_top=$(sed -n 's/.*"eigenvalues":\[\([^]]*\)\].*/\1/p' "$WORK/out" | tr ',' '\n' | tail -n 3)
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --method lanczos --k 3 --json
expect_status 0 "lanczos"
lan_top=$(sed -n 's/.*"eigenvalues":\[\([^]]*\)\].*/\1/p' "$WORK/out" | tr ',' '\n')
paste <(echo "$exact_top") <(echo "$lan_top") | while read -r a b; do close "$b" "$a" 1e-8 || echo "MISMATCH $a $b"; done > "$WORK/mm"
if [ ! -s "$WORK/mm" ]; then ok; else bad "lanczos top-3 differ from exact: $(cat "$WORK/mm")"; fi
expect_json trace_method '"Hutch++"' "lanczos trace method"

# --k with --which bottom by index range equals the bottom of the full spectrum
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --k 2 --which bottom --json
n=$(arr_len eigenvalues); if [ "$n" -eq 2 ]; then ok; else bad "--k 2 gave $n values"; fi

# SLQ density: keys present, grid and values of the same length
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --method slq --runs 4 --steps 20 --json
expect_status 0 "slq"; expect_out '"density":{' "density object"; expect_out '"nodes":[' "raw nodes"; expect_out '"weights":[' "raw weights"

# vectors: an npy with P rows, and residuals reported
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --k 4 --vectors "$WORK/v.npy" --json
expect_status 0 "vectors"; expect_out '"residuals":[' "residuals with vectors"
run "$TDL" info --model "$WORK/v.npy" --json 2>/dev/null
if [ -s "$WORK/v.npy" ] && head -c 200 "$WORK/v.npy" | grep -q "'shape': (51, 4)"; then ok; else bad "vectors file shape"; fi

# layer block: layer 1 has 6*3+3 = 21 parameters
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --layer 1 --json
expect_json params 21 "layer block size"

# a linear model with mse: eigenvalues of (1/n) X~^T X~ (x) I_3 — each eigenvalue 3 times
run "$TDL" hessian --arch 4-3 --data iris --loss mse --json
v=$(sed -n 's/.*"eigenvalues":\[\([^]]*\)\].*/\1/p' "$WORK/out" | tr ',' '\n' | awk '{printf "%.8e\n", $1}' | uniq -c | awk '{print $1}' | sort -u)
if [ "$v" = "3" ]; then ok; else bad "linear mse eigenvalues are not triples: $v"; fi

# plots: png, svg, pdf with script and data beside
for ext in png svg pdf; do
    run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --plot "$WORK/s.$ext"
    expect_status 0 "plot $ext"
    if [ -s "$WORK/s.$ext" ] && [ -s "$WORK/s.gp" ] && [ -s "$WORK/s.dat" ]; then ok; else bad "plot $ext files"; fi
done
if head -c 8 "$WORK/s.png" | grep -q PNG; then ok; else bad "not a PNG"; fi
if head -c 5 "$WORK/s.pdf" | grep -q "%PDF"; then ok; else bad "not a PDF"; fi
if grep -q "<svg" "$WORK/s.svg"; then ok; else bad "not an SVG"; fi

# errors
run "$TDL" hessian --model "$WORK/m.safetensors";                       expect_status 2 "no data"
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris --method qr; expect_status 2 "bad method"
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris --k 100;    expect_status 2 "k > P"
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris --layer 5;  expect_status 2 "bad layer"
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris --plot "$WORK/x.gif"; expect_status 2 "bad plot extension"
run "$TDL" hessian --model "$WORK/m.safetensors" --data wine;           expect_status 1 "width mismatch"
# too big for memory: refused at once, suggesting lanczos
run "$TDL" hessian --arch 784-4000-10 --data mnist:n=100 --json
expect_status 1 "too big"; expect_err "--method lanczos" "suggests lanczos"; expect_empty_out "no JSON on failure"
finish
