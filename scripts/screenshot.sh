#!/bin/sh
# screenshot.sh — render a tdl report's index.html in headless Chromium and save
# a full-page PNG, so a person can see that the page renders.
# usage: sh scripts/screenshot.sh [REPORT_DIR [OUT.png [WIDTH [HEIGHT]]]]
#   defaults: report/  REPORT_DIR/screenshot.png  1200  about the page's height (max 20000)
# Needs Debian's chromium (optional setup: TDL_WITH_BROWSER=1 sh scripts/setup.sh,
# or apt-get install -y chromium).
set -eu
dir=${1:-report}
out=${2:-$dir/screenshot.png}
width=${3:-1200}
height=${4:-}
if [ ! -f "$dir/index.html" ]; then
    echo "screenshot: $dir/index.html not found (run: tdl report --out $dir)" >&2
    exit 1
fi
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "screenshot: chromium is not installed (apt-get install -y chromium)" >&2
    exit 1
fi
page="file://$(cd "$dir" && pwd)/index.html"
case $out in /*) ;; *) out="$PWD/$out" ;; esac
if [ -z "$height" ]; then
    # headless Chromium shoots the window, not the page: a window as tall as
    # the page, estimated from its figures and table rows (at most 20000 px)
    height=$(awk -v n="$(grep -c '<figure>' "$dir/index.html")" -v t="$(grep -c '<tr' "$dir/index.html")" \
        'BEGIN { h = 1200 + 650 * n + 65 * t; if (h > 20000) h = 20000; printf "%d", h }')
fi
tmp="$out.tmp.$$.png"
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="$width,$height" \
    --run-all-compositor-stages-before-draw --virtual-time-budget=5000 \
    --screenshot="$tmp" "$page" >/dev/null 2>&1 || { rm -f "$tmp"; echo "screenshot: chromium failed" >&2; exit 1; }
mv "$tmp" "$out"
echo "screenshot: $out (${width}x${height})"
