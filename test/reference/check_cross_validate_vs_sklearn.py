"""ml.cross_validate against scikit-learn on the same folds.

The folds are read back from SQL by the rule ml.cross_validate documents
(fold = floor(frac(u * 2^20) * folds), u the split hash of the row, or of
ROW(group) with group_column), then scikit-learn fits each fold's complement and scores the
fold: LinearRegression on the diabetes data (plain and grouped folds),
unpenalized LogisticRegression on the breast cancer data.
"""
import os
import sys

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, mean_absolute_error, mean_squared_error, r2_score

sys.path.insert(0, os.path.dirname(__file__))
from pgtest import Checks, fresh_database, load, psql, rows  # noqa: E402

checks = Checks()
fresh_database()
FOLDS = 5

X, y = load_diabetes(return_X_y=True)
features = [f"f{j}" for j in range(X.shape[1])]
ids = np.arange(len(y), dtype=float)
groups = (ids * 7) % 40
cols = ["id"] + features + ["g", "target"]
load("diabetes", cols, np.column_stack([ids, X, groups, y]).tolist())
counts = "SELECT (SELECT count(*) FROM ml.models), (SELECT count(*) FROM ml.snapshots), (SELECT count(*) FROM ml.model_events)"
before = rows(counts)


def folds_of(table, columns, seed, group=None):
    row = f"ROW({group})" if group else f"ROW({', '.join(columns)})"
    u = f"ml._row_split_unit({row}, {seed}) * 1048576"
    got = rows(f"SELECT id, floor(({u} - floor({u})) * {FOLDS})::int FROM {table} ORDER BY id")
    return np.array([int(r[1]) for r in got])


def ours(sql):
    out = rows(f"SELECT fold, train_rows, valid_rows, metrics FROM ({sql}) cv")
    import json
    return {r[0]: (r[1], r[2], json.loads(r[3])) for r in out}


for label, group in (("plain", None), ("grouped", "g")):
    fold = folds_of("diabetes", cols, 7, group)
    feats = ", ".join(f"'{f}'" for f in features)
    res = ours(f"SELECT * FROM ml.cross_validate('diabetes', 'target', features => ARRAY[{feats}], folds => {FOLDS}, seed => 7"
               + (f", group_column => '{group}'" if group else "") + ")")
    r2s = []
    for k in range(FOLDS):
        tr, va = fold != k, fold == k
        model = LinearRegression().fit(X[tr], y[tr])
        pred = model.predict(X[va])
        train_rows, valid_rows, m = res[str(k + 1)]
        checks.true(f"{label} fold {k + 1} rows", int(train_rows) == tr.sum() and int(valid_rows) == va.sum(),
                    f"(pg_mlops {train_rows}/{valid_rows}, reference {tr.sum()}/{va.sum()})")
        checks.close(f"{label} fold {k + 1} r2", m["r2"], r2_score(y[va], pred))
        checks.close(f"{label} fold {k + 1} rmse", m["rmse"], np.sqrt(mean_squared_error(y[va], pred)))
        checks.close(f"{label} fold {k + 1} mae", m["mae"], mean_absolute_error(y[va], pred))
        r2s.append(r2_score(y[va], pred))
    checks.close(f"{label} mean r2", res["mean"][2]["r2"], np.mean(r2s))
    checks.close(f"{label} sd r2", res["sd"][2]["r2"], np.std(r2s, ddof=1), rel=1e-8)
    if group:
        checks.true("grouped: no group in two folds",
                    all(len(set(fold[groups == v])) == 1 for v in np.unique(groups)))

# Classification: unpenalized logistic regression, accuracy per fold.
Xc, yc = load_breast_cancer(return_X_y=True)
Xc = Xc[:, :5]
cfeat = [f"c{j}" for j in range(Xc.shape[1])]
cid = np.arange(len(yc), dtype=float)
load("cancer", ["id"] + cfeat + ["label"], np.column_stack([cid, Xc, yc]).tolist())
fold = folds_of("cancer", ["id"] + cfeat + ["label"], 3)
feats = ", ".join(f"'{f}'" for f in cfeat)
res = ours(f"SELECT * FROM ml.cross_validate('SELECT id, {', '.join(cfeat)}, label::int::text AS label FROM cancer', 'label', "
           f"'logistic_regression', features => ARRAY[{feats}], folds => {FOLDS}, seed => 3)")
# The query source casts label to text: the row hash is of the row the query returns.
fold = np.array([int(r[1]) for r in rows(
    f"SELECT id, floor((ml._row_split_unit(ROW(id, {', '.join(cfeat)}, label::int::text), 3) * 1048576 - floor(ml._row_split_unit(ROW(id, {', '.join(cfeat)}, label::int::text), 3) * 1048576)) * {FOLDS})::int FROM cancer ORDER BY id")])
for k in range(FOLDS):
    tr, va = fold != k, fold == k
    # unpenalized, so predictions do not depend on scaling: standardized for lbfgs to converge
    mu, sd = Xc[tr].mean(axis=0), Xc[tr].std(axis=0)
    ref = LogisticRegression(penalty=None, max_iter=100000, tol=1e-12).fit((Xc[tr] - mu) / sd, yc[tr])
    checks.close(f"logistic fold {k + 1} accuracy", res[str(k + 1)][2]["accuracy"],
                 accuracy_score(yc[va], ref.predict((Xc[va] - mu) / sd)),
                 abs_=2.0 / va.sum())

checks.true("nothing registered (models, snapshots, events)", rows(counts) == before, f"{rows(counts)} vs {before}")
checks.finish()
