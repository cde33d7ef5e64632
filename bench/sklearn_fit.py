#!/usr/bin/python3
"""Export-and-fit baseline for bench/run.sh: COPY a snapshot's training rows
out of PostgreSQL, load them into numpy and fit scikit-learn.

    /usr/bin/python3 bench/sklearn_fit.py logistic|kmeans RELATION REPS

Connects with psql and the PG* environment that bench/run.sh exports.  Runs
one warm-up export (COPY + load, no fit) and then REPS full runs; prints one
line of medians, in milliseconds unless named otherwise:

    e2e_ms fit_ms copy_ms load_ms quality iterations converged

e2e is COPY + load + fit, timed inside this process (interpreter start and
imports excluded, which favours scikit-learn).  quality is the training log
loss (logistic) or the inertia (kmeans) of the last run; iterations are
scikit-learn's n_iter_ (kmeans: of the best of the n_init runs).

The export is COPY (FORMAT binary) to STDOUT, the fastest route out of the
server (no float-to-text conversion and no text parsing); every value is a
non-NULL float8, so each row has a fixed width and numpy reads the stream
in place.
"""
import statistics
import subprocess
import sys
import time

import numpy as np
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

NF = 20
FEATURES = ", ".join("f%d" % i for i in range(1, NF + 1))
SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


def export(relation, with_label):
    """COPY the training split out; returns (X, y or None, copy_s, load_s)."""
    cols = FEATURES + (", label::int::float8" if with_label else "")
    ncol = NF + (1 if with_label else 0)
    sql = ("COPY (SELECT %s FROM %s WHERE NOT _ml_is_test) TO STDOUT (FORMAT binary)"
           % (cols, relation))
    t0 = time.perf_counter()
    raw = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         check=True, stdout=subprocess.PIPE).stdout
    t1 = time.perf_counter()
    # header: signature, int32 flags, int32 extension length, extension
    if raw[:11] != SIGNATURE:
        raise SystemExit("not a binary COPY stream")
    ext = int.from_bytes(raw[15:19], "big")
    body = memoryview(raw)[19 + ext:len(raw) - 2]  # drop the int16 -1 trailer
    # each row: int16 field count, then per field int32 length + float8
    fields = [("n", ">i2")]
    for j in range(ncol):
        fields += [("l%d" % j, ">i4"), ("v%d" % j, ">f8")]
    row = np.dtype(fields)
    recs = np.frombuffer(body, dtype=row)
    if not (recs["n"] == ncol).all() or any((recs["l%d" % j] != 8).any() for j in range(ncol)):
        raise SystemExit("unexpected row layout (NULLs or a non-float8 column)")
    data = np.empty((len(recs), ncol), dtype=np.float64)
    for j in range(ncol):
        data[:, j] = recs["v%d" % j]
    del recs, raw
    t2 = time.perf_counter()
    if with_label:
        return np.ascontiguousarray(data[:, :NF]), data[:, NF].astype(np.int8), t1 - t0, t2 - t1
    return data, None, t1 - t0, t2 - t1


def fit(task, X, y):
    if task == "logistic":
        # Unpenalized, like ml.train_model's logistic_regression default
        # (alpha 0): penalty=None (1.2 deprecates the older spelling "none").
        m = LogisticRegression(penalty=None, solver="lbfgs", max_iter=10000)
        m.fit(X, y)
        return m, int(m.n_iter_[0])
    m = KMeans(n_clusters=8, n_init=10)  # default max_iter 300, tol 1e-4, lloyd
    m.fit(X)
    return m, int(m.n_iter_)


def quality(task, m, X, y):
    """Training log loss or inertia: computed after the fit is timed."""
    if task == "logistic":
        return log_loss(y, m.predict_proba(X))
    return float(m.inertia_)


def main():
    task, relation, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if task not in ("logistic", "kmeans"):
        raise SystemExit("task is logistic or kmeans")
    export(relation, task == "logistic")  # warm-up: page cache, first COPY
    runs = []
    for _ in range(reps):
        X, y, copy_s, load_s = export(relation, task == "logistic")
        t0 = time.perf_counter()
        m, iters = fit(task, X, y)
        fit_s = time.perf_counter() - t0
        q = quality(task, m, X, y)
        converged = iters < m.max_iter
        runs.append((copy_s + load_s + fit_s, fit_s, copy_s, load_s))
        del X, y
    med = [statistics.median(r[i] for r in runs) * 1000 for i in range(4)]
    print("%.1f %.1f %.1f %.1f %.10g %d %s" % (*med, q, iters, "true" if converged else "false"))


if __name__ == "__main__":
    main()
