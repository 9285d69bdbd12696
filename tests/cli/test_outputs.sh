#!/bin/bash
# CLI tests of output files that would overwrite an input or each other, of the
# fixed extensions of some outputs, and of usage errors that name the option.
#  - An output that is the same file as an input or as another output (the
#    same path, ./path, a link, a data spec's file, the FILE.dat / FILE.gp
#    beside a --plot figure) is refused before any work: exit 1, one line
#    "tdl: error: OUT is the same file as IN", nothing on stdout, the input
#    untouched, no output.  The documented in-place case stays allowed
#    (tdl landscape --resume G -o G).
#  - --vectors and ntk -o are .npy files: another extension is a usage error.
#  - A malformed or out-of-range option value: exit 2, "bad value 'abc' for
#    --lr", the option's long name however it was typed; a list with an empty
#    item or a trailing comma is one, and so is an option given twice with
#    different values.
# usage: test_outputs.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
. "$(dirname "$0")/lib.sh"
W=$WORK

# ---- inputs: a model, a CSV, an npz and an npy pair of iris-like data ----
awk 'BEGIN { srand(3); for (i = 0; i < 60; i++) { c = i % 3; printf "%.3f,%.3f,%.3f,%.3f,%d\n", c + rand(), rand(), c - rand(), rand(), c } }' >"$W/d.csv"
python3 -c "
import struct, sys
def npy(path, descr, shape, fmt, values):
    h = \"{'descr': '%s', 'fortran_order': False, 'shape': %s, }\" % (descr, shape)
    h = h + ' ' * (63 - (10 + len(h)) % 64) + '\n'
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode())
        f.write(struct.pack('<%d%s' % (len(values), fmt), *values))
rows = [l.strip().split(',') for l in open('$W/d.csv')]
npy('$W/X.npy', '<f8', '(%d, 4)' % len(rows), 'd', [float(v) for r in rows for v in r[:4]])
npy('$W/y.npy', '<i8', '(%d,)' % len(rows), 'q', [int(r[4]) for r in rows])
"
run "$TDL" train --data "$W/d.csv" --arch 4-6-3 --epochs 2 --quiet -o "$W/m.safetensors"
expect_status 0 "setup: the model"
run "$TDL" info --data "npy:X=$W/X.npy,y=$W/y.npy"
expect_status 0 "setup: the npy pair loads"
cp "$W/m.safetensors" "$W/m2.safetensors"
# a model under a name of another format: files are recognized by content
cp "$W/m.safetensors" "$W/mv.npy"
cp "$W/m.safetensors" "$W/mz.npz"
cp "$W/m.safetensors" "$W/w.dat"
mkdir -p "$W/dir"
cp "$W/d.csv" "$W/dir/sweep.csv"
ln -s "$W/m.safetensors" "$W/link.safetensors"
for f in d.csv X.npy y.npy m.safetensors mv.npy mz.npz w.dat dir/sweep.csv; do cp "$W/$f" "$W/$f.orig"; done

# same_file FRAGMENT INPUT DESCRIPTION CMD...: exit 1 before any work, one
# line naming both, nothing on stdout, INPUT (relative to $W) unchanged
same_file() {
    local frag=$1 input=$2 what=$3
    shift 3
    run "$@"
    expect_status 1 "$what"
    expect_err "is the same file as" "$what"
    expect_err "$frag" "$what: names the files"
    expect_empty_out "$what"
    if [ -z "$input" ] || cmp -s "$W/$input" "$W/$input.orig"; then ok; else bad "$what: $input was changed"; fi
}

# ---- train ----
same_file "--log $W/same is the same file as -o $W/same" "" "train -o F --log F" \
    "$TDL" train --data "$W/d.csv" --arch 4-6-3 --epochs 1 --quiet -o "$W/same" --log "$W/same"
expect_no_file "$W/same" "train -o F --log F: nothing written"
same_file "--plot $W/same.png is the same file as -o $W/same.png" "" "train -o F --plot F" \
    "$TDL" train --data "$W/d.csv" --arch 4-6-3 --epochs 1 --quiet -o "$W/same.png" --plot "$W/same.png"
expect_no_file "$W/same.png" "train -o F --plot F: nothing written"
same_file "-o $W/d.csv is the same file as --data $W/d.csv" d.csv "train -o the training data" \
    "$TDL" train --data "$W/d.csv" --arch 4-6-3 --epochs 1 --quiet -o "$W/d.csv"
same_file "-o $W/./m.safetensors is the same file as --model $W/m.safetensors" m.safetensors "train -o the --model (./ spelling)" \
    "$TDL" train --data "$W/d.csv" --model "$W/m.safetensors" --epochs 1 --quiet -o "$W/./m.safetensors"
same_file "is the same file as --model $W/m.safetensors" m.safetensors "train -o a symbolic link to --model" \
    "$TDL" train --data "$W/d.csv" --model "$W/m.safetensors" --epochs 1 --quiet -o "$W/link.safetensors"
same_file "--log $W/y.npy is the same file as $W/y.npy in --data npy:" y.npy "train --log an npy file of --data" \
    "$TDL" train --data "npy:X=$W/X.npy,y=$W/y.npy" --arch 4-6-3 --epochs 1 --quiet -o "$W/t1.safetensors" --log "$W/y.npy"
same_file "--log-params $W/d.csv is the same file as --test $W/d.csv" d.csv "train --log-params the --test data" \
    "$TDL" train --data "npy:X=$W/X.npy,y=$W/y.npy" --test "$W/d.csv" --arch 4-6-3 --epochs 1 --quiet -o "$W/t2.safetensors" --log-params "$W/d.csv"
same_file "$W/curve.dat (written with --plot $W/curve.png) is the same file as --log $W/curve.dat" "" "train --log F.dat --plot F.png" \
    "$TDL" train --data "$W/d.csv" --arch 4-6-3 --epochs 1 --quiet -o "$W/t3.safetensors" --log "$W/curve.dat" --plot "$W/curve.png"
expect_no_file "$W/t3.safetensors" "train: no model after a refused output"
# -o c writes c.last-good.safetensors if the run diverges
cp "$W/m.safetensors" "$W/c.last-good.safetensors"
cp "$W/m.safetensors" "$W/c.last-good.safetensors.orig"
same_file "the divergence checkpoint $W/c.last-good.safetensors is the same file as --model $W/c.last-good.safetensors" c.last-good.safetensors \
    "train: the divergence checkpoint is the --model" \
    "$TDL" train --data "$W/d.csv" --model "$W/c.last-good.safetensors" --epochs 1 --quiet -o "$W/c"
run "$TDL" train --data "$W/d.csv" --arch 4-6-3 --epochs 1 --quiet -o "$W/ok.safetensors" --log "$W/ok.csv" --plot "$W/ok.png"
expect_status 0 "train: distinct outputs still work"
run "$TDL" train --data "$W/d.csv" --arch 4-6-3 --epochs 1 --quiet -o /dev/null --log /dev/null --log-params /dev/null
expect_status 0 "train: outputs may all go to /dev/null"

# ---- hessian ----
run "$TDL" hessian --data "$W/d.csv" --model "$W/m.safetensors" --vectors "$W/m.safetensors"
expect_status 2 "hessian --vectors m.safetensors: not a .npy"
expect_err "--vectors $W/m.safetensors: the eigenvectors go to a .npy file" "hessian --vectors extension message"
if cmp -s "$W/m.safetensors" "$W/m.safetensors.orig"; then ok; else bad "hessian --vectors m.safetensors changed the model"; fi
run "$TDL" hessian --data "$W/d.csv" --model "$W/m.safetensors" --vectors "$W/v.txt"
expect_status 2 "hessian --vectors v.txt"
expect_no_file "$W/v.txt" "hessian --vectors v.txt: no file"
same_file "--vectors $W/mv.npy is the same file as --model $W/mv.npy" mv.npy "hessian --vectors the model" \
    "$TDL" hessian --data "$W/d.csv" --model "$W/mv.npy" --vectors "$W/mv.npy"
same_file "--vectors $W/ev.npy is the same file as -o $W/ev.npy" "" "hessian -o F --vectors F" \
    "$TDL" hessian --data "$W/d.csv" --model "$W/m.safetensors" -o "$W/ev.npy" --vectors "$W/ev.npy"
expect_no_file "$W/ev.npy" "hessian -o F --vectors F: nothing written"
same_file "-o $W/d.csv is the same file as --data $W/d.csv" d.csv "hessian -o the data" \
    "$TDL" hessian --data "$W/d.csv" --model "$W/m.safetensors" -o "$W/d.csv"
same_file "-o $W/X.npy is the same file as $W/X.npy in --data" X.npy "hessian -o an npy file of --data" \
    "$TDL" hessian --data "npy:X=$W/X.npy,y=$W/y.npy" --model "$W/m.safetensors" -o "$W/X.npy"

# ---- ntk ----
same_file "-o $W/X.npy is the same file as $W/X.npy in --data npy:X=$W/X.npy,y=$W/y.npy" X.npy "ntk -o its npy input" \
    "$TDL" ntk --data "npy:X=$W/X.npy,y=$W/y.npy" --model "$W/m.safetensors" -o "$W/X.npy"
same_file "-o $W/y.npy is the same file as $W/y.npy in --test" y.npy "ntk -o its --test npy" \
    "$TDL" ntk --data "$W/d.csv" --test "npy:X=$W/X.npy,y=$W/y.npy" --model "$W/m.safetensors" -o "$W/y.npy"
same_file "-o $W/mv.npy is the same file as --model $W/mv.npy" mv.npy "ntk -o the model" \
    "$TDL" ntk --data "$W/d.csv" --model "$W/mv.npy" -o "$W/mv.npy"
run "$TDL" ntk --data "$W/d.csv" --model "$W/m.safetensors" -o "$W/K.txt"
expect_status 2 "ntk -o K.txt: not a .npy"
expect_err "-o $W/K.txt: the Gram matrix goes to a .npy file" "ntk -o extension message"
expect_no_file "$W/K.txt" "ntk -o K.txt: no file"
run "$TDL" ntk --data "$W/d.csv" --model "$W/m.safetensors" -o "$W/K.npy"
expect_status 0 "ntk -o K.npy still works"

# ---- landscape ----
same_file "-o $W/mz.npz is the same file as --model $W/mz.npz" mz.npz "landscape -o the model" \
    "$TDL" landscape --data "$W/d.csv" --model "$W/mz.npz" --grid 3 -o "$W/mz.npz"
run "$TDL" landscape --data "$W/d.csv" --model "$W/m.safetensors" --grid 3 --quiet -o "$W/g.npz"
expect_status 0 "landscape: a grid"
cp "$W/g.npz" "$W/g.npz.orig"
same_file "-o $W/g.npz is the same file as --directions $W/g.npz" g.npz "landscape --directions G -o G" \
    "$TDL" landscape --data "$W/d.csv" --model "$W/m.safetensors" --grid 3 --directions "$W/g.npz" -o "$W/g.npz"
ln -f "$W/m2.safetensors" "$W/m2.npz"
cp "$W/m2.safetensors" "$W/m2.safetensors.orig"
same_file "-o $W/m2.npz is the same file as --to $W/m2.safetensors" m2.safetensors "landscape -o a hard link to --to" \
    "$TDL" landscape --data "$W/d.csv" --model "$W/m.safetensors" --to "$W/m2.safetensors" --grid 3 -o "$W/m2.npz"
run "$TDL" landscape --data "$W/d.csv" --model "$W/m.safetensors" --grid 3 --quiet --resume "$W/g.npz" -o "$W/g.npz"
expect_status 0 "landscape --resume G -o G (documented in place) still works"

# ---- bounds and infoplane: the figure's data file FILE.dat is an output ----
same_file "$W/w.dat (written with --plot $W/w.png) is the same file as --model $W/w.dat" w.dat "bounds --plot beside the model" \
    "$TDL" bounds --data "$W/d.csv" --model "$W/w.dat" --quick --no-flatness --plot "$W/w.png"
expect_no_file "$W/w.png" "bounds: no figure"
same_file "$W/w.dat (written with --plot $W/w.png) is the same file as --model $W/w.dat" w.dat "infoplane --plot beside the model" \
    "$TDL" infoplane --data "$W/d.csv" --model "$W/w.dat" --epochs 2 --plot "$W/w.png"

# ---- sweep: -o DIR writes DIR/sweep.csv and DIR/sweep.json ----
same_file "--out $W/dir/sweep.csv is the same file as --data $W/dir/sweep.csv" dir/sweep.csv "sweep -o the folder of its data" \
    "$TDL" sweep width --data "$W/dir/sweep.csv" --arch 4-W-3 --values 2 --epochs 1 --no-measures --quiet -o "$W/dir"

# ---- usage errors name the option (long form), exit 2 ----
# bad_value CMD OPTION VALUE ARGS...: "bad value 'VALUE' for OPTION", given as
# "OPTION VALUE" and as "OPTION=VALUE"
bad_value() {
    local cmd=$1 opt=$2 val=$3 form
    shift 3
    for form in sep eq; do
        if [ $form = sep ]; then run "$TDL" "$cmd" "$@" "$opt" "$val"; else run "$TDL" "$cmd" "$@" "$opt=$val"; fi
        expect_status 2 "$cmd $opt $val ($form)"
        expect_err "tdl $cmd: bad value '$val' for $opt (see 'tdl help $cmd')" "$cmd $opt $val ($form): names the option"
        expect_empty_out "$cmd $opt $val ($form)"
    done
}
bad_value train --lr abc --data "$W/d.csv" --arch 4-6-3
bad_value train --epochs -1 --data "$W/d.csv" --arch 4-6-3
bad_value train --threads abc --data "$W/d.csv" --arch 4-6-3
bad_value hessian --k abc --data "$W/d.csv" --model "$W/m.safetensors"
bad_value hessian --tol -1 --data "$W/d.csv" --model "$W/m.safetensors"
bad_value ntk --ridge abc --data "$W/d.csv" --model "$W/m.safetensors"
bad_value ntk --lr abc --data "$W/d.csv" --model "$W/m.safetensors"
bad_value landscape --grid abc --data "$W/d.csv" --model "$W/m.safetensors"
bad_value landscape --range abc --data "$W/d.csv" --model "$W/m.safetensors"
bad_value sweep --lr abc width --data "$W/d.csv" --arch 4-W-3 --values 2
bad_value sweep --repeats 0 width --data "$W/d.csv" --arch 4-W-3 --values 2
bad_value signal --sigma-w -1
bad_value infoplane --bins abc
# an abbreviated option is named in full
run "$TDL" hessian --data "$W/d.csv" --model "$W/m.safetensors" --ma abc
expect_status 2 "hessian --ma abc (abbreviation of --max-steps)"
expect_err "bad value 'abc' for --max-steps" "an abbreviation is named in full"

# ---- bad option values that the library used to refuse with exit 1 ----
run "$TDL" train --data "$W/d.csv" --arch 4-6-3 --opt adam --beta1 2
expect_status 2 "train --beta1 2"
expect_err "bad value '2' for --beta1" "train --beta1 2 message"
run "$TDL" train --data "$W/d.csv" --arch 4-6-3 --opt adam --beta2 1
expect_status 2 "train --beta2 1"
run "$TDL" train --data "$W/d.csv" --arch 4-6-3 --opt nesterov --momentum 0 -o "$W/n.safetensors"
expect_status 2 "train --opt nesterov --momentum 0"
expect_err "--opt nesterov needs --momentum > 0" "nesterov message"
expect_no_file "$W/n.safetensors" "nesterov: no model"
run "$TDL" train --data "$W/d.csv" --arch 4-6-3 --target-acc 1.5
expect_status 2 "train --target-acc 1.5"
run "$TDL" infoplane --arch 12-2 --epochs 2 --snapshots 2
expect_status 2 "infoplane --arch without a hidden layer"
expect_err "--arch 12-2: the information plane needs at least one hidden layer" "infoplane --arch message"
run "$TDL" bounds --data "$W/d.csv" --model "$W/m.safetensors" --pac-bayes-opt --pb-prior-std 1
expect_status 2 "bounds --pb-prior-std 1"
expect_err "--pb-prior-std 1: the prior variance must be below" "bounds --pb-prior-std message"

# ---- an option that takes a value, given twice with different values ----
# twice CMD OPTION ARGS...: usage error naming the option, nothing written
twice() {
    local cmd=$1 opt=$2
    shift 2
    run "$TDL" "$cmd" "$@"
    expect_status 2 "$cmd: $opt twice"
    expect_err "tdl $cmd: $opt given twice" "$cmd: $opt twice: names the option"
    expect_empty_out "$cmd: $opt twice"
}
twice train --lr --data "$W/d.csv" --arch 4-6-3 --lr 0.1 --epochs 1 --lr=0.2 -o "$W/r1.safetensors"
expect_no_file "$W/r1.safetensors" "train --lr twice: no model"
twice train --data --data "$W/d.csv" --data iris --arch 4-6-3 --epochs 1 -o "$W/r1.safetensors"
twice train --out --data "$W/d.csv" --arch 4-6-3 --epochs 1 -o "$W/r1.safetensors" --out "$W/r2.safetensors"
twice hessian --out --data "$W/d.csv" --model "$W/m.safetensors" -o "$W/e1.npy" --out "$W/e2.npy"
twice ntk --model --data "$W/d.csv" --model "$W/m.safetensors" --model "$W/m2.safetensors"
twice landscape --grid --data "$W/d.csv" --model "$W/m.safetensors" --grid 3 --grid 5
twice bounds --delta --data "$W/d.csv" --model "$W/m.safetensors" --delta 0.05 --delta 0.1
twice sweep --values width --data "$W/d.csv" --arch 4-W-3 --values 2 --values 4
twice signal --sigma-w --sigma-w 1 --sigma-w 2
twice infoplane --epochs --epochs 1 --epochs 2
twice eval --data --model "$W/m.safetensors" --data "$W/d.csv" --data iris
twice info --model --model "$W/m.safetensors" --model "$W/m2.safetensors"
# the same value twice, and flags, may repeat
run "$TDL" train --data "$W/d.csv" --arch 4-6-3 --epochs 1 --epochs=1 --quiet --quiet -o "$W/r3.safetensors"
expect_status 0 "train --epochs 1 --epochs=1 --quiet --quiet"

# ---- lists: no empty item, no trailing comma ----
run "$TDL" train --data "$W/d.csv" --arch 4-6-3 --freeze 0, --epochs 1 -o "$W/r4.safetensors"
expect_status 2 "train --freeze 0,"
expect_err "--freeze 0,: expected layer indices" "train --freeze 0, message"
expect_no_file "$W/r4.safetensors" "train --freeze 0,: no model"
run "$TDL" train --data "$W/d.csv" --arch 4-6-3 --freeze 0,,1 --epochs 1 -o "$W/r4.safetensors"
expect_status 2 "train --freeze 0,,1"
run "$TDL" ntk --data "$W/d.csv" --model "$W/m.safetensors" --layers 0,
expect_status 2 "ntk --layers 0,"
expect_err "bad value '0,' for --layers" "ntk --layers 0, message"
run "$TDL" ntk --data "$W/d.csv" --model "$W/m.safetensors" --layers ,1
expect_status 2 "ntk --layers ,1"
run "$TDL" ntk --data "$W/d.csv" --model "$W/m.safetensors" --layers 0,1
expect_status 0 "ntk --layers 0,1 still works"
run "$TDL" train --data "$W/d.csv" --arch 4-6- --epochs 1
expect_status 2 "train --arch 4-6-"
run "$TDL" sweep width --data "$W/d.csv" --arch 4-W-3 --values 4,8, --epochs 1
expect_status 2 "sweep --values 4,8,"
# found by fuzz/fuzz_options: a range without its operator read past the string;
# a blank-led negative size wrapped to SIZE_MAX; an empty --range read past the NUL
run "$TDL" sweep width --data "$W/d.csv" --arch 4-W-3 --values 8:4: --epochs 1
expect_status 2 "sweep --values 8:4:"
run "$TDL" hessian --data "$W/d.csv" --model "$W/m.safetensors" --method lanczos --k " -1"
expect_status 2 "hessian --k ' -1'"
expect_err "bad value ' -1' for --k" "names the option"
run "$TDL" landscape --data "$W/d.csv" --model "$W/m.safetensors" --range=
expect_status 2 "landscape --range="

finish
