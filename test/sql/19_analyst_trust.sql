-- Models an analyst can trust (issue 17): a search runs its grid in the
-- order given, hints name every algorithm that fits, a training that cannot
-- work fails before copying anything, registry calls return a compact row,
-- and a 0/1 integer target tells which task a tree chose.
SET client_min_messages = warning;
SET ml.progress = off;

CREATE TABLE visits AS
SELECT i,
       sin(i * 0.9)::float8 AS x1,
       cos(i * 0.23)::float8 AS x2,
       (ARRAY['web', 'store', 'phone'])[1 + i % 3] AS channel
FROM generate_series(1, 2000) i;
ALTER TABLE visits ADD COLUMN spend float8, ADD COLUMN returned integer, ADD COLUMN rating integer,
                   ADD COLUMN segment text;
UPDATE visits SET
    spend = 3 * x1 - x2 + CASE channel WHEN 'web' THEN 1 ELSE 0 END + 0.3 * sin(i * 17.3),
    returned = (x1 + 0.5 * sin(i * 5.1) > 0.2)::integer,
    rating = 1 + (i % 3),
    segment = CASE WHEN x1 > 0.3 THEN 'a' WHEN x2 > 0 THEN 'b' ELSE 'c' END;
SELECT row_count FROM ml.snapshot('SELECT x1, x2, channel, spend, returned, rating, segment FROM visits', name => 'visits_snap');

-- 1. A grid runs each key's values in the order given (keys by name, the
-- last varying fastest), and the first of tied trials wins: max_categories
-- cannot change a model whose text column has 3 categories, so each pair of
-- trials ties and the first listed of the best pair is chosen.
SELECT version FROM ml.train_model('g_ridge', 'snapshot:visits_snap', 'spend', 'ridge', features => '{x1,x2,channel}',
                                   search => '{"params": {"alpha": [10, 0.001, 100000], "max_categories": [60, 50]}, "folds": 3}');
SELECT t.trial, t.params, t.chosen,
       t.mean_score = lag(t.mean_score) OVER (ORDER BY t.trial) AND t.trial % 2 = 0 AS ties_previous
FROM ml.trials t JOIN ml.models m ON m.id = t.model_id WHERE m.name = 'g_ridge' ORDER BY t.trial;
SELECT hyperparams->'alpha' AS alpha, hyperparams->'max_categories' AS max_categories FROM ml.models WHERE name = 'g_ridge';
-- a single key, listed out of order
SELECT string_agg(t->>'alpha', ', ' ORDER BY o) AS trial_order
FROM jsonb_array_elements((ml._search_trials('{"params": {"alpha": [3, 1, 2, 0.5]}}', '{}', 0)).trials) WITH ORDINALITY x(t, o);

-- 2. A text target for a regression: the hint names every algorithm that
-- takes a label (every classifier and every tree, as C lists them).
SELECT regress.err($$SELECT ml.train_model('bad', 'snapshot:visits_snap', 'segment', 'linear_regression')$$) AS err \gset
SELECT :'err';
SELECT a AS algorithm, position(a IN :'err') > 0 AS named_in_hint
FROM unnest(string_to_array(substring(regress.err($$SELECT ml._algorithm_task('nosuch')$$) FROM 'Available algorithms: (.*)\.$'), ', ')) a
WHERE ml._algorithm_task(a) IN ('classification', 'tree') ORDER BY a;

-- 3. A training on a table checks its target and features before it copies
-- anything: no snapshot row, no relation in ml_data, no snapshot id used,
-- and no "copying rows" notice (progress notices on).
SELECT count(*) AS snapshots_before FROM ml.snapshots \gset
SELECT count(*) AS data_relations_before FROM pg_class WHERE relnamespace = 'ml_data'::regnamespace \gset
SELECT last_value AS seq_before, is_called AS called_before FROM ml.snapshots_id_seq \gset
SET client_min_messages = notice;
SET ml.progress = on;
SELECT regress.err($$SELECT ml.train_model('bad', 'visits', 'segment', 'ridge')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'visits', 'no_such_column')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'SELECT x1, segment FROM visits', 'segment', 'lasso')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'visits', 'segment', 'decision_tree', '{"task": "regression"}')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'visits', 'spend', 'kmeans')$$);
SELECT regress.err($$SELECT ml.train_model('bad', 'visits', 'spend', features => '{x1,nope}')$$);
SET ml.progress = off;
SET client_min_messages = warning;
SELECT count(*) - :snapshots_before AS new_snapshots,
       (SELECT count(*) FROM pg_class WHERE relnamespace = 'ml_data'::regnamespace) - :data_relations_before AS new_data_relations,
       (SELECT last_value = :seq_before AND is_called = :'called_before'::boolean FROM ml.snapshots_id_seq) AS no_snapshot_id_used,
       (SELECT count(*) FROM ml.models WHERE name = 'bad') AS models
FROM ml.snapshots;
-- a usable training on the same table still snapshots and trains
SELECT version FROM ml.train_model('ok', 'visits', 'spend', 'ridge', features => '{x1,x2}');

-- 4. ml.promote, ml.archive, ml.rollback and ml.delete_model return a
-- compact ml.model_version, not the model row with its bytes and history.
SELECT p.proname, pg_get_function_result(p.oid) AS returns
FROM pg_proc p WHERE p.pronamespace = 'ml'::regnamespace AND p.proname IN ('promote', 'archive', 'rollback', 'delete_model')
ORDER BY p.proname;
SELECT string_agg(attname, ', ' ORDER BY attnum) AS model_version_columns
FROM pg_attribute WHERE attrelid = 'ml.model_version'::regclass AND attnum > 0;
SELECT version FROM ml.train_model('ok', 'snapshot:visits_snap', 'spend', 'ridge', '{"alpha": 2}', features => '{x1,x2}');
CREATE TABLE returned_rows AS
SELECT 'promote 1' AS call, ml.promote('ok', 1) AS r
UNION ALL SELECT 'promote 2', ml.promote('ok', 2);
INSERT INTO returned_rows SELECT 'rollback', ml.rollback('ok');
INSERT INTO returned_rows SELECT 'archive 2', ml.archive('ok', 2);
INSERT INTO returned_rows SELECT 'delete 2', ml.delete_model('ok@2');
SELECT call, (r).name, (r).version, (r).stage, (r).task, (r).algorithm,
       (r).model_hash = m.model_hash AS hash_matches, (r).trained_at = m.trained_at AS trained_at_matches,
       (r).deleted_at IS NOT NULL AS deleted, (r).deleted_by = current_user AS deleted_by_me,
       length(r::text) < 250 AS compact
FROM returned_rows JOIN ml.models m ON m.id = (r).id ORDER BY call;

-- 5. An integer target holding only 0 and 1 trains a tree as a regression
-- unless "task" says otherwise; a NOTICE says so and how to choose.
SET client_min_messages = notice;
SELECT version FROM ml.train_model('zo', 'snapshot:visits_snap', 'returned', 'decision_tree', '{"max_depth": 3}', '{x1,x2}');
-- chosen explicitly, either way: no notice
SELECT version FROM ml.train_model('zo', 'snapshot:visits_snap', 'returned', 'decision_tree', '{"max_depth": 3, "task": "classification"}', '{x1,x2}');
SELECT version FROM ml.train_model('zo', 'snapshot:visits_snap', 'returned', 'random_forest', '{"n_trees": 3, "max_depth": 3, "task": "regression"}', '{x1,x2}');
-- other integers, and non-tree algorithms: no notice
SELECT version FROM ml.train_model('zo', 'snapshot:visits_snap', 'rating', 'decision_tree', '{"max_depth": 3}', '{x1,x2}');
SELECT version FROM ml.train_model('zo', 'snapshot:visits_snap', 'returned', 'ridge', features => '{x1,x2}');
SET client_min_messages = warning;
SELECT version, task, hyperparams->>'task' AS task_given FROM ml.models WHERE name = 'zo' ORDER BY version;
