#!/bin/bash
# CLI tests of `tdl landscape`: interpolation endpoints and grid centres
# against `tdl eval`, resumed grids against uninterrupted ones, reused
# directions, the Hessian plane against `tdl hessian`, the PCA plane of a
# `tdl train --log-params` trajectory, mode connectivity, figures, errors.
# usage: test_landscape.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
. "$(dirname "$0")/lib.sh"
arr() { sed -n "s/.*\"$1\":\(\[[^]]*\]\).*/\1/p" "$WORK/out" | head -n 1; }
# the "loss" grid of a 2D run: everything from "loss":[[ to the closing ]]
grid_of() { sed -n 's/.*"loss":\(\[\[[^"]*\]\]\).*/\1/p' "$1"; }
D="iris:normalize=standard"
# the mean loss of a 4-8-3 net over iris' 150 examples: `near` (lib.sh) with M
MI=$(loss_terms 4-8-3 150)

"$TDL" train --data "$D" --arch 4-8-3 --act tanh --epochs 40 --quiet -o "$WORK/a.safetensors" --log-params "$WORK/snaps.npz" >/dev/null
"$TDL" train --data "$D" --arch 4-8-3 --act tanh --epochs 40 --seed 1 --quiet -o "$WORK/b.safetensors" >/dev/null
"$TDL" train --data "$D" --arch 4-8-3 --act tanh --epochs 40 --seed 2 --quiet -o "$WORK/c.safetensors" >/dev/null
# eval_loss: the top-level "loss" of tdl eval --json (its model_provenance
# may repeat the key: the file's training metadata)
eval_loss() { sed -n 's/^{[^{]*"loss":\([^,}]*\).*/\1/p' "$WORK/out" | head -n 1; }
run "$TDL" eval --model "$WORK/a.safetensors" --data "$D" --json; la=$(eval_loss)
run "$TDL" eval --model "$WORK/b.safetensors" --data "$D" --json; lb=$(eval_loss)

# help: every option with its default, and an example
run "$TDL" help landscape
expect_status 0 "help"
for opt in --data --test --to --via --plane --trajectory --grid --range --yrange --norm --dir-bias \
           --direction-seed --directions --curve --curve-epochs --resume --max-cells --json --plot --threads "-o, --out" --model --arch \
           --from-init; do
    expect_out -- "$opt" "help lists $opt"
done
expect_out "default filter" "help states the --norm default"
expect_out "examples:" "help has examples"

# 1D interpolation: 41 points on [-0.5, 1.5]; a = 0 and a = 1 are the models.
# Their losses are tdl eval's up to roundoff: the landscape sums the same
# products (first-layer products of the whole data, the rest in blocks) in
# another grouping than the evaluation, and the BLAS kernel and thread count
# may order each dot product differently, so `near`, not equality.
run "$TDL" landscape --model "$WORK/a.safetensors" --to "$WORK/b.safetensors" --data "$D" --json
expect_status 0 "interpolation"
expect_json mode '"interpolation"' "mode"
near "$(json_get loss_start)" "$la" "$MI" && ok || bad "interpolation start $(json_get loss_start) vs tdl eval loss of --model $la"
near "$(json_get loss_end)" "$lb" "$MI" && ok || bad "interpolation end $(json_get loss_end) vs tdl eval loss of --to $lb"
# the grid points: x = lo + i (hi - lo) / (n - 1) is exact at 0 and 1 here (no BLAS involved)
x10=$(arr x | tr -d '[]' | cut -d, -f11); x30=$(arr x | tr -d '[]' | cut -d, -f31)
l10=$(arr loss | tr -d '[]' | cut -d, -f11); l30=$(arr loss | tr -d '[]' | cut -d, -f31)
if [ "$x10" = 0 ] && [ "$x30" = 1 ] && near "$l10" "$la" "$MI" && near "$l30" "$lb" "$MI"; then ok; else bad "grid points 0 and 1: x $x10 $x30, loss $l10 $l30 vs $la $lb"; fi
n=$(arr loss | tr ',' '\n' | grep -c .); if [ "$n" -eq 41 ]; then ok; else bad "41 interpolation points expected, got $n"; fi

# 2D random plane: the centre is the model; cosine and normalization reported.
# The grids compared as strings below all run with --threads 1 (one thread,
# the same kernel, run to run: each cell's loss is then the same sequence of
# operations, whichever round or resumed run evaluates it, so bit-identical).
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --plane random --grid 11 --json -o "$WORK/full.npz" --threads 1
expect_status 0 "random plane"
near "$(json_get centre_loss)" "$la" "$MI" && ok || bad "grid centre $(json_get centre_loss) vs tdl eval loss $la"
expect_out '"normalization":"filter normalization' "normalization stated"
cos=$(json_get cosine); if awk -v c="$cos" 'BEGIN { exit !(c > -0.6 && c < 0.6) }'; then ok; else bad "cosine $cos"; fi
expect_json unfilled 0 "all cells filled"
cp "$WORK/out" "$WORK/full.json"
rows=$(grid_of "$WORK/full.json" | grep -o '\],\[' | wc -l); if [ "$rows" -eq 10 ]; then ok; else bad "11 rows expected"; fi

# resumable: 30 cells, then the rest; the result equals the uninterrupted grid
# (bit for bit: one thread throughout)
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --plane random --grid 11 --json --max-cells 30 -o "$WORK/part.npz" --threads 1
expect_status 0 "partial grid"
expect_json filled 30 "30 cells filled"; expect_json unfilled 91 "91 unfilled"
expect_out 'null' "unfilled cells are null"
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --plane random --grid 11 --json --resume "$WORK/part.npz" -o "$WORK/part.npz" --threads 1
expect_status 0 "resume"
expect_json evaluated 91 "resume evaluates only the missing cells"
if [ "$(grid_of "$WORK/out")" = "$(grid_of "$WORK/full.json")" ] && [ -n "$(grid_of "$WORK/out")" ]; then ok; else bad "resumed grid differs from the uninterrupted one"; fi
# a grid of another size cannot be resumed
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --plane random --grid 9 --resume "$WORK/part.npz" -o "$WORK/other.npz"
expect_status 1 "resume with another grid"; expect_err "differs from this run's" "resume mismatch message"; expect_no_file "$WORK/other.npz" "no output on failure"

# interrupted by SIGINT after its first checkpoint: the test hook
# TDL_TEST_PAUSE_AT=landscape-round (src/cli/util.c) stops the run after its
# first round of 64 cells, written to ck.npz, and the signal arrives then.
# The file is a valid partial grid without temporaries, and resuming it gives
# the uninterrupted grid: bit for bit when every run has --threads 1 (as
# above); with 2 threads for the rest (the BLAS may split the first-layer
# products differently) each cell agrees within the roundoff bound `near`.
"$TDL" train --data digits --arch 64-128-10 --epochs 2 --quiet -o "$WORK/d.safetensors" >/dev/null
MD=$(loss_terms 64-128-10 1437)
G41="--model $WORK/d.safetensors --data digits --plane random --grid 41"
pause_open
TDL_TEST_PAUSE_AT=landscape-round TDL_TEST_PAUSE_MARK="$WORK/pause" "$TDL" landscape $G41 --threads 1 -o "$WORK/ck.npz" >/dev/null 2>"$WORK/ck.err" 7>&- &
pid=$!
wait_paused $pid && ok || bad "landscape never reached the test hook: $(head -c 300 "$WORK/ck.err")"
[ -s "$WORK/ck.npz" ] && ok || bad "no checkpoint at the first round"
kill -INT $pid 2>/dev/null; wait $pid; st=$?
[ $st -eq 130 ] && ok || bad "landscape after SIGINT: exit $st, expected 130 (death by SIGINT)"
if ls "$WORK"/ck.npz.tmp* >/dev/null 2>&1; then bad "a temporary file survived SIGINT"; else ok; fi
cp "$WORK/ck.npz" "$WORK/ck2.npz"
run "$TDL" landscape $G41 --json --resume "$WORK/ck.npz" --threads 1
expect_status 0 "resume after SIGINT"; cp "$WORK/out" "$WORK/resumed.json"
expect_json evaluated 1617 "the resume evaluates the 41 x 41 - 64 cells the interrupted run left"
run "$TDL" landscape $G41 --json --threads 1
cp "$WORK/out" "$WORK/ref41.json"
if [ "$(grid_of "$WORK/ref41.json")" = "$(grid_of "$WORK/resumed.json")" ] && [ -n "$(grid_of "$WORK/ref41.json")" ]; then ok; else bad "grid resumed after SIGINT differs (one thread throughout)"; fi
run "$TDL" landscape $G41 --json --resume "$WORK/ck2.npz" --threads 2
expect_status 0 "resume with 2 threads"
grid_of "$WORK/out" >"$WORK/g2"; grid_of "$WORK/ref41.json" >"$WORK/g1"
why=$(numbers_near "$WORK/g2" "$WORK/g1" "$MD") && ok || bad "grid resumed with 2 threads not within roundoff of the one-thread grid: $why"

# directions saved for reuse: another seed, but --directions gives the stored plane
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --plane random --grid 11 --json --direction-seed 9 --directions "$WORK/full.npz" --threads 1
if [ "$(grid_of "$WORK/out")" = "$(grid_of "$WORK/full.json")" ]; then ok; else bad "--directions did not reproduce the grid"; fi
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --plane random --grid 11 --json --direction-seed 9
if [ "$(grid_of "$WORK/out")" != "$(grid_of "$WORK/full.json")" ]; then ok; else bad "another seed gave the same grid"; fi

# layer normalization, biases normalized, with test data
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --test "iris:normalize=standard,split=test" --norm layer --dir-bias normalize --grid 7 --json
expect_status 0 "1D random, layer normalization, test data"
expect_out '"test_loss":[' "test loss"; expect_out 'biases normalized with their unit' "bias mode stated"

# Hessian plane: the eigenvalues are the top two of the exact spectrum.  The
# bounds come from the runs' own numbers: a unit Ritz vector y with residual
# r = ||H y - theta y|| has an eigenvalue within r of theta (Parlett, The
# Symmetric Eigenvalue Problem, Thm 4.5.1), the exact solver's values are
# within its "tolerance" tol = P eps ||H||_F, and the two products with H
# differ by roundoff of that size again: |theta_i - lambda_i| <= r_i + 2 tol.
# The two Ritz vectors are orthogonal up to their angles to the eigenvectors,
# sin <= (r_i + 2 tol) / gap each (Davis-Kahan), gap = lambda_1 - lambda_2.
run "$TDL" hessian --model "$WORK/a.safetensors" --data "$D" --k 2 --json
e=$(arr eigenvalues | tr -d '[]'); e2=${e%%,*}; e1=${e##*,}; etol=$(json_get tolerance)
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --plane hessian --grid 5 --range -0.1:0.1 --json
expect_status 0 "hessian plane"
h=$(arr eigenvalues | tr -d '[]'); h1=${h%%,*}; h2=${h##*,}
r=$(arr eigen_residuals | tr -d '[]'); r1=${r%%,*}; r2=${r##*,}
if awk -v h1="$h1" -v h2="$h2" -v e1="$e1" -v e2="$e2" -v r1="$r1" -v r2="$r2" -v t="$etol" 'BEGIN {
       d1 = h1 - e1; d2 = h2 - e2; if (d1 < 0) d1 = -d1; if (d2 < 0) d2 = -d2
       exit !(t > 0 && r1 != "" && r2 != "" && d1 <= r1 + 2 * t && d2 <= r2 + 2 * t) }'; then ok
else bad "hessian plane eigenvalues $h1 $h2 (residuals $r1 $r2) vs exact $e1 $e2 (tolerance $etol)"; fi
cos=$(json_get cosine)
if awk -v c="$cos" -v e1="$e1" -v e2="$e2" -v r1="$r1" -v r2="$r2" -v t="$etol" 'BEGIN {
       if (c < 0) c = -c; exit !(e1 > e2 && c <= (r1 + r2 + 4 * t) / (e1 - e2)) }'; then ok
else bad "eigenvectors not orthogonal: cosine $cos, residuals $r1 $r2, gap $e1 - $e2"; fi

# models plane: M at (0,0), M2 at (1,0) on a 41-point grid over [-0.5, 1.5]
run "$TDL" landscape --model "$WORK/a.safetensors" --to "$WORK/b.safetensors" --via "$WORK/c.safetensors" --data "$D" --json
expect_status 0 "models plane"; expect_json plane '"models"' "plane"
near "$(json_get centre_loss)" "$la" "$MI" && ok || bad "models plane: M's loss at (0, 0) $(json_get centre_loss) vs tdl eval $la"

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

# --from-init: the line from the model's initialization (a = 0) to the model
# (a = 1).  tdl train's a.safetensors (4-8-3 tanh, seed 0) keeps its init as
# init.* tensors and the metadata that regenerates it: the two agree exactly.
# The a = 0 loss is the fresh net's (--arch 4-8-3 --act tanh --seed 0): the
# same landscape evaluation of the same parameters (coefficients 1 and 0,
# exact), so bit for bit with the fresh net's centre loss (--threads 1 both);
# a = 1 is the model's centre loss likewise, and tdl eval's up to roundoff.
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --from-init --json --threads 1
expect_status 0 "--from-init"
expect_json mode '"interpolation"' "--from-init is an interpolation"
expect_out '"init_source":"regenerated from the model file'"'"'s metadata (init he, seed 0, standard parametrization, activation tanh' "--from-init: the source of the init"
expect_json init_max_difference 0 "--from-init: the regenerated init equals the file's init.* tensors"
fs=$(json_get loss_start); fe=$(json_get loss_end)
n=$(arr loss | tr ',' '\n' | grep -c .); [ "$n" -eq 41 ] && ok || bad "--from-init: 41 points on [-0.5, 1.5] expected, got $n"
run "$TDL" landscape --arch 4-8-3 --act tanh --seed 0 --data "$D" --grid 11 --json --threads 1
[ "$fs" = "$(json_get centre_loss)" ] && ok || bad "--from-init: loss at a = 0 $fs, the fresh net's (--arch 4-8-3 --act tanh --seed 0) $(json_get centre_loss)"
# and tdl eval of the fresh net saved by tdl train --epochs 0 (another code
# path than the landscape's: equal up to roundoff, lib.sh)
run "$TDL" train --data "$D" --arch 4-8-3 --act tanh --seed 0 --epochs 0 --quiet -o "$WORK/init0.safetensors"
expect_status 0 "train --epochs 0 saves the init"
run "$TDL" eval --model "$WORK/init0.safetensors" --data "$D" --json
near "$fs" "$(eval_loss)" "$MI" && ok || bad "--from-init: loss at a = 0 $fs vs tdl eval of the init $(eval_loss)"
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --grid 11 --json --threads 1
[ "$fe" = "$(json_get centre_loss)" ] && ok || bad "--from-init: loss at a = 1 $fe, the model's $(json_get centre_loss)"
near "$fe" "$la" "$MI" && ok || bad "--from-init: loss at a = 1 $fe vs tdl eval $la"
run "$TDL" landscape --model "$WORK/a.safetensors" --data "$D" --from-init --grid 5
expect_out "init           regenerated from the model file's metadata" "--from-init text: the source"
expect_out "(a = 0, the initialization)" "--from-init text: the ends"
# a file with the metadata but no init.* tensors (tests/fixtures/make_init_fixtures.py,
# seed 5): the init is regenerated, the fresh net of seed 5
NI=$2/init/noinit.safetensors
run "$TDL" landscape --model "$NI" --data "$D" --from-init --grid 5 --range 0:1 --json --threads 1
expect_status 0 "--from-init without init.* tensors"
fs=$(json_get loss_start)
expect_out '"init_max_difference":null' "--from-init without init.*: nothing to compare"
run "$TDL" landscape --arch 4-8-3 --act tanh --seed 5 --data "$D" --grid 11 --json --threads 1
[ "$fs" = "$(json_get centre_loss)" ] && ok || bad "--from-init regenerated: a = 0 loss $fs, the fresh net's (seed 5) $(json_get centre_loss)"
# init.* tensors the metadata does not regenerate (all zero): the stored init
# is used and the text says so; the zero net's loss is ln 3 (3 equal logits)
run "$TDL" landscape --model "$2/init/storedinit.safetensors" --data "$D" --from-init --grid 5 --range 0:1 --json
expect_status 0 "--from-init with a stored init that differs"
expect_out '"init_source":"the model file'"'"'s init.* tensors (its metadata, init he seed 5, regenerates a net that differs' "--from-init: the stored init wins"
near "$(json_get loss_start)" 1.0986122886681098 "$(loss_terms 4-8-3 150)" && ok || bad "--from-init stored zero init: loss $(json_get loss_start), expected ln 3"

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
