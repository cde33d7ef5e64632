-- The algorithm suite: preprocessing, every algorithm through the parallel
-- engine, scoring per task, evaluation, search, and bad input.
SET client_min_messages = warning;

CREATE TABLE people AS
SELECT i,
       sin(i)::float8 AS x1,
       cos(i * 0.37)::float8 AS x2,
       CASE WHEN i % 17 = 0 THEN NULL ELSE (i % 50)::integer END AS n,
       CASE WHEN i % 23 = 0 THEN NULL ELSE (ARRAY['red', 'green', 'blue', 'grey'])[1 + i % 4] END AS color,
       (i % 3 = 0) AS flag,
       date '2020-01-01' + (i % 365) AS d
FROM generate_series(1, 60000) i;
ALTER TABLE people ADD COLUMN y float8, ADD COLUMN label text, ADD COLUMN bin boolean;
UPDATE people SET
    y = 1 + 2 * x1 - x2 + 0.01 * coalesce(n, 25) + CASE color WHEN 'red' THEN 0.5 WHEN 'blue' THEN -0.3 ELSE 0 END
        + 0.2 * flag::int + sin(i * 7.7) * 0.1,
    label = CASE WHEN x1 + 0.3 * sin(i * 3.1) > 0.4 THEN 'high' WHEN x1 - x2 < -0.5 THEN 'low' ELSE 'mid' END,
    bin = 2 * x1 - x2 + CASE color WHEN 'red' THEN 1 ELSE 0 END + sin(i * 5.3) > 0.2;
SELECT row_count FROM ml.snapshot('SELECT x1, x2, n, color, flag, d, y, label, bin FROM people', name => 'people');

SELECT count(*) AS models_before FROM ml.models \gset
SELECT relation AS people_rel, format('SELECT * FROM %s WHERE _ml_is_test', relation) AS people_test FROM ml.snapshots WHERE name = 'people' \gset

-- Bit-identical models for 0, 1, 2 and 4 workers and without kept rows, for every algorithm.
CREATE FUNCTION train_four_ways(name text, target text, algorithm text, hp jsonb, features text[]) RETURNS TABLE (models bigint, distinct_models bigint, parallel boolean)
LANGUAGE plpgsql AS $$
DECLARE
    w integer;
BEGIN
    FOREACH w IN ARRAY ARRAY[0, 1, 2, 4] LOOP
        PERFORM set_config('ml.max_parallel_workers', w::text, true);
        PERFORM ml.train_model(name, 'snapshot:people', target, algorithm, hp, features);
    END LOOP;
    PERFORM set_config('ml.work_mem', '1MB', true);
    PERFORM ml.train_model(name, 'snapshot:people', target, algorithm, hp, features);
    RETURN QUERY SELECT count(*), count(DISTINCT model_hash), max(m.workers) > 0 FROM ml.models m WHERE m.name = $1;
END $$;
SELECT 'lasso' AS algorithm, * FROM train_four_ways('d_lasso', 'y', 'lasso', '{"alpha": 0.01}', NULL)
UNION ALL SELECT 'elastic_net', * FROM train_four_ways('d_en', 'y', 'elastic_net', '{"alpha": 0.01, "l1_ratio": 0.3}', '{x1,x2,n,color}')
UNION ALL SELECT 'logistic_regression', * FROM train_four_ways('d_logit', 'bin', 'logistic_regression', '{}', '{x1,x2,n,color,flag,d}')
UNION ALL SELECT 'softmax_regression', * FROM train_four_ways('d_soft', 'label', 'softmax_regression', '{"alpha": 0.1}', '{x1,x2,color}')
UNION ALL SELECT 'kmeans', * FROM train_four_ways('d_km', NULL, 'kmeans', '{"k": 4, "n_init": 3}', '{x1,x2}')
UNION ALL SELECT 'pca', * FROM train_four_ways('d_pca', NULL, 'pca', '{}', '{x1,x2,n,flag}')
UNION ALL SELECT 'naive_bayes', * FROM train_four_ways('d_nb', 'label', 'naive_bayes', '{}', '{x1,x2,color,flag}');

-- Preprocessing stored in the model: one-hot with a reference level for
-- unpenalized linear models, imputed numbers, booleans and dates as numbers.
SELECT feature, source_column FROM ml.explain('d_logit');
SELECT summary->'features' AS features FROM ml.models WHERE name = 'd_en' AND version = 1;
SELECT (hyperparams->>'impute') AS impute, jsonb_array_length(summary->'coefficients') AS terms
FROM ml.models WHERE name = 'd_logit' AND version = 1;
-- An unseen category and a NULL category both encode as all zeros.
SELECT ml.predict('d_en', s1) = ml.predict('d_en', s2) AS unseen_is_null
FROM (SELECT 0.1::float8 AS x1, 0.2::float8 AS x2, 7 AS n, 'purple' AS color) s1,
     (SELECT 0.1::float8 AS x1, 0.2::float8 AS x2, 7 AS n, NULL::text AS color) s2;
-- A NULL number takes the train split's mean.
SELECT ml.predict('d_en', s1) = ml.predict('d_en', s2) AS null_is_train_mean
FROM (SELECT 0.1::float8 AS x1, 0.2::float8 AS x2, NULL::integer AS n, 'red' AS color) s1,
     (SELECT 0.1::float8 AS x1, 0.2::float8 AS x2, avg(n)::float8 AS n, 'red' AS color
      FROM :people_rel WHERE NOT _ml_is_test) s2;
-- A cap on categories groups the rest as (other).
SELECT version FROM ml.train_model('capped', 'snapshot:people', 'y', 'ridge', '{"max_categories": 2}', '{x1,color}');
SELECT summary->'features' AS capped FROM ml.models WHERE name = 'capped';

-- Scoring for every task.
SELECT ml.classes('d_soft') AS classes, ml.classes('d_logit') AS binary_classes;
SELECT count(*) FILTER (WHERE abs((SELECT sum(x) FROM unnest(p) x) - 1) < 1e-12) AS sums_to_one,
       count(*) FILTER (WHERE c = (ml.classes('d_soft'))[(SELECT i FROM generate_subscripts(p, 1) i ORDER BY p[i] DESC, i LIMIT 1)]) AS class_is_argmax,
       count(*) AS total
FROM (SELECT ml.predict_proba('d_soft', p) AS p, ml.predict_class('d_soft', p) AS c FROM people p LIMIT 2000) s;
SELECT count(*) FILTER (WHERE (ml.predict('d_logit', p) = 1) = (ml.predict_class('d_logit', p) = 'true')) AS numeric_label_agrees,
       count(*) FILTER (WHERE ((ml.predict_proba('d_logit', p))[2] > 0.5) = (ml.predict('d_logit', p) = 1)) AS threshold_half,
       count(*) AS total
FROM people p WHERE i <= 2000;
SELECT count(*) FILTER (WHERE ml.predict('d_km', p) + 1 = (SELECT i FROM generate_subscripts(t, 1) i ORDER BY t[i], i LIMIT 1)) AS nearest_centroid,
       count(*) FILTER (WHERE cardinality(t) = 4) AS four_distances, count(*) AS total
FROM (SELECT p, ml.transform('d_km', p) AS t FROM people p WHERE i <= 2000) s;
SELECT cardinality(ml.transform('d_pca', p)) AS components FROM people p LIMIT 1;
SELECT regress.err($$SELECT ml.predict('d_soft', p) FROM people p LIMIT 1$$);
SELECT regress.err($$SELECT ml.predict('d_pca', p) FROM people p LIMIT 1$$);
SELECT regress.err($$SELECT ml.predict_proba('d_lasso', p) FROM people p LIMIT 1$$);
SELECT regress.err($$SELECT ml.predict_class('d_km', p) FROM people p LIMIT 1$$);
SELECT regress.err($$SELECT ml.transform('d_logit', p) FROM people p LIMIT 1$$);
SELECT regress.err($$SELECT ml.classes('d_lasso')$$);

-- Summaries.
SELECT jsonb_array_length(summary->'coefficients') AS terms, summary ? 'log_likelihood' AS loglik,
       summary ? 'pseudo_r2' AS pseudo_r2, (summary->>'converged')::boolean AS converged,
       (SELECT bool_and(c ? 'z' AND c ? 'odds_ratio' AND c ? 'std_error') FROM jsonb_array_elements(summary->'coefficients') c) AS inference
FROM ml.models WHERE name = 'd_logit' AND version = 1;
SELECT (SELECT sum(x::float8) FROM jsonb_array_elements_text(summary->'cluster_sizes') x) = (summary->>'rows_used')::float8 AS sizes_add_up,
       (summary->>'silhouette')::float8 BETWEEN -1 AND 1 AS silhouette_in_range, metrics->'train' ? 'inertia' AS inertia
FROM ml.models WHERE name = 'd_km' AND version = 1;
SELECT jsonb_array_length(summary->'explained_variance') AS components,
       (SELECT abs(sum(x::float8) - 1) < 1e-12 FROM jsonb_array_elements_text(summary->'explained_variance_ratio') x) AS ratios_sum_to_one
FROM ml.models WHERE name = 'd_pca' AND version = 1;
SELECT metrics->'test' ? 'roc_auc' AS auc, metrics->'test' ? 'log_loss' AS log_loss, metrics->'test' ? 'f1' AS f1,
       (metrics #>> '{test,accuracy}')::float8 > 0.8 AS accurate
FROM ml.models WHERE name = 'd_logit' AND version = 1;

-- Per-iteration history: Newton steps shrink to nothing, the loss falls.
SELECT count(*) > 2 AS iterations, bool_and(train_loss IS NOT NULL AND valid_loss IS NOT NULL) AS losses,
       (array_agg(step ORDER BY iteration DESC))[1] < 1e-8 AS last_step_tiny,
       (array_agg(train_loss ORDER BY iteration))[1] > (array_agg(train_loss ORDER BY iteration DESC))[1] AS loss_fell
FROM ml.training_info('d_logit@1');

-- Evaluation on any labeled query agrees with the stored test metrics.
SELECT abs((ml.evaluate('d_logit@1', :'people_test')->>'accuracy')::float8
           - (metrics #>> '{test,accuracy}')::float8) < 1e-12 AS accuracy_agrees,
       abs((ml.evaluate('d_logit@1', :'people_test')->>'roc_auc')::float8
           - (metrics #>> '{test,roc_auc}')::float8) < 1e-12 AS auc_agrees,
       abs((ml.evaluate('d_logit@1', :'people_test')->>'log_loss')::float8
           - (metrics #>> '{test,log_loss}')::float8) < 1e-9 AS log_loss_agrees
FROM ml.models WHERE name = 'd_logit' AND version = 1;
SELECT abs((ml.evaluate('d_lasso@1', :'people_test')->>'r2')::float8
           - (metrics #>> '{test,r2}')::float8) < 1e-9 AS r2_agrees
FROM ml.models WHERE name = 'd_lasso' AND version = 1;
SELECT count(*) AS cells, sum(count) AS rows FROM ml.confusion_matrix('d_soft@1', :'people_test');
SELECT sum(count) FILTER (WHERE actual = predicted)::float8 / sum(count) = (ml.evaluate('d_soft@1', :'people_test')->>'accuracy')::float8 AS diagonal_is_accuracy
FROM ml.confusion_matrix('d_soft@1', :'people_test');
SELECT min(false_positive_rate) = 0 AND max(false_positive_rate) = 1 AND max(true_positive_rate) = 1 AS spans_unit_square,
       bool_and(true_positive_rate >= 0) AS rates_ok, count(*) > 100 AS points
FROM ml.roc_curve('d_logit@1', :'people_test');

-- Hyperparameter search: trials on folds of the train split, the best refit.
SELECT version FROM ml.train_model('searched', 'snapshot:people', 'y', 'ridge', features => '{x1,x2,color}',
                                   search => '{"method": "grid", "params": {"alpha": [0.001, 10, 100000]}, "folds": 3}');
SELECT t.trial, t.params, t.score_name, cardinality(t.fold_scores) AS folds, t.chosen,
       t.mean_score = max(t.mean_score) OVER () AS best
FROM ml.trials t JOIN ml.models m ON m.id = t.model_id WHERE m.name = 'searched' ORDER BY t.trial;
SELECT hyperparams->'alpha' AS chosen_alpha FROM ml.models WHERE name = 'searched';
SELECT version FROM ml.train_model('searched_random', 'snapshot:people', 'label', 'naive_bayes',
       search => '{"method": "random", "params": {"var_smoothing": [1e-9, 1e-6, 1e-3, 1], "smoothing": [0.5, 1]}, "n_iter": 3, "folds": 2}');
SELECT count(*) AS trials, count(*) FILTER (WHERE chosen) AS chosen
FROM ml.trials t JOIN ml.models m ON m.id = t.model_id WHERE m.name = 'searched_random';
SELECT identical FROM ml.reproduce('searched');

SELECT count(*) - :models_before AS models_so_far FROM ml.models \gset

-- Bad input: clear errors, nothing registered.
CREATE TABLE one_class AS SELECT i::float8 AS x, 'yes' AS label FROM generate_series(1, 50) i;
SELECT regexp_replace(regress.err($$SELECT ml.train_model('bad', 'one_class', 'label', 'logistic_regression')$$), 'snapshot_\d+', 'snapshot_N', 'g') AS err;
CREATE TABLE many_classes AS SELECT i::float8 AS x, (i % 30)::text AS label FROM generate_series(1, 300) i;
SELECT regress.err($$SELECT ml.train_model('bad', 'many_classes', 'label', 'softmax_regression', '{"max_classes": 20}')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'many_classes', 'label', 'logistic_regression')$$);
SELECT regexp_replace(regress.err($$SELECT ml.train_model('bad', 'one_class', NULL, 'kmeans', '{"k": 100}')$$), 'snapshot_\d+', 'snapshot_N', 'g') AS err;
SELECT regress.err($$SELECT ml.train_model('bad', 'one_class', 'label', 'linear_regression')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'one_class', 'x', 'kmeans')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'one_class', NULL, 'logistic_regression')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:people', 'bin', 'logistic_regression', '{"k": 3}')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:people', 'bin', 'logistic_regression', '{"impute": "error"}')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:people', 'y', 'ridge', search => '{"params": {"alpha": []}}')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:people', 'y', 'ridge', search => '{"params": {"alpha": [1]}, "fold": 3}')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:people', 'y', 'ridge', search => '{"params": {"alpha": [1]}, "folds": 1}')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:people', NULL, 'pca', '{"n_components": 9}', '{x1,x2}')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:people', NULL, 'pca', search => '{"params": {"n_components": [1]}}')$$);
SELECT count(*) - :models_before - :models_so_far AS registered_by_failures FROM ml.models;

-- Non-convergence is a warning with the iteration count; the model is registered and usable.
SET client_min_messages = warning;
SELECT version FROM ml.train_model('slow', 'snapshot:people', 'bin', 'logistic_regression', '{"max_iter": 2}', '{x1,x2}');
SELECT (summary->>'converged')::boolean AS converged, (summary->>'iterations')::int AS iterations FROM ml.models WHERE name = 'slow';
SELECT ml.predict_proba('slow', p) IS NOT NULL AS usable FROM people p LIMIT 1;
-- A NULL in a column trained with "impute": "error" is refused at scoring too.
SELECT version FROM ml.train_model('strict', 'SELECT x1, x2, y FROM people', 'y', 'ridge', '{"impute": "error"}');
SELECT regress.err($$SELECT ml.predict('strict', s) FROM (SELECT NULL::float8 AS x1, 1::float8 AS x2) s$$);

-- Scoring a classifier writes labels and probabilities; drift checks its accuracy.
SELECT ml.score('d_soft@1', 'SELECT * FROM people WHERE i <= 1000', 'soft_scores');
SELECT count(*) AS scored, count(*) FILTER (WHERE predicted_class IN ('high', 'low', 'mid') AND cardinality(probabilities) = 3) AS labeled
FROM soft_scores;
SELECT metric FROM ml.check_drift('d_soft@1', 'SELECT * FROM people WHERE i <= 2000') WHERE feature = '_performance' ORDER BY 1;

-- Evaluation functions refuse what they cannot do.
SELECT regress.err($$SELECT * FROM ml.confusion_matrix('d_lasso@1', 'SELECT * FROM people')$$);
SELECT regress.err($$SELECT * FROM ml.roc_curve('d_logit@1', 'SELECT * FROM people', 'maybe')$$);
SELECT regress.err($$SELECT ml.evaluate('d_logit@1', 'SELECT x1, x2 FROM people')$$);
SELECT regress.err($$SELECT ml.evaluate('d_pca@1', 'SELECT * FROM people')$$);
SELECT regress.err($$SELECT * FROM ml.explain('d_km@1')$$);
