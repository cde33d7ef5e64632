"""Every algorithm against statsmodels or scikit-learn on the same rows.

logistic_regression (unpenalized) against statsmodels Logit; lasso and
elastic_net against scikit-learn's ElasticNet on standardized features;
kmeans against KMeans(n_init=10); pca against PCA; naive_bayes against
GaussianNB; softmax_regression against multinomial LogisticRegression;
ml.evaluate against sklearn.metrics; one-hot coding and mean imputation
against statsmodels OLS on the equivalent design.  Data: the datasets shipped
by python3-sklearn and a few generated ones.  Wherever a split is involved the
rows are read back from the snapshot (ordered by an id column), so both sides
train on exactly the same rows.
"""
import os
import sys
import warnings

import numpy as np
import statsmodels.api as sm
from sklearn.cluster import KMeans
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine, make_blobs
from sklearn.decomposition import PCA
from sklearn.linear_model import ElasticNet, LogisticRegression
from sklearn.metrics import (accuracy_score, f1_score, log_loss, precision_score, recall_score,
                             roc_auc_score)
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(__file__))
from pgtest import Checks, load_typed, psql, rows, db_helpers, floats  # noqa: E402

# A database of its own, so that this check can run beside the others.
DB = "pg_mlops_reference_algorithms"
warnings.simplefilter("ignore")
checks = Checks()


sql, query = db_helpers(DB)


def train(model, source, target, algorithm, hyperparams="{}", features=None, test_fraction=None, seed=42):
    feats = "NULL" if features is None else "ARRAY[" + ", ".join(f"'{f}'" for f in features) + "]::text[]"
    sql(f"""SELECT ml.train_model('{model}', '{source}', {'NULL' if target is None else repr(target)},
            '{algorithm}', '{hyperparams}'::jsonb, {feats},
            {'NULL' if test_fraction is None else test_fraction}, {seed})""")


def snapshot_relation(model):
    return query(f"SELECT s.relation FROM ml.models m JOIN ml.snapshots s ON s.id = m.snapshot_id "
                 f"WHERE m.name = '{model}'")[0][0]


def numeric_table(table, X, labels=None):
    """table(id, x0..x{p-1}[, label]) from a matrix and optional labels; returns the feature names."""
    feats = [f"x{j}" for j in range(X.shape[1])]
    cols = ["id integer"] + [f + " float8" for f in feats]
    data = [[i] + list(map(float, X[i])) for i in range(len(X))]
    if labels is not None:
        cols.append("label text")
        for i, row in enumerate(data):
            row.append(labels[i])
    load_typed(table, cols, data, db=DB)
    return feats


def split(model, feats, label=True):
    """X, labels and is_test of a model's snapshot, in id order."""
    rel = snapshot_relation(model)
    got = query(f"SELECT {', '.join(feats)}, {'label' if label else 'NULL'}, _ml_is_test::int FROM {rel} ORDER BY id")
    X = np.array([[float(v) for v in r[:len(feats)]] for r in got])
    return X, np.array([r[-2] for r in got]), np.array([r[-1] == "1" for r in got]), rel


def proba(model, rel):
    return np.array([floats(r[0]) for r in query(f"SELECT ml.predict_proba('{model}', s) FROM {rel} s ORDER BY id")])


def softmax_objective(W, X, labels, classes, alpha):
    """Cross-entropy sum plus alpha/2 times the squared non-intercept weights (intercept first in W)."""
    Z = np.column_stack([np.ones(len(X)), X]) @ W.T
    top = Z.max(axis=1)
    lse = top + np.log(np.sum(np.exp(Z - top[:, None]), axis=1))
    idx = np.array([classes.index(v) for v in labels])
    return float(np.sum(lse - Z[np.arange(len(X)), idx]) + alpha / 2 * np.sum(W[:, 1:] ** 2))


def max_rel_diff(got, want):
    return float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300)))


psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
psql(f"CREATE DATABASE {DB}", db="postgres")
sql("CREATE EXTENSION pg_mlops")
sql(f"ALTER DATABASE {DB} SET ml.progress = off")

# ---------------------------------------------------------------------------
# Unpenalized logistic regression against statsmodels Logit (all rows).
bc = load_breast_cancer()
cols = [0, 1, 4, 7, 21]  # mean radius, mean texture, mean smoothness, mean concave points, worst texture
Xb = StandardScaler().fit_transform(bc.data[:, cols])
yb = np.where(bc.target == 0, "malignant", "benign")
fb = numeric_table("cancer", Xb, list(yb))
train("logit", "cancer", "label", "logistic_regression", '{"alpha": 0}', fb, test_fraction=0)
logit = sm.Logit((yb == "malignant").astype(float), sm.add_constant(Xb)).fit(
    method="newton", tol=1e-14, maxiter=200, disp=0)
ours = query("SELECT feature, coefficient, std_error, t_stat, p_value FROM ml.explain('logit')")
checks.true("logistic classes", query("SELECT ml.classes('logit')")[0][0] == "{benign,malignant}")
for k, (name, coef, se, z, p) in enumerate(ours):
    checks.close(f"logistic coefficient {name}", float(coef), logit.params[k], rel=1e-6)
    checks.close(f"logistic std_error {name}", float(se), logit.bse[k], rel=1e-6)
    checks.close(f"logistic z {name}", float(z), logit.tvalues[k], rel=1e-6)
    checks.close(f"logistic p_value {name}", float(p), logit.pvalues[k], rel=1e-5, abs_=1e-14)
s = query("SELECT summary->>'log_likelihood', summary->>'null_log_likelihood', summary->>'aic' "
          "FROM ml.models WHERE name = 'logit'")[0]
checks.close("logistic log-likelihood", float(s[0]), logit.llf, rel=1e-9)
n1 = float(np.sum(yb == "malignant"))
n0 = len(yb) - n1
checks.close("logistic null log-likelihood (closed form)", float(s[1]),
             n1 * np.log(n1 / len(yb)) + n0 * np.log(n0 / len(yb)), rel=1e-12)
checks.close("logistic aic", float(s[2]), logit.aic, rel=1e-9)

# ml.evaluate of the binary classifier against sklearn.metrics on its own probabilities.
P = proba("logit", "cancer")
truth = (yb == "malignant").astype(int)
pred = np.argmax(P, axis=1)
ev = query("SELECT e->>'accuracy', e->>'precision', e->>'recall', e->>'f1', e->>'roc_auc', e->>'log_loss', "
           "e->>'rows' FROM ml.evaluate('logit', 'cancer') e")[0]
checks.close("logistic predict_proba = statsmodels predict", float(np.max(np.abs(P[:, 1] - logit.predict()))),
             0.0, abs_=1e-9)
checks.close("evaluate binary accuracy", float(ev[0]), accuracy_score(truth, pred))
checks.close("evaluate binary precision", float(ev[1]), precision_score(truth, pred))
checks.close("evaluate binary recall", float(ev[2]), recall_score(truth, pred))
checks.close("evaluate binary f1", float(ev[3]), f1_score(truth, pred))
checks.close("evaluate binary roc_auc", float(ev[4]), roc_auc_score(truth, P[:, 1]))
checks.close("evaluate binary log_loss", float(ev[5]), log_loss(truth, P, eps=1e-15, labels=[0, 1]))
checks.close("evaluate binary rows", float(ev[6]), len(yb))

# ---------------------------------------------------------------------------
# Lasso and elastic net against scikit-learn on standardized features.
Xd, yd = load_diabetes(return_X_y=True)
fd = numeric_table("diabetes", np.column_stack([Xd, yd]))
fd, td = fd[:-1], fd[-1]
for model, algorithm, alpha, l1 in (("lasso", "lasso", 0.5, 1.0), ("enet", "elastic_net", 0.05, 0.3),
                                    ("enet_l1", "elastic_net", 1.0, 0.9)):
    hp = f'{{"alpha": {alpha}}}' if algorithm == "lasso" else f'{{"alpha": {alpha}, "l1_ratio": {l1}}}'
    train(model, "diabetes", td, algorithm, hp, fd, test_fraction=0)
    pipe = make_pipeline(StandardScaler(), ElasticNet(alpha=alpha, l1_ratio=l1, tol=1e-12, max_iter=10**6))
    pipe.fit(Xd, yd)
    sc, en = pipe[0], pipe[1]
    coef = en.coef_ / sc.scale_
    intercept = en.intercept_ - coef @ sc.mean_
    ours = query(f"SELECT feature, coefficient FROM ml.explain('{model}')")
    checks.close(f"{model} (alpha {alpha}, l1_ratio {l1}) intercept", float(ours[0][1]), intercept, rel=0, abs_=1e-4)
    for k, (name, c) in enumerate(ours[1:]):
        checks.close(f"{model} coefficient {name}", float(c), coef[k], rel=0, abs_=1e-4)
    nz = query(f"SELECT summary->>'nonzero_coefficients' FROM ml.models WHERE name = '{model}'")[0][0]
    checks.true(f"{model} nonzero coefficients", int(float(nz)) == int(np.count_nonzero(en.coef_)),
                f"(pg_mlops {nz}, reference {np.count_nonzero(en.coef_)})")

# ---------------------------------------------------------------------------
# k-means: the inertia of the stored centroids on the training rows is no
# worse than scikit-learn's best of 10 k-means++ runs.
Xi, yi_num = load_iris(return_X_y=True)
iris_labels = np.array(load_iris().target_names)[yi_num]
fi = numeric_table("iris", Xi, list(iris_labels))
Xk, _ = make_blobs(n_samples=600, centers=5, n_features=3, cluster_std=1.8, random_state=11)
fk = numeric_table("blobs", Xk)
for model, table, feats, X, k in (("km_iris", "iris", fi, Xi, 3), ("km_blobs", "blobs", fk, Xk, 5)):
    train(model, table, None, "kmeans", f'{{"k": {k}}}', feats, test_fraction=0)
    ref = KMeans(n_clusters=k, n_init=10, random_state=0).fit(X).inertia_
    summary = float(query(f"SELECT summary->>'inertia' FROM ml.models WHERE name = '{model}'")[0][0])
    ev = float(query(f"SELECT ml.evaluate('{model}', '{table}')->>'inertia'")[0][0])
    checks.true(f"{model} summary inertia no worse than KMeans(n_init=10)", summary <= ref * (1 + 1e-9),
                f"(pg_mlops {summary:.12g}, reference {ref:.12g})")
    checks.true(f"{model} evaluated inertia no worse than KMeans(n_init=10)", ev <= ref * (1 + 1e-9),
                f"(pg_mlops {ev:.12g}, reference {ref:.12g})")
    checks.close(f"{model} summary inertia = evaluated inertia", summary, ev, rel=1e-9)

# ---------------------------------------------------------------------------
# PCA: explained variance and component scores (up to each component's sign).
Xw, yw_num = load_wine(return_X_y=True)
wine_labels = np.array(load_wine().target_names)[yw_num]
fw = numeric_table("wine", Xw, list(wine_labels))
for model, table, feats, X, m in (("pca_iris", "iris", fi, Xi, 0), ("pca_diabetes", "diabetes", fd, Xd, 6),
                                  ("pca_wine", "wine", fw, Xw, 0)):
    train(model, table, None, "pca", f'{{"n_components": {m}}}', feats, test_fraction=0)
    ref = PCA(n_components=m or None, svd_solver="full").fit(X)
    ev = np.array(floats(query(f"SELECT summary->'explained_variance' FROM ml.models WHERE name = '{model}'")[0][0]
                         .replace("[", "{").replace("]", "}")))
    checks.true(f"{model} component count", len(ev) == len(ref.explained_variance_), f"({len(ev)})")
    checks.close(f"{model} explained variance max relative difference",
                 max_rel_diff(ev, ref.explained_variance_), 0.0, abs_=1e-9)
    T = np.array([floats(r[0]) for r in query(f"SELECT ml.transform('{model}', s) FROM {table} s ORDER BY id")])
    R = ref.transform(X)
    sign = np.where(np.sum(T * R, axis=0) < 0, -1.0, 1.0)
    scale = max(1.0, float(np.max(np.abs(R))))
    checks.close(f"{model} transform max difference up to sign (relative to max |score| {scale:.4g})",
                 float(np.max(np.abs(T * sign - R))) / scale, 0.0, abs_=1e-8)

# ---------------------------------------------------------------------------
# Gaussian naive Bayes: probabilities of every row from the train split.
for model, table, feats in (("nb_iris", "iris", fi), ("nb_wine", "wine", fw)):
    train(model, table, "label", "naive_bayes", "{}", feats, test_fraction=0.3, seed=5)
    X, lab, is_test, rel = split(model, feats)
    gnb = GaussianNB().fit(X[~is_test], lab[~is_test])
    classes = query(f"SELECT ml.classes('{model}')")[0][0].strip("{}").split(",")
    checks.true(f"{model} classes", classes == list(gnb.classes_), f"({classes})")
    P = proba(model, rel)
    checks.close(f"{model} predict_proba max difference over {len(X)} rows",
                 float(np.max(np.abs(P - gnb.predict_proba(X)))), 0.0, abs_=1e-9)

# ---------------------------------------------------------------------------
# Softmax regression: test accuracy no lower than scikit-learn's with the same
# penalty on the same split; ml.evaluate of it against sklearn.metrics.
for model, table, X, labels, alpha in (("sm_iris", "iris_std", Xi, iris_labels, 1.0),
                                        ("sm_wine", "wine_std", Xw, wine_labels, 0.5)):
    feats = numeric_table(table, StandardScaler().fit_transform(X), list(labels))
    train(model, table, "label", "softmax_regression", f'{{"alpha": {alpha}}}', feats, test_fraction=0.3, seed=3)
    Xs, lab, is_test, rel = split(model, feats)
    lr = LogisticRegression(multi_class="multinomial", C=1 / alpha, tol=1e-10, max_iter=10000)
    lr.fit(Xs[~is_test], lab[~is_test])
    ref_acc = accuracy_score(lab[is_test], lr.predict(Xs[is_test]))
    acc = float(query(f"SELECT metrics->'test'->>'accuracy' FROM ml.models WHERE name = '{model}'")[0][0])
    checks.true(f"{model} test accuracy no lower than LogisticRegression(C=1/{alpha})", acc >= ref_acc - 1e-12,
                f"(pg_mlops {acc:.6g}, reference {ref_acc:.6g}, {int(is_test.sum())} test rows)")
    # The same objective, minimized at least as well: the reported objective
    # is that of the stored weights, no higher than scikit-learn's; the
    # weights match a tightly converged newton-cg solution (lbfgs stops on
    # its relative-reduction test first).
    Xtr, ytr = Xs[~is_test], lab[~is_test]
    W = np.array([[float(r[0]) for r in query(f"SELECT coefficient FROM ml.explain('{model}') "
                                              f"WHERE class = '{c}'")] for c in lr.classes_])
    reported = float(query(f"SELECT summary->>'objective' FROM ml.models WHERE name = '{model}'")[0][0])
    ours_obj = softmax_objective(W, Xtr, ytr, list(lr.classes_), alpha)
    ref_obj = softmax_objective(np.column_stack([lr.intercept_, lr.coef_]), Xtr, ytr, list(lr.classes_), alpha)
    checks.close(f"{model} reported objective = objective of its weights", reported, ours_obj, rel=1e-9)
    checks.true(f"{model} objective no higher than LogisticRegression's", ours_obj <= ref_obj * (1 + 1e-9),
                f"(pg_mlops {ours_obj:.15g}, reference {ref_obj:.15g})")
    tight = LogisticRegression(multi_class="multinomial", C=1 / alpha, solver="newton-cg", tol=1e-12,
                               max_iter=1000).fit(Xtr, ytr)
    checks.close(f"{model} weights max difference from newton-cg",
                 float(np.max(np.abs(W - np.column_stack([tight.intercept_, tight.coef_])))), 0.0, abs_=1e-6)

    classes = query(f"SELECT ml.classes('{model}')")[0][0].strip("{}").split(",")
    P = proba(model, f"(SELECT * FROM {rel} WHERE _ml_is_test)")
    truth = np.array([classes.index(v) for v in lab[is_test]])
    pred = np.argmax(P, axis=1)
    ev = query(f"SELECT e->>'accuracy', e->>'macro_precision', e->>'macro_recall', e->>'macro_f1', e->>'log_loss' "
               f"FROM ml.evaluate('{model}', 'SELECT * FROM {rel} WHERE _ml_is_test') e")[0]
    labels_k = list(range(len(classes)))
    checks.close(f"{model} evaluate accuracy", float(ev[0]), accuracy_score(truth, pred))
    checks.close(f"{model} evaluate = metrics test accuracy", float(ev[0]), acc)
    checks.close(f"{model} evaluate macro precision", float(ev[1]),
                 precision_score(truth, pred, labels=labels_k, average="macro", zero_division=0))
    checks.close(f"{model} evaluate macro recall", float(ev[2]),
                 recall_score(truth, pred, labels=labels_k, average="macro", zero_division=0))
    checks.close(f"{model} evaluate macro f1", float(ev[3]),
                 f1_score(truth, pred, labels=labels_k, average="macro", zero_division=0))
    checks.close(f"{model} evaluate log_loss", float(ev[4]), log_loss(truth, P, eps=1e-15, labels=labels_k))

# ---------------------------------------------------------------------------
# Categorical preprocessing: a text column one-hot coded against its first
# category (strcmp order), NULL text as all zeros, NULL numbers imputed by the
# mean of the train split; the model is OLS on that design.
rng = np.random.default_rng(17)
n = 400
colors = rng.choice(["red", "Blue", "green", "amber"], size=n, p=[0.4, 0.3, 0.2, 0.1])
x1 = rng.normal(size=n)
x2 = rng.normal(loc=3, scale=2, size=n)
effect = {"red": 1.0, "Blue": -2.0, "green": 0.5, "amber": 3.0}
y = 2 + 1.5 * x1 - 0.7 * x2 + np.array([effect[c] for c in colors]) + rng.normal(scale=0.5, size=n)
data = []
for i in range(n):
    data.append([i, None if i % 11 == 3 else float(x1[i]), None if i % 7 == 2 else float(x2[i]),
                 None if i % 13 == 5 else str(colors[i]), float(y[i])])
load_typed("shop", ["id integer", "x1 float8", "x2 float8", "color text", "y float8"], data, db=DB)
train("cat", "shop", "y", "linear_regression", "{}", ["x1", "color", "x2"], test_fraction=0.25, seed=9)
rel = snapshot_relation("cat")
got = query(f"SELECT x1, x2, color, y, _ml_is_test::int FROM {rel} ORDER BY id")
x1s = np.array([np.nan if r[0] == "" else float(r[0]) for r in got])
x2s = np.array([np.nan if r[1] == "" else float(r[1]) for r in got])
cs = [r[2] if r[2] != "" else None for r in got]
ys = np.array([float(r[3]) for r in got])
test = np.array([r[4] == "1" for r in got])
m1, m2 = np.nanmean(x1s[~test]), np.nanmean(x2s[~test])
cats = sorted({c for c, t in zip(cs, test) if c is not None and not t}, key=lambda c: c.encode())
design = np.column_stack([np.where(np.isnan(x1s), m1, x1s)]
                         + [[1.0 if c == k else 0.0 for c in cs] for k in cats[1:]]
                         + [np.where(np.isnan(x2s), m2, x2s)])
ols = sm.OLS(ys[~test], sm.add_constant(design[~test])).fit()
names = ["intercept", "x1"] + [f"color={k}" for k in cats[1:]] + ["x2"]
ours = query("SELECT feature, coefficient, std_error FROM ml.explain('cat')")
checks.true("categorical feature names", [r[0] for r in ours] == names, f"({[r[0] for r in ours]})")
for k, (name, coef, se) in enumerate(ours):
    checks.close(f"categorical coefficient {name}", float(coef), ols.params[k], rel=1e-8, abs_=1e-12)
    checks.close(f"categorical std_error {name}", float(se), ols.bse[k], rel=1e-8)
pred = np.array([float(r[0]) for r in query(f"SELECT ml.predict('cat', s) FROM {rel} s ORDER BY id")])
checks.close("categorical predict max difference (NULLs imputed, all rows)",
             float(np.max(np.abs(pred - ols.predict(sm.add_constant(design, has_constant='add'))))), 0.0, abs_=1e-8)

psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
checks.finish()
