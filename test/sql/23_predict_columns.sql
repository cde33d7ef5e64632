-- A table's whole row passed to ml.predict, ml.predict_class,
-- ml.predict_proba or ml.transform is planned as its columns
-- (ml._<name>_columns): the same value, without forming a row per call.
SET ml.progress = off;
CREATE TABLE pc_rows AS
SELECT i AS id, CASE WHEN i % 17 = 0 THEN NULL ELSE (i % 100)::float8 END AS a, (i % 7) AS b,
       CASE WHEN i % 23 = 0 THEN NULL ELSE (ARRAY['x', 'y', 'z'])[1 + i % 3] END AS c,
       date '2020-01-01' + i % 500 AS d, (i % 100) * 2.0 + (i % 7) + sin(i) AS y, (i % 100) + 10 * sin(i) > 50 AS hot,
       (ARRAY['lo', 'mid', 'hi'])[1 + (i % 100) / 34] AS band
FROM generate_series(1, 3000) i;
SELECT name FROM ml.snapshot('pc_rows', name => 'pc_snap');
SELECT version FROM ml.train_model('pc_lin', 'snapshot:pc_snap', 'y', features => '{a,b,c,d}');
SELECT version FROM ml.train_model('pc_logit', 'snapshot:pc_snap', 'hot', 'logistic_regression', '{"alpha": 1}', features => '{a,b,c}');
SELECT version FROM ml.train_model('pc_soft', 'snapshot:pc_snap', 'band', 'softmax_regression', '{"alpha": 1}', features => '{a,b}');
SELECT version FROM ml.train_model('pc_nb', 'snapshot:pc_snap', 'band', 'naive_bayes', features => '{a,b,d}');
SELECT version FROM ml.train_model('pc_km', 'snapshot:pc_snap', NULL, 'kmeans', '{"k": 3}', features => '{a,b}');
SELECT version FROM ml.train_model('pc_pca', 'snapshot:pc_snap', NULL, 'pca', '{"n_components": 2}', features => '{a,b,d}');
SELECT version FROM ml.train_model('pc_gb', 'snapshot:pc_snap', 'y', 'gradient_boosting', '{"n_trees": 10, "max_depth": 3}', features => '{a,b,c,d}');

-- The plan passes the columns, with their names.
EXPLAIN (VERBOSE, COSTS OFF) SELECT ml.predict('pc_lin', t) FROM pc_rows t;
EXPLAIN (VERBOSE, COSTS OFF) SELECT ml.predict_proba('pc_logit', t), ml.predict_class('pc_logit', t), ml.transform('pc_pca', t) FROM pc_rows t;
-- Rows of a subquery or of a join stay rows (the null side of an outer
-- join is a NULL row, which its columns could not tell from a row of NULLs).
EXPLAIN (VERBOSE, COSTS OFF) SELECT ml.predict('pc_lin', t) FROM (SELECT * FROM pc_rows OFFSET 0) t;
EXPLAIN (VERBOSE, COSTS OFF) SELECT ml.predict('pc_lin', t) FROM pc_rows t LEFT JOIN pc_rows u ON false;
SELECT ml.predict('pc_lin', u) AS null_side FROM pc_rows t LEFT JOIN pc_rows u ON false LIMIT 1;

-- The same bits as a row of the same values, for every kind of output:
-- the rows of a subquery are scored as rows, the table's as columns.
CREATE TABLE pc_expected AS
SELECT id, ml.predict('pc_lin', s) AS lin, ml.predict_proba('pc_logit', s) AS logit, ml.predict_class('pc_logit', s) AS logit_class,
       ml.predict_proba('pc_soft', s) AS soft, ml.predict_class('pc_nb', s) AS nb, ml.predict('pc_km', s) AS km,
       ml.transform('pc_km', s) AS km_dist, ml.transform('pc_pca', s) AS pca, ml.predict('pc_gb', s) AS gb
FROM (SELECT * FROM pc_rows OFFSET 0) s;
SELECT count(*) AS rows_compared,
       count(*) FILTER (WHERE ml.predict('pc_lin', t) IS DISTINCT FROM e.lin) AS lin,
       count(*) FILTER (WHERE ml.predict_proba('pc_logit', t) IS DISTINCT FROM e.logit) AS logit,
       count(*) FILTER (WHERE ml.predict_class('pc_logit', t) IS DISTINCT FROM e.logit_class) AS logit_class,
       count(*) FILTER (WHERE ml.predict_proba('pc_soft', t) IS DISTINCT FROM e.soft) AS soft,
       count(*) FILTER (WHERE ml.predict_class('pc_nb', t) IS DISTINCT FROM e.nb) AS nb,
       count(*) FILTER (WHERE ml.predict('pc_km', t) IS DISTINCT FROM e.km OR ml.transform('pc_km', t) IS DISTINCT FROM e.km_dist) AS km,
       count(*) FILTER (WHERE ml.transform('pc_pca', t) IS DISTINCT FROM e.pca) AS pca,
       count(*) FILTER (WHERE ml.predict('pc_gb', t) IS DISTINCT FROM e.gb) AS gb,
       count(*) FILTER (WHERE e.lin IS NULL) AS null_predictions
FROM pc_rows t, pc_expected e WHERE e.id = t.id;
CREATE FUNCTION pc_plan(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    l text;
    r text := '';
BEGIN
    FOR l IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
        r := r || l;
    END LOOP;
    RETURN r;
END $$;
SELECT pc_plan($q$SELECT ml.predict('pc_gb', t) FROM pc_rows t, pc_expected e WHERE e.id = t.id$q$)
       LIKE '%ml._predict_columns(''pc_gb''::text, %' AS table_side_scored_as_columns;

-- A model id works the same way.
SELECT count(*) FILTER (WHERE ml.predict(m.id, t) IS DISTINCT FROM ml.predict('pc_lin', t)) AS by_id_differ
FROM pc_rows t, (SELECT id FROM ml.models WHERE name = 'pc_lin') m;

-- Columns in another order, a dropped column and extra columns are matched by name.
CREATE TABLE pc_other AS SELECT 0 AS junk, d, c, b, a, id FROM pc_rows;
ALTER TABLE pc_other DROP COLUMN junk;
SELECT count(*) FILTER (WHERE ml.predict('pc_lin', o) IS DISTINCT FROM e.lin) AS reordered_differ
FROM pc_other o, pc_expected e WHERE e.id = o.id;
-- A missing input is named, as for a row.
CREATE TABLE pc_short AS SELECT a, b, c FROM pc_rows;
\set VERBOSITY terse
SELECT ml.predict('pc_lin', s) FROM pc_short s LIMIT 1;
-- Called directly: names and values must agree, the reference is text or bigint.
SELECT ml._predict_columns('pc_lin'::text, ARRAY['a', 'b'], 1.0::float8);
SELECT ml._predict_columns(1, ARRAY['a'], 1.0::float8);
CREATE TYPE pc_abcd AS (a float8, b integer, c text, d date);
SELECT ml._predict_columns('pc_lin'::text, ARRAY['a', 'b', 'c', 'd'], 50.0::float8, 3, 'y'::text, date '2020-06-01')
       = ml.predict('pc_lin', ROW(50.0::float8, 3, 'y'::text, date '2020-06-01')::pc_abcd) AS direct_call_agrees;
\set VERBOSITY default
