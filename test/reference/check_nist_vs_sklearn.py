"""NIST StRD linear regression: pg_mlops at least as accurate as scikit-learn.

For each dataset (Filip, Pontius, Wampler1-5) both fit the same design (powers
of x by repeated multiplication, every row trained) and are scored by the
minimum log relative error (LRE) of the coefficients against NIST's certified
values; pg_mlops's minimum LRE must be at least scikit-learn's, run here.
"""
import csv
import math
import os
import sys

import numpy as np
from sklearn.linear_model import LinearRegression

sys.path.insert(0, os.path.dirname(__file__))
from pgtest import Checks, fresh_database, load, psql, rows  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "nist_strd")
CERTIFIED = {
    "Filip": [-1467.48961422980, -2772.17959193342, -2316.37108160893, -1127.97394098372,
              -354.478233703349, -75.1242017393757, -10.8753180355343, -1.06221498588947,
              -0.670191154593408E-01, -0.246781078275479E-02, -0.402962525080404E-04],
    "Pontius": [0.673565789473684E-03, 0.732059160401003E-06, -0.316081871345029E-14],
    "Wampler1": [1, 1, 1, 1, 1, 1],
    "Wampler2": [1, 0.1, 0.01, 0.001, 0.0001, 0.00001],
    "Wampler3": [1, 1, 1, 1, 1, 1],
    "Wampler4": [1, 1, 1, 1, 1, 1],
    "Wampler5": [1, 1, 1, 1, 1, 1],
}


def lre(est, cert):
    if cert == 0:
        return min(15.0, -math.log10(max(abs(est), 1e-300)))
    if est == cert:
        return 15.0
    return min(15.0, -math.log10(abs(est - cert) / abs(cert)))


checks = Checks()
fresh_database()
for name, cert in CERTIFIED.items():
    with open(os.path.join(DATA, f"{name}.csv")) as f:
        data = [(float(r["y"]), float(r["x"])) for r in csv.DictReader(f)]
    y = np.array([d[0] for d in data])
    x = np.array([d[1] for d in data])
    deg = len(cert) - 1
    cols, power = [], x.copy()
    for _ in range(deg):
        cols.append(power.copy())
        power = power * x
    X = np.column_stack(cols)
    table = name.lower()
    load(table, ["y"] + [f"x{k}" for k in range(1, deg + 1)], np.column_stack([y, X]).tolist())
    psql(f"SELECT ml.train_model('{table}', '{table}', 'y', test_fraction => 0)")
    ours = [float(r[0]) for r in rows(f"SELECT coefficient FROM ml.explain('{table}')")]
    ref = LinearRegression().fit(X, y)
    theirs = [ref.intercept_] + list(ref.coef_)
    ours_lre = min(lre(e, c) for e, c in zip(ours, cert))
    theirs_lre = min(lre(e, c) for e, c in zip(theirs, cert))
    checks.true(f"{name}: minimum coefficient LRE", ours_lre >= theirs_lre,
                f"pg_mlops {ours_lre:.2f}, scikit-learn {theirs_lre:.2f}")
checks.finish()
