#!/bin/bash
# Bad input, row by row (tests/BAD_INPUT.md): every class of malformed or
# impossible input, for every command that reads it, gives exit status 1, one
# line "tdl: error: ..." naming the problem, nothing on stdout, and no output
# file (nor a temporary).   usage: test_bad_input.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
FIX=$2
. "$(dirname "$0")/lib.sh"
F=$FIX/formats
OUT=$WORK/out.safetensors


# A valid model for the data-side rows, and a copy with a NaN weight
"$TDL" train --data iris --arch 4-8-3 --epochs 2 --quiet -o "$WORK/iris.safetensors" >/dev/null
cp "$WORK/iris.safetensors" "$WORK/nan.safetensors"
hl=$(od -An -t u8 -N 8 "$WORK/nan.safetensors" | tr -d ' ')
printf '\x00\x00\x00\x00\x00\x00\xf8\x7f' | dd of="$WORK/nan.safetensors" bs=1 seek=$((8 + hl)) conv=notrunc 2>/dev/null
printf '1,2,0\n3,4\n' > "$WORK/ragged.csv"

# ---- malformed and truncated files, each format, each reader -----------------
head -c 100 "$F/safetensors/mlp.safetensors" > "$WORK/trunc.safetensors"
head -c 60 "$F/npz/savez.npz" > "$WORK/trunc.npz"
head -c 90 "$F/npy/lt_f8.npy" > "$WORK/trunc.npy"
printf '\x50\x4b\x03\x04garbage' > "$WORK/garbage.npz"
printf '\xff\xff\xff\xff\xff\xff\xff\x7f{}' > "$WORK/hugeheader.safetensors"
: > "$WORK/empty.safetensors"
for cmd in "info --model" "eval --data iris --model" "hessian --data iris --model" "train --data iris --epochs 1 -o $OUT --model"; do
    refuse "trunc.safetensors" "truncated safetensors ($cmd)" "$TDL" $cmd "$WORK/trunc.safetensors"
    refuse "trunc.npz" "truncated npz ($cmd)" "$TDL" $cmd "$WORK/trunc.npz"
    refuse "garbage.npz" "garbage npz ($cmd)" "$TDL" $cmd "$WORK/garbage.npz"
    refuse "hugeheader.safetensors" "oversized header ($cmd)" "$TDL" $cmd "$WORK/hugeheader.safetensors"
    refuse "empty" "empty model file ($cmd)" "$TDL" $cmd "$WORK/empty.safetensors"
done
for cmd in "info" "eval --model $WORK/iris.safetensors" "hessian --model $WORK/iris.safetensors" "train --arch 4-3 -o $OUT"; do
    refuse "trunc.npz" "truncated data npz ($cmd)" "$TDL" $cmd --data "$WORK/trunc.npz"
    refuse "trunc.npy" "truncated data npy ($cmd)" "$TDL" $cmd --data "npy:X=$WORK/trunc.npy,y=$WORK/trunc.npy"
done

# ---- the same for the analysis commands ---------------------------------------
for cmd in "ntk --data iris --model" "bounds --data iris --model" "landscape --data iris --model"; do
    refuse "trunc.safetensors" "truncated safetensors ($cmd)" "$TDL" $cmd "$WORK/trunc.safetensors"
    refuse "garbage.npz" "garbage npz ($cmd)" "$TDL" $cmd "$WORK/garbage.npz"
    refuse "NaN" "NaN weight ($cmd)" "$TDL" $cmd "$WORK/nan.safetensors"
done
for cmd in ntk bounds landscape; do
    refuse "13 features" "input width ($cmd)" "$TDL" $cmd --model "$WORK/iris.safetensors" --data wine
    refuse "ragged.csv" "ragged CSV ($cmd)" "$TDL" $cmd --model "$WORK/iris.safetensors" --data "$WORK/ragged.csv"
done
# report reads the model up front: no report folder for a bad model file
for bad in trunc.safetensors garbage.npz nan.safetensors; do
    frag=$bad; [ $bad = nan.safetensors ] && frag=NaN
    refuse "$frag" "bad model ($bad, report)" "$TDL" report --quiet --no-checks --model "$WORK/$bad" --data iris --out "$WORK/rep"
    expect_no_file "$WORK/rep" "no report folder for $bad"
    ls "$WORK"/rep.tmp.* >/dev/null 2>&1 && bad "report temporary folder left for $bad" || ok
done
refuse "13 features" "input width (report)" "$TDL" report --quiet --no-checks --model "$WORK/iris.safetensors" --data wine --out "$WORK/rep"
# sweep and infoplane read data sets through the same loader
refuse "ragged.csv" "ragged CSV (sweep)" "$TDL" sweep width --arch 2-W-2 --values 2 --data "$WORK/ragged.csv" -o "$WORK/sw"
expect_no_file "$WORK/sw/sweep.csv" "no sweep.csv"
refuse "ragged.csv" "ragged CSV (infoplane)" "$TDL" infoplane --data "$WORK/ragged.csv"
refuse "trunc.npz" "truncated npz (sweep)" "$TDL" sweep width --arch 4-W-3 --values 2 --data "$WORK/trunc.npz"
refuse "trunc.npz" "truncated npz (infoplane)" "$TDL" infoplane --data "$WORK/trunc.npz"
refuse "cannot create output file" "unwritable kernel path (ntk)" "$TDL" ntk --model "$WORK/iris.safetensors" --data iris -o /nonexistent/K.npy
refuse "/nonexistent" "unwritable grid path (landscape)" "$TDL" landscape --model "$WORK/iris.safetensors" --data iris -o /nonexistent/g.npz
refuse "/nonexistent" "unwritable figure (bounds)" "$TDL" bounds --model "$WORK/iris.safetensors" --data iris --plot /nonexistent/b.png

# ---- wrong dtypes ------------------------------------------------------------
refuse "unsupported dtype" "F8 tensor" "$TDL" info --model "$F/safetensors/bad_f8.safetensors"
for bad in bad_object bad_structured bad_complex bad_unicode; do
    refuse "$bad.npy" "npy $bad" "$TDL" info --data "npy:X=$F/npy/$bad.npy,y=$F/npy/vector.npy"
done

# ---- CSV ------------------------------------------------------------------------
printf '1,2,0\n3,4\n' > "$WORK/ragged.csv"
printf '1,2,0\n3,abc,1\n' > "$WORK/text.csv"
printf '1,2,0\n3,nan,1\n' > "$WORK/nan.csv"
printf 'a,b,label\n' > "$WORK/header_only.csv"
: > "$WORK/empty.csv"
for cmd in "info" "train --arch 2-3 -o $OUT" "eval --model $WORK/iris.safetensors"; do
    refuse "ragged.csv" "ragged CSV ($cmd)" "$TDL" $cmd --data "$WORK/ragged.csv"
    refuse "abc" "non-numeric CSV ($cmd)" "$TDL" $cmd --data "$WORK/text.csv"
    refuse "nan.csv" "NaN in CSV ($cmd)" "$TDL" $cmd --data "$WORK/nan.csv"
    refuse "no data rows" "header-only CSV ($cmd)" "$TDL" $cmd --data "$WORK/header_only.csv"
    refuse "empty.csv" "empty CSV ($cmd)" "$TDL" $cmd --data "$WORK/empty.csv"
done

# ---- a model that does not match the data -------------------------------------
for cmd in "eval" "hessian" "train --epochs 1 -o $OUT"; do
    refuse "takes 4 inputs but the data has 13 features" "input width ($cmd)" "$TDL" $cmd --model "$WORK/iris.safetensors" --data wine
    refuse "3 outputs but the data has 10 classes" "classes ($cmd)" "$TDL" $cmd --model "$WORK/iris.safetensors" --data "gauss:d=4,classes=10"
done

# ---- labels out of range --------------------------------------------------------
printf '1,2,-1\n3,4,0\n' > "$WORK/neg.csv"
printf '1,2,5000000\n3,4,0\n' > "$WORK/huge.csv"
for cmd in "info" "train --arch 2-3 -o $OUT"; do
    refuse "negative" "negative label ($cmd)" "$TDL" $cmd --data "$WORK/neg.csv"
    refuse "out of range" "huge label ($cmd)" "$TDL" $cmd --data "$WORK/huge.csv"
done

# ---- NaN or inf in weights --------------------------------------------------------
cp "$WORK/iris.safetensors" "$WORK/nan.safetensors"
# overwrite the first weight of the data buffer with a NaN (F64 little endian)
hl=$(od -An -t u8 -N 8 "$WORK/nan.safetensors" | tr -d ' ')
printf '\x00\x00\x00\x00\x00\x00\xf8\x7f' | dd of="$WORK/nan.safetensors" bs=1 seek=$((8 + hl)) conv=notrunc 2>/dev/null
for cmd in "info --model" "eval --data iris --model" "hessian --data iris --model" "train --data iris --epochs 1 -o $OUT --model"; do
    if [ "${cmd%% *}" = info ]; then
        run "$TDL" $cmd "$WORK/nan.safetensors"  # info lists the tensors, and says the MLP is unusable
        expect_status 0 "info lists a file with NaN weights"; expect_out "NaN" "info says why the MLP is unusable"
    else
        refuse "NaN" "NaN weight ($cmd)" "$TDL" $cmd "$WORK/nan.safetensors"
    fi
done

# ---- empty data sets and a single class ---------------------------------------------
refuse "selects no examples" "empty split" "$TDL" info --data "iris:split=test,test=0"
refuse "single class" "single class (train)" "$TDL" train --data "mnist:binary=10,n=50" --arch 784-2 -o "$OUT"

# ---- requests too large for memory (refused before allocating) -----------------------
refuse "available" "huge net (train)" "$TDL" train --data iris --arch 4-90000000-90000000-3 -o "$OUT"
refuse "--method lanczos" "dense Hessian too large" "$TDL" hessian --arch 784-4000-10 --data "mnist:n=10"
refuse "available" "huge synthetic set" "$TDL" info --data "gauss:n=100000000,d=1000000"

# ---- unwritable output paths ---------------------------------------------------------
refuse "cannot create output file" "unwritable model path" "$TDL" train --data iris --arch 4-3 --epochs 1 -o /nonexistent/m.safetensors
refuse "cannot create output file" "unwritable vectors path" "$TDL" hessian --model "$WORK/iris.safetensors" --data iris --vectors /nonexistent/v.npy
refuse "cannot create output file" "unwritable log path" "$TDL" train --data iris --arch 4-3 --epochs 1 -o "$OUT" --log /nonexistent/log.csv
rm -f "$OUT"

# ---- input files that are not regular files ---------------------------------------------
# A FIFO blocked fopen forever (run under timeout: a hang is a failure, exit 124);
# a directory read as an "empty file".  Both: "not a regular file (a FIFO|a directory)".
mkfifo "$WORK/fifo.csv" "$WORK/fifo.npz" "$WORK/fifo.npy" "$WORK/fifo.safetensors"
mkdir "$WORK/dir.csv" "$WORK/dir.safetensors"
for cmd in "info" "train --arch 2-3 -o $OUT" "eval --model $WORK/iris.safetensors"; do
    refuse "fifo.csv: not a regular file (a FIFO)" "FIFO as CSV data ($cmd)" timeout 10 "$TDL" $cmd --data "$WORK/fifo.csv"
    refuse "dir.csv: not a regular file (a directory)" "directory as CSV data ($cmd)" timeout 10 "$TDL" $cmd --data "$WORK/dir.csv"
done
refuse "fifo.npz: not a regular file (a FIFO)" "FIFO as npz data" timeout 10 "$TDL" info --data "$WORK/fifo.npz"
refuse "fifo.npy: not a regular file (a FIFO)" "FIFO as npy data" timeout 10 "$TDL" info --data "npy:X=$WORK/fifo.npy,y=$WORK/fifo.npy"
for cmd in "info --model" "eval --data iris --model" "train --data iris --epochs 1 -o $OUT --model"; do
    refuse "fifo.safetensors: not a regular file (a FIFO)" "FIFO as model ($cmd)" timeout 10 "$TDL" $cmd "$WORK/fifo.safetensors"
    refuse "dir.safetensors: not a regular file (a directory)" "directory as model ($cmd)" timeout 10 "$TDL" $cmd "$WORK/dir.safetensors"
done

# ---- output targets that are not new or regular files (rules: src/fileio.c) --------------
# a directory is refused, before the work, and stays a directory
mkdir "$WORK/outdir" "$WORK/figdir.png"
refuse "outdir: cannot create output file: not a regular file (a directory)" "directory as -o (train)" \
    "$TDL" train --data iris --arch 4-3 --epochs 1 --quiet -o "$WORK/outdir"
refuse "outdir: cannot create output file: not a regular file (a directory)" "directory as --log (train)" \
    "$TDL" train --data iris --arch 4-3 --epochs 1 --quiet -o "$OUT" --log "$WORK/outdir"
refuse "figdir.png: cannot create output file: not a regular file (a directory)" "directory as --plot (bounds)" \
    "$TDL" bounds --model "$WORK/iris.safetensors" --data iris --plot "$WORK/figdir.png"
expect_no_file "$WORK/figdir.dat" "directory as --plot: no data file written beside it"
[ -d "$WORK/outdir" ] && [ -d "$WORK/figdir.png" ] && ok || bad "a directory output target was replaced"
# an empty path is refused before the work
refuse "empty output path" "empty -o (train)" "$TDL" train --data iris --arch 4-3 --epochs 1 --quiet -o ''
# a dangling symbolic link is refused; a link to a file is followed and survives
ln -s "$WORK/missing.safetensors" "$WORK/dangling.safetensors"
refuse "a symbolic link to a missing file" "dangling link as -o (train)" \
    "$TDL" train --data iris --arch 4-3 --epochs 1 --quiet -o "$WORK/dangling.safetensors"
expect_no_file "$WORK/missing.safetensors" "dangling link: no file created at its target"
: > "$WORK/real.safetensors"
ln -s real.safetensors "$WORK/link.safetensors"
run "$TDL" train --data iris --arch 4-3 --epochs 1 --quiet -o "$WORK/link.safetensors"
expect_status 0 "symbolic link as -o"
[ -L "$WORK/link.safetensors" ] && [ -s "$WORK/real.safetensors" ] && ok || bad "symbolic link as -o: the link was replaced or its target not written"
ls "$WORK"/*.tmp.* >/dev/null 2>&1 && bad "symbolic link as -o: a temporary left" || ok
# modes: a new file honours the umask; a replaced file keeps its mode
rm -f "$WORK/priv.safetensors"
(umask 077; "$TDL" train --data iris --arch 4-3 --epochs 1 --quiet -o "$WORK/priv.safetensors" >/dev/null)
[ "$(stat -c %a "$WORK/priv.safetensors")" = 600 ] && ok || bad "new file under umask 077: mode $(stat -c %a "$WORK/priv.safetensors"), expected 600"
chmod 640 "$WORK/priv.safetensors"
"$TDL" train --data iris --arch 4-3 --epochs 1 --quiet -o "$WORK/priv.safetensors" >/dev/null
[ "$(stat -c %a "$WORK/priv.safetensors")" = 640 ] && ok || bad "replaced file: mode $(stat -c %a "$WORK/priv.safetensors"), expected 640 (kept)"
# character devices are written in place, never renamed over (needs root for mknod)
if [ "$(id -u)" -eq 0 ] && mknod "$WORK/null" c 1 3 2>/dev/null && mknod "$WORK/null.log" c 1 3 && mknod "$WORK/null.png" c 1 3; then
    run "$TDL" train --data iris --arch 4-3 --epochs 1 --quiet -o "$WORK/null" --log "$WORK/null.log" --plot "$WORK/null.png"
    expect_status 0 "device nodes as -o, --log, --plot"
    for n in null null.log null.png; do
        [ -c "$WORK/$n" ] && ok || bad "device node $n was replaced: $(ls -l "$WORK/$n")"
        ls "$WORK/$n".tmp.* >/dev/null 2>&1 && bad "device node $n: a temporary left" || ok
    done
else
    echo "skipped: device-node output targets (mknod needs root)"
fi
# a FIFO with a reader is written in place; one without a reader is refused, not waited for
mkfifo "$WORK/out.fifo"
refuse "out.fifo: cannot create output file: a FIFO with no reader" "FIFO without a reader as -o" \
    timeout 10 "$TDL" train --data iris --arch 4-3 --epochs 1 --quiet -o "$WORK/out.fifo"
exec 8<>"$WORK/out.fifo"   # a reader that never blocks (read-write open of a FIFO)
run timeout 10 "$TDL" train --data iris --arch 4-3 --epochs 1 --quiet -o "$WORK/out.fifo"
expect_status 0 "FIFO with a reader as -o"
dd iflag=nonblock bs=1M count=1 <&8 >"$WORK/from.fifo" 2>/dev/null
exec 8<&-
[ -s "$WORK/from.fifo" ] && [ -p "$WORK/out.fifo" ] && ok || bad "FIFO with a reader: nothing read, or the FIFO was replaced"

# ---- resource limits: a file size limit (ulimit -f) ----------------------------------------
# SIGXFSZ is ignored, so the write fails with EFBIG: one error line, no file, no temporary
# (4-8-3: the model is flushed at commit; 4-64-3: a write inside the writer fails)
for arch in 4-8-3 4-64-3; do
    for ext in safetensors npz; do
        OUT=$WORK/big.$ext
        refuse "big.$ext: write failed: File too large" "ulimit -f 1 ($arch, .$ext)" \
            bash -c 'ulimit -f 1; exec "$@"' sh "$TDL" train --data iris --arch $arch --epochs 1 --quiet -o "$OUT"
    done
done
OUT=$WORK/out.safetensors
refuse "wide.npy: write failed: File too large" "ulimit -f 1 (ntk -o .npy)" \
    bash -c 'ulimit -f 1; exec "$@"' sh "$TDL" ntk --model "$WORK/iris.safetensors" --data iris -o "$WORK/wide.npy"
expect_no_file "$WORK/wide.npy" "ulimit -f 1 (ntk): no kernel file"

# ---- a JSON header nested too deep for a small stack --------------------------------------
python3 -c "
import struct, sys
h = b'{\"a\":' + b'[' * 100000 + b']' * 100000 + b'}'
sys.stdout.buffer.write(struct.pack('<Q', len(h)) + h)" > "$WORK/deep.safetensors"
refuse "deep.safetensors: header nests JSON arrays or objects more than 64 levels deep" "deep JSON header (ulimit -s 64)" \
    bash -c 'ulimit -s 64; exec "$@"' sh "$TDL" info --model "$WORK/deep.safetensors"
refuse "more than 64 levels deep" "deep JSON header (eval)" "$TDL" eval --data iris --model "$WORK/deep.safetensors"

# ---- every terminating signal cleans up like SIGINT --------------------------------------
# Mid-write, on an event: a stand-in gnuplot (first in PATH) that tdl runs while the
# figure's temporary is open writes into it, then signals tdl (its parent) and exits;
# tdl must die of the signal with no temporary and no figure left.
mkdir "$WORK/fakebin"
cat > "$WORK/fakebin/gnuplot" <<'FAKE'
#!/bin/sh
out=$(printf '%s\n' "$2" | sed -n "s/^out='\([^']*\)'.*/\1/p")
[ -n "$out" ] && printf 'partial figure' > "$out"
kill -s "$TDL_TEST_SIGNAL" "$PPID"
FAKE
chmod +x "$WORK/fakebin/gnuplot"
for sig in HUP QUIT TERM INT ALRM USR1 USR2 PIPE XCPU; do
    rm -rf "$WORK/sigfig"; mkdir "$WORK/sigfig"
    { (ulimit -c 0; PATH="$WORK/fakebin:$PATH" TDL_TEST_SIGNAL=$sig exec "$TDL" bounds --model "$WORK/iris.safetensors" --data iris \
        --plot "$WORK/sigfig/b.png" >/dev/null 2>&1); st=$?; } 2>/dev/null  # (no "Hangup" line from bash)
    want=$((128 + $(kill -l $sig)))
    [ "$st" -eq "$want" ] && ok || bad "SIG$sig while the figure is written: exit $st, expected $want"
    expect_no_file "$WORK/sigfig/b.png" "SIG$sig while the figure is written: no figure"
    ls "$WORK"/sigfig/*.tmp.* >/dev/null 2>&1 && bad "SIG$sig: a temporary left: $(ls "$WORK"/sigfig)" || ok
done
# and during `tdl train`, once the handler is installed (as for SIGINT below)
for sig in HUP QUIT; do
    (ulimit -c 0; exec "$TDL" train --data mnist --arch 784-300-10 --epochs 100 --quiet -o "$OUT" --log "$WORK/sig.csv") &
    pid=$!
    wait_catches $pid $sig && ok || bad "tdl train ended before it installed its SIG$sig handler"
    kill -s $sig $pid
    wait $pid 2>/dev/null
    st=$?
    want=$((128 + $(kill -l $sig)))
    [ "$st" -eq "$want" ] && ok || bad "SIG$sig during train: exit $st, expected $want"
    expect_no_file "$OUT" "SIG$sig during train: no model file"
    expect_no_file "$WORK/sig.csv" "SIG$sig during train: no log file"
done

# ---- an interrupted run leaves no partial file ----------------------------------------
# The signal is sent once tdl has its SIGINT handler (the event: /proc's SigCgt
# mask; tdl train has no test hook and, off a terminal, no progress line), not
# after a sleep: sent earlier, it would be ignored (a background job of a script
# starts with SIGINT ignored) and the 100 epochs would run to the end.
"$TDL" train --data mnist --arch 784-300-10 --epochs 100 --quiet -o "$OUT" --log "$WORK/int.csv" &
pid=$!
wait_catches $pid INT && ok || bad "tdl train ended before it installed its SIGINT handler"
kill -INT $pid
wait $pid
st=$?
if [ "$st" -eq 130 ]; then ok; else bad "interrupted train: exit $st, expected 130 (death by SIGINT)"; fi
expect_no_file "$OUT" "interrupted train: no model file"
expect_no_file "$WORK/int.csv" "interrupted train: no log file"
finish
