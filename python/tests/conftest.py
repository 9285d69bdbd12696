"""Shared fixtures: the `tdl` program, a small model file, data specs, and
the comparison of a Python result with the CLI's --json."""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import tdl  # noqa: E402
from tdl import _lib  # noqa: E402

# keys that measure the run, not the result
VOLATILE = {"seconds", "seconds_per_epoch"}
RTOL = 1e-12


@pytest.fixture(scope="session")
def cli():
    exe = _lib.find_cli()
    if not exe:
        pytest.skip("the tdl program was not found (set TDL_CLI)")
    return exe


def run_json(cli, *args, ok=(0,)):
    p = subprocess.run([cli, *args, "--json"], capture_output=True, text=True)
    assert p.returncode in ok, f"tdl {' '.join(args)}: exit {p.returncode}: {p.stderr}"
    return json.loads(p.stdout)


def _close(a, b, path, rtol):
    if isinstance(b, dict):
        assert isinstance(a, dict), f"{path}: {type(a).__name__}, CLI has an object"
        assert set(a) == set(b), (f"{path}: keys differ: only Python {sorted(set(a) - set(b))}, "
                                  f"only CLI {sorted(set(b) - set(a))}")
        for k in b:
            if k not in VOLATILE:
                _close(a[k], b[k], f"{path}.{k}", rtol)
    elif isinstance(b, list):
        if b and isinstance(b[0], dict):
            assert len(a) == len(b), f"{path}: {len(a)} entries, CLI {len(b)}"
            for i, (x, y) in enumerate(zip(a, b)):
                _close(x, y, f"{path}[{i}]", rtol)
            return
        bb = np.array([np.nan if v is None else v for v in np.ravel(np.array(b, dtype=object))], dtype=float)
        aa = np.ravel(np.asarray(a, dtype=float))
        assert aa.shape == bb.shape, f"{path}: shape {aa.shape}, CLI {bb.shape}"
        np.testing.assert_allclose(aa, bb, rtol=rtol, atol=0, equal_nan=True, err_msg=path)
    elif isinstance(b, bool) or isinstance(b, str) or b is None:
        assert a == b, f"{path}: {a!r}, CLI {b!r}"
    else:
        assert isinstance(a, (int, float)) and not isinstance(a, bool), f"{path}: {a!r}, CLI {b!r}"
        assert math.isclose(a, b, rel_tol=rtol, abs_tol=0) or a == b, f"{path}: {a!r}, CLI {b!r}"


def assert_same(py, cli_json, rtol=RTOL, skip=()):
    """Same keys at every level; numbers and arrays equal to rtol."""
    py = {k: v for k, v in py.items() if k not in skip}
    cj = {k: v for k, v in cli_json.items() if k not in skip}
    _close(py, cj, "$", rtol)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("tdl-py")


@pytest.fixture(scope="session")
def model_file(workdir):
    """A 4-6-3 tanh net with biases (sigma_b 0.3), saved as the CLI reads it."""
    m = tdl.Model.create("4-6-3", activation="tanh", sigma_b=0.3, seed=2)
    path = str(workdir / "m.safetensors")
    m.save(path)
    return path


SPEC = "gauss:n=40,d=4,classes=3,seed=1"
BINARY = "gauss:n=30,d=4,classes=2,seed=3"
