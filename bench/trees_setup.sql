-- Synthetic regression data for the tree benchmarks (bench/trees.sh) and
-- test/reference/check_trees_vs_xgboost.py: :rows rows x 20 float8
-- features and a float8 target y, generated in SQL with a fixed seed.
-- The target is bench/setup.sql's linear rule plus a smooth interaction and
-- a step, so that depth matters; f7 is NULL in about 5% of the rows (a
-- missing value, which both pg_mlops and XGBoost route by a learned default
-- direction), and f7's effect on y is zero where it is NULL.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET ml.progress = off;
CREATE EXTENSION IF NOT EXISTS pg_mlops;
SELECT setseed(0.25);
DROP TABLE IF EXISTS trees_data;
CREATE TABLE trees_data AS
SELECT i AS id,
       random() AS f1, random() AS f2, random() AS f3, random() AS f4, random() AS f5,
       random() AS f6, random() AS f7, random() AS f8, random() AS f9, random() AS f10,
       random() AS f11, random() AS f12, random() AS f13, random() AS f14, random() AS f15,
       random() AS f16, random() AS f17, random() AS f18, random() AS f19, random() AS f20,
       random() AS u, random() AS noise
FROM generate_series(1, :rows) i;
UPDATE trees_data SET f7 = CASE WHEN u < 0.05 THEN NULL ELSE f7 END;
ALTER TABLE trees_data ADD COLUMN y float8;
UPDATE trees_data
SET y = 1 + f1 - 2 * f2 + 3 * f3 + 0.5 * f10 - f20
        + 2 * sin(6 * f4) * f5 + CASE WHEN f6 > 0.5 THEN 1 ELSE 0 END
        + coalesce(f7 * f8, 0) + 0.1 * noise;
ALTER TABLE trees_data DROP COLUMN u, DROP COLUMN noise;
VACUUM ANALYZE trees_data;
SELECT name FROM ml.snapshot('SELECT id, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, y FROM trees_data',
                             name => 'trees', test_fraction => 0.25);
SELECT relation AS snap FROM ml.snapshots WHERE name = 'trees' \gset
VACUUM ANALYZE :snap;
