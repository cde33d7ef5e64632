-- Batch scoring, input profiles, drift checks and champion/challenger.
SET ml.progress = off;
CREATE TABLE homes AS
SELECT i AS id, (40 + (i * 37) % 160)::float8 AS area, (1 + i % 5)::int AS rooms, (i % 3 = 0) AS garden,
       50 + 2 * ((i * 37) % 160) + 10 * (i % 5) + 15 * (i % 3 = 0)::int + 5 * sin(i) AS price
FROM generate_series(1, 4000) i;
SELECT version FROM ml.train_model('homes', 'homes', 'price', features => '{area,rooms,garden}');

-- Score into a new table (created), then append, then replace.
SELECT ml.score('homes', 'homes', 'home_scores', 'id');
SELECT count(*) AS rows, count(DISTINCT model) AS models, min(model) AS model, count(DISTINCT scored_at) AS times
FROM home_scores;
SELECT count(*) AS mismatches FROM home_scores s JOIN homes h USING (id)
WHERE s.prediction IS DISTINCT FROM ml.predict('homes', h);
SELECT ml.score('homes', 'SELECT * FROM homes WHERE id <= 100', 'home_scores', key => 'id');
SELECT count(*) FROM home_scores;
SELECT ml.score('homes', 'SELECT * FROM homes WHERE id <= 100', 'home_scores', key => 'id', mode => 'replace');
SELECT count(*) FROM home_scores;
-- Named notation: output_table (0.1.0's "into" was a reserved word); without a key.
SELECT ml.score('homes', 'homes', output_table => 'home_scores_nokey');
SELECT attname FROM pg_attribute WHERE attrelid = 'home_scores_nokey'::regclass AND attnum > 0 ORDER BY attnum;
-- Duplicate keys are written as they come: one output row per source row.
SELECT ml.score('homes', 'SELECT * FROM homes UNION ALL SELECT * FROM homes WHERE id = 1', 'dup_scores', 'id');
SELECT count(*) FROM dup_scores WHERE id = 1;

-- Every run is recorded, with the profile of the inputs it scored.
SELECT id, model, source, output, mode, rows, scored_by = current_user AS by_me, seconds >= 0 AS timed
FROM ml.scoring_runs ORDER BY id;
SELECT (input_profile->>'rows')::int AS rows,
       abs((input_profile #>> '{features,area,mean}')::float8 - (SELECT avg(area) FROM homes)) < 1e-9 AS mean_ok,
       abs((input_profile #>> '{features,area,stddev}')::float8 - (SELECT stddev_samp(area) FROM homes)) < 1e-9 AS stddev_ok,
       (input_profile #>> '{features,area,min}')::float8 AS min, (input_profile #>> '{features,area,max}')::float8 AS max,
       input_profile #> '{features,garden,bin_counts}' AS garden_counts,
       (SELECT sum(x::float8) FROM jsonb_array_elements_text(input_profile #> '{prediction,bin_counts}') x) AS predicted
FROM ml.scoring_runs WHERE id = 1;
-- Bin counts agree with width_bucket over the snapshot's decile edges.
SELECT (SELECT jsonb_agg(n ORDER BY b) FROM (
          SELECT b, count(h.id) AS n FROM generate_series(0, 9) b
          LEFT JOIN homes h ON width_bucket(h.area, (SELECT array_agg(e::float8 ORDER BY o) FROM jsonb_array_elements_text(s.profile #> '{area,decile_edges}') WITH ORDINALITY x(e, o) WHERE o BETWEEN 2 AND 10)) = b
          GROUP BY b) t) = r.input_profile #> '{features,area,bin_counts}' AS bins_agree
FROM ml.scoring_runs r JOIN ml.models m ON m.id = r.model_id JOIN ml.snapshots s ON s.id = m.snapshot_id
WHERE r.id = 1;
-- The profile aggregate gives the same counts in a parallel plan.
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
CREATE TABLE many_homes AS SELECT h.* FROM homes h, generate_series(1, 20);
EXPLAIN (COSTS OFF) SELECT ml._drift_profile(1::bigint, '{}'::jsonb, area, rooms, garden) FROM many_homes h;
SELECT (p #> '{features,area,bin_counts}') = (SELECT jsonb_agg(20 * x::int) FROM jsonb_array_elements_text(r.input_profile #> '{features,area,bin_counts}') x) AS parallel_counts_agree,
       abs((p #>> '{features,area,mean}')::float8 - (r.input_profile #>> '{features,area,mean}')::float8) < 1e-9 AS parallel_mean_agrees
FROM ml.scoring_runs r, ml._input_profile(r.model_id, ml._drift_spec(r.model_id), 'SELECT * FROM public.many_homes') p WHERE r.id = 1;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- Drift: the training data itself shows none.
SELECT feature, metric, round(value::numeric, 6) AS value, status FROM ml.check_drift('homes', 'homes')
WHERE metric IN ('psi', 'js_distance', 'drifted_share', 'rmse') ORDER BY feature, metric;
-- Shifted data: area moves, garden flips, the model's error grows.
CREATE TABLE homes_2027 AS SELECT id, area * 1.4 AS area, rooms, NOT garden AS garden, price * 1.3 AS price FROM homes;
SELECT feature, metric, round(value::numeric, 4) AS value, round(reference::numeric, 4) AS reference, threshold, status
FROM ml.check_drift('homes', 'homes_2027') ORDER BY feature, metric;
-- PSI agrees with the formula computed independently in SQL.
WITH ref AS (SELECT (x::float8) AS r, o FROM ml.snapshots s, jsonb_array_elements_text(s.profile #> '{area,decile_shares}') WITH ORDINALITY t(x, o)
             WHERE s.id = (SELECT snapshot_id FROM ml.models WHERE name = 'homes')),
     edges AS (SELECT array_agg(e::float8 ORDER BY o) AS e FROM ml.snapshots s, jsonb_array_elements_text(s.profile #> '{area,decile_edges}') WITH ORDINALITY x(e, o)
               WHERE s.id = (SELECT snapshot_id FROM ml.models WHERE name = 'homes') AND o BETWEEN 2 AND 10),
     cur AS (SELECT b + 1 AS o, count(h.id)::float8 / 4000 AS c FROM generate_series(0, 9) b
             LEFT JOIN homes_2027 h ON width_bucket(h.area, (SELECT e FROM edges)) = b GROUP BY b)
SELECT abs(sum((greatest(c, 1e-4) - greatest(r, 1e-4)) * ln(greatest(c, 1e-4) / greatest(r, 1e-4)))
           - (SELECT value FROM ml.drift WHERE model = 'homes@1' AND feature = 'area' AND metric = 'psi')) < 1e-12 AS psi_agrees
FROM ref JOIN cur USING (o);

-- NULLs have a bin of their own in PSI: the same values with a fifth of them NULL drift.
SELECT feature, metric, round(value::numeric, 4) AS value, status
FROM ml.check_drift('homes', 'SELECT id, CASE WHEN id % 5 = 0 THEN NULL ELSE area END AS area, rooms, garden FROM homes')
WHERE feature = 'area' AND metric IN ('psi', 'null_rate_change') ORDER BY metric;
SELECT DISTINCT epsilon FROM ml.drift_checks WHERE metric = 'psi';

-- By default the check compares with the inputs of the latest scoring run.
SELECT ml.score('homes', 'homes_2027', 'scores_2027', 'id');
SELECT feature, status FROM ml.check_drift('homes') WHERE metric IN ('psi', 'js_distance', 'drifted_share') ORDER BY feature;

-- Views for dashboards.
SELECT model, feature, metric, status FROM ml.drift WHERE status <> 'ok' ORDER BY feature, metric;
SELECT model, drifted_share, verdict, worst_feature, prediction_status, previous_share, trend FROM ml.drift_summary;
SELECT model, metric, round(value::numeric, 3) > round(training_test_value::numeric, 3) AS worse, status
FROM ml.performance ORDER BY check_id, metric;
SELECT count(DISTINCT check_id) AS checks, count(*) FILTER (WHERE feature = '_dataset') AS verdicts FROM ml.drift_checks;
SELECT action, details->>'verdict' AS verdict FROM ml.model_events WHERE action = 'drift_check' ORDER BY id;

-- Lineage includes every drift check, what was scored and where it went.
SELECT count(*) = (SELECT count(DISTINCT check_id) FROM ml.drift_checks) AS every_check_in_lineage
FROM ml.lineage WHERE relation = 'drift_checked';
SELECT source_kind, source_name, target_kind, target_name, relation FROM ml.lineage
WHERE relation IN ('scored_by', 'wrote') ORDER BY at, relation, source_name, target_name;

-- Champion/challenger: promote only a version that beats production.
SELECT ml.promote_if_better('homes', 1);
SELECT version FROM ml.train_model('homes', 'homes', 'price', features => '{area}');
SELECT ml.promote_if_better('homes', 2);
SELECT version FROM ml.train_model('homes', 'homes', 'price', features => '{area,rooms,garden,id}');
SELECT ml.promote_if_better('homes', 3, 'r2') AS promoted,
       (SELECT (metrics #>> '{test,r2}')::float8 > (SELECT (metrics #>> '{test,r2}')::float8 FROM ml.models WHERE name = 'homes' AND version = 1)
        FROM ml.models WHERE name = 'homes' AND version = 3) AS is_better;
SELECT version, stage FROM ml.models WHERE name = 'homes' ORDER BY version;
SELECT details->>'model' AS candidate, details->>'production' AS production, details->>'metric' AS metric,
       details->>'promoted' AS promoted FROM ml.model_events WHERE action = 'promote_if_better' ORDER BY id;

-- Bad input: clear errors, nothing written.
SELECT count(*) AS runs FROM ml.scoring_runs \gset
CREATE TABLE wrong_shape (id int, score text);
SELECT regress.err($$SELECT ml.score('homes@1', 'homes', 'wrong_shape', 'id')$$);
SELECT regress.err($$SELECT ml.score('homes@1', 'homes', 'new_scores', 'no_such_key')$$);
SELECT regress.err($$SELECT ml.score('homes@1', 'SELECT id, area FROM homes', 'new_scores', 'id')$$);
SELECT regress.err($$SELECT ml.score('homes@1', 'homes', 'new_scores', 'id', 'upsert')$$);
SELECT regress.err($$SELECT ml.score('homes@1', 'no_such_table', 'new_scores')$$);
SELECT regress.err($$SELECT ml.score('homes@1', 'homes', NULL)$$);
SELECT regress.err($$SELECT ml.score('nosuch', 'homes', 'new_scores')$$);
SELECT to_regclass('new_scores') IS NULL AS no_table, count(*) = :runs AS no_run FROM ml.scoring_runs;
SELECT regress.err($$SELECT * FROM ml.check_drift('homes@2')$$);
SELECT regress.err($$SELECT * FROM ml.check_drift('homes@1', 'SELECT id, rooms FROM homes')$$);
SELECT regress.err($$SELECT * FROM ml.check_drift('homes@1', 'SELECT * FROM homes WHERE false')$$);
SELECT regress.err($$SELECT ml.promote_if_better('homes', 2, 'speed')$$);
-- A model whose snapshot has no profile of a feature cannot be checked.
BEGIN;
UPDATE ml.snapshots SET profile = profile - 'area' WHERE id = (SELECT snapshot_id FROM ml.models WHERE name = 'homes' AND version = 2);
SELECT regexp_replace(regress.err($$SELECT * FROM ml.check_drift('homes@2', 'homes')$$), 'snapshot_\d+', 'snapshot_N');
ROLLBACK;
-- Thresholds are settings with bounds.
SELECT regress.err($$SET ml.drift_psi_warn = 'high'$$);
SELECT regress.err($$SET ml.drift_psi_warn = -1$$);
SELECT regress.err($$SET ml.drift_ks_pvalue_alert = 2$$);
SELECT name, setting FROM pg_settings WHERE name LIKE 'ml.drift%' ORDER BY name;
