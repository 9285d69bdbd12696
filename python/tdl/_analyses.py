"""Model.hessian, Model.ntk, Model.bounds, Model.landscape: the analyses of
`tdl hessian|ntk|bounds|landscape`, computed by libtdl through its public
API, returned as dicts with the keys of the commands' --json."""
import ctypes
import math

import numpy as np

from . import _lib
from ._lib import Error, lib, check, text, dptr
from ._data import Data, as_data
from ._model import Model, _Work, _Wrap, _now, DBL_EPSILON, _LANCZOS_TOL_DEFAULT, _WHICH
from ._result import Result
from . import _provenance


def _g10(v):
    """C's printf %.10g."""
    return "%.10g" % v


def _arr(ptr, n):
    return np.ctypeslib.as_array(ptr, shape=(n,)).copy() if n else np.empty(0)


class _LibOperator:
    """libtdl's Hessian operator (tdl_hessian_operator, tdl/hessian.h) of the
    block [off, off + len): tdl_hessian_operator_apply is the matvec, the
    operator its context; no Python in the products."""

    def __init__(self, m, loss, ds, off, dim, gauss_newton=False):
        self.m, self.ds = m, ds    # the operator keeps pointers to both
        self.op = ctypes.c_void_p()
        check(lib.tdl_hessian_operator_create(m._ptr, loss, ds._ptr, 1 if gauss_newton else 0,
                                              ctypes.byref(self.op)))
        check(lib.tdl_hessian_operator_set_block(self.op, off, dim))
        self.fn = _lib.MATVEC(ctypes.cast(lib.tdl_hessian_operator_apply, ctypes.c_void_p).value)
        self.ctx = self.op

    def check(self, st):
        check(st)

    def __del__(self):
        if self.op.value:
            lib.tdl_hessian_operator_free(ctypes.byref(self.op))


class _PyOperator:
    """The same over tdl_mlp_hvp with a Python callback, for a libtdl without
    the operator."""

    def __init__(self, m, loss, ds, off, dim, gauss_newton=False):
        self.ctx = None
        self.m, self.loss, self.ds, self.off, self.dim = m, loss, ds, off, dim
        self.gn = 1 if gauss_newton else 0
        self.work = _Work(m._ptr, ds.n)
        P = m.n_params
        self.full_in = np.zeros(P)
        self.full_out = np.empty(P)
        self.failure = None
        self.fn = _lib.MATVEC(self._apply)

    def _apply(self, x, y, ctx):
        try:
            self.full_in[self.off:self.off + self.dim] = np.ctypeslib.as_array(x, shape=(self.dim,))
            st = lib.tdl_mlp_hvp(self.m._ptr, self.loss, self.ds._ptr, dptr(self.full_in), self.gn,
                                 self.work.ptr, dptr(self.full_out))
            if st == _lib.OK:
                np.ctypeslib.as_array(y, shape=(self.dim,))[:] = self.full_out[self.off:self.off + self.dim]
            return st
        except BaseException as e:
            self.failure = e
            return _lib.EINVAL

    def check(self, st):
        if self.failure is not None:
            raise self.failure
        check(st)


_Operator = _LibOperator if _lib.HAS_OPERATOR else _PyOperator


def _c_g(v, digits):
    """C's %.<digits>g."""
    return "%.*g" % (digits, v)


def _spectrum_stats(v, tol):
    n = len(v)
    neg = int(np.sum(v < -tol))
    pos = v[v > tol]
    neg_frac = neg / n if n else math.nan
    cond = pos.max() / pos.min() if pos.size else math.nan
    return neg_frac, cond


def _density(nodes, weights, runs, steps, conv, points):
    r = _lib.SlqResult(runs, steps, dptr(nodes), dptr(weights), 0)
    d = _lib.Density()
    check(lib.tdl_slq_density(ctypes.byref(r), conv, points, math.nan, ctypes.byref(d)))
    try:
        return _arr(d.grid, d.points), _arr(d.values, d.points), d.sigma
    finally:
        lib.tdl_density_free(ctypes.byref(d))


_EXACT_BOUND_DEFINITION = (
    "certified |value - exact eigenvalue of the same rank|: LAPACK's backward error P eps ||A||_2 "
    "(LAPACK Users' Guide sec. 4.7 with p(P) = P; tdl_sym_eigen_error_bound) plus the rounding of the "
    "assembly, n eps ||A||_F (n per-example terms summed in each entry; a bound when they share a sign, "
    "an estimate otherwise)")
_LANCZOS_BOUND_DEFINITION = (
    "certified |value - eigenvalue|: min(||r|| + rounding, ||r||^2 / gap + rounding) (Parlett, The Symmetric "
    "Eigenvalue Problem, Thm 4.5.1 and 11.7.1; the gap from the converged neighbouring Ritz values), "
    "rounding = (P + steps) eps ||H||_est; with the multiplicity check it is the eigenvalue of the same rank")


def hessian(self, data, method="exact", k=None, loss=None, *, which="top", gn=False, layer=None,
            density=False, runs=10, steps=80, probes=99, points=0, smoothing="pyhessian", seed=0,
            tol=None, max_steps=0, vectors=False):
    """Hessian spectrum of the mean training loss, as `tdl hessian --json`.

    method: "exact" (dense Hessian, LAPACK), "lanczos" (k extreme eigenvalues
    from exact Hessian-vector products; trace by Hutch++ with `probes`
    products) or "slq" (a spectral density from `runs` x `steps` Lanczos
    steps).  k: how many eigenvalues (exact: default all; lanczos: default
    10), which: "top", "bottom" or "magnitude".  gn: also the Gauss-Newton
    part G (and, exact, the residual R = H - G).  layer: one layer's block.
    density: a smoothed density (exact), smoothing "pyhessian",
    "eigenthings" or "papyan".  seed: `--hessian-seed`.  vectors=True adds
    "eigenvectors" (dim x k, columns, as the --vectors file) — not a --json key.
    """
    ds = as_data(data)
    if method not in ("exact", "lanczos", "slq"):
        raise Error(_lib.EINVAL, f"method {method}: expected exact, lanczos or slq")
    if which not in _WHICH:
        raise Error(_lib.EINVAL, f"which {which}: expected top, bottom or magnitude")
    conv = ctypes.c_int()
    check(lib.tdl_smoothing_parse(str(smoothing).encode(), ctypes.byref(conv)))
    if method == "slq" and (vectors or k is not None):
        raise Error(_lib.EINVAL, "method slq gives a density: k and vectors belong to exact and lanczos")
    if method == "slq":
        density = True
    lk = self._loss(ds, loss)
    P = self.n_params
    off, dim = 0, P
    if layer is not None:
        if not 0 <= layer < self.depth:
            raise Error(_lib.EINVAL, f"layer {layer}: the net has layers 0..{self.depth - 1}")
        o, l = ctypes.c_size_t(), ctypes.c_size_t()
        lib.tdl_layer_range(self._ptr, layer, ctypes.byref(o), ctypes.byref(l))
        off, dim = o.value, l.value
    if k is not None and (k < 1 or k > dim):
        raise Error(_lib.EINVAL, f"k {k} exceeds the {dim} parameters" if k > dim else f"k {k}: expected >= 1")
    L = self.loss(ds, text(lib.tdl_loss_name(lk)))
    # trace(G) only from the exact method (as the CLI: no gn_trace key otherwise)
    res = dict(values=None, gn_values=None, r_values=None, residuals=None, error_bounds=None, gn_error_bounds=None,
               r_error_bounds=None, bound_definition=None, trace=math.nan, trace_se=math.nan,
               gn_trace=math.nan, tol=math.nan, matvecs=0, iterations=0, converged=0, dens=None, vecs=None)
    t0 = _now()
    if method == "exact":
        want_vec = bool(vectors)
        check(lib.tdl_dense_memory_check(dim, 3 if gn else (3 if want_vec else 1), 0, b"the dense Hessian"))
        H = np.empty((dim, dim))
        G = np.empty((dim, dim)) if gn else None
        check(lib.tdl_hessian_dense(self._ptr, lk, ds._ptr, off, dim, dptr(H), dptr(G)))
        res["trace"] = float(sum(H[i, i] for i in range(dim)))
        res["gn_trace"] = float(sum(G[i, i] for i in range(dim))) if gn else math.nan
        res["trace_se"] = 0.0
        res["trace_method"] = "exact (sum of the diagonal)"
        res["tol"] = dim * DBL_EPSILON * math.sqrt(float(np.sum(H * H)))
        fro_h = math.sqrt(float(np.sum(H * H)))
        fro_g = math.sqrt(float(np.sum(G * G))) if gn else 0.0
        # the assembly's sum over n examples and the solver's backward error (as the CLI)
        res["roundoff"] = (ds.n + dim) * DBL_EPSILON * math.sqrt(float(np.sum(H * H)))
        lo, hi = 0, dim - 1
        magnitude = k is not None and k < dim and which == "magnitude"
        if k is not None and k < dim and not magnitude:
            if which == "bottom":
                hi = k - 1
            else:
                lo = dim - k
        Hcopy = H.copy() if (want_vec or gn) else None

        def solve(A, vec, keep):
            """Eigenpairs in [lo, hi], the k largest |lambda| with `keep`
            (tdl_sym_eigen_keep_magnitude), and the residuals against Hcopy
            (tdl_sym_eigen_residuals) when the vectors are wanted."""
            e = _lib.SymEigen()
            check(lib.tdl_sym_eigen_solve(dptr(A), dim, lo, hi, 1 if vec else 0, ctypes.byref(e)))
            try:
                if keep:
                    lib.tdl_sym_eigen_keep_magnitude(ctypes.byref(e), k)
                vals = _arr(e.values, e.count)
                vv = res_ = None
                if vec and e.vectors:
                    vv = np.ctypeslib.as_array(e.vectors, shape=(e.count, dim)).copy()
                    res_ = np.empty(e.count)
                    check(lib.tdl_sym_eigen_residuals(dptr(Hcopy), ctypes.byref(e), dptr(res_)))
                return vals, vv, res_, text(e.driver), e.error_bound
            finally:
                lib.tdl_sym_eigen_free(ctypes.byref(e))

        vals, vecs, resid, res["driver"], eb = solve(H, want_vec, magnitude)
        # the certified error bounds (as the CLI): LAPACK's bound + the assembly's n eps ||.||_F
        nd = ds.n * DBL_EPSILON
        res["error_bounds"] = np.full(len(vals), eb + nd * fro_h)
        res["bound_definition"] = _EXACT_BOUND_DEFINITION
        if gn:   # G and R are not selected by magnitude (as the CLI)
            R = Hcopy - G
            sg = solve(G, False, False)
            sr_ = solve(np.ascontiguousarray(R), False, False)
            res["gn_values"], res["r_values"] = sg[0], sr_[0]
            res["gn_error_bounds"] = np.full(len(sg[0]), sg[4] + nd * fro_g)
            res["r_error_bounds"] = np.full(len(sr_[0]), sr_[4] + nd * (fro_h + fro_g))
        res["values"] = vals
        if want_vec:
            res["residuals"] = resid
            res["vecs"] = vecs.T.copy()
        if density:
            n = len(vals)
            w = np.full(n, 1.0 / n)   # one "run" whose nodes are the eigenvalues
            d = _lib.Density()
            v = np.ascontiguousarray(vals)
            check(lib.tdl_eigen_density(dptr(v), n, conv.value, points, math.nan, ctypes.byref(d)))
            try:
                grid, dens, sigma = _arr(d.grid, d.points), _arr(d.values, d.points), d.sigma
            finally:
                lib.tdl_density_free(ctypes.byref(d))
            res["dens"] = (grid, dens, sigma, vals.copy(), w, 1, n, text(lib.tdl_smoothing_name(conv.value)))
    else:
        op = _Operator(self, lk, ds, off, dim)
        if method == "lanczos":
            kk = min(10 if k is None else k, dim)
            flags = (1 if vectors else 4) | 2   # as the CLI: vectors + residual test, or stop on the bound
            lr = _lib.LanczosResult()
            t = 0.0 if tol is None else float(tol)
            op.check(lib.tdl_lanczos(op.fn, op.ctx, dim, kk, _WHICH[which], max_steps, t, seed, flags, ctypes.byref(lr)))
            try:
                res["values"] = _arr(lr.values, lr.k)
                res["residuals"] = _arr(lr.residuals, lr.k)
                res["error_bounds"] = _arr(lr.error_bounds, lr.k)
                res["bound_definition"] = _LANCZOS_BOUND_DEFINITION
                res["iterations"], res["matvecs"], res["converged"] = lr.iterations, lr.matvecs, lr.converged
                if vectors:
                    res["vecs"] = np.ctypeslib.as_array(lr.vectors, shape=(dim, lr.k)).copy()
            finally:
                lib.tdl_lanczos_result_free(ctypes.byref(lr))
            res["driver"] = "Lanczos, full re-orthogonalization"
            res["tol"] = t if t > 0 else _LANCZOS_TOL_DEFAULT
            if gn:
                opg = _Operator(self, lk, ds, off, dim, gauss_newton=True)
                lr = _lib.LanczosResult()
                opg.check(lib.tdl_lanczos(opg.fn, opg.ctx, dim, kk, _WHICH[which], max_steps, t, seed, 4 | 2, ctypes.byref(lr)))
                try:
                    res["gn_values"] = _arr(lr.values, lr.k)
                    res["gn_error_bounds"] = _arr(lr.error_bounds, lr.k)
                finally:
                    lib.tdl_lanczos_result_free(ctypes.byref(lr))
            if probes:
                tr, se = ctypes.c_double(), ctypes.c_double()
                op.check(lib.tdl_hutchpp(op.fn, op.ctx, dim, probes, seed + 1, ctypes.byref(tr), ctypes.byref(se)))
                res["trace"], res["trace_se"] = tr.value, se.value
                res["trace_method"] = "Hutch++"
                res["matvecs"] += probes
            else:   # as the CLI's --probes 0
                res["trace_method"] = "not computed (--probes 0)"
        else:
            sr = _lib.SlqResult()
            op.check(lib.tdl_slq(op.fn, op.ctx, dim, runs, steps, seed, ctypes.byref(sr)))
            try:
                nodes = _arr(sr.nodes, sr.runs * sr.steps)
                weights = _arr(sr.weights, sr.runs * sr.steps)
                R, S, res["matvecs"] = sr.runs, sr.steps, sr.matvecs
                tr, se = ctypes.c_double(), ctypes.c_double()
                lib.tdl_slq_trace(ctypes.byref(sr), dim, ctypes.byref(tr), ctypes.byref(se))
                res["trace"], res["trace_se"] = tr.value, se.value
            finally:
                lib.tdl_slq_result_free(ctypes.byref(sr))
            grid, dens, sigma = _density(nodes, weights, R, S, conv.value, points)
            res["dens"] = (grid, dens, sigma, nodes, weights, R, S, text(lib.tdl_smoothing_name(conv.value)))
            res["driver"] = "stochastic Lanczos quadrature (Rademacher starts)"
            res["trace_method"] = "SLQ (mean over runs)"
    seconds = _now() - t0
    vals = res["values"]
    count = 0 if vals is None else len(vals)
    full = count == dim and method == "exact"
    r = Result(top=True)
    r.string("data", ds.spec)
    r.string("arch", self.arch)
    r.size("params", dim)
    r.size("total_params", P)
    if layer is not None:
        r.size("layer", layer)
    _provenance.loss_keys(r, self, lk)
    r.num("loss", L, "the loss is not finite at these parameters")
    _provenance.gradient_keys(r, self, ds, lk, _Work(self._ptr, ds.n))
    r["model_provenance"] = _provenance.model_provenance(self)
    r.string("method", method)
    r.string("driver", res["driver"])
    if count:
        tolv = res["tol"]
        neg_frac, cond = _spectrum_stats(vals, 0.0 if math.isnan(tolv) else tolv)
        r.string("which", "all" if full else which)
        r.array("eigenvalues", vals)
        # each end only where the computed values contain it (as the CLI: a
        # partial spectrum's far end is null with the reason)
        what = {"top": "largest", "bottom": "smallest"}.get(which, "largest |lambda|")
        for key, end, has in (("lambda_min", "smallest", count == dim or which == "bottom"),
                              ("lambda_max", "largest", count == dim or which == "top")):
            v = vals[0] if end == "smallest" else vals[-1]
            if has:
                r.num(key, v)
            else:
                r.null_reason(key, "only the %d %s eigenvalues were computed; the %s of them is %s"
                              % (count, what, end, _g10(v)))
        r.num("tolerance", tolv, "no residual tolerance for this method")
        if full:
            r.num("negative_fraction", neg_frac)
            ro = res["roundoff"]
            pos = vals[vals > tolv]
            min_pos = float(pos.min()) if pos.size else math.nan
            r.num("roundoff_level", ro)
            r.string("roundoff_level_definition", "(n + P) eps ||H||_F: the assembly's sum over n examples and the eigen-solver's backward error")
            if math.isnan(cond):
                r.null_reason("condition_positive", "condition number undefined: no eigenvalue above the tolerance")
            elif min_pos <= ro:
                r.null_reason("condition_positive", "infinite (numerically singular): the smallest eigenvalue above the zero "
                              "tolerance, %s, is within the roundoff level %s" % (_c_g(min_pos, 6), _c_g(ro, 3)))
            else:
                r.num("condition_positive", cond)
            if not math.isnan(cond):
                r.num("smallest_positive_eigenvalue", min_pos)
                r.num("condition_positive_ratio", cond)
                r.string("condition_positive_ratio_definition", "lambda_max / smallest_positive_eigenvalue (the smallest eigenvalue above the zero tolerance)")
        if res["residuals"] is not None:
            r.array("residuals", res["residuals"])
        if res["error_bounds"] is not None:
            r.array("error_bounds", res["error_bounds"])
            r.string("error_bounds_definition", res["bound_definition"])
    if res["gn_values"] is not None:
        r.array("gn_eigenvalues", res["gn_values"])
        if res["gn_error_bounds"] is not None:
            r.array("gn_error_bounds", res["gn_error_bounds"])
        if res["r_values"] is not None:
            r.array("residual_part_eigenvalues", res["r_values"])
        if res["r_error_bounds"] is not None:
            r.array("residual_part_error_bounds", res["r_error_bounds"])
        if not math.isnan(res["gn_trace"]):
            r.num("gn_trace", res["gn_trace"])
    r.num("trace", res["trace"], "not computed: --probes 0")
    r.string("trace_method", res["trace_method"])
    r.num("trace_std_error", res["trace_se"],
          "no trace: --probes 0" if math.isnan(res["trace"]) else "one run: no standard error (--runs >= 2)")
    if res["matvecs"]:
        r.size("hessian_vector_products", res["matvecs"])
        if res["iterations"]:
            r.size("lanczos_steps", res["iterations"])
        if method == "lanczos":
            r.boolean("converged", res["converged"])
    if res["dens"] is not None:
        grid, dens, sigma, nodes, weights, R, S, name = res["dens"]
        d = Result()
        d.string("smoothing", name)
        d.num("sigma", sigma)
        d.size("runs", R)
        d.size("steps", S)
        d.array("grid", grid)
        d.array("values", dens)
        d.array("nodes", nodes)
        d.array("weights", weights)
        r["density"] = d.finish()
    r.num("seconds", seconds)
    if vectors:
        r["eigenvectors"] = res["vecs"]
    return r.finish()


def ntk(self, data, *, test=None, analytic=False, nngp=False, h_inf=False, full=False, layers=None,
        method="auto", budget_mb=256, kernel_act=None, quad=0, ridge=0.0, predict=False, time=math.inf,
        lr=1.0, drift=False, per_layer=False, mc=0, seed=None, outputs=None, return_matrix=False):
    """Kernel Gram matrix on a data set and its spectrum, as `tdl ntk --json`.

    Default: the empirical NTK Theta = J J^T of the net (traced: mean over the
    outputs; full=True: the nC x nC matrix).  analytic=True: the
    infinite-width NTK (nngp=True: the NNGP) of the net's architecture;
    h_inf=True: Du et al.'s H_inf of the inputs.  layers: indices of the
    layers whose parameters count.  ridge: relative to the mean diagonal.
    predict=True with test=...: the kernel regime's predictions at `time`
    (inf: kernel regression) with learning rate lr.  drift: ||Theta_t -
    Theta_0|| / ||Theta_0||.  per_layer: each layer's share of the trace.
    mc=N: the Monte Carlo kernel over N random initializations of the net's
    architecture (nngp=True: the NNGP), seeds seed, seed + 1, ... (default:
    the net's init seed; 0 for a loaded model, as --seed).
    outputs: "mean" (default) or "sum" over the C outputs for the traced
    empirical kernel (`--ntk-outputs`; "sum" is torch.func's NTK summed over
    the outputs, C times the mean; eta_max and the predictions are the same).
    return_matrix=True adds "K" (the Gram matrix; not a --json key)."""
    ds = as_data(data)
    dt = as_data(test) if test is not None else None
    if nngp and not analytic and not mc:
        raise Error(_lib.EINVAL, "nngp needs analytic=True or mc=N (the NNGP is a kernel over random inits)")
    if mc and (analytic or h_inf or full or predict or drift):
        raise Error(_lib.EINVAL, "mc cannot be combined with analytic, h_inf, full, predict or drift")
    if h_inf and (analytic or full):
        raise Error(_lib.EINVAL, "h_inf cannot be combined with analytic or full")
    if full and analytic:
        raise Error(_lib.EINVAL, "full is for the empirical kernel (the analytic one is delta_cc' K)")
    if outputs is not None and (full or analytic or h_inf or mc):
        raise Error(_lib.EINVAL, "outputs belongs to the traced empirical kernel (not full, analytic, h_inf or mc)")
    if predict and dt is None:
        raise Error(_lib.EINVAL, "predict needs test=...")
    if predict and full:
        raise Error(_lib.EINVAL, "predict uses the traced kernel: drop full")
    if (kernel_act or quad) and not analytic:
        raise Error(_lib.EINVAL, "kernel_act and quad belong to analytic=True")
    if dt is not None and dt.d != ds.d:
        raise Error(_lib.ESHAPE, f"test {dt.spec}: {dt.d} features but the training data has {ds.d}")
    m = self
    if m.widths[0] != ds.d:
        raise Error(_lib.ESHAPE, f"{ds.spec}: {ds.d} features but the model takes {m.widths[0]}")
    C = m.widths[-1]
    mask = 0
    for l in (layers or ()):
        mask |= 1 << int(l)
    if mask >> m.depth:
        raise Error(_lib.EINVAL, f"layers: the net has layers 0..{m.depth - 1}")
    opts = ctypes.c_void_p()
    check(lib.tdl_ntk_config_new(1 if full else 0, str(method).encode(), mask, int(budget_mb) << 20,
                                 ctypes.byref(opts)))
    summed = False
    if outputs is not None:
        st = lib.tdl_ntk_config_set_outputs(opts, str(outputs).encode())
        if st != _lib.OK:
            lib.tdl_ntk_config_free(ctypes.byref(opts))
            check(st)
        summed = outputs == "sum"
    # the per-output kernel the dynamics use is the summed one over C
    ofac = float(C) if summed else 1.0
    wrap = _Wrap()
    ac = ctypes.c_void_p()
    try:
        n = ds.n
        dim = n * C if full else n
        check(lib.tdl_dense_memory_check(dim, 2, 0, b"the Gram matrix"))
        K = np.empty((dim, dim))
        Xd = lib.tdl_dataset_inputs(ds._ptr)
        kind = "h_inf" if h_inf else "analytic" if analytic else "monte_carlo" if mc else "empirical"
        t0 = _now()
        if h_inf:
            meth = "Du et al. 2019: x_i.x_j (pi - theta_ij) / (2 pi), stable atan2 angle, rows as given"
            normalization = "expectation over w ~ N(0, I) (no 1/m)"
            check(lib.tdl_ntk_h_inf(Xd, wrap(K)))
        elif analytic:
            check(lib.tdl_ntk_analytic_config_new(m._ptr, kernel_act.encode() if kernel_act else None, quad,
                                                  ctypes.byref(ac)))
            meth = ("recursion with 2D quadrature of the dual maps (composite Gauss-Legendre split at the transitions)"
                    if lib.tdl_ntk_analytic_config_numeric(ac) else "recursion with closed-form dual maps")
            normalization = ("per output (K delta_cc'); NTK parametrization; Sigma_0 = x.x'/d"
                             if text(lib.tdl_ntk_analytic_config_param_name(ac)) == "ntk" else
                             "per output (K delta_cc'); standard parametrization at the net's widths; Sigma_0 = x.x'/d")
            Kh = wrap(K)
            check(lib.tdl_ntk_analytic(ac, Xd, None, Kh if nngp else None, None if nngp else Kh))
            if nngp:
                kind = "analytic_nngp"
        elif mc:
            mcfg = ctypes.c_void_p(lib.tdl_mlp_config_new())
            if not mcfg.value:
                raise Error(_lib.ENOMEM, "out of memory for a configuration")
            try:
                lib.tdl_ntk_monte_carlo_config_from_mlp(m._ptr, mcfg)
                meth = ("Monte Carlo: mean of f_c(x) f_c(x') over nets and outputs" if nngp
                        else "Monte Carlo: mean of the traced empirical NTK over nets")
                normalization = "per output; gaussian init with the net's sigmas, seeds --seed + i"
                Kh = wrap(K)
                check(lib.tdl_ntk_monte_carlo(mcfg, Xd, int(mc), m._seed if seed is None else int(seed),
                                              Kh if nngp else None, None if nngp else Kh, None))
            finally:
                lib.tdl_mlp_config_free(ctypes.byref(mcfg))
            if nngp:
                kind = "monte_carlo_nngp"
        else:
            meth = text(lib.tdl_ntk_method_name(m._ptr, opts))
            normalization = ("full (nC x nC), row i*C + c" if full else
                             "traced: sum over the C outputs of J_c J_c^T (torch.func)" if summed else
                             "traced: mean over the C outputs of J_c J_c^T")
            check(lib.tdl_ntk_empirical(m._ptr, Xd, None, opts, wrap(K)))
        seconds = _now() - t0
        trace = 0.0
        for i in range(dim):
            trace += K[i, i]
        fro = math.sqrt(float(np.sum(K * K)))
        mean_diag = trace / dim
        ridge_abs = ridge * mean_diag
        ev = np.empty(dim)
        check(lib.tdl_ntk_eigenvalues(wrap(K), dptr(ev)))
        lmin, lmax = ev[0], ev[-1]
        psd_tol = dim * DBL_EPSILON * max(abs(lmin), abs(lmax))
        cond = lmax / lmin if lmin > 0 else math.inf
        eta_max = lib.tdl_ntk_eta_max(lmax, float(n) * ofac, 0.0) if lmax > 0 else math.nan
        arora, arora_note = math.nan, None
        nc, _, classes, kcols = ds._shape()
        if not full and (C == 1 or h_inf) and (kcols == 1 if not classes else classes == 2):
            y = ds.y[:, 0].copy() if not classes else np.where(ds.y != 0, 1.0, -1.0)
            y = np.ascontiguousarray(y, dtype=np.float64)
            out = ctypes.c_double()
            st = lib.tdl_ntk_arora_complexity(wrap(K), dptr(y), ridge_abs, ctypes.byref(out))
            if st == _lib.ENOTPD:
                arora_note = text(lib.tdl_errmsg())
            else:
                check(st)
                arora = out.value
        drift_v = math.nan
        if drift:
            dv = ctypes.c_double()
            check(lib.tdl_ntk_drift(m._ptr, Xd, opts, ctypes.byref(dv)))
            drift_v = dv.value
        layer_tr = None
        if per_layer and not h_inf and not analytic and not mc:
            layer_tr = np.zeros(m.depth)
            Kl = np.empty((dim, dim))
            for l in range(m.depth):
                ol = ctypes.c_void_p()
                check(lib.tdl_ntk_config_new(1 if full else 0, str(method).encode(), 1 << l, int(budget_mb) << 20,
                                             ctypes.byref(ol)))
                try:
                    if outputs is not None:
                        check(lib.tdl_ntk_config_set_outputs(ol, str(outputs).encode()))
                    check(lib.tdl_ntk_empirical(m._ptr, Xd, None, ol, wrap(Kl)))
                finally:
                    lib.tdl_ntk_config_free(ctypes.byref(ol))
                t = 0.0
                for i in range(dim):
                    t += Kl[i, i]
                layer_tr[l] = t
        pred = None
        if predict:
            Ck = 1 if h_inf else C
            mt = dt.n
            Y, Yt = np.empty((n, Ck)), np.empty((mt, Ck))
            check(lib.tdl_ntk_targets(ds._ptr, Ck, wrap(Y)))
            check(lib.tdl_ntk_targets(dt._ptr, Ck, wrap(Yt)))
            Kt = np.empty((mt, n))
            F0, Ft0 = np.zeros((n, Ck)), np.zeros((mt, Ck))
            F, Ftest = np.empty((n, Ck)), np.empty((mt, Ck))
            Xtd = lib.tdl_dataset_inputs(dt._ptr)
            if h_inf:
                Xs = np.ascontiguousarray(np.vstack([ds.X, dt.X]))
                Hs = np.empty((n + mt, n + mt))
                check(lib.tdl_ntk_h_inf(wrap(Xs), wrap(Hs)))
                Kt[:] = Hs[n:, :n]
            elif analytic:
                Kth = wrap(Kt)
                check(lib.tdl_ntk_analytic(ac, Xtd, Xd, Kth if nngp else None, None if nngp else Kth))
            else:
                check(lib.tdl_ntk_empirical(m._ptr, Xtd, Xd, opts, wrap(Kt)))
                F0 = np.ascontiguousarray(m.predict(ds)[:, :Ck])
                Ft0 = np.ascontiguousarray(m.predict(dt)[:, :Ck])
            check(lib.tdl_ntk_predict(wrap(K), wrap(Y), wrap(F0), wrap(Kt), wrap(Ft0), float(lr), float(time),
                                      float(n) * ofac, ridge_abs, wrap(F), wrap(Ftest)))

            def mse(A, B):
                s = 0.0
                for i in range(A.shape[0]):
                    for c in range(A.shape[1]):
                        d = A[i, c] - B[i, c]
                        s += 0.5 * d * d
                return s / A.shape[0]

            p = Result()
            p.string("test", dt.spec)
            if math.isinf(time):
                p.null_reason("time", "t = infinity: the converged (kernel regression) predictor")
            else:
                p.num("time", time)
            p.num("lr", lr)
            p.string("loss", "mse, (1/n) sum 1/2 ||f - y||^2 (one-hot / 0-1 / regression targets)")
            p.string("initial_outputs", "zero (the ensemble mean)" if (h_inf or analytic)
                     else "the net's outputs at its current parameters")
            p.num("train_mse_initial", mse(F0, Y))
            p.num("test_mse_initial", mse(Ft0, Yt))
            p.num("train_mse", mse(F, Y))
            p.num("test_mse", mse(Ftest, Yt))
            p.array("test_predictions", Ftest.ravel())
            pred = p.finish()
        r = Result(top=True)
        r.string("data", ds.spec)
        r.string("arch", m.arch)
        r.size("n", n)
        r.size("dim", dim)
        r.string("kind", kind)
        r.string("kernel", "nngp" if nngp else "h_inf" if h_inf else "ntk")
        r.string("method", meth)
        r.string("normalization", normalization)
        if not h_inf and not analytic:
            r.size("outputs", C)
        if not h_inf and not analytic and not mc and not full:
            r.string("ntk_outputs", "sum" if summed else "mean")
        r["model_provenance"] = _provenance.model_provenance(m)
        if mc:
            r.size("samples", mc)
        r.array("eigenvalues", ev)
        r.num("lambda_min", lmin)
        r.num("lambda_max", lmax)
        r.num("trace", trace)
        r.num("frobenius", fro)
        r.num("psd_tolerance", psd_tol)
        r.boolean("psd", lmin >= -psd_tol)
        if math.isfinite(cond):
            r.num("condition_number", cond)
        else:
            r.null_reason("condition_number", "condition number undefined: lambda_min <= 0")
        if math.isfinite(eta_max):
            r.num("eta_max", eta_max)
        r.string("eta_max_convention", "2 n C / lambda_max (the kernel sums the C outputs) for tdl's mse (1/n) sum 1/2 "
                 "||f - y||^2, no momentum" if summed else
                 "2 n / lambda_max for tdl's mse (1/n) sum 1/2 ||f - y||^2, no momentum")
        r.num("ridge", ridge_abs)
        if not math.isnan(arora):
            r.num("arora_complexity", arora)
        elif arora_note is not None:
            r.null_reason("arora_complexity", arora_note)
        if layer_tr is not None:
            r.array("layer_traces", layer_tr)
        if drift:
            r.num("drift", drift_v)
        if pred is not None:
            r["predict"] = pred
        r.num("seconds", seconds)
        if return_matrix:
            r["K"] = K
        return r.finish()
    finally:
        lib.tdl_ntk_config_free(ctypes.byref(opts))
        if ac.value:
            lib.tdl_ntk_analytic_config_free(ctypes.byref(ac))


def bounds(self, data, test=None, *, loss=None, delta=0.05, margin_percentile=10.0, flatness=True, ntk=True,
           flat_samples=None, mc_samples=None, seed=0, quick=False, pb=False, pb_epochs=None, pb_samples=None,
           pb_batch=None, pb_lr=None, pb_sigma_init=None, pb_prior_std=0.05, pb_delta=None, pb_delta_prime=None,
           pb_objective=None):
    """Complexity measures and generalization bounds, as `tdl bounds --json`.
    test: a data set whose 0-1 error is reported beside the bounds.  quick:
    fewer Monte Carlo samples (as --quick).  seed: --bound-seed.  pb=True
    adds Dziugaite and Roy's optimized PAC-Bayes bound (--pac-bayes-opt; pb_* as the
    --pb-* options).  Every row carries the library's ledger (kind, classifier,
    terms, fixed_scale_value, below_chance), as in the CLI."""
    ds = as_data(data)
    ts = as_data(test) if test is not None else None
    cfg = ctypes.c_void_p(lib.tdl_bounds_config_new())
    if not cfg.value:
        raise Error(_lib.ENOMEM, "out of memory for a configuration")
    v = ctypes.c_void_p()
    dr_row = ctypes.c_void_p()
    keep = []
    try:
        setn = lambda k, x: check(lib.tdl_bounds_config_set_number(cfg, k.encode(), float(x)))
        setn("delta", delta)
        setn("margin_percentile", margin_percentile)
        setn("flatness", 1 if flatness else 0)
        setn("ntk", 1 if ntk else 0)
        if flat_samples is None and quick:
            flat_samples = 3
        if mc_samples is None and quick:
            mc_samples = 20
        if flat_samples is not None:
            setn("flat_samples", flat_samples)
        if mc_samples is not None:
            setn("mc_samples", mc_samples)
        setn("seed", seed)
        if pb:
            dc = ctypes.c_void_p(lib.tdl_dr_config_new())
            if not dc.value:
                raise Error(_lib.ENOMEM, "out of memory for a configuration")
            keep.append(dc)
            setd = lambda k, x: check(lib.tdl_dr_config_set_number(dc, k.encode(), float(x)))
            if pb_epochs is None and quick:
                pb_epochs = 5
            if pb_samples is None and quick:
                pb_samples = 20
            for k, x in (("epochs", pb_epochs), ("mc_samples", pb_samples), ("batch", pb_batch), ("lr", pb_lr),
                         ("sigma_init", pb_sigma_init), ("delta", pb_delta), ("delta_prime", pb_delta_prime)):
                if x is not None:
                    setd(k, x)
            if pb_objective is not None:
                check(lib.tdl_dr_config_set_text(dc, b"objective", str(pb_objective).encode()))
            rho = math.log(pb_prior_std)
            if 2 * rho >= math.log(0.1) - 1 / 100:
                raise Error(_lib.EINVAL, f"pb_prior_std {pb_prior_std:g}: the prior variance must be below "
                                         f"c exp(-1/b) = {0.1 * math.exp(-1 / 100):g}")
            setd("rho_init", rho)
            setd("seed", seed)
        t0 = _now()
        lk = self._loss(ds, loss)
        if ts is not None:
            self._check_test(ts, lk)
            if not ts.classes:
                raise Error(_lib.EINVAL, f"test {ts.spec}: no class labels; bounds are on the classification error")
        nv = ctypes.c_size_t()
        train_err = ctypes.c_double()
        check(lib.tdl_bounds_compute(self._ptr, lk, ds._ptr, cfg, ctypes.byref(v), ctypes.byref(nv),
                                     ctypes.byref(train_err)))
        _, _, _, margins = self._evaluate(ds, lk)
        margins = np.ascontiguousarray(margins)
        lib.tdl_sort_doubles(dptr(margins), margins.size)
        mq = [lib.tdl_percentile_sorted(dptr(margins), margins.size, p) for p in (0.0, 25.0, 50.0, 75.0, 100.0)]
        s = 0.0
        for x in margins:
            s += x
        mq.append(s / margins.size)
        test_err = self._evaluate(ts, lk)[1] if ts is not None else math.nan
        dr = None
        lib.tdl_bounds_chance.restype = ctypes.c_double
        lib.tdl_bounds_chance.argtypes = [ctypes.c_size_t]
        chance = lib.tdl_bounds_chance(ds.classes)
        if pb:
            res = _lib.DrResult()
            t1 = _now()
            check(lib.tdl_dr_optimize(self._ptr, lk, ds._ptr, dc, ctypes.byref(res)))
            try:
                dr_seconds = _now() - t1
                snn_test = math.nan
                if ts is not None:
                    out = ctypes.c_double()
                    samples = pb_samples if pb_samples is not None else 1000
                    check(lib.tdl_snn_error(self._ptr, lk, ts._ptr, res.w, res.s2, min(samples, 100), seed + 7,
                                            ctypes.byref(out), None))
                    snn_test = out.value
                dr = {f: getattr(res, f) for f, _ in _lib.DrResult._fields_ if f not in ("w", "s2")}
                drm = lib.tdl_dr_measure
                drm.restype = ctypes.c_int
                drm.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_double, ctypes.POINTER(ctypes.c_void_p)]
                check(drm(ctypes.byref(res), dc, chance, ctypes.byref(dr_row)))
            finally:
                lib.tdl_dr_result_free(ctypes.byref(res))
        seconds = _now() - t0
        r = Result(top=True)
        r.string("data", ds.spec)
        r.size("m", ds.n)
        r.size("params", self.n_params)
        r.string("loss_name", text(lib.tdl_loss_name(lk)))
        r.num("delta", delta)
        r.num("margin_percentile", margin_percentile)
        r.string("margin_definition", "f(x)_y - max_{j != y} f(x)_j (one output: (2y-1) f(x)); NumPy linear percentile")
        r.string("conventions", "effective weights (w_scale W); biases folded in as a constant input / hidden unit; "
                                "Rademacher rows: fixed-scale value L_gamma (ramp) + 2 Rad/gamma (4 Rad/gamma, i.e. 4C/gamma, for C >= 3) "
                                "+ 3 sqrt(ln(2/delta)/(2m)); golowich2018_* and linear_rademacher: bounds uniform over dyadic scales of the norms and "
                                "gamma (docs/bounds.md Sec. 3; terms empirical, complexity, rounding, confidence, union); kind bound: a theorem's bound "
                                "at the total delta with every data-chosen quantity "
                                "paid for; vacuous means bound >= 1")
        md = Result()
        for key, x in zip(("min", "q1", "median", "q3", "max", "mean"), mq):
            md.num(key, x)
        r["margin_distribution"] = md.finish()
        r.num("train_error", train_err.value)
        if ts is not None:
            r.num("test_error", test_err)
            r.size("test_n", ts.n)
        r.num("chance", chance)
        r.string("chance_definition", "1 - 1/C for C classes: the error of guessing uniformly (0.5 for binary); "
                                      "below_chance: bound < chance")
        measures = []
        ledger = lib.tdl_measure_get_ledger
        ledger.restype = None
        ledger.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_char_p),
                           ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_double),
                           ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_int),
                           ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_size_t)]
        get_term = lib.tdl_measure_get_term
        get_term.restype = None
        get_term.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.POINTER(ctypes.c_char_p),
                             ctypes.POINTER(ctypes.c_double)]

        def row(v, i):
            # one row of "measures": the library's row and its ledger, as emit_row_json
            name, src, note = ctypes.c_char_p(), ctypes.c_char_p(), ctypes.c_char_p()
            val, bnd, dlt = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
            vac, avail = ctypes.c_int(), ctypes.c_int()
            lib.tdl_measure_get(v, i, ctypes.byref(name), ctypes.byref(val), ctypes.byref(bnd), ctypes.byref(vac),
                                ctypes.byref(avail), ctypes.byref(dlt), ctypes.byref(src), ctypes.byref(note))
            kind, cls, why_p = ctypes.c_char_p(), ctypes.c_char_p(), ctypes.c_char_p()
            fsv, below = ctypes.c_double(), ctypes.c_int()
            nt, nh = ctypes.c_size_t(), ctypes.c_size_t()
            ledger(v, i, ctypes.byref(kind), ctypes.byref(cls), ctypes.byref(fsv), ctypes.byref(why_p),
                   ctypes.byref(below), ctypes.byref(nt), ctypes.byref(nh))
            note_t = text(note.value) or ""
            why = text(why_p.value) or ""
            e = Result()
            e.string("name", text(name.value))
            e.num("value", val.value, "not finite" if avail.value else why)
            e.num("bound", bnd.value)
            e.boolean("vacuous", vac.value)
            e.boolean("available", avail.value)
            e.string("source", text(src.value))
            if math.isnan(bnd.value):
                e.string("bound_reason", why)
            e.num("delta", dlt.value, "a measure, not a bound: no confidence level" if avail.value else why)
            if note_t:
                e.string("note" if avail.value else "reason", note_t)
            e.string("kind", text(kind.value))
            if text(kind.value) == "bound":
                e.string("classifier", text(cls.value))
                terms = Result()
                for k in range(nt.value):
                    tn, tv = ctypes.c_char_p(), ctypes.c_double()
                    get_term(v, i, k, ctypes.byref(tn), ctypes.byref(tv))
                    terms.num(text(tn.value), tv.value)
                e["terms"] = terms.finish()
                e.boolean("below_chance", below.value > 0)
                if not math.isnan(fsv.value):
                    e.num("fixed_scale_value", fsv.value)
            else:
                e.null_reason("classifier", "a measure bounds no classifier")
                e.num("fixed_scale_value", fsv.value, "no bound formula behind this measure" if avail.value else why)
                e.null_reason("terms", "a measure, not a bound: no terms")
                e.null_reason("below_chance", "a measure, not a bound")
            return e.finish()

        for i in range(nv.value):
            measures.append(row(v, i))
        if dr is not None:
            measures.append(row(dr_row, 0))
        r["measures"] = measures
        if dr is not None:
            pd = pb_delta if pb_delta is not None else 0.025
            pdp = pb_delta_prime if pb_delta_prime is not None else 0.01
            d = Result()
            for k in ("bound", "kl"):
                d.num(k, dr[k])
            d.num("lambda", dr["lambda_"])
            for k in ("j", "B", "snn_train_error", "snn_train_bound"):
                d.num(k, dr[k])
            if ts is not None:
                d.num("snn_test_error", snn_test)
            d.num("mean_sigma", dr["mean_sigma"])
            d.num("objective", dr["objective"])
            d.size("epochs", dr["epochs"])
            d.size("samples", dr["samples"])
            d.string("mc_step", "per-example fresh nets (exact local reparametrization), N = m samples draws")
            d.num("mc_draws", float(ds.n) * float(dr["samples"]))
            d.num("delta", pd)
            d.num("delta_prime", pdp)
            d.num("confidence", dr["confidence"])
            d.num("seconds", dr_seconds)
            d.string("objective_form", str(pb_objective) if pb_objective is not None else "quad")
            d.string("surrogate", "logistic / ln 2" if text(lib.tdl_loss_name(lk)) == "logistic"
                     else "cross-entropy / ln 2")
            r["dziugaite_roy"] = d.finish()
        r.num("seconds", seconds)
        return r.finish()
    finally:
        if v.value:
            _lib.libc.free(v)
        if dr_row.value:
            _lib.libc.free(dr_row)
        lib.tdl_bounds_config_free(ctypes.byref(cfg))
        for dc in keep:
            lib.tdl_dr_config_free(ctypes.byref(dc))


def landscape(self, data, *, test=None, loss=None, to=None, via=None, plane=None, trajectory=None, grid=None,
              range=None, yrange=None, norm="filter", dir_bias="ignore", direction_seed=0, threads=0,
              curve=None, curve_epochs=None, curve_batch=None, curve_lr=None, curve_momentum=None):
    """Loss landscape slices, as `tdl landscape --json`.

    Default: the loss along one random direction around the model (Li et al.
    2018, filter-normalized).  plane="random" or "hessian": a 2D plane of two
    random directions or of the top two Hessian eigenvectors.  to=Model: the
    interpolation (1 - a) self + a to; with via=Model as well, the plane
    through the three models (self + x (to - self) + y (via - self)).
    plane="pca" with trajectory (snapshots x P parameters, or the .npz of
    `tdl train --log-params`): the plane of the trajectory's top two principal
    components around the model (Li et al. 2018, sec. 7).  curve="bezier"
    or "chain" with to=Model: mode connectivity (Garipov et al. 2018), a bend
    trained for curve_epochs (seed: direction_seed), the loss along the curve
    and the straight line at grid points (default 61); adds "bend", the
    trained bend (P,), which the CLI writes to -o (not a --json key).  grid:
    points a side (default 51; with to: 41); range (lo, hi) (default (-1, 1);
    with to: (-0.5, 1.5)); yrange for planes."""
    ds = as_data(data)
    ts = as_data(test) if test is not None else None
    if curve is not None:
        if to is None or via is not None:
            raise Error(_lib.EINVAL, "curve needs to=M2 (and no via)")
        return _curve(self, ds, ts, loss, to, curve, grid, threads, direction_seed, curve_epochs, curve_batch,
                      curve_lr, curve_momentum)
    if plane is not None and plane not in ("random", "hessian", "models", "pca"):
        raise Error(_lib.EINVAL, f"plane {plane}: expected random, hessian, models or pca")
    if plane == "pca" and trajectory is None:
        raise Error(_lib.EINVAL, "plane pca needs trajectory=(snapshots x parameters, from train's callback or "
                                 "tdl train --log-params)")
    if trajectory is not None and plane != "pca":
        raise Error(_lib.EINVAL, "trajectory belongs to plane='pca'")
    if via is not None and to is None:
        raise Error(_lib.EINVAL, "via needs to (the plane through three models)")
    if plane == "models" and via is None:
        raise Error(_lib.EINVAL, "plane models needs to=M2 and via=M3")
    if to is not None and via is None and plane is not None:
        raise Error(_lib.EINVAL, "to without via is a 1D interpolation; plane does not apply")
    if via is not None and plane not in (None, "models"):
        raise Error(_lib.EINVAL, f"to with via spans the models plane; drop plane={plane}")
    if via is not None:
        plane = "models"
    two_d = plane is not None
    interp = to is not None and via is None
    lo, hi = (-1.0, 1.0) if range is None else map(float, range)
    g = 51 if grid is None else int(grid)
    if range is None and to is not None:
        lo, hi = -0.5, 1.5
        if grid is None:
            g = 41
    if not two_d and yrange is not None:
        raise Error(_lib.EINVAL, "yrange applies to 2D planes")
    ylo, yhi = (lo, hi) if yrange is None else map(float, yrange)
    if g < 2:
        raise Error(_lib.EINVAL, f"grid {g}: expected at least 2 points")
    lk = self._loss(ds, loss)
    if ts is not None:
        self._check_test(ts, lk)
    P = self.n_params
    theta = np.ascontiguousarray(self.theta)
    nrm = ctypes.c_int()
    check(lib.tdl_dir_norm_parse(str(norm).encode(), ctypes.byref(nrm)))
    if dir_bias not in ("ignore", "normalize"):
        raise Error(_lib.EINVAL, f"dir_bias {dir_bias}: expected ignore or normalize")
    bias = 1 if dir_bias == "normalize" else 0
    eig = eig_res = None
    d1 = d2 = None
    traj = ratio = None
    for other, name in ((to, "to"), (via, "via")):
        if other is not None and (other.arch != self.arch or other.n_params != P):
            raise Error(_lib.ESHAPE, f"{name}: the model is {other.arch} but self is {self.arch} "
                                     "(a slice needs the same structure)")
    if via is not None:
        mode = "plane"
        normalization = "none: theta(x, y) = M + x (M2 - M) + y (M3 - M); M2 at (1, 0), M3 at (0, 1)"
        d1 = np.ascontiguousarray(to.theta - theta)
        d2 = np.ascontiguousarray(via.theta - theta)
        basis = [theta, d1, d2]
        cosine = lib.tdl_direction_cosine(dptr(d1), dptr(d2), P)
    elif interp:
        mode = "interpolation"
        normalization = "none: theta(a) = (1 - a) M + a M2 (Goodfellow et al. 2015)"
        basis = [theta, np.ascontiguousarray(to.theta)]
        cosine = math.nan
    else:
        mode = "plane" if two_d else "direction"
        plane_name = plane if two_d else "random"
        d1 = np.empty(P)
        d2 = np.empty(P) if two_d else None
        if plane_name == "pca":
            T = np.load(trajectory)["theta"] if isinstance(trajectory, str) else trajectory
            T = np.ascontiguousarray(np.asarray(T, dtype=np.float64))
            if T.ndim != 2:
                raise Error(_lib.ESHAPE, "trajectory: expected a 2-D array (snapshots x parameters)")
            if T.shape[1] != P:
                raise Error(_lib.ESHAPE, f"trajectory: the snapshots have {T.shape[1]} parameters, the model {P}")
            traj = np.empty(2 * max(T.shape[0], 1))
            ratio = np.empty(2)
            st = lib.tdl_direction_pca(dptr(T), T.shape[0], P, dptr(theta), dptr(d1), dptr(d2), dptr(ratio), dptr(traj))
            if st != _lib.OK:
                raise Error(st, f"trajectory: {text(lib.tdl_errmsg())}")
            traj = traj[:2 * T.shape[0]]
            normalization = "none: unit principal components of the trajectory minus the model (Li et al. 2018, sec. 7)"
            if range is None:   # the plane must show the trajectory
                mx = float(np.max(np.abs(traj))) if traj.size else 0.0
                lo = ylo = -1.2 * mx
                hi = yhi = 1.2 * mx
        elif plane_name == "random":
            check(lib.tdl_direction_random(self._ptr, direction_seed, nrm.value, bias, dptr(d1)))
            if two_d:
                check(lib.tdl_direction_random(self._ptr, direction_seed + 1, nrm.value, bias, dptr(d2)))
            normalization = (f"{norm} normalization (Li et al. 2018), biases "
                             + ("ignored (zero in the directions)" if bias == 0 else "normalized with their unit"))
        else:
            e, er = (ctypes.c_double * 2)(), (ctypes.c_double * 2)()
            check(lib.tdl_direction_hessian(self._ptr, lk, ds._ptr, direction_seed, dptr(d1), dptr(d2),
                                            ctypes.cast(e, _lib.dp), ctypes.cast(er, _lib.dp)))
            eig, eig_res = list(e), list(er)
            normalization = "none: unit eigenvectors of the Hessian of the mean training loss (top two, Lanczos)"
        basis = [theta, d1] + ([d2] if two_d else [])
        cosine = lib.tdl_direction_cosine(dptr(d1), dptr(d2), P) if two_d else math.nan
    nx, ny = g, (g if two_d else 1)
    x = np.empty(nx)
    lib.tdl_linspace(lo, hi, nx, dptr(x))
    y = np.empty(ny)
    if two_d:
        lib.tdl_linspace(ylo, yhi, ny, dptr(y))
    else:
        y[0] = 0.0
    K = len(basis)
    N = nx * ny
    coef = np.empty((N, K))
    for i in np.arange(ny):
        for j in np.arange(nx):
            q = i * nx + j
            if interp:
                coef[q] = (1 - x[j], x[j])
            elif two_d:
                coef[q] = (1.0, x[j], y[i])
            else:
                coef[q] = (1.0, x[j])
    bptr = (_lib.dp * K)(*[dptr(b) for b in basis])
    L, A = np.empty(N), np.empty(N)
    t0 = _now()
    check(lib.tdl_landscape_eval(self._ptr, lk, ds._ptr, K, bptr, N, dptr(coef), None, threads, dptr(L), dptr(A)))
    TL = TA = None
    if ts is not None:
        TL, TA = np.empty(N), np.empty(N)
        st = lib.tdl_landscape_eval(self._ptr, lk, ts._ptr, K, bptr, N, dptr(coef), None, threads, dptr(TL), dptr(TA))
        if st != _lib.OK:
            raise Error(st, f"test {ts.spec}: {text(lib.tdl_errmsg())}")
    seconds = _now() - t0
    ends = [math.nan, math.nan]
    if interp:
        ec = np.array([1.0, 0.0, 0.0, 1.0])
        e2 = np.empty(2)
        check(lib.tdl_landscape_eval(self._ptr, lk, ds._ptr, 2, bptr, 2, dptr(ec), None, threads, dptr(e2), None))
        ends = list(e2)
    centre, lmin, lmax = math.nan, math.inf, -math.inf
    for i in np.arange(ny):
        for j in np.arange(nx):
            q = i * nx + j
            if x[j] == 0 and y[i] == 0:
                centre = L[q]
            lmin = min(lmin, L[q]) if not math.isnan(L[q]) else lmin
            lmax = max(lmax, L[q]) if not math.isnan(L[q]) else lmax
    r = Result(top=True)
    r.string("data", ds.spec)
    if ts is not None:
        r.string("test", ts.spec)
    r.string("arch", self.arch)
    r.size("params", P)
    _provenance.loss_keys(r, self, lk)
    r.string("mode", mode)
    if two_d:
        r.string("plane", plane)
    r.string("normalization", normalization)
    r.num("cosine", cosine)
    if math.isnan(cosine):
        r.string("cosine_reason", "a direction is zero" if two_d else "one direction (1D)")
    r.array("x", x)
    if two_d:
        r.array("y", y)
    rows = (lambda v: v.reshape(ny, nx)) if two_d else (lambda v: v)
    why = "null at a cell not evaluated yet (--max-cells; continue with --resume) or where the value is not finite"
    for key, v in (("loss", L), ("accuracy", A)) + ((("test_loss", TL), ("test_accuracy", TA)) if ts is not None else ()):
        r[key] = rows(v)
        if not np.isfinite(v).all():
            r.string(key + "_reason", why)
    r.size("cells", N)
    r.size("filled", N)
    r.size("unfilled", 0)
    nf = "not evaluated yet (--max-cells; continue with --resume), or the loss there is not finite"
    r.num("centre_loss", centre, nf)
    if interp:
        r.num("loss_start", ends[0], nf)
        r.num("loss_end", ends[1], nf)
    r.num("loss_min", lmin, nf)
    r.num("loss_max", lmax, nf)
    if eig is not None:
        r.array("eigenvalues", eig)
        r.array("eigen_residuals", eig_res)
    if traj is not None:
        r.array("explained_variance", ratio)
        t = Result()
        t.array("x", traj[0::2])
        t.array("y", traj[1::2])
        r["trajectory"] = t.finish()
    r.size("evaluated", N)
    r.num("seconds", seconds)
    return r.finish()


def _curve(self, ds, ts, loss, to, curve, grid, threads, seed, epochs, batch, lr, momentum):
    """landscape(curve=...): `tdl landscape --to M2 --curve KIND --json`."""
    kind = ctypes.c_int()
    check(lib.tdl_curve_parse(str(curve).encode(), ctypes.byref(kind)))
    lk = self._loss(ds, loss)
    if ts is not None:
        self._check_test(ts, lk)
    P = self.n_params
    if to.arch != self.arch or to.n_params != P:
        raise Error(_lib.ESHAPE, f"to: the model is {to.arch} but self is {self.arch} (a slice needs the same structure)")
    n = 61 if grid is None else int(grid)   # Garipov et al. evaluate 61 points
    cc = _lib.CurveConfig()
    lib.tdl_curve_config_default(ctypes.byref(cc))
    for f, v in (("epochs", epochs), ("batch", batch), ("lr", lr), ("momentum", momentum)):
        if v is not None:
            setattr(cc, f, v)
    cc.seed = int(seed)
    w1, w2 = np.ascontiguousarray(self.theta), np.ascontiguousarray(to.theta)
    bend = 0.5 * (w1 + w2)   # start at the midpoint
    fl = ctypes.c_double()
    t0 = _now()
    check(lib.tdl_curve_train(self._ptr, lk, ds._ptr, kind.value, dptr(w1), dptr(w2), ctypes.byref(cc), dptr(bend),
                              ctypes.byref(fl)))
    train_seconds = _now() - t0
    t = np.empty(n)

    def along(d, k, b):
        lo_, ac_, bar = np.empty(n), np.empty(n), ctypes.c_double()
        st = lib.tdl_curve_eval(self._ptr, lk, d._ptr, k, dptr(w1), dptr(b) if b is not None else None, dptr(w2), n,
                                threads, dptr(t), dptr(lo_), dptr(ac_), ctypes.byref(bar))
        if st != _lib.OK and d is ts:
            raise Error(st, f"test {ts.spec}: {text(lib.tdl_errmsg())}")
        check(st)
        return lo_, ac_, bar.value

    ll, la, bl = along(ds, 0, None)     # TDL_CURVE_LINE
    cl, ca, bc = along(ds, kind.value, bend)
    if ts is not None:
        tll, _, tbl = along(ts, 0, None)
        tcl, _, tbc = along(ts, kind.value, bend)
    seconds = _now() - t0
    why = "the loss along the path is not finite"
    r = Result(top=True)
    r.string("data", ds.spec)
    r.size("params", P)
    _provenance.loss_keys(r, self, lk)
    r.string("mode", "curve")
    r.string("curve", str(curve))
    r.string("normalization", "none: phi(t) between the two models (Garipov et al. 2018)")
    r.string("barrier_definition", "max_t loss(phi(t)) - (loss(M) + loss(M2)) / 2")
    r.array("x", t)
    r.array("loss", cl)
    r.array("accuracy", ca)
    r.array("line_loss", ll)
    r.array("line_accuracy", la)
    r.num("barrier_line", bl, why)
    r.num("barrier_curve", bc, why)
    if ts is not None:
        r.array("test_loss", tcl)
        r.array("test_line_loss", tll)
        r.num("test_barrier_line", tbl, why)
        r.num("test_barrier_curve", tbc, why)
    r.num("loss_start", ll[0], why)
    r.num("loss_end", ll[-1], why)
    r.num("cosine", math.nan, "a curve has no pair of directions")
    tr = Result()
    tr.size("epochs", cc.epochs)
    tr.size("batch", cc.batch)
    tr.num("lr", cc.lr)
    tr.num("momentum", cc.momentum)
    tr.num("final_loss", fl.value, why)
    tr.num("seconds", train_seconds)
    r["training"] = tr.finish()
    r.num("seconds", seconds)
    r["bend"] = bend
    return r.finish()


Model.hessian = hessian
Model.ntk = ntk
Model.bounds = bounds
Model.landscape = landscape
