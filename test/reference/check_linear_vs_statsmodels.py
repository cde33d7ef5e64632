"""linear_regression and ridge against statsmodels OLS and scikit-learn Ridge on the same rows.

Data: the diabetes dataset shipped by python3-sklearn (442 rows, 10 features) and a
synthetic set; the rows pg_mlops trained on are read back from its snapshot so both
sides see exactly the same training and test rows.
"""
import os
import sys

import numpy as np
import statsmodels.api as sm
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

sys.path.insert(0, os.path.dirname(__file__))
from pgtest import Checks, fresh_database, load, psql, rows  # noqa: E402

checks = Checks()
fresh_database()

X, y = load_diabetes(return_X_y=True)
features = [f"f{j}" for j in range(X.shape[1])]
load("diabetes", features + ["target"], np.column_stack([X, y]).tolist())
psql("SELECT ml.snapshot('diabetes', name => 'diabetes', test_fraction => 0.2, seed => 7)")
psql("SELECT ml.train_model('ols', 'snapshot:diabetes', 'target')")
psql("""SELECT ml.train_model('ridge', 'snapshot:diabetes', 'target', 'ridge', '{"alpha": 0.5}')""")

snap = rows("SELECT relation FROM ml.snapshots WHERE name = 'diabetes'")[0][0]
data = np.array(rows(f"SELECT {', '.join(features)}, target, _ml_is_test::int FROM {snap} ORDER BY ctid"), dtype=float)
train, test = data[data[:, -1] == 0], data[data[:, -1] == 1]
Xtr, ytr, Xte, yte = train[:, :-2], train[:, -2], test[:, :-2], test[:, -2]

# OLS: coefficients, standard errors, t, p, R2, adjusted R2
ols = sm.OLS(ytr, sm.add_constant(Xtr)).fit()
ours = rows("SELECT feature, coefficient, std_error, t_stat, p_value FROM ml.explain('ols')")
for k, (name, coef, se, t, p) in enumerate(ours):
    checks.close(f"ols coefficient {name}", float(coef), ols.params[k], rel=1e-9)
    checks.close(f"ols std_error {name}", float(se), ols.bse[k], rel=1e-9)
    checks.close(f"ols t_stat {name}", float(t), ols.tvalues[k], rel=1e-9)
    checks.close(f"ols p_value {name}", float(p), ols.pvalues[k], rel=1e-6, abs_=1e-14)
summary = rows("SELECT summary->>'r2', summary->>'adj_r2', summary->>'residual_sd', summary->>'condition_number' FROM ml.models WHERE name = 'ols'")[0]
checks.close("ols r2", float(summary[0]), ols.rsquared)
checks.close("ols adjusted r2", float(summary[1]), ols.rsquared_adj)
checks.close("ols residual sd", float(summary[2]), np.sqrt(ols.scale))
Xc = Xtr - Xtr.mean(axis=0)
checks.close("ols condition number (centered X)", float(summary[3]), np.linalg.cond(Xc), rel=1e-6)

# Test metrics against scikit-learn's on the test rows
pred = ols.predict(sm.add_constant(Xte, has_constant="add"))
m = rows("SELECT metrics->'test'->>'r2', metrics->'test'->>'rmse', metrics->'test'->>'mae' FROM ml.models WHERE name = 'ols'")[0]
checks.close("ols test r2", float(m[0]), r2_score(yte, pred))
checks.close("ols test rmse", float(m[1]), np.sqrt(mean_squared_error(yte, pred)))
checks.close("ols test mae", float(m[2]), mean_absolute_error(yte, pred))

# ml.predict over the test rows equals the reference predictions
ours_pred = np.array(rows(f"SELECT ml.predict('ols', s) FROM {snap} s WHERE _ml_is_test ORDER BY ctid"), dtype=float)[:, 0]
checks.close("ols predict max abs difference", float(np.max(np.abs(ours_pred - pred))), 0.0, abs_=1e-9)

# Ridge: same objective as scikit-learn's Ridge with an unpenalized intercept
rg = Ridge(alpha=0.5).fit(Xtr, ytr)
ours = rows("SELECT feature, coefficient FROM ml.explain('ridge')")
checks.close("ridge intercept", float(ours[0][1]), rg.intercept_, rel=1e-9)
for k, (name, coef) in enumerate(ours[1:]):
    checks.close(f"ridge coefficient {name}", float(coef), rg.coef_[k], rel=1e-8, abs_=1e-9)

# A wider synthetic problem trained in parallel workers: many chunks, same answer
rng = np.random.default_rng(3)
Xs = rng.normal(size=(200000, 8))
ys = Xs @ np.arange(1, 9) + 0.5 + rng.normal(scale=0.1, size=200000)
load("synthetic", [f"x{j}" for j in range(8)] + ["y"], np.column_stack([Xs, ys]).tolist())
psql("SET ml.max_parallel_workers = 2; SELECT ml.train_model('synthetic', 'synthetic', 'y', test_fraction => 0)")
ours = np.array([float(r[1]) for r in rows("SELECT feature, coefficient FROM ml.explain('synthetic')")])
ref = sm.OLS(ys, sm.add_constant(Xs)).fit().params
checks.close("synthetic max relative coefficient difference",
             float(np.max(np.abs(ours - ref) / np.abs(ref))), 0.0, abs_=1e-10)
workers = int(rows("SELECT workers FROM ml.models WHERE name = 'synthetic'")[0][0])
checks.true("synthetic trained with parallel workers", workers > 0, f"({workers} workers)")

checks.finish()
