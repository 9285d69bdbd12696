#!/bin/bash
# Messages about data specs and model/data problems name the file, option or
# tensor at fault (tests/BAD_INPUT.md).  usage: test_messages.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
FIX=$2
. "$(dirname "$0")/lib.sh"


# npy files written without numpy: NAME SHAPE VALUES... (little-endian f8)
python3 - "$WORK" <<'PY'
import struct, sys
def npy(name, shape, vals):
    h = "{'descr': '<f8', 'fortran_order': False, 'shape': %s, }" % (
        '(%d,)' % shape[0] if len(shape) == 1 else str(tuple(shape)))
    h += ' ' * (64 - (10 + len(h) + 1) % 64) + '\n'
    with open(sys.argv[1] + '/' + name, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode()
                + struct.pack('<%dd' % len(vals), *vals))
npy('X.npy', (4, 2), [0, 1, 1, 0, 2, 2, 3, 1])
npy('y.npy', (4,), [0, 1, 0, 1])
npy('ynan.npy', (4,), [0, float('nan'), 0, 1])
npy('yinf.npy', (4,), [0, float('inf'), 0, 1])
npy('yshort.npy', (3,), [0, 1, 0])
npy('yfrac.npy', (4,), [0, 0.5, 0, 1])
npy('yneg.npy', (4,), [0, -1, 0, 1])
npy('y3d.npy', (4, 1, 1), [0, 1, 0, 1])
PY
X=$WORK/X.npy
head -c 90 "$WORK/y.npy" > "$WORK/ytrunc.npy"

# ---- 1. the y file of an npy pair is blamed for its own problems ----
run "$TDL" info --data "npy:X=$X,y=$WORK/y.npy"
expect_status 0 "a good npy pair loads"
for c in "ynan:target of example 1 is NaN" "yinf:target of example 1 is infinite" \
         "yshort:the targets y have 3 entries but the inputs X ($X) have 4 rows" \
         "yneg:label -1 of example 1 is negative" "y3d:targets y must be 1-D or 2-D" \
         "ytrunc:truncated" "missing:cannot open" "yfrac,task=classify:task=classify needs one column of integer labels"; do
    y=${c%%:*} frag=${c#*:}
    file=$WORK/${y%%,*}.npy
    extra=${y#"${y%%,*}"}
    refuse "tdl: error: $file: $frag" "npy pair, bad y ($y): blames the y file" \
        "$TDL" info --data "npy:X=$X,y=$file$extra"
done
refuse "tdl: error: $FIX/formats/npy/bad_unicode.npy: unsupported dtype" "npy pair, y of a string dtype" \
    "$TDL" info --data "npy:X=$X,y=$FIX/formats/npy/bad_unicode.npy"
run "$TDL" train --data "npy:X=$X,y=$WORK/ynan.npy" --arch 2-4-2 --epochs 1 --quiet -o "$WORK/np.safetensors"
expect_status 1 "train on a NaN y"
expect_err "$WORK/ynan.npy: target of example 1 is NaN" "train on a NaN y: blames the y file"

# ---- 2. data specs: no silent truncation, no empty items ----
refuse "data spec 'iris:n=1000': n=1000 exceeds the 150 examples of iris" "iris:n=1000" "$TDL" info --data iris:n=1000
refuse "n=200 exceeds the 178 examples of wine" "wine:n=200" "$TDL" info --data wine:n=200
refuse "n=130 exceeds the 120 examples of iris after split=train" "iris:split=train,n=130" \
    "$TDL" info --data iris:split=train,n=130
refuse "n=5 exceeds the 4 examples of $X" "npy pair, n=5" "$TDL" info --data "npy:X=$X,y=$WORK/y.npy,n=5"
refuse "n=1000 exceeds the 150 examples of iris" "train --data iris:n=1000" \
    "$TDL" train --data iris:n=1000 --arch 4-4-3 --epochs 1 --quiet -o "$WORK/m.safetensors"
expect_no_file "$WORK/m.safetensors" "train --data iris:n=1000: no model"
run "$TDL" info --data iris:n=150
expect_status 0 "iris:n=150 (all of it) is fine"
run "$TDL" info --data digits:split=test,n=200
expect_status 0 "digits:split=test,n=200 is fine"
refuse "data spec 'iris:': nothing after ':'" "iris: (empty modifier list)" "$TDL" info --data iris:
refuse "data spec 'iris:n=50,': a trailing comma" "iris:n=50, (trailing comma)" "$TDL" info --data iris:n=50,
refuse "data spec 'iris:n=50,,split=train': an empty item between commas" "iris:n=50,,split=train" \
    "$TDL" info --data iris:n=50,,split=train
refuse "data spec 'iris:,n=50': an empty item" "iris:,n=50 (leading comma)" "$TDL" info --data iris:,n=50

# ---- 3. a NaN in the weights: the file, then the tensor and the entry ----
# set_entry FILE TENSOR INDEX VALUE: overwrite one F64 entry of a safetensors file
set_entry() {
    python3 - "$@" <<'PY'
import json, struct, sys
path, name, index, value = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
b = bytearray(open(path, 'rb').read())
hl = struct.unpack('<Q', b[:8])[0]
off = 8 + hl + json.loads(b[8:8 + hl])[name]['data_offsets'][0] + 8 * index
b[off:off + 8] = struct.pack('<d', value)
open(path, 'wb').write(b)
PY
}
M=$WORK/m.safetensors
"$TDL" train --data iris --arch 4-8-3 --epochs 2 --quiet -o "$M" >/dev/null
cp "$M" "$WORK/nan.safetensors"; set_entry "$WORK/nan.safetensors" 0.weight 13 nan   # [3,1] of 8 x 4
cp "$M" "$WORK/infb.safetensors"; set_entry "$WORK/infb.safetensors" 2.bias 2 inf
for cmd in "eval --data iris" "hessian --data iris" "train --data iris --epochs 1 -o $WORK/o.safetensors" "bounds --data iris"; do
    refuse "tdl: error: $WORK/nan.safetensors: tensor '0.weight' entry [3,1] is NaN" "NaN weight ($cmd)" \
        "$TDL" $cmd --model "$WORK/nan.safetensors"
done
expect_no_file "$WORK/o.safetensors" "NaN weight (train): no model"
refuse "tdl: error: $WORK/infb.safetensors: tensor '2.bias' entry [2] is infinite" "inf bias (eval)" \
    "$TDL" eval --data iris --model "$WORK/infb.safetensors"

# ---- 4. a non-finite loss says what overflowed, on which data, and why ----
cp "$M" "$WORK/big.safetensors"      # output weights of 1e200: finite outputs, an infinite mse
for i in 0 1 2 3 4 5 6 7; do set_entry "$WORK/big.safetensors" 2.weight $i 1e200; done
refuse "tdl: error: iris: the loss of example 0 is infinite: the outputs overflow the loss (largest |output| " \
    "infinite mse (eval)" "$TDL" eval --data iris --loss mse --model "$WORK/big.safetensors"
expect_err "largest |parameter| 1e+200 in the model" "infinite mse (eval): the model's largest parameter"
refuse "tdl: error: the initial model: iris: the loss of example 0 is infinite: the outputs overflow the loss" \
    "infinite mse (train)" "$TDL" train --data iris --loss mse --epochs 1 -o "$WORK/o.safetensors" --model "$WORK/big.safetensors"
expect_no_file "$WORK/o.safetensors" "infinite mse (train): no model"
cp "$M" "$WORK/huge.safetensors"     # output weights of +-1e308: the outputs themselves overflow
for i in 0 1 2 3 4 5 6 7; do set_entry "$WORK/huge.safetensors" 2.weight $i 1e308; set_entry "$WORK/huge.safetensors" 2.weight $((16 + i)) -1e308; done
refuse "is NaN: the outputs are infinite: the forward pass overflows (largest |input| " \
    "overflowing outputs (eval)" "$TDL" eval --data iris --model "$WORK/huge.safetensors"
expect_err "tdl: error: iris: the loss of example " "overflowing outputs (eval): names the data"
expect_err "largest |parameter| 1e+308 in the model" "overflowing outputs (eval): the model's largest parameter"

# ---- 5. --test data that do not fit the model: the message says it is the test set ----
for c in "train --epochs 1 -o $WORK/o.safetensors" "bounds" "landscape -o $WORK/l.npz"; do
    refuse "tdl: error: --test wine: the model takes 4 inputs but the data has 13 features" "--test of another width ($c)" \
        "$TDL" ${c%% *} --model "$M" --data iris --test wine ${c#"${c%% *}"}
    refuse "tdl: error: --test gauss:n=30,d=4,classes=5: the model has 3 outputs but the data has 5 classes" \
        "--test with more classes ($c)" "$TDL" ${c%% *} --model "$M" --data iris --test gauss:n=30,d=4,classes=5 ${c#"${c%% *}"}
done
expect_no_file "$WORK/o.safetensors" "--test misfit (train): no model"
refuse "tdl: error: --test wine: the model takes 4 inputs but the data has 13 features" "--test of another width (sweep)" \
    "$TDL" sweep width --data iris --test wine --arch 4-W-3 --values 4,8 --epochs 1

finish
