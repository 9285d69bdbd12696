#!/bin/bash
# Thread-count determinism (issue 10).  With one thread every command is
# bit-identical from run to run (the same stdout bytes, the same model file).
# Across thread counts (1 vs 2: OpenBLAS splits its reductions, the 2D
# landscape shares its grid cells) every number agrees to 1e-10 relative
# (absolute 1e-12 near 0): the stated tolerance, which leaves room for a few
# epochs of training to amplify last-bit differences of the BLAS summation
# order, while any real dependence on the thread count would show up far
# above it.  README.md states the same.
# usage: test_threads.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
. "$(dirname "$0")/lib.sh"

# Removed before comparing: wall-clock fields ("seconds", "seconds_per_epoch"),
# the output file name (the runs write to different names), and the Hessian's
# condition numbers lambda_max / lambda_min(+): their denominators are
# eigenvalues at roundoff level (|lambda| ~ P eps lambda_max), which carry no
# significant digits, so no run-to-run tolerance can apply to them.
strip_times() {
    sed -E -e 's/"seconds[a-z_]*":[^,}]*/"seconds":T/g' -e 's/"(model|output)":"[^"]*"/"\1":F/g' \
        -e 's/"condition[a-z_]*":[^,}]*/"condition":C/g' "$1" > "$1.cmp"
}

# numbers_close FILE1 FILE2: every number of FILE1 equals the one at the same
# place of FILE2 within 1e-10 relative / 1e-12 absolute, and the non-number
# text is identical.
numbers_close() {
    local skel1 skel2
    skel1=$(sed -E 's/-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/#/g' "$1")
    skel2=$(sed -E 's/-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/#/g' "$2")
    [ "$skel1" = "$skel2" ] || return 1
    paste <(grep -oE -- '-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?' "$1") \
          <(grep -oE -- '-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?' "$2") |
        awk '{ d = $1 - $2; if (d < 0) d = -d; s = $2 < 0 ? -$2 : $2;
               if (d > 1e-12 && d > 1e-10 * s) { print "differs: " $1 " vs " $2; bad = 1 } }
             END { exit bad }'
}

# each case: a name and the command (without --threads); the runs differ only
# in --threads and the output file names.
D=digits:normalize=standard,n=600
cases=(
  "train|train --data $D --arch 64-32-10 --epochs 3 --batch 64 --lr 0.05 --quiet --json -o @MODEL@"
  "eval|eval --data $D --model $WORK/ref.safetensors --json"
  "hessian-exact|hessian --data $D --model $WORK/ref.safetensors --gn --json"
  "hessian-lanczos|hessian --data $D --model $WORK/ref.safetensors --method lanczos --k 5 --json"
  "hessian-slq|hessian --data $D --model $WORK/ref.safetensors --method slq --density --json"
  "ntk|ntk --data digits:normalize=standard,n=200 --model $WORK/ref.safetensors --json"
  "bounds|bounds --data $D --model $WORK/ref.safetensors --json"
  "landscape|landscape --data $D --model $WORK/ref.safetensors --plane random --grid 7 --json"
)
"$TDL" train --data $D --arch 64-32-10 --epochs 3 --batch 64 --lr 0.05 --quiet -o "$WORK/ref.safetensors" >/dev/null 2>&1 ||
    bad "reference model"
for c in "${cases[@]}"; do
    name=${c%%|*}
    cmd=${c#*|}
    for t in 1a 1b 2; do
        args=${cmd//@MODEL@/$WORK/$name-$t.safetensors}
        # shellcheck disable=SC2086
        "$TDL" $args --threads "${t%[ab]}" >"$WORK/$name-$t.out" 2>"$WORK/$name-$t.err"
        st=$?
        [ $st -eq 0 ] || bad "$name --threads ${t%[ab]}: exit $st: $(head -c 300 "$WORK/$name-$t.err")"
        strip_times "$WORK/$name-$t.out"
    done
    if cmp -s "$WORK/$name-1a.out.cmp" "$WORK/$name-1b.out.cmp"; then ok; else bad "$name: two one-thread runs differ"; fi
    if [ -e "$WORK/$name-1a.safetensors" ]; then
        if cmp -s "$WORK/$name-1a.safetensors" "$WORK/$name-1b.safetensors"; then ok; else bad "$name: one-thread model files differ"; fi
        if cmp -s "$WORK/$name-1a.safetensors" "$WORK/$name-2.safetensors" ||
           [ "$(stat -c %s "$WORK/$name-1a.safetensors")" = "$(stat -c %s "$WORK/$name-2.safetensors")" ]; then ok
        else bad "$name: model files of 1 and 2 threads differ in size"; fi
    fi
    if numbers_close "$WORK/$name-1a.out.cmp" "$WORK/$name-2.out.cmp"; then ok
    else bad "$name: 1 vs 2 threads differ beyond 1e-10: $(numbers_close "$WORK/$name-1a.out.cmp" "$WORK/$name-2.out.cmp" | head -3)"; fi
    if cmp -s "$WORK/$name-1a.out.cmp" "$WORK/$name-2.out.cmp"; then echo "  $name: 1 and 2 threads bit-identical"
    else echo "  $name: 1 and 2 threads within tolerance, not bit-identical"; fi
done
finish
