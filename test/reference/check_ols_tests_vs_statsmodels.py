"""linear_regression's likelihood and overall F test against statsmodels OLS.

summary's llf, aic, bic, fvalue and f_pvalue against OLSResults' of the same
training rows (read back from the snapshot), on two data sets shipped by
Debian's statsmodels: Longley (16 rows, 6 collinear features) and Grunfeld
(220 firm-years), with both training engines.

Heteroskedasticity- and cluster-robust standard errors (cov_type) are not
implemented yet; this check covers only the classical OLS tests.
"""
import os
import sys

import numpy as np
import statsmodels.api as sm

sys.path.insert(0, os.path.dirname(__file__))
from pgtest import Checks, fresh_database, load, psql, rows  # noqa: E402

checks = Checks()
fresh_database()

longley = sm.datasets.longley.load_pandas()
grunfeld = sm.datasets.grunfeld.load_pandas().data
sets = {
    "longley": (list(longley.exog.columns), longley.exog.to_numpy(float), longley.endog.to_numpy(float)),
    "grunfeld": (["value", "capital"], grunfeld[["value", "capital"]].to_numpy(float),
                 grunfeld["invest"].to_numpy(float)),
}
for name, (cols, X, y) in sets.items():
    feats = [c.lower() for c in cols]
    load(name, feats + ["target"], np.column_stack([X, y]).tolist())
    psql(f"SELECT ml.snapshot('{name}', name => '{name}', test_fraction => 0.25, seed => 3)")
    snap = rows(f"SELECT relation FROM ml.snapshots WHERE name = '{name}'")[0][0]
    data = np.array(rows(f"SELECT {', '.join(feats)}, target FROM {snap} WHERE NOT _ml_is_test"), dtype=float)
    ref = sm.OLS(data[:, -1], sm.add_constant(data[:, :-1])).fit()
    for engine in ("parallel", "aggregate"):
        model = f"{name}_{engine}"
        psql(f"""SELECT ml.train_model('{model}', 'snapshot:{name}', 'target',
                 hyperparams => '{{"engine": "{engine}"}}')""")
        got = dict(rows(f"""SELECT key, value FROM ml.models, jsonb_each_text(summary)
                           WHERE name = '{model}' AND key IN ('llf', 'aic', 'bic', 'fvalue', 'f_pvalue', 'rows_used')"""))
        checks.close(f"{model} rows", float(got["rows_used"]), ref.nobs, rel=0)
        for key, want in (("llf", ref.llf), ("aic", ref.aic), ("bic", ref.bic),
                          ("fvalue", ref.fvalue), ("f_pvalue", ref.f_pvalue)):
            checks.close(f"{model} {key}", float(got[key]), want, rel=1e-8)

# ridge is no OLS: no likelihood or F test in its summary
psql("""SELECT ml.train_model('longley_ridge', 'snapshot:longley', 'target', 'ridge', '{"alpha": 0.5}')""")
keys = rows("SELECT count(*) FROM ml.models, jsonb_object_keys(summary) k WHERE name = 'longley_ridge' AND k IN ('llf', 'fvalue')")
checks.true("ridge reports no llf or fvalue", keys[0][0] == "0")

checks.finish()
