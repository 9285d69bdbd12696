#!/bin/bash
# CLI tests of the figures: every command with --plot writes a valid PNG, SVG
# and PDF of non-trivial size, with its gnuplot script and data beside it; the
# script carries axis labels, a caption and log scales where the data span
# decades, and renders the other formats itself (gnuplot -e "out='F.pdf'").
# usage: test_plots.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
. "$(dirname "$0")/lib.sh"

# valid_figure FILE: the format's signature and a non-trivial size
valid_figure() {
    local f=$1 size
    size=$(stat -c %s "$f" 2>/dev/null || echo 0)
    case $f in
    *.png) [ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] && [ "$size" -gt 8000 ] ;;
    *.svg) head -c 400 "$f" | grep -q '<svg' && tail -c 100 "$f" | grep -q '</svg>' && [ "$size" -gt 8000 ] ;;
    *.pdf) [ "$(head -c 5 "$f")" = "%PDF-" ] && tail -c 32 "$f" | grep -q '%%EOF' && [ "$size" -gt 4000 ] ;;
    *) false ;;
    esac
}
# check_figure BASE DESCRIPTION [rows]: BASE.{png,svg,pdf} drawn by the
# command (one run per format), the script and data beside them; with
# `rows`, the y axis is named by its tics (rows of a table), not a label.
# No caption line holds an absolute path (the model is given as $WORK/...).
check_figure() {
    local base=$1 what=$2 rows=$3 ext
    for ext in png svg pdf; do
        if valid_figure "$base.$ext"; then ok; else bad "$what: $base.$ext is not a valid $ext of non-trivial size ($(stat -c %s "$base.$ext" 2>/dev/null) bytes)"; fi
        expect_no_file "$base.$ext.tmp" "$what: no temporary figure left"
    done
    if [ -s "$base.gp" ] && [ -s "$base.dat" ]; then ok; else bad "$what: $base.gp or $base.dat missing"; fi
    if [ -n "$rows" ]; then
        grep -q "^set xlabel '" "$base.gp" && grep -q "^set ytics .*('[a-z]" "$base.gp" && ok || bad "$what: axis label or row names missing in $base.gp"
    else
        grep -q "^set xlabel '" "$base.gp" && grep -q "^set ylabel '" "$base.gp" && ok || bad "$what: axis labels missing in $base.gp"
    fi
    grep -q "^set label 97 '" "$base.gp" && ok || bad "$what: caption line missing in $base.gp"
    if grep "^set label 9[7-9] " "$base.gp" | grep -q -e "'/" -e " /[^ ]*/"; then bad "$what: an absolute path in the caption: $(grep '^set label 9[7-9] ' "$base.gp" | head -n 1)"; else ok; fi
}
# figure BASE WHAT [rows] CMD...: run CMD with --plot BASE.EXT for each format
figure() {
    local base=$1 what=$2 rows= ext
    shift 2
    if [ "$1" = rows ]; then rows=1; shift; fi
    for ext in png svg pdf; do
        run "$@" --plot "$base.$ext"
        expect_status 0 "$what --plot $ext"
    done
    check_figure "$base" "$what" $rows
}
# tics AXIS FILE: the number of tics in the script's `set AXIStics (...)`
tics() { grep "^set $1tics (" "$2" | head -n 1 | grep -o "'[^']*' [-0-9.e+]*" | wc -l; }

D=digits:split=train,n=300
T=digits:split=test,n=150
run "$TDL" train --data $D --test $T --arch 64-16-10 --act relu --seed 0 --epochs 6 --lr 0.05 \
    -o "$WORK/m.safetensors" --log "$WORK/log.csv" --quiet --plot "$WORK/train.png"
expect_status 0 "train --plot"
# (each run also writes the log: the figure's data and the log compared below
# come from the same run, so the same doubles, whatever the kernel or threads)
figure "$WORK/train" "train" "$TDL" train --data $D --test $T --arch 64-16-10 --act relu --seed 0 --epochs 6 --lr 0.05 \
    -o "$WORK/m.safetensors" --log "$WORK/log.csv" --quiet
grep -q "^set y2label 'accuracy'" "$WORK/train.gp" && ok || bad "train: accuracy on the right axis"
grep -q "axes x1y2" "$WORK/train.gp" && ok || bad "train: accuracy series on the right axis"
grep -c "^ *data index" "$WORK/train.gp" | grep -q . && ok
# the training curve's data are the log's: train loss of every epoch
n_dat=$(awk 'NR > 1 && /^[0-9]/ {c++} /^$/ {exit} END {print c + 0}' "$WORK/train.dat")
n_log=$(($(wc -l <"$WORK/log.csv") - 1))
if [ "$n_dat" -eq "$n_log" ] && [ "$n_log" -eq 6 ]; then ok; else bad "train: $n_dat points in the figure, $n_log log rows"; fi
l_dat=$(awk '/^[0-9]/ {v = $2} /^$/ {exit} END {printf "%.12g", v}' "$WORK/train.dat")
l_log=$(tail -n 1 "$WORK/log.csv" | awk -F, '{printf "%.12g", $4}')
if [ "$l_dat" = "$l_log" ]; then ok; else bad "train: last loss in the figure $l_dat, in the log $l_log"; fi
# bad extension: a usage error, nothing trained
run "$TDL" train --data $D --arch 64-16-10 --epochs 1 -o "$WORK/x.safetensors" --plot "$WORK/x.jpg"
expect_status 2 "train --plot .jpg"
expect_err "must end in .png, .svg or .pdf" "train --plot .jpg message"
expect_no_file "$WORK/x.safetensors" "train --plot .jpg trains nothing"

M="--model $WORK/m.safetensors --data $D"
figure "$WORK/hess" "hessian --gn" "$TDL" hessian $M --gn --quiet
figure "$WORK/dens" "hessian --density" "$TDL" hessian $M --density --quiet
grep -q "^set logscale y" "$WORK/dens.gp" && ok || bad "hessian density: log density axis"
# the density axis stops six decades below the peak (no 1e-300 tails)
grep -q "^set yrange \[" "$WORK/dens.gp" && ok || bad "hessian density: a lower density limit"
figure "$WORK/ntk" "ntk" "$TDL" ntk $M --quiet
grep -q "^set logscale x" "$WORK/ntk.gp" && grep -q "^set logscale y" "$WORK/ntk.gp" && ok || bad "ntk: log-log spectrum"

# ---- the bounds chart (issue 23): bars named by their rows, a log axis with
# labelled tics, lines at the train error, the test error and chance, the
# kind of each row by colour / hatching with a key, the measures apart ----
# a net that fits its 300 examples: rows of every kind are available
"$TDL" train --data $D --arch 64-16-10 --act relu --seed 0 --epochs 60 --lr 0.05 -o "$WORK/mb.safetensors" --quiet >/dev/null
MB="--model $WORK/mb.safetensors --data $D"
figure "$WORK/bounds" "bounds" rows "$TDL" bounds $MB --test $T --quick --quiet
G=$WORK/bounds.gp
grep -q "^set logscale x" "$G" && ok || bad "bounds: log axis for the bounds"
n=$(tics x "$G"); [ "$n" -ge 4 ] && ok || bad "bounds: $n labelled tics on the log axis (expected >= 4)"
run "$TDL" bounds $MB --test $T --quick --quiet --json
# every row of kind bound with a bound names a bar of the first panel; the
# measures' rows (fixed-scale values) are in the second panel only
bounds_rows=$(grep -o '"name":"[^"]*"[^{}]*"kind":"bound"' "$WORK/out" | sed 's/^"name":"\([^"]*\)".*/\1/')
measure_rows=$(grep -o '"name":"[^"]*"[^{}]*"kind":"measure"[^{}]*"fixed_scale_value":[0-9]' "$WORK/out" | sed 's/^"name":"\([^"]*\)".*/\1/')
[ -n "$bounds_rows" ] && [ -n "$measure_rows" ] && ok || bad "bounds: rows of both kinds expected in --json"
panel1=$(grep "^set ytics " "$G" | sed -n 1p); panel2=$(grep "^set ytics " "$G" | sed -n 2p)
for name in $bounds_rows; do
    case $panel1 in *"'$name' "*) ok ;; *) bad "bounds: row $name is not a bar of the bounds panel" ;; esac
done
for name in $measure_rows; do
    case $panel2 in *"'$name' "*) ok ;; *) bad "bounds: measure $name is not a bar of the measures panel" ;; esac
    case $panel1 in *"'$name' "*) bad "bounds: measure $name drawn among the bounds" ;; *) ok ;; esac
done
grep -q "title 'train error = " "$G" && ok || bad "bounds: no train error line"
grep -q "title 'test error = " "$G" && ok || bad "bounds: no test error line"
grep -q "title 'chance 1 - 1/C = " "$G" && ok || bad "bounds: no chance line"
grep -q "title 'bound on the trained net'" "$G" && grep -q "title 'Gibbs bound" "$G" && ok || bad "bounds: the classifier of the bounds not in the key"
grep -q "fs pattern .*title 'measure (fixed scale, not a bound)'" "$G" && ok || bad "bounds: measures not hatched with their own key entry"
grep -q "^set xlabel 'fixed-scale value of a measure (log scale; not a bound" "$G" && ok || bad "bounds: the measures' axis does not say they are not bounds"
# without --test: no test line
run "$TDL" bounds $MB --quick --quiet --plot "$WORK/bounds-nt.png"
expect_status 0 "bounds --plot without --test"
grep -q "title 'test error" "$WORK/bounds-nt.gp" && bad "bounds: a test line without --test" || ok

figure "$WORK/land1" "landscape 1D" "$TDL" landscape $M --grid 11 --quiet

# ---- the 2D landscape: smooth, viridis, labelled contours, colour-bar tics,
# the model and the minimum marked ----
figure "$WORK/land2" "landscape 2D" "$TDL" landscape $M --plane random --grid 15 --quiet
G=$WORK/land2.gp
grep -q "loss (mean)" "$G" && ok || bad "landscape 2D: colour bar label"
grep -q "^set pm3d map interpolate" "$G" && ok || bad "landscape 2D: no interpolation"
grep -q "^set palette defined (0.0 '#440154', .* 0.5 '#21918c', .* 1.0 '#fde725')" "$G" && ok || bad "landscape 2D: not the viridis palette"
grep -q "^set cntrlabel " "$G" && grep -q "nosurface with labels" "$G" && ok || bad "landscape 2D: contours not labelled"
grep -q "^set logscale cb" "$G" && ok || bad "landscape 2D: the loss spans more than 1.5x on this plane: log colour bar expected"
n=$(tics cb "$G"); [ "$n" -ge 4 ] && ok || bad "landscape 2D: $n colour-bar tics (expected >= 4)"
grep -q "title 'model m.safetensors at (0, 0)'" "$G" && ok || bad "landscape 2D: the model not marked"
grep -q "title 'grid minimum [0-9.e-]* at (" "$G" && ok || bad "landscape 2D: the grid minimum not marked"

# ---- the interpolation: ends named by what they are, accuracy on y2 ----
cp "$WORK/m.safetensors" "$WORK/m2.safetensors"
"$TDL" train --data $D --arch 64-16-10 --act relu --seed 1 --epochs 3 --lr 0.05 -o "$WORK/m2.safetensors" --quiet >/dev/null
figure "$WORK/interp" "landscape --to" "$TDL" landscape $M --test $T --to "$WORK/m2.safetensors" --grid 11 --quiet
G=$WORK/interp.gp
grep -q "^set x2tics .*('m.safetensors' 0, 'm2.safetensors' 1)" "$G" && ok || bad "interpolation: ends not named by the files"
grep -q "^set xlabel 'alpha: (1 - alpha) m.safetensors + alpha m2.safetensors'" "$G" && ok || bad "interpolation: x label: $(grep '^set xlabel' "$G")"
grep -q -w -e "M2" "$G" && bad "interpolation: 'M2' in the script" || ok
grep -q "^set y2label 'accuracy" "$G" && [ "$(grep -c "axes x1y2" "$G")" -eq 2 ] && ok || bad "interpolation: train and test accuracy on the right axis"
grep -q "title 'test loss'" "$G" && ok || bad "interpolation: test loss"
figure "$WORK/finit" "landscape --from-init" "$TDL" landscape $M --test $T --from-init --grid 11 --quiet
G=$WORK/finit.gp
grep -q "^set x2tics .*('init' 0, 'trained' 1)" "$G" && ok || bad "--from-init: ends not labelled init and trained"
grep -q "^set y2label 'accuracy" "$G" && grep -q "axes x1y2" "$G" && ok || bad "--from-init: accuracy on the right axis"
# regression data: no accuracy axis
"$TDL" train --data teacher:n=64,d=3,k=1 --arch 3-8-1 --epochs 2 --quiet -o "$WORK/r.safetensors" >/dev/null
run "$TDL" landscape --model "$WORK/r.safetensors" --data teacher:n=64,d=3,k=1 --from-init --grid 5 --quiet --plot "$WORK/rinit.png"
expect_status 0 "--from-init on regression data"
grep -q "y2label" "$WORK/rinit.gp" && bad "--from-init: an accuracy axis on regression data" || ok

# data given by an absolute path (the fixtures' npz): the caption names the
# files by their base names
FX=$(cd "$2" && pwd)
run "$TDL" landscape --model "$FX/landscape/model.npz" --act tanh --data "$FX/landscape/data.npz" --grid 5 --quiet --plot "$WORK/abs.png"
expect_status 0 "landscape on files given by absolute paths"
cap=$(grep "^set label 9[7-9] " "$WORK/abs.gp")
case $cap in *"$FX"*) bad "an absolute path in the caption: $cap" ;; *"'model.npz (4-5-3), loss ce (mean) on data.npz"*) ok ;; *) bad "caption: $cap" ;; esac

# one script renders every format: the PDF from the PNG's script
rm -f "$WORK/hess.pdf"
(cd "$WORK" && gnuplot -e "out='hess.pdf'" hess.gp) && valid_figure "$WORK/hess.pdf" && ok || bad "hess.gp does not render a PDF"
(cd "$WORK" && gnuplot -e "out='again.svg'" dens.gp) && valid_figure "$WORK/again.svg" && ok || bad "dens.gp does not render an SVG"
finish
