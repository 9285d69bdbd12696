"""tdl — Python access to libtdl, the analysis library of linear and shallow
neural nets (Hessian spectra, NTK / NNGP kernels, generalization bounds,
loss landscapes, reproducible training).

    import numpy as np, tdl
    data = tdl.Data(X, y)                       # X: n x d, y: labels or targets
    model = tdl.Model.create("4-16-3", activation="tanh", seed=0)
    model.train(data, epochs=50)                # the dict of `tdl train --json`
    model.hessian(data, method="exact")         # `tdl hessian --json`
    model.ntk(data), model.bounds(data), model.landscape(data)
    tdl.verify("gradient", g, model, data)     # `tdl verify --json`: your g vs tdl's

Everything runs in libtdl (ctypes over its public C API, include/tdl/*.h);
results are dicts with the keys of the matching `tdl <command> --json`;
libtdl's failures raise tdl.Error carrying its message.
"""
import json
import subprocess

from ._lib import Error, library_path, find_cli, lib as _clib, text as _text
from ._data import Data
from ._model import Model
from . import _analyses  # noqa: F401  (attaches hessian, ntk, bounds, landscape)
from ._verify import verify

__all__ = ["Data", "Model", "Error", "check", "verify", "version", "blas_core", "library_path"]


def version():
    """libtdl's version ("MAJOR.MINOR.PATCH")."""
    return _text(_clib.tdl_version())


def blas_core():
    """The OpenBLAS kernel libtdl runs on ("Haswell", ...)."""
    return _text(_clib.tdl_blas_core())


__version__ = version()


def check(name, quick=False, seed=None, broken=False, timeout=None):
    """Run one theorem check and return its result dict.

    The checks are not part of libtdl: they are the programs of
    proofs-checks/, run here as `tdl check NAME --json [--quick] [--seed N]
    [--broken]` with the `tdl` program named by $TDL_CLI, else the one beside
    the library in a build tree, else `tdl` on PATH.  The dict is that command's JSON (keys
    name, claim, source, setup, mode, broken, seed, passed, seconds,
    measured, predicted, rows, ...).  A failed check is a result
    (passed False), not an exception; tdl.Error is raised when the check
    cannot run (unknown name, no `tdl` program)."""
    exe = find_cli()
    if not exe:
        raise Error(3, "tdl.check: the `tdl` program was not found (beside the library, $TDL_CLI or PATH)")
    args = [exe, "check", str(name), "--json"]
    if quick:
        args.append("--quick")
    if broken:
        args.append("--broken")
    if seed is not None:
        args += ["--seed", str(int(seed))]
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    try:
        return json.loads(p.stdout)
    except ValueError:
        msg = p.stderr.strip().splitlines()
        raise Error(1, msg[-1] if msg else f"tdl check {name}: exit status {p.returncode}, no JSON") from None
