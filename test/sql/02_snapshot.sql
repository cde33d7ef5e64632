-- Snapshots: immutable, hashed, deterministically split copies of data.
SET ml.progress = off;
CREATE TABLE houses (id int, area float8, rooms int, city text, price numeric);
INSERT INTO houses
SELECT i, 50 + (i * 37) % 200, 1 + i % 6, (ARRAY['Lyon', 'Paris', 'Nice'])[1 + i % 3],
       1000 + 3 * ((i * 37) % 200) + 20 * (i % 6)
FROM generate_series(1, 400) i;
UPDATE houses SET city = NULL WHERE id % 50 = 0;

SELECT id, name, source, source_relations, relation, row_count, train_count + test_count = row_count AS counts_add_up,
       test_fraction, seed, length(content_hash) AS hash_length, created_by = current_user AS by_me
FROM ml.snapshot('houses', name => 'houses_v1');

-- The split is close to the requested fraction.
SELECT test_count BETWEEN 70 AND 130 AS fraction_plausible FROM ml.snapshots WHERE name = 'houses_v1';
-- The columns and their types; the snapshot relation holds the same rows.
SELECT columns FROM ml.snapshots WHERE name = 'houses_v1';
SELECT (SELECT count(*) FROM ml_data.snapshot_1) AS copied,
       (SELECT count(*) FROM (SELECT id, area, rooms, city, price FROM ml_data.snapshot_1
                              EXCEPT ALL SELECT * FROM houses) d) AS differing;

-- Profile: numeric columns against SQL, categorical tops.
SELECT (p->>'count')::int AS count, (p->>'nulls')::int AS nulls, (p->>'min')::float8 AS min,
       (p->>'max')::float8 AS max, abs((p->>'mean')::float8 - (SELECT avg(area) FROM houses)) < 1e-9 AS mean_ok,
       abs((p->>'stddev')::float8 - (SELECT stddev_samp(area) FROM houses)) < 1e-9 AS stddev_ok,
       jsonb_array_length(p->'decile_edges') AS edges, jsonb_array_length(p->'decile_shares') AS bins,
       abs((SELECT sum(x::float8) FROM jsonb_array_elements_text(p->'decile_shares') x) - 1) < 1e-12 AS shares_sum_to_1
FROM (SELECT profile->'area' AS p FROM ml.snapshots WHERE name = 'houses_v1') s;
SELECT profile->'city'->>'kind' AS kind, profile->'city'->>'nulls' AS nulls,
       profile->'city'->>'distinct' AS distinct_values, jsonb_array_length(profile->'city'->'top') AS tops,
       profile->'city'->'top'->0->>'value' AS most_frequent
FROM ml.snapshots WHERE name = 'houses_v1';

-- Order-independent content hash: same rows in another physical order, same hash.
CREATE TABLE houses_shuffled AS SELECT * FROM houses ORDER BY md5(id::text);
SELECT (SELECT content_hash FROM ml.snapshot('houses_shuffled', name => 'shuffled')) =
       (SELECT content_hash FROM ml.snapshots WHERE name = 'houses_v1') AS same_hash;
-- The split only depends on row content and seed: same rows, same sides.
SELECT count(*) AS rows_on_other_side FROM ml_data.snapshot_1 a JOIN ml_data.snapshot_2 b USING (id)
WHERE a._ml_is_test <> b._ml_is_test;

-- One changed value, one added row, one removed row: each changes the hash.
UPDATE houses_shuffled SET area = area + 0.5 WHERE id = 7;
SELECT content_hash <> (SELECT content_hash FROM ml.snapshots WHERE name = 'houses_v1') AS changed_value
FROM ml.snapshot('houses_shuffled', name => 'changed_value');
UPDATE houses_shuffled SET area = area - 0.5 WHERE id = 7;
INSERT INTO houses_shuffled SELECT * FROM houses WHERE id = 7;
SELECT content_hash <> (SELECT content_hash FROM ml.snapshots WHERE name = 'houses_v1') AS duplicated_row
FROM ml.snapshot('houses_shuffled', name => 'duplicated_row');
DELETE FROM houses_shuffled WHERE id IN (7, 8);
SELECT content_hash <> (SELECT content_hash FROM ml.snapshots WHERE name = 'houses_v1') AS removed_row
FROM ml.snapshot('houses_shuffled', name => 'removed_row');

-- Grown data: old rows keep their side of the split.
INSERT INTO houses SELECT i, 60, 2, 'Nice', 1200 FROM generate_series(401, 800) i;
SELECT row_count FROM ml.snapshot('houses', name => 'houses_v2');
SELECT count(*) AS moved FROM ml_data.snapshot_1 a
JOIN ml_data.snapshot_6 b ON (a.id, a.area, a.rooms, a.city, a.price) IS NOT DISTINCT FROM (b.id, b.area, b.rooms, b.city, b.price)
WHERE a._ml_is_test <> b._ml_is_test;
-- Another seed moves rows.
SELECT seed FROM ml.snapshot('houses', name => 'houses_seed7', seed => 7);
SELECT count(*) > 0 AS other_seed_moves FROM ml_data.snapshot_1 a
JOIN ml_data.snapshot_7 b USING (id)
WHERE a._ml_is_test <> b._ml_is_test;

-- Queries and views: the relations read are recorded.
CREATE VIEW big_houses AS SELECT * FROM houses WHERE area > 150;
SELECT name, source_relations, row_count > 0 AS has_rows
FROM ml.snapshot('SELECT h.*, 1 AS one FROM big_houses h;', name => 'from_view');
SELECT source_relations FROM ml.snapshot('WITH a AS (SELECT * FROM houses) SELECT a.id, s.area FROM a JOIN houses_shuffled s USING (id)', name => 'from_join');
SELECT test_count, train_count FROM ml.snapshot('VALUES (1, 2.0), (2, 3.0)', name => 'no_test', test_fraction => 0);

-- Snapshot relations are immutable.
SELECT regress.err('UPDATE ml_data.snapshot_1 SET area = 0');
SELECT regress.err('DELETE FROM ml_data.snapshot_1');
SELECT regress.err('INSERT INTO ml_data.snapshot_1 SELECT * FROM ml_data.snapshot_1 LIMIT 1');
SELECT regress.err('TRUNCATE ml_data.snapshot_1');

-- Every snapshot is in the audit log.
SELECT count(*) FROM ml.model_events WHERE action = 'snapshot';

-- Bad input leaves nothing behind.
SELECT count(*) AS snapshots_before FROM ml.snapshots \gset
SELECT regress.err($$SELECT ml.snapshot('no_such_table')$$);
SELECT regress.err($$SELECT ml.snapshot('SELECT * FROM no_such_table')$$);
SELECT regress.err($$SELECT ml.snapshot('houses', name => 'houses_v1')$$);
SELECT regress.err($$SELECT ml.snapshot('houses', test_fraction => -0.1)$$);
SELECT regress.err($$SELECT ml.snapshot('houses', test_fraction => 1)$$);
SELECT regress.err($$SELECT ml.snapshot('houses', test_fraction => NULL)$$);
SELECT regress.err($$SELECT ml.snapshot('SELECT * FROM houses WHERE false')$$);
SELECT regress.err($$SELECT ml.snapshot('houses', name => 'bad name')$$);
SELECT regress.err($$SELECT ml.snapshot('')$$);
SELECT regress.err($$SELECT ml.snapshot('SELECT 1; SELECT 2')$$);
SELECT count(*) = :snapshots_before AS nothing_written FROM ml.snapshots;
SELECT count(*) AS stray_relations FROM pg_class
WHERE relnamespace = 'ml_data'::regnamespace AND relkind = 'r'
  AND relname NOT IN (SELECT substr(relation, 9) FROM ml.snapshots);
