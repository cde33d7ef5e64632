"""ml.export_model for every model kind.

C: each export, compiled with gcc against pg_mlops_scorer.h (ml.scorer_header())
and test/export/driver.c, scores the same 10,000 rows as ml.predict,
ml.predict_class, ml.predict_proba and ml.transform, bit for bit, from raw
column values: numbers with NULLs (imputed), a boolean, a text column (one-hot,
with NULLs and a value unseen in training) and a date column (seconds since
1970, with NULLs).  JSON: each export re-imports (ml.import_model) to the same
bytes and identical predictions on every row.  PMML: every kind but PCA (which
is refused with 0A000) is well-formed (xmllint --noout when installed, else
Python's parser) and, evaluated by pmml_eval.py (a small evaluator of the
elements these documents use, written from the PMML 4.4 specification), agrees
with ml.predict, ml.predict_class and ml.predict_proba on every row to 1e-12;
the linear kinds and k-means also carry the model's exact numbers; trees'
default children are reached (flipping them changes predictions) and naive
Bayes's count sums equal its class counts."""
import os
import shutil
import subprocess
import sys
import tempfile
import csv
import datetime
import json
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))
from pgtest import Checks, fresh_database, psql, rows  # noqa: E402
import pmml_eval  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
N_ROWS = 10000
ALL = ["x1", "x2", "flag", "city", "day"]
# name: (algorithm, target, hyperparameters, features)
KINDS = {
    "k_linear": ("linear_regression", "y", {}, ALL),
    "k_ridge": ("ridge", "y", {"alpha": 2}, ALL),
    "k_lasso": ("lasso", "y", {"alpha": 0.01}, ALL),
    "k_enet": ("elastic_net", "y", {"alpha": 0.01, "l1_ratio": 0.5}, ALL),
    "k_logistic": ("logistic_regression", "bin", {"alpha": 0.1}, ALL),
    # (seconds since 1970 next to unit-scale columns stall softmax's line search)
    "k_softmax": ("softmax_regression", "label", {"alpha": 0.1}, ["x1", "x2", "flag", "city"]),
    "k_nb": ("naive_bayes", "label", {}, ALL),
    "k_kmeans": ("kmeans", None, {"k": 4}, ALL),
    "k_pca": ("pca", None, {"n_components": 3}, ALL),
    "k_tree": ("decision_tree", "y", {"max_depth": 6}, ALL),
    "k_forest": ("random_forest", "label", {"n_trees": 8, "max_depth": 5}, ALL),
    "k_gbm": ("gradient_boosting", "bin", {"task": "regression", "n_trees": 10, "max_depth": 4}, ALL),
    # the other tree shapes PMML writes differently: a classification tree, a
    # regression forest, boosting with the logistic and the softmax link
    "k_tree_cls": ("decision_tree", "label", {"max_depth": 5}, ALL),
    "k_forest_reg": ("random_forest", "y", {"n_trees": 5, "max_depth": 4}, ALL),
    "k_gbm_bin": ("gradient_boosting", "bin", {"task": "classification", "n_trees": 8, "max_depth": 3}, ALL),
    "k_gbm_soft": ("gradient_boosting", "label", {"n_trees": 6, "max_depth": 3}, ALL),
}
# PMML describes every kind but PCA; the numbers of the linear kinds and k-means
# are also compared one by one with the model's arrays.
PMML_KINDS = {"linear_regression", "ridge", "lasso", "elastic_net", "logistic_regression", "softmax_regression", "kmeans",
              "naive_bayes", "decision_tree", "random_forest", "gradient_boosting"}
PMML_ARRAY_KINDS = {"linear_regression", "ridge", "lasso", "elastic_net", "logistic_regression", "softmax_regression", "kmeans"}
# The PMML evaluator (pmml_eval.py) is Python, not the extension's C: values agree
# to 1e-12 relative (to max(1, |value|)), probabilities to 1e-12 absolute.
PMML_TOL = 1e-12



def check_pmml_predictions(name, alg, task, target, pmml):
    """The PMML document, evaluated by pmml_eval on every row to score, against the SQL functions."""
    ref = f"'{name}'"
    if task == "classification":
        want = {r[0]: r[1:] for r in rows(f"""SELECT id, ml.predict_class({ref}, t), ml.predict_proba({ref}, t)::text
                                               FROM exp_score t""")}
        classes = rows(f"SELECT unnest(ml.classes({ref}))")
        classes = [c[0] for c in classes]
    else:
        want = {r[0]: r[1:] for r in rows(f"SELECT id, ml.predict({ref}, t)::text FROM exp_score t")}
    doc = pmml_eval.Document(pmml)
    bad, ties, worst = [], 0, 0.0
    for rid, raw in raw_rows:
        w = want[rid]
        if task == "classification":
            out = doc.outputs(raw)
            got_p = [out.get(f"probability({c})") for c in classes]
            want_p = [float(x) for x in w[1].strip("{}").split(",")]
            if any(g is None for g in got_p):
                bad.append((rid, "no probability", w))
                continue
            err = max(abs(g - x) for g, x in zip(got_p, want_p))
            worst = max(worst, err)
            if err > PMML_TOL:
                bad.append((rid, got_p, want_p))
            elif out.get(f"predicted({target})") != w[0]:
                top = sorted(want_p, reverse=True)
                if top[0] - top[1] <= PMML_TOL:
                    ties += 1           # a near tie: the class is the engine's rounding
                else:
                    bad.append((rid, out.get(f"predicted({target})"), w[0]))
        else:
            r = doc.evaluate(raw)
            got = None if r is None else r.value
            x = None if w[0] == "" else float(w[0])
            if got is None or x is None:
                if got is not None or x is not None:
                    bad.append((rid, got, x))
                continue
            err = abs(got - x) / max(1.0, abs(x))
            worst = max(worst, err)
            if err > PMML_TOL:
                bad.append((rid, got, x))
    what = "ml.predict_class and ml.predict_proba" if task == "classification" else "ml.predict"
    checks.true(f"{alg}: PMML evaluated independently (pmml_eval.py) agrees with {what} on all {len(raw_rows)} rows "
                f"to {PMML_TOL:g}", not bad and len(raw_rows) == n_score,
                f"largest difference {worst:.3g}; {ties} near ties" + (f"; {len(bad)} differ, first {bad[0]}" if bad else ""))
    if alg in ("decision_tree", "random_forest", "gradient_boosting"):
        # The default directions matter on these rows: with every defaultChild
        # sent the other way, the document predicts differently for some NULLs.
        root = ET.fromstring(pmml.encode("utf-8"))
        for node in root.iter("{http://www.dmg.org/PMML-4_4}Node"):
            kids = [k.get("id") for k in node if k.tag.endswith("}Node")]
            if node.get("defaultChild") is not None:
                node.set("defaultChild", kids[1] if node.get("defaultChild") == kids[0] else kids[0])
        flipped = pmml_eval.Document(ET.tostring(root))
        changed = sum(1 for rid, raw in raw_rows
                      if (lambda a, b: a is None or b is None or a.value != b.value or a.proba != b.proba)(
                          flipped.evaluate(raw), doc.evaluate(raw)))
        checks.true(f"{alg}: NULLs reach the default children (flipping them changes {changed} rows)", changed > 0)
    if alg == "naive_bayes":
        # Either reading of PMML's P(value | class) denominator gives the same numbers.
        dens = pmml_eval.bayes_denominators(pmml)
        checks.true(f"{alg}: each text input's counts per class sum to the BayesOutput count (to 1e-12)",
                    dens and all(abs(a - b) <= 1e-12 * b for per in dens.values() for a, b in per.values()), str(dens)[:300])


csv.field_size_limit(sys.maxsize)  # the header and large exports are one CSV field
checks = Checks()
fresh_database()
# Independent columns; NULLs in x1, city and day; 'unseen' appears only in
# the test split's rows that training never sees (ids over 10000 are scored only).
psql(f"""CREATE TABLE exp_all AS
SELECT i AS id,
       CASE WHEN i % 101 = 0 THEN NULL ELSE sin(i * 0.7) * 3 + (i % 13) * 0.25 END AS x1,
       ((i * 7919) % 1000)::float8 / 100 - 5 AS x2,
       (i * 31) % 7 < 3 AS flag,
       CASE WHEN i % 89 = 0 THEN NULL ELSE (ARRAY['north', 'south', 'east', 'west', 'center'])[(i * 13) % 5 + 1] END AS city,
       CASE WHEN i % 97 = 0 THEN NULL ELSE date '2023-01-01' + (i * 17) % 700 END AS day
FROM generate_series(1, {N_ROWS}) i""")
psql("""ALTER TABLE exp_all ADD COLUMN y float8, ADD COLUMN label text, ADD COLUMN bin integer;
UPDATE exp_all SET y = 2 * coalesce(x1, 0) - 0.5 * x2 + 3 * flag::int
        + coalesce(array_position('{north,south,east,west,center}'::text[], city), 0)
        + 0.01 * coalesce(day - date '2023-01-01', 350) + sin(id * 1.3);
UPDATE exp_all SET label = CASE WHEN y < 4 THEN 'low' WHEN y < 9 THEN 'mid' ELSE 'high' END,
                   bin = (y + 2 * sin(id * 2.1) > 6.5)::int""")
psql("SELECT ml.snapshot('SELECT * FROM exp_all', name => 'exp_all_v1')")
for name, (alg, target, hp, feats) in KINDS.items():
    tgt = "NULL" if target is None else f"'{target}'"
    out, err = psql(f"""SET ml.progress = off; SELECT ml.train_model('{name}', 'snapshot:exp_all_v1', {tgt}, '{alg}',
                        '{json.dumps(hp)}', '{{{",".join(feats)}}}')""", check=False)
    checks.true(f"{alg}: trained on {', '.join(feats)}", not err.strip(), err.strip())
# Rows to score: the training rows, plus ones with values training never saw.
psql("""CREATE TABLE exp_score AS SELECT * FROM exp_all UNION ALL
        SELECT -i, NULL, -i, NULL, 'unseen', date '2030-01-01' - i, NULL, NULL, NULL FROM generate_series(1, 20) i""")
n_score = int(rows("SELECT count(*) FROM exp_score")[0][0])
# Raw column values for the PMML evaluator: numbers as shortest exact decimals,
# booleans 0/1, dates as dates, NULL as None.
raw_rows = []
for r in rows("""SELECT id, coalesce(x1::text, '\\N'), coalesce(x2::text, '\\N'),
                        coalesce(flag::int::text, '\\N'), coalesce(city, '\\N'), coalesce(day::text, '\\N')
                 FROM exp_score ORDER BY id"""):
    v = [None if x == "\\N" else x for x in r[1:]]
    raw_rows.append((r[0], {"x1": None if v[0] is None else float(v[0]), "x2": None if v[1] is None else float(v[1]),
                            "flag": None if v[2] is None else float(v[2]), "city": v[3],
                            "day": None if v[4] is None else datetime.date.fromisoformat(v[4])}))

header = rows("SELECT ml.scorer_header()")[0][0]
gcc = shutil.which("gcc")
checks.true("gcc is available", gcc is not None)
xmllint = shutil.which("xmllint")
tmp = tempfile.mkdtemp(prefix="pg_mlops_export_")
with open(os.path.join(tmp, "pg_mlops_scorer.h"), "w") as f:
    f.write(header)
FLAGS = ["-std=c99", "-O2", "-ffp-contract=off", "-Wall", "-Wextra", "-pedantic", "-Werror", f"-I{tmp}"]
identical = 0
try:
    # The header compiles alone, declarations and definitions.
    impl = os.path.join(tmp, "impl.c")
    with open(impl, "w") as f:
        f.write('#define PGML_SCORER_IMPLEMENTATION\n#include "pg_mlops_scorer.h"\n')
    cc = subprocess.run([gcc or "gcc", *FLAGS, "-c", "-o", os.path.join(tmp, "impl.o"), impl], capture_output=True, text=True)
    checks.true("pg_mlops_scorer.h compiles with -std=c99 -pedantic -Wall -Wextra -Werror", cc.returncode == 0, cc.stderr[:2000])
    for name, (alg, target, hp, feats) in KINDS.items():
        meta = rows(f"SELECT id, task FROM ml.models WHERE name = '{name}'")
        if not meta:
            checks.true(f"{alg}: model exists", False)
            continue
        task = meta[0][1]
        src = rows(f"SELECT ml.export_model('{name}', 'c')")[0][0]
        ident = name
        c_path = os.path.join(tmp, f"{name}.c")
        with open(c_path, "w") as f:
            f.write(src)
        alone = subprocess.run([gcc or "gcc", *FLAGS, "-Wmissing-prototypes", "-c", "-o", os.path.join(tmp, f"{name}.o"), c_path],
                               capture_output=True, text=True)
        checks.true(f"{alg}: the C export compiles alone with -Wmissing-prototypes -Werror", alone.returncode == 0, alone.stderr[:2000])
        exe = os.path.join(tmp, f"score_{name}")
        cc = subprocess.run([gcc or "gcc", *FLAGS, f"-DOPEN={ident}_open", "-o", exe,
                             os.path.join(ROOT, "test/export/driver.c"), c_path, "-lm"], capture_output=True, text=True)
        checks.true(f"{alg}: driver and export link", cc.returncode == 0, cc.stderr[:2000])
        if cc.returncode != 0:
            continue
        # Inputs as raw column values, in the model's input order.
        enc = {"x1": "coalesce(encode(float8send(x1), 'hex'), '\\N')",
               "x2": "coalesce(encode(float8send(x2), 'hex'), '\\N')",
               "flag": "CASE WHEN flag IS NULL THEN '\\N' WHEN flag THEN '1' ELSE '0' END",
               "city": "coalesce(city, '\\N')",
               "day": "coalesce((day - date '1970-01-01')::text, '\\N')"}
        hexlist = "coalesce((SELECT string_agg(encode(float8send(v), 'hex'), ',' ORDER BY o) FROM unnest({}) WITH ORDINALITY u(v, o)), 'NULL')"
        ref = f"'{name}'"
        pred = "'-'" if task == "decomposition" or (task == "classification" and target == "label") \
            else f"coalesce(encode(float8send(ml.predict({ref}, t)), 'hex'), 'NULL')"
        cls = (f"coalesce((array_position(ml.classes({ref}), ml.predict_class({ref}, t)) - 1)::text, 'NULL')"
               if task == "classification" else "'-'")
        proba = hexlist.format(f"ml.predict_proba({ref}, t)") if task == "classification" else "'-'"
        trans = hexlist.format(f"ml.transform({ref}, t)") if task in ("clustering", "decomposition") else "'-'"
        data = rows(f"""SELECT id, {", ".join(enc[c] for c in feats)}, {pred}, {cls}, {proba}, {trans}
                        FROM exp_score t ORDER BY id""")
        inputs = "".join("\t".join(r[1:1 + len(feats)]) + "\n" for r in data)
        run = subprocess.run([exe], input=inputs, capture_output=True, text=True)
        checks.true(f"{alg}: scorer ran", run.returncode == 0, run.stderr[:500])
        got = [line.split("\t") for line in run.stdout.splitlines()]
        want = [r[1 + len(feats):] for r in data]
        same = sum(1 for g, w in zip(got, want) if g == w)
        diff = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), None)
        checks.true(f"{alg}: C export bit-identical to ml.predict/_class/_proba/transform on all {n_score} rows "
                    f"({N_ROWS} training rows and 20 with unseen values)",
                    len(got) == len(want) == n_score and same == n_score,
                    f"{same} of {len(got)} identical" + ("" if diff is None else
                                                         f"; id {data[diff][0]}: C {got[diff]} SQL {want[diff]}"))
        if len(got) == n_score and same == n_score:
            identical += 1
        # Every output is really exercised (not all NULL or '-').
        checks.true(f"{alg}: outputs are numbers, not only NULL",
                    sum(1 for w in want if any(x not in ("-", "NULL") for x in w)) > N_ROWS // 2)

        # JSON: re-imports to the same bytes and identical predictions.
        out, err = psql(f"SET ml.progress = off; SELECT ml.import_model('{name}_copy', ml.export_model('{name}')::jsonb)", check=False)
        checks.true(f"{alg}: JSON export re-imports", not err.strip(), err.strip())
        same_bytes = rows(f"""SELECT a.model = b.model FROM ml.models a, ml.models b
                              WHERE a.name = '{name}' AND b.name = '{name}_copy'""")
        checks.true(f"{alg}: imported bytes identical", same_bytes == [["t"]], str(same_bytes))
        copy = f"'{name}_copy'"
        cmp = [f"{e.replace(ref, copy)} IS NOT DISTINCT FROM {e}" for e in (pred, cls, proba, trans) if e != "'-'"]
        n_same = rows(f"SELECT count(*) FILTER (WHERE {' AND '.join(cmp)}) FROM exp_score t")[0][0]
        checks.true(f"{alg}: imported model's predictions identical on all {n_score} rows", n_same == str(n_score), n_same)

        # PMML where PMML describes the kind.
        out, err = psql(f"SELECT ml.export_model('{name}', 'pmml')", check=False)
        if alg not in PMML_KINDS:
            checks.true(f"{alg}: PMML refused with 0A000 and a reason", "cannot export" in err and "DETAIL" in err, err.strip())
            continue
        pmml = rows(f"SELECT ml.export_model('{name}', 'pmml')")[0][0]
        p_path = os.path.join(tmp, f"{name}.pmml")
        with open(p_path, "w") as f:
            f.write(pmml)
        if xmllint:
            lint = subprocess.run([xmllint, "--noout", p_path], capture_output=True, text=True)
            checks.true(f"{alg}: PMML well-formed (xmllint --noout)", lint.returncode == 0, lint.stderr[:500])
        root = ET.fromstring(pmml.encode("utf-8"))
        ns = {"p": "http://www.dmg.org/PMML-4_4"}
        checks.true(f"{alg}: PMML 4.4 root", root.get("version") == "4.4")
        check_pmml_predictions(name, alg, task, target, pmml)
        if alg not in PMML_ARRAY_KINDS:
            continue
        doc_nums = rows(f"""SELECT v FROM ml.models m, ml._model_document(m.model) d,
                              jsonb_each(d->'arrays') a, jsonb_array_elements_text(a.value->'data') v
                            WHERE m.name = '{name}' AND a.key IN ('coef', 'centroids')""")
        nums = []
        for el in root.iter():
            for attr in ("intercept", "coefficient"):
                if el.get(attr) is not None:
                    nums.append(float(el.get(attr)))
            if el.tag.endswith("Array"):
                nums.extend(float(x) for x in el.text.split())
        want_nums = {float(v[0]) for v in doc_nums}
        extra = {0.0} if alg == "logistic_regression" else set()  # the reference class's zero table
        checks.true(f"{alg}: PMML numbers are the model's exactly",
                    want_nums <= set(nums) and set(nums) - want_nums <= extra,
                    f"{len(nums)} numbers in PMML, {len(want_nums)} distinct in the model")
    checks.true(f"all {len(KINDS)} kinds bit-identical in C on {n_score} rows each", identical == len(KINDS), f"{identical} of {len(KINDS)}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
