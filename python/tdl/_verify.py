"""tdl.verify: compare an answer with tdl's exact quantity and name the
convention that slipped, as `tdl verify --json` (issue 21, single quantities).

The exact quantity is computed by libtdl's public API (the calls of
src/cli/cmd_verify.c: tdl_mlp_loss_grad, tdl_mlp_jacobian,
tdl_hessian_dense, tdl_mlp_hvp, tdl_sym_eigen_solve, tdl_ntk_empirical,
tdl_ntk_analytic, tdl_kl_inv, tdl_bounds_compute); the comparison and the
diagnosis are the library's tdl_verify_compare (tdl/verify.h).
"""
import ctypes
import math
import os
from ctypes import POINTER, Structure, c_char, c_char_p, c_double, c_int, c_size_t, c_void_p

import numpy as np

from . import _lib
from ._lib import Error, lib, check, text, dptr
from ._data import Data, as_data
from ._model import Model, _Work, _Wrap
from ._result import Result

# ---- tdl/verify.h, tdl/names.h, tdl/tensor.h (mirrored as declared) --------
# (the verify structs are checked against tdl_sizeof below)


class _Name(Structure):  # tdl_name
    _fields_ = [("name", c_char_p), ("value", c_int)]


class VerifyContext(Structure):  # tdl_verify_context
    _fields_ = [("quantity", c_int), ("m", c_void_p), ("n", c_size_t), ("C", c_size_t), ("mse", c_int),
                ("ce", c_int), ("full_ntk", c_int), ("alt_integer_targets", POINTER(c_double))]


class VerifyShape(Structure):  # tdl_verify_shape
    _fields_ = [("ndim", c_size_t), ("dim", c_size_t * 2)]


class VerifyResult(Structure):  # tdl_verify_result
    _fields_ = [("passed", c_int), ("shape_ok", c_int), ("abs_error", c_double), ("rel_error", c_double),
                ("tol", c_double), ("worst", c_size_t), ("worst_exact", c_double), ("worst_answer", c_double),
                ("worst_meaning", c_char * 160), ("slip", c_int), ("factor", c_double), ("layer", c_size_t),
                ("diagnosis", c_char * 512)]


class _Tensor(Structure):  # tdl_tensor (read only)
    _fields_ = [("name", c_char_p), ("dtype", c_int), ("ndim", c_size_t), ("shape", c_size_t * 8),
                ("numel", c_size_t), ("data", POINTER(c_double))]


class _Tensors(Structure):  # tdl_tensors (its first fields, read only)
    _fields_ = [("count", c_size_t), ("items", POINTER(_Tensor))]


_vp, _dp, _sz = c_void_p, POINTER(c_double), c_size_t
for _name, _res, _args in (
        ("tdl_verify_compare", c_int, [POINTER(VerifyContext), _dp, VerifyShape, _dp, VerifyShape, c_double,
                                       POINTER(VerifyResult)]),
        ("tdl_verify_entry_name", c_int, [POINTER(VerifyContext), _sz, c_char_p, _sz]),
        ("tdl_name_lookup", c_int, [_vp, c_char_p, c_char_p, POINTER(c_int)]),
        ("tdl_name_of", c_char_p, [_vp, c_int]),
        ("tdl_kl_inv", c_int, [c_double, c_double, _dp]),
        ("tdl_mlp_jacobian", c_int, [_vp, _vp, _sz, _sz, _vp, _dp]),
        ("tdl_npy_read", c_int, [c_char_p, POINTER(POINTER(_Tensor))]),
        ("tdl_csv_read", c_int, [c_char_p, POINTER(POINTER(_Tensor))]),
        ("tdl_npz_read", c_int, [c_char_p, POINTER(POINTER(_Tensors))]),
        ("tdl_tensors_find", POINTER(_Tensor), [POINTER(_Tensors), c_char_p]),
        ("tdl_tensor_free", None, [POINTER(POINTER(_Tensor))]),
        ("tdl_tensors_free", None, [c_void_p])):
    getattr(lib, _name).restype = _res
    getattr(lib, _name).argtypes = _args

for _cname, _cls in (("tdl_verify_context", VerifyContext), ("tdl_verify_shape", VerifyShape),
                     ("tdl_verify_result", VerifyResult)):
    if lib.tdl_sizeof(_cname.encode()) != ctypes.sizeof(_cls):
        raise ImportError(f"tdl: {_cname} is {lib.tdl_sizeof(_cname.encode())} bytes in the library but "
                          f"{ctypes.sizeof(_cls)} in the Python mirror: the package and the library do not match")

_QUANTITY_NAMES = ctypes.cast(ctypes.addressof(_Name.in_dll(lib, "tdl_verify_quantity_names")), c_void_p)
_SLIP_NAMES = ctypes.cast(ctypes.addressof(_Name.in_dll(lib, "tdl_verify_slip_names")), c_void_p)
# enum tdl_verify_quantity
(LOSS, GRADIENT, JACOBIAN, HESSIAN, GN, HVP, HESSIAN_EIGENVALUES, NTK, NNGP, KL_INVERSE, BOUND) = range(11)
_SLIP_ONE_LAYER_BLOCK = 19
_LOSS_MSE, _LOSS_CE, _LOSS_LOGISTIC = 0, 1, 2


# ---- reading an answer as the CLI does --------------------------------------

def _take(what, spec, t):
    t = t.contents
    if t.ndim > 2:
        raise Error(_lib.ESHAPE, f"{what} {spec}: a {t.ndim}-D array; verify reads scalars, vectors and matrices "
                                 "(up to 2-D)")
    shape = tuple(t.shape[i] for i in range(t.ndim))
    a = np.ctypeslib.as_array(t.data, shape=(t.numel,)).copy() if t.numel else np.empty(0)
    return a.reshape(shape)


def _read_file(what, spec):
    """.npy, .csv, FILE.npz[:member] by the library's readers, or a literal
    number when no file of that name exists (read_array of cmd_verify.c)."""
    if not os.path.exists(spec):
        try:
            return np.array(float(spec))
        except ValueError:
            pass
    pt = POINTER(_Tensor)()
    for ext, reader in ((".npy", lib.tdl_npy_read), (".csv", lib.tdl_csv_read)):
        if spec.endswith(ext):
            st = reader(spec.encode(), ctypes.byref(pt))
            if st != _lib.OK:
                raise Error(st, f"{what} {text(lib.tdl_errmsg())}")
            try:
                return _take(what, spec, pt)
            finally:
                lib.tdl_tensor_free(ctypes.byref(pt))
    k = spec.find(".npz")
    if k >= 0 and (len(spec) == k + 4 or spec[k + 4] == ":"):
        path, member = spec[:k + 4], (spec[k + 5:] if len(spec) > k + 4 else None)
        ps = POINTER(_Tensors)()
        st = lib.tdl_npz_read(path.encode(), ctypes.byref(ps))
        if st != _lib.OK:
            raise Error(st, f"{what} {text(lib.tdl_errmsg())}")
        try:
            s = ps.contents
            names = [text(s.items[i].name) for i in range(s.count)]
            if member:
                t = lib.tdl_tensors_find(ps, member.encode())
                if not t:
                    raise Error(_lib.EINVAL, f"{what} {spec}: no member '{member}' in {path} (members: "
                                             f"{', '.join(names) if names else 'none'})")
                return _take(what, spec, t)
            if s.count != 1:
                raise Error(_lib.EINVAL, f"{what} {spec}: the archive has {s.count} members; name one as "
                                         f"{path}:MEMBER")
            return _take(what, spec, ctypes.pointer(s.items[0]))
        finally:
            lib.tdl_tensors_free(ctypes.byref(ps))
    if not os.path.exists(spec):
        raise Error(_lib.EIO, f"{what} {spec}: no such file, and not a number")
    raise Error(_lib.EFORMAT, f"{what} {spec}: expected a .npy, .npz, .npz:MEMBER or .csv file, or a number")


def _as_array(what, a):
    """(array, label) from a path / number string, a number or an array."""
    if isinstance(a, (str, os.PathLike)):
        spec = os.fspath(a)
        return _read_file(what, spec), spec
    if hasattr(a, "detach") and hasattr(a, "cpu"):   # a torch tensor
        a = a.detach().cpu().double().numpy()
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim > 2:
        raise Error(_lib.ESHAPE, f"{what}: a {arr.ndim}-D array; verify reads scalars, vectors and matrices (up to 2-D)")
    label = repr(float(arr)) if arr.ndim == 0 else f"array of shape {tuple(arr.shape)}"
    return arr, label


def _conform(a, eshape):
    """A one-column / one-row answer of a vector quantity and a 1 x 1 answer
    of a scalar take the quantity's shape (conform of cmd_verify.c)."""
    if len(eshape) == 0 and a.size == 1:
        return a.reshape(())
    if len(eshape) == 1 and a.ndim == 2 and (a.shape[0] == 1 or a.shape[1] == 1):
        return a.reshape(-1)
    return a


def _shape(a):
    s = VerifyShape()
    s.ndim = a.ndim
    for i in range(a.ndim):
        s.dim[i] = a.shape[i]
    return s


# ---- the exact quantity ------------------------------------------------------

def _loss_grad(m, lk, ds, grad):
    w = _Work(m._ptr, ds.n)
    L = c_double()
    g = np.zeros(m.n_params) if grad else None
    check(lib.tdl_mlp_loss_grad(m._ptr, lk, ds._ptr, w.ptr, ctypes.byref(L), dptr(g)))
    return g if grad else np.array(L.value)


def _exact(q, analytic, bound_name, m, lk, ds, vector, ntk_full):
    """(exact array, alternative for integer targets or None, what)."""
    P, n, C = m.n_params, ds.n, m.widths[-1]
    lname = text(lib.tdl_loss_name(lk))
    if q in (LOSS, GRADIENT):
        grad = q == GRADIENT
        e = _loss_grad(m, lk, ds, grad)
        alt = None
        if lk == _LOSS_MSE and ds.classes > 0:
            # tdl's mse against the class index broadcast over the outputs
            Y = np.repeat(ds.y.astype(np.float64).reshape(-1, 1), C, axis=1)
            alt = _loss_grad(m, _LOSS_MSE, Data(ds.X, Y), grad)
        return e, alt, f"{'gradient' if grad else 'value'} of the {lname} loss over {n} examples"
    if q == JACOBIAN:
        J = np.empty((n * C, P))
        w = _Work(m._ptr, n)
        check(lib.tdl_mlp_jacobian(m._ptr, ds._ptr, 0, n, w.ptr, dptr(J)))
        return J, None, "Jacobian of the outputs, row i*C + c = d f_c(x_i) / d theta"
    if q in (HESSIAN, GN, HESSIAN_EIGENVALUES):
        check(lib.tdl_dense_memory_check(P, 2, 0, b"the dense Hessian"))
        H = np.empty((P, P))
        G = np.empty((P, P)) if q == GN else None
        check(lib.tdl_hessian_dense(m._ptr, lk, ds._ptr, 0, P, dptr(H), dptr(G)))
        if q == GN:
            return G, None, f"Gauss-Newton part G of the {lname} loss's Hessian"
        if q == HESSIAN:
            return H, None, f"Hessian of the {lname} loss (exact, dense)"
        eg = _lib.SymEigen()
        check(lib.tdl_sym_eigen_solve(dptr(H), P, 0, P - 1, 0, ctypes.byref(eg)))
        try:
            ev = np.ctypeslib.as_array(eg.values, shape=(eg.count,)).copy()
        finally:
            lib.tdl_sym_eigen_free(ctypes.byref(eg))
        return ev, None, f"eigenvalues of the {lname} loss's Hessian, ascending (LAPACK)"
    if q == HVP:
        if vector.size != P:
            raise Error(_lib.ESHAPE, f"vector: {vector.size} values, the model has {P} parameters")
        v = np.ascontiguousarray(vector.reshape(-1), dtype=np.float64)
        out = np.empty(P)
        w = _Work(m._ptr, n)
        check(lib.tdl_mlp_hvp(m._ptr, lk, ds._ptr, dptr(v), 0, w.ptr, dptr(out)))
        return out, None, f"Hessian-vector product H v of the {lname} loss (R-operator)"
    if q in (NTK, NNGP):
        wrap = _Wrap()
        Xd = lib.tdl_dataset_inputs(ds._ptr)
        if analytic or q == NNGP:
            ac = c_void_p()
            check(lib.tdl_ntk_analytic_config_new(m._ptr, None, 0, ctypes.byref(ac)))
            try:
                K = np.empty((n, n))
                Kh = wrap(K)
                check(lib.tdl_ntk_analytic(ac, Xd, None, Kh if q == NNGP else None, None if q == NNGP else Kh))
            finally:
                lib.tdl_ntk_analytic_config_free(ctypes.byref(ac))
            return K, None, _analytic_what(m, q)
        dim = n * C if ntk_full else n
        opts = c_void_p()
        check(lib.tdl_ntk_config_new(1 if ntk_full else 0, None, 0, 0, ctypes.byref(opts)))
        try:
            K = np.empty((dim, dim))
            check(lib.tdl_ntk_empirical(m._ptr, Xd, None, opts, wrap(K)))
        finally:
            lib.tdl_ntk_config_free(ctypes.byref(opts))
        return K, None, ("empirical NTK J J^T, (n C) x (n C), row i*C + c" if ntk_full else
                         "empirical NTK, traced: (1/C) sum_c J_c J_c^T (mean over the outputs)")
    if q == BOUND:
        cfg = c_void_p(lib.tdl_bounds_config_new())
        if not cfg.value:
            raise Error(_lib.ENOMEM, "out of memory for a configuration")
        rows, nr, te = c_void_p(), c_size_t(), c_double()
        try:
            check(lib.tdl_bounds_compute(m._ptr, lk, ds._ptr, cfg, ctypes.byref(rows), ctypes.byref(nr),
                                         ctypes.byref(te)))
            found, names = None, []
            for i in range(nr.value):
                name, note = c_char_p(), c_char_p()
                val, bnd, dlt = c_double(), c_double(), c_double()
                avail = c_int()
                lib.tdl_measure_get(rows, i, ctypes.byref(name), ctypes.byref(val), ctypes.byref(bnd), None,
                                    ctypes.byref(avail), ctypes.byref(dlt), None, ctypes.byref(note))
                names.append(text(name.value))
                if names[-1] == bound_name:
                    found = (val.value, bnd.value, avail.value, text(note.value), dlt.value)
        finally:
            if rows.value:
                _lib.libc.free(rows)
            lib.tdl_bounds_config_free(ctypes.byref(cfg))
        if found is None:
            raise Error(_lib.EINVAL, f"bound:{bound_name}: not a row of tdl bounds for this model "
                                     f"(rows: {' '.join(names)})")
        val, bnd, avail, note, _ = found
        if not avail:
            raise Error(_lib.EINVAL, f"bound:{bound_name}: not available for this model: {note}")
        use_bound = not math.isnan(bnd)
        return (np.array(bnd if use_bound else val), None,
                f"{'bound' if use_bound else 'value'} of the row {bound_name} of tdl bounds (delta {0.05:g})")
    raise Error(_lib.EINVAL, f"internal: quantity {q} has no model")


def _analytic_what(m, q):
    return (f"analytic infinite-width {'NNGP kernel' if q == NNGP else 'NTK'} per output "
            f"({m.parametrization} parametrization, depth {m.depth})")


# ---- the public function ------------------------------------------------------

def verify(quantity, answer, model=None, data=None, *, tol=1e-8, vector=None, q=None, c=None, ntk_full=False,
           loss=None, activation=None):
    """Compare `answer` with tdl's exact `quantity` and diagnose a mismatch,
    as `tdl verify --json`: returns a dict with its keys (passed, verdict,
    rel_error, abs_error, worst_index, worst_meaning, worst_exact,
    worst_answer, slip, factor, layer, diagnosis, quantity, shape, ...).

    quantity: "loss", "gradient", "jacobian", "hessian", "gn", "hvp",
    "hessian-eigenvalues", "ntk", "ntk:analytic", "nngp", "kl-inverse" or
    "bound:NAME" (a row of tdl bounds).  answer: a numpy array (or torch
    tensor, list, float), or a path read as the CLI reads --answer (.npy,
    FILE.npz[:member], .csv, or a number as text).  model: a tdl.Model or a
    file (tdl.Model.from_state_dict(model, activation)); data: a tdl.Data,
    a spec string or (X, y).  vector: v for "hvp" (array or path); q, c: the
    arguments of "kl-inverse" (no model, no data); ntk_full: the (n C) x (n C)
    NTK; loss: "mse", "ce", ... (default: the model's, as --loss).  A failed
    comparison is a result (passed False), not an exception; tdl.Error is
    raised for bad arguments and unreadable files."""
    qt = str(quantity)
    analytic, bound_name = False, None
    if qt.startswith("bound:"):
        qv, bound_name = BOUND, qt[6:]
        if not bound_name:
            raise Error(_lib.EINVAL, "quantity bound:NAME: name a row of tdl bounds")
    elif qt == "ntk:analytic":
        qv, analytic = NTK, True
    else:
        v = c_int()
        if lib.tdl_name_lookup(_QUANTITY_NAMES, b"quantity", qt.encode(), ctypes.byref(v)) != _lib.OK \
                or v.value == BOUND:
            raise Error(_lib.EINVAL, f"quantity {qt}: expected loss, gradient, jacobian, hessian, gn, hvp, "
                                     "hessian-eigenvalues, ntk, ntk:analytic, nngp, kl-inverse or bound:NAME")
        qv = v.value
    if not (tol > 0 and math.isfinite(tol)):
        raise Error(_lib.EINVAL, f"tol {tol!r}: expected a positive finite number")
    if qv == KL_INVERSE:
        if q is None or c is None:
            raise Error(_lib.EINVAL, "quantity kl-inverse needs q (in [0,1]) and c (>= 0)")
        if model is not None or data is not None:
            raise Error(_lib.EINVAL, "quantity kl-inverse takes q and c, no model or data")
    else:
        if q is not None or c is not None:
            raise Error(_lib.EINVAL, "q and c belong to quantity kl-inverse")
        if data is None:
            raise Error(_lib.EINVAL, "data is required")
        if model is None:
            raise Error(_lib.EINVAL, "model is required")
    if (qv == HVP) != (vector is not None):
        raise Error(_lib.EINVAL, "vector belongs to quantity hvp" if vector is not None else
                    "quantity hvp needs vector")
    if ntk_full and not (qv == NTK and not analytic):
        raise Error(_lib.EINVAL, "ntk_full belongs to quantity ntk (empirical)")

    ans, label = _as_array("answer", answer)
    vec = _as_array("vector", vector)[0] if vector is not None else None
    ctx = VerifyContext()
    ctx.quantity = qv
    ctx.full_ntk = 1 if ntk_full else 0
    alt = None
    if qv == KL_INVERSE:
        if not (0 <= q <= 1) or not (c >= 0 and math.isfinite(c)):
            raise Error(_lib.EINVAL, f"kl-inverse: q {q!r} must be in [0, 1] and c {c!r} >= 0")
        out = c_double()
        check(lib.tdl_kl_inv(float(q), float(c), ctypes.byref(out)))
        exact = np.array(out.value)
        what = f"kl^-1(q = {q:g}, c = {c:g}) = max {{p : kl(q || p) <= c}}"
    else:
        ds = as_data(data)
        m = model if isinstance(model, Model) else Model.from_state_dict(os.fspath(model), activation=activation)
        lk = m._loss(ds, loss)
        check(lib.tdl_loss_check(lk, m._ptr, ds._ptr))
        exact, alt, what = _exact(qv, analytic, bound_name, m, lk, ds, vec, ntk_full)
        ctx.m = m._ptr
        ctx.n = ds.n
        ctx.C = m.widths[-1]
        ctx.mse = 1 if lk == _LOSS_MSE else 0
        ctx.ce = 1 if lk in (_LOSS_CE, _LOSS_LOGISTIC) else 0
        if alt is not None:
            alt = np.ascontiguousarray(alt, dtype=np.float64)
            ctx.alt_integer_targets = dptr(alt)
    # (np.ascontiguousarray would make a scalar 1-D)
    exact = np.array(exact, dtype=np.float64, order="C")
    ans = np.array(_conform(ans, exact.shape), dtype=np.float64, order="C")
    res = VerifyResult()
    check(lib.tdl_verify_compare(ctypes.byref(ctx), dptr(exact), _shape(exact), dptr(ans), _shape(ans), float(tol),
                                 ctypes.byref(res)))
    slip = text(lib.tdl_name_of(_SLIP_NAMES, res.slip)) or "none"
    r = Result(top=True)
    r.string("quantity", "bound:" + bound_name if qv == BOUND else "ntk:analytic" if analytic else
             text(lib.tdl_name_of(_QUANTITY_NAMES, qv)))
    r.string("exact", what)
    r.string("answer", label)
    r["shape"] = list(exact.shape)
    r["answer_shape"] = list(ans.shape)
    r.boolean("shape_ok", res.shape_ok)
    r.num("tol", res.tol)
    r.string("verdict", "PASS" if res.passed else "FAIL")
    r.boolean("passed", res.passed)
    r.num("rel_error", res.rel_error, "the shapes differ")
    r.num("abs_error", res.abs_error, "the shapes differ")
    if res.shape_ok:
        r.size("worst_index", res.worst)
        r.string("worst_meaning", text(res.worst_meaning))
        r.num("worst_exact", res.worst_exact)
        r.num("worst_answer", res.worst_answer)
    r.string("slip", slip)
    r.num("factor", math.nan if res.slip == 0 else res.factor, "no scale slip")
    if res.slip == _SLIP_ONE_LAYER_BLOCK:
        r.size("layer", res.layer)
    r.string("diagnosis", text(res.diagnosis))
    return r.finish()
