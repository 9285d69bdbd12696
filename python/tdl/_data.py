"""tdl.Data: a data set held by libtdl (tdl_dataset), from arrays or a spec."""
import ctypes

import numpy as np

from . import _lib
from ._lib import Error, lib, check, text


def _view(a):
    """tdl_matrix_view over a float64 2-D numpy array (strides in elements)."""
    if a.strides[0] % 8 or a.strides[1] % 8:
        a = np.ascontiguousarray(a)
    return _lib.MatrixView(a.ctypes.data_as(_lib.dp), a.shape[0], a.shape[1],
                           a.strides[0] // 8, a.strides[1] // 8), a


class Data:
    """A data set.

    Data(X, y): X is an n x d array-like of inputs; y either integer class
    labels (n,) in 0..classes-1 (an integer or bool dtype), or regression
    targets (n,) or (n, k) (a float dtype).  The arrays are copied.  NaN or
    infinite values, mismatched row counts and negative labels raise
    tdl.Error with libtdl's message.

    Data.load(spec) loads a shipped, file or synthetic set by the `--data`
    grammar of the command line ("iris", "gauss:n=200,d=5,classes=3",
    "data.npz:test=0.2,split=test", ...).
    """

    def __init__(self, X, y, classes=0, description=None):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise Error(_lib.ESHAPE, f"X: expected a 2-D array (n x d), got shape {X.shape}")
        y = np.asarray(y)
        if y.dtype.kind in "biu":
            if y.ndim != 1:
                raise Error(_lib.ESHAPE, f"y: class labels must be 1-D (n,), got shape {y.shape}")
            if y.shape[0] != X.shape[0]:   # the C call takes n labels without a length
                raise Error(_lib.ESHAPE, f"y: {y.shape[0]} labels for the {X.shape[0]} rows of X")
            labels = np.ascontiguousarray(y, dtype=np.int64)
            Yp = None
        elif y.dtype.kind == "f":
            if y.ndim == 1:
                y = y.reshape(-1, 1)
            if y.ndim != 2:
                raise Error(_lib.ESHAPE, f"y: regression targets must be (n,) or (n, k), got shape {y.shape}")
            labels = None
            Y = np.asarray(y, dtype=np.float64)
            yv, Y = _view(Y)
            Yp = ctypes.byref(yv)
        else:
            raise Error(_lib.EINVAL, f"y: expected integer class labels or float targets, got dtype {y.dtype}")
        xv, X = _view(X)
        out = ctypes.c_void_p()
        lp = labels.ctypes.data_as(ctypes.POINTER(ctypes.c_longlong)) if labels is not None else None
        desc = description.encode() if description else None
        check(lib.tdl_dataset_from_arrays(xv, lp, int(classes), Yp, desc, ctypes.byref(out)))
        self._ptr = out

    @classmethod
    def load(cls, spec):
        """A data set from a spec (tdl_dataset_load; see `tdl help data`)."""
        self = cls.__new__(cls)
        out = ctypes.c_void_p()
        check(lib.tdl_dataset_load(spec.encode(), ctypes.byref(out)))
        self._ptr = out
        return self

    def __del__(self):
        p = getattr(self, "_ptr", None)
        if p is not None and p.value:
            lib.tdl_dataset_free(ctypes.byref(p))

    def _shape(self):
        n, d, c, k = (ctypes.c_size_t() for _ in range(4))
        lib.tdl_dataset_shape(self._ptr, ctypes.byref(n), ctypes.byref(d), ctypes.byref(c), ctypes.byref(k))
        return n.value, d.value, c.value, k.value

    @property
    def n(self):
        """Number of examples."""
        return self._shape()[0]

    @property
    def d(self):
        """Input dimension."""
        return self._shape()[1]

    @property
    def classes(self):
        """Number of classes (0 for regression)."""
        return self._shape()[2]

    @property
    def spec(self):
        """The spec (or description) the set was made from: the "data" of results."""
        return text(lib.tdl_dataset_spec(self._ptr))

    @property
    def description(self):
        return text(lib.tdl_dataset_description(self._ptr))

    @property
    def X(self):
        """The inputs, a fresh n x d float64 array."""
        n, d, _, _ = self._shape()
        X = np.empty((n, d))
        lib.tdl_dataset_copy(self._ptr, _lib.dptr(X), None, None)
        return X

    @property
    def y(self):
        """Labels (int64, (n,)) or regression targets (float64, (n, k)), fresh."""
        n, _, c, k = self._shape()
        if c:
            y = np.empty(n, dtype=np.int64)
            lib.tdl_dataset_copy(self._ptr, None, y.ctypes.data_as(ctypes.POINTER(ctypes.c_longlong)), None)
            return y
        Y = np.empty((n, k))
        lib.tdl_dataset_copy(self._ptr, None, None, _lib.dptr(Y))
        return Y

    def targets(self, C):
        """tdl's mse targets for a C-output net (n x C; tdl_ntk_targets):
        one-hot classes, the 0/1 label for one output, Y for regression."""
        T = np.empty((self.n, int(C)))
        h = ctypes.c_void_p(lib.tdl_matrix_wrap(_lib.dptr(T), T.shape[0], T.shape[1]))
        if not h.value:
            raise Error(_lib.ENOMEM, "out of memory for a matrix header")
        try:
            check(lib.tdl_ntk_targets(self._ptr, int(C), h))
        finally:
            lib.tdl_matrix_wrap_free(ctypes.byref(h))
        return T

    def __repr__(self):
        n, d, c, k = self._shape()
        kind = f"{c} classes" if c else f"regression, {k} targets"
        return f"tdl.Data({self.spec!r}: n={n}, d={d}, {kind})"


def as_data(data):
    """A Data from a Data, a spec string or an (X, y) pair."""
    if isinstance(data, Data):
        return data
    if isinstance(data, str):
        return Data.load(data)
    if isinstance(data, tuple) and len(data) == 2:
        return Data(*data)
    raise TypeError("data: expected tdl.Data, a spec string or an (X, y) pair")
