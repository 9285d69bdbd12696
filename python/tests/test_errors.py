"""libtdl's failures come back as tdl.Error with its status and message."""
import ctypes

import numpy as np
import pytest

import tdl
from tdl import _lib


def test_nan_in_X():
    X = np.ones((5, 3))
    X[2, 1] = np.nan
    with pytest.raises(tdl.Error) as e:
        tdl.Data(X, np.array([0, 1, 0, 1, 0]))
    assert e.value.status == _lib.ENONFINITE
    assert "X[2, 1]" in str(e.value) and e.value.message == str(e.value)


def test_wrong_shapes():
    with pytest.raises(tdl.Error) as e:
        tdl.Data(np.ones((5, 3)), np.array([0, 1, 0]))
    assert e.value.status == _lib.ESHAPE
    with pytest.raises(tdl.Error) as e:
        tdl.Data(np.ones(5), np.array([0, 1, 0, 1, 0]))
    assert e.value.status == _lib.ESHAPE
    # a net whose input width does not match the data
    m = tdl.Model.create("3-4-2", seed=0)
    with pytest.raises(tdl.Error) as e:
        m.hessian(tdl.Data(np.ones((6, 5)), np.array([0, 1] * 3)))
    assert "5" in str(e.value) and "3" in str(e.value)


def test_bad_labels():
    with pytest.raises(tdl.Error) as e:
        tdl.Data(np.ones((3, 2)), np.array([0, -1, 1]))
    assert e.value.status == _lib.EINVAL


def test_unknown_activation():
    with pytest.raises(tdl.Error) as e:
        tdl.Model.create("3-4-2", activation="swish")
    assert e.value.status == _lib.EINVAL
    assert "swish" in str(e.value)
    sd = {"0.weight": np.ones((4, 3)), "0.bias": np.zeros(4), "2.weight": np.ones((2, 4)), "2.bias": np.zeros(2)}
    with pytest.raises(tdl.Error) as e:
        tdl.Model.from_state_dict(sd, activation="swish")
    assert "swish" in str(e.value)


def test_state_dict_without_activation():
    sd = {"0.weight": np.ones((4, 3)), "0.bias": np.zeros(4), "2.weight": np.ones((2, 4)), "2.bias": np.zeros(2)}
    with pytest.raises(tdl.Error) as e:
        tdl.Model.from_state_dict(sd)
    assert e.value.status != _lib.OK and "activation" in str(e.value).lower() or "act" in str(e.value)


def test_state_dict_bad_shapes():
    sd = {"0.weight": np.ones((4, 3)), "2.weight": np.ones((2, 5))}
    with pytest.raises(tdl.Error) as e:
        tdl.Model.from_state_dict(sd, activation="relu")
    assert e.value.status in (_lib.ESHAPE, _lib.EFORMAT, _lib.EINVAL)


def test_bad_files(tmp_path):
    with pytest.raises(tdl.Error) as e:
        tdl.Model.load(str(tmp_path / "absent.safetensors"))
    assert e.value.status == _lib.EIO
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{broken}")
    with pytest.raises(tdl.Error) as e:
        tdl.Model.load(str(bad))
    assert e.value.status == _lib.EFORMAT
    with pytest.raises(tdl.Error) as e:
        tdl.Data.load("no-such-set")
    assert "no-such-set" in str(e.value)


def test_bad_options():
    m = tdl.Model.create("2-3-2", seed=0)
    d = tdl.Data(np.eye(2), np.array([0, 1]))
    with pytest.raises(tdl.Error) as e:
        m.train(d, optimizer="rmsprop")
    assert "rmsprop" in str(e.value)
    with pytest.raises(tdl.Error):
        m.train(d, epochs=-1)
    with pytest.raises(tdl.Error) as e:
        m.hessian(d, smoothing="nope")
    assert "nope" in str(e.value)
    with pytest.raises(tdl.Error):
        m.ntk(d, method="fast")
    with pytest.raises(tdl.Error):
        m.bounds(d, delta=2)
    with pytest.raises(tdl.Error) as e:
        m.hessian(d, loss="hinge2")
    assert "hinge2" in str(e.value)


def test_mirrored_struct_sizes():
    # the package refuses to load against a library whose structs differ;
    # checked here explicitly as well
    for name, cls in _lib.MIRRORS.items():
        assert _lib.lib.tdl_sizeof(name.encode()) == ctypes.sizeof(cls), name
    assert _lib.lib.tdl_sizeof(b"tdl_mlp") == 0


def test_version():
    assert tdl.version().count(".") == 2
    assert tdl.__version__ == tdl.version()
    assert tdl.blas_core()
