-- Parallel-capable aggregates: ml.content_hash and ml.linreg_stats.
SET ml.progress = off;
CREATE TABLE agg_t AS
SELECT i, (i % 13)::float8 AS x1, sqrt(i)::float8 AS x2,
       2 + 0.5 * (i % 13) - 3 * sqrt(i) + ((i * 7919) % 101) / 100.0 AS y
FROM generate_series(1, 20000) i;
ANALYZE agg_t;

-- A forced parallel plan.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT ml.content_hash(t) FROM agg_t t;
CREATE TEMP TABLE h AS SELECT 'parallel' AS plan, ml.content_hash(t) AS hash FROM agg_t t;
EXPLAIN (COSTS OFF) SELECT ml.linreg_stats(y, ARRAY[x1, x2]) FROM agg_t;
CREATE TEMP TABLE s AS SELECT 'parallel' AS plan, ml.linreg_stats(y, ARRAY[x1, x2]) AS stats FROM agg_t;

-- The serial plan gives the same hash and the same fit.
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT ml.content_hash(t) FROM agg_t t;
INSERT INTO h SELECT 'serial', ml.content_hash(t) FROM agg_t t;
INSERT INTO s SELECT 'serial', ml.linreg_stats(y, ARRAY[x1, x2]) FROM agg_t;
SELECT count(DISTINCT hash) AS hashes, min(hash) LIKE '%-20000' AS counts_rows FROM h;
SELECT p.term, abs(p.coefficient - q.coefficient) <= 1e-9 * abs(q.coefficient) AS same
FROM ml.linreg_solve((SELECT stats FROM s WHERE plan = 'parallel')) p
JOIN ml.linreg_solve((SELECT stats FROM s WHERE plan = 'serial')) q USING (term) ORDER BY 1;
SELECT (SELECT stats FROM s WHERE plan = 'parallel')[1] AS n;

-- The content hash of a snapshot's columns is the one it recorded.
SELECT row_count FROM ml.snapshot('agg_t', name => 'agg_snap');
SET max_parallel_workers_per_gather = 2;
SELECT (SELECT ml.content_hash(t) FROM (SELECT i, x1, x2, y FROM agg_t) t) =
       (SELECT content_hash FROM ml.snapshots WHERE name = 'agg_snap') AS same_as_snapshot;

-- The same coefficients as ml.train_model on the same rows.
SELECT version FROM ml.train_model('agg_lin', 'SELECT x1, x2, y FROM agg_t', target => 'y', test_fraction => 0);
SELECT e.feature, abs(e.coefficient - l.coefficient) <= 1e-9 * abs(e.coefficient) AS same
FROM ml.explain('agg_lin') e
JOIN ml.linreg_solve((SELECT stats FROM s WHERE plan = 'parallel')) l
  ON l.term = CASE e.feature WHEN 'x1' THEN 1 WHEN 'x2' THEN 2 ELSE 0 END
ORDER BY l.term;
-- Ridge: alpha shrinks the coefficients.
SELECT abs(r.coefficient) < abs(o.coefficient) AS shrunk
FROM ml.linreg_solve((SELECT stats FROM s WHERE plan = 'serial'), 1e6) r
JOIN ml.linreg_solve((SELECT stats FROM s WHERE plan = 'serial')) o USING (term) WHERE term = 2;

-- Rows with a NULL y or a NULL / non-finite x are skipped.
SELECT (ml.linreg_stats(y, x))[1] AS n
FROM (VALUES (1.0::float8, '{1,2}'::float8[]), (NULL, '{2,3}'), (3, '{NULL,4}'), (4, NULL),
             (5, '{NaN,1}'), (6, '{Infinity,1}'), ('NaN', '{1,1}'), (8, '{3,5}'), (9, '{4,4}')) v(y, x);
SELECT ml.linreg_stats(y, ARRAY[y]) IS NULL AS empty FROM agg_t WHERE false;
SELECT array_length(ml.linreg_stats(y, '{}'), 1) AS intercept_only_len,
       (SELECT coefficient FROM ml.linreg_solve(ml.linreg_stats(y, '{}'))) AS mean_y
FROM (VALUES (1.0::float8), (2), (6)) v(y);

-- Errors.
SELECT regress.err($$SELECT ml.linreg_stats(y, x) FROM (VALUES (1.0::float8, '{1,2}'::float8[]), (2, '{1,2,3}')) v(y, x)$$);
SELECT regress.err($$SELECT * FROM ml.linreg_solve('{1,2,3}')$$);
SELECT regress.err($$SELECT * FROM ml.linreg_solve((SELECT ml.linreg_stats(y, ARRAY[x1, x1]) FROM agg_t))$$);
SELECT regress.err($$SELECT * FROM ml.linreg_solve((SELECT ml.linreg_stats(y, ARRAY[x1]) FROM agg_t), -1)$$);
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- The aggregate engine: every algorithm trained with {"engine": "aggregate"}
-- gives the parallel engine's model: every number of the summary within
-- 1e-12 relative or 1e-15 absolute (p-values under 1e-10 within 1e-9
-- relative: their far tails amplify rounding).  Not bit-identical: rows are
-- reduced in blocks of 1024 rows instead of chunks of 32 heap blocks.  The
-- k-means++ and bin-edge samples are every row whose content hash is under
-- a rate, whatever the chunks, so k-means seeds alike in both engines (its
-- clusters numbered by centroid order).
SET client_min_messages = warning;
CREATE TABLE sc AS
SELECT i, sin(i)::float8 AS x1, cos(i * 0.37)::float8 AS x2,
       CASE WHEN i % 17 = 0 THEN NULL ELSE (i % 50)::integer END AS n,
       CASE WHEN i % 23 = 0 THEN NULL ELSE (ARRAY['red', 'green', 'blue', 'grey'])[1 + i % 4] END AS color,
       (i % 3 = 0) AS flag
FROM generate_series(1, 20000) i;
ALTER TABLE sc ADD COLUMN y float8, ADD COLUMN label text, ADD COLUMN bin boolean;
UPDATE sc SET
    y = 1 + 2 * x1 - x2 + 0.01 * coalesce(n, 25) + CASE color WHEN 'red' THEN 0.5 WHEN 'blue' THEN -0.3 ELSE 0 END
        + 0.2 * flag::int + sin(i * 7.7) * 0.1,
    label = CASE WHEN x1 + 0.3 * sin(i * 3.1) > 0.4 THEN 'high' WHEN x1 - x2 < -0.5 THEN 'low' ELSE 'mid' END,
    bin = 2 * x1 - x2 + CASE color WHEN 'red' THEN 1 ELSE 0 END + sin(i * 5.3) > 0.2;
SELECT row_count FROM ml.snapshot('SELECT x1, x2, n, color, flag, y, label, bin FROM sc', name => 'sc');

CREATE FUNCTION engines_agree(snap text, name text, target text, algorithm text, hp jsonb, features text[])
RETURNS TABLE (algo text, engines text, numbers bigint, agree boolean, same_rows boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    a ml.models;
    b ml.models;
BEGIN
    PERFORM ml.train_model(engines_agree.name || '_p', engines_agree.snap, target, engines_agree.algorithm, hp, features);
    PERFORM ml.train_model(engines_agree.name || '_a', engines_agree.snap, target, engines_agree.algorithm,
                           hp || '{"engine": "aggregate"}', features);
    SELECT * INTO a FROM ml.models m WHERE m.name = engines_agree.name || '_p';
    SELECT * INTO b FROM ml.models m WHERE m.name = engines_agree.name || '_a';
    RETURN QUERY
    WITH x AS (SELECT o, v FROM jsonb_path_query(a.summary - 'engine' - 'chunks', 'strict $.**') WITH ORDINALITY q(v, o)),
         y AS (SELECT o, v FROM jsonb_path_query(b.summary - 'engine' - 'chunks', 'strict $.**') WITH ORDINALITY q(v, o)),
         leaves AS (SELECT x.v::text::float8 AS u, y.v::text::float8 AS w
                    FROM x JOIN y USING (o)
                    WHERE jsonb_typeof(x.v) = 'number' AND jsonb_typeof(y.v) = 'number')
    SELECT engines_agree.algorithm, (a.summary->>'engine') || '/' || (b.summary->>'engine'), count(*),
           bool_and(abs(u - w) <= 1e-12 * greatest(abs(u), abs(w))
                    -- small entries of unit-length PCA components: 1e-15 absolute
                    OR abs(u - w) <= 1e-15
                    -- far-tail p-values: 1e-9
                    OR (u BETWEEN 0 AND 1e-10 AND w BETWEEN 0 AND 1e-10 AND abs(u - w) <= 1e-9 * greatest(u, w))),
           (SELECT count(*) FROM x) = (SELECT count(*) FROM y)
           AND (a.summary->'rows_used', a.summary->'rows_test') IS NOT DISTINCT FROM (b.summary->'rows_used', b.summary->'rows_test')
    FROM leaves;
END $$;
SELECT * FROM engines_agree('snapshot:sc', 'e_lin', 'y', 'linear_regression', '{}', '{x1,x2,n,color,flag}')
UNION ALL SELECT * FROM engines_agree('snapshot:sc', 'e_ridge', 'y', 'ridge', '{"alpha": 0.5}', '{x1,x2,n,color,flag}')
UNION ALL SELECT * FROM engines_agree('snapshot:sc', 'e_lasso', 'y', 'lasso', '{"alpha": 0.01}', '{x1,x2,n,color,flag}')
UNION ALL SELECT * FROM engines_agree('snapshot:sc', 'e_en', 'y', 'elastic_net', '{"alpha": 0.01, "l1_ratio": 0.3}', '{x1,x2,n,color}')
UNION ALL SELECT * FROM engines_agree('snapshot:sc', 'e_logit', 'bin', 'logistic_regression', '{}', '{x1,x2,n,color,flag}')
UNION ALL SELECT * FROM engines_agree('snapshot:sc', 'e_soft', 'label', 'softmax_regression', '{"alpha": 0.1}', '{x1,x2,color}')
UNION ALL SELECT * FROM engines_agree('snapshot:sc', 'e_km', NULL, 'kmeans', '{"k": 4, "n_init": 3}', '{x1,x2}')
UNION ALL SELECT * FROM engines_agree('snapshot:sc', 'e_pca', NULL, 'pca', '{}', '{x1,x2,n,flag}')
UNION ALL SELECT * FROM engines_agree('snapshot:sc', 'e_nb', 'label', 'naive_bayes', '{}', '{x1,x2,color,flag}');
-- The same rows in another physical order: k-means seeds from the same
-- sample and numbers its clusters the same way.
SELECT row_count FROM ml.snapshot('SELECT x1, x2, n, color, flag, y, label, bin FROM sc ORDER BY md5(i::text)', name => 'sc_shuffled');
SELECT version FROM ml.train_model('e_km_shuffled', 'snapshot:sc_shuffled', NULL, 'kmeans', '{"k": 4, "n_init": 3}', '{x1,x2}');
SELECT (SELECT count(DISTINCT content_hash) FROM ml.snapshots WHERE name IN ('sc', 'sc_shuffled')) = 1 AS same_rows,
       a.summary->'seeding_rows' = b.summary->'seeding_rows' AS same_sample,
       (SELECT bool_and(abs(u.v::text::float8 - w.v::text::float8) <= 1e-12)
        FROM jsonb_path_query(a.summary->'centroids', 'strict $[*][*]') WITH ORDINALITY u(v, o)
        JOIN jsonb_path_query(b.summary->'centroids', 'strict $[*][*]') WITH ORDINALITY w(v, o) USING (o)) AS same_centroids,
       a.summary->'cluster_sizes' = b.summary->'cluster_sizes' AS same_sizes
FROM ml.models a, ml.models b WHERE a.name = 'e_km_p' AND b.name = 'e_km_shuffled';
-- Cross-validation folds are a hash of the row's encoding: the same search result.
SELECT version FROM ml.train_model('e_search_p', 'snapshot:sc', 'y', 'ridge', features => '{x1,x2,color}',
                                   search => '{"params": {"alpha": [0.1, 10]}, "folds": 3}');
SELECT version FROM ml.train_model('e_search_a', 'snapshot:sc', 'y', 'ridge', '{"engine": "aggregate"}', features => '{x1,x2,color}',
                                   search => '{"params": {"alpha": [0.1, 10]}, "folds": 3}');
SELECT (SELECT hyperparams->'alpha' FROM ml.models WHERE name = 'e_search_p') = (SELECT hyperparams->'alpha' FROM ml.models WHERE name = 'e_search_a') AS same_choice,
       count(*) AS trials,
       bool_and(abs(x.mean_score - y.mean_score) <= 1e-12 * abs(x.mean_score)) AS same_scores
FROM ml.trials x JOIN ml.trials y USING (trial)
WHERE x.model_id = (SELECT id FROM ml.models WHERE name = 'e_search_p')
  AND y.model_id = (SELECT id FROM ml.models WHERE name = 'e_search_a');

-- With parallel costs lowered the training queries run as Partial Aggregate
-- under Gather, and still give the parallel engine's model.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT relation AS sc_rel FROM ml.snapshots WHERE name = 'sc' \gset
CREATE FUNCTION plan_of(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        RETURN NEXT regexp_replace(line, 'snapshot_\d+', 'snapshot_N');
    END LOOP;
END $$;
SELECT plan_of(format($$SELECT ml._pass(t, t._ml_is_test, '\x00', 0, '{-1}') FROM %s t$$, :'sc_rel'));
SELECT * FROM engines_agree('snapshot:sc', 'g_logit', 'bin', 'logistic_regression', '{}', '{x1,x2,n,color,flag}')
UNION ALL SELECT * FROM engines_agree('snapshot:sc', 'g_lin', 'y', 'linear_regression', '{}', '{x1,x2,n,color,flag}');

-- The statistics aggregates: Partial Aggregate under Gather, and the same
-- statistics from the parallel and the serial plan.
EXPLAIN (COSTS OFF) SELECT ml.logistic_stats('{0,0,0}', bin::int, ARRAY[x1, x2]) FROM sc;
EXPLAIN (COSTS OFF) SELECT ml.kmeans_stats('{{0,0},{1,1}}', ARRAY[x1, x2]) FROM sc;
EXPLAIN (COSTS OFF) SELECT ml.nb_stats(3, i % 3, ARRAY[x1, x2]) FROM sc;
EXPLAIN (COSTS OFF) SELECT ml.softmax_stats('{{0,0,0},{0,0,0},{0,0,0}}', i % 3, ARRAY[x1, x2]) FROM sc;
EXPLAIN (COSTS OFF) SELECT ml.column_profile(x1) FROM sc;
CREATE TEMP TABLE st AS
SELECT 'parallel' AS plan,
       ml.logistic_stats('{0.1,1,-1}', bin::int, ARRAY[x1, x2]) AS logit,
       ml.kmeans_stats('{{0,0},{1,1},{-1,0.5}}', ARRAY[x1, x2]) AS km,
       ml.nb_stats(3, i % 3, ARRAY[x1, x2]) AS nb,
       ml.softmax_stats('{{0,0,0},{0.1,0.2,0.3},{0,-1,1}}', i % 3, ARRAY[x1, x2]) AS soft,
       ml.column_profile(x1) AS prof
FROM sc;
SET max_parallel_workers_per_gather = 0;
INSERT INTO st
SELECT 'serial', ml.logistic_stats('{0.1,1,-1}', bin::int, ARRAY[x1, x2]), ml.kmeans_stats('{{0,0},{1,1},{-1,0.5}}', ARRAY[x1, x2]),
       ml.nb_stats(3, i % 3, ARRAY[x1, x2]), ml.softmax_stats('{{0,0,0},{0.1,0.2,0.3},{0,-1,1}}', i % 3, ARRAY[x1, x2]),
       ml.column_profile(x1)
FROM sc;
CREATE FUNCTION close_arrays(a float8[], b float8[]) RETURNS boolean LANGUAGE sql AS $$
    SELECT array_length(a, 1) = array_length(b, 1) AND
           bool_and(abs(x - y) <= 1e-12 * greatest(abs(x), abs(y), 1e-300) OR abs(x - y) <= 1e-15)
    FROM unnest(a, b) u(x, y) $$;
SELECT close_arrays(p.logit, s.logit) AS logit, close_arrays(p.km, s.km) AS km, close_arrays(p.nb, s.nb) AS nb,
       close_arrays(p.soft, s.soft) AS soft,
       p.prof->'count' = s.prof->'count' AND abs((p.prof->>'mean')::float8 - (s.prof->>'mean')::float8) < 1e-15
         AND abs((p.prof->>'stddev')::float8 - (s.prof->>'stddev')::float8) < 1e-14 AS prof,
       array_length(p.logit, 1) AS logit_len, p.logit[1] AS n, p.km[1] + p.km[2] + p.km[3] AS km_n
FROM st p, st s WHERE p.plan = 'parallel' AND s.plan = 'serial';
-- Checked against plain SQL: counts, sums per class, log-likelihood at 0.
SELECT (ml.nb_stats(2, c, ARRAY[x]))::numeric(20,10)[] AS nb
FROM (VALUES (0, 1.0::float8), (0, 3), (1, 10), (1, 20), (1, 30)) v(c, x);
SELECT round((ml.logistic_stats('{0,0}', y, ARRAY[x]))[2]::numeric, 12) = round((4 * ln(0.5))::numeric, 12) AS loglik_at_zero
FROM (VALUES (0.0::float8, 1.0::float8), (1, 2), (1, 3), (0, 4)) v(y, x);
SELECT ml.kmeans_stats('{{0},{10}}', ARRAY[x]) AS km
FROM (VALUES (1.0::float8), (2), (9), (12), (NULL), ('NaN')) v(x);
SELECT ml.column_profile(x) AS prof FROM (VALUES (1.0::float8), (2), (4), (NULL), ('Infinity')) v(x);
SELECT ml.column_profile(x) AS prof FROM (VALUES (NULL::float8)) v(x);

-- States round-trip through their text and binary forms, and combine to
-- the aggregate's result; malformed states are refused.
-- The raw state: the transition function without the final function.
CREATE AGGREGATE kmeans_state(float8[], float8[]) (SFUNC = ml._kmeans_stats_accum, STYPE = bytea);
CREATE TEMP TABLE parts AS
SELECT i % 2 AS half, kmeans_state('{{0,0},{1,1}}', ARRAY[x1, x2]) AS s0 FROM sc WHERE i <= 3000 GROUP BY 1;
SELECT ml._agg_state_info(s0) AS info FROM parts ORDER BY half;
SELECT close_arrays(ml._agg_final(ml._agg_combine(a.s0::text::bytea, decode(encode(b.s0, 'base64'), 'base64'))),
       (SELECT ml.kmeans_stats('{{0,0},{1,1}}', ARRAY[x1, x2]) FROM sc WHERE i <= 3000)) AS round_trip,
       ml._agg_final(a.s0::text::bytea) = ml._agg_final(a.s0) AS text_round_trip
FROM parts a, parts b WHERE a.half = 0 AND b.half = 1;
SELECT regress.err($$SELECT ml._agg_final('\x00'::bytea)$$);
SELECT regress.err($$SELECT ml._agg_final(decode(repeat('00', 200), 'hex'))$$);
SELECT regress.err($$SELECT ml._agg_final(overlay(s0 placing '\xffffffff' from 13) ) FROM parts WHERE half = 0$$);
SELECT regress.err($$SELECT ml._agg_final(overlay(s0 placing '\x05000000' from 17) ) FROM parts WHERE half = 0$$);
SELECT regress.err($$SELECT ml._agg_final(overlay(s0 placing '\x00100000' from 29) ) FROM parts WHERE half = 0$$);
SELECT regress.err($$SELECT ml._agg_final(substr(s0, 1, length(s0) - 8)) FROM parts WHERE half = 0$$);
SELECT regress.err($$SELECT ml._agg_combine(a.s0, b.s) FROM parts a, (SELECT kmeans_state('{{5,5},{1,1}}', '{1,2}') AS s) b WHERE a.half = 0$$);
SELECT regress.err($$SELECT ml.kmeans_stats('{0,1}', ARRAY[x1, x2]) FROM sc$$);
SELECT regress.err($$SELECT ml.kmeans_stats('{{0,1,2}}', ARRAY[x1, x2]) FROM sc$$);
SELECT regress.err($$SELECT ml.logistic_stats('{0,0}', y, ARRAY[x1, x2]) FROM sc$$);
SELECT regress.err($$SELECT ml.logistic_stats('{0,0,0}', y, ARRAY[x1, x2]) FROM sc$$);
SELECT regress.err($$SELECT ml.nb_stats(2, 5, ARRAY[x1]) FROM sc$$);
SELECT regress.err($$SELECT ml.nb_stats(2, i % 2, CASE WHEN i < 3 THEN ARRAY[x1] ELSE ARRAY[x1, x2] END) FROM sc$$);
SELECT regress.err($$SELECT ml._pass(t, false, '\x00', 0, '{-1}') FROM sc t$$);
SELECT regress.err($$SELECT ml.column_profile(x) FROM (VALUES (1.0::float8)) v(x) HAVING ml._profile_combine('{1,2}', NULL) IS NULL$$);
SELECT regress.err($$SELECT ml._profile_final('{1,0,5,2,0,0}')$$);
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
