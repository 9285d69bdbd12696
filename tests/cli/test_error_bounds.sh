#!/bin/bash
# CLI tests of the certified eigenvalue error bounds (issue 22): every
# eigenvalue `tdl hessian` reports comes with "error_bounds" in --json, and
# the bounds hold: a Lanczos value (H and G), a dual value (G) and an exact
# value are within the sum of their two bounds of each other (each lies
# within its own bound of the same exact eigenvalue of the same rank).
# usage: test_error_bounds.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
. "$(dirname "$0")/lib.sh"
arr() { sed -n "s/.*\"$1\":\[\([^]]*\)\].*/\1/p" "$WORK/$2" | head -n 1 | tr ',' '\n'; }

D=digits:n=300,normalize=standard
"$TDL" train --data "$D" --arch 64-12-10 --epochs 20 --quiet -o "$WORK/m.safetensors" >/dev/null

run "$TDL" hessian --model "$WORK/m.safetensors" --data "$D" --gn --json
expect_status 0 "exact --gn"
cp "$WORK/out" "$WORK/exact.json"
for key in error_bounds gn_error_bounds residual_part_error_bounds; do
    n=$(arr $key exact.json | grep -c .)
    [ "$n" -eq 910 ] && ok || bad "exact: $key has $n entries, expected P = 910"
done
grep -q '"error_bounds_definition":"certified' "$WORK/exact.json" && ok || bad "exact: the bound's definition"
# the dense bound is not vacuous: <= 1e-10 lambda_max
arr eigenvalues exact.json >"$WORK/ex.txt"; arr error_bounds exact.json >"$WORK/exb.txt"
arr gn_eigenvalues exact.json >"$WORK/exg.txt"; arr gn_error_bounds exact.json >"$WORK/exgb.txt"
awk 'NR == FNR { l = $1; next } { b = $1 } END { if (!(b > 0 && b <= 1e-10 * l)) { print "FAIL: exact bound " b " vs lambda_max " l; exit 1 } }' \
    "$WORK/ex.txt" "$WORK/exb.txt" && ok || bad "exact bound positive and <= 1e-10 lambda_max"

# pair the k top values of A (ascending file a, bounds ab) with the top of B
# (ascending file b, bounds bb): |a - b| <= ab + bb for each
within() { # a ab b bb k what
    msg=$(paste <(tail -n "$5" "$WORK/$1") <(tail -n "$5" "$WORK/$2") <(tail -n "$5" "$WORK/$3") <(tail -n "$5" "$WORK/$4") |
        awk '{ d = $1 - $3; if (d < 0) d = -d; if (!(d <= $2 + $4)) { printf "value %d: |%.17g - %.17g| = %.3g > %.3g + %.3g\n", NR, $1, $3, d, $2, $4; bad = 1 } ; n++ }
             END { if (n == 0) { print "no values"; exit 1 } exit bad }')
    [ $? -eq 0 ] && ok || bad "$6: $msg"
}

run "$TDL" hessian --model "$WORK/m.safetensors" --data "$D" --gn --method lanczos --k 6 --json
expect_status 0 "lanczos --gn"
cp "$WORK/out" "$WORK/lz.json"
arr eigenvalues lz.json >"$WORK/lz.txt"; arr error_bounds lz.json >"$WORK/lzb.txt"
arr gn_eigenvalues lz.json >"$WORK/lzg.txt"; arr gn_error_bounds lz.json >"$WORK/lzgb.txt"
[ "$(grep -c . "$WORK/lzb.txt")" -eq 6 ] && ok || bad "lanczos: 6 error bounds"
within lz.txt lzb.txt ex.txt exb.txt 6 "Lanczos top 6 of H within the bounds of the exact ones"
within lzg.txt lzgb.txt exg.txt exgb.txt 6 "Lanczos top 6 of G within the bounds"
# the bounds certify many digits: each <= 1e-8 lambda_max (tolerance 1e-10)
awk -v l="$(tail -n 1 "$WORK/ex.txt")" '{ if (!($1 <= 1e-8 * l)) { print "bound " $1; exit 1 } }' "$WORK/lzb.txt" && ok || bad "Lanczos bounds <= 1e-8 lambda_max"

run "$TDL" hessian --model "$WORK/m.safetensors" --data "$D" --gn --method dual --json
expect_status 0 "dual"
cp "$WORK/out" "$WORK/dual.json"
arr gn_eigenvalues dual.json >"$WORK/du.txt"; arr error_bounds dual.json >"$WORK/dub.txt"
[ "$(grep -c . "$WORK/dub.txt")" -eq 3000 ] && ok || bad "dual: n C = 3000 error bounds"
within du.txt dub.txt exg.txt exgb.txt 910 "every nonzero-spectrum value of the dual within the bounds of the exact G"
within du.txt dub.txt lzg.txt lzgb.txt 6 "dual top 6 within the bounds of Lanczos on G"

# the top k of a large dual (n C = 4000 > 3000) by Lanczos on K: its values
# within the bounds of the exact G on the same data; no rank (it needs the
# whole spectrum), said why
D4=digits:n=400,normalize=standard
run "$TDL" hessian --model "$WORK/m.safetensors" --data "$D4" --gn --json
cp "$WORK/out" "$WORK/exact4.json"
arr gn_eigenvalues exact4.json >"$WORK/exg4.txt"; arr gn_error_bounds exact4.json >"$WORK/exgb4.txt"
run "$TDL" hessian --model "$WORK/m.safetensors" --data "$D4" --gn --method dual --k 6 --json
expect_status 0 "dual --k 6 on n C = 4000"
cp "$WORK/out" "$WORK/dual4.json"
expect_out '"gn_rank":null,"gn_rank_reason":"not computed' "partial dual: rank null with its reason"
expect_out '"driver":"Lanczos on K' "partial dual: Lanczos on K named as the driver"
arr gn_eigenvalues dual4.json >"$WORK/du4.txt"; arr error_bounds dual4.json >"$WORK/dub4.txt"
[ "$(grep -c . "$WORK/du4.txt")" -eq 6 ] && ok || bad "partial dual: 6 values"
within du4.txt dub4.txt exg4.txt exgb4.txt 6 "partial dual's top 6 within the bounds of the exact G"

# text: one line with the largest bound
run "$TDL" hessian --model "$WORK/m.safetensors" --data "$D" --method lanczos --k 3
expect_out "error bound  |lambda - exact| <=" "text: the error-bound line"
# --probes 0: Lanczos without the Hutch++ trace (the products a peer's eigsh
# would not spend): the trace is null with its reason, fewer products
run "$TDL" hessian --model "$WORK/m.safetensors" --data "$D" --method lanczos --k 3 --probes 0 --json
expect_status 0 "--probes 0"
expect_out '"trace":null,"trace_reason":"not computed: --probes 0"' "--probes 0: no trace, said why"
p0=$(json_get hessian_vector_products)
run "$TDL" hessian --model "$WORK/m.safetensors" --data "$D" --method lanczos --k 3 --json
p99=$(json_get hessian_vector_products)
[ $((p99 - p0)) -eq 99 ] && ok || bad "the default trace costs 99 products ($p99 vs $p0)"
run "$TDL" hessian --model "$WORK/m.safetensors" --data "$D" --method lanczos --k 3 --probes 3
expect_status 2 "--probes 3"
expect_err "Hutch++ needs at least 4 products (or 0: no trace)" "--probes 3: why"
finish
