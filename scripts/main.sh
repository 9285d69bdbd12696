#!/bin/sh
# main.sh — the main job: set up, build, then `tdl report` on the shipped
# default (a shallow ReLU net 64-32-10 trained on the digits training split,
# tested on the test split, and analysed). The report goes to report/:
# report/index.html, report/report.md, fig/ (PNG, SVG, PDF), tables/ (CSV).
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
build/tdl report --out report
echo
echo "open report/index.html (or read report/report.md)"
