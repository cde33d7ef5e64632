-- Stored metrics describe the model as stored: for every algorithm the
-- metrics in ml.models.metrics equal ml.evaluate of the registered model on
-- the snapshot's test split (and train split) (issue 17).
--
-- Counts and everything computed from the confusion matrix (accuracy,
-- precision, recall, F1, their macro means) must be equal exactly: both
-- sides count the same predictions.  Sums of floating-point values (RMSE,
-- MAE, R2, explained variance, log loss, inertia) are summed in a different
-- order (training: per chunk in C, then chunks in order; ml.evaluate: SQL
-- aggregates over the scan, R2 as 1 - SSE / SST where training uses
-- running moments) and k-means' ml.evaluate squares the distance that
-- ml.transform returns, so those are compared to 1e-10 relative: a sum of
-- n terms in another order may differ by about n * 2.2e-16, 2e-12 for the
-- 9000 train rows here (measured: at most 1.3e-14).  A model that kept
-- other trees than it was evaluated with is off by far more (before the
-- fix, the early-stopped models below failed both comparisons).
SET client_min_messages = warning;

CREATE TABLE shop AS
SELECT i,
       sin(i * 0.7)::float8 AS x1,
       cos(i * 0.31)::float8 AS x2,
       CASE WHEN i % 29 = 0 THEN NULL ELSE (i % 11)::float8 END AS x3,
       CASE WHEN i % 31 = 0 THEN NULL ELSE (ARRAY['north', 'south', 'east'])[1 + i % 3] END AS region
FROM generate_series(1, 12000) i;
ALTER TABLE shop ADD COLUMN y float8, ADD COLUMN label text, ADD COLUMN bought boolean;
-- noisy targets, so that boosting with a large step overfits and stops early
UPDATE shop SET
    y = 2 * x1 - x2 + 0.1 * coalesce(x3, 5) + CASE region WHEN 'north' THEN 0.5 ELSE 0 END + 1.5 * sin(i * 12.9898),
    label = CASE WHEN x1 + sin(i * 78.233) > 0.5 THEN 'high' WHEN x1 - x2 + sin(i * 37.719) < -0.5 THEN 'low' ELSE 'mid' END,
    bought = x1 - x2 + CASE region WHEN 'east' THEN 0.4 ELSE 0 END + 1.2 * sin(i * 93.989) > 0.1;
SELECT row_count, train_count, test_count FROM ml.snapshot('SELECT x1, x2, x3, region, y, label, bought FROM shop', name => 'shop');
SELECT format('SELECT * FROM %s WHERE _ml_is_test', relation) AS shop_test FROM ml.snapshots WHERE name = 'shop' \gset

-- Stored metrics of a split against ml.evaluate on that split: every stored
-- key present on both sides, exact keys equal, the others within 1e-10.
CREATE FUNCTION regress.metrics_agree(model_ref text, split text)
RETURNS TABLE (keys text, exact_keys_equal boolean, summed_keys_within_1e10 boolean)
LANGUAGE plpgsql AS $$
DECLARE
    stored jsonb;
    evaluated jsonb;
    q text;
BEGIN
    SELECT m.metrics->metrics_agree.split, format('SELECT * FROM %s WHERE %s _ml_is_test', s.relation, CASE metrics_agree.split WHEN 'train' THEN 'NOT' END)
    INTO stored, q FROM ml.models m JOIN ml.snapshots s ON s.id = m.snapshot_id WHERE m.id = ml._resolve_model(model_ref);
    evaluated := ml.evaluate(model_ref, q);
    RETURN QUERY
    SELECT string_agg(s.key, ',' ORDER BY s.key),
           bool_and(e.value IS NOT NULL AND s.value = e.value)
               FILTER (WHERE s.key IN ('rows', 'accuracy', 'precision', 'recall', 'f1', 'macro_precision', 'macro_recall', 'macro_f1')),
           coalesce(bool_and(e.value IS NOT NULL AND abs((s.value::text)::float8 - (e.value::text)::float8)
                                 <= 1e-10 * greatest(1, abs((e.value::text)::float8)))
               FILTER (WHERE s.key NOT IN ('rows', 'accuracy', 'precision', 'recall', 'f1', 'macro_precision', 'macro_recall', 'macro_f1')), true)
    FROM jsonb_each(stored) s LEFT JOIN jsonb_each(evaluated) e ON e.key = s.key
    -- k-means' train metrics also hold the silhouette of a sample, which ml.evaluate does not compute
    WHERE s.key <> 'silhouette';
END $$;

SELECT version FROM ml.train_model('s_linear', 'snapshot:shop', 'y', 'linear_regression');
SELECT version FROM ml.train_model('s_ridge', 'snapshot:shop', 'y', 'ridge', '{"alpha": 3}');
SELECT version FROM ml.train_model('s_lasso', 'snapshot:shop', 'y', 'lasso', '{"alpha": 0.01}');
SELECT version FROM ml.train_model('s_enet', 'snapshot:shop', 'y', 'elastic_net', '{"alpha": 0.01, "l1_ratio": 0.4}');
SELECT version FROM ml.train_model('s_logit', 'snapshot:shop', 'bought', 'logistic_regression', features => '{x1,x2,x3,region}');
SELECT version FROM ml.train_model('s_softmax', 'snapshot:shop', 'label', 'softmax_regression', features => '{x1,x2,x3,region}');
SELECT version FROM ml.train_model('s_nb', 'snapshot:shop', 'label', 'naive_bayes', features => '{x1,x2,x3,region}');
SELECT version FROM ml.train_model('s_kmeans', 'snapshot:shop', NULL, 'kmeans', '{"k": 3, "seed": 5}', '{x1,x2,x3}');
SELECT version FROM ml.train_model('s_pca', 'snapshot:shop', NULL, 'pca', features => '{x1,x2,x3}');
SELECT version FROM ml.train_model('s_dt_reg', 'snapshot:shop', 'y', 'decision_tree', '{"max_depth": 6}', '{x1,x2,x3,region}');
SELECT version FROM ml.train_model('s_dt_cls', 'snapshot:shop', 'label', 'decision_tree', '{"max_depth": 6}', '{x1,x2,x3,region}');
SELECT version FROM ml.train_model('s_rf_reg', 'snapshot:shop', 'y', 'random_forest', '{"n_trees": 10, "max_depth": 6}', '{x1,x2,x3,region}');
SELECT version FROM ml.train_model('s_rf_cls', 'snapshot:shop', 'label', 'random_forest', '{"n_trees": 10, "max_depth": 6}', '{x1,x2,x3,region}');
SELECT version FROM ml.train_model('s_gb_reg', 'snapshot:shop', 'y', 'gradient_boosting', '{"n_trees": 20, "max_depth": 3}', '{x1,x2,x3,region}');
SELECT version FROM ml.train_model('s_gb_bin', 'snapshot:shop', 'bought', 'gradient_boosting', '{"n_trees": 20, "max_depth": 3}', '{x1,x2,x3,region}');
SELECT version FROM ml.train_model('s_gb_multi', 'snapshot:shop', 'label', 'gradient_boosting', '{"n_trees": 20, "max_depth": 3}', '{x1,x2,x3,region}');
-- early stopping: a large step overfits the noise, the best round is kept
SELECT version FROM ml.train_model('s_gb_reg_stop', 'snapshot:shop', 'y', 'gradient_boosting',
                                   '{"n_trees": 300, "max_depth": 6, "learning_rate": 0.8, "early_stopping_rounds": 5}', '{x1,x2,x3,region}');
SELECT version FROM ml.train_model('s_gb_bin_stop', 'snapshot:shop', 'bought', 'gradient_boosting',
                                   '{"n_trees": 300, "max_depth": 6, "learning_rate": 0.8, "early_stopping_rounds": 5}', '{x1,x2,x3,region}');
SELECT version FROM ml.train_model('s_gb_multi_stop', 'snapshot:shop', 'label', 'gradient_boosting',
                                   '{"n_trees": 300, "max_depth": 6, "learning_rate": 0.8, "early_stopping_rounds": 5}', '{x1,x2,x3,region}');

SELECT m.name, m.algorithm, a.*
FROM ml.models m, regress.metrics_agree(m.name, 'test') a
WHERE m.name LIKE 's\_%' AND m.algorithm <> 'pca' ORDER BY m.id;
-- and on the train split
SELECT bool_and(a.exact_keys_equal) AS train_exact_keys_equal, bool_and(a.summed_keys_within_1e10) AS train_summed_keys_within_1e10,
       count(*) AS models
FROM ml.models m, regress.metrics_agree(m.name, 'train') a
WHERE m.name LIKE 's\_%' AND m.algorithm <> 'pca';

-- PCA stores no metrics, and ml.evaluate refuses it.
SELECT metrics FROM ml.models WHERE name = 's_pca';
SELECT regress.err(format('SELECT ml.evaluate(%L, %L)', 's_pca', :'shop_test'));

-- The early-stopped models: rounds grown beyond the kept ones (so the test
-- above compares a trimmed model), the kept trees are the best round's, and
-- the stored test loss is the history's validation loss at that round (RMSE
-- for regression, log loss for classification), not the last round's.
SELECT m.name, (m.summary->>'best_round')::int = (m.summary->>'rounds')::int AS kept_best_round,
       (SELECT max(iteration) FROM ml.training_info(m.name)) > (m.summary->>'best_round')::int AS grew_more_rounds,
       abs(h.valid_loss - coalesce(m.metrics #>> '{test,rmse}', m.metrics #>> '{test,log_loss}')::float8)
           <= 1e-9 * h.valid_loss AS stored_loss_is_best_rounds,
       abs(l.valid_loss - coalesce(m.metrics #>> '{test,rmse}', m.metrics #>> '{test,log_loss}')::float8)
           > 1e-6 * l.valid_loss AS differs_from_last_rounds,
       abs(t.train_loss - (m.summary->>'train_loss')::float8) <= 1e-12 * t.train_loss AS summary_train_loss_is_best_rounds
FROM ml.models m
CROSS JOIN LATERAL (SELECT valid_loss FROM ml.training_info(m.name) WHERE iteration = (m.summary->>'best_round')::int) h
CROSS JOIN LATERAL (SELECT valid_loss FROM ml.training_info(m.name) ORDER BY iteration DESC LIMIT 1) l
CROSS JOIN LATERAL (SELECT train_loss FROM ml.training_info(m.name) WHERE iteration = (m.summary->>'best_round')::int) t
WHERE m.name LIKE 's\_gb\_%\_stop' ORDER BY m.id;

-- The same without parallel workers (the first used them): the scores each
-- chunk keeps and restores give the same model and metrics.
SET ml.max_parallel_workers = 0;
SELECT version FROM ml.train_model('s_gb_multi_stop', 'snapshot:shop', 'label', 'gradient_boosting',
                                   '{"n_trees": 300, "max_depth": 6, "learning_rate": 0.8, "early_stopping_rounds": 5}', '{x1,x2,x3,region}');
RESET ml.max_parallel_workers;
SELECT count(DISTINCT workers) AS worker_counts, count(DISTINCT model_hash) AS same_model, count(DISTINCT metrics) AS same_metrics
FROM ml.models WHERE name = 's_gb_multi_stop';
