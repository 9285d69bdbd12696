#!/usr/bin/python3
"""A correct solution of the example assignment (numpy only).

    /usr/bin/python3 solution_correct.py OUTDIR

writes a1_gradient.npy, a2_hessian.npy, b_saddle_eigenvalues.npy, c_ntk.npy
and d_kl_inverse.npy into OUTDIR; grade them with

    tdl verify --assignment assignment.json --answers OUTDIR

Conventions (tdl's): the mse is L = (1/n) sum_i 1/2 ||f(x_i) - y_i||^2; the
parameters are ordered per layer W_l (out x in, row-major), then b_l.
"""
import json
import math
import os
import sys
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1] if len(sys.argv) > 1 else "answers"
os.makedirs(out, exist_ok=True)
load = lambda name: np.load(os.path.join(HERE, name))
save = lambda name, a: np.save(os.path.join(out, name), np.asarray(a, dtype=np.float64))

# (a) linear regression: f(x) = w.x + b, theta = (w, b), features [x, 1]
data, lin = load("linreg.npz"), load("linear.npz")
X, y = data["X"], data["y"]
n, d = X.shape
Xt = np.hstack([X, np.ones((n, 1))])
theta = np.concatenate([lin["0.weight"].ravel(), lin["0.bias"]])
r = Xt @ theta - y
save("a1_gradient.npy", Xt.T @ r / n)          # (1/n) sum_i r_i [x_i; 1]
save("a2_hessian.npy", Xt.T @ Xt / n)          # (1/n) sum_i [x_i; 1][x_i; 1]^T

# (b) f(x) = W2 (W1 x + b1) + b2 at W1, b1, W2, b2 = 0 (h = 2 hidden units).
# There the residual is r_i = -y_i, the Jacobian is zero except df/db2 = 1,
# and the only second derivatives of f are d^2 f / dW2_j dW1_jk = x_k and
# d^2 f / dW2_j db1_j = 1.  So H = e_b2 e_b2^T + (1/n) sum_i r_i d^2 f(x_i):
# per hidden unit j the block [[0, -m], [-m^T, 0]] with m = (1/n) sum_i y_i [x_i; 1],
# eigenvalues -|m|, +|m| (a strict saddle) and zeros.
h = 2
P = h * d + h + h + 1
iW1 = lambda j, k: j * d + k
ib1 = lambda j: h * d + j
iW2 = lambda j: h * d + h + j
ib2 = h * d + h + h
H = np.zeros((P, P))
H[ib2, ib2] = 1.0
m = -(Xt.T @ y) / n                              # (1/n) sum_i r_i [x_i; 1], r_i = -y_i
for j in range(h):
    for k in range(d):
        H[iW2(j), iW1(j, k)] = H[iW1(j, k), iW2(j)] = m[k]
    H[iW2(j), ib1(j)] = H[ib1(j), iW2(j)] = m[d]
save("b_saddle_eigenvalues.npy", np.linalg.eigvalsh(H))   # ascending

# (c) empirical NTK of f(x) = W2 relu(W1 x + b1) + b2, traced over the C outputs
net, nd = load("relu_net.npz"), load("ntk_data.npz")
W1, b1, W2, b2 = net["0.weight"], net["0.bias"], net["2.weight"], net["2.bias"]
Xk = nd["X"]
C = W2.shape[0]
def jacobian(x):
    """C x P: rows d f_c(x) / d theta in the order W1, b1, W2, b2."""
    z = W1 @ x + b1
    a = np.maximum(z, 0.0)
    g = (z > 0).astype(float)
    rows = []
    for c in range(C):
        dz = W2[c] * g                        # d f_c / d z
        rows.append(np.concatenate([np.outer(dz, x).ravel(), dz, np.outer(np.eye(C)[c], a).ravel(), np.eye(C)[c]]))
    return np.array(rows)
J = np.stack([jacobian(x) for x in Xk])          # n x C x P
K = np.einsum("icp,jcp->ij", J, J) / C            # (1/C) sum_c J_c J_c^T
save("c_ntk.npy", K)

# (d) kl^-1(q, c) = max {p >= q : kl(q || p) <= c}, by bisection
task = [t for t in json.load(open(os.path.join(HERE, "assignment.json")))["tasks"] if t["quantity"] == "kl-inverse"][0]
q, c = task["q"], task["c"]
def kl(q, p):
    t = lambda a, b: 0.0 if a == 0 else a * math.log(a / b)
    return t(q, p) + t(1 - q, 1 - p)
lo, hi = q, 1.0
for _ in range(100):
    mid = (lo + hi) / 2
    if kl(q, mid) <= c: lo = mid
    else: hi = mid
save("d_kl_inverse.npy", lo)
