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
# check_figure BASE DESCRIPTION: BASE.{png,svg,pdf} drawn by the command
# (one run per format), the script and data beside them
check_figure() {
    local base=$1 what=$2 ext
    for ext in png svg pdf; do
        if valid_figure "$base.$ext"; then ok; else bad "$what: $base.$ext is not a valid $ext of non-trivial size ($(stat -c %s "$base.$ext" 2>/dev/null) bytes)"; fi
        expect_no_file "$base.$ext.tmp" "$what: no temporary figure left"
    done
    if [ -s "$base.gp" ] && [ -s "$base.dat" ]; then ok; else bad "$what: $base.gp or $base.dat missing"; fi
    grep -q "^set xlabel '" "$base.gp" && grep -q "^set ylabel '" "$base.gp" && ok || bad "$what: axis labels missing in $base.gp"
    grep -q "^set label 97 '" "$base.gp" && ok || bad "$what: caption line missing in $base.gp"
}
# figure FORMAT-INDEPENDENT RUN: run CMD with --plot BASE.EXT for each format
figure() {
    local base=$1 what=$2 ext
    shift 2
    for ext in png svg pdf; do
        run "$@" --plot "$base.$ext"
        expect_status 0 "$what --plot $ext"
    done
    check_figure "$base" "$what"
}

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
figure "$WORK/bounds" "bounds" "$TDL" bounds $M --quick --quiet
grep -q "^set logscale y" "$WORK/bounds.gp" && ok || bad "bounds: log bound axis"
figure "$WORK/land1" "landscape 1D" "$TDL" landscape $M --grid 11 --quiet
figure "$WORK/land2" "landscape 2D" "$TDL" landscape $M --plane random --grid 7 --quiet
grep -q "loss (mean)" "$WORK/land2.gp" && ok || bad "landscape 2D: colour bar label"

# one script renders every format: the PDF from the PNG's script
rm -f "$WORK/hess.pdf"
(cd "$WORK" && gnuplot -e "out='hess.pdf'" hess.gp) && valid_figure "$WORK/hess.pdf" && ok || bad "hess.gp does not render a PDF"
(cd "$WORK" && gnuplot -e "out='again.svg'" dens.gp) && valid_figure "$WORK/again.svg" && ok || bad "dens.gp does not render an SVG"
finish
