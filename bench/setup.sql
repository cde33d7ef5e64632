-- pg_mlops benchmark: run by bench/run.sh, which writes docs/benchmarks.md.
-- Every figure is a ratio against a baseline measured in the same run.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET ml.progress = off;
CREATE EXTENSION IF NOT EXISTS pg_mlops;

-- 1,000,000 rows x 20 float8 features and a target.
SELECT setseed(0.5);
DROP TABLE IF EXISTS bench_data;
CREATE TABLE bench_data AS
SELECT i AS id,
       random() AS f1, random() AS f2, random() AS f3, random() AS f4, random() AS f5,
       random() AS f6, random() AS f7, random() AS f8, random() AS f9, random() AS f10,
       random() AS f11, random() AS f12, random() AS f13, random() AS f14, random() AS f15,
       random() AS f16, random() AS f17, random() AS f18, random() AS f19, random() AS f20
FROM generate_series(1, :rows) i;
-- A float8 target y for regression and a boolean label for classification,
-- set in one UPDATE (one rewrite of the table).  The label follows a logistic
-- model of the same linear rule, centered on its mean 0.75: the classes are
-- balanced and overlap (not separable), so the unpenalized fit has a finite
-- optimum.
ALTER TABLE bench_data ADD COLUMN y float8, ADD COLUMN label boolean;
UPDATE bench_data
SET y = 1 + f1 - 2 * f2 + 3 * f3 + 0.5 * f10 - f20 + 0.1 * random(),
    label = random() < 1 / (1 + exp(-2 * (f1 - 2 * f2 + 3 * f3 + 0.5 * f10 - f20 - 0.75)));
VACUUM ANALYZE bench_data;
SELECT name FROM ml.snapshot('SELECT f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, y FROM bench_data',
                             name => 'bench', test_fraction => 0.25);
SELECT relation AS snap FROM ml.snapshots WHERE name = 'bench' \gset
VACUUM ANALYZE :snap;

-- The classification and clustering benchmarks: the same features and the
-- label, same split fraction and seed.
SELECT name FROM ml.snapshot('SELECT f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, label FROM bench_data',
                             name => 'bench_cls', test_fraction => 0.25);
SELECT relation AS snap_cls FROM ml.snapshots WHERE name = 'bench_cls' \gset
VACUUM ANALYZE :snap_cls;
