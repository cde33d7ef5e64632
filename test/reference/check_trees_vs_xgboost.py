"""Tree models against Debian's python3-xgboost and scikit-learn on the same rows.

gradient_boosting against xgboost.XGBClassifier / XGBRegressor
(tree_method='hist') with the same n_estimators, max_depth, learning_rate,
reg_lambda, min_child_weight, gamma 0 and max_bin 255, trained on exactly the
training split of the model's snapshot (read back ordered by id), compared on
the test split:

  binary (breast cancer):             test ROC AUC within 0.005
  multiclass (wine, digits: 64        test accuracy within 0.02 and test log
    features, 10 classes)             loss within 5% (relative)
  regression (synthetic, SQL):        test RMSE at most 2% above XGBoost's
                                      (one-sided, see below)
  early stopping (anes96, 3 parties): the stored test accuracy and log loss
                                      are XGBoost's at the best round (within
                                      0.01 and 1%), not at the rounds grown

Base scores as documented in src/core/tree.h: pg_mlops starts regression at
the mean of y and binary classification at the log-odds of the positive
rate; Debian's xgboost 1.7 defaults to base_score 0.5, so it is given
base_score = mean of y (for binary:logistic base_score is a probability, so
the mean of the 0/1 label is the same log-odds start).  Softmax starts every
class at 0 in pg_mlops and at 0.5 in xgboost: the same probabilities.

The synthetic regression set is bench/trees_setup.sql (20 features, a
nonlinear target, NULLs in f7) with 200,000 rows here, to keep this check
near a minute; issue 4's 1,000,000-row comparison is run by bench/trees.sh
(docs/benchmarks.md, docs/trees.md).

random_forest against sklearn RandomForestClassifier (100 trees, depth 12,
the same number of features sampled per split) and decision_tree against
DecisionTreeClassifier (depth 8): test accuracy within 0.03 on each
classification set.

ml.explain_predict: for 50 rows of every model, the contributions plus the
base value equal the raw prediction within 1e-9: regression ml.predict;
binary log(p1/p0) from ml.predict_proba; softmax, per class the margin, so
the softmax of the per-class sums equals ml.predict_proba; forests (class
probabilities averaged over trees) the probability of each class.
"""
import math
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import statsmodels.api as sm
import xgboost as xgb
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from sklearn.tree import DecisionTreeClassifier

sys.path.insert(0, os.path.dirname(__file__))
from pgtest import Checks, load_typed, psql, rows, db_helpers, floats  # noqa: E402

DB = "pg_mlops_reference_trees"
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SYNTHETIC_ROWS = 200000  # the 1,000,000 run in bench/trees.sh
GB = dict(n_trees=100, max_depth=6, learning_rate=0.3, reg_lambda=1.0, min_child_weight=1.0)
warnings.simplefilter("ignore")
checks = Checks()


sql, query = db_helpers(DB)


def gb_params():
    return ('{"n_trees": %d, "max_depth": %d, "learning_rate": %r, "lambda": %r, "min_child_weight": %r, '
            '"gamma": 0, "max_bins": 255}' % (GB["n_trees"], GB["max_depth"], GB["learning_rate"],
                                              GB["reg_lambda"], GB["min_child_weight"]))


def xgb_params():
    return dict(tree_method="hist", n_estimators=GB["n_trees"], max_depth=GB["max_depth"],
                learning_rate=GB["learning_rate"], reg_lambda=GB["reg_lambda"],
                min_child_weight=GB["min_child_weight"], gamma=0.0, max_bin=255, n_jobs=2,
                random_state=0)


def train(model, table, target, algorithm, hyperparams, feats, test_fraction, seed=42):
    arr = "ARRAY[" + ", ".join(f"'{f}'" for f in feats) + "]::text[]"
    sql(f"SELECT ml.train_model('{model}', '{table}', '{target}', '{algorithm}', '{hyperparams}'::jsonb, "
        f"{arr}, {test_fraction}, {seed})")


def snapshot_relation(model):
    return query(f"SELECT s.relation FROM ml.models m JOIN ml.snapshots s ON s.id = m.snapshot_id "
                 f"WHERE m.name = '{model}'")[0][0]


def classification_table(table, X, labels):
    feats = [f"x{j}" for j in range(X.shape[1])]
    cols = ["id integer"] + [f + " float8" for f in feats] + ["label text"]
    load_typed(table, cols, [[i] + list(map(float, X[i])) + [labels[i]] for i in range(len(X))], db=DB)
    return feats


def split(model, feats):
    """X, labels, is_test and the snapshot relation of a model, in id order."""
    rel = snapshot_relation(model)
    got = query(f"SELECT {', '.join(feats)}, label, _ml_is_test::int FROM {rel} ORDER BY id")
    X = np.array([[float(v) for v in r[:len(feats)]] for r in got])
    return X, np.array([r[-2] for r in got]), np.array([r[-1] == "1" for r in got]), rel


def proba(model, rel, where="_ml_is_test"):
    return np.array([floats(r[0]) for r in query(f"SELECT ml.predict_proba('{model}', s) FROM {rel} s "
                                                 f"WHERE {where} ORDER BY id")])


def classes(model):
    return query(f"SELECT ml.classes('{model}')")[0][0].strip("{}").split(",")


def metric(model, split_, name):
    return float(query(f"SELECT metrics->'{split_}'->>'{name}' FROM ml.models WHERE name = '{model}'")[0][0])


def contributions(model, rel, n=50):
    """Per row of the first n rows (by id): {class: (fsum of contributions incl. base value, base value)}."""
    got = query(f"SELECT s.id, e.class, e.feature, e.contribution FROM "
                f"(SELECT * FROM {rel} ORDER BY id LIMIT {n}) s, ml.explain_predict('{model}', s) e "
                f"ORDER BY s.id")
    per = {}
    for rid, cls, feat, c in got:
        per.setdefault(int(rid), {}).setdefault(cls, []).append(float(c))
    return {rid: {cls: math.fsum(v) for cls, v in d.items()} for rid, d in per.items()}


def check_explain(model, rel, kind):
    """Contributions + base value = raw prediction (see the module docstring), max error over 50 rows."""
    sums = contributions(model, rel)
    ids = sorted(sums)
    worst = 0.0
    if kind == "regression":
        pred = {int(r[0]): float(r[1]) for r in query(
            f"SELECT id, ml.predict('{model}', s) FROM {rel} s ORDER BY id LIMIT 50")}
        for i in ids:
            (total,) = sums[i].values()
            worst = max(worst, abs(total - pred[i]))
    else:
        P = {int(r[0]): floats(r[1]) for r in query(
            f"SELECT id, ml.predict_proba('{model}', s) FROM {rel} s ORDER BY id LIMIT 50")}
        names = classes(model)
        for i in ids:
            p = P[i]
            if kind == "binary":
                (total,) = sums[i].values()
                worst = max(worst, abs(total - (math.log(p[1]) - math.log(p[0]))))
            elif kind == "softmax":
                z = np.array([sums[i][c] for c in names])
                e = np.exp(z - z.max())
                worst = max(worst, float(np.max(np.abs(e / e.sum() - np.array(p)))))
            else:  # forest / tree classifier: per class the averaged probability
                worst = max(worst, max(abs(sums[i][c] - p[k]) for k, c in enumerate(names)))
    checks.true(f"{model} explain_predict: {len(ids)} rows", len(ids) == 50)
    checks.close(f"{model} explain_predict contributions + base value = prediction ({kind}), max error",
                 worst, 0.0, rel=0, abs_=1e-9)


psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
psql(f"CREATE DATABASE {DB}", db="postgres")
sql("CREATE EXTENSION pg_mlops")
sql(f"ALTER DATABASE {DB} SET ml.progress = off")

# ---------------------------------------------------------------------------
# Binary: breast cancer.  pg_mlops's positive class is the second of
# ml.classes(), 'true'.
bc = load_breast_cancer()
fb = classification_table("cancer", bc.data, ["true" if t else "false" for t in bc.target])
train("gb_cancer", "cancer", "label", "gradient_boosting", gb_params(), fb, 0.3)
X, lab, is_test, rel = split("gb_cancer", fb)
checks.true("gb_cancer classes", classes("gb_cancer") == ["false", "true"])
ytr, yte = (lab[~is_test] == "true").astype(int), (lab[is_test] == "true").astype(int)
ref = xgb.XGBClassifier(objective="binary:logistic", base_score=float(ytr.mean()), **xgb_params())
ref.fit(X[~is_test], ytr)
P = proba("gb_cancer", rel)
auc, ref_auc = metric("gb_cancer", "test", "roc_auc"), roc_auc_score(yte, ref.predict_proba(X[is_test])[:, 1])
checks.close("gb_cancer stored test roc_auc = sklearn roc_auc of ml.predict_proba", auc,
             roc_auc_score(yte, P[:, 1]), rel=1e-12)
checks.close(f"gb_cancer test ROC AUC vs XGBClassifier(hist) ({int(is_test.sum())} test rows)", auc, ref_auc,
             rel=0, abs_=0.005)
checks.close("gb_cancer base score = log-odds of the training positive rate",
             float(query("SELECT summary->'base_score'->>0 FROM ml.models WHERE name = 'gb_cancer'")[0][0]),
             math.log(ytr.mean() / (1 - ytr.mean())), rel=1e-12)
check_explain("gb_cancer", rel, "binary")
sets = {"cancer": (fb, X, lab, is_test)}

# ---------------------------------------------------------------------------
# Multiclass: wine (3 classes, 13 features) and digits (10 classes, 64
# features).  Labels are text; ml.classes() sorts them, so does LabelEncoder.
for name, data, prefix in (("wine", load_wine(), "class_"), ("digits", load_digits(), "d")):
    labels = [f"{prefix}{t}" for t in data.target]
    feats = classification_table(name, data.data, labels)
    model = f"gb_{name}"
    train(model, name, "label", "gradient_boosting", gb_params(), feats, 0.3)
    X, lab, is_test, rel = split(model, feats)
    names = classes(model)
    checks.true(f"{model} classes", names == sorted(set(labels)), f"({len(names)})")
    idx = {c: k for k, c in enumerate(names)}
    ytr = np.array([idx[v] for v in lab[~is_test]])
    yte = np.array([idx[v] for v in lab[is_test]])
    ref = xgb.XGBClassifier(objective="multi:softprob", **xgb_params())
    ref.fit(X[~is_test], ytr)
    Pref = ref.predict_proba(X[is_test])
    P = proba(model, rel)
    acc, ll = accuracy_score(yte, P.argmax(axis=1)), log_loss(yte, P, labels=list(range(len(names))))
    checks.close(f"{model} stored test accuracy = accuracy of ml.predict_proba", metric(model, "test", "accuracy"),
                 acc, rel=1e-12)
    checks.close(f"{model} test accuracy vs XGBClassifier(hist) ({int(is_test.sum())} test rows)", acc,
                 accuracy_score(yte, Pref.argmax(axis=1)), rel=0, abs_=0.02)
    checks.close(f"{model} test log loss vs XGBClassifier(hist), relative", ll,
                 log_loss(yte, Pref, labels=list(range(len(names)))), rel=0.05)
    check_explain(model, rel, "softmax")
    sets[name] = (feats, X, lab, is_test)

# ---------------------------------------------------------------------------
# Early stopping (issue 17): the metrics stored with the model are those of
# the trees it keeps (the best round's), not of every round grown.  anes96
# from statsmodels, party identification in 3 classes; the check fails if
# XGBoost at the rounds grown is as close as XGBoost at the best round.
anes = sm.datasets.anes96.load_pandas().data
anes.columns = [c.lower() for c in anes.columns]
afeats = ["popul", "tvnews", "selflr", "clinlr", "dolelr", "age", "educ", "income"]
party = np.where(anes.pid <= 1, "democrat", np.where(anes.pid >= 5, "republican", "independent"))
load_typed("anes", ["id integer"] + [f + " float8" for f in afeats] + ["label text"],
           [[i] + [float(anes[f][i]) for f in afeats] + [party[i]] for i in range(len(anes))], db=DB)
train("gb_anes", "anes", "label", "gradient_boosting",
      '{"n_trees": 200, "max_depth": 4, "learning_rate": 0.3, "early_stopping_rounds": 10}', afeats, 0.3)
X, lab, is_test, rel = split("gb_anes", afeats)
best = int(query("SELECT summary->>'best_round' FROM ml.models WHERE name = 'gb_anes'")[0][0])
grown = int(query("SELECT max(iteration) FROM ml.training_info('gb_anes')")[0][0])
checks.true("gb_anes stopped early", 0 < best < grown < 200, f"(best round {best}, {grown} grown)")
names = classes("gb_anes")
idx = {c: k for k, c in enumerate(names)}
ytr = np.array([idx[v] for v in lab[~is_test]])
yte = np.array([idx[v] for v in lab[is_test]])
at = {}
for n in (best, grown):
    ref = xgb.XGBClassifier(objective="multi:softprob", tree_method="hist", n_estimators=n, max_depth=4,
                            learning_rate=0.3, reg_lambda=1.0, min_child_weight=1.0, gamma=0.0, max_bin=255,
                            n_jobs=2, random_state=0)
    ref.fit(X[~is_test], ytr)
    Pref = ref.predict_proba(X[is_test])
    at[n] = (accuracy_score(yte, Pref.argmax(axis=1)), log_loss(yte, Pref, labels=list(range(len(names)))))
acc, ll = metric("gb_anes", "test", "accuracy"), metric("gb_anes", "test", "log_loss")
P = proba("gb_anes", rel)
checks.close("gb_anes stored test log loss = log loss of ml.predict_proba", ll,
             log_loss(yte, P, labels=list(range(len(names)))), rel=1e-9)
checks.close(f"gb_anes stored test accuracy vs XGBClassifier(hist) at the best round ({best})", acc, at[best][0],
             rel=0, abs_=0.01)
checks.close(f"gb_anes stored test log loss vs XGBClassifier(hist) at the best round ({best}), relative", ll,
             at[best][1], rel=0.01)
checks.true(f"gb_anes XGBoost at the rounds grown ({grown}) is farther off: log loss {at[grown][1]:.4f}",
            abs(at[grown][1] - ll) > 0.01 * ll)

# ---------------------------------------------------------------------------
# Random forest and decision tree against scikit-learn on the same splits.
for name, (feats, X, lab, is_test) in sets.items():
    F = len(feats)
    k = max(1, int(math.sqrt(F)))  # sklearn's max_features='sqrt'
    # floor(colsample * F) = k in pg_mlops, int(colsample * F) = k in sklearn
    colsample = (k + 0.5) / F
    for algorithm, hp, ref in (
            ("random_forest", f'{{"n_trees": 100, "max_depth": 12, "colsample": {colsample!r}, "seed": 7}}',
             RandomForestClassifier(n_estimators=100, max_depth=12, max_features=colsample, random_state=0,
                                    n_jobs=2)),
            ("decision_tree", '{"max_depth": 8}', DecisionTreeClassifier(max_depth=8, random_state=0))):
        model = f"{'rf' if algorithm == 'random_forest' else 'dt'}_{name}"
        try:
            train(model, name, "label", algorithm, hp, feats, 0.3)
        except RuntimeError as e:  # a failed training is a failed check; go on with the others
            err = [ln for ln in str(e).splitlines() if "ERROR:" in ln]
            checks.true(f"{model} trains", False, f"({err[0].strip() if err else e})")
            continue
        _, lab2, is_test2, rel = split(model, feats)
        checks.true(f"{model} same split as gb_{name}", bool(np.array_equal(is_test2, is_test)))
        ref.fit(X[~is_test], lab[~is_test])
        acc = metric(model, "test", "accuracy")
        ref_acc = accuracy_score(lab[is_test], ref.predict(X[is_test]))
        checks.close(f"{model} test accuracy vs sklearn {type(ref).__name__} ({int(is_test.sum())} test rows)",
                     acc, ref_acc, rel=0, abs_=0.03)
        check_explain(model, rel, "forest")

# ---------------------------------------------------------------------------
# Regression: the synthetic set in SQL (bench/trees_setup.sql), 200,000 rows.
t0 = time.perf_counter()
proc = subprocess.run(["psql", "-X", "-q", "-d", DB, "-v", f"rows={SYNTHETIC_ROWS}",
                       "-f", os.path.join(ROOT, "bench", "trees_setup.sql")], capture_output=True, text=True)
if proc.returncode != 0:
    raise RuntimeError(proc.stderr)
fr = [f"f{j}" for j in range(1, 21)]
sql(f"SELECT ml.train_model('gb_synth', 'snapshot:trees', 'y', 'gradient_boosting', '{gb_params()}'::jsonb, "
    f"ARRAY[{', '.join(repr(f) for f in fr)}]::text[])")
t1 = time.perf_counter()
rel = snapshot_relation("gb_synth")
cols = ", ".join(f"coalesce({f}::text, 'nan')" for f in fr)
got = query(f"SELECT {cols}, y, _ml_is_test::int FROM {rel} ORDER BY id")
D = np.array([[float(v) for v in r[:-1]] for r in got])
is_test = np.array([r[-1] == "1" for r in got])
X, y = D[:, :20], D[:, 20]
checks.true("gb_synth rows", len(y) == SYNTHETIC_ROWS and np.isnan(X[:, 6]).any(),
            f"({len(y)} rows, {int(np.isnan(X).sum())} NULLs)")
ref = xgb.XGBRegressor(objective="reg:squarederror", base_score=float(y[~is_test].mean()), **xgb_params())
t2 = time.perf_counter()
ref.fit(X[~is_test], y[~is_test])
t3 = time.perf_counter()
rmse = metric("gb_synth", "test", "rmse")
ref_rmse = float(np.sqrt(np.mean((ref.predict(X[is_test]) - y[is_test]) ** 2)))
# One-sided: the two binnings (pg_mlops: quantiles of a ~50,000-row sample;
# XGBoost: its quantile sketch of every row) place the cuts differently, and
# on this target (sums of smooth terms, approximated by steps) that moves the
# test RMSE a few percent either way (measured: 200,000 rows -2.0%, 1,000,000
# rows +0.13%, 20,000 rows +4.7%); being better than XGBoost is no failure.
checks.true(f"gb_synth test RMSE at most 2% above XGBRegressor(hist)'s ({int(is_test.sum())} test rows; "
            f"train_model {t1 - t0:.1f} s incl. data generation, xgboost fit {t3 - t2:.1f} s)",
            rmse <= 1.02 * ref_rmse,
            f"(pg_mlops {rmse:.6g}, reference {ref_rmse:.6g}, {100 * (rmse - ref_rmse) / ref_rmse:+.2f}%)")
checks.close("gb_synth base score = mean of training y",
             float(query("SELECT summary->'base_score'->>0 FROM ml.models WHERE name = 'gb_synth'")[0][0]),
             float(np.mean(y[~is_test])), rel=1e-12)
check_explain("gb_synth", rel, "regression")

psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
checks.finish()
