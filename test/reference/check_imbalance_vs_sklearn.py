"""Multi-class metrics and imbalance against scikit-learn on the same rows.

class_weight of logistic_regression and softmax_regression against
LogisticRegression(class_weight=...) on the snapshot's training rows.

ml.evaluate's one-vs-rest ROC AUC and average precision (macro and weighted),
weighted precision/recall/F1 and top-k accuracy, and ml.classification_report,
against sklearn.metrics computed on the probabilities ml.predict_proba gives
for the same rows (read back in id order).
"""
import json
import os
import sys
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_iris, load_wine, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (average_precision_score, precision_recall_fscore_support, roc_auc_score,
                             top_k_accuracy_score)
from sklearn.preprocessing import StandardScaler, label_binarize
from sklearn.utils.class_weight import compute_class_weight

sys.path.insert(0, os.path.dirname(__file__))
from pgtest import Checks, load_typed, psql, db_helpers, floats  # noqa: E402

DB = "pg_mlops_reference_imbalance"
warnings.simplefilter("ignore")
checks = Checks()
sql, query = db_helpers(DB)


def numeric_table(table, X, labels):
    feats = [f"x{j}" for j in range(X.shape[1])]
    cols = ["id integer"] + [f + " float8" for f in feats] + ["label text"]
    data = [[i] + list(map(float, X[i])) + [labels[i]] for i in range(len(X))]
    load_typed(table, cols, data, db=DB)
    return feats


def train(model, source, algorithm, hyperparams="{}", test_fraction=0.3, seed=5):
    """Train on every column but id and label."""
    feats = query(f"SELECT string_agg(quote_literal(attname), ',' ORDER BY attnum) FROM pg_attribute "
                  f"WHERE attrelid = '{source}'::regclass AND attnum > 0 AND attname NOT IN ('id', 'label')")[0][0]
    sql(f"""SELECT ml.train_model('{model}', '{source}', 'label', '{algorithm}', '{hyperparams}'::jsonb,
            ARRAY[{feats}], {test_fraction}, {seed})""")


def proba(model, table):
    got = query(f"SELECT ml.predict_proba('{model}', s), label FROM {table} s ORDER BY id")
    return np.array([floats(r[0]) for r in got]), [r[1] for r in got]


psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
psql(f"CREATE DATABASE {DB}", db="postgres")
sql("CREATE EXTENSION pg_mlops")
sql(f"ALTER DATABASE {DB} SET ml.progress = off")

iris = load_iris()
wine = load_wine()
bc = load_breast_cancer()
X4, y4 = make_classification(n_samples=400, n_features=6, n_informative=4, n_classes=4,
                             weights=[0.55, 0.25, 0.15, 0.05], random_state=3)
datasets = [
    ("iris_sm", "iris_t", StandardScaler().fit_transform(iris.data), [iris.target_names[t] for t in iris.target],
     "softmax_regression", '{"alpha": 1}'),
    ("wine_nb", "wine_t", wine.data, [f"w{t}" for t in wine.target], "naive_bayes", "{}"),
    ("four_sm", "four_t", X4, [f"c{t}" for t in y4], "softmax_regression", '{"alpha": 0.1}'),
    ("cancer_lr", "cancer_t", StandardScaler().fit_transform(bc.data[:, :6]),
     ["malignant" if t == 0 else "benign" for t in bc.target], "logistic_regression", "{}"),
]
# ---------------------------------------------------------------------------
# class_weight: the same penalized likelihood as scikit-learn's
# LogisticRegression(class_weight=..., C=1/alpha) (penalty='none' for
# alpha = 0) on the snapshot's training rows; coefficients to 1e-6.


def train_rows(model, nfeat):
    rel = query(f"SELECT s.relation FROM ml.models m JOIN ml.snapshots s ON s.id = m.snapshot_id "
                f"WHERE m.name = '{model}' ORDER BY m.version DESC LIMIT 1")[0][0]
    got = query(f"SELECT {', '.join(f'x{j}' for j in range(nfeat))}, label FROM {rel} WHERE NOT _ml_is_test ORDER BY id")
    return np.array([[float(v) for v in r[:nfeat]] for r in got]), np.array([r[-1] for r in got])


def weights_of(model, classes, K, nfeat):
    got = query(f"SELECT class, feature, coefficient FROM ml.explain('{model}')") if K > 2 else \
        query(f"SELECT NULL, feature, coefficient FROM ml.explain('{model}')")
    if K == 2:
        return np.array([[float(r[2]) for r in got]])
    return np.array([[float(r[2]) for r in got if r[0] == c] for c in classes])


Xc = StandardScaler().fit_transform(bc.data[:, :6])
yc = ["malignant" if t == 0 else "benign" for t in bc.target]
cw_cases = [
    ("cw_lr_bal", "cw_cancer", Xc, yc, "logistic_regression", 0, '"balanced"', "balanced"),
    ("cw_lr_map", "cw_cancer", Xc, yc, "logistic_regression", 1.0, '{"malignant": 3}', {"malignant": 3, "benign": 1}),
    ("cw_sm_bal", "cw_four", X4, [f"c{t}" for t in y4], "softmax_regression", 0.1, '"balanced"', "balanced"),
    ("cw_sm_map", "cw_four", X4, [f"c{t}" for t in y4], "softmax_regression", 0.5,
     '{"c3": 4, "c2": 2.5}', {"c0": 1, "c1": 1, "c2": 2.5, "c3": 4}),
]
made = set()
for model, table, X, labels, algorithm, alpha, cw_json, cw_sk in cw_cases:
    if table not in made:
        numeric_table(table, X, labels)
        made.add(table)
    tol = ', "tol": 1e-13' if algorithm == "softmax_regression" else ""
    hp = f'{{"alpha": {alpha}, "class_weight": {cw_json}{tol}}}'
    train(model, table, algorithm, hp)
    classes = query(f"SELECT ml.classes('{model}')")[0][0].strip("{}").split(",")
    K = len(classes)
    Xtr, ytr = train_rows(model, X.shape[1])
    kw = dict(penalty="none") if alpha == 0 else dict(C=1 / alpha)
    multi = dict(multi_class="multinomial") if K > 2 else {}
    lr = LogisticRegression(class_weight=cw_sk, solver="newton-cg", tol=1e-14, max_iter=10000, **kw, **multi)
    lr.fit(Xtr, ytr)
    assert list(lr.classes_) == classes, (lr.classes_, classes)
    ref = np.column_stack([lr.intercept_, lr.coef_])
    ours = weights_of(model, classes, K, X.shape[1])
    checks.close(f"{model} coefficients max difference from LogisticRegression(class_weight={cw_sk})",
                 float(np.max(np.abs(ours - ref))), 0.0, abs_=1e-6)
    want = compute_class_weight(cw_sk, classes=np.array(classes), y=ytr)
    got = query(f"SELECT summary->'class_weight' FROM ml.models WHERE name = '{model}'")[0][0]
    gw = json.loads(got)
    checks.close(f"{model} class weights in the summary", max(abs(gw[c] - want[i]) for i, c in enumerate(classes)),
                 0.0, abs_=1e-12)
    # the aggregate engine runs the same weighted passes: the same bits
    train(model, table, algorithm, hp[:-1] + ', "engine": "aggregate"}')
    h = query(f"SELECT count(DISTINCT model_hash), string_agg(summary->>'engine', ',' ORDER BY version) "
              f"FROM ml.models WHERE name = '{model}'")[0]
    checks.true(f"{model} aggregate engine gives the same model", h[0] == "1" and h[1] == "parallel,aggregate",
                f"({h})")
    rep = query(f"SELECT identical FROM ml.reproduce('{model}@1')")[0][0]
    checks.true(f"{model} reproduces bit for bit", rep == "t")

for model, table, X, labels, algorithm, hp in datasets:
    numeric_table(table, X, labels)
    train(model, table, algorithm, hp)
    classes = query(f"SELECT ml.classes('{model}')")[0][0].strip("{}").split(",")
    K = len(classes)
    P, lab = proba(model, table)
    y = np.array([classes.index(v) for v in lab])
    pred = np.argmax(P, axis=1)
    ev = {r[0]: float(r[1]) for r in query(f"SELECT key, value::text FROM jsonb_each(ml.evaluate('{model}', '{table}'))")}
    Y = label_binarize(y, classes=list(range(K))) if K > 2 else np.column_stack([1 - y, y])
    if K > 2:
        auc_macro = roc_auc_score(y, P, multi_class="ovr", average="macro")
        auc_weighted = roc_auc_score(y, P, multi_class="ovr", average="weighted")
    else:
        per = [roc_auc_score(Y[:, c], P[:, c]) for c in range(K)]
        auc_macro = float(np.mean(per))
        auc_weighted = float(np.average(per, weights=Y.sum(axis=0)))
        checks.close(f"{model} roc_auc (binary)", ev["roc_auc"], roc_auc_score(y, P[:, 1]))
        checks.close(f"{model} average_precision (binary)", ev["average_precision"],
                     average_precision_score(y, P[:, 1]))
    checks.close(f"{model} roc_auc_ovr_macro", ev["roc_auc_ovr_macro"], auc_macro)
    checks.close(f"{model} roc_auc_ovr_weighted", ev["roc_auc_ovr_weighted"], auc_weighted)
    checks.close(f"{model} average_precision_macro", ev["average_precision_macro"],
                 average_precision_score(Y, P, average="macro"))
    checks.close(f"{model} average_precision_weighted", ev["average_precision_weighted"],
                 average_precision_score(Y, P, average="weighted"))
    wp, wr, wf, _ = precision_recall_fscore_support(y, pred, labels=list(range(K)), average="weighted",
                                                    zero_division=0)
    checks.close(f"{model} weighted_precision", ev["weighted_precision"], wp)
    checks.close(f"{model} weighted_recall", ev["weighted_recall"], wr)
    checks.close(f"{model} weighted_f1", ev["weighted_f1"], wf)
    for k in (2, 3):
        name = f"top_{k}_accuracy"
        if K > k:
            checks.close(f"{model} {name}", ev[name], top_k_accuracy_score(y, P, k=k, labels=list(range(K))))
        else:
            checks.true(f"{model} no {name} with {K} classes", name not in ev)
    # the per-class report
    rep = query(f"SELECT class, precision, recall, f1, support, roc_auc, average_precision "
                f"FROM ml.classification_report('{model}', '{table}')")
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=list(range(K)), zero_division=0)
    checks.true(f"{model} report classes in the order of ml.classes", [row[0] for row in rep] == classes)
    for c, row in enumerate(rep):
        checks.close(f"{model} report {row[0]} precision", float(row[1]), p[c])
        checks.close(f"{model} report {row[0]} recall", float(row[2]), r[c])
        checks.close(f"{model} report {row[0]} f1", float(row[3]), f[c])
        checks.close(f"{model} report {row[0]} support", float(row[4]), s[c])
        checks.close(f"{model} report {row[0]} roc_auc", float(row[5]), roc_auc_score(Y[:, c], P[:, c]))
        checks.close(f"{model} report {row[0]} average_precision", float(row[6]),
                     average_precision_score(Y[:, c], P[:, c]))

psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
checks.finish()
