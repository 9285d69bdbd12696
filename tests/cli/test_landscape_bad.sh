#!/bin/bash
# CLI tests of `tdl landscape` on non-finite or malformed inputs: a NaN weight
# in --model, --to or --via; NaN / inf in --directions; a tainted --resume file
# (NaN / inf in its coordinates or directions, a cell array of the wrong shape,
# a mask that is not 0/1, missing directions).  Each is refused with one line
# naming the file and the array, exit status 1, nothing on stdout and no output
# file.  Also: a 1D grid is memory-checked as 1D (100001 points are 8 MB, not
# the 80 GB of a 100001 x 100001 grid).
# usage: test_landscape_bad.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
. "$(dirname "$0")/lib.sh"
OUT=$WORK/out.npz


# npz_edit IN OUT NAME OP: a copy of the npz IN with array NAME changed:
#   set:I:V     value I (flat, C order) set to V (nan, inf, -inf, 0.5, ...)
#   shape:A,B   the same values under another shape
#   drop        the array removed
# (npy format 1.0, little-endian float64, as tdl writes it; python3's
# standard library only)
npz_edit() {
    python3 - "$@" <<'PY'
import ast, struct, sys, zipfile
src, dst, name, op = sys.argv[1:5]
zin = zipfile.ZipFile(src)
zout = zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED)
for item in zin.namelist():
    raw = zin.read(item)
    if item != name + ".npy":
        zout.writestr(item, raw)
        continue
    if op == "drop":
        continue
    assert raw[:6] == b"\x93NUMPY"
    major = raw[6]
    hl = struct.unpack("<H" if major == 1 else "<I", raw[8:10] if major == 1 else raw[8:12])[0]
    start = (10 if major == 1 else 12) + hl
    hdr = ast.literal_eval(raw[(10 if major == 1 else 12):start].decode("latin1"))
    assert hdr["descr"] == "<f8" and not hdr["fortran_order"], hdr
    vals = list(struct.unpack("<%dd" % (len(raw[start:]) // 8), raw[start:]))
    kind, _, arg = op.partition(":")
    if kind == "set":
        i, v = arg.split(":")
        vals[int(i)] = float(v)
    elif kind == "shape":
        hdr["shape"] = tuple(int(a) for a in arg.split(","))
    text = "{'descr': '<f8', 'fortran_order': False, 'shape': %r, }" % (tuple(hdr["shape"]),)
    pad = 64 - (10 + len(text) + 1) % 64
    text = (text + " " * pad + "\n").encode("latin1")
    zout.writestr(item, b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + struct.pack("<%dd" % len(vals), *vals))
zout.close()
PY
}

M=$WORK/m.safetensors
M2=$WORK/m2.safetensors
"$TDL" train --data iris --arch 4-8-3 --epochs 2 --quiet -o "$M" >/dev/null
"$TDL" train --data iris --arch 4-8-3 --epochs 3 --seed 5 --quiet -o "$M2" >/dev/null
[ -s "$M" ] && [ -s "$M2" ] && ok || bad "could not train the test models"
# a copy with a NaN as its first weight, one with +-1e308 (finite, but the
# difference of the two models overflows)
hl=$(od -An -t u8 -N 8 "$M" | tr -d ' ')
cp "$M" "$WORK/nan.safetensors"
printf '\x00\x00\x00\x00\x00\x00\xf8\x7f' | dd of="$WORK/nan.safetensors" bs=1 seek=$((8 + hl)) conv=notrunc 2>/dev/null
cp "$M" "$WORK/big.safetensors"
cp "$M" "$WORK/negbig.safetensors"
printf '\x3c\x19\x9e\xc2\xa1\xc9\xe1\x7f' | dd of="$WORK/big.safetensors" bs=1 seek=$((8 + hl)) conv=notrunc 2>/dev/null
printf '\x3c\x19\x9e\xc2\xa1\xc9\xe1\xff' | dd of="$WORK/negbig.safetensors" bs=1 seek=$((8 + hl)) conv=notrunc 2>/dev/null
L="$TDL landscape --data iris --quiet --grid 5"

# ---- models -----------------------------------------------------------------------
refuse "nan.safetensors: tensor '0.weight' entry [0,0] is NaN" "NaN weight in --model" $L --model "$WORK/nan.safetensors" -o "$OUT"
refuse "nan.safetensors: tensor '0.weight' entry [0,0] is NaN" "NaN weight in --to" $L --model "$M" --to "$WORK/nan.safetensors" -o "$OUT"
refuse "nan.safetensors: tensor '0.weight' entry [0,0] is NaN" "NaN weight in --via" $L --model "$M" --to "$M2" --via "$WORK/nan.safetensors" -o "$OUT"
refuse "parameter 0 is infinite" "--to - --model overflows" $L --model "$WORK/negbig.safetensors" --to "$WORK/big.safetensors" --via "$M2" -o "$OUT"

# ---- --directions -------------------------------------------------------------------
run $L --model "$M" -o "$WORK/d1.npz"
expect_status 0 "a 1D grid with its direction"
run $L --model "$M" --plane random -o "$WORK/d2.npz"
expect_status 0 "a 2D grid with its directions"
npz_edit "$WORK/d1.npz" "$WORK/dnan.npz" direction_x set:3:nan
refuse "dnan.npz: 'direction_x' value 3 is NaN" "NaN in --directions (1D)" $L --model "$M" --directions "$WORK/dnan.npz" -o "$OUT"
npz_edit "$WORK/d2.npz" "$WORK/dinf.npz" direction_y set:0:-inf
refuse "dinf.npz: 'direction_y' value 0 is infinite" "inf in --directions (2D)" $L --model "$M" --plane random --directions "$WORK/dinf.npz" -o "$OUT"
# the untouched files are accepted
run $L --model "$M" --plane random --directions "$WORK/d2.npz" -o "$OUT"
expect_status 0 "--directions from a clean file"
rm -f "$OUT"

# ---- --resume ---------------------------------------------------------------------
npz_edit "$WORK/d1.npz" "$WORK/r_dnan.npz" direction_x set:7:nan
refuse "r_dnan.npz: 'direction_x' value 7 is NaN" "NaN direction in --resume" $L --model "$M" --resume "$WORK/r_dnan.npz" -o "$OUT"
npz_edit "$WORK/d2.npz" "$WORK/r_dyinf.npz" direction_y set:1:inf
refuse "r_dyinf.npz: 'direction_y' value 1 is infinite" "inf direction_y in --resume" $L --model "$M" --plane random --resume "$WORK/r_dyinf.npz" -o "$OUT"
npz_edit "$WORK/d1.npz" "$WORK/r_xinf.npz" x set:2:inf
refuse "r_xinf.npz: 'x' value 2 is infinite" "inf in the stored x of --resume" $L --model "$M" --resume "$WORK/r_xinf.npz" -o "$OUT"
npz_edit "$WORK/d2.npz" "$WORK/r_ynan.npz" y set:4:nan
refuse "r_ynan.npz: 'y' value 4 is NaN" "NaN in the stored y of --resume" $L --model "$M" --plane random --resume "$WORK/r_ynan.npz" -o "$OUT"
# a 1D grid of 25 points whose cell arrays are stored as 5 x 5
run "$TDL" landscape --data iris --quiet --grid 25 --model "$M" -o "$WORK/g25.npz"
expect_status 0 "a 1D grid of 25 points"
npz_edit "$WORK/g25.npz" "$WORK/r_shape.npz" loss shape:5,5
refuse "r_shape.npz: 'loss' has shape (5, 5), expected (25,)" "cell array of the wrong shape in --resume" $TDL landscape --data iris --quiet --grid 25 --model "$M" --resume "$WORK/r_shape.npz" -o "$OUT"
npz_edit "$WORK/d2.npz" "$WORK/r_shape2.npz" accuracy shape:25
refuse "r_shape2.npz: 'accuracy' has shape (25,), expected (5, 5)" "flat cell array for a 2D --resume" $L --model "$M" --plane random --resume "$WORK/r_shape2.npz" -o "$OUT"
npz_edit "$WORK/d1.npz" "$WORK/r_mask.npz" filled set:1:nan
refuse "r_mask.npz: 'filled' value 1 is nan, expected 0 or 1" "NaN in the filled mask of --resume" $L --model "$M" --resume "$WORK/r_mask.npz" -o "$OUT"
# a Hessian plane resumed from a file without its directions (they are not
# recomputed on --resume: they would be used unset)
run $L --model "$M" --plane hessian -o "$WORK/h.npz"
expect_status 0 "a Hessian plane"
npz_edit "$WORK/h.npz" "$WORK/r_nodir.npz" direction_y drop
refuse "r_nodir.npz: no array 'direction_y'" "Hessian --resume without its directions" $L --model "$M" --plane hessian --resume "$WORK/r_nodir.npz" -o "$OUT"
# the untouched files resume
run $L --model "$M" --plane hessian --resume "$WORK/h.npz" -o "$OUT"
expect_status 0 "--resume from a clean Hessian plane"
run $L --model "$M" --resume "$WORK/d1.npz" -o "$OUT"
expect_status 0 "--resume from a clean 1D grid"
rm -f "$OUT"

# ---- --from-init without what it needs ---------------------------------------------
# a PyTorch export (no metadata, no init.* tensors): one line naming why and the way out
FT=$2/torch/tanh_f64.safetensors
refuse "--from-init needs the metadata tdl writes" "--from-init on a file without metadata" $TDL landscape --model "$FT" --act tanh --data "$2/torch/data.npz" --from-init --quiet -o "$OUT"
expect_err "use --to INIT.safetensors" "--from-init without metadata: suggests --to"
# metadata without a seed (a tdl fixture written without its init): refused too
refuse "or init.* tensors, and the file has neither" "--from-init without seed metadata" $TDL landscape --model "$2/net/linear_ce.safetensors" --data gauss:n=20,d=5,classes=4 --from-init -o "$OUT"
# usage: --from-init needs --model and is its own slice
run "$TDL" landscape --arch 4-8-3 --data iris --from-init; expect_status 2 "--from-init without --model"
expect_err "--from-init needs --model" "--from-init without --model: message"
run "$TDL" landscape --model "$M" --data iris --from-init --to "$M"; expect_status 2 "--from-init with --to"
expect_err "drop --to" "--from-init with --to: message"
run "$TDL" landscape --model "$M" --data iris --from-init --plane random; expect_status 2 "--from-init with --plane"

# ---- memory of a 1D grid ------------------------------------------------------------
# 100001 points x 10 doubles a point: 8 MB (the old check took 100001^2 doubles,
# 80 GB, and advised the Hessian's --method lanczos)
run "$TDL" landscape --model "$M" --data iris --grid 100001 --max-cells 2 --quiet --json
expect_status 0 "a 1D grid of 100001 points (2 cells evaluated)"
grep -q "lanczos" "$WORK/err" && bad "Hessian advice for a landscape grid: $(head -c 300 "$WORK/err")" || ok

finish
