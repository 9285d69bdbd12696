"""The Python results against `tdl <command> --json` on the same model file
and data: the same keys at every level, values equal to 1e-12 relative."""
import os

import numpy as np
import pytest

import tdl
from conftest import BINARY, SPEC, assert_same, run_json


@pytest.fixture()
def model(model_file):
    return tdl.Model.load(model_file)


def test_model_file_roundtrip(model, model_file):
    assert model.arch == "4-6-3"
    assert model.activation == "tanh"
    assert model.n_params == 4 * 6 + 6 + 6 * 3 + 3
    assert model.widths == [4, 6, 3]
    sd = model.state_dict()
    assert sd["0.weight"].shape == (6, 4) and sd["2.bias"].shape == (3,)
    again = tdl.Model.from_state_dict(sd, activation="tanh")
    np.testing.assert_array_equal(again.theta, model.theta)


@pytest.mark.parametrize("args, kw", [
    ([], {}),
    (["--k", "5", "--which", "bottom"], dict(k=5, which="bottom")),
    (["--k", "4", "--which", "magnitude", "--gn"], dict(k=4, which="magnitude", gn=True)),
    (["--layer", "1", "--density", "--points", "50"], dict(layer=1, density=True, points=50)),
])
def test_hessian_exact(cli, model, model_file, args, kw):
    ref = run_json(cli, "hessian", "--model", model_file, "--data", SPEC, *args)
    got = model.hessian(tdl.Data.load(SPEC), **kw)
    assert_same(got, ref)


def test_hessian_exact_vectors(cli, model, model_file, workdir):
    vec = str(workdir / "v.npy")
    ref = run_json(cli, "hessian", "--model", model_file, "--data", SPEC, "--k", "3", "--vectors", vec)
    got = model.hessian(SPEC, k=3, vectors=True)
    V = got.pop("eigenvectors")
    # residuals are of order eps ||H||: compare them absolutely
    np.testing.assert_allclose(got.pop("residuals"), ref.pop("residuals"), rtol=0, atol=1e-12)
    assert_same(got, ref)
    np.testing.assert_allclose(np.abs(V), np.abs(np.load(vec)), rtol=0, atol=1e-10)


def test_hessian_lanczos(cli, model, model_file):
    ref = run_json(cli, "hessian", "--model", model_file, "--data", SPEC, "--method", "lanczos", "--k", "4",
                   "--gn", "--hessian-seed", "3")
    got = model.hessian(SPEC, method="lanczos", k=4, gn=True, seed=3)
    assert_same(got, ref, rtol=1e-9, skip=("residuals",))
    np.testing.assert_allclose(got["residuals"], ref["residuals"], rtol=0, atol=1e-8)


def test_hessian_slq(cli, model, model_file):
    ref = run_json(cli, "hessian", "--model", model_file, "--data", SPEC, "--method", "slq", "--runs", "3",
                   "--steps", "12", "--points", "64")
    got = model.hessian(SPEC, method="slq", runs=3, steps=12, points=64)
    assert_same(got, ref, rtol=1e-9)


@pytest.mark.parametrize("args, kw", [
    ([], {}),
    (["--full"], dict(full=True)),
    (["--per-layer", "--drift", "--layers", "0,1"], dict(per_layer=True, drift=True, layers=[0, 1])),
    (["--analytic"], dict(analytic=True)),
    (["--analytic", "--nngp"], dict(analytic=True, nngp=True)),
    (["--h-inf"], dict(h_inf=True)),
    (["--mc", "3"], dict(mc=3)),
    (["--mc", "2", "--nngp", "--seed", "5"], dict(mc=2, nngp=True, seed=5)),
])
def test_ntk(cli, model, model_file, args, kw):
    ref = run_json(cli, "ntk", "--model", model_file, "--data", SPEC, *args)
    got = model.ntk(tdl.Data.load(SPEC), **kw)
    assert_same(got, ref, rtol=1e-11)


def test_ntk_predict_and_arora(cli, workdir):
    m = tdl.Model.create("4-8-1", activation="relu", seed=5)
    path = str(workdir / "one.safetensors")
    m.save(path)
    test = "gauss:n=20,d=4,classes=2,seed=9"
    for args, kw in (([], {}), (["--time", "3", "--lr", "0.5", "--ridge", "0.01"], dict(time=3, lr=0.5, ridge=0.01))):
        ref = run_json(cli, "ntk", "--model", path, "--data", BINARY, "--test", test, "--predict", *args)
        got = m.ntk(BINARY, test=test, predict=True, **kw)
        assert "arora_complexity" in got
        # the Python net is the fresh one, the CLI's its saved file: only their provenance differs
        assert got["model_provenance"]["source"] == "fresh net" and ref["model_provenance"]["source"] == "file"
        assert ref["model_provenance"]["metadata"]["seed"] == "5" and got["model_provenance"]["seed"] == 5
        assert_same(got, ref, rtol=1e-10, skip=("model_provenance",))


def test_bounds(cli, model, model_file):
    ref = run_json(cli, "bounds", "--model", model_file, "--data", SPEC, "--test", "gauss:n=20,d=4,classes=3,seed=4",
                   "--quick", "--bound-seed", "2")
    got = model.bounds(SPEC, test="gauss:n=20,d=4,classes=3,seed=4", quick=True, seed=2)
    assert_same(got, ref, rtol=1e-10)


@pytest.mark.parametrize("args, kw", [
    (["--grid", "7"], dict(grid=7)),
    (["--grid", "5", "--plane", "random", "--norm", "layer", "--direction-seed", "4"],
     dict(grid=5, plane="random", norm="layer", direction_seed=4)),
    (["--grid", "4", "--plane", "hessian", "--range=-0.5:0.5"], dict(grid=4, plane="hessian", range=(-0.5, 0.5))),
])
def test_landscape(cli, model, model_file, args, kw):
    ref = run_json(cli, "landscape", "--model", model_file, "--data", SPEC, *args)
    got = model.landscape(SPEC, **kw)
    assert_same(got, ref, rtol=1e-10)


def test_landscape_interpolation(cli, model, model_file, workdir):
    other = tdl.Model.create("4-6-3", activation="tanh", seed=7)
    path = str(workdir / "other.safetensors")
    other.save(path)
    ref = run_json(cli, "landscape", "--model", model_file, "--to", path, "--data", SPEC, "--grid", "9",
                   "--test", BINARY.replace("classes=2", "classes=3"))
    got = model.landscape(SPEC, to=other, grid=9, test=BINARY.replace("classes=2", "classes=3"))
    assert_same(got, ref, rtol=1e-10)


def test_train(cli, model_file, workdir):
    out = str(workdir / "trained.safetensors")
    ref = run_json(cli, "train", "--model", model_file, "--data", SPEC, "--test", BINARY.replace("classes=2", "classes=3"),
                   "--epochs", "6", "--batch", "16", "--lr", "0.05", "-o", out, "--quiet")
    m = tdl.Model.load(model_file)
    mine = str(workdir / "trained-py.safetensors")
    got = m.train(SPEC, test=BINARY.replace("classes=2", "classes=3"), epochs=6, batch=16, lr=0.05, out=mine)
    assert got["model"] == mine
    got["model"] = out
    assert_same(got, ref)
    np.testing.assert_array_equal(m.theta, tdl.Model.load(out).theta)
    assert m.meta("train_loss") == tdl.Model.load(out).meta("train_loss")


def test_train_adam_regression(cli, workdir):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    Y = np.stack([X[:, 0] - X[:, 1], X[:, 2] ** 2], axis=1)
    npz = str(workdir / "reg.npz")
    np.savez(npz, X=X, y=Y)
    init = tdl.Model.create("3-10-2", activation="gelu", seed=4)
    path = str(workdir / "reg.safetensors")
    init.save(path)
    out = str(workdir / "reg-trained.safetensors")
    ref = run_json(cli, "train", "--model", path, "--data", npz, "--opt", "adam", "--epochs", "4", "--batch", "0",
                   "-o", out, "--quiet")
    m = tdl.Model.load(path)
    got = m.train(tdl.Data(X, Y, description=npz), optimizer="adam", epochs=4, batch=0)
    assert got["model"] is None and "model_reason" in got
    got["model"] = out
    del got["model_reason"]
    assert_same(got, ref)


def test_train_diverges(cli, model_file, workdir):
    out = str(workdir / "div.safetensors")
    ref = run_json(cli, "train", "--model", model_file, "--data", SPEC, "--lr", "1e6", "--epochs", "5", "-o", out,
                   "--quiet", ok=(1,))
    m = tdl.Model.load(model_file)
    mine = str(workdir / "div-py.safetensors")
    with pytest.raises(tdl.Error) as e:
        m.train(SPEC, lr=1e6, epochs=5, out=mine)
    assert e.value.status == tdl._lib.EDIVERGED
    assert "diverged" in str(e.value)
    got = e.value.result
    assert got["last_good"] == mine + ".last-good.safetensors" and os.path.exists(got["last_good"])
    got["last_good"] = ref["last_good"]
    assert_same(got, ref)


def test_npz_model_and_numpy_dict(cli, model, workdir):
    """A dict of numpy arrays saved as .npz loads through libtdl's reader
    (as `tdl --model file.npz`) and from the dict itself: the same net."""
    sd = model.state_dict()
    path = str(workdir / "sd.npz")
    np.savez(path, **sd)
    a = tdl.Model.from_state_dict(path, activation="tanh")
    b = tdl.Model.from_state_dict({k: v.astype(np.float32).astype(np.float64) for k, v in sd.items()}
                                  | {"activation": "tanh"})
    np.testing.assert_array_equal(a.theta, model.theta)
    assert b.activation == "tanh"
    ref = run_json(cli, "hessian", "--model", path, "--act", "tanh", "--data", SPEC, "--k", "3")
    assert_same(a.hessian(SPEC, k=3), ref)


def test_bounds_pac_bayes(cli, model_file):
    test = "gauss:n=20,d=4,classes=3,seed=4"
    ref = run_json(cli, "bounds", "--model", model_file, "--data", SPEC, "--test", test, "--pac-bayes-opt", "--quick",
                   "--pb-epochs", "2", "--pb-samples", "3", "--pb-objective", "pinsker", "--no-flatness")
    got = tdl.Model.load(model_file).bounds(SPEC, test=test, pb=True, quick=True, pb_epochs=2, pb_samples=3,
                                            pb_objective="pinsker", flatness=False)
    assert got["dziugaite_roy"]["epochs"] == 2
    assert_same(got, ref, rtol=1e-10)


def test_landscape_models_plane(cli, model, model_file, workdir):
    paths = []
    for seed in (8, 9):
        other = tdl.Model.create("4-6-3", activation="tanh", seed=seed)
        paths.append(str(workdir / f"plane{seed}.safetensors"))
        other.save(paths[-1])
    ref = run_json(cli, "landscape", "--model", model_file, "--to", paths[0], "--via", paths[1], "--data", SPEC,
                   "--grid", "5")
    got = model.landscape(SPEC, to=tdl.Model.load(paths[0]), via=tdl.Model.load(paths[1]), grid=5)
    assert got["plane"] == "models"
    assert_same(got, ref, rtol=1e-10)


def test_train_snapshots_and_pca_plane(cli, model_file, workdir):
    out, snaps = str(workdir / "pca.safetensors"), str(workdir / "snaps.npz")
    run_json(cli, "train", "--model", model_file, "--data", SPEC, "--epochs", "5", "--batch", "8", "-o", out,
             "--log-params", snaps, "--quiet")
    m = tdl.Model.load(model_file)
    thetas = []
    m.train(SPEC, epochs=5, batch=8, callback=lambda p: thetas.append(p["theta"]))
    T = np.load(snaps)["theta"]
    np.testing.assert_array_equal(np.array(thetas), T)
    ref = run_json(cli, "landscape", "--model", out, "--data", SPEC, "--plane", "pca", "--trajectory", snaps,
                   "--grid", "5")
    got = m.landscape(SPEC, plane="pca", trajectory=np.array(thetas), grid=5)
    assert_same(got, ref, rtol=1e-9)
    assert_same(m.landscape(SPEC, plane="pca", trajectory=snaps, grid=5), ref, rtol=1e-9)


def test_evaluate(cli, model, model_file, workdir):
    ref = run_json(cli, "eval", "--model", model_file, "--data", SPEC, "--margin-percentile", "25")
    assert_same(model.evaluate(SPEC, margin_percentile=25), ref)
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(20, 4)), rng.normal(size=(20, 3))
    npz = str(workdir / "eval-reg.npz")
    np.savez(npz, X=X, y=Y)
    ref = run_json(cli, "eval", "--model", model_file, "--data", npz)
    assert_same(model.evaluate(tdl.Data(X, Y, description=npz)), ref)


def test_python_operator_fallback(cli, model, model_file, monkeypatch):
    """Without tdl_hessian_operator (an older libtdl) the products come from
    tdl_mlp_hvp through a Python callback: the same numbers."""
    from tdl import _analyses
    monkeypatch.setattr(_analyses, "_Operator", _analyses._PyOperator)
    ref = run_json(cli, "hessian", "--model", model_file, "--data", SPEC, "--method", "lanczos", "--k", "3",
                   "--layer", "1")
    got = model.hessian(SPEC, method="lanczos", k=3, layer=1)
    assert_same(got, ref, rtol=1e-9, skip=("residuals",))


def test_landscape_curve(cli, model, model_file, workdir):
    other = tdl.Model.create("4-6-3", activation="tanh", seed=11)
    path = str(workdir / "curve-end.safetensors")
    other.save(path)
    test = "gauss:n=20,d=4,classes=3,seed=4"
    ref = run_json(cli, "landscape", "--model", model_file, "--to", path, "--data", SPEC, "--test", test,
                   "--curve", "bezier", "--curve-epochs", "3", "--curve-batch", "16", "--grid", "9",
                   "--direction-seed", "2")
    got = model.landscape(SPEC, to=other, test=test, curve="bezier", curve_epochs=3, curve_batch=16, grid=9,
                          direction_seed=2)
    assert got.pop("bend").shape == (model.n_params,)
    assert_same(got, ref, rtol=1e-10)


def test_conventions(cli, model_file):
    """PyTorch's conventions (issue 23): the model's loss convention and the
    summed NTK give the CLI's --reduction / --loss mse:torch / --ntk-outputs."""
    m = tdl.Model.load(model_file)
    assert m.loss_convention == ("mean", "tdl")
    m.set_loss_convention(reduction="sum", mse="torch")
    assert m.loss_convention == ("sum", "torch")
    ref = run_json(cli, "hessian", "--model", model_file, "--data", SPEC, "--loss", "mse:torch", "--reduction", "sum")
    assert_same(m.hessian(SPEC, loss="mse"), ref)
    assert ref["reduction"] == "sum" and ref["mse_convention"] == "torch"
    ref = run_json(cli, "eval", "--model", model_file, "--data", SPEC, "--loss", "mse:torch", "--reduction", "sum")
    assert_same(m.evaluate(SPEC, loss="mse"), ref)
    ref = run_json(cli, "ntk", "--model", model_file, "--data", SPEC, "--ntk-outputs", "sum")
    got = m.ntk(SPEC, outputs="sum")
    assert_same(got, ref, rtol=1e-11)
    assert got["ntk_outputs"] == "sum"
