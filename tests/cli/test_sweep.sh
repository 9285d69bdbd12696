#!/bin/bash
# CLI tests of `tdl sweep`: a width sweep cross-checked against `tdl train` +
# `tdl eval`, the JSON keys, the files of --out, the three kinds, and errors
# (bad --values, unknown kind, model/data mismatch, unwritable --out, no
# partial files).
# usage: test_sweep.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
. "$(dirname "$0")/lib.sh"

D=iris:split=train,normalize=standard
T=iris:split=test,normalize=standard
COMMON="--data $D --test $T --arch 4-W-3 --epochs 8 --lr 0.05 --seed 4 --quiet"

# a width sweep, 2 values x 2 repeats, JSON (one thread: compared bit for bit below)
run "$TDL" sweep width $COMMON --values 2,16 --repeats 2 --json --threads 1
expect_status 0 "width sweep"
for k in '"kind":"width"' '"values":[2,16]' '"repeats":2' '"loss_name":"ce"' '"reduction":"mean"' '"runs":[' \
         '"summary":[' '"correlations":[' '"granulated_tau":' '"gap":' '"test_error":' '"measures":{"params":' \
         '"name":"neyshabur2019_overparam"' '"success":false'; do
    expect_out "$k" "json has $k"
done
n_runs=$(grep -o '"repeat":' "$WORK/out" | wc -l)
if [ "$n_runs" -eq 4 ]; then ok; else bad "4 runs expected, found $n_runs"; fi
# params of a 4-16-3 net: 5*16 + 17*3 = 131
expect_out '"value":16,"repeat":0,"init_seed":4,"train_seed":4,"width":16,"n_train":120,"params":131' "run (16, 0) as expected"
sweep_loss=$(sed -n 's/.*"value":16,"repeat":1,[^}]*"train_loss":\([^,]*\),.*/\1/p' "$WORK/out")
sweep_test=$(sed -n 's/.*"value":16,"repeat":1,[^}]*"test_error":\([^,]*\),.*/\1/p' "$WORK/out")

# the same run (repeat 1: seed 4 + 1) with tdl train and tdl eval: identical
# numbers.  Equality holds because every side runs with --threads 1: the sweep
# trains and evaluates with the library calls that tdl train and tdl eval make
# (the model file keeps the float64 parameters exactly), and one thread with
# the same BLAS kernel repeats the same operations in the same order.  With
# more threads the BLAS may split its sums differently in the two processes.
run "$TDL" train --data "$D" --arch 4-16-3 --epochs 8 --lr 0.05 --seed 5 -o "$WORK/m.safetensors" --quiet --threads 1
expect_status 0 "train the repeat-1 net by hand"
run "$TDL" eval --model "$WORK/m.safetensors" --data "$D" --json --threads 1
eval_loss=$(json_get loss)
if [ -n "$sweep_loss" ] && [ "$sweep_loss" = "$eval_loss" ]; then ok; else bad "sweep train loss '$sweep_loss' vs tdl eval '$eval_loss'"; fi
run "$TDL" eval --model "$WORK/m.safetensors" --data "$T" --json --threads 1
expect_json error "$sweep_test" "sweep test error equals tdl eval on the test set"

# the human table and --out DIR
run "$TDL" sweep width $COMMON --values 2:8:x2 -o "$WORK/out1"
expect_status 0 "width sweep with --out"
expect_out "rank correlation with the generalization gap" "table of correlations"
expect_out "train error" "table header"
for f in sweep.csv sweep.json; do
    if [ -s "$WORK/out1/$f" ]; then ok; else bad "--out wrote no $f"; fi
done
lines=$(wc -l <"$WORK/out1/sweep.csv")
if [ "$lines" -eq 4 ]; then ok; else bad "sweep.csv: $lines lines, expected header + 3"; fi
if head -1 "$WORK/out1/sweep.csv" | grep -q '^sweep_width,repeat,.*,gap,seconds,measure_params,'; then ok; else bad "sweep.csv header: $(head -1 "$WORK/out1/sweep.csv")"; fi
# every column name is unique (the swept value beside the net's width, the
# measure "params" beside the net's params)
dups=$(head -1 "$WORK/out1/sweep.csv" | tr -d '\r' | tr ',' '\n' | sort | uniq -d | tr '\n' ' ')
if [ -z "$dups" ]; then ok; else bad "sweep.csv header repeats column names: $dups"; fi
if command -v gnuplot >/dev/null; then
    for f in sweep.png sweep.gp sweep.dat measures.png; do
        if [ -s "$WORK/out1/$f" ]; then ok; else bad "--out wrote no $f"; fi
    done
fi

# samples and label-noise sweeps
run "$TDL" sweep samples --data "$D" --arch 4-8-3 --values 20,60 --epochs 3 --quiet --json --no-measures
expect_status 0 "samples sweep"
expect_out '"n_train":20' "samples: 20 examples"
expect_out '"n_train":60' "samples: 60 examples"
expect_out '"correlations":[]' "no measures: no correlations"
run "$TDL" sweep label-noise ${COMMON/--arch 4-W-3/--arch 4-8-3} --values 0:1:+0.5 --json --no-measures
expect_status 0 "label-noise sweep"
expect_out '"values":[0,0.5,1]' "arithmetic range"
# a regression sweep with the Safran-Shamir student and a success threshold
run "$TDL" sweep width --data teacher:n=40,d=3,k=2 --arch 3-W-1 --no-bias --output-ones --loss mse --values 2,4 \
    --opt gd --lr 0.05 --epochs 50 --success-loss 100 --quiet --json
expect_status 0 "teacher-student sweep"
expect_out '"success_fraction":1' "success fraction"
expect_out '"output_ones":true' "output_ones recorded"

# errors: usage (exit 2)
run "$TDL" sweep width $COMMON --values 4,x
expect_status 2 "bad --values"
expect_err "'x' is not a number" "bad --values message"
run "$TDL" sweep width $COMMON --values 8:4:x2
expect_status 2 "empty range"
run "$TDL" sweep depth $COMMON --values 4
expect_status 2 "unknown sweep kind"
expect_err "unknown sweep 'depth'" "unknown kind message"
run "$TDL" sweep $COMMON --values 4
expect_status 2 "no kind"
run "$TDL" sweep width --data "$D" --values 4
expect_status 2 "no --arch"
run "$TDL" sweep width --data "$D" --model "$WORK/m.safetensors" --values 4
expect_status 2 "--model is refused"
run "$TDL" sweep width --data "$D" --arch 4-W-3
expect_status 2 "no --values"
run "$TDL" sweep samples --data "$D" --arch 4-W-3 --values 10
expect_status 2 "W in a samples sweep"
run "$TDL" sweep width $COMMON --values 4 --repeats 0
expect_status 2 "--repeats 0"
run "$TDL" sweep width $COMMON --values 4 --plot "$WORK/x.gif"
expect_status 2 "--plot extension"
run "$TDL" sweep width $COMMON --values 4 --bogus
expect_status 2 "unknown option"

# errors: the work fails (exit 1), one line, no output files
run "$TDL" sweep width --data "$D" --arch 5-W-3 --values 4 --quiet -o "$WORK/out2"
expect_status 1 "model/data mismatch"
expect_err "takes 5 inputs" "mismatch message"
expect_no_file "$WORK/out2/sweep.csv" "no csv after a mismatch"
run "$TDL" sweep samples --data "$D" --arch 4-8-3 --values 10,500 --quiet -o "$WORK/out3"
expect_status 1 "samples beyond the data"
expect_err "1..120" "samples range message"
expect_no_file "$WORK/out3/sweep.csv" "no csv after a failed sweep"
expect_no_file "$WORK/out3/sweep.json" "no json after a failed sweep"
run "$TDL" sweep width $COMMON --values 2.5
expect_status 1 "non-integer width"
run "$TDL" sweep label-noise --data teacher:n=20,d=3,k=2 --arch 3-8-1 --values 0.5 --quiet
expect_status 1 "label noise on regression"
expect_err "no class labels" "label-noise message"
touch "$WORK/afile"
run "$TDL" sweep width $COMMON --values 4 -o "$WORK/afile"
expect_status 1 "--out is a file"
expect_err "tdl: error:" "unwritable --out message"
mkdir -p "$WORK/ro"
chmod 555 "$WORK/ro"
if [ "$(id -u)" != 0 ]; then
    run "$TDL" sweep width $COMMON --values 4 -o "$WORK/ro/sub"
    expect_status 1 "--out under a read-only directory"
    run "$TDL" sweep width $COMMON --values 4 -o "$WORK/ro"
    expect_status 1 "read-only --out"
    expect_no_file "$WORK/ro/sweep.csv" "no csv in a read-only directory"
fi
run "$TDL" sweep width $COMMON --values 4 -o /proc/tdl-sweep-test
expect_status 1 "--out under /proc"
run "$TDL" sweep width --data nosuchset --arch 4-W-3 --values 4
expect_status 1 "unknown data set"

run "$TDL" help sweep
expect_status 0 "help"
expect_out "usage: tdl sweep width|samples|label-noise" "help usage line"
expect_out "--output-ones" "help lists --output-ones"

finish
