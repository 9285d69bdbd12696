"""Loading libtdl and declaring the C functions the package calls (ctypes).

Only functions of the public headers (include/tdl/*.h) are used.  Structs
whose layout may grow (tdl_mlp, tdl_dataset, the configurations) stay opaque
pointers, read and set through tdl/access.h; the few small flat structs
mirrored here are checked against the C sizeof (tdl_sizeof) when the library
loads.
"""
import ctypes
import ctypes.util
import os
import shutil

from ctypes import (POINTER, Structure, c_char_p, c_double, c_int, c_longlong, c_size_t,
                    c_ssize_t, c_ulong, c_ulonglong, c_void_p, CFUNCTYPE)

_HERE = os.path.dirname(os.path.abspath(__file__))

# status codes of tdl/error.h
OK, EINVAL, ENOMEM, EIO, EFORMAT, ESHAPE, ENONFINITE, ETOOBIG, ENOCONV, ENOTPD, EDIVERGED, EINTR = range(12)


class Error(Exception):
    """A libtdl failure: .status is the tdl_status code (tdl/error.h),
    .message (also str(err)) the library's message from tdl_errmsg()."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _candidates():
    env = os.environ.get("TDL_LIBRARY")
    if env:
        yield env
        return
    repo = os.path.dirname(os.path.dirname(_HERE))
    for build in ("build",):
        for name in ("libtdl.so.0", "libtdl.so"):
            p = os.path.join(repo, build, "src", name)
            if os.path.exists(p):
                yield p
    found = ctypes.util.find_library("tdl")
    if found:
        yield found
    yield "libtdl.so.0"


def _load():
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            errors.append(f"{path}: {e}")
    raise ImportError("tdl: cannot load libtdl (set TDL_LIBRARY to the path of libtdl.so, or build the "
                      "repository with `sh scripts/setup.sh`): " + "; ".join(errors))


lib, library_path = _load()

# ---- mirrored structs (small, flat; checked against tdl_sizeof below) ------


class MatrixView(Structure):  # tdl_matrix_view
    _fields_ = [("data", POINTER(c_double)), ("rows", c_size_t), ("cols", c_size_t),
                ("row_stride", c_ssize_t), ("col_stride", c_ssize_t)]


class Act(Structure):  # tdl_act
    _fields_ = [("kind", c_int), ("a", c_double), ("b", c_double)]


class EvalStats(Structure):  # tdl_eval_stats
    _fields_ = [("n", c_size_t), ("loss", c_double), ("error", c_double), ("accuracy", c_double),
                ("margins", POINTER(c_double))]


class SymEigen(Structure):  # tdl_sym_eigen
    _fields_ = [("dim", c_size_t), ("count", c_size_t), ("values", POINTER(c_double)),
                ("vectors", POINTER(c_double)), ("driver", c_char_p), ("norm", c_double),
                ("error_bound", c_double)]


class LanczosResult(Structure):  # tdl_lanczos_result
    _fields_ = [("k", c_size_t), ("P", c_size_t), ("values", POINTER(c_double)),
                ("vectors", POINTER(c_double)), ("residuals", POINTER(c_double)),
                ("iterations", c_size_t), ("matvecs", c_size_t), ("converged", c_int),
                ("residual_bounds", POINTER(c_double)), ("gaps", POINTER(c_double)),
                ("quadratic_bounds", POINTER(c_double)), ("error_bounds", POINTER(c_double)),
                ("norm_estimate", c_double), ("rounding", c_double)]


class SlqResult(Structure):  # tdl_slq_result
    _fields_ = [("runs", c_size_t), ("steps", c_size_t), ("nodes", POINTER(c_double)),
                ("weights", POINTER(c_double)), ("matvecs", c_size_t)]


class Density(Structure):  # tdl_density
    _fields_ = [("points", c_size_t), ("grid", POINTER(c_double)), ("values", POINTER(c_double)),
                ("sigma", c_double), ("conv", c_int)]


class TrainResult(Structure):  # tdl_train_result
    _fields_ = [("epochs", c_size_t), ("steps", c_size_t), ("loss", c_double), ("accuracy", c_double),
                ("reached_target", c_int), ("stopped", c_int), ("initial_loss", c_double),
                ("reference_loss", c_double), ("diverge_threshold", c_double),
                ("diverged_loss", c_double), ("diverged_nonfinite", c_int)]


class DrResult(Structure):  # tdl_dr_result
    _fields_ = [("bound", c_double), ("kl", c_double), ("lambda_", c_double), ("j", c_double), ("B", c_double),
                ("snn_train_error", c_double), ("snn_train_bound", c_double), ("mean_sigma", c_double),
                ("objective", c_double), ("samples", c_size_t), ("epochs", c_size_t), ("confidence", c_double),
                ("w", POINTER(c_double)), ("s2", POINTER(c_double))]


class CurveConfig(Structure):  # tdl_curve_config
    _fields_ = [("epochs", c_size_t), ("batch", c_size_t), ("lr", c_double), ("momentum", c_double),
                ("seed", c_ulong)]


class TrainProgress(Structure):  # tdl_train_progress (read in the callback only)
    _fields_ = [("epoch", c_size_t), ("step", c_size_t), ("lr", c_double), ("loss", c_double),
                ("accuracy", c_double), ("theta_norm", c_double), ("dist_init", c_double),
                ("theta", POINTER(c_double))]


MIRRORS = {"tdl_matrix_view": MatrixView, "tdl_act": Act, "tdl_eval_stats": EvalStats,
           "tdl_sym_eigen": SymEigen, "tdl_lanczos_result": LanczosResult,
           "tdl_slq_result": SlqResult, "tdl_density": Density, "tdl_train_result": TrainResult,
           "tdl_dr_result": DrResult, "tdl_curve_config": CurveConfig, "tdl_train_progress": TrainProgress}

MATVEC = CFUNCTYPE(c_int, POINTER(c_double), POINTER(c_double), c_void_p)
TRAIN_CALLBACK = CFUNCTYPE(c_int, POINTER(TrainProgress), c_void_p)

vp, dp, sz = c_void_p, POINTER(c_double), c_size_t
szp, ip, dpp = POINTER(c_size_t), POINTER(c_int), POINTER(POINTER(c_double))
vpp = POINTER(c_void_p)

_PROTOS = {
    # errors, version
    "tdl_errmsg": (c_char_p, []),
    "tdl_strerror": (c_char_p, [c_int]),
    "tdl_errclear": (None, []),
    "tdl_version": (c_char_p, []),
    "tdl_blas_core": (c_char_p, []),
    "tdl_sizeof": (c_size_t, [c_char_p]),
    # data
    "tdl_dataset_load": (c_int, [c_char_p, vpp]),
    "tdl_dataset_from_arrays": (c_int, [MatrixView, POINTER(c_longlong), sz, POINTER(MatrixView), c_char_p, vpp]),
    "tdl_dataset_free": (None, [vpp]),
    "tdl_dataset_shape": (None, [vp, szp, szp, szp, szp]),
    "tdl_dataset_spec": (c_char_p, [vp]),
    "tdl_dataset_description": (c_char_p, [vp]),
    "tdl_dataset_copy": (None, [vp, dp, POINTER(c_longlong), dp]),
    "tdl_dataset_inputs": (vp, [vp]),
    "tdl_matrix_wrap": (vp, [dp, sz, sz]),
    "tdl_matrix_wrap_free": (None, [vpp]),
    # tensors and models
    "tdl_tensors_new": (vp, []),
    "tdl_tensors_add": (c_int, [vp, c_char_p, sz, szp, dp]),
    "tdl_tensors_set_meta": (c_int, [vp, c_char_p, c_char_p]),
    "tdl_tensors_free": (None, [vpp]),
    "tdl_act_parse": (c_int, [c_char_p, POINTER(Act)]),
    "tdl_mlp_from_tensors": (c_int, [vp, POINTER(Act), vpp]),
    "tdl_mlp_load": (c_int, [c_char_p, POINTER(Act), vpp]),
    "tdl_mlp_save": (c_int, [c_char_p, vp]),
    "tdl_mlp_create": (c_int, [vp, vpp]),
    "tdl_mlp_clone": (c_int, [vp, vpp]),
    "tdl_mlp_free": (None, [vpp]),
    "tdl_arch_format": (None, [vp, c_char_p, sz]),
    "tdl_mlp_depth": (sz, [vp]),
    "tdl_mlp_width": (sz, [vp, sz]),
    "tdl_mlp_param_count": (sz, [vp]),
    "tdl_mlp_params": (dp, [vp]),
    "tdl_mlp_init_params": (dp, [vp]),
    "tdl_mlp_set_init_params": (c_int, [vp, dp]),
    "tdl_mlp_layer_info": (c_int, [vp, sz, szp, szp, ip, ip, szp, szp]),
    "tdl_mlp_activation_name": (None, [vp, c_char_p, sz]),
    "tdl_mlp_param_kind_name": (c_char_p, [vp]),
    "tdl_mlp_meta": (c_char_p, [vp, c_char_p]),
    "tdl_mlp_set_meta": (c_int, [vp, c_char_p, c_char_p]),
    "tdl_mlp_default_loss": (c_int, [vp, vp, c_char_p, ip]),
    "tdl_mlp_config_new": (vp, []),
    "tdl_mlp_config_free": (None, [vpp]),
    "tdl_mlp_config_set_text": (c_int, [vp, c_char_p, c_char_p]),
    "tdl_mlp_config_set_number": (c_int, [vp, c_char_p, c_double]),
    "tdl_mlp_config_set_trainable": (c_int, [vp, sz, c_int]),
    # net
    "tdl_loss_name": (c_char_p, [c_int]),
    "tdl_loss_parse": (c_int, [c_char_p, ip]),
    "tdl_loss_check": (c_int, [c_int, vp, vp]),
    "tdl_net_work_alloc": (c_int, [vp, sz, vpp]),
    "tdl_net_work_free": (None, [vpp]),
    "tdl_mlp_predict": (c_int, [vp, vp, dp]),
    "tdl_mlp_loss_grad": (c_int, [vp, c_int, vp, vp, dp, dp]),
    "tdl_mlp_hvp": (c_int, [vp, c_int, vp, dp, c_int, vp, dp]),
    "tdl_mlp_evaluate": (c_int, [vp, c_int, vp, vp, POINTER(EvalStats)]),
    "tdl_eval_stats_free": (None, [POINTER(EvalStats)]),
    "tdl_mlp_set_loss_convention_names": (c_int, [vp, c_char_p, c_char_p]),
    "tdl_mlp_loss_convention_names": (c_int, [vp, POINTER(c_char_p), POINTER(c_char_p)]),
    "tdl_mlp_loss_describe": (c_int, [vp, c_int, c_char_p, sz]),
    "tdl_mlp_to_tensors": (c_int, [vp, vpp]),
    "tdl_tensors_meta": (c_char_p, [vp, c_char_p]),
    "tdl_ntk_config_set_outputs": (c_int, [vp, c_char_p]),
    # train
    "tdl_train_config_new": (vp, []),
    "tdl_train_config_free": (None, [vpp]),
    "tdl_train_batch_size": (sz, [vp, sz]),
    "tdl_train_config_set_text": (c_int, [vp, c_char_p, c_char_p]),
    "tdl_train_config_set_number": (c_int, [vp, c_char_p, c_double]),
    "tdl_train_config_set_callback": (None, [vp, TRAIN_CALLBACK, vp]),
    "tdl_train_config_loss": (c_int, [vp]),
    "tdl_train": (c_int, [vp, vp, vp, POINTER(TrainResult)]),
    "tdl_train_stop_name": (c_char_p, [c_int]),
    "tdl_optimizer_parse": (c_int, [c_char_p, ip]),
    # hessian, spectral
    "tdl_layer_range": (None, [vp, sz, szp, szp]),
    "tdl_hessian_dense": (c_int, [vp, c_int, vp, sz, sz, dp, dp]),
    "tdl_sym_eigen_solve": (c_int, [dp, sz, sz, sz, c_int, POINTER(SymEigen)]),
    "tdl_sym_eigen_free": (None, [POINTER(SymEigen)]),
    "tdl_sym_eigen_error_bound": (c_double, [c_double, sz]),
    "tdl_sym_eigen_keep_magnitude": (None, [POINTER(SymEigen), sz]),
    "tdl_sym_eigen_residuals": (c_int, [dp, POINTER(SymEigen), dp]),
    "tdl_dense_memory_check": (c_int, [sz, sz, sz, c_char_p]),
    "tdl_lanczos": (c_int, [MATVEC, vp, sz, sz, c_int, sz, c_double, c_ulong, c_int, POINTER(LanczosResult)]),
    "tdl_lanczos_from": (c_int, [MATVEC, vp, sz, sz, c_int, sz, c_double, c_ulong, c_int, dp,
                                 POINTER(LanczosResult)]),
    "tdl_lanczos_result_free": (None, [POINTER(LanczosResult)]),
    "tdl_hutchpp": (c_int, [MATVEC, vp, sz, sz, c_ulong, dp, dp]),
    "tdl_slq": (c_int, [MATVEC, vp, sz, sz, sz, c_ulong, POINTER(SlqResult)]),
    "tdl_slq_result_free": (None, [POINTER(SlqResult)]),
    "tdl_smoothing_parse": (c_int, [c_char_p, ip]),
    "tdl_smoothing_name": (c_char_p, [c_int]),
    "tdl_slq_density": (c_int, [POINTER(SlqResult), c_int, sz, c_double, POINTER(Density)]),
    "tdl_density_free": (None, [POINTER(Density)]),
    "tdl_eigen_density": (c_int, [dp, sz, c_int, sz, c_double, POINTER(Density)]),
    "tdl_slq_trace": (None, [POINTER(SlqResult), sz, dp, dp]),
    "tdl_ntk_targets": (c_int, [vp, sz, vp]),
    # ntk
    "tdl_ntk_config_new": (c_int, [c_int, c_char_p, c_ulonglong, sz, vpp]),
    "tdl_ntk_config_free": (None, [vpp]),
    "tdl_ntk_method_name": (c_char_p, [vp, vp]),
    "tdl_ntk_empirical": (c_int, [vp, vp, vp, vp, vp]),
    "tdl_ntk_drift": (c_int, [vp, vp, vp, dp]),
    "tdl_ntk_analytic_config_new": (c_int, [vp, c_char_p, sz, vpp]),
    "tdl_ntk_analytic_config_free": (None, [vpp]),
    "tdl_ntk_analytic_config_numeric": (c_int, [vp]),
    "tdl_ntk_analytic_config_param_name": (c_char_p, [vp]),
    "tdl_ntk_analytic": (c_int, [vp, vp, vp, vp, vp]),
    "tdl_ntk_h_inf": (c_int, [vp, vp]),
    "tdl_ntk_monte_carlo_config_from_mlp": (None, [vp, vp]),
    "tdl_ntk_monte_carlo": (c_int, [vp, vp, sz, c_ulong, vp, vp, vp]),
    "tdl_ntk_eigenvalues": (c_int, [vp, dp]),
    "tdl_ntk_eta_max": (c_double, [c_double, c_double, c_double]),
    "tdl_ntk_arora_complexity": (c_int, [vp, dp, c_double, dp]),
    "tdl_ntk_predict": (c_int, [vp, vp, vp, vp, vp, c_double, c_double, c_double, c_double, vp, vp]),
    # bounds
    "tdl_bounds_config_new": (vp, []),
    "tdl_bounds_config_free": (None, [vpp]),
    "tdl_bounds_config_set_number": (c_int, [vp, c_char_p, c_double]),
    "tdl_bounds_compute": (c_int, [vp, c_int, vp, vp, vpp, szp, dp]),
    "tdl_measure_get": (None, [vp, sz, POINTER(c_char_p), dp, dp, ip, ip, dp, POINTER(c_char_p),
                               POINTER(c_char_p)]),
    "tdl_dr_config_new": (vp, []),
    "tdl_dr_config_free": (None, [vpp]),
    "tdl_dr_config_set_number": (c_int, [vp, c_char_p, c_double]),
    "tdl_dr_config_set_text": (c_int, [vp, c_char_p, c_char_p]),
    "tdl_dr_optimize": (c_int, [vp, c_int, vp, vp, POINTER(DrResult)]),
    "tdl_dr_result_free": (None, [POINTER(DrResult)]),
    "tdl_snn_error": (c_int, [vp, c_int, vp, dp, dp, sz, c_ulong, dp, dp]),
    "tdl_sort_doubles": (None, [dp, sz]),
    "tdl_percentile_sorted": (c_double, [dp, sz, c_double]),
    # landscape
    "tdl_dir_norm_parse": (c_int, [c_char_p, ip]),
    "tdl_direction_random": (c_int, [vp, c_ulong, c_int, c_int, dp]),
    "tdl_direction_hessian": (c_int, [vp, c_int, vp, c_ulong, dp, dp, dp, dp]),
    "tdl_direction_cosine": (c_double, [dp, dp, sz]),
    "tdl_direction_pca": (c_int, [dp, sz, sz, dp, dp, dp, dp, dp]),
    "tdl_landscape_eval": (c_int, [vp, c_int, vp, sz, dpp, sz, dp, POINTER(ctypes.c_ubyte), sz, dp, dp]),
    "tdl_linspace": (None, [c_double, c_double, sz, dp]),
    "tdl_curve_parse": (c_int, [c_char_p, ip]),
    "tdl_curve_config_default": (None, [POINTER(CurveConfig)]),
    "tdl_curve_train": (c_int, [vp, c_int, vp, c_int, dp, dp, POINTER(CurveConfig), dp, dp]),
    "tdl_curve_eval": (c_int, [vp, c_int, vp, c_int, dp, dp, dp, sz, sz, dp, dp, dp, dp]),
}

# the Hessian operator of tdl/hessian.h (newer libraries); else a Python callback
_OPTIONAL = {
    "tdl_hessian_operator_create": (c_int, [vp, c_int, vp, c_int, vpp]),
    "tdl_hessian_operator_set_block": (c_int, [vp, sz, sz]),
    "tdl_hessian_operator_free": (None, [vpp]),
}
HAS_OPERATOR = all(hasattr(lib, n) for n in _OPTIONAL) and hasattr(lib, "tdl_hessian_operator_apply")
if HAS_OPERATOR:
    for _name, (_res, _args) in _OPTIONAL.items():
        getattr(lib, _name).restype = _res
        getattr(lib, _name).argtypes = _args

libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.free.argtypes = [c_void_p]
libc.free.restype = None

_missing = []
for _name, (_res, _args) in _PROTOS.items():
    try:
        _f = getattr(lib, _name)
    except AttributeError:
        _missing.append(_name)
        continue
    _f.restype = _res
    _f.argtypes = _args
if _missing:
    raise ImportError(f"tdl: {library_path} lacks {', '.join(_missing)} (an older libtdl?)")

for _name, _cls in MIRRORS.items():
    _c = lib.tdl_sizeof(_name.encode())
    if _c != ctypes.sizeof(_cls):
        raise ImportError(f"tdl: {_name} is {_c} bytes in {library_path} but {ctypes.sizeof(_cls)} "
                          "in the Python mirror: the package and the library do not match")


def text(b):
    return None if b is None else b.decode("utf-8", "replace")


def check(status):
    """Raise Error with tdl's message for a non-zero status."""
    if status != OK:
        raise Error(status, text(lib.tdl_errmsg()) or text(lib.tdl_strerror(status)))


def dptr(a):
    """double * to a contiguous float64 numpy array (or None)."""
    if a is None:
        return None
    return a.ctypes.data_as(dp)


def find_cli():
    """The `tdl` program beside the library in a build tree, else on PATH."""
    env = os.environ.get("TDL_CLI")
    if env:
        return env
    d = os.path.dirname(os.path.realpath(library_path))
    for cand in (os.path.join(d, "..", "tdl"), os.path.join(d, "tdl")):
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return os.path.normpath(cand)
    return shutil.which("tdl")
