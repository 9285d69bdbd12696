"""What a result depends on, with the keys of the CLI (src/cli/provenance.c):
"model_provenance", the loss convention keys and the gradient norm."""
import ctypes
import math

import numpy as np

from . import _lib
from ._lib import check, dptr, lib, text
from ._result import Result

# the metadata entries that describe a model file's net, in the CLI's order
_DESCRIBED = ("format", "arch", "activation", "parametrization", "sigma_w", "sigma_b", "trainable", "init",
              "seed", "loss", "data", "train_seed", "tdl_version")


def _sigmas(model):
    """sigma_w and sigma_b in use (the model's tensors carry them, %.17g)."""
    t = ctypes.c_void_p()
    check(lib.tdl_mlp_to_tensors(model._ptr, ctypes.byref(t)))
    try:
        return (float(text(lib.tdl_tensors_meta(t, b"sigma_w"))), float(text(lib.tdl_tensors_meta(t, b"sigma_b"))))
    finally:
        lib.tdl_tensors_free(ctypes.byref(t))


def model_provenance(model):
    """The "model_provenance" object."""
    p = Result()
    p.string("source", "file" if model.source is not None else "fresh net")
    if model.source is not None:
        p.string("path", model.source)
    p.string("parametrization", model.parametrization)
    p.string("activation", model.activation)
    sw, sb = _sigmas(model)
    p.num("sigma_w", sw)
    p.num("sigma_b", sb)
    init, seed = model.meta("init"), model.meta("seed")
    if init is not None:
        p.string("init", init)
    else:
        p.null_reason("init", "not recorded in the model file")
    if seed is not None and seed.isdigit():
        p.size("seed", int(seed))
    elif seed is not None:
        p.string("seed", seed)
    else:
        p.null_reason("seed", "not recorded in the model file")
    if model.source is not None:
        present = [(k, model.meta(k)) for k in _DESCRIBED if model.meta(k) is not None]
        if present:
            md = Result()
            for k, v in present:
                md.string(k, v)
            p["metadata"] = md
        else:
            p.null_reason("metadata", "the model file has no metadata (a plain state dict): standard "
                          "parametrization, init and seed unknown")
    return p.finish()


def loss_keys(r, model, lk):
    """"loss_name", "reduction", "mse_convention" (mse) and "loss_definition" into r."""
    red, mse = ctypes.c_char_p(), ctypes.c_char_p()
    check(lib.tdl_mlp_loss_convention_names(model._ptr, ctypes.byref(red), ctypes.byref(mse)))
    buf = ctypes.create_string_buffer(256)
    check(lib.tdl_mlp_loss_describe(model._ptr, lk, buf, 256))
    name = text(lib.tdl_loss_name(lk))
    r.string("loss_name", name)
    r.string("reduction", text(red.value))
    if name == "mse":
        r.string("mse_convention", text(mse.value))
    r.string("loss_definition", text(buf.value))


def gradient_keys(r, model, ds, lk, work):
    """"gradient_norm", "gradient_params", "gradient_definition" into r
    (work: a _Work for ds, kept alive by the caller's reference)."""
    P = model.n_params
    g = np.empty(P)
    check(lib.tdl_mlp_loss_grad(model._ptr, lk, ds._ptr, work.ptr, None, dptr(g)))
    mx = float(np.max(np.abs(g))) if P else 0.0
    s = 0.0
    if mx > 0:
        for x in g:  # the CLI's order: scaled squares summed from the first
            s += (x / mx) * (x / mx)
    r.num("gradient_norm", mx * math.sqrt(s) if mx > 0 else mx)
    r.size("gradient_params", P)
    r.string("gradient_definition", "||grad_theta L||_2 over every parameter (frozen layers included), L the loss above")
