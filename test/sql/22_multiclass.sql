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

-- Search by any metric the folds are evaluated with, in its direction:
-- the lowest log loss wins; ml.trials names the metric.
SELECT version FROM ml.train_model('skew_sm', 'skew', 'label', 'softmax_regression', '{}', ARRAY['x1', 'x2'], 0.25, 7,
    search => '{"params": {"alpha": [100, 0.1]}, "folds": 3, "score": "log_loss"}');
SELECT t.trial, t.params, t.score_name, t.mean_score = min(t.mean_score) OVER () AS lowest, t.chosen
FROM ml.trials t JOIN ml.models m ON m.id = t.model_id WHERE m.name = 'skew_sm' AND m.version = 2 ORDER BY t.trial;
SELECT version FROM ml.train_model('skew_sm', 'skew', 'label', 'softmax_regression', '{}', ARRAY['x1', 'x2'], 0.25, 7,
    search => '{"params": {"alpha": [100, 0.1]}, "folds": 3, "score": "macro_f1"}');
SELECT t.trial, t.score_name, t.mean_score = max(t.mean_score) OVER () AS highest, t.chosen
FROM ml.trials t JOIN ml.models m ON m.id = t.model_id WHERE m.name = 'skew_sm' AND m.version = 3 ORDER BY t.trial;
-- rmse: a regression's loss, lowest wins
SELECT version FROM ml.train_model('skew_reg', 'skew', 'x3', 'ridge', '{}', ARRAY['x1', 'x2'], 0.25, 7,
    search => '{"params": {"alpha": [1000, 0.01]}, "folds": 3, "score": "rmse"}');
SELECT t.trial, t.score_name, t.mean_score = min(t.mean_score) OVER () AS lowest, t.chosen
FROM ml.trials t JOIN ml.models m ON m.id = t.model_id WHERE m.name = 'skew_reg' AND m.version = 2 ORDER BY t.trial;

-- Errors: an unknown metric, one the folds cannot compute, a binary-only one, not a string.
SELECT ml.train_model('skew_sm', 'skew', 'label', 'softmax_regression', '{}', ARRAY['x1', 'x2'], 0.25, 7,
    search => '{"params": {"alpha": [1]}, "folds": 3, "score": "f1_macro"}');
SELECT ml.train_model('skew_sm', 'skew', 'label', 'softmax_regression', '{}', ARRAY['x1', 'x2'], 0.25, 7,
    search => '{"params": {"alpha": [1]}, "folds": 3, "score": "roc_auc_ovr_macro"}');
SELECT ml.train_model('skew_sm', 'skew', 'label', 'softmax_regression', '{}', ARRAY['x1', 'x2'], 0.25, 7,
    search => '{"params": {"alpha": [1]}, "folds": 3, "score": "f1"}');
SELECT ml.train_model('skew_sm', 'skew', 'label', 'softmax_regression', '{}', ARRAY['x1', 'x2'], 0.25, 7,
    search => '{"params": {"alpha": [1]}, "folds": 3, "score": 1}');
SELECT ml.train_model('skew_reg', 'skew', 'x3', 'ridge', '{}', ARRAY['x1', 'x2'], 0.25, 7,
    search => '{"params": {"alpha": [1]}, "folds": 3, "score": "accuracy"}');

-- class_weight: "balanced" (n / (K * count) over the training rows) raises
-- the recall of the rare classes; the weights are in the summary, the
-- hyperparameters keep what was given, and the aggregate engine and
-- ml.reproduce give the same bits.
SELECT version FROM ml.train_model('skew_bal', 'skew', 'label', 'softmax_regression',
                                   '{"alpha": 0.1, "class_weight": "balanced"}', ARRAY['x1', 'x2'], 0.25, 7);
SELECT hyperparams->'class_weight' AS given, summary->'class_weight' AS weights
FROM ml.models WHERE name = 'skew_bal';
SELECT u.class, round(u.recall::numeric, 4) AS recall_unweighted, round(b.recall::numeric, 4) AS recall_balanced,
       b.recall > u.recall AS higher
FROM ml.classification_report('skew_sm@1', 'skew') u JOIN ml.classification_report('skew_bal', 'skew') b USING (class)
ORDER BY u.support;
SELECT version FROM ml.train_model('skew_bal', 'skew', 'label', 'softmax_regression',
                                   '{"alpha": 0.1, "class_weight": "balanced", "engine": "aggregate"}', ARRAY['x1', 'x2'], 0.25, 7);
SELECT count(DISTINCT model_hash) AS distinct_models, string_agg(summary->>'engine', ', ' ORDER BY version) AS engines
FROM ml.models WHERE name = 'skew_bal';
SELECT identical FROM ml.reproduce('skew_bal@1');
-- a map: classes not named weigh 1
SELECT version FROM ml.train_model('skew_map', 'skew', 'label', 'softmax_regression',
                                   '{"alpha": 0.1, "class_weight": {"rare": 4, "few": 2}}', ARRAY['x1', 'x2'], 0.25, 7);
SELECT summary->'class_weight' FROM ml.models WHERE name = 'skew_map';
-- binary logistic regression, both forms
SELECT version FROM ml.train_model('skew_lbal', 'SELECT x1, x2, label = ''rare'' AS rare FROM skew', 'rare',
                                   'logistic_regression', '{"class_weight": "balanced"}', NULL, 0.25, 7);
SELECT version FROM ml.train_model('skew_lmap', 'SELECT x1, x2, label = ''rare'' AS rare FROM skew', 'rare',
                                   'logistic_regression', '{"alpha": 1, "class_weight": {"true": 3}}', NULL, 0.25, 7);
SELECT name, summary->'class_weight' AS weights, round((metrics #>> '{test,recall}')::numeric, 4) AS test_recall
FROM ml.models WHERE name IN ('skew_bin', 'skew_lbal', 'skew_lmap') ORDER BY name;
-- in a search, "balanced" is computed on each fold's training rows
SELECT version FROM ml.train_model('skew_bal', 'skew', 'label', 'softmax_regression', '{"class_weight": "balanced"}',
    ARRAY['x1', 'x2'], 0.25, 7, search => '{"params": {"alpha": [0.1, 10]}, "folds": 3, "score": "macro_recall"}');
SELECT hyperparams->>'class_weight' AS class_weight, hyperparams->>'alpha' AS alpha FROM ml.models
WHERE name = 'skew_bal' AND version = 3;
SELECT identical FROM ml.reproduce('skew_bal@3');

-- Errors: an unknown class (the classes listed), a bad weight, another form,
-- an algorithm without class weights.
SELECT ml.train_model('skew_map', 'skew', 'label', 'softmax_regression',
                      '{"class_weight": {"Rare": 4}}', ARRAY['x1', 'x2'], 0.25, 7);
SELECT ml.train_model('skew_map', 'skew', 'label', 'softmax_regression',
                      '{"class_weight": {"rare": 0}}', ARRAY['x1', 'x2'], 0.25, 7);
SELECT ml.train_model('skew_map', 'skew', 'label', 'softmax_regression',
                      '{"class_weight": [1, 2]}', ARRAY['x1', 'x2'], 0.25, 7);
SELECT ml.train_model('skew_map', 'skew', 'x3', 'ridge', '{"class_weight": "balanced"}', ARRAY['x1', 'x2'], 0.25, 7);
SELECT ml.train_model('skew_map', 'skew', 'label', 'decision_tree', '{"class_weight": "balanced"}', ARRAY['x1', 'x2'], 0.25, 7);
SELECT ml.train_model('skew_map', 'skew', 'label', 'softmax_regression', '{}', ARRAY['x1', 'x2'], 0.25, 7,
    search => '{"params": {"class_weight": ["balanced"]}, "folds": 3}');
