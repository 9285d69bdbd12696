"""tdl.verify: the dict of `tdl verify --json` for the fixtures of
tests/fixtures/verify/ (answers computed by torch / numpy, never by tdl; see
tests/cli/test_verify.sh for which file plants which slip), answers given as
arrays, and a genuine 1e-3 error that no slip explains."""
import os

import numpy as np
import pytest

import tdl
from conftest import assert_same, run_json

F = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "verify")
NET = os.path.join(F, "net.npz")
DATA = os.path.join(F, "data.npz")
MSE = ["--model", NET, "--act", "tanh", "--data", DATA, "--loss", "mse"]
CE = ["--model", NET, "--act", "tanh", "--data", DATA, "--loss", "ce"]
ANA = ["--arch", "4-5-3", "--act", "relu", "--param", "ntk", "--sigma-w", "1.5", "--sigma-b", "0.1",
       "--data", DATA]


def f(name):
    return os.path.join(F, name)


def _kl_inv():
    with open(f("kl_inv.txt")) as fh:
        return fh.read().strip()


def _path_l2():
    with open(f("path_l2.txt")) as fh:
        return fh.read().strip()


# (quantity, answer, loss or "analytic", extra keyword arguments, expected verdict, expected slip)
CASES = [
    ("loss", "loss.npy", "mse", {}, "PASS", "none"),
    ("loss", "ce_loss.npy", "ce", {}, "PASS", "none"),
    ("gradient", "grad.npy", "mse", {}, "PASS", "none"),
    ("gradient", "grad.csv", "mse", {}, "PASS", "none"),
    ("gradient", "answers.npz:grad", "mse", {}, "PASS", "none"),
    ("jacobian", "jac.npy", "mse", {}, "PASS", "none"),
    ("hessian", "hess.npy", "mse", {}, "PASS", "none"),
    ("gn", "gn.npy", "mse", {}, "PASS", "none"),
    ("hvp", "hvp.npy", "mse", {"vector": "v.npy"}, "PASS", "none"),
    ("hessian-eigenvalues", "eig.npy", "mse", {}, "PASS", "none"),
    ("ntk", "ntk.npy", "mse", {}, "PASS", "none"),
    ("ntk", "ntk_full.npy", "mse", {"ntk_full": True}, "PASS", "none"),
    ("nngp", "nngp.npy", "analytic", {}, "PASS", "none"),
    ("ntk:analytic", "ntk_analytic.npy", "analytic", {}, "PASS", "none"),
    ("hessian", "near_hess.npy", "mse", {}, "PASS", "none"),
    ("gradient", "slip_sum_grad.npy", "mse", {}, "FAIL", "sum_not_mean"),
    ("loss", "slip_nohalf_loss.npy", "mse", {}, "FAIL", "no_half"),
    ("ntk", "slip_ntk_summed.npy", "mse", {}, "FAIL", "outputs_summed"),
    ("ntk", "slip_ntk_averaged.npy", "mse", {}, "FAIL", "outputs_averaged"),
    ("gradient", "slip_transposed_grad.npy", "mse", {}, "FAIL", "transposed_weights|column_major"),
    ("gradient", "slip_biasfirst_grad.npy", "mse", {}, "FAIL", "biases_first"),
    ("hessian-eigenvalues", "slip_desc_eig.npy", "mse", {}, "FAIL", "descending"),
    ("gradient", "slip_sign_grad.npy", "mse", {}, "FAIL", "sign"),
    ("hessian", "slip_layer1_hess.npy", "mse", {}, "FAIL", "one_layer_block"),
    ("loss", "slip_int_loss.npy", "mse", {}, "FAIL", "integer_targets"),
    ("gradient", "slip_int_grad.npy", "mse", {}, "FAIL", "integer_targets"),
    ("loss", "slip_log2_ce.npy", "ce", {}, "FAIL", "log2"),
    ("gradient", "err_grad.npy", "mse", {}, "FAIL", "none"),
    ("hessian", "err_hess.npy", "mse", {}, "FAIL", "none"),
    ("gradient", "hess.npy", "mse", {}, "FAIL", "none"),   # a shape mismatch
]


def _model_args(kind):
    if kind == "analytic":
        m = tdl.Model.create("4-5-3", activation="relu", param="ntk", sigma_w=1.5, sigma_b=0.1)
        return m, {}, ANA
    return NET, {"activation": "tanh", "loss": kind}, MSE if kind == "mse" else CE


@pytest.mark.parametrize("quantity, answer, kind, extra, verdict, slip", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_same_as_cli(cli, quantity, answer, kind, extra, verdict, slip):
    model, kw, cli_args = _model_args(kind)
    args = ["verify", "--quantity", quantity, *cli_args, "--answer", f(answer)]
    kw = dict(kw)
    if "vector" in extra:
        kw["vector"] = f(extra["vector"])
        args += ["--vector", f(extra["vector"])]
    if extra.get("ntk_full"):
        kw["ntk_full"] = True
        args.append("--ntk-full")
    want = run_json(cli, *args, ok=(0, 1))
    got = tdl.verify(quantity, f(answer), model, DATA, **kw)
    assert want["verdict"] == verdict and want["slip"] in slip.split("|"), want
    assert got["verdict"] == verdict and got["passed"] == (verdict == "PASS")
    assert got["slip"] == want["slip"]
    assert (got["factor"] is None) == (want["factor"] is None)
    if want["factor"] is not None:
        assert got["factor"] == pytest.approx(want["factor"], rel=1e-12)
    # every key and value the same; the analytic kernels' "exact" text names
    # the net's sigmas, which the package cannot read back
    assert_same(got, want, skip=("exact",) if kind == "analytic" else ())


def test_scalar_literals_same_as_cli(cli):
    want = run_json(cli, "verify", "--quantity", "kl-inverse", "--q", "0.1", "--c", "0.2", "--answer", _kl_inv())
    got = tdl.verify("kl-inverse", float(_kl_inv()), q=0.1, c=0.2)
    assert got["passed"] and want["passed"]
    assert_same(got, want, skip=("answer",))
    want = run_json(cli, "verify", "--quantity", "bound:path_l2", *MSE, "--answer", _path_l2())
    got = tdl.verify("bound:path_l2", _path_l2(), NET, DATA, loss="mse", activation="tanh")
    assert_same(got, want)


def _exact_gradient():
    g = np.load(f("grad.npy"))
    r = tdl.verify("gradient", g, NET, DATA, loss="mse", activation="tanh")
    assert r["passed"] and r["slip"] == "none" and r["diagnosis"] == ""
    return g


def test_arrays_pass_and_a_1e3_error_fails():
    model = tdl.Model.from_state_dict(NET, activation="tanh")
    data = tdl.Data.load(DATA)
    g = _exact_gradient()
    # a correct answer as an array, a list, a one-column matrix: PASS; the
    # torch fixture agrees with tdl far inside 1e-8
    for a in (g, list(g), g.reshape(-1, 1)):
        r = tdl.verify("gradient", a, model, data, loss="mse")
        assert r["passed"] and r["rel_error"] < 1e-12
    # one entry off by 1e-3 of max |g|: FAIL, no slip, rel_error 1e-3
    bad = g.copy()
    k = int(np.argmax(np.abs(g)))
    bad[k] += 1e-3 * np.max(np.abs(g))
    r = tdl.verify("gradient", bad, model, data, loss="mse")
    assert not r["passed"] and r["verdict"] == "FAIL" and r["slip"] == "none"
    assert r["factor"] is None and r["factor_reason"] == "no scale slip"
    assert r["rel_error"] == pytest.approx(1e-3, rel=1e-6)
    assert r["worst_index"] == k and r["worst_meaning"].startswith("dL / d ")
    assert r["diagnosis"]
    # ... and passes at a tolerance above it
    assert tdl.verify("gradient", bad, model, data, loss="mse", tol=1e-2)["passed"]
    # a slip planted here: the sum over the n examples
    r = tdl.verify("gradient", data.n * g, model, data, loss="mse")
    assert r["slip"] == "sum_not_mean" and r["factor"] == pytest.approx(data.n, rel=1e-10)


def test_errors():
    m = tdl.Model.from_state_dict(NET, activation="tanh")
    with pytest.raises(tdl.Error, match="no member 'nope'"):
        tdl.verify("gradient", f("answers.npz:nope"), m, DATA)
    with pytest.raises(tdl.Error, match="2 members"):
        tdl.verify("gradient", f("answers.npz"), m, DATA)
    with pytest.raises(tdl.Error, match="3-D"):
        tdl.verify("gradient", f("bad3d.npy"), m, DATA)
    with pytest.raises(tdl.Error, match="not a number"):
        tdl.verify("gradient", "nonsense", m, DATA)
    with pytest.raises(tdl.Error, match="quantity foo"):
        tdl.verify("foo", 1.0, m, DATA)
    with pytest.raises(tdl.Error, match="needs vector"):
        tdl.verify("hvp", 1.0, m, DATA)
    with pytest.raises(tdl.Error, match="43 parameters"):
        tdl.verify("hvp", f("hvp.npy"), m, DATA, vector=np.ones(5))
    with pytest.raises(tdl.Error, match="not a row"):
        tdl.verify("bound:nope", 1.0, m, DATA)
    with pytest.raises(tdl.Error, match="kl-inverse"):
        tdl.verify("kl-inverse", 0.5, q=0.1)
    with pytest.raises(tdl.Error, match="tol"):
        tdl.verify("loss", 1.0, m, DATA, tol=-1)
