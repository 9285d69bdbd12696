#!/bin/bash
# CLI tests of `tdl hessian --gn --method dual`: the dual spectrum of G against
# the dense one (--method exact --gn) value by value, rank, -o, --vectors,
# the class / cross-class split on digits, and the usage and memory refusals.
# usage: test_hessian_dual.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
FIX=$2
. "$(dirname "$0")/lib.sh"
# the JSON number array KEY, one value a line
arr() { sed -n "s/.*\"$1\":\[\([^]]*\)\].*/\1/p" "$WORK/out" | head -n 1 | tr ',' '\n'; }

"$TDL" train --data iris:normalize=standard --arch 4-6-3 --act tanh --epochs 30 --quiet -o "$WORK/m.safetensors" >/dev/null

# dual vs exact: P = 51 parameters, n C = 150 x 3 = 450.  The top 51 of the
# dual are G's spectrum; the other 399 are 0.  Tolerance 1e-10 lambda_max
# (both backward stable on matrices equal to roundoff: (n + P) eps ~ 1e-13).
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --gn --json
expect_status 0 "exact --gn"
arr gn_eigenvalues >"$WORK/exact.txt"
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --gn --method dual --json -o "$WORK/dual.csv"
expect_status 0 "dual"
expect_json method '"dual"' "method"
expect_json gram_order 450 "n C"
expect_json driver '"dsyevd_2stage"' "values-only driver"
arr gn_eigenvalues >"$WORK/dual.txt"
n=$(wc -l <"$WORK/dual.txt"); if [ "$n" -eq 450 ]; then ok; else bad "450 dual eigenvalues expected, got $n"; fi
msg=$(awk 'NR == FNR { e[++ne] = $1; next } { d[++nd] = $1 }
    END { lmax = e[ne]; worst = 0
          for (j = 0; j < nd; j++) { x = d[nd - j]; y = j < ne ? e[ne - j] : 0; t = x - y; if (t < 0) t = -t; if (t > worst) worst = t }
          if (!(worst <= 1e-10 * lmax)) { printf "worst %.3g of lambda_max %.6g", worst, lmax; exit 1 } }' "$WORK/exact.txt" "$WORK/dual.txt" 2>&1) \
    && ok || bad "dual vs exact value by value: $msg"
# rank: the exact G's count above P eps ||G||_F (G is PSD; ||G||_F from its eigenvalues)
rk_exact=$(awk '{ v[NR] = $1; s += $1 * $1 } END { t = NR * 2.220446049250313e-16 * sqrt(s); for (i = 1; i <= NR; i++) if (v[i] > t) r++; print r + 0 }' "$WORK/exact.txt")
expect_json gn_rank "$rk_exact" "rank(G) as the exact spectrum's"
# -o: the same doubles as the JSON
if [ "$(head -n 1 "$WORK/dual.csv")" = lambda_G ] && [ "$(tail -n +2 "$WORK/dual.csv" | awk '{printf "%.17g\n", $1}')" = "$(awk '{printf "%.17g\n", $1}' "$WORK/dual.txt")" ]; then ok; else bad "-o csv vs JSON"; fi
# the trace is the sum of the eigenvalues
sum=$(awk '{s += $1} END {printf "%.17g", s}' "$WORK/dual.txt"); tr=$(json_get gn_trace)
if awk -v a="$sum" -v b="$tr" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-10 * b) }'; then ok; else bad "trace $tr vs sum $sum"; fi

# text, top k, vectors (P x k columns, a .npy of 51 x 3 doubles: 128-byte header + 1224 bytes)
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --gn --method dual --k 3 --vectors "$WORK/v.npy"
expect_status 0 "dual --k 3 --vectors"
expect_out "GN top " "top-k label"
expect_out "rank(G)      " "rank line"
expect_out "written      $WORK/v.npy (3 eigenvectors of G" "vectors written"
sz=$(stat -c %s "$WORK/v.npy" 2>/dev/null || echo 0); if [ "$sz" -eq $((128 + 51 * 3 * 8)) ]; then ok; else bad "vectors file size $sz"; fi

# the class split on digits (ce, a fresh net): the parts' traces add up to trace(G)
run "$TDL" hessian --arch 64-16-10 --data digits:n=120 --loss ce --gn --method dual --class-split --json
expect_status 0 "class split"
n=$(arr class_eigenvalues | grep -c .); if [ "$n" -eq 10 ]; then ok; else bad "10 class eigenvalues, got $n"; fi
n=$(arr cross_eigenvalues | grep -c .); if [ "$n" -eq 90 ]; then ok; else bad "90 cross-class eigenvalues, got $n"; fi
n=$(arr outlier_class_share | grep -c .); if [ "$n" -eq 10 ]; then ok; else bad "10 outlier shares, got $n"; fi
tc=$(json_get trace_class); tx=$(json_get trace_cross); tw=$(json_get trace_within); tg=$(json_get gn_trace)
if awk -v a="$tc" -v b="$tx" -v c="$tw" -v g="$tg" 'BEGIN { d = a + b + c - g; if (d < 0) d = -d; exit !(d <= 1e-10 * g && a > 0 && b > 0 && c >= 0) }'; then ok
else bad "traces class $tc + cross $tx + within $tw != $tg"; fi
# shares are fractions: in [0, 1]
if arr outlier_class_share | awk '{ if ($1 < -1e-10 || $1 > 1 + 1e-10) bad = 1 } END { exit bad }'; then ok; else bad "class shares outside [0, 1]"; fi
# the top eigenvalue of G_class is at most lambda_max(G) (G - G_class is PSD)
cmax=$(arr class_eigenvalues | tail -n 1); gmax=$(json_get gn_lambda_max)
if awk -v a="$cmax" -v b="$gmax" 'BEGIN { exit !(a <= b * (1 + 1e-12)) }'; then ok; else bad "lambda_max(G_class) $cmax > lambda_max(G) $gmax"; fi
run "$TDL" hessian --arch 64-16-10 --data digits:n=120 --loss ce --gn --method dual --class-split
expect_out "class split  G = G_class + G_cross + G_within" "split in the text"

# usage errors (exit 2)
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --method dual
expect_status 2 "dual without --gn"; expect_err "not H" "says the dual is of G"
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --gn --class-split
expect_status 2 "--class-split without dual"
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --gn --method dual --vectors "$WORK/x.npy"
expect_status 2 "--vectors without --k"; expect_no_file "$WORK/x.npy" "no vectors file"
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --gn --method dual --layer 0
expect_status 2 "--layer with dual"
# refusals (exit 1): regression has no classes; a dual that does not fit
refuse "no class labels" "split on regression" "$TDL" hessian --arch 5-1 --data teacher:n=20,d=5,k=2 --gn --method dual --class-split
refuse "n = 200000 examples x C = 3 outputs" "memory guard" "$TDL" hessian --arch 2-3 --data gauss:n=200000,d=2,classes=3 --loss ce --gn --method dual
expect_err "--method lanczos --gn" "suggests lanczos"

finish
