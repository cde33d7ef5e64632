"""Multi-class metrics and imbalance against scikit-learn on the same rows.

ml.evaluate's one-vs-rest ROC AUC and average precision (macro and weighted),
weighted precision/recall/F1 and top-k accuracy, and ml.classification_report,
against sklearn.metrics computed on the probabilities ml.predict_proba gives
for the same rows (read back in id order).
"""
import os
import sys
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_iris, load_wine, make_classification
from sklearn.metrics import (average_precision_score, precision_recall_fscore_support, roc_auc_score,
                             top_k_accuracy_score)
from sklearn.preprocessing import StandardScaler, label_binarize

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
    sql(f"""SELECT ml.train_model('{model}', '{source}', 'label', '{algorithm}', '{hyperparams}'::jsonb,
            NULL, {test_fraction}, {seed})""")


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
