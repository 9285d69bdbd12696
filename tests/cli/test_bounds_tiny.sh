#!/bin/bash
# The 2-3-2 net of docs/bounds.md, Sec. 11, computed there by hand: `tdl bounds`
# reproduces every hand-computed number (margins, gamma, the ramp loss, the
# norms, the fixed-scale values of the norm-based rows, and the uniform
# golowich2018 bounds with their terms, Sec. 3) to 1e-12 relative.
# usage: test_bounds_tiny.sh TDL
TDL=$1
. "$(dirname "$0")/lib.sh"
# the model file described in the doc: four F64 tensors, no biases, zero init
python3 - "$WORK/tiny.safetensors" <<'PY'
import json, struct, sys
tensors = {"0.weight": ([3, 2], [1, 0, 0, 1, 1, -1]), "2.weight": ([2, 3], [1, 0, 1, 0, 1, -1]),
           "init.0.weight": ([3, 2], [0] * 6), "init.2.weight": ([2, 3], [0] * 6)}
header, blob = {}, b""
for name, (shape, vals) in tensors.items():
    data = struct.pack("<%dd" % len(vals), *vals)
    header[name] = {"dtype": "F64", "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
    blob += data
h = json.dumps(header).encode()
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h + blob)
PY
printf 'x1,x2,y\n1,0,0\n0,1,1\n0,2,1\n2,1,0\n' > "$WORK/tiny.csv"
run "$TDL" bounds --model "$WORK/tiny.safetensors" --act relu --data "$WORK/tiny.csv" --no-flatness --json
expect_status 0 "bounds on the tiny net"
# every number as docs/bounds.md Sec. 11 derives it by hand
python3 - "$WORK/out" > "$WORK/check" <<'PY'
import json, math, sys
d = json.load(open(sys.argv[1]))
rows = {m["name"]: m for m in d["measures"]}
conf = 3 * math.sqrt(math.log(2 / 0.05) / 8)          # 3 sqrt(ln(2/delta)/(2m)), m = 4
ramp, gamma = 3 / 52, 1.3
rad_n15 = 2 * math.sqrt(11) * 4 / (math.sqrt(2) * 4)  # 2^(L-1) ||X||_F prod ||W||_F / (sqrt2 m)
rad_g1 = (1 + math.sqrt(2 * 2 * math.log(2))) * math.sqrt(11) * 4 / 4
rad_g2 = 2 * 4 * math.sqrt(3 + math.log(2)) * math.sqrt(6) / 4
s = (( 1 + 1 + math.sqrt(2)) / math.sqrt(3)) ** (2 / 3) + ((2 * math.sqrt(2)) / math.sqrt(3)) ** (2 / 3)
r_a = 3 * s ** 1.5
rad_b = 4 / 4 + 36 * math.log(4) * math.sqrt(math.log(12)) * math.sqrt(11) * r_a / (gamma * 4)
expected = {
    ("margin", "value"): gamma,
    ("train_ramp_loss", "value"): ramp,
    ("frobenius_product", "value"): 4.0,
    ("spectral_product", "value"): 3.0,
    ("path_l1", "value"): 6.0,
    ("path_l2", "value"): math.sqrt(6),
    ("dist_init_frobenius", "value"): math.sqrt(8),
    # C = 2 through f_1 - f_0: complexity (2/gamma)(2 Rad1)
    ("neyshabur2015_frobenius", "fixed_scale_value"): ramp + 4 * rad_n15 / gamma + conf,
    ("golowich2018_frobenius", "fixed_scale_value"): ramp + 4 * rad_g1 / gamma + conf,
    ("golowich2018_l1inf", "fixed_scale_value"): ramp + 4 * rad_g2 / gamma + conf,
    ("bartlett2017_spectral", "fixed_scale_value"): ramp + 2 * rad_b + conf,
}
for (name, key), want in expected.items():
    got = rows.get(name, {}).get(key)
    if got is None or abs(got - want) > 1e-12 * abs(want):
        print("FAIL: %s %s = %r, by hand %r" % (name, key, got, want))
    else:
        print("ok")
# the uniform golowich2018_frobenius bound of docs/bounds.md Sec. 3: ||U||_F = ||V||_F = 2 = 2^1 (j = 3),
# gamma = 1.3 -> gamma' = 2^0 = 1 (j = 1), U = 2 ln 3 + 2 ln 3 + 2 ln 1 + 3 ln(pi^2/6); the smallest
# margin is exactly 1, so the ramp loss at gamma' is 0
union_cost = 4 * math.log(3) + 3 * math.log(math.pi ** 2 / 6)
terms = {"empirical": 0.0, "complexity": 4 * rad_g1 / gamma, "rounding": 4 * rad_g1 / 1 - 4 * rad_g1 / gamma,
         "confidence": conf, "union": 3 * math.sqrt((math.log(2 / 0.05) + union_cost) / 8) - conf}
total = sum(terms.values())
print("ok" if abs(total - 38.6390) < 5e-5 else "FAIL: hand total %r is not the doc's 38.6390" % total)
g = rows.get("golowich2018_frobenius", {})
print("ok" if g.get("kind") == "bound" and g.get("classifier") == "deterministic" and g.get("delta") == 0.05 else
      "FAIL: golowich2018_frobenius kind %r classifier %r delta %r" % (g.get("kind"), g.get("classifier"), g.get("delta")))
got = g.get("bound")
print("ok" if got is not None and abs(got - total) <= 1e-12 * total else "FAIL: golowich2018_frobenius bound %r, by hand %r" % (got, total))
gt = g.get("terms") or {}
print("ok" if list(gt) == list(terms) else "FAIL: terms %r" % list(gt))
for k, want in terms.items():
    v = gt.get(k)
    print("ok" if v is not None and abs(v - want) <= 1e-12 * max(abs(want), 1) else "FAIL: term %s = %r, by hand %r" % (k, v, want))
print("ok" if abs(sum(gt.values()) - (got or 0)) <= 1e-12 else "FAIL: the terms do not add up to the bound")
print("ok" if g.get("vacuous") is True and g.get("below_chance") is False else "FAIL: vacuous / below_chance")
# golowich2018_l1inf: prod ||W_i||_{1,inf} = 4 -> balanced 2 = 2^1 each (j = 3), the same grid point
gl = rows.get("golowich2018_l1inf", {})
want_l = 0.0 + 4 * rad_g2 / gamma + (4 * rad_g2 - 4 * rad_g2 / gamma) + conf + (terms["union"])
print("ok" if gl.get("kind") == "bound" and abs((gl.get("bound") or 0) - want_l) <= 1e-12 * want_l else
      "FAIL: golowich2018_l1inf %r %r, by hand %r" % (gl.get("kind"), gl.get("bound"), want_l))
for name in ("neyshabur2015_frobenius", "bartlett2017_spectral"):
    m = rows.get(name, {})
    print("ok" if m.get("kind") == "measure" and m.get("bound") is None else
          "FAIL: %s: kind %r bound %r (a fixed-scale theorem at data-chosen scales is a measure)" % (name, m.get("kind"), m.get("bound")))
print("ok" if d.get("chance") == 0.5 else "FAIL: chance %r for two classes" % d.get("chance"))
PY
while read -r line; do
    case "$line" in ok) ok ;; *) bad "${line#FAIL: }" ;; esac
done < "$WORK/check"
[ -s "$WORK/check" ] || bad "the hand-computed checks did not run"
finish
