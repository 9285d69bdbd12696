"""tdl.Model: a multi-layer perceptron held by libtdl (tdl_mlp), and the
analyses of the command line as methods returning the --json dicts."""
import ctypes
import math
import os
import sys
import time

import numpy as np

from . import _lib
from ._lib import Error, lib, check, text, dptr
from ._data import Data, as_data
from ._result import Result
from . import _provenance

DBL_EPSILON = sys.float_info.epsilon
_LANCZOS_TOL_DEFAULT = 1e-10
_WHICH = {"top": 0, "bottom": 1, "magnitude": 2}   # tdl_which: largest, smallest, magnitude


def _now():
    return time.monotonic()


def _act(activation):
    """A tdl_act parsed by the library (NULL for None)."""
    if activation is None:
        return None
    a = _lib.Act()
    check(lib.tdl_act_parse(str(activation).encode(), ctypes.byref(a)))
    return ctypes.byref(a)


def _to_numpy(v):
    """A float64 numpy array from a numpy array, a torch tensor or a list."""
    if hasattr(v, "detach") and hasattr(v, "cpu"):   # torch.Tensor, without importing torch
        v = v.detach().cpu().double().numpy()
    return np.ascontiguousarray(np.asarray(v, dtype=np.float64))


def _torch_load(path):
    try:
        import torch
    except ImportError:
        raise Error(_lib.EINVAL, f"{path}: a PyTorch file needs torch, which is not installed "
                                 "(save the state dict as .safetensors or .npz instead)") from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:
        raise Error(_lib.EINVAL, f"{path}: this torch ({torch.__version__}) has no torch.load(weights_only=True); "
                                 "refusing to unpickle an arbitrary file (save it as .safetensors or .npz)") from None
    except Exception as e:   # unpickling refused or a bad file
        raise Error(_lib.EFORMAT, f"{path}: not a weights-only PyTorch state dict ({e})") from None
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise Error(_lib.EFORMAT, f"{path}: expected a state dict (a dict of tensors), got {type(obj).__name__}")
    return obj


class _Work:
    """A tdl_net_work for a model and a data set."""

    def __init__(self, m, n):
        self.ptr = ctypes.c_void_p()
        check(lib.tdl_net_work_alloc(m, min(max(n, 1), 2048), ctypes.byref(self.ptr)))

    def __del__(self):
        if self.ptr.value:
            lib.tdl_net_work_free(ctypes.byref(self.ptr))


class _Wrap:
    """gsl_matrix headers over numpy arrays, freed together."""

    def __init__(self):
        self.headers = []
        self.arrays = []

    def __call__(self, a):
        if a is None:
            return None
        assert a.dtype == np.float64 and a.flags.c_contiguous and a.ndim == 2
        h = lib.tdl_matrix_wrap(dptr(a), a.shape[0], a.shape[1])
        if not h:
            raise Error(_lib.ENOMEM, "out of memory for a matrix header")
        h = ctypes.c_void_p(h)
        self.headers.append(h)
        self.arrays.append(a)
        return h

    def __del__(self):
        for h in self.headers:
            lib.tdl_matrix_wrap_free(ctypes.byref(h))


class Model:
    """A multi-layer perceptron: L Linear layers with one activation between
    them, all parameters in one flat vector theta (file order: layer 0
    weight, layer 0 bias, layer 1 weight, ...), as in tdl/model.h.

    Make one with Model.from_state_dict (a PyTorch nn.Sequential state dict,
    a dict of numpy arrays, or a .safetensors / .npz / .pt file), Model.load
    or Model.create (a fresh, seeded net).  The analyses (hessian, ntk,
    bounds, landscape, train) return dicts with the keys of the matching
    `tdl <command> --json`; libtdl's errors raise tdl.Error.
    """

    def __init__(self, ptr, seed=0, source=None):
        self._ptr = ptr
        self._seed = seed
        self.source = source

    def __del__(self):
        p = getattr(self, "_ptr", None)
        if p is not None and p.value:
            lib.tdl_mlp_free(ctypes.byref(p))

    # ---- construction ----------------------------------------------------

    @classmethod
    def from_state_dict(cls, sd_or_path, activation=None):
        """A net from a state dict or a file.

        sd_or_path: a dict name -> array (numpy arrays or torch tensors, the
        names of an nn.Sequential(Linear, act, Linear, ...): "0.weight",
        "0.bias", "2.weight", ...; an nn.Module is taken by its state_dict()),
        or a path: .safetensors / .npz read by libtdl (as `tdl --model`), .pt /
        .pth by torch.load(weights_only=True) when torch is installed.
        activation: "relu", "tanh", "leaky-relu:0.01", ... (tdl_act_parse);
        needed for depth > 1 unless the file's metadata names one."""
        act = _act(activation)
        if hasattr(sd_or_path, "state_dict") and callable(sd_or_path.state_dict):
            sd_or_path = sd_or_path.state_dict()
        if isinstance(sd_or_path, (str, os.PathLike)):
            path = os.fspath(sd_or_path)
            if path.endswith((".pt", ".pth")):
                return cls._from_dict(_torch_load(path), act, path)
            out = ctypes.c_void_p()
            check(lib.tdl_mlp_load(path.encode(), act, ctypes.byref(out)))
            return cls(out, source=path)
        if isinstance(sd_or_path, dict):
            return cls._from_dict(sd_or_path, act, None)
        raise TypeError("from_state_dict: expected a dict of arrays, an nn.Module or a file path")

    @classmethod
    def _from_dict(cls, sd, act, source):
        tensors = ctypes.c_void_p(lib.tdl_tensors_new())
        if not tensors.value:
            raise Error(_lib.ENOMEM, "out of memory for the tensors")
        try:
            for name, v in sd.items():
                if isinstance(v, str):
                    check(lib.tdl_tensors_set_meta(tensors, str(name).encode(), v.encode()))
                    continue
                a = _to_numpy(v)
                shape = (ctypes.c_size_t * max(a.ndim, 1))(*a.shape)
                check(lib.tdl_tensors_add(tensors, str(name).encode(), a.ndim, shape,
                                          dptr(a) if a.size else None))
            out = ctypes.c_void_p()
            check(lib.tdl_mlp_from_tensors(tensors, act, ctypes.byref(out)))
            return cls(out, source=source)
        finally:
            lib.tdl_tensors_free(ctypes.byref(tensors))

    @classmethod
    def load(cls, path, activation=None):
        """A .safetensors or .npz model file (as `tdl --model FILE`)."""
        return cls.from_state_dict(os.fspath(path), activation)

    @classmethod
    def create(cls, arch, activation="relu", init=None, param="standard", sigma_w=None, sigma_b=0.0,
               bias=True, seed=0, freeze=()):
        """A fresh net, as `tdl train --arch A --act ... --seed N`: arch "4-16-3"
        (or a list of widths), init gaussian he xavier orthogonal zero (default
        he; gaussian with param="ntk" or "mf"), param standard ntk mf
        (mf: mean-field, tdl/model.h), sigma_w None for the init's default,
        freeze: layers kept fixed in training."""
        if not isinstance(arch, str):
            arch = "-".join(str(int(w)) for w in arch)
        cfg = ctypes.c_void_p(lib.tdl_mlp_config_new())
        if not cfg.value:
            raise Error(_lib.ENOMEM, "out of memory for a configuration")
        try:
            check(lib.tdl_mlp_config_set_text(cfg, b"arch", arch.encode()))
            if activation is not None:
                check(lib.tdl_mlp_config_set_text(cfg, b"act", str(activation).encode()))
            check(lib.tdl_mlp_config_set_text(cfg, b"param", str(param).encode()))
            if init is None and param in ("ntk", "mf"):
                init = "gaussian"
            if init is not None:
                check(lib.tdl_mlp_config_set_text(cfg, b"init", str(init).encode()))
            check(lib.tdl_mlp_config_set_number(cfg, b"sigma_w", math.nan if sigma_w is None else float(sigma_w)))
            check(lib.tdl_mlp_config_set_number(cfg, b"sigma_b", float(sigma_b)))
            check(lib.tdl_mlp_config_set_number(cfg, b"bias", 1.0 if bias else 0.0))
            check(lib.tdl_mlp_config_set_number(cfg, b"seed", float(seed)))
            for l in freeze:
                check(lib.tdl_mlp_config_set_trainable(cfg, int(l), 0))
            out = ctypes.c_void_p()
            check(lib.tdl_mlp_create(cfg, ctypes.byref(out)))
            return cls(out, seed=int(seed))
        finally:
            lib.tdl_mlp_config_free(ctypes.byref(cfg))

    def copy(self):
        """A deep copy."""
        out = ctypes.c_void_p()
        check(lib.tdl_mlp_clone(self._ptr, ctypes.byref(out)))
        return Model(out, seed=self._seed, source=self.source)

    def save(self, path):
        """Write a .safetensors model file (F64, with init.* tensors and metadata)."""
        check(lib.tdl_mlp_save(os.fspath(path).encode(), self._ptr))

    # ---- structure -------------------------------------------------------

    @property
    def depth(self):
        return lib.tdl_mlp_depth(self._ptr)

    @property
    def widths(self):
        """[n_0 (inputs), n_1, ..., n_L (outputs)]."""
        return [lib.tdl_mlp_width(self._ptr, l) for l in range(self.depth + 1)]

    @property
    def n_params(self):
        return lib.tdl_mlp_param_count(self._ptr)

    @property
    def arch(self):
        buf = ctypes.create_string_buffer(256)
        lib.tdl_arch_format(self._ptr, buf, 256)
        return text(buf.value)

    @property
    def activation(self):
        buf = ctypes.create_string_buffer(64)
        lib.tdl_mlp_activation_name(self._ptr, buf, 64)
        return text(buf.value)

    @property
    def parametrization(self):
        return text(lib.tdl_mlp_param_kind_name(self._ptr))

    @property
    def theta(self):
        """The parameters (P,), a copy; assign to set them."""
        p = lib.tdl_mlp_params(self._ptr)
        return np.ctypeslib.as_array(p, shape=(self.n_params,)).copy()

    @theta.setter
    def theta(self, v):
        v = _to_numpy(v).ravel()
        if v.size != self.n_params:
            raise Error(_lib.ESHAPE, f"theta: {v.size} values, the model has {self.n_params} parameters")
        p = lib.tdl_mlp_params(self._ptr)
        np.ctypeslib.as_array(p, shape=(self.n_params,))[:] = v

    @property
    def theta0(self):
        """The initial parameters (a copy), or None."""
        p = lib.tdl_mlp_init_params(self._ptr)
        if not p:
            return None
        return np.ctypeslib.as_array(p, shape=(self.n_params,)).copy()

    def meta(self, key):
        """A metadata entry of the model (None when absent)."""
        return text(lib.tdl_mlp_meta(self._ptr, key.encode()))

    def set_loss_convention(self, reduction=None, mse=None):
        """The loss convention every analysis of this model uses (tdl/net.h;
        saved with the model): reduction "mean" or "sum" over the examples
        (PyTorch's reduction=), mse "tdl" ((1/n) sum 1/2 ||f - y||^2) or
        "torch" (nn.MSELoss: (1/(n C)) sum ||f - y||^2).  None leaves a part
        as it is; `tdl --reduction R --loss mse:torch` does the same."""
        check(lib.tdl_mlp_set_loss_convention_names(self._ptr, reduction.encode() if reduction else None,
                                                    mse.encode() if mse else None))

    @property
    def loss_convention(self):
        """(reduction, mse): ("mean", "tdl") unless set."""
        red, mse = ctypes.c_char_p(), ctypes.c_char_p()
        check(lib.tdl_mlp_loss_convention_names(self._ptr, ctypes.byref(red), ctypes.byref(mse)))
        return text(red.value), text(mse.value)

    def state_dict(self):
        """{"0.weight": W_0 (out x in), "0.bias": b_0, "2.weight": ...}: the
        names of a PyTorch nn.Sequential with activations in between."""
        th = self.theta
        sd = {}
        for l in range(self.depth):
            i, o, hb, tr, wo, bo = (ctypes.c_size_t(), ctypes.c_size_t(), ctypes.c_int(), ctypes.c_int(),
                                    ctypes.c_size_t(), ctypes.c_size_t())
            check(lib.tdl_mlp_layer_info(self._ptr, l, ctypes.byref(i), ctypes.byref(o), ctypes.byref(hb),
                                         ctypes.byref(tr), ctypes.byref(wo), ctypes.byref(bo)))
            sd[f"{2 * l}.weight"] = th[wo.value:wo.value + i.value * o.value].reshape(o.value, i.value)
            if hb.value:
                sd[f"{2 * l}.bias"] = th[bo.value:bo.value + o.value].copy()
        return sd

    def __repr__(self):
        return f"tdl.Model({self.arch}, {self.activation}, {self.n_params} parameters)"

    # ---- evaluation --------------------------------------------------------

    def _loss(self, ds, loss):
        out = ctypes.c_int()
        check(lib.tdl_mlp_default_loss(self._ptr, ds._ptr, loss.encode() if loss else None, ctypes.byref(out)))
        return out.value

    def _check_test(self, ts, loss):
        if lib.tdl_loss_check(loss, self._ptr, ts._ptr) != _lib.OK:
            raise Error(_lib.ESHAPE, f"test {ts.spec}: {text(lib.tdl_errmsg())}")

    def predict(self, data):
        """Outputs F (n x C) on a data set (tdl_mlp_predict), or on an n x d
        array of inputs."""
        if not isinstance(data, (Data, str, tuple)):
            X = np.asarray(data, dtype=np.float64)
            data = Data(X, np.zeros(X.shape[0], dtype=np.int64) if X.ndim == 2 else [], classes=1)
        ds = as_data(data)
        F = np.empty((ds.n, self.widths[-1]))
        check(lib.tdl_mlp_predict(self._ptr, ds._ptr, dptr(F)))
        return F

    def _evaluate(self, ds, loss):
        w = _Work(self._ptr, ds.n)
        s = _lib.EvalStats()
        check(lib.tdl_mlp_evaluate(self._ptr, loss, ds._ptr, w.ptr, ctypes.byref(s)))
        try:
            margins = (np.ctypeslib.as_array(s.margins, shape=(s.n,)).copy() if s.margins else None)
            return s.loss, s.error, s.accuracy, margins
        finally:
            lib.tdl_eval_stats_free(ctypes.byref(s))

    def evaluate(self, data, loss=None, margin_percentile=10.0):
        """Loss, error, accuracy and the margin distribution on a data set, as
        `tdl eval --json` ("model" is the file the net was loaded from, or
        None with a reason)."""
        ds = as_data(data)
        lk = self._loss(ds, loss)
        l, e, a, margins = self._evaluate(ds, lk)
        r = Result(top=True)
        if self.source is not None:
            r.string("model", self.source)
        else:
            r.null_reason("model", "not loaded from a file")
        r.string("data", ds.spec)
        r.size("n", ds.n)
        _provenance.loss_keys(r, self, lk)
        r.num("loss", l)
        _provenance.gradient_keys(r, self, ds, lk, _Work(self._ptr, ds.n))
        r["model_provenance"] = _provenance.model_provenance(self)
        if margins is not None:
            r.num("error", e)
            r.num("accuracy", a)
            mg = np.ascontiguousarray(margins)
            lib.tdl_sort_doubles(dptr(mg), mg.size)
            s = 0.0
            for x in mg:
                s += x
            m = Result()
            m.string("definition", "f(x)_y - max_{j != y} f(x)_j")
            m.num("min", mg[0])
            m.num("percentile", margin_percentile)
            m.num("at_percentile", lib.tdl_percentile_sorted(dptr(mg), mg.size, float(margin_percentile)))
            m.num("median", lib.tdl_percentile_sorted(dptr(mg), mg.size, 50.0))
            m.num("mean", s / mg.size)
            m.num("max", mg[-1])
            r["margin"] = m.finish()
        else:
            r.null_reason("error", "regression targets: no classification error")
            r.null_reason("accuracy", "regression targets: no classification accuracy")
        return r.finish()

    def loss(self, data, loss=None):
        """Mean loss over a data set."""
        ds = as_data(data)
        lk = self._loss(ds, loss)
        w = _Work(self._ptr, ds.n)
        out = ctypes.c_double()
        check(lib.tdl_mlp_loss_grad(self._ptr, lk, ds._ptr, w.ptr, ctypes.byref(out), None))
        return out.value

    # ---- training ----------------------------------------------------------

    def train(self, data, *, test=None, loss=None, optimizer="momentum", lr=None, momentum=None,
              epochs=30, steps=0, batch=128, schedule="constant", step_every=None, gamma=None,
              weight_decay=0.0, beta1=0.9, beta2=0.999, eps=1e-8, target_loss=None, target_accuracy=None,
              eval_every=1, diverge_factor=1e3, seed=None, out=None, callback=None):
        """Train in place (tdl_train), with the defaults of `tdl train`; returns
        the dict of `tdl train --json`.

        out: a path to save the trained model to ("model" in the result;
        None: not saved, "model" is null with a reason).  seed: the minibatch
        order (default: the net's init seed, as the CLI).  callback(progress)
        is called after every evaluation with a dict (epoch, step, lr, loss,
        accuracy, theta_norm, dist_init, theta: a copy of the parameters, the
        snapshots of --log-params); a true return value stops training.
        On divergence raises tdl.Error (status EDIVERGED) with the message of
        the CLI; err.result holds the --json dict and the net keeps the last
        good parameters (saved beside out as OUT.last-good.safetensors)."""
        ds = as_data(data)
        ts = as_data(test) if test is not None else None
        opt_text = str(optimizer)
        cfg = ctypes.c_void_p(lib.tdl_train_config_new())
        if not cfg.value:
            raise Error(_lib.ENOMEM, "out of memory for a configuration")
        try:
            setn = lambda k, v: check(lib.tdl_train_config_set_number(cfg, k.encode(), float(v)))
            check(lib.tdl_train_config_set_text(cfg, b"optimizer", opt_text.encode()))
            check(lib.tdl_train_config_set_text(cfg, b"schedule", str(schedule).encode()))
            if lr is None:
                lr = 1e-3 if opt_text == "adam" else 0.1
            if momentum is None:
                momentum = 0.9 if opt_text in ("momentum", "nesterov") else 0.0
            elif opt_text == "gd" and momentum > 0:
                raise Error(_lib.EINVAL, "optimizer gd is plain gradient descent; use optimizer='momentum', batch=0 "
                                         "for full-batch momentum")
            if opt_text == "nesterov" and not momentum > 0:
                raise Error(_lib.EINVAL, f"optimizer nesterov needs momentum > 0 (got {momentum:g})")
            setn("lr", lr)
            setn("momentum", momentum)
            setn("beta1", beta1)
            setn("beta2", beta2)
            setn("eps", eps)
            setn("weight_decay", weight_decay)
            if step_every is not None:
                setn("step_every", step_every)
            if gamma is not None:
                setn("gamma", gamma)
            setn("epochs", epochs)
            setn("steps", steps)
            setn("batch", batch)
            setn("target_loss", math.nan if target_loss is None else target_loss)
            setn("target_accuracy", math.nan if target_accuracy is None else target_accuracy)
            setn("eval_every", eval_every)
            setn("diverge_factor", diverge_factor)
            setn("seed", self._seed if seed is None else seed)
            lk = self._loss(ds, loss)
            check(lib.tdl_train_config_set_text(cfg, b"loss", text(lib.tdl_loss_name(lk)).encode()))
            if ts is not None:
                self._check_test(ts, lk)
            if self.theta0 is None:
                check(lib.tdl_mlp_set_init_params(self._ptr, None))
            failure = []
            P = self.n_params

            def on_eval(p, user):
                if callback is None:
                    return 0
                q = p.contents
                try:
                    stop = callback({"epoch": q.epoch, "step": q.step, "lr": q.lr, "loss": q.loss,
                                     "accuracy": q.accuracy, "theta_norm": q.theta_norm,
                                     "dist_init": q.dist_init,
                                     "theta": np.ctypeslib.as_array(q.theta, shape=(P,)).copy()})
                except BaseException as e:   # stop, and raise it after tdl_train returns
                    failure.append(e)
                    return 1
                return 1 if stop else 0

            cb = _lib.TRAIN_CALLBACK(on_eval)
            lib.tdl_train_config_set_callback(cfg, cb, None)
            res = _lib.TrainResult()
            t0 = _now()
            st = lib.tdl_train(self._ptr, ds._ptr, cfg, ctypes.byref(res))
            seconds = _now() - t0
            if failure:
                raise failure[0]
            msg = text(lib.tdl_errmsg())
            if st not in (_lib.OK, _lib.EDIVERGED, _lib.EINTR):
                check(st)
            used_batch = lib.tdl_train_batch_size(cfg, ds.n)  # n for gd, as tdl train records it
            self._record(lk, ds, opt_text, lr, used_batch, res, self._seed if seed is None else seed)
            model_path = last_good = None
            test_loss = test_acc = math.nan
            if st == _lib.EDIVERGED:
                if out is not None:
                    last_good = os.fspath(out) + ".last-good.safetensors"
                    if lib.tdl_mlp_save(last_good.encode(), self._ptr) != _lib.OK:
                        last_good = None
            else:
                if out is not None:
                    check(lib.tdl_mlp_save(os.fspath(out).encode(), self._ptr))
                    model_path = os.fspath(out)
                if ts is not None:
                    test_loss, _, test_acc, _ = self._evaluate(ts, lk)
            r = Result(top=True)
            r.string("stopped", text(lib.tdl_train_stop_name(res.stopped)))
            if model_path is not None:
                r.string("model", model_path)
            elif st == _lib.EDIVERGED:
                r.null_reason("model", "training diverged: no model written (the last good parameters: last_good)")
            else:
                r.null_reason("model", "not saved: give out=PATH to write the model file")
            if st == _lib.EDIVERGED:
                if last_good is not None:
                    r.string("last_good", last_good)
                else:
                    r.null_reason("last_good", "the last good parameters were not saved (give out=PATH)")
            r.string("arch", self.arch)
            r.string("activation", self.activation)
            r.size("params", self.n_params)
            r.string("data", ds.spec)
            r.size("n", ds.n)
            _provenance.loss_keys(r, self, lk)
            r.string("optimizer", opt_text)
            r.num("momentum", momentum)
            r.num("lr", lr)
            r.size("batch", lib.tdl_train_batch_size(cfg, ds.n))
            r.size("epochs", res.epochs)
            r.size("steps", res.steps)
            r.boolean("reached_target", res.reached_target)
            r.num("diverge_factor", diverge_factor)
            r.num("initial_loss", res.initial_loss, "the loss at the initial parameters is not finite")
            if st == _lib.EDIVERGED:
                r.boolean("diverged_nonfinite", res.diverged_nonfinite)
                r.num("diverged_loss", res.diverged_loss)
                if not math.isfinite(res.diverged_loss):
                    r.string("diverged_loss_reason", "a NaN or infinite loss or parameter")
                r.num("diverge_threshold", res.diverge_threshold)
                if not math.isfinite(res.diverge_threshold):
                    r.string("diverge_threshold_reason", "the loss-growth criterion is off (--diverge-factor 0)")
                r.num("suggested_lr", lr / 10)
            r.num("seconds", seconds)
            r.num("seconds_per_epoch", seconds / (res.epochs if res.epochs else 1))
            r.num("train_loss", res.loss, "the training loss is not finite")
            if ds.classes:
                r.num("train_accuracy", res.accuracy, "the outputs are not finite")
            if ts is not None and st != _lib.EDIVERGED:
                r.num("test_loss", test_loss, "the test loss is not finite")
                if ts.classes:
                    r.num("test_accuracy", test_acc, "the outputs are not finite on the test set")
            r["model_provenance"] = _provenance.model_provenance(self)
            r.finish()
            if st == _lib.EDIVERGED:
                hint = f" (e.g. lr={lr / 10:g}{'' if res.diverged_nonfinite else '; diverge_factor=0 turns this stop off'})"
                err = Error(st, msg + hint + (f"; the last good parameters are in {last_good}" if last_good else ""))
                err.result = r
                raise err
            return r
        finally:
            lib.tdl_train_config_free(ctypes.byref(cfg))

    def _record(self, lk, ds, opt_text, lr, batch, res, train_seed):
        """The metadata `tdl train` records in the model file."""
        meta = {"loss": text(lib.tdl_loss_name(lk)), "data": ds.spec, "optimizer": opt_text,
                "lr": "%.17g" % lr, "batch": "%d" % batch, "epochs": "%d" % res.epochs,
                "train_seed": "%d" % train_seed, "train_loss": "%.17g" % res.loss,
                "tdl_version": text(lib.tdl_version())}
        if not math.isnan(res.accuracy):
            meta["train_accuracy"] = "%.17g" % res.accuracy
        for k, v in meta.items():
            check(lib.tdl_mlp_set_meta(self._ptr, k.encode(), v.encode()))
