-- Training linear models in parallel workers.
SET ml.progress = off;

-- Noise-free data: the coefficients are recovered exactly.
CREATE TABLE exact AS
SELECT i, (i % 17)::float8 AS x1, ((i * 7) % 23)::float8 AS x2, sqrt(i)::float8 AS x3,
       3 + 2 * (i % 17) - 1.5 * ((i * 7) % 23) + 0.25 * sqrt(i) AS y
FROM generate_series(1, 2000) i;
SELECT name, version, round((metrics->'train'->>'r2')::numeric, 12) AS train_r2,
       (metrics->'test'->>'rmse')::float8 < 1e-9 AS test_rmse_tiny
FROM ml.train_model('exact', 'SELECT x1, x2, x3, y FROM exact', target => 'y');
SELECT feature, round(coefficient::numeric, 9) AS coefficient FROM ml.explain('exact');
SELECT 'snapshot:' || s.name AS exact_snap FROM ml.snapshots s JOIN ml.models m ON m.snapshot_id = s.id
WHERE m.name = 'exact' \gset

-- One feature: agrees with PostgreSQL's own regr_* aggregates on the training rows.
CREATE TABLE one AS SELECT i, i * 0.1 AS x, 5 - 0.3 * i * 0.1 + sin(i) AS y FROM generate_series(1, 500) i;
SELECT version FROM ml.train_model('one', 'SELECT x, y FROM one', target => 'y');
SELECT s.relation AS one_rel FROM ml.snapshots s JOIN ml.models m ON m.snapshot_id = s.id WHERE m.name = 'one' \gset
WITH ref AS (
    SELECT regr_intercept(y, x) AS b0, regr_slope(y, x) AS b1, regr_r2(y, x) AS r2
    FROM :one_rel WHERE NOT _ml_is_test
)
SELECT abs(e0.coefficient - ref.b0) < 1e-10 AS intercept_ok, abs(e1.coefficient - ref.b1) < 1e-12 AS slope_ok,
       abs((m.metrics->'train'->>'r2')::float8 - ref.r2) < 1e-12 AS r2_ok
FROM ref, ml.models m,
     ml.explain('one') e0, ml.explain('one') e1
WHERE m.name = 'one' AND e0.feature = 'intercept' AND e1.feature = 'x';

-- The registry row.
SELECT name, version, task, algorithm, target, features, hyperparams, seed, stage,
       model_hash = encode(sha256(model), 'hex') AS hash_ok, train_seconds >= 0 AS timed,
       trained_by = current_user AS by_me, extension_version,
       summary->>'rows_used' AS rows_used, summary->>'rows_skipped' AS rows_skipped,
       (summary->>'condition_number')::float8 > 1 AS has_condition_number,
       jsonb_object_keys(metrics) AS metric_sets
FROM ml.models WHERE name = 'exact' ORDER BY metric_sets;
SELECT jsonb_object_keys(metrics->'train') AS train_metrics FROM ml.models WHERE name = 'exact' ORDER BY 1;

-- Rows with a NULL or non-finite value are skipped and counted.
CREATE TABLE holes AS SELECT i, CASE WHEN i % 10 = 0 THEN NULL ELSE i::float8 END AS x,
                             CASE WHEN i % 25 = 0 THEN 'NaN'::float8 ELSE 2.0 * i + 1 END AS y
FROM generate_series(1, 300) i;
SELECT version FROM ml.train_model('holes', 'holes', target => 'y', features => '{x}');
SELECT summary->>'rows_skipped' AS skipped,
       (summary->>'rows_used')::int + (summary->>'rows_test')::int + (summary->>'rows_skipped')::int AS total
FROM ml.models WHERE name = 'holes';

-- Integer, numeric and boolean columns are features too.
CREATE TABLE mixed AS SELECT i::int AS a, (i % 7)::numeric(10,2) AS b, (i % 2 = 0) AS c,
                             (1 + 2 * i + 3 * (i % 7) + 4 * (i % 2 = 0)::int)::bigint AS y
FROM generate_series(1, 200) i;
SELECT version FROM ml.train_model('mixed', 'mixed', target => 'y');
SELECT feature, round(coefficient::numeric, 8) AS coefficient FROM ml.explain('mixed');

-- Ridge: alpha shrinks the coefficients; alpha 0 is ordinary least squares.
SELECT version FROM ml.train_model('exact_ridge', :'exact_snap', 'y', 'ridge');
SELECT hyperparams FROM ml.models WHERE name = 'exact_ridge';
SELECT (SELECT coefficient FROM ml.explain('exact_ridge') WHERE feature = 'x1') <
       (SELECT coefficient FROM ml.explain('exact') WHERE feature = 'x1') AS shrunk;
SELECT version FROM ml.train_model('exact_ridge', :'exact_snap', 'y', 'ridge', '{"alpha": 0}');
SELECT hyperparams, round((SELECT coefficient FROM ml.explain('exact_ridge@2') WHERE feature = 'x2')::numeric, 9) AS x2
FROM ml.models WHERE name = 'exact_ridge' AND version = 2;
SELECT std_error IS NULL AS ridge_has_no_std_error FROM ml.explain('exact_ridge@1') WHERE feature = 'x1';

-- Bit-identical models for 0, 1, 2 and 4 parallel workers (many chunks).
CREATE TABLE wide AS
SELECT i, sin(i)::float8 AS f1, cos(i * 0.7)::float8 AS f2, (i % 101)::float8 AS f3, ln(i)::float8 AS f4,
       ((i * 31) % 97 / 97.0)::float8 AS f5,
       1 + 2 * sin(i) - cos(i * 0.7) + 0.01 * (i % 101) + 0.5 * ln(i) + sin(i * 13.1) AS y
FROM generate_series(1, 120000) i;
SELECT row_count FROM ml.snapshot('SELECT f1, f2, f3, f4, f5, y FROM wide', name => 'wide');
SET ml.max_parallel_workers = 0;
SELECT version FROM ml.train_model('wide', 'snapshot:wide', 'y');
SET ml.max_parallel_workers = 1;
SELECT version FROM ml.train_model('wide', 'snapshot:wide', 'y');
SET ml.max_parallel_workers = 2;
SELECT version FROM ml.train_model('wide', 'snapshot:wide', 'y');
SET ml.max_parallel_workers = 4;
SELECT version FROM ml.train_model('wide', 'snapshot:wide', 'y');
-- Keeping no rows between passes (reading the table in every pass) gives the same model too.
SET ml.work_mem = '1MB';
SELECT version FROM ml.train_model('wide', 'snapshot:wide', 'y');
RESET ml.work_mem;
RESET ml.max_parallel_workers;
SELECT version, workers, workers > 0 AS parallel FROM ml.models WHERE name = 'wide' ORDER BY version;
SELECT count(*) AS versions, count(DISTINCT model_hash) AS distinct_models, count(DISTINCT metrics) AS distinct_metrics,
       (SELECT (summary->>'chunks')::int > 8 FROM ml.models WHERE name = 'wide' LIMIT 1) AS many_chunks
FROM ml.models WHERE name = 'wide';

-- A backend that trained in parallel still has a single thread.
SELECT threads, sequential, process_threads FROM ml.blas_info();

