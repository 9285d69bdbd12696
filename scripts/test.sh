#!/bin/sh
# test.sh — set up, build and run every test suite (unit, cli, ...).
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
status=0
meson test -C build --print-errorlogs --num-processes 2 || status=$?
# One closing line that counts the suites: "N passed, N failed".
if [ -f build/meson-logs/testlog.json ]; then
    ok=$(grep -c '"result": "OK"' build/meson-logs/testlog.json || true)
    bad=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' build/meson-logs/testlog.json || true)
    echo "$ok passed, $bad failed"
fi
exit $status
