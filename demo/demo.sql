-- pg_mlops demo: snapshot -> train -> registry -> promote -> predict -> lineage.
\pset footer off
SET client_min_messages = notice;

\echo
\echo '--- 1. Install the extension: everything lives in schema ml.'
CREATE EXTENSION pg_mlops;

\echo
\echo '--- 2. Freeze the data: an immutable, hashed copy with a deterministic 75/25 train/test split.'
\echo '---    (column b is left out on purpose: it encodes race and has no place in a price model)'
SELECT name, row_count, train_count, test_count, content_hash
FROM ml.snapshot('SELECT id, crim, zn, indus, chas, nox, rm, age, dis, rad, tax, ptratio, lstat, medv FROM houses',
                 name => 'boston_2026_11');

\echo
\echo '--- The snapshot carries a profile of every column (the baseline for drift checks):'
SELECT key AS column_name, (value->>'mean')::numeric(10,3) AS mean, (value->>'stddev')::numeric(10,3) AS stddev,
       (value->>'min')::float8 AS min, (value->>'max')::float8 AS max, value->>'nulls' AS nulls
FROM ml.snapshots, jsonb_each(profile) WHERE name = 'boston_2026_11' AND key IN ('rm', 'lstat', 'ptratio', 'medv');

\echo
\echo '--- 3. Train in parallel workers. Every run becomes a new version in the registry.'
\echo '---    Version 1: three classic predictors.'
SELECT name, version, metrics->'test' AS test_metrics
FROM ml.train_model('house_price', 'snapshot:boston_2026_11', target => 'medv',
                    features => ARRAY['rm', 'lstat', 'ptratio']);
\echo '---    Version 2: every column but the id.'
SELECT name, version, metrics->'test' AS test_metrics
FROM ml.train_model('house_price', 'snapshot:boston_2026_11', target => 'medv',
                    features => ARRAY['crim', 'zn', 'indus', 'chas', 'nox', 'rm', 'age', 'dis', 'rad', 'tax', 'ptratio', 'lstat']);
\echo '---    Version 3: the same with ridge regularization.'
SELECT name, version, metrics->'test' AS test_metrics
FROM ml.train_model('house_price', 'snapshot:boston_2026_11', target => 'medv', algorithm => 'ridge',
                    hyperparams => '{"alpha": 5}',
                    features => ARRAY['crim', 'zn', 'indus', 'chas', 'nox', 'rm', 'age', 'dis', 'rad', 'tax', 'ptratio', 'lstat']);

\echo
\echo '--- 4. The registry: versions, data lineage and metrics, without the model bytes.'
SELECT version, algorithm, n_features, snapshot, round(test_r2::numeric, 3) AS test_r2,
       round(test_rmse::numeric, 3) AS test_rmse, workers, stage
FROM ml.registry WHERE name = 'house_price' ORDER BY version;

\echo
\echo '--- 5. Explain version 2 like a statistics package: coefficients, standard errors, t and p.'
SELECT feature, round(coefficient::numeric, 4) AS coefficient, round(std_error::numeric, 4) AS std_error,
       round(t_stat::numeric, 2) AS t_stat, round(p_value::numeric, 4) AS p_value
FROM ml.explain('house_price@2');

\echo
\echo '--- 6. Promote version 2 to production; house_price now means version 2.'
SELECT name, version, stage FROM ml.promote('house_price', 2);

\echo
\echo '--- 7. Predict: rows are matched to the model features by column name.'
SELECT h.id, h.medv AS actual, round(ml.predict('house_price', h)::numeric, 1) AS predicted
FROM houses h ORDER BY h.id LIMIT 8;

\echo
\echo '--- 8. Try version 3 in production, then roll back to version 2.'
SELECT name, version, stage FROM ml.promote('house_price', 3);
SELECT name, version, stage FROM ml.rollback('house_price');
SELECT version, stage FROM ml.registry WHERE name = 'house_price' ORDER BY version;

\echo
\echo '--- 9. Batch scoring: every house scored into a table; the run and its input profile are recorded.'
SELECT ml.score('house_price', 'houses', 'house_prices_scored', 'id') AS rows_scored;
SELECT id, model, rows, output, round(seconds::numeric, 3) AS seconds FROM ml.scoring_runs;

\echo
\echo '--- 10. Drift: a market where rooms shrink and the neighbourhood status (lstat) worsens.'
CREATE TABLE houses_2030 AS SELECT id, crim, zn, indus, chas, nox, rm * 0.85 AS rm, age, dis, rad, tax, ptratio,
                                   lstat * 1.5 AS lstat, medv FROM houses;
SELECT feature, metric, round(value::numeric, 3) AS value, status
FROM ml.check_drift('house_price', 'houses_2030')
WHERE status <> 'ok' OR feature LIKE '\_%' ORDER BY feature, metric;
SELECT model, drifted_share, verdict, worst_feature, prediction_status FROM ml.drift_summary;

\echo
\echo '--- 11. Lineage: which data trained which model, who promoted it, what it scored, and when.'
SELECT source_kind, source_name, relation, target_kind, target_name, actor
FROM ml.lineage ORDER BY at, relation, target_name;

\echo
\echo '--- 12. The audit log keeps every action.'
SELECT id, action, coalesce(details->>'model', details->>'name') AS subject, details->>'stage' AS stage, actor FROM ml.model_events ORDER BY id;

\echo
\echo '--- 13. Reproducible: the same snapshot and hyperparameters give the same model, bit for bit.'
SELECT version FROM ml.train_model('house_price', 'snapshot:boston_2026_11', target => 'medv',
                                   features => ARRAY['rm', 'lstat', 'ptratio']);
SELECT count(DISTINCT model_hash) = 1 AS identical_models
FROM ml.models WHERE name = 'house_price' AND version IN (1, 4);
