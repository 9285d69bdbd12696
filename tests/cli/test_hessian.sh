#!/bin/bash
# CLI tests of `tdl hessian`: exact spectra against closed forms and against
# the matrix-free methods, JSON keys, vectors, -o FILE.npy|.csv, plots, and errors.
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
# group the ascending eigenvalues into runs that agree within the eigen-solver's
# error, P u lambda_max (P = 15) with a factor 100 of slack; every run must be a triple
v=$(sed -n 's/.*"eigenvalues":\[\([^]]*\)\].*/\1/p' "$WORK/out" | tr ',' '\n' | awk '
    { x[NR] = $1; a = $1 < 0 ? -$1 : $1; if (a > m) m = a }
    END { tol = 100 * 15 * 1.1102e-16 * m; run = 1
          for (i = 2; i <= NR; i++) { if (x[i] - x[i - 1] <= tol) run++; else { print run; run = 1 } }
          print run }' | sort -u)
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

# -o FILE.npy|.csv: the eigenvalues of the same run, bit for bit equal to the --json ones
# (tdl help hessian: columns lambda_H [, lambda_G [, lambda_R]], each ascending).
json_arr() { sed -n "s/.*\"$1\":\[\([^]]*\)\].*/\1/p" "$WORK/out" | head -n 1 | tr ',' '\n'; }
# npy_vs_json FILE.npy KEY...: the npy (shape (k,) or (k, m)) holds, column j, the JSON array
# KEY_j, as the same doubles (parsed by python3's json, which rounds correctly; python3
# comes with meson).  Prints nothing on success, the difference otherwise.
npy_vs_json() {
    python3 - "$WORK/out" "$@" <<'PY'
import ast, json, struct, sys
j = json.load(open(sys.argv[1])); path = sys.argv[2]; keys = sys.argv[3:]
raw = open(path, 'rb').read()
if raw[:6] != b'\x93NUMPY': sys.exit('not an npy file')
hl, off = (struct.unpack('<H', raw[8:10])[0], 10) if raw[6] == 1 else (struct.unpack('<I', raw[8:12])[0], 12)
h = ast.literal_eval(raw[off:off + hl].decode('latin1'))
want = (len(j[keys[0]]),) if len(keys) == 1 else (len(j[keys[0]]), len(keys))
if h['descr'] != '<f8' or h['fortran_order'] or tuple(h['shape']) != want:
    sys.exit('header %r, expected <f8 C-order shape %r' % (h, want))
n = len(j[keys[0]]) * len(keys)
body = raw[off + hl:]
if len(body) != 8 * n: sys.exit('%d data bytes, expected %d' % (len(body), 8 * n))
v = struct.unpack('<%dd' % n, body)
for c, k in enumerate(keys):
    for i, x in enumerate(j[k]):
        if v[i * len(keys) + c] != x: sys.exit('%s[%d]: file %r, json %r' % (k, i, v[i * len(keys) + c], x))
PY
}
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --gn --json -o "$WORK/ev.csv"
expect_status 0 "-o csv"
if [ "$(head -n 1 "$WORK/ev.csv")" = "lambda_H,lambda_G,lambda_R" ]; then ok; else bad "csv header: $(head -n 1 "$WORK/ev.csv")"; fi
if [ "$(wc -l < "$WORK/ev.csv")" -eq 52 ]; then ok; else bad "csv has $(wc -l < "$WORK/ev.csv") lines, expected 1 + 51"; fi
col=1
for key in eigenvalues gn_eigenvalues residual_part_eigenvalues; do
    if [ -n "$(json_arr $key)" ] && [ "$(tail -n +2 "$WORK/ev.csv" | cut -d, -f$col)" = "$(json_arr $key)" ]; then ok
    else bad "csv column $col differs from the JSON $key"; fi
    col=$((col + 1))
done
expect_out "\"out\":\"$WORK/ev.csv\"" "JSON names the file"
expect_out '"out_columns":["lambda_H","lambda_G","lambda_R"]' "JSON names the columns"
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --json -o "$WORK/ev.npy"
expect_status 0 "-o npy"
msg=$(npy_vs_json "$WORK/ev.npy" eigenvalues 2>&1) && ok || bad "npy (51,) vs JSON: $msg"
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --gn --json -o "$WORK/ev3.npy"
msg=$(npy_vs_json "$WORK/ev3.npy" eigenvalues gn_eigenvalues residual_part_eigenvalues 2>&1) && ok || bad "npy (51, 3) vs JSON: $msg"
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --method lanczos --k 3 --gn --json -o "$WORK/lan.npy"
expect_status 0 "-o npy lanczos --gn"
msg=$(npy_vs_json "$WORK/lan.npy" eigenvalues gn_eigenvalues 2>&1) && ok || bad "lanczos npy (3, 2) vs JSON: $msg"
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --k 2 --which bottom --json -o "$WORK/bot.csv"
if [ "$(tail -n +2 "$WORK/bot.csv")" = "$(json_arr eigenvalues)" ] && [ "$(head -n 1 "$WORK/bot.csv")" = lambda_H ]; then ok; else bad "--k 2 --which bottom csv"; fi
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --out "$WORK/long.csv"
expect_status 0 "--out (long form), human output"
expect_out "written      $WORK/long.csv (51 eigenvalues; columns lambda_H)" "human output names the file"
# refused before any work: the job below is too big for memory (exit 1 if it ran)
run "$TDL" hessian --arch 784-4000-10 --data mnist:n=100 -o "$WORK/ev.txt"
expect_status 2 "-o bad extension (usage)"; expect_err "the eigenvalues go to a .npy or .csv file" "bad extension message"
expect_no_file "$WORK/ev.txt" "no file with a bad extension"
run "$TDL" hessian --arch 784-4000-10 --data mnist:n=100 -o "$WORK/nodir/ev.npy"
expect_status 1 "-o unwritable"; expect_err "$WORK/nodir/ev.npy: cannot create output file" "unwritable names the file"
expect_empty_out "nothing on stdout when -o is unwritable"
expect_no_file "$WORK/nodir/ev.npy" "no partial file"
mkdir -p "$WORK/ro" && chmod 555 "$WORK/ro"
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard -o "$WORK/ro/ev.csv" --json
chmod 755 "$WORK/ro"
if [ "$(id -u)" -ne 0 ]; then # root writes anywhere
    expect_status 1 "-o in a read-only directory"; expect_no_file "$WORK/ro/ev.csv" "no file in a read-only directory"
fi
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --method slq -o "$WORK/s.npy"
expect_status 2 "-o with slq"; expect_no_file "$WORK/s.npy" "no file with slq"
run "$TDL" hessian --model "$WORK/m.safetensors" --data iris:normalize=standard --gn --k 3 --which magnitude -o "$WORK/mg.npy"
expect_status 2 "-o with --gn --which magnitude"; expect_no_file "$WORK/mg.npy" "no file with --gn magnitude"
run "$TDL" hessian --arch 784-4000-10 --data mnist:n=100 -o "$WORK/big.npy"
expect_status 1 "a failed computation"; expect_no_file "$WORK/big.npy" "no file when the computation fails"

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
# a partial spectrum's summary is true as printed: the far end is "not
# computed" (text) and null with its reason (JSON), not the nearest computed value
run "$TDL" hessian --arch 4-5-3 --data iris --k 2 --which bottom
expect_status 0 "bottom-2"
expect_out "lambda_max   not computed: only the 2 smallest eigenvalues were computed; the largest of them is " "bottom-k: no false lambda_max"
run "$TDL" hessian --arch 4-5-3 --data iris --k 2 --json
expect_status 0 "top-2 json"
expect_json lambda_min null "top-k: lambda_min is null"
expect_out '"lambda_min_reason":"only the 2 largest eigenvalues were computed; the smallest of them is ' "top-k: the reason"
if [ "$(json_get lambda_max)" != null ]; then ok; else bad "top-k: lambda_max missing"; fi
# trace(G) comes from the exact method only: Lanczos with --gn has no gn_trace
# (it printed 0 before), the exact method has it
run "$TDL" hessian --arch 4-5-3 --data iris --method lanczos --k 2 --gn --json
expect_status 0 "lanczos --gn"
if grep -q '"gn_trace"' "$WORK/out"; then bad "lanczos --gn reports a gn_trace it did not compute"; else ok; fi
run "$TDL" hessian --arch 4-5-3 --data iris --gn --json
expect_status 0 "exact --gn"
v=$(json_get gn_trace)
if [ -n "$v" ] && [ "$v" != "0" ]; then ok; else bad "exact --gn: gn_trace '$v'"; fi
finish
