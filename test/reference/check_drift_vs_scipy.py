"""Drift statistics against SciPy: Jensen-Shannon distance, the Kolmogorov
distribution behind the KS p-value, and the binned KS D."""
import os
import sys

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import kstwobign

sys.path.insert(0, os.path.dirname(__file__))
from pgtest import Checks, fresh_database, rows  # noqa: E402

checks = Checks()
fresh_database()
rng = np.random.default_rng(11)


def arr(a):
    return "ARRAY[" + ",".join(repr(float(x)) for x in a) + "]::float8[]"


for k in (2, 3, 10):
    for trial in range(3):
        p, q = rng.random(k), rng.random(k)
        ours = float(rows(f"SELECT ml._js_distance({arr(p)}, {arr(q)})")[0][0])
        checks.close(f"js_distance k={k} #{trial}", ours, jensenshannon(p, q, base=2), rel=1e-12, abs_=1e-15)

for d, n1, n2 in [(0.05, 1000, 800), (0.1, 200, 300), (0.02, 50000, 40000), (0.3, 30, 40), (0.004, 1e6, 1e6)]:
    ne = n1 * n2 / (n1 + n2)
    lam = (np.sqrt(ne) + 0.12 + 0.11 / np.sqrt(ne)) * d
    ours = float(rows(f"SELECT ml._ks_pvalue({d}, {n1}, {n2})")[0][0])
    checks.close(f"ks p-value d={d} n1={n1} n2={n2}", ours, kstwobign.sf(lam), rel=1e-9, abs_=1e-14)

for trial in range(3):
    r, c = rng.random(10), rng.random(10)
    ours = float(rows(f"SELECT ml._ks_binned({arr(r)}, {arr(c)})")[0][0])
    ref = np.max(np.abs(np.cumsum(r / r.sum()) - np.cumsum(c / c.sum())))
    checks.close(f"ks binned D #{trial}", ours, ref, rel=1e-12, abs_=1e-15)
    eps = 1e-4
    rs, cs = np.maximum(r / r.sum(), eps), np.maximum(c / c.sum(), eps)
    ours = float(rows(f"SELECT ml._psi({arr(r)}, {arr(c)}, {eps})")[0][0])
    checks.close(f"psi #{trial}", ours, float(np.sum((cs - rs) * np.log(cs / rs))), rel=1e-12)

checks.finish()
