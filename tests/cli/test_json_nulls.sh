#!/bin/bash
# CLI tests of the JSON null convention (SPEC.md "JSON"): every null in a
# --json document has a sibling "<key>_reason" string; an array holding null
# elements (at any depth of nested arrays) has a "<key>_reason" beside it.
# Each command runs where it produces nulls (undefined condition numbers,
# left-out bounds, regression data, an unbounded q*, ...) and in a plain run;
# a python3 checker (standard library) walks the whole tree.
# usage: test_json_nulls.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
. "$(dirname "$0")/lib.sh"

cat >"$WORK/check.py" <<'PY'
import json, sys
def has_null(a):
    return any(x is None or (isinstance(x, list) and has_null(x)) for x in a)
def walk(v, path, bad, count):
    if isinstance(v, dict):
        for k, x in v.items():
            if x is None or (isinstance(x, list) and has_null(x)):
                count[0] += 1
                r = v.get(k + "_reason")
                if not isinstance(r, str) or not r:
                    bad.append(path + "." + k)
            walk(x, path + "." + k, bad, count)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            walk(x, "%s[%d]" % (path, i), bad, count)
bad, count = [], [0]
try:
    doc = json.load(open(sys.argv[1]))
except ValueError as e:
    print("not JSON: %s" % e)
    sys.exit(1)
walk(doc, "$", bad, count)
with open(sys.argv[2], "a") as f:
    f.write("%d\n" % count[0])
if bad:
    print("null without a <key>_reason string: " + ", ".join(bad[:8]))
    sys.exit(1)
PY
: >"$WORK/nulls"

# jcheck DESCRIPTION CMD...: the command succeeds and its JSON keeps the rule
jcheck() {
    local what=$1
    shift
    run "$@"
    expect_status 0 "$what"
    if msg=$(python3 "$WORK/check.py" "$WORK/out" "$WORK/nulls"); then ok; else bad "$what: $msg"; fi
}
# nulls_in DESCRIPTION: the last checked document had at least one null
nulls_in() {
    if [ "$(tail -n 1 "$WORK/nulls")" -gt 0 ]; then ok; else bad "$1: expected a null in the JSON"; fi
}

M="$WORK/iris.safetensors"
R="$WORK/reg.safetensors"
REG=teacher:n=40,d=3,k=2
jcheck "train (classification)" "$TDL" train --data iris --arch 4-8-3 --epochs 3 --seed 1 -o "$M" --quiet --json
# a divergence: no model written (null), the last good parameters instead
run "$TDL" train --data iris --arch 4-8-3 --epochs 3 --lr 1e6 --seed 1 -o "$WORK/d.safetensors" --quiet --json
expect_status 1 "train diverges"
if msg=$(python3 "$WORK/check.py" "$WORK/out" "$WORK/nulls"); then ok; else bad "train (diverged): $msg"; fi
nulls_in "train after a divergence: model null"
jcheck "train (regression)" "$TDL" train --data $REG --arch 3-8-1 --loss mse --epochs 3 --seed 1 -o "$R" --quiet --json

jcheck "info (data)" "$TDL" info --data iris --json
jcheck "info (regression data: no class counts)" "$TDL" info --data $REG --json
nulls_in "info on regression data"
jcheck "info (model)" "$TDL" info --model "$M" --json

jcheck "eval" "$TDL" eval --model "$M" --data iris --json
jcheck "eval (regression: no error, no accuracy)" "$TDL" eval --model "$R" --data $REG --json
nulls_in "eval on regression data"

jcheck "hessian (full)" "$TDL" hessian --model "$M" --data iris --json
jcheck "hessian (slq, one run)" "$TDL" hessian --model "$M" --data iris --method slq --runs 1 --json

jcheck "ntk" "$TDL" ntk --arch 4-8-3 --data iris:n=20 --json
nulls_in "ntk with more points than the kernel's rank: condition number null"
# a repeated point makes the kernel singular: no arora complexity
printf '0.1,0.2,0\n0.1,0.2,0\n0.5,-0.3,1\n-0.2,0.4,1\n' >"$WORK/dup.csv"
jcheck "ntk (singular kernel)" "$TDL" ntk --arch 2-16-1 --data "$WORK/dup.csv" --json
nulls_in "ntk on a singular kernel"

jcheck "bounds (rows left out, no test data)" "$TDL" bounds --model "$M" --data iris --no-flatness --json
nulls_in "bounds with left-out rows"

jcheck "landscape 1D" "$TDL" landscape --model "$M" --data iris --grid 5 --json
nulls_in "landscape 1D: cosine null"
jcheck "landscape 2D, cut short by --max-cells" "$TDL" landscape --model "$M" --data iris --grid 5 --plane random --max-cells 10 \
    -o "$WORK/g.npz" --json
nulls_in "landscape with unfilled cells"

jcheck "signal (chaotic tanh)" "$TDL" signal --act tanh --sigma-w 1.5 --sigma-b 0.05 --json
jcheck "signal (relu, q* unbounded)" "$TDL" signal --act relu --sigma-w 2 --json
nulls_in "signal with q* null"
jcheck "signal (phase diagram)" "$TDL" signal --act relu --phase-diagram --json
nulls_in "signal phase diagram with unbounded q*"

jcheck "infoplane" "$TDL" infoplane --data iris --arch 4-6-3 --epochs 2 --json

jcheck "sweep (measures left out for some runs)" "$TDL" sweep width --data iris --arch 4-W-3 --values 4,8 --epochs 2 --quiet --json
nulls_in "sweep with null measures"

jcheck "check --list" "$TDL" check --list --json
jcheck "check (one check)" "$TDL" check --json linear-regression-hessian

finish
