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
import sys
import time

import numpy as np

import copy_export
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

NF = 20
FEATURES = ", ".join("f%d" % i for i in range(1, NF + 1))


def export(relation, with_label):
    """COPY the training split out; returns (X, y or None, copy_s, load_s)."""
    cols = FEATURES + (", label::int::float8" if with_label else "")
    data, copy_s, load_s = copy_export.export(
        "SELECT %s FROM %s WHERE NOT _ml_is_test" % (cols, relation), NF + (1 if with_label else 0))
    if with_label:
        return np.ascontiguousarray(data[:, :NF]), data[:, NF].astype(np.int8), copy_s, load_s
    return data, None, copy_s, load_s


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
