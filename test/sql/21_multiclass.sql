-- Multi-class evaluation and imbalance (issue 17, point 2): one-vs-rest ROC
-- AUC and average precision, weighted means, top-k accuracy, the per-class
-- report; search on any metric; class weights.  The values are checked
-- against scikit-learn in test/reference/check_imbalance_vs_sklearn.py;
-- here the shape, the invariants and the errors.
SET client_min_messages = warning;

-- Four classes, imbalanced, with noise the model does not see (x3).
CREATE TABLE skew AS
SELECT i, sin(i * 0.7)::float8 AS x1, cos(i * 0.31)::float8 AS x2, sin(i * 12.9898)::float8 AS x3
FROM generate_series(1, 800) i;
ALTER TABLE skew ADD COLUMN label text;
UPDATE skew SET label = CASE WHEN x1 + 0.6 * x3 > 1.1 THEN 'rare'
                             WHEN x2 + 0.5 * x3 > 0.9 THEN 'few'
                             WHEN x1 - x2 + 0.4 * x3 > 0.6 THEN 'some'
                             ELSE 'most' END;
SELECT label, count(*) FROM skew GROUP BY 1 ORDER BY 2 DESC;

SELECT version FROM ml.train_model('skew_sm', 'skew', 'label', 'softmax_regression',
                                   '{"alpha": 0.1}', ARRAY['x1', 'x2'], 0.25, 7);

-- Every metric, rounded; AUC and AP in [0, 1], top-2 and top-3 at least accuracy.
SELECT key, round(value::numeric, 6) AS value
FROM jsonb_each_text(ml.evaluate('skew_sm', 'skew')) ORDER BY key;

SELECT (e->>'top_2_accuracy')::float8 >= (e->>'accuracy')::float8 AS top2_ge_accuracy,
       (e->>'top_3_accuracy')::float8 >= (e->>'top_2_accuracy')::float8 AS top3_ge_top2,
       (e->>'roc_auc_ovr_macro')::float8 BETWEEN 0 AND 1 AS auc_in_range
FROM ml.evaluate('skew_sm', 'skew') e;

-- The per-class report: classes in the order of ml.classes, support adds up to rows.
SELECT class, round("precision"::numeric, 6) AS "precision", round(recall::numeric, 6) AS recall,
       round(f1::numeric, 6) AS f1, support, round(roc_auc::numeric, 6) AS roc_auc,
       round(average_precision::numeric, 6) AS average_precision
FROM ml.classification_report('skew_sm', 'skew');
SELECT sum(support) = (ml.evaluate('skew_sm', 'skew')->>'rows')::bigint AS support_adds_up
FROM ml.classification_report('skew_sm', 'skew');

-- Macro means in ml.evaluate are the means of the report's rows.
SELECT abs(avg(r.f1) - (ml.evaluate('skew_sm', 'skew')->>'macro_f1')::float8) < 1e-12 AS macro_f1_is_mean,
       abs(sum(r.f1 * r.support) / sum(r.support) - (ml.evaluate('skew_sm', 'skew')->>'weighted_f1')::float8) < 1e-12
           AS weighted_f1_is_weighted_mean,
       abs(avg(r.roc_auc) - (ml.evaluate('skew_sm', 'skew')->>'roc_auc_ovr_macro')::float8) < 1e-12 AS auc_macro_is_mean
FROM ml.classification_report('skew_sm', 'skew') r;

-- A class absent from the rows: its AUC and AP are NULL, and the means skip it.
SELECT class, support, roc_auc IS NULL AS auc_null, average_precision IS NULL AS ap_null
FROM ml.classification_report('skew_sm', 'SELECT * FROM skew WHERE label <> ''rare''');

-- Binary: average_precision of the second class; no top-k.
SELECT version FROM ml.train_model('skew_bin', 'SELECT x1, x2, label = ''most'' AS most FROM skew',
                                   'most', 'logistic_regression', '{}', NULL, 0.25, 7);
SELECT key FROM jsonb_each(ml.evaluate('skew_bin', 'SELECT x1, x2, label = ''most'' AS most FROM skew'))
ORDER BY key;

-- Errors: not a classifier.
SELECT version FROM ml.train_model('skew_reg', 'skew', 'x3', 'linear_regression', '{}', ARRAY['x1', 'x2'], 0.25, 7);
SELECT * FROM ml.classification_report('skew_reg', 'skew');
