#!/bin/bash
# CLI tests of `tdl landscape`: interpolation endpoints and grid centres
# against `tdl eval`, resumed grids against uninterrupted ones, reused
# directions, the Hessian plane against `tdl hessian`, the PCA plane of a
# `tdl train --log-params` trajectory, mode connectivity, figures, errors.
# usage: test_landscape.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
. "$(dirname "$0")/lib.sh"
close() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; s = b < 0 ? -b : b; if (s < 1e-300) s = 1; exit !(d <= t * s) }'; }
arr() { sed -n "s/.*\"$1\":\(\[[^]]*\]\).*/\1/p" "$WORK/out" | head -n 1; }
# the "loss" grid of a 2D run: everything from "loss":[[ to the closing ]]
grid_of() { sed -n 's/.*"loss":\(\[\[[^"]*\]\]\).*/\1/p' "$1"; }
D="iris:normalize=standard"

"$TDL" train --data "$D" --arch 4-8-3 --act tanh --epochs 40 --quiet -o "$WORK/a.safetensors" --log-params "$WORK/snaps.npz" >/dev/null
"$TDL" train --data "$D" --arch 4-8-3 --act tanh --epochs 40 --seed 1 --quiet -o "$WORK/b.safetensors" >/dev/null
"$TDL" train --data "$D" --arch 4-8-3 --act tanh --epochs 40 --seed 2 --quiet -o "$WORK/c.safetensors" >/dev/null
run "$TDL" eval --model "$WORK/a.safetensors" --data "$D" --json; la=$(json_get loss)
run "$TDL" eval --model "$WORK/b.safetensors" --data "$D" --json; lb=$(json_get loss)

# help: every option with its default, and an example
run "$TDL" help landscape
expect_status 0 "help"
for opt in --data --test --to --via --plane --trajectory --grid --range --yrange --norm --dir-bias \
           --direction-seed --directions --curve --curve-epochs --resume --max-cells --json --plot --threads "-o, --out" --model --arch; do
    expect_out -- "$opt" "help lists $opt"
done
expect_out "default filter" "help states the --norm default"
expect_out "examples:" "help has examples"

# 1D interpolation: 41 points on [-0.5, 1.5]; a = 0 and a = 1 are the models, exactly
run "$TDL" landscape --model "$WORK/a.safetensors" --to "$WORK/b.safetensors" --data "$D" --json
expect_status 0 "interpolation"
expect_json mode '"interpolation"' "mode"
expect_json loss_start "$la" "interpolation start = tdl eval loss of --model"
expect_json loss_end "$lb" "interpolation end = tdl eval loss of --to"
x10=$(arr x | tr -d '[]' | cut -d, -f11); x30=$(arr x | tr -d '[]' | cut -d, -f31)
l10=$(arr loss | tr -d '[]' | cut -d, -f11); l30=$(arr loss | tr -d '[]' | cut -d, -f31)
if [ "$x10" = 0 ] && [ "$x30" = 1 ] && [ "$l10" = "$la" ] && [ "$l30" = "$lb" ]; then ok; else bad "grid points 0 and 1: x $x10 $x30, loss $l10 $l30 vs $la $lb"; fi
n=$(arr loss | tr ',' '\n' | grep -c .); if [ "$n" -eq 41 ]; then ok; else bad "41 interpolation points expected, got $n"; fi

# 2D random plane: the centre is the model; cosine and normalization reported
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --plane random --grid 11 --json -o "$WORK/full.npz"
expect_status 0 "random plane"
expect_json centre_loss "$la" "grid centre = tdl eval loss"
expect_out '"normalization":"filter normalization' "normalization stated"
cos=$(json_get cosine); if awk -v c="$cos" 'BEGIN { exit !(c > -0.6 && c < 0.6) }'; then ok; else bad "cosine $cos"; fi
expect_json unfilled 0 "all cells filled"
cp "$WORK/out" "$WORK/full.json"
rows=$(grid_of "$WORK/full.json" | grep -o '\],\[' | wc -l); if [ "$rows" -eq 10 ]; then ok; else bad "11 rows expected"; fi

# resumable: 30 cells, then the rest; the result equals the uninterrupted grid
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --plane random --grid 11 --json --max-cells 30 -o "$WORK/part.npz"
expect_status 0 "partial grid"
expect_json filled 30 "30 cells filled"; expect_json unfilled 91 "91 unfilled"
expect_out 'null' "unfilled cells are null"
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --plane random --grid 11 --json --resume "$WORK/part.npz" -o "$WORK/part.npz"
expect_status 0 "resume"
expect_json evaluated 91 "resume evaluates only the missing cells"
if [ "$(grid_of "$WORK/out")" = "$(grid_of "$WORK/full.json")" ] && [ -n "$(grid_of "$WORK/out")" ]; then ok; else bad "resumed grid differs from the uninterrupted one"; fi
# a grid of another size cannot be resumed
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --plane random --grid 9 --resume "$WORK/part.npz" -o "$WORK/other.npz"
expect_status 1 "resume with another grid"; expect_err "differs from this run's" "resume mismatch message"; expect_no_file "$WORK/other.npz" "no output on failure"

# interrupted by SIGINT after its first checkpoint (64 cells): the file is a
# valid partial grid, and resuming it gives the uninterrupted grid
"$TDL" train --data digits --arch 64-128-10 --epochs 2 --quiet -o "$WORK/d.safetensors" >/dev/null
"$TDL" landscape --model "$WORK/d.safetensors" --data digits --plane random --grid 41 --threads 1 -o "$WORK/ck.npz" >/dev/null 2>&1 &
pid=$!
# wait for the first checkpoint (or the end of a run that was too quick)
while [ ! -e "$WORK/ck.npz" ] && kill -0 $pid 2>/dev/null; do sleep 0.02; done
kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null
if ls "$WORK"/ck.npz.tmp* >/dev/null 2>&1; then bad "a temporary file survived SIGINT"; else ok; fi
run "$TDL" landscape --model "$WORK/d.safetensors" --data digits --plane random --grid 41 --json --resume "$WORK/ck.npz"
expect_status 0 "resume after SIGINT"; cp "$WORK/out" "$WORK/resumed.json"
echo "resumed after SIGINT: $(json_get evaluated) cells evaluated on resume"
run "$TDL" landscape --model "$WORK/d.safetensors" --data digits --plane random --grid 41 --json
if [ "$(grid_of "$WORK/out")" = "$(grid_of "$WORK/resumed.json")" ] && [ -n "$(grid_of "$WORK/out")" ]; then ok; else bad "grid resumed after SIGINT differs"; fi

# directions saved for reuse: another seed, but --directions gives the stored plane
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --plane random --grid 11 --json --direction-seed 9 --directions "$WORK/full.npz"
if [ "$(grid_of "$WORK/out")" = "$(grid_of "$WORK/full.json")" ]; then ok; else bad "--directions did not reproduce the grid"; fi
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --plane random --grid 11 --json --direction-seed 9
if [ "$(grid_of "$WORK/out")" != "$(grid_of "$WORK/full.json")" ]; then ok; else bad "another seed gave the same grid"; fi

# layer normalization, biases normalized, with test data
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --test "iris:normalize=standard,split=test" --norm layer --dir-bias normalize --grid 7 --json
expect_status 0 "1D random, layer normalization, test data"
expect_out '"test_loss":[' "test loss"; expect_out 'biases normalized with their unit' "bias mode stated"

# Hessian plane: the eigenvalues are the top two of the exact spectrum
run "$TDL" hessian --model "$WORK/a.safetensors" --data "$D" --k 2 --json
e=$(arr eigenvalues | tr -d '[]'); e2=${e%%,*}; e1=${e##*,}
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --plane hessian --grid 5 --range -0.1:0.1 --json
expect_status 0 "hessian plane"
h=$(arr eigenvalues | tr -d '[]'); h1=${h%%,*}; h2=${h##*,}
if close "$h1" "$e1" 1e-8 && close "$h2" "$e2" 1e-8; then ok; else bad "hessian plane eigenvalues $h1 $h2 vs exact $e1 $e2"; fi
cos=$(json_get cosine); if awk -v c="$cos" 'BEGIN { exit !(c < 1e-8 && c > -1e-8) }'; then ok; else bad "eigenvectors not orthogonal: $cos"; fi

# models plane: M at (0,0), M2 at (1,0) on a 41-point grid over [-0.5, 1.5]
run "$TDL" landscape --model "$WORK/a.safetensors" --to "$WORK/b.safetensors" --via "$WORK/c.safetensors" --data "$D" --json
expect_status 0 "models plane"; expect_json plane '"models"' "plane"; expect_json centre_loss "$la" "models plane: M's loss at (0, 0)"

# PCA plane of the training trajectory
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --plane pca --trajectory "$WORK/snaps.npz" --grid 9 --json --plot "$WORK/pca.png"
expect_status 0 "pca plane"
r=$(arr explained_variance | tr -d '[]'); if awk -v a="${r%%,*}" -v b="${r##*,}" 'BEGIN { exit !(a >= b && b > 0 && a + b <= 1 + 1e-12) }'; then ok; else bad "explained variance $r"; fi
expect_out '"trajectory":{"x":[' "trajectory coordinates"
if [ -s "$WORK/pca.png" ] && [ -s "$WORK/pca.gp" ] && [ -s "$WORK/pca.dat" ]; then ok; else bad "pca figure, script and data"; fi

# mode connectivity on two independently trained nets (spirals)
S="spirals:n=200"
"$TDL" train --data "$S" --arch 2-24-2 --act tanh --opt adam --lr 0.02 --epochs 300 --batch 50 --quiet -o "$WORK/s1.safetensors" >/dev/null
"$TDL" train --data "$S" --arch 2-24-2 --act tanh --opt adam --lr 0.02 --epochs 300 --batch 50 --seed 7 --quiet -o "$WORK/s2.safetensors" >/dev/null
run "$TDL" landscape --model "$WORK/s1.safetensors" --to "$WORK/s2.safetensors" --data "$S" --curve bezier --curve-epochs 150 --curve-batch 50 --json --plot "$WORK/curve.svg" -o "$WORK/curve.npz"
expect_status 0 "bezier curve"
bl=$(json_get barrier_line); bc=$(json_get barrier_curve)
if awk -v l="$bl" -v c="$bc" 'BEGIN { exit !(l > 0.1 && c < 0.5 * l) }'; then ok; else bad "bezier barrier $bc not below half the line's $bl"; fi
if [ -s "$WORK/curve.svg" ] && [ -s "$WORK/curve.npz" ]; then ok; else bad "curve figure and file"; fi
run "$TDL" landscape --model "$WORK/s1.safetensors" --to "$WORK/s2.safetensors" --data "$S" --curve chain --curve-epochs 150 --curve-batch 50 --json
bc=$(json_get barrier_curve); if awk -v l="$bl" -v c="$bc" 'BEGIN { exit !(c < 0.5 * l) }'; then ok; else bad "chain barrier $bc vs line $bl"; fi

# figures: 2D map and 1D curve, with script and data beside
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --plane random --grid 9 --plot "$WORK/map.png"
expect_status 0 "2D plot"
if [ -s "$WORK/map.png" ] && grep -q "cntrparam levels discrete" "$WORK/map.gp"; then ok; else bad "2D figure with contour levels"; fi
run "$TDL" landscape --model "$WORK/a.safetensors" --to "$WORK/b.safetensors" --data "$D" --plot "$WORK/line.pdf"
if [ -s "$WORK/line.pdf" ]; then ok; else bad "1D figure"; fi

# errors: usage (2) and failed work (1), one line, no partial output
run "$TDL" landscape --model "$WORK/a.safetensors"; expect_status 2 "no --data"; expect_err "--data SPEC is required" "no --data message"
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --via "$WORK/b.safetensors"; expect_status 2 "--via without --to"
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --range 1:-1; expect_status 2 "reversed range"
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --plane pca; expect_status 2 "pca without trajectory"; expect_err "--trajectory" "pca message"
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --plane sphere; expect_status 2 "unknown plane"
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --to "$WORK/b.safetensors" --curve line; expect_status 2 "--curve line"
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --curve bezier; expect_status 2 "--curve without --to"
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" -o "$WORK/g.csv"; expect_status 2 "-o not .npz"
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --norm batch; expect_status 2 "unknown --norm"
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --grid 1; expect_status 2 "--grid 1"
"$TDL" train --data "$D" --arch 4-5-3 --act tanh --epochs 1 --quiet -o "$WORK/other.safetensors" >/dev/null
run "$TDL" landscape --model "$WORK/a.safetensors" --to "$WORK/other.safetensors" --data "$D" -o "$WORK/bad.npz"
expect_status 1 "models of different structure"; expect_err "same structure" "structure message"; expect_no_file "$WORK/bad.npz" "no partial output"
run "$TDL" landscape --model "$WORK/missing.safetensors" --data "$D"; expect_status 1 "missing model"; expect_err "tdl: error:" "missing model message"
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --plane pca --trajectory "$WORK/a.safetensors"
expect_status 1 "trajectory that is not an npz"; expect_err "tdl: error:" "bad trajectory message"
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --directions "$WORK/curve.npz"
expect_status 1 "directions file without directions"; expect_err "direction_x" "directions message"
run "$TDL" landscape --model "$WORK/a.safetensors" --data "digits" ; expect_status 1 "data of another width"; expect_err "features" "width message"
finish
