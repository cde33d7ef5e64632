-- Tree models: gradient boosting, random forest and decision tree in the
-- parallel engine; scoring, explanation and bad input.
SET client_min_messages = warning;

CREATE TABLE forest AS
SELECT i,
       sin(i * 0.1)::float8 AS a,
       cos(i * 0.37)::float8 AS b,
       CASE WHEN i % 13 = 0 THEN NULL ELSE (i % 20)::float8 END AS c,
       (ARRAY['oak', 'pine', 'birch'])[1 + i % 3] AS species,
       7.0::float8 AS constant
FROM generate_series(1, 40000) i;
ALTER TABLE forest ADD COLUMN height float8, ADD COLUMN tall boolean, ADD COLUMN size text;
UPDATE forest SET
    height = 10 + 3 * a + 2 * b * b + CASE species WHEN 'oak' THEN 2 ELSE 0 END + 0.2 * coalesce(c, 30) + sin(i * 7.1),
    tall = a + b + sin(i * 3.3) > 0.3,
    size = CASE WHEN a > 0.5 THEN 'large' WHEN b > 0.2 THEN 'medium' ELSE 'small' END;
SELECT row_count FROM ml.snapshot('SELECT a, b, c, species, constant, height, tall, size FROM forest', name => 'forest');
SELECT relation AS forest_rel, format('SELECT * FROM %s WHERE _ml_is_test', relation) AS forest_test
FROM ml.snapshots WHERE name = 'forest' \gset

-- Bit-identical models for 0, 1, 2 and 4 workers.
CREATE FUNCTION train_four_ways(name text, target text, algorithm text, hp jsonb) RETURNS TABLE (models bigint, distinct_models bigint, parallel boolean)
LANGUAGE plpgsql AS $$
DECLARE
    w integer;
BEGIN
    FOREACH w IN ARRAY ARRAY[0, 1, 2, 4] LOOP
        PERFORM set_config('ml.max_parallel_workers', w::text, true);
        PERFORM ml.train_model(name, 'snapshot:forest', target, algorithm, hp, '{a,b,c,species,constant}');
    END LOOP;
    RETURN QUERY SELECT count(*), count(DISTINCT model_hash), max(m.workers) > 0 FROM ml.models m WHERE m.name = $1;
END $$;
SELECT 'boosting regression' AS model, * FROM train_four_ways('gb_reg', 'height', 'gradient_boosting', '{"n_trees": 15, "max_depth": 4}')
UNION ALL SELECT 'boosting binary', * FROM train_four_ways('gb_bin', 'tall', 'gradient_boosting', '{"n_trees": 15, "subsample": 0.8, "colsample": 0.8}')
UNION ALL SELECT 'boosting multiclass', * FROM train_four_ways('gb_multi', 'size', 'gradient_boosting', '{"n_trees": 8, "max_depth": 3}')
UNION ALL SELECT 'random forest', * FROM train_four_ways('rf', 'size', 'random_forest', '{"n_trees": 10, "max_depth": 6, "colsample": 0.6}')
UNION ALL SELECT 'decision tree', * FROM train_four_ways('dt', 'height', 'decision_tree', '{"max_depth": 5}')
-- deep: levels of more than 8 histograms, many row groups per chunk, empty children
UNION ALL SELECT 'deep decision tree', * FROM train_four_ways('dt_deep', 'height', 'decision_tree', '{"max_depth": 14}');

-- Tasks from the target, accuracy on the test split.
SELECT name, task, (metrics #>> '{test,r2}')::float8 > 0.8 AS fits,
       (metrics #>> '{test,accuracy}')::float8 > 0.8 AS classifies,
       (metrics #>> '{test,roc_auc}')::float8 > 0.9 AS ranks
FROM ml.models WHERE version = 1 AND name IN ('gb_reg', 'gb_bin', 'gb_multi', 'rf', 'dt') ORDER BY name;
SELECT ml.classes('gb_multi') AS classes;

-- Feature importance; the single-valued column cannot split and is reported.
SELECT feature, source_column, gain > 0 AS used, splits > 0 AS splits FROM ml.explain('gb_reg@1');
SELECT summary->'single_valued_features' AS ignored FROM ml.models WHERE name = 'gb_reg' AND version = 1;
SELECT source_column, features FROM ml.explain_columns('gb_reg@1');

-- NULLs follow each split's learned default direction (no imputation).
SELECT hyperparams->>'impute' AS impute FROM ml.models WHERE name = 'gb_reg' AND version = 1;
SELECT ml.predict('gb_reg@1', s) IS NOT NULL AS scores_missing
FROM (SELECT 0.1::float8 AS a, 0.2::float8 AS b, NULL::float8 AS c, 'oak' AS species, 7.0::float8 AS constant) s;

-- Tree SHAP: contributions plus the base value give the raw prediction.
SELECT count(*) FILTER (WHERE abs(total - ml.predict('gb_reg@1', f)) < 1e-9) AS regression_sums, count(*) AS total
FROM (SELECT f, (SELECT sum(contribution) FROM ml.explain_predict('gb_reg@1', f)) AS total FROM forest f WHERE i <= 300) s;
SELECT count(*) FILTER (WHERE abs(total - ln(p[2] / p[1])) < 1e-9) AS binary_log_odds_sums, count(*) AS total
FROM (SELECT (SELECT sum(contribution) FROM ml.explain_predict('gb_bin@1', f)) AS total, ml.predict_proba('gb_bin@1', f) AS p
      FROM forest f WHERE i <= 300) s;
SELECT count(*) FILTER (WHERE ok) AS multiclass_softmax_of_sums, count(*) AS total
FROM (SELECT f.i, bool_and(abs(exp(m.margin) / z.total - p.p[array_position(ml.classes('gb_multi@1'), m.class)]) < 1e-9) AS ok
      FROM forest f
      CROSS JOIN LATERAL (SELECT class, sum(contribution) AS margin FROM ml.explain_predict('gb_multi@1', f) GROUP BY class) m
      CROSS JOIN LATERAL (SELECT sum(exp(x.margin)) AS total FROM (SELECT sum(contribution) AS margin FROM ml.explain_predict('gb_multi@1', f) GROUP BY class) x) z
      CROSS JOIN LATERAL (SELECT ml.predict_proba('gb_multi@1', f) AS p) p
      WHERE f.i <= 100 GROUP BY f.i) s;
SELECT count(*) FILTER (WHERE abs(total - 1) < 1e-9) AS forest_probabilities_sum_to_one, count(*) AS total
FROM (SELECT (SELECT sum(contribution) FROM ml.explain_predict('rf@1', f)) AS total FROM forest f WHERE i <= 100) s;
SELECT class, feature, round(value::numeric, 6) AS value FROM ml.explain_predict('gb_reg@1', (SELECT f FROM forest f WHERE i = 7)) LIMIT 3;
-- Linear models: coefficient x (value - training mean).
SELECT version FROM ml.train_model('lin_forest', 'snapshot:forest', 'height', 'ridge', '{"alpha": 0.1}', '{a,b,c,species}');
SELECT count(*) FILTER (WHERE abs(total - ml.predict('lin_forest', f)) < 1e-9) AS linear_sums, count(*) AS total
FROM (SELECT f, (SELECT sum(contribution) FROM ml.explain_predict('lin_forest', f)) AS total FROM forest f WHERE i <= 300) s;

-- Early stopping on the test split keeps the best round.
SELECT version FROM ml.train_model('stopped', 'snapshot:forest', 'height', 'gradient_boosting',
                                   '{"n_trees": 300, "learning_rate": 0.9, "max_depth": 6, "early_stopping_rounds": 3}', '{a,b,c,species}');
SELECT (summary->>'rounds')::int < 300 AS stopped_early, (summary->>'rounds')::int = (summary->>'best_round')::int AS kept_best,
       (SELECT count(*) FROM ml.training_info('stopped')) = (summary->>'best_round')::int + 4 AS history_rows
FROM ml.models WHERE name = 'stopped';

SELECT count(*) AS models_before FROM ml.models \gset
-- Bad input: clear errors, nothing registered.
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:forest', 'height', 'gradient_boosting', '{"max_depth": 0}')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:forest', 'height', 'gradient_boosting', '{"max_depth": 21}')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:forest', 'height', 'gradient_boosting', '{"learning_rate": 0}')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:forest', 'height', 'gradient_boosting', '{"max_bins": 256}')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:forest', 'height', 'gradient_boosting', '{"subsample": 0}')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:forest', 'height', 'gradient_boosting', '{"subsample": 1.5}')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:forest', 'constant', 'gradient_boosting', features => '{a,b}')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:forest', 'size', 'random_forest', '{"max_classes": 2}')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:forest', 'height', 'random_forest', '{"impute": "error"}')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:forest', 'height', 'decision_tree', '{"n_trees": 5}')$$);
-- Trees keep their binned rows in memory: beyond ml.work_mem, a clear error.
SET ml.work_mem = '1MB';
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:forest', 'height', 'gradient_boosting', '{"n_trees": 2}')$$);
RESET ml.work_mem;
SELECT count(*) - :models_before AS registered_by_failures FROM ml.models;
-- The per-row state of a fit (bins, scores, gradients) is counted against
-- ml.work_mem and emptied when the next fit starts: a search of 6 fits (3
-- trials x 2 folds) fits in the memory of about one (one fit needs more than
-- 4 MB here, so six fits' state kept together would need far more than 5 MB).
SET ml.max_parallel_workers = 0;
SET ml.work_mem = '4MB';
SELECT regress.err($$SELECT ml.train_model('memsearch', 'snapshot:forest', 'height', 'gradient_boosting', '{"n_trees": 2, "max_depth": 3}', '{a,b,c,species,constant}')$$) LIKE '54000:%' AS one_fit_needs_more_than_4mb;
SET ml.work_mem = '5MB';
SELECT version FROM ml.train_model('memsearch', 'snapshot:forest', 'height', 'gradient_boosting', '{"n_trees": 2}', '{a,b,c,species,constant}',
                                   search => '{"method": "grid", "params": {"max_depth": [2, 3, 4]}, "folds": 2}');
RESET ml.max_parallel_workers;
RESET ml.work_mem;

-- "task" names what a tree predicts: a 0/1 integer target is a regression
-- unless it asks for classification; other algorithms' tasks are fixed.
CREATE TABLE flags AS SELECT i, sin(i) AS a, cos(i * 0.7) AS b, (sin(i) + cos(i * 0.7) > 0.2)::int AS flag
FROM generate_series(1, 2000) i;
SELECT row_count FROM ml.snapshot('SELECT a, b, flag FROM flags', name => 'flags');
SELECT version FROM ml.train_model('flag_reg', 'snapshot:flags', 'flag', 'gradient_boosting', '{"n_trees": 10}');
SELECT version FROM ml.train_model('flag_cls', 'snapshot:flags', 'flag', 'random_forest', '{"n_trees": 10, "task": "classification"}');
SELECT name, task, hyperparams->>'task' AS asked, metrics->'test' ? 'accuracy' AS has_accuracy,
       (metrics #>> '{test,accuracy}')::float8 > 0.9 AS classifies
FROM ml.models WHERE name IN ('flag_reg', 'flag_cls') ORDER BY name;
SELECT ml.classes('flag_cls') AS classes;
SELECT model_ref, identical FROM ml.reproduce('flag_cls');
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:flags', 'flag', 'gradient_boosting', '{"task": "ranking"}')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:flags', 'flag', 'logistic_regression', '{"task": "regression"}')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:forest', 'species', 'decision_tree', '{"task": "regression"}')$$);

-- explain_predict explains linear models and trees only.
SELECT version FROM ml.train_model('km_forest', 'snapshot:forest', NULL, 'kmeans', '{"k": 2, "n_init": 1}', '{a,b}');
SELECT regress.err($$SELECT * FROM ml.explain_predict('km_forest', (SELECT f FROM forest f LIMIT 1))$$);
