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
