-- Hostile inputs to the internal C functions: aggregate states, training
-- plans (bytea and jsonb) and drift specs that disagree with themselves must
-- fail with an error, never crash the server.  Valid states come from real
-- aggregate calls and are mutated byte by byte.
CREATE SCHEMA hostile;
-- A little-endian int32 at a byte offset of a bytea, read and written.
CREATE FUNCTION hostile.i32(s bytea, off int) RETURNS bigint LANGUAGE sql AS $$
    SELECT (get_byte(s, off) + 256 * get_byte(s, off + 1) + 65536 * get_byte(s, off + 2)
            + 16777216 * get_byte(s, off + 3)::bigint + 2147483648) % 4294967296 - 2147483648
$$;
CREATE FUNCTION hostile.set_i32(s bytea, off int, v bigint) RETURNS bytea LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 0..3 LOOP
        s := set_byte(s, off + i, ((v >> (8 * i)) & 255)::int);
    END LOOP;
    RETURN s;
END $$;
-- Each statistics aggregate's state (the transition without the final function).
CREATE AGGREGATE hostile.lstate(float8[], float8, float8[]) (SFUNC = ml._logistic_stats_accum, STYPE = bytea);
CREATE AGGREGATE hostile.sstate(float8[], integer, float8[]) (SFUNC = ml._softmax_stats_accum, STYPE = bytea);
CREATE AGGREGATE hostile.kstate(float8[], float8[]) (SFUNC = ml._kmeans_stats_accum, STYPE = bytea);
CREATE AGGREGATE hostile.nstate(integer, integer, float8[]) (SFUNC = ml._nb_stats_accum, STYPE = bytea);
CREATE TABLE hostile.rows AS
SELECT i, (i % 2)::float8 AS y, i % 3 AS c, ARRAY[i::float8, (i * 7) % 5] AS x FROM generate_series(1, 50) i;
CREATE TABLE hostile.states AS
SELECT 'logistic' AS kind, hostile.lstate('{0,0,0}', y, x) AS s FROM hostile.rows
UNION ALL SELECT 'softmax', hostile.sstate('{{0,0,0},{0,0,0},{0,0,0}}', c, x) FROM hostile.rows
UNION ALL SELECT 'kmeans', hostile.kstate('{{0,0},{1,1}}', x) FROM hostile.rows
UNION ALL SELECT 'naive_bayes', hostile.nstate(3, c, x) FROM hostile.rows;
SELECT kind, ml._agg_state_info(s) AS info, ml._agg_final(s) IS NOT NULL AS finals,
       ml._agg_final(ml._agg_combine(s, s)) IS NOT NULL AS combines
FROM hostile.states ORDER BY kind;

-- Mutations of each state (byte offsets in the bytea: algorithm 8, pass 12,
-- p 16, K 20, block_rows 24, partial_len 28, result_len 32, param_len 36,
-- nbuf 40, skipped 52, acc_len 60, parameters from 68).  Each must fail in
-- the final, info and combine functions alike.
CREATE TABLE hostile.mutations (name text, expr text);
INSERT INTO hostile.mutations VALUES
  ('empty', $$''::bytea$$),
  ('header only', $$substr(s, 1, 68)$$),
  ('one byte short', $$substr(s, 1, length(s) - 1)$$),
  ('one byte long', $$s || '\x00'::bytea$$),
  ('bad magic', $$set_byte(s, 0, 0)$$),
  ('unknown version', $$set_byte(s, 4, 9)$$),
  ('unknown algorithm', $$hostile.set_i32(s, 8, 99)$$),
  ('another algorithm', $$hostile.set_i32(s, 8, 1)$$),
  ('unknown pass', $$hostile.set_i32(s, 12, 42)$$),
  ('negative p', $$hostile.set_i32(s, 16, -3)$$),
  ('huge p', $$hostile.set_i32(s, 16, 1000000000)$$),
  ('negative K', $$hostile.set_i32(s, 20, -1)$$),
  ('block_rows 0', $$hostile.set_i32(s, 24, 0)$$),
  ('partial_len 1', $$hostile.set_i32(s, 28, 1)$$),
  ('partial_len 1, acc_len 1, length agreeing',
   $$substr(hostile.set_i32(hostile.set_i32(s, 28, 1), 60, 1), 1, length(s) - 8 * (hostile.i32(s, 60)::int - 1))$$),
  ('partial_len huge', $$hostile.set_i32(s, 28, 2147483647)$$),
  ('result_len disagrees', $$hostile.set_i32(s, 32, hostile.i32(s, 32) + 1)$$),
  ('negative param_len', $$hostile.set_i32(s, 36, -1)$$),
  ('param_len disagrees', $$hostile.set_i32(s, 36, hostile.i32(s, 36) + 1)$$),
  ('negative nbuf', $$hostile.set_i32(s, 40, -1)$$),
  ('nbuf over block_rows', $$hostile.set_i32(s, 40, 5000)$$),
  ('negative skipped', $$hostile.set_i32(s, 56, -1)$$),
  ('huge acc_len', $$hostile.set_i32(s, 60, 2147483647)$$),
  ('holdout 0.5', $$overlay(s placing '\x000000000000e03f'::bytea from 69)$$),
  ('NaN second parameter', $$overlay(s placing '\x000000000000f87f'::bytea from 77)$$),
  ('second parameter 1e9', $$overlay(s placing '\x0000000065cdcd41'::bytea from 77)$$);
CREATE FUNCTION hostile.sqlstate(q text) RETURNS text LANGUAGE sql AS $$ SELECT split_part(regress.err(q), ':', 1) $$;
SELECT m.name, st.kind,
       regress.err(format('SELECT ml._agg_final(%s) FROM hostile.states WHERE kind = %L', m.expr, st.kind)) AS final_error,
       hostile.sqlstate(format('SELECT ml._agg_state_info(%s) FROM hostile.states WHERE kind = %L', m.expr, st.kind)) AS info,
       hostile.sqlstate(format('SELECT ml._agg_combine(s, %s) FROM hostile.states WHERE kind = %L', m.expr, st.kind)) AS combine
FROM hostile.mutations m, (SELECT DISTINCT kind FROM hostile.states) st
ORDER BY m.name, st.kind;

-- Crafted states (one-row blocks): a partial of one double for a pass that
-- writes 14 (the reported crash), passed to the final function, as a user
-- aggregate's state, and as an initial condition of a transition.

SELECT regress.err($$SELECT ml._agg_final('\x47414c4d01000100050000000300000001000000000000000100000001000000ffffffff0300000001000000000000000000000000000000000000000100000000000000000000000000f0bf00000000000000000000000000000000000000000000f03f000000000000004000000000000000000000000000000000'::bytea)$$) AS partial_len_1;
SELECT regress.err($$SELECT ml._agg_final('\x47414c4d01000100050000000300000001000000000000000100000001000000010000000300000001000000000000000000000000000000000000000100000000000000000000000000f0bf00000000000000000000000000000000000000000000f03f000000000000004000000000000000000000000000000000'::bytea)$$) AS user_partial_len_1;
CREATE AGGREGATE hostile.linit(float8[], float8, float8[]) (SFUNC = ml._logistic_stats_accum, STYPE = bytea,
    INITCOND = '\x47414c4d01000100050000000300000001000000000000000100000001000000ffffffff0300000000000000000000000000000000000000000000000100000000000000000000000000f0bf000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000');
SELECT regress.err($$SELECT hostile.linit('{0,0}', 1, ARRAY[2.0]::float8[])$$) AS initcond_partial_len_1;
CREATE AGGREGATE hostile.cinit(bytea) (SFUNC = ml._agg_combine, STYPE = bytea,
    INITCOND = '\x47414c4d01000100050000000300000001000000000000000100000001000000ffffffff0300000001000000000000000000000000000000000000000100000000000000000000000000f0bf00000000000000000000000000000000000000000000f03f000000000000004000000000000000000000000000000000');
SELECT regress.err($$SELECT hostile.cinit(s) FROM hostile.states WHERE kind = 'logistic'$$) AS combine_initcond;
-- A well-formed one-row-block logistic state works as an initial condition.
CREATE AGGREGATE hostile.lok(float8[], float8, float8[]) (SFUNC = ml._logistic_stats_accum, STYPE = bytea,
    INITCOND = '\x47414c4d0100010005000000030000000100000000000000010000000b000000090000000300000000000000000000000000000000000000000000000b00000000000000000000000000f0bf0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000');
SELECT ml._agg_state_info('\x47414c4d0100010005000000030000000100000000000000010000000b000000090000000300000000000000000000000000000000000000000000000b00000000000000000000000000f0bf0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'::bytea) AS tiny;
SELECT (ml._agg_final(hostile.lok(NULL, y, ARRAY[x[1]]))::numeric[])[1:3] AS n_loglik_pos FROM hostile.rows WHERE i <= 4;
SELECT regress.err($$SELECT ml._agg_final('\x47414c4d01000400070000000500000001000000000000000100000003000000ffffffff0400000000000000000000000100000000000000000000000300000000000000000000000000f0bf0000000000000000000000000000e03f000000000000f03f0000000000000000000000000000000000000000000000000000000000408f4000000000000000000000000000000000'::bytea)$$) AS "sample row count lies";
SELECT regress.err($$SELECT ml._agg_final('\x47414c4d01000300090000000700000001000000a08601000100000005000000ffffffff0200000000000000000000000000000000000000000000000500000000000000000000000000f0bf00000000006af84000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'::bytea)$$) AS "naive Bayes K disagrees";
SELECT regress.err($$SELECT ml._agg_final('\x47414c4d01000100060000000400000001000000000000000100000064000000ffffffff0400000000000000000000000000000000000000000000006400000000000000000000000000f0bf0000c0ffffffdf41000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'::bytea)$$) AS "softmax K 2^31-1";
SELECT regress.err($$SELECT ml._agg_final('\x47414c4d0100010005000000030000000100000000000000010000000b0000000900000003000000ffffffff000000000000000000000000000000000b00000000000000000000000000f0bf0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'::bytea)$$) AS "negative nbuf";
SELECT regress.err($$SELECT ml._agg_final('\x47414c4d0100010005000000030000000100000000000000010000000b0000000900000003000000000000000000000000000000fbffffffffffffff0b00000000000000000000000000f0bf0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'::bytea)$$) AS "negative skipped";
SELECT regress.err($$SELECT ml._agg_final('\x47414c4d01000100010000000200000001000000000000000100000064000000ffffffff0200000000000000000000000000000000000000000000006400000000000000000000000000f0bf0000000080842e410000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'::bytea)$$) AS "evaluation model length";
SELECT regress.err($$SELECT ml._agg_final('\x47414c4d01000300090000000700000001000000020000000100000006000000060000000200000001000000000000000000000000000000000000000600000000000000000000000000f0bf00000000000000400000000000001c40000000000000f03f0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'::bytea)$$) AS "buffered class id 7 of 2";
SELECT regress.err($$SELECT ml._agg_final('\x47414c4d0100010063000000030000000100000000000000010000000b000000090000000300000000000000000000000000000000000000000000000b00000000000000000000000000f0bf0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'::bytea)$$) AS "algorithm 99";
SELECT regress.err($$SELECT ml._agg_final('\x47414c4d01000100050000000300000080841e0000000000010000000b000000090000000300000000000000000000000000000000000000000000000b00000000000000000000000000f0bf00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'::bytea)$$) AS "p 2000000";

-- Training plans for ml._pass: a header (algorithm, partial_len), then the
-- plan's encoding (src/core/wire.h).  This one reads y (float8, column 2)
-- and x (float8, column 1) for the statistics pass of linear regression.
CREATE TABLE hostile.pt (x float8, y float8, label text);
INSERT INTO hostile.pt SELECT i, 2 * i + 1, 'a' FROM generate_series(1, 20) i;
CREATE TABLE hostile.plans (name text, plan bytea);
INSERT INTO hostile.plans VALUES ('valid', decode('01000000' || '40000000' || '4d4c504c' || '01000000' || '01000000' || '02000000'
    || 'bd020000' || '01000000' || '00000000' || '0000' || '00000000' || '00000000' || '00'
    || '01000000' || '01000000' || 'bd020000' || '01000000' || '78' || '01000000' || '01000000'
    || '0000000000000000' || '00000000' || '0000', 'hex'));
SELECT a[1] AS n_train, array_length(a, 1) AS len
FROM (SELECT ml._pass(t, false, p.plan, 0, '{-1}') AS a FROM hostile.pt t, hostile.plans p WHERE p.name = 'valid' GROUP BY p.plan) x;
-- Cut at every byte: each a clean error.
SELECT regexp_replace(regress.err(format('SELECT ml._pass(t, false, %L::bytea, 0, ''{-1}'') FROM hostile.pt t',
                                         substr(plan, 1, n))), 'count \d+', 'count N') AS error, count(*) AS cuts
FROM hostile.plans, generate_series(0, length(plan) - 1) n WHERE name = 'valid' GROUP BY 1 ORDER BY 1;
-- Fields that disagree (byte offsets: algorithm 0, partial_len 4, target
-- attnum 20, target type 24, p 28, n_classes 42, n_inputs 47, input attnum
-- 51, input type 55, width 68).
SELECT v.name, regress.err(format('SELECT ml._pass(t, false, %L::bytea, %s, %L) FROM hostile.pt t', v.plan, v.pass, v.params)) AS error
FROM hostile.plans p, LATERAL (VALUES
    ('algorithm 0', hostile.set_i32(p.plan, 0, 0), 0, '{-1}'),
    ('partial_len 1', hostile.set_i32(p.plan, 4, 1), 0, '{-1}'),
    ('partial_len huge', hostile.set_i32(p.plan, 4, 2147483647), 0, '{-1}'),
    ('target column 0', hostile.set_i32(p.plan, 20, 0), 0, '{-1}'),
    ('target column 9', hostile.set_i32(p.plan, 20, 9), 0, '{-1}'),
    ('target type int4', hostile.set_i32(p.plan, 24, 23), 0, '{-1}'),
    ('p 2', hostile.set_i32(p.plan, 28, 2), 0, '{-1}'),
    ('huge class count', hostile.set_i32(p.plan, 42, 2147483647), 0, '{-1}'),
    ('huge input count', hostile.set_i32(p.plan, 47, 2147483647), 0, '{-1}'),
    ('negative input count', hostile.set_i32(p.plan, 47, -1), 0, '{-1}'),
    ('input column 3 (text)', hostile.set_i32(p.plan, 51, 3), 0, '{-1}'),
    ('input type int8', hostile.set_i32(p.plan, 55, 20), 0, '{-1}'),
    ('width 5', hostile.set_i32(p.plan, 68, 5), 0, '{-1}'),
    ('trailing byte', p.plan || '\x00'::bytea, 0, '{-1}'),
    ('unknown pass', p.plan, 42, '{-1}'),
    ('logistic pass without beta', p.plan, 3, '{-1}'),
    ('softmax pass with 1e9 classes', p.plan, 4, '{-1,1e9}'),
    ('holdout NaN', p.plan, 0, '{NaN}')
) v(name, plan, pass, params)
WHERE p.name = 'valid' ORDER BY 1;
SELECT regress.err($$SELECT ml._pass_accum(NULL, NULL, false, '\x00', 0, '{-1}')$$) AS outside_an_aggregate;
-- A state of another width as the initial condition of ml._pass's transition.
CREATE AGGREGATE hostile.pinit(record, boolean, bytea, integer, float8[]) (SFUNC = ml._pass_accum, STYPE = bytea,
    INITCOND = '\x47414c4d0100020001000000000000000300000000000000010000001c000000ffffffff0100000000000000000000000000000000000000000000001c00000000000000000000000000f0bf000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000');
SELECT regress.err($$SELECT hostile.pinit(t, false, p.plan, 0, '{-1}') FROM hostile.pt t, hostile.plans p WHERE p.name = 'valid'$$) AS initcond_of_another_plan;

-- Drift specs (parsed before the model is looked up).
SELECT spec, regress.err(format('SELECT ml._drift_profile(0::bigint, %L::jsonb, 1.0::float8)', spec)) AS error
FROM (VALUES ('{"features":[{}]}'), ('{}'), ('[]'), ('"features"'), ('{"features":{}}'), ('{"features":5}'),
             ('{"features":[5]}'), ('{"features":[{"name":5}]}'), ('{"features":[{"name":null}]}'),
             ('{"features":[{"name":"x","kind":7}]}'),
             ('{"features":[{"name":"x","kind":"categorical","values":[1,2]}]}'),
             ('{"features":[{"name":"x","kind":"categorical","values":"ab"}]}'),
             ('{"features":[{"name":"x","edges":[1,"a"]}]}'), ('{"features":[{"name":"x","edges":{"a":1}}]}'),
             ('{"features":[{"name":"x","mean":"high"}]}'),
             ('{"features":[{"name":"x"}],"prediction_edges":{}}'),
             ('{"features":[{"name":"x"}],"prediction_mean":[1]}')) s(spec)
ORDER BY 1;

-- jsonb training plans for ml._fit (read before any row).
SET ml.progress = off;
SELECT relation AS ft FROM ml.snapshot('SELECT 1.5::float8 AS x, 1 AS y', name => 'hostile_ft') \gset
RESET ml.progress;
SELECT plan, regress.err(format('SELECT ml._fit(%L, %L::jsonb, %L, ''{}'', NULL, NULL)', :'ft', plan, 'logistic_regression')) AS error
FROM (VALUES
    ('{"target_kind":"class","target":"y","classes":["0","1"],"class_values":[0],"inputs":[{"column":"x","kind":"number"}]}'),
    ('{"target_kind":"class","target":"y","classes":["0","1"],"class_values":[0,1,2],"inputs":[{"column":"x","kind":"number"}]}'),
    ('{"target_kind":"class","target":"y","classes":["0","1"],"class_values":["a","b"],"inputs":[{"column":"x","kind":"number"}]}'),
    ('{"target_kind":"class","target":"y","classes":["0","1"],"class_values":{"a":1},"inputs":[{"column":"x","kind":"number"}]}'),
    ('{"target_kind":"class","target":"y","classes":"01","inputs":[{"column":"x","kind":"number"}]}'),
    ('{"target_kind":"class","target":"y","classes":[0,1],"inputs":[{"column":"x","kind":"number"}]}'),
    ('{"target_kind":"class","target":"y","inputs":[{"column":"x","kind":"number"}]}'),
    ('{"target_kind":"class","target":5,"classes":["0","1"],"inputs":[{"column":"x","kind":"number"}]}'),
    ('{"target_kind":"class","target":"y","classes":["0","1"]}'),
    ('{"target_kind":"class","target":"y","classes":["0","1"],"inputs":{}}'),
    ('{"target_kind":"class","target":"y","classes":["0","1"],"inputs":[5]}'),
    ('{"target_kind":"class","target":"y","classes":["0","1"],"inputs":[{"kind":"number"}]}'),
    ('{"target_kind":"class","target":"y","classes":["0","1"],"inputs":[{"column":"x","kind":"vector"}]}'),
    ('{"target_kind":"class","target":"y","classes":["0","1"],"inputs":[{"column":"x","kind":"category"}]}'),
    ('{"target_kind":"class","target":"y","classes":["0","1"],"inputs":[{"column":"x","kind":"category","categories":"a"}]}'),
    ('{"target_kind":"class","target":"y","classes":["0","1"],"inputs":[{"column":"x","kind":"category","categories":[1]}]}'),
    ('{"target_kind":"class","target":"y","classes":["0","1"],"inputs":[{"column":"x","kind":"number","impute":"a"}]}'),
    ('{"target_kind":"class","target":"y","classes":["0","1"],"seed":1e20,"inputs":[{"column":"x","kind":"number"}]}'),
    ('{"target_kind":"class","target":"y","classes":["0","1"],"train_rows":-1,"inputs":[{"column":"x","kind":"number"}]}'),
    ('[]'), ('{}')) p(plan)
ORDER BY 1;
SELECT regress.err(format($$SELECT ml._fit(%L, '{"target_kind":"number","target":"y","inputs":[{"column":"x","kind":"number"}]}',
                                     'linear_regression', '{}', '{"a":1}', 3)$$, :'ft')) AS trials_object;

-- Other internals that take counts or bytes.
SELECT regress.err($$SELECT ml._class_metrics(65537, array_fill(1::float8, ARRAY[131073]))$$) AS class_metrics_wrapping_k;
SELECT regress.err($$SELECT ml._model_document('\x50474d4c')$$) AS model_document_truncated;

-- The server is still up.
SELECT 1 AS still_up;
SET client_min_messages = warning;
DROP SCHEMA hostile CASCADE;
RESET client_min_messages;
