-- Bad input to training: a clear error with a SQLSTATE, and nothing written.
SET ml.progress = off;
CREATE TABLE t (x1 float8, x2 float8, label text, y float8, d date);
INSERT INTO t SELECT i, i * i, 'a', 2 * i + 1, date '2026-01-01' + i FROM generate_series(1, 50) i;
CREATE TABLE nulls AS SELECT NULL::float8 AS x, NULL::float8 AS y FROM generate_series(1, 20);
CREATE TABLE few AS SELECT i::float8 AS a, (i * 2)::float8 AS b, (i % 3)::float8 AS c, i::float8 AS y FROM generate_series(1, 3) i;
CREATE TABLE collinear AS SELECT i::float8 AS a, (i % 7)::float8 AS b, (2 * i + 3 * (i % 7))::float8 AS c, sin(i) AS y FROM generate_series(1, 100) i;
CREATE TABLE constant AS SELECT i::float8 AS a, 5.0::float8 AS k, sin(i) AS y FROM generate_series(1, 100) i;
SELECT name FROM ml.snapshot('t', name => 't');
CREATE TABLE ambiguous AS SELECT * FROM t;
SELECT name FROM ml.snapshot('t', name => 'ambiguous');

SELECT count(*) AS models, (SELECT count(*) FROM ml.snapshots) AS snapshots,
       (SELECT count(*) FROM ml.model_events) AS events FROM ml.models \gset

SELECT regress.err($$SELECT ml.train_model('m', 'no_such_table', 'y')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'snapshot:no_such_snapshot', 'y')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'ambiguous', 'y')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'snapshot:t', 'no_such_column')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'snapshot:t', 'y', features => '{x1,nope}')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'snapshot:t', 'label')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'snapshot:t', 'y', hyperparams => '{"impute": "nearest"}')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'snapshot:t', 'y', 'ridge', '{"max_categories": 0}')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'snapshot:t', 'y', features => '{x1,y}')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'snapshot:t', 'y', features => '{x1,x1}')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'snapshot:t', 'y', features => '{}')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'SELECT * FROM t WHERE false', 'y')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'nulls', 'y')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'few', 'y', test_fraction => 0)$$);
SELECT regress.err($$SELECT ml.train_model('m', 'collinear', 'y', test_fraction => 0)$$);
SELECT regress.err($$SELECT ml.train_model('m', 'constant', 'y', test_fraction => 0)$$);
SELECT regress.err($$SELECT ml.train_model('m', 't', 'y', test_fraction => -0.5)$$);
SELECT regress.err($$SELECT ml.train_model('m', 't', 'y', test_fraction => 1.5)$$);
SELECT regress.err($$SELECT ml.train_model('m', 'snapshot:t', 'y', test_fraction => 0.5)$$);
SELECT regress.err($$SELECT ml.train_model('m', 'snapshot:t', 'y', features => '{x1}', hyperparams => '{"alpha": 1')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'snapshot:t', 'y', 'ridge', '{"alpah": 1}', '{x1}')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'snapshot:t', 'y', 'ridge', '{"alpha": -1}', '{x1}')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'snapshot:t', 'y', 'ridge', '{"alpha": "big"}', '{x1}')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'snapshot:t', 'y', 'linear_regression', '{"alpha": 1}', '{x1}')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'snapshot:t', 'y', 'linear_regression', '[1]', '{x1}')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'snapshot:t', 'y', 'deep_learning')$$);
SELECT regress.err($$SELECT ml.train_model('m@2', 'snapshot:t', 'y')$$);
SELECT regress.err($$SELECT ml.train_model(NULL, 'snapshot:t', 'y')$$);
SELECT regress.err($$SELECT ml.train_model('m', NULL, 'y')$$);
SELECT regress.err($$SELECT ml.train_model('m', 'snapshot:t', NULL)$$);
SELECT regress.err($$SELECT ml.explain('nosuch')$$);

-- Unicode and quoted identifiers are columns like any other; names of models stay plain.
CREATE TABLE "prix €" ("surface m²" float8, "Étage" int, "prix €" float8);
INSERT INTO "prix €" SELECT i, i % 4, 1000 + 12 * i + 30 * (i % 4) FROM generate_series(1, 60) i;
SELECT version FROM ml.train_model('prix', '"prix €"', 'prix €', test_fraction => 0);
SELECT feature, round(coefficient::numeric, 6) AS coefficient FROM ml.explain('prix');
SELECT round(ml.predict('prix', p)::numeric, 6) FROM "prix €" p WHERE "surface m²" = 10;
SELECT regress.err($$SELECT ml.train_model('prix€', '"prix €"', 'prix €')$$);
SELECT regress.err($$SELECT ml.train_model(repeat('m', 64), '"prix €"', 'prix €')$$);
-- Huge and empty inputs.
SELECT regress.err($$SELECT ml.predict('prix', array_fill(1::float8, ARRAY[1000000]))$$);
SELECT regress.err($$SELECT ml.predict('prix', '{}'::float8[])$$);
SELECT regress.err($$SELECT ml.explain(-1::bigint)$$);
SELECT regress.err($$SELECT ml.train_model('m', 'snapshot:t', 'y', features => ARRAY[NULL]::text[])$$);
SELECT regress.err($$SELECT ml.train_model('m', 'snapshot:t', 'y', 'ridge', '{"alpha": 1e400}')$$);
SELECT regress.err($$SELECT ml.grant_model('prix', 'no_such_role')$$);
SELECT regress.err($$SELECT ml.grant_model('prix', 'public', 'own')$$);
SELECT regress.err($$SELECT * FROM ml.openlineage_events('yesterday noon'::text::timestamptz + interval '1 century') LIMIT 1$$);
SELECT regress.err($$SELECT ml.lineage_graph(NULL, NULL)$$);

-- Collinearity: ridge is the documented way out.
SELECT version FROM ml.train_model('collinear_ridge', 'collinear', 'y', 'ridge', '{"alpha": 0.1}', test_fraction => 0);

-- Nothing half-written by the failures above (the ridge model aside).
SELECT count(*) - :models AS new_models FROM ml.models;
SELECT count(*) - :snapshots AS new_snapshots FROM ml.snapshots;
SELECT count(*) - :events AS new_events FROM ml.model_events;

-- A user who cannot read a snapshot cannot train on it.
CREATE ROLE ml_intruder;
GRANT CREATE ON SCHEMA public TO ml_intruder;
SET ROLE ml_intruder;
SELECT regress.err($$SELECT ml.train_model('stolen', 'snapshot:t', 'y', features => '{x1}')$$);
SELECT regress.err($$SELECT ml.snapshot('t', name => 'stolen')$$);
RESET ROLE;
REVOKE CREATE ON SCHEMA public FROM ml_intruder;
DROP ROLE ml_intruder;
