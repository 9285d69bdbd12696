"""Result dicts with the keys of `tdl <command> --json`.

The CLI's JSON writer (src/output/json.c) writes a non-finite number as null
and gives every null a "<key>_reason" member: the reason the command states,
or an automatic one ("not finite (NaN)", ...).  Result builds the same keys:
None where the JSON has null, the same "<key>_reason" strings.  Arrays are
numpy arrays; their non-finite elements stay NaN / inf (the JSON writes
null) and the array gets the automatic "<key>_reason" as in the JSON.
"""
import math

import numpy as np

from . import _lib

_NAN, _INF = 1, 2


def _kind_text(kind, elements):
    what = ("not finite (NaN or infinite)" if kind == _NAN | _INF
            else "not finite (infinite)" if kind & _INF else "not finite (NaN)")
    return ("null elements: " if elements else "") + what


class Result(dict):
    """A dict in the order and with the keys of the command's --json."""

    def __init__(self, top=False):
        super().__init__()
        self._pending = {}
        if top:   # every top-level --json object names the BLAS kernel first
            self["blas_core"] = _lib.text(_lib.lib.tdl_blas_core())

    def num(self, key, v, reason=None):
        v = float(v)
        if math.isfinite(v):
            self[key] = v
            return
        self[key] = None
        if reason is not None:
            self[key + "_reason"] = reason
        elif key + "_reason" not in self:
            self._pending[key] = (_NAN if math.isnan(v) else _INF, False)

    def size(self, key, v):
        self[key] = int(v)

    def string(self, key, s):
        self[key] = s
        if key.endswith("_reason"):
            self._pending.pop(key[:-len("_reason")], None)

    def boolean(self, key, v):
        self[key] = bool(v)

    def null_reason(self, key, reason):
        self[key] = None
        self[key + "_reason"] = reason

    def array(self, key, values):
        a = np.array(values, dtype=np.float64)
        self[key] = a
        bad = ~np.isfinite(a)
        if bad.any() and key + "_reason" not in self:
            kind = (_NAN if np.isnan(a).any() else 0) | (_INF if np.isinf(a).any() else 0)
            self._pending[key] = (kind, True)

    def finish(self):
        """Add the automatic reasons nobody wrote, as the JSON writer does
        when the object ends; returns self."""
        for key, (kind, elements) in self._pending.items():
            if key + "_reason" not in self:
                self[key + "_reason"] = _kind_text(kind, elements)
        self._pending = {}
        return self
