"""Against PyTorch on small nets (float64): state dicts and .pt files load
as the same function, the Hessian matches torch.autograd.functional.hessian
and the empirical NTK matches J J^T from torch's Jacobians."""
import numpy as np
import pytest

import tdl

torch = pytest.importorskip("torch", reason="torch is not installed: the comparisons with PyTorch are skipped")


def _net(widths, act, seed):
    torch.manual_seed(seed)
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(act())
    return torch.nn.Sequential(*layers).double()


def _data(n=24, d=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, classes, size=n)
    return X, y


@pytest.mark.parametrize("act, name", [(torch.nn.Tanh, "tanh"), (torch.nn.ReLU, "relu"),
                                       (torch.nn.Sigmoid, "sigmoid")])
def test_forward_matches(act, name):
    net = _net([4, 7, 5, 3], act, 0)
    m = tdl.Model.from_state_dict(net.state_dict(), activation=name)
    X, y = _data()
    with torch.no_grad():
        ref = net(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(m.predict(X), ref, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(m.predict(tdl.Data(X, y)), ref, rtol=1e-12, atol=1e-13)
    # an nn.Module is taken by its state dict
    np.testing.assert_array_equal(tdl.Model.from_state_dict(net, activation=name).theta, m.theta)


def test_pt_file(tmp_path):
    net = _net([4, 6, 3], torch.nn.Tanh, 1)
    path = str(tmp_path / "net.pt")
    torch.save(net.state_dict(), path)
    m = tdl.Model.from_state_dict(path, activation="tanh")
    np.testing.assert_array_equal(m.theta, tdl.Model.from_state_dict(net.state_dict(), activation="tanh").theta)
    # a pickled module is not a weights-only state dict: refused
    whole = str(tmp_path / "whole.pt")
    torch.save(net, whole)
    with pytest.raises(tdl.Error) as e:
        tdl.Model.from_state_dict(whole, activation="tanh")
    assert "state dict" in str(e.value)


def _flat_loss(net, X, y):
    shapes = [p.shape for p in net.parameters()]
    sizes = [p.numel() for p in net.parameters()]

    def f(theta):
        params, off = [], 0
        for s, k in zip(shapes, sizes):
            params.append(theta[off:off + k].reshape(s))
            off += k
        h = X
        it = iter(params)
        for layer in net:
            if isinstance(layer, torch.nn.Linear):
                h = h @ next(it).T + next(it)
            else:
                h = layer(h)
        return torch.nn.functional.cross_entropy(h, y)

    return f


@pytest.mark.parametrize("act, name", [(torch.nn.Tanh, "tanh"), (torch.nn.GELU, "gelu")])
def test_hessian_matches_autograd(act, name):
    net = _net([4, 6, 3], act, 2)
    X, y = _data(seed=2)
    theta = torch.cat([p.detach().reshape(-1) for p in net.parameters()])
    H = torch.autograd.functional.hessian(_flat_loss(net, torch.from_numpy(X), torch.from_numpy(y)), theta).numpy()
    ref = np.linalg.eigvalsh(H)
    m = tdl.Model.from_state_dict(net.state_dict(), activation=name)
    got = m.hessian(tdl.Data(X, y), method="exact", loss="ce")
    scale = np.abs(ref).max()
    np.testing.assert_allclose(got["eigenvalues"], ref, rtol=0, atol=1e-11 * scale)
    np.testing.assert_allclose(got["trace"], np.trace(H), rtol=1e-11)
    top = m.hessian(tdl.Data(X, y), method="lanczos", k=3, loss="ce")
    np.testing.assert_allclose(top["eigenvalues"], ref[-3:], rtol=0, atol=1e-8 * scale)


def test_ntk_matches_jacobians():
    net = _net([4, 8, 3], torch.nn.Tanh, 3)
    X, y = _data(n=10, seed=3)
    Xt = torch.from_numpy(X)
    params = dict(net.named_parameters())
    names = list(params)

    def f(*ps):
        return torch.func.functional_call(net, dict(zip(names, ps)), (Xt,)) if hasattr(torch, "func") else None

    if not hasattr(torch, "func"):
        # torch 1.13: the Jacobian by autograd, one output row at a time
        out = net(Xt)
        rows = []
        for i in range(out.shape[0]):
            for c in range(out.shape[1]):
                g = torch.autograd.grad(out[i, c], list(net.parameters()), retain_graph=True)
                rows.append(torch.cat([t.reshape(-1) for t in g]))
        J = torch.stack(rows).detach().numpy()
    else:
        jac = torch.autograd.functional.jacobian(f, tuple(params.values()))
        J = torch.cat([j.reshape(X.shape[0] * 3, -1) for j in jac], dim=1).detach().numpy()
    full = J @ J.T                                     # (n C) x (n C), row i*C + c
    traced = np.einsum("icjc->ij", full.reshape(10, 3, 10, 3)) / 3
    m = tdl.Model.from_state_dict(net.state_dict(), activation="tanh")
    d = tdl.Data(X, y)
    got = m.ntk(d, full=True, return_matrix=True)
    np.testing.assert_allclose(got["K"], full, rtol=1e-11, atol=1e-12 * np.abs(full).max())
    got = m.ntk(d, return_matrix=True, method="jacobian")
    np.testing.assert_allclose(got["K"], traced, rtol=1e-11, atol=1e-12 * np.abs(traced).max())
    np.testing.assert_allclose(got["eigenvalues"], np.linalg.eigvalsh(traced), rtol=0,
                               atol=1e-11 * np.abs(traced).max())


def test_train_matches_torch_sgd():
    """Full-batch gradient descent on the mean cross-entropy, step for step."""
    net = _net([4, 5, 3], torch.nn.Tanh, 4)
    X, y = _data(n=16, seed=4)
    m = tdl.Model.from_state_dict(net.state_dict(), activation="tanh")
    r = m.train(tdl.Data(X, y), optimizer="gd", lr=0.3, epochs=5, batch=0, loss="ce")
    opt = torch.optim.SGD(net.parameters(), lr=0.3)
    for _ in range(5):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(torch.from_numpy(X)), torch.from_numpy(y)).backward()
        opt.step()
    ref = tdl.Model.from_state_dict(net.state_dict(), activation="tanh").theta
    np.testing.assert_allclose(m.theta, ref, rtol=1e-12, atol=1e-14)
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(X)), torch.from_numpy(y)).item()
    assert abs(r["train_loss"] - loss) <= 1e-12 * loss
