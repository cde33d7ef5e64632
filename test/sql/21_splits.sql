-- Splits (issue 17): hash (the default), grouped, chronological and
-- stratified, chosen when the snapshot is taken, recorded with it and
-- re-checked by ml.verify_snapshot; the same rows give the same split in any
-- physical order.
SET ml.progress = off;
-- A panel: 30 firms observed on 3 rows per day, a class label with uneven
-- class sizes, a target.
CREATE TABLE panel AS
SELECT i AS id, 'firm' || lpad((i % 30)::text, 2, '0') AS firm, date '2024-01-01' + i / 3 AS day,
       (ARRAY['a', 'b', 'c'])[1 + i % 3] || CASE WHEN i % 7 = 0 THEN 'x' ELSE '' END AS cls,
       (i % 11) * 0.5 + (i % 30) AS x, (i % 11) * 1.5 + (i % 30) * 0.25 + (i % 5) AS y
FROM generate_series(1, 600) i;
-- The same rows in another physical order.
CREATE TABLE panel_shuffled AS SELECT * FROM panel ORDER BY md5(id::text);

-- The default is the hash split, recorded as such.
SELECT name, split FROM ml.snapshot('panel', name => 'p_hash');

-- Grouped: every firm on one side, the side the seeded hash of the firm decides.
SELECT name, split, test_count FROM ml.snapshot('panel', name => 'p_group', split => 'group:firm');
SELECT relation AS g_rel FROM ml.snapshots WHERE name = 'p_group' \gset
SELECT count(*) AS firms_on_both_sides
FROM (SELECT firm FROM :g_rel GROUP BY firm HAVING count(DISTINCT _ml_is_test) > 1) x;
SELECT count(*) FILTER (WHERE _ml_is_test <> ml._row_is_test(ROW(firm), 42, 0.25)) AS not_by_rule,
       count(DISTINCT firm) FILTER (WHERE _ml_is_test) AS test_firms, count(DISTINCT firm) AS firms
FROM :g_rel;
-- The test share of firms is near test_fraction (30 firms: 2 to 14 of them).
SELECT count(DISTINCT firm) FILTER (WHERE _ml_is_test) BETWEEN 2 AND 14 AS share_plausible FROM :g_rel;

-- Chronological: the test rows are exactly those later than the cut, the
-- cut is the time of row ceil(600 * 0.75) = 450 by time, and the rows at the
-- cut (3 a day) stay in train.
SELECT name, split, train_count, test_count FROM ml.snapshot('panel', name => 'p_time', split => 'time:day');
SELECT relation AS t_rel FROM ml.snapshots WHERE name = 'p_time' \gset
SELECT to_jsonb((SELECT day FROM panel ORDER BY day OFFSET 449 LIMIT 1)) = (SELECT split->'cut' FROM ml.snapshots WHERE name = 'p_time') AS cut_is_row_450,
       count(*) FILTER (WHERE _ml_is_test <> (day > (SELECT day FROM panel ORDER BY day OFFSET 449 LIMIT 1))) AS not_by_rule,
       max(day) FILTER (WHERE NOT _ml_is_test) < min(day) FILTER (WHERE _ml_is_test) AS test_is_latest,
       count(*) FILTER (WHERE day = (SELECT split->>'cut' FROM ml.snapshots WHERE name = 'p_time')::date AND NOT _ml_is_test) AS train_rows_at_cut
FROM :t_rel;
-- The rule itself, reusable: ceil(n * (1 - test_fraction)) train rows, in numeric.
SELECT ml._time_split_train_rows(10, 0.3) AS of_10_at_03, ml._time_split_train_rows(600, 0.25) AS of_600,
       ml._time_split_train_rows(5, 0) AS no_test, ml._time_cut('SELECT * FROM public.panel', 'day', 0.25) AS cut;
-- Ties at the cut: 4 rows on day 2 of 5 rows, test_fraction 0.5: train is
-- ceil(2.5) = 3 rows, and the 4th row shares the 3rd's day, so train holds 4.
SELECT train_count, test_count, split->>'cut' AS cut
FROM ml.snapshot('VALUES (1, 1), (2, 2), (3, 2), (4, 2), (5, 3)', name => 'ties', test_fraction => 0.5, split => 'time:column2');

-- Stratified: each class split in the test_fraction proportion (rounded),
-- its test rows the ones of lowest split hash in the class.
SELECT name, split, test_count FROM ml.snapshot('panel', name => 'p_strat', split => 'stratified:cls');
SELECT relation AS s_rel FROM ml.snapshots WHERE name = 'p_strat' \gset
SELECT cls, count(*) AS rows, count(*) FILTER (WHERE _ml_is_test) AS test,
       round(count(*) * 0.25) AS expected,
       max(ml._row_split_unit(ROW(id, firm, day, cls, x, y), 42)) FILTER (WHERE _ml_is_test)
         < min(ml._row_split_unit(ROW(id, firm, day, cls, x, y), 42)) FILTER (WHERE NOT _ml_is_test) AS lowest_hashes
FROM :s_rel GROUP BY cls ORDER BY cls;

-- Order independence: the shuffled table gives the same content hash and
-- every row the same side, for every kind of split.
SELECT v.k AS kind, s.content_hash = o.content_hash AS same_hash, s.test_count = o.test_count AS same_count,
       s.split = o.split AS same_spec
FROM (VALUES ('hash', 'hash'), ('group', 'group:firm'), ('time', 'time:day'), ('strat', 'stratified:cls')) v(k, sp)
CROSS JOIN LATERAL ml.snapshot('panel_shuffled', name => 'q_' || v.k, split => v.sp) s
JOIN ml.snapshots o ON o.name = 'p_' || v.k
ORDER BY 1;
CREATE FUNCTION pg_temp.sides(snap text) RETURNS TABLE (id int, is_test boolean) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT id, _ml_is_test FROM %s', (SELECT relation FROM ml.snapshots WHERE name = snap));
END $$;
SELECT k, (SELECT count(*) FROM pg_temp.sides('p_' || k) a FULL JOIN pg_temp.sides('q_' || k) b USING (id)
           WHERE a.is_test IS DISTINCT FROM b.is_test) AS rows_on_other_side
FROM unnest(ARRAY['hash', 'group', 'time', 'strat']) k ORDER BY k;

-- Every split verifies; a row moved behind the trigger's back does not.
SELECT v.snapshot, v.intact, v.split_intact
FROM unnest(ARRAY['p_hash', 'p_group', 'p_time', 'p_strat', 'ties']) n, ml.verify_snapshot(n) v ORDER BY 1;
ALTER TABLE :t_rel DISABLE TRIGGER snapshot_is_immutable;
UPDATE :t_rel SET _ml_is_test = true WHERE day = (SELECT split->>'cut' FROM ml.snapshots WHERE name = 'p_time')::date AND id % 3 = 0;
SELECT intact, split_intact FROM ml.verify_snapshot('p_time');
UPDATE :t_rel SET _ml_is_test = false WHERE day = (SELECT split->>'cut' FROM ml.snapshots WHERE name = 'p_time')::date;
SELECT intact, split_intact FROM ml.verify_snapshot('p_time');
ALTER TABLE :t_rel ENABLE TRIGGER snapshot_is_immutable;
ALTER TABLE :s_rel DISABLE TRIGGER snapshot_is_immutable;
SELECT min(id) FILTER (WHERE _ml_is_test) AS a_test, min(id) FILTER (WHERE NOT _ml_is_test) AS a_train
FROM :s_rel WHERE cls = 'a' \gset
-- (a test row and a train row of class a swap sides: the counts still match)
UPDATE :s_rel SET _ml_is_test = NOT _ml_is_test WHERE id IN (:a_test, :a_train);
SELECT intact, split_intact FROM ml.verify_snapshot('p_strat');
UPDATE :s_rel SET _ml_is_test = NOT _ml_is_test WHERE id IN (:a_test, :a_train);
SELECT intact, split_intact FROM ml.verify_snapshot('p_strat');
ALTER TABLE :s_rel ENABLE TRIGGER snapshot_is_immutable;
-- The event records the split too.
SELECT details->'split' AS split FROM ml.model_events e JOIN ml.snapshots s ON s.id = e.snapshot_id
WHERE e.action = 'snapshot' AND s.name = 'p_group';

-- A training's implicit snapshot takes the split; 'stratified' alone is
-- the target.  An existing snapshot's split cannot be changed.
SELECT version FROM ml.train_model('panel_y', 'panel', target => 'y', features => ARRAY['x'], split => 'group:firm');
SELECT s.split FROM ml.models m JOIN ml.snapshots s ON s.id = m.snapshot_id WHERE m.name = 'panel_y';
SELECT version FROM ml.train_model('panel_cls', 'SELECT x, cls FROM panel', target => 'cls',
                                   algorithm => 'naive_bayes', split => 'stratified');
SELECT s.split, s.test_count FROM ml.models m JOIN ml.snapshots s ON s.id = m.snapshot_id WHERE m.name = 'panel_cls';
SELECT version FROM ml.train_model('panel_y', 'snapshot:p_group', target => 'y', features => ARRAY['x'], split => 'group:firm');
SELECT regress.err($$SELECT ml.train_model('panel_y', 'snapshot:p_group', target => 'y', split => 'time:day')$$);

-- Bad input: a clear error, nothing copied.
SELECT count(*) AS snapshots FROM ml.snapshots \gset
SELECT regress.err($$SELECT ml.snapshot('panel', split => 'group:nope')$$);
SELECT regress.err($$SELECT ml.snapshot('SELECT id, x FROM panel', split => 'group:firm')$$);
SELECT regress.err($$SELECT ml.snapshot('SELECT id, ''one'' AS g FROM panel', split => 'group:g')$$);
SELECT regress.err($$SELECT ml.snapshot('SELECT id, point(id, 1) AS t FROM panel', split => 'time:t')$$);
SELECT regress.err($$SELECT ml.snapshot('SELECT id, NULLIF(day, date ''2024-01-05'') AS d FROM panel', split => 'time:d')$$);
SELECT regress.err($$SELECT ml.snapshot('SELECT id, ''{}''::json AS j FROM panel', split => 'stratified:j')$$);
SELECT regress.err($$SELECT ml.snapshot('panel', test_fraction => 1, split => 'time:day')$$);
SELECT regress.err($$SELECT ml.snapshot('panel', test_fraction => -0.1, split => 'group:firm')$$);
SELECT regress.err($$SELECT ml.snapshot('panel', split => 'random')$$);
SELECT regress.err($$SELECT ml.snapshot('panel', split => 'group:')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'panel', target => 'y', split => 'time:nope')$$);
SELECT count(*) = :snapshots AS nothing_taken FROM ml.snapshots;
-- A query source splits like a table; one group is fine without a test split.
SELECT split, test_count FROM ml.snapshot('SELECT firm, x FROM panel WHERE id <= 90', split => 'group:firm', test_fraction => 0.5);
SELECT split, test_count FROM ml.snapshot('SELECT 1 AS g, x FROM panel', split => 'group:g', test_fraction => 0);

-- ml.cross_validate: one row per fold and mean/sd; folds by the row hash (or
-- the group's), each fold validated on itself; nothing registered.
SELECT count(*) AS models, (SELECT count(*) FROM ml.snapshots) AS snapshots,
       (SELECT count(*) FROM ml.model_events) AS events FROM ml.models \gset
SELECT fold, train_rows, valid_rows, train_rows + valid_rows = 600 AS all_rows, metrics ? 'r2' AS has_r2
FROM ml.cross_validate('panel', 'y', features => ARRAY['x'], folds => 4, seed => 5);
SELECT array_agg(n ORDER BY f) = (SELECT array_agg(valid_rows ORDER BY fold) FROM ml.cross_validate('panel', 'y', features => ARRAY['x'], folds => 4, seed => 5)
                                  WHERE fold NOT IN ('mean', 'sd')) AS folds_by_rule
FROM (SELECT floor((ml._row_split_unit(ROW(id, firm, day, cls, x, y), 5) * 1048576 - floor(ml._row_split_unit(ROW(id, firm, day, cls, x, y), 5) * 1048576)) * 4) AS f, count(*) AS n FROM panel GROUP BY 1) x;
-- grouped: a fold's rows are whole firms
SELECT array_agg(n ORDER BY f) = (SELECT array_agg(valid_rows ORDER BY fold) FROM ml.cross_validate('panel', 'y', features => ARRAY['x'], folds => 3, group_column => 'firm')
                                  WHERE fold NOT IN ('mean', 'sd')) AS grouped_folds_by_rule
FROM (SELECT floor((ml._row_split_unit(ROW(firm), 42) * 1048576 - floor(ml._row_split_unit(ROW(firm), 42) * 1048576)) * 3) AS f, count(*) AS n FROM panel GROUP BY 1) x;
SELECT fold, (metrics->>'accuracy')::float8 BETWEEN 0 AND 1 AS accuracy_ok
FROM ml.cross_validate('snapshot:p_strat', 'cls', 'naive_bayes', features => ARRAY['x'], folds => 2);
SELECT (SELECT count(*) FROM ml.models) = :models AND (SELECT count(*) FROM ml.snapshots) = :snapshots
       AND (SELECT count(*) FROM ml.model_events) = :events AS nothing_registered,
       (SELECT count(*) FROM pg_class WHERE relnamespace = 'ml_data'::regnamespace AND relname NOT IN
          (SELECT substr(relation, 9) FROM ml.snapshots)) AS work_relations_left;
SELECT regress.err($$SELECT * FROM ml.cross_validate('panel', 'y', folds => 1)$$);
SELECT regress.err($$SELECT * FROM ml.cross_validate('panel', 'nope')$$);
SELECT regress.err($$SELECT * FROM ml.cross_validate('panel', 'y', group_column => 'nope')$$);
SELECT regress.err($$SELECT * FROM ml.cross_validate('SELECT 1 AS g, x, y FROM panel', 'y', folds => 3, group_column => 'g')$$);
SELECT regress.err($$SELECT * FROM ml.cross_validate('panel', NULL, 'pca')$$);
SELECT regress.err($$SELECT * FROM ml.cross_validate('panel', 'y', features => ARRAY['x', 'y'])$$);
SELECT regress.err($$SELECT * FROM ml.cross_validate('SELECT x, y, 1 AS _ml_fold FROM panel', 'y')$$);
