-- Scoring: rows matched by column name, arrays by position.
SET ml.progress = off;
CREATE TABLE flats AS SELECT i AS id, (20 + i % 80)::float8 AS area, (i % 4)::int AS floor,
                             100 + 2.5 * (20 + i % 80) + 7 * (i % 4) + sin(i) AS rent
FROM generate_series(1, 1000) i;
SELECT version FROM ml.train_model('rent', 'flats', 'rent', features => '{area,floor}');

-- A row of the table (extra columns ignored), a row of a query, an array.
SELECT round(ml.predict('rent', f)::numeric, 6) AS by_row FROM flats f WHERE id = 10;
SELECT round(ml.predict('rent', s)::numeric, 6) AS by_query_row FROM (SELECT 2 AS floor, 30.0::float8 AS area) s;
SELECT round(ml.predict('rent', ARRAY[30, 2]::float8[])::numeric, 6) AS by_array;
SELECT round(ml.predict((SELECT id FROM ml.models WHERE name = 'rent'), ARRAY[30, 2]::float8[])::numeric, 6) AS by_id;

-- Predictions are intercept + coefficients . features, for every row.
SELECT count(*) AS mismatches FROM flats f
WHERE abs(ml.predict('rent', f) -
          ((SELECT coefficient FROM ml.explain('rent') WHERE feature = 'intercept')
           + (SELECT coefficient FROM ml.explain('rent') WHERE feature = 'area') * f.area
           + (SELECT coefficient FROM ml.explain('rent') WHERE feature = 'floor') * f.floor)) > 1e-9;

-- The test metrics stored at training agree with scoring the test rows now.
SELECT s.relation AS rent_rel FROM ml.snapshots s JOIN ml.models m ON m.snapshot_id = s.id WHERE m.name = 'rent' \gset
SELECT abs(sqrt(avg((ml.predict('rent', t) - t.rent) ^ 2)) - (m.metrics->'test'->>'rmse')::float8) < 1e-9 AS rmse_agrees,
       abs(avg(abs(ml.predict('rent', t) - t.rent)) - (m.metrics->'test'->>'mae')::float8) < 1e-9 AS mae_agrees
FROM :rent_rel t, ml.models m WHERE t._ml_is_test AND m.name = 'rent' GROUP BY m.metrics;

-- A NULL in a row is imputed with the value stored in the model (the
-- training mean by default); NULLs in an encoded array give NULL.
SELECT ml.predict('rent', s) = ml.predict('rent', ARRAY[(SELECT avg(area) FROM :rent_rel WHERE NOT _ml_is_test), 1]::float8[])
       AS null_imputed_with_train_mean
FROM (SELECT NULL::float8 AS area, 1 AS floor) s;
SELECT ml.predict('rent', ARRAY[30, NULL]::float8[]) IS NULL AS null_element;
SELECT ml.predict('rent', NULL::float8[]) IS NULL AS null_array;

-- The per-backend cache notices a promotion: 'rent' follows production.
SELECT version FROM ml.train_model('rent', 'flats', 'rent', features => '{area}');
SELECT version FROM ml.promote('rent', 1);
SELECT round(ml.predict('rent', ARRAY[30, 2]::float8[])::numeric, 6) AS v1;
SELECT version FROM ml.promote('rent', 2);
SELECT regress.err($$SELECT ml.predict('rent', ARRAY[30, 2]::float8[])$$);
SELECT round(ml.predict('rent', ARRAY[30]::float8[])::numeric, 6) = round(ml.predict('rent@2', f)::numeric, 6) AS v2
FROM flats f WHERE area = 30 LIMIT 1;

-- A call site that outlives a statement (PL/pgSQL keeps its expressions for
-- the whole call) follows promotions too: each loop round promotes another
-- version and the same expression scores with it (its cache entry and
-- column readers remade after the promotion reloads the model).
CREATE FUNCTION regress.predict_across_promotions() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    f flats;
    got text := '';
    v int;
BEGIN
    SELECT * INTO f FROM flats WHERE id = 10;
    FOREACH v IN ARRAY ARRAY[1, 2, 1] LOOP
        PERFORM ml.promote('rent', v);
        got := got || CASE WHEN ml.predict('rent', f) = ml.predict('rent@' || v, f) THEN 'v' || v || ' ' ELSE 'stale ' END;
    END LOOP;
    RETURN got;
END $$;
SELECT regress.predict_across_promotions() AS follows_production;
SELECT version FROM ml.promote('rent', 2);

-- Parallel query runs predict in workers and gets the same answers.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
CREATE TABLE many_flats AS SELECT f.* FROM flats f, generate_series(1, 50);
ANALYZE many_flats;
EXPLAIN (COSTS OFF) SELECT sum(ml.predict('rent@1', f)) FROM many_flats f;
SELECT round(sum(ml.predict('rent@1', f))::numeric, 3) = round(50 * (SELECT sum(ml.predict('rent@1', f)) FROM flats f)::numeric, 3) AS same
FROM many_flats f;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- Bad input.
SELECT regress.err($$SELECT ml.predict('rent@1', s) FROM (SELECT 1.0::float8 AS area) s$$);
SELECT regress.err($$SELECT ml.predict('rent@1', s) FROM (SELECT 'big'::text AS area, 1 AS floor) s$$);
SELECT regress.err($$SELECT ml.predict('rent@1', ARRAY[1, 2, 3]::float8[])$$);
SELECT regress.err($$SELECT ml.predict('rent@1', ARRAY[[1, 2]]::float8[])$$);
SELECT regress.err($$SELECT ml.predict('rent@1', 42)$$);
SELECT regress.err($$SELECT ml.predict('rent@1', ARRAY[1, 2]::int[])$$);
SELECT regress.err($$SELECT ml.predict('nosuch', ARRAY[1]::float8[])$$);
SELECT regress.err($$SELECT ml.predict(NULL::text, ARRAY[1]::float8[])$$);

-- Corrupted model bytes are detected, never trusted (as a superuser could
-- change them by hand: the digest binds the bytes to their row, the CRC of
-- the format checks them once rehashed).
CREATE TABLE model_backup AS SELECT id, model FROM ml.models WHERE name = 'rent' AND version = 1;
UPDATE ml.models SET model = set_byte(model, 30, get_byte(model, 30) # 1) WHERE name = 'rent' AND version = 1;
SELECT regress.err($$SELECT ml.predict('rent@1', ARRAY[1, 2]::float8[])$$);
UPDATE ml.models SET model_hash = encode(sha256(model), 'hex'), model_digest = encode(sha256(int8send(id) || model), 'hex')
WHERE name = 'rent' AND version = 1;
SELECT regress.err($$SELECT ml.predict('rent@1', ARRAY[1, 2]::float8[])$$);
UPDATE ml.models SET model = substr(model, 1, 20) WHERE name = 'rent' AND version = 1;
UPDATE ml.models SET model_hash = encode(sha256(model), 'hex'), model_digest = encode(sha256(int8send(id) || model), 'hex')
WHERE name = 'rent' AND version = 1;
SELECT regress.err($$SELECT ml.predict('rent@1', ARRAY[1, 2]::float8[])$$);
UPDATE ml.models SET model = '\x00', model_hash = encode(sha256('\x00'::bytea), 'hex'),
                     model_digest = encode(sha256(int8send(id) || '\x00'::bytea), 'hex') WHERE name = 'rent' AND version = 1;
SELECT regress.err($$SELECT ml.predict('rent@1', ARRAY[1, 2]::float8[])$$);
-- Bytes and hash copied from another version are refused too.
UPDATE ml.models m SET model = o.model, model_hash = o.model_hash FROM ml.models o
WHERE m.name = 'rent' AND m.version = 1 AND o.name = 'rent' AND o.version = 2;
SELECT regress.err($$SELECT ml.predict('rent@1', ARRAY[1, 2]::float8[])$$);
UPDATE ml.models m SET model = b.model, model_hash = encode(sha256(b.model), 'hex'),
                       model_digest = encode(sha256(int8send(m.id) || b.model), 'hex') FROM model_backup b WHERE m.id = b.id;
SELECT round(ml.predict('rent@1', ARRAY[30, 2]::float8[])::numeric, 6) AS restored;

-- The decoded-model cache is capped (ml.model_cache_size); call sites whose
-- model was evicted load it again and still score with the right version.
SELECT count(*) AS trained FROM generate_series(1, 4) i,
  LATERAL (SELECT ml.train_model('ev_' || i, format('SELECT area, floor, rent + %s AS rent FROM flats', 100 * i), 'rent')) t;
CREATE TABLE ev_expected AS
SELECT i, ml.predict('ev_' || i, f) AS by_row, ml.predict('ev_' || i, ARRAY[30, 2]::float8[]) AS by_array
FROM generate_series(1, 4) i, flats f WHERE f.id = 10;
SELECT count(DISTINCT by_row) AS distinct_models FROM ev_expected;
SET ml.model_cache_size = 0;   -- only the model loaded last stays
CREATE FUNCTION regress.predict_with_eviction() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    f flats;
    got text := '';
    k int;
    first float8;
    other float8;
BEGIN
    SELECT * INTO f FROM flats WHERE id = 10;
    FOR k IN 1..4 LOOP
        -- this call site keeps ev_1; the next one loads ev_k, which evicts it
        first := ml.predict('ev_1', f);
        other := ml.predict('ev_' || k, ARRAY[30, 2]::float8[]);
        got := got || CASE WHEN first = (SELECT by_row FROM ev_expected WHERE ev_expected.i = 1)
                             AND other = (SELECT by_array FROM ev_expected WHERE ev_expected.i = k)
                           THEN 'ok ' ELSE 'wrong ' END;
        got := got || (SELECT count(*) FROM ml._model_cache()) || ' ';
    END LOOP;
    RETURN got;
END $$;
SELECT regress.predict_with_eviction() AS site_survives_eviction;
-- One statement cycling through the models, rows and arrays.
SELECT count(*) FILTER (WHERE ml.predict('ev_' || e.i, f) <> e.by_row
                           OR ml.predict('ev_' || e.i, ARRAY[30, 2]::float8[]) <> e.by_array) AS wrong,
       count(*) AS predicted
FROM generate_series(1, 40) g JOIN ev_expected e ON e.i = g % 4 + 1, flats f WHERE f.id = 10;
SELECT count(*) <= 1 AS capped FROM ml._model_cache();
RESET ml.model_cache_size;
SELECT count(*) FILTER (WHERE ml.predict('ev_' || e.i, f) <> e.by_row) AS wrong FROM ev_expected e, flats f WHERE f.id = 10;
SELECT count(*) >= 4 AS all_kept FROM ml._model_cache();
