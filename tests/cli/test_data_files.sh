#!/bin/bash
# CLI tests of data as users have it and of the files tdl writes from data
# and fresh nets (issue 23): +-1 labels, multi-target CSV (targets=K and the
# warning), `tdl info --data SPEC -o FILE.npz`, `tdl train --epochs 0 -o FILE`.
# usage: test_data_files.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
FIX=$2
. "$(dirname "$0")/lib.sh"

# json_num KEY: the first value of KEY in the JSON on stdout, as printed
# (%.17g); the first, since a model's metadata nested later may repeat a key
json_num() { grep -o "\"$1\":[^,}]*" "$WORK/out" | head -n 1 | sed 's/^[^:]*://'; }

# ---- +-1 labels ---------------------------------------------------------
# The same set with labels -1/+1 and 0/1 (-1 -> 0): CSV written here, npz
# from numpy (tests/fixtures/make_data_fixtures.py, y int64).
printf 'x1,x2,y\n0.5,1,1\n1.5,-2,-1\n-0.3,0.2,1\n2,2,-1\n0.1,0.7,-1\n-1,0.4,1\n' >"$WORK/pm.csv"
printf 'x1,x2,y\n0.5,1,1\n1.5,-2,0\n-0.3,0.2,1\n2,2,0\n0.1,0.7,0\n-1,0.4,1\n' >"$WORK/zo.csv"
run "$TDL" info --data "$WORK/pm.csv"
expect_status 0 "info on +-1 labels"
expect_out "labels       -1/+1 read as classes 0/1 (-1 -> 0, +1 -> 1)" "info says how +-1 labels are read"
expect_out "per class    3 3" "+-1: two classes"
run "$TDL" info --data "$WORK/pm.csv" --json
expect_json labels '"-1/+1 read as classes 0/1"' "info --json names the +-1 reading"
expect_json classes 2 "+-1: classes"
run "$TDL" info --data "$WORK/zo.csv" --json
expect_json labels '' "0/1 labels: no +-1 key"
run "$TDL" info --data "$WORK/pm.csv:task=regress"
expect_out "task         regression, 1 target column" "+-1 under task=regress: targets"
if grep -q "read as classes" "$WORK/out"; then bad "task=regress: no +-1 class reading"; else ok; fi
# logistic, hinge and ce train and evaluate to the same bits on both files
for f in pm zo; do
    for loss in logistic hinge ce; do
        out=1; [ $loss = ce ] && out=2
        run "$TDL" train --data "$WORK/$f.csv" --arch 2-5-$out --loss $loss --epochs 7 --lr 0.05 --seed 3 --quiet --threads 1 \
            -o "$WORK/$f-$loss.safetensors" --json
        expect_status 0 "train --loss $loss on $f.csv"
        eval "${f}_${loss}_train=\$(json_num train_loss)"
        run "$TDL" eval --model "$WORK/$f-$loss.safetensors" --data "$WORK/$f.csv" --threads 1 --json
        expect_status 0 "eval --loss $loss on $f.csv"
        eval "${f}_${loss}_eval=\$(json_num loss)"
    done
done
for loss in logistic hinge ce; do
    eval "a=\$pm_${loss}_train b=\$zo_${loss}_train c=\$pm_${loss}_eval d=\$zo_${loss}_eval"
    # the same classes 0/1, the same seed, one thread: the same operations, the same bits
    if [ -n "$a" ] && [ "$a" = "$b" ]; then ok; else bad "$loss: train loss on +-1 ($a) != on 0/1 ($b)"; fi
    if [ -n "$c" ] && [ "$c" = "$d" ]; then ok; else bad "$loss: eval loss on +-1 ($c) != on 0/1 ($d)"; fi
done
# the numpy files (y int64 -1/+1 and 0/1)
run "$TDL" info --data "$FIX/data/pm1.npz"
expect_out "labels       -1/+1 read as classes 0/1" "npz +-1 labels"
run "$TDL" train --data "$FIX/data/pm1.npz" --arch 3-6-1 --loss logistic --epochs 5 --seed 1 --quiet --threads 1 -o "$WORK/npm.safetensors" --json
expect_status 0 "train on the +-1 npz"; a=$(json_num train_loss)
run "$TDL" train --data "$FIX/data/zo.npz" --arch 3-6-1 --loss logistic --epochs 5 --seed 1 --quiet --threads 1 -o "$WORK/nzo.safetensors" --json
b=$(json_num train_loss)
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok; else bad "npz: train loss on +-1 ($a) != on 0/1 ($b)"; fi
run "$TDL" eval --model "$WORK/npm.safetensors" --data "$FIX/data/pm1.npz" --threads 1 --json; a=$(json_num loss)
run "$TDL" eval --model "$WORK/npm.safetensors" --data "$FIX/data/zo.npz" --threads 1 --json; b=$(json_num loss)
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok; else bad "npz: eval loss on +-1 ($a) != on 0/1 ($b)"; fi
# regression on the +-1 targets: mse
run "$TDL" train --data "$FIX/data/pm1.npz:task=regress" --arch 3-6-1 --loss mse --epochs 3 --quiet -o "$WORK/reg.safetensors"
expect_status 0 "mse on +-1 targets (task=regress)"
# other negative labels: refused as before
printf '1,2,-2\n3,4,1\n' >"$WORK/neg.csv"
refuse "label -2 of example 0 is negative" "a label -2" "$TDL" info --data "$WORK/neg.csv"
printf '1,2,-1\n3,4,0\n5,6,1\n' >"$WORK/neg3.csv"
refuse "label -1 of example 0 is negative" "labels -1, 0, 1" "$TDL" info --data "$WORK/neg3.csv"

# ---- multi-target CSV -------------------------------------------------
printf 'a,b,y1,y2\n0.5,1,1.5,2.5\n1.5,-2,0.5,3\n-0.3,0.2,1,1\n2,2,0.25,-1\n' >"$WORK/mt.csv"
run "$TDL" info --data "$WORK/mt.csv:targets=2"
expect_status 0 "targets=2"
expect_out "features     2" "targets=2: two features"
expect_out "task         regression, 2 target columns" "targets=2: two targets"
if [ -s "$WORK/err" ]; then bad "targets=2: no warning: $(cat "$WORK/err")"; else ok; fi
run "$TDL" train --data "$WORK/mt.csv:targets=2" --arch 2-4-2 --loss mse --epochs 3 --quiet -o "$WORK/mt.safetensors"
expect_status 0 "train on two targets"
refuse "label= (one label column) and targets= (the last K columns as targets) exclude each other" "label= with targets=" \
    "$TDL" info --data "$WORK/mt.csv:targets=2,label=0"
refuse "targets=5 is not an integer in [1, 3]" "targets= too large" "$TDL" info --data "$WORK/mt.csv:targets=5"
# the warning: one line on stderr naming targets=K, for info and train
run "$TDL" info --data "$WORK/mt.csv"
expect_status 0 "a multi-target CSV still loads"
expect_err "tdl: warning: $WORK/mt.csv: the header names 2 target-like columns at the end (y1, y2) but only the last is read as the target; add :targets=2" "multi-target warning"
if [ "$(wc -l <"$WORK/err")" -eq 1 ]; then ok; else bad "the warning is one line: $(cat "$WORK/err")"; fi
run "$TDL" train --data "$WORK/mt.csv" --arch 3-4-1 --loss mse --epochs 2 --quiet -o "$WORK/mt1.safetensors"
expect_status 0 "train on a multi-target CSV read as one target"
expect_err "add :targets=2" "train warns too"
# every command that loads data warns the same way (cli_load_data)
for cmd in eval hessian ntk landscape; do
    run "$TDL" $cmd --model "$WORK/mt1.safetensors" --data "$WORK/mt.csv" --json
    expect_status 0 "$cmd on a multi-target CSV"
    expect_err "tdl: warning: $WORK/mt.csv: the header names 2 target-like columns" "$cmd warns about the targets"
done
# integer targets that the last column would be refused as labels for: the error says targets=K
printf 'a,b,y1,y2\n0.5,1,1,2\n1.5,-2,0,-3\n' >"$WORK/mti.csv"
refuse "label -3 of example 1 is negative: classification labels are integers 0..C-1 (task=regress reads them as targets); the header names 2 target-like columns at the end (y1, y2): add :targets=2" \
    "integer multi-target CSV" "$TDL" info --data "$WORK/mti.csv"
# no warning for ordinary files and the shipped sets
printf 'x1,x2,label\n1,2,0\n3,4,1\n' >"$WORK/o1.csv"
printf 'y1,y2,label\n1,2,0\n3,4,1\n' >"$WORK/o2.csv"
printf 'x,y\n1,0.5\n2,0.25\n' >"$WORK/o3.csv"
printf '1,2,0.5\n3,4,1.5\n' >"$WORK/o4.csv"
for spec in "$WORK/o1.csv" "$WORK/o2.csv" "$WORK/o3.csv" "$WORK/o4.csv" "$WORK/zo.csv" iris wine breast-cancer digits mnist fashion-mnist; do
    run "$TDL" info --data "$spec"
    if [ "$status" -eq 0 ] && [ ! -s "$WORK/err" ]; then ok; else bad "$spec: status $status or a warning: $(cat "$WORK/err")"; fi
done

# ---- tdl info --data SPEC -o FILE.npz -----------------------------------
# eval_loss MODEL SPEC: the loss tdl eval prints (--json, %.17g), one thread
eval_loss() { run "$TDL" eval --model "$1" --data "$2" --threads 1 --json; json_num loss; }
run "$TDL" train --data iris:normalize=standard --arch 4-6-3 --epochs 3 --quiet -o "$WORK/iris.safetensors"
run "$TDL" train --data teacher:n=60,d=4 --arch 4-6-1 --loss mse --epochs 3 --quiet -o "$WORK/teach.safetensors"
i=0
for case in "iris.safetensors|iris:n=40,split=train,normalize=standard" \
            "iris.safetensors|iris:binary=1,random-labels=0.5,n=7,seed=2,normalize=unit" \
            "iris.safetensors|iris:n=2,seed=1" \
            "teach.safetensors|teacher:n=60,d=4,split=test" \
            "mt.safetensors|$WORK/mt.csv:targets=2,normalize=standard" \
            "npm.safetensors|$FIX/data/pm1.npz:n=10"; do
    i=$((i + 1))
    model=${case%%|*}; spec=${case#*|}
    run "$TDL" info --data "$spec" -o "$WORK/d$i.npz"
    expect_status 0 "info -o ($spec)"
    expect_out "written      $WORK/d$i.npz (X float64" "info -o says what it wrote ($spec)"
    # the description of the written file equals that of the spec, line for line
    run "$TDL" info --data "$spec" --json; sed 's/"spec":"[^"]*","description":"[^"]*",//; s/,"labels":"[^"]*"//' "$WORK/out" >"$WORK/a.json"
    run "$TDL" info --data "$WORK/d$i.npz" --json; sed 's/"spec":"[^"]*","description":"[^"]*",//' "$WORK/out" >"$WORK/b.json"
    if cmp -s "$WORK/a.json" "$WORK/b.json"; then ok; else bad "info of $spec and of its file differ: $(cat "$WORK/a.json") vs $(cat "$WORK/b.json")"; fi
    # a model's loss on the file equals its loss on the spec, bit for bit
    a=$(eval_loss "$WORK/$model" "$spec"); b=$(eval_loss "$WORK/$model" "$WORK/d$i.npz")
    if [ -n "$a" ] && [ "$a" = "$b" ]; then ok; else bad "eval on $spec ($a) != on its file ($b)"; fi
done
# a class missing from a 2-example subset is still counted: 3 outputs fit
run "$TDL" info --data "$WORK/d3.npz" --json
expect_json classes 3 "the written file keeps the class count"
# refusals: one line, no file
OUT="$WORK/nodir/x.npz" refuse "$WORK/nodir/x.npz: cannot create output file" "unwritable -o" "$TDL" info --data iris -o "$WORK/nodir/x.npz"
run "$TDL" info --data iris -o "$WORK/x.csv"
expect_status 2 "-o must be .npz"; expect_err "give a name ending in .npz" "-o .csv refused"
run "$TDL" info --model "$WORK/iris.safetensors" -o "$WORK/x.npz"
expect_status 2 "-o with --model"; expect_err "-o FILE.npz writes a data set: give --data SPEC" "-o with --model refused"
cp "$WORK/d1.npz" "$WORK/same.npz"
run "$TDL" info --data "$WORK/same.npz:n=5" -o "$WORK/same.npz"
expect_status 1 "-o over the input"; expect_err "is the same file as $WORK/same.npz in --data" "-o over the input refused"
if cmp -s "$WORK/d1.npz" "$WORK/same.npz"; then ok; else bad "the input was overwritten"; fi

# ---- tdl train --epochs 0 -o FILE ---------------------------------------
run "$TDL" train --data iris --arch 4-8-3 --seed 5 --epochs 0 -o "$WORK/init.safetensors" --threads 1
expect_status 0 "--epochs 0"
expect_out "training     no training: --epochs 0 saves the initialization (0 steps)" "--epochs 0 says no training ran"
expect_out "(of the initialization)" "--epochs 0: the loss is the initialization's"
run "$TDL" train --data iris --arch 4-8-3 --seed 5 --epochs 0 -o "$WORK/init.safetensors" --threads 1 --json
expect_json epochs 0 "--epochs 0: epochs 0"; expect_json steps 0 "--epochs 0: steps 0"
expect_json training '"no training: --epochs 0 saves the initialization"' "--epochs 0 in --json"
l0=$(json_num initial_loss); lt=$(json_num train_loss)
if [ -n "$l0" ] && [ "$l0" = "$lt" ]; then ok; else bad "--epochs 0: initial_loss $l0 != train_loss $lt"; fi
# tdl eval of the file: the same bits (the same evaluation, one thread)
le=$(eval_loss "$WORK/init.safetensors" iris)
if [ -n "$le" ] && [ "$le" = "$l0" ]; then ok; else bad "eval of the saved init ($le) != the loss printed ($l0)"; fi
# and the initial loss of a real run from the same seed
run "$TDL" train --data iris --arch 4-8-3 --seed 5 --epochs 1 -o "$WORK/one.safetensors" --threads 1 --json
l1=$(json_num initial_loss)
if [ -n "$l1" ] && [ "$l1" = "$l0" ]; then ok; else bad "a 1-epoch run's initial loss ($l1) != the saved init's ($l0)"; fi
# the same parameters as the init kept in the 1-epoch file, and the metadata of a trained file
run "$TDL" info --model "$WORK/init.safetensors"
expect_out "epochs           0" "metadata: epochs 0"
expect_out "sigma_w" "metadata: sigma_w"; expect_out "activation       relu" "metadata: activation"
expect_out "init kept    yes" "the init is kept"
for key in seed init train_loss data loss; do
    if grep -qE "^  $key +" "$WORK/out"; then ok; else bad "metadata lacks $key: $(cat "$WORK/out")"; fi
done
run "$TDL" train --data iris --arch 4-8-3 --epochs 0 --steps 5 -o "$WORK/x.safetensors"
expect_status 2 "--epochs 0 with --steps"; expect_err "--epochs 0 (save the initialization) and --steps 5 contradict each other" "--epochs 0 --steps refused"
run "$TDL" train --data iris --arch 4-8-3 --epochs 0 --log "$WORK/init.csv" -o "$WORK/init2.safetensors" --quiet
expect_status 0 "--epochs 0 with --log"
if [ "$(wc -l <"$WORK/init.csv")" -eq 2 ] && sed -n 2p "$WORK/init.csv" | grep -q '^0,0,'; then ok; else bad "--epochs 0 log: one row at epoch 0: $(cat "$WORK/init.csv")"; fi

finish
