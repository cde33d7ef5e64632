-- Updating an installation of 0.1.0, with data and with what 0.1.0 let any
-- role write by hand, to 0.2.0: models keep predicting the same, snapshots
-- verify and reproduce, forged rows are reported and no longer trusted,
-- snapshot relations change hands, and the catalog equals a new install's.
SELECT current_database() AS regress_db \gset
-- The role that installed the extension here installs and updates it there.
SELECT r.rolname AS ext_owner FROM pg_extension e JOIN pg_roles r ON r.oid = e.extowner WHERE e.extname = 'pg_mlops' \gset
CREATE DATABASE ml_update_db;
GRANT CREATE ON DATABASE ml_update_db TO :"ext_owner";
\c ml_update_db
SET ml.progress = off;
CREATE SCHEMA regress;
GRANT USAGE ON SCHEMA regress TO PUBLIC;
CREATE FUNCTION regress.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    RETURN s || ': ' || m || coalesce(' | DETAIL: ' || nullif(d, ''), '') || coalesce(' | HINT: ' || nullif(h, ''), '');
END $$;
CREATE ROLE up_alice;
CREATE ROLE up_bob;
CREATE ROLE up_mallory;
GRANT CREATE ON SCHEMA public TO up_alice, up_bob, up_mallory;
SET ROLE :"ext_owner";
CREATE EXTENSION pg_mlops VERSION '0.1.0';
RESET ROLE;
SELECT extversion FROM pg_extension WHERE extname = 'pg_mlops';

SET ROLE up_alice;
CREATE TABLE homes AS
SELECT i AS id, (50 + i % 150)::float8 AS area, (i % 5) AS rooms, (ARRAY['north', 'south', 'east'])[1 + i % 3] AS district,
       1000 + 12 * (50 + i % 150) + 40 * (i % 5) + 30 * sin(i) AS price,
       (1000 + 12 * (50 + i % 150) + 40 * (i % 5) + 30 * sin(i)) > 2400 AS expensive
FROM generate_series(1, 600) i;
SELECT name, row_count FROM ml.snapshot('homes', name => 'homes_v1');
SELECT version FROM ml.train_model('h_linear', 'snapshot:homes_v1', 'price', features => '{area,rooms,district}');
SELECT version FROM ml.train_model('h_ridge', 'snapshot:homes_v1', 'price', 'ridge', '{"alpha": 2}', features => '{area,rooms,district}');
SELECT version FROM ml.train_model('h_boost', 'snapshot:homes_v1', 'price', 'gradient_boosting', '{"n_trees": 8, "max_depth": 3}',
                                   features => '{area,rooms,district}');
SELECT version FROM ml.train_model('h_logit', 'snapshot:homes_v1', 'expensive', 'logistic_regression', features => '{area,rooms}');
SELECT version FROM ml.train_model('h_kmeans', 'snapshot:homes_v1', NULL, 'kmeans', '{"k": 3}', features => '{area,rooms}');
SELECT name, stage FROM ml.promote('h_linear', 1);
SELECT ml.score('h_linear', 'homes', 'home_scores', 'id');
SELECT count(*) > 0 AS drift_checked FROM ml.check_drift('h_linear', 'homes');
SELECT ml.grant_model('h_linear', 'up_bob', 'use');
CREATE TABLE before_update AS
SELECT h.id, ml.predict('h_linear@1', h) AS linear, ml.predict('h_ridge@1', h) AS ridge, ml.predict('h_boost@1', h) AS boost,
       ml.predict_proba('h_logit@1', h) AS logit, ml.predict('h_kmeans@1', h) AS cluster
FROM homes h;
SELECT relation AS homes_rel FROM ml.snapshots WHERE name = 'homes_v1' \gset
RESET ROLE;

-- What 0.1.0 let any role do by hand.
SET ROLE up_mallory;
CREATE TABLE junk (x int);
INSERT INTO ml.snapshots (id, name, source, source_relations, relation, columns, row_count, train_count, test_count,
                          test_fraction, seed, content_hash, schema_hash, profile)
VALUES (nextval('ml.snapshots_id_seq'), 'forged', 'junk', '{public.junk}', 'public.junk, public.homes', '[]', 1, 1, 0, 0, 1, 'h', 'h', '{}');
CREATE TABLE ml_data.squatted (x int);
RESET ROLE;
SET ROLE up_alice;
UPDATE ml.models SET model = (SELECT model FROM ml.models WHERE name = 'h_ridge') WHERE name = 'h_linear';
RESET ROLE;

SET ROLE :"ext_owner";
ALTER EXTENSION pg_mlops UPDATE;
RESET ROLE;
SELECT extversion FROM pg_extension WHERE extname = 'pg_mlops';

-- The models predict as before, but the one whose bytes were changed by hand.
SET ROLE up_alice;
SELECT count(*) AS rows_compared,
       count(*) FILTER (WHERE b.ridge IS DISTINCT FROM ml.predict('h_ridge@1', h)) AS ridge_changed,
       count(*) FILTER (WHERE b.boost IS DISTINCT FROM ml.predict('h_boost@1', h)) AS boost_changed,
       count(*) FILTER (WHERE b.logit IS DISTINCT FROM ml.predict_proba('h_logit@1', h)) AS logit_changed,
       count(*) FILTER (WHERE b.cluster IS DISTINCT FROM ml.predict('h_kmeans@1', h)) AS kmeans_changed
FROM homes h JOIN before_update b USING (id);
SELECT regress.err($$SELECT ml.predict('h_linear@1', h) FROM homes h LIMIT 1$$) AS changed_by_hand;
SELECT intact, split_intact FROM ml.verify_snapshot('homes_v1');
SELECT model_ref, identical FROM ml.reproduce('h_ridge@1') UNION ALL SELECT model_ref, identical FROM ml.reproduce('h_boost@1')
UNION ALL SELECT model_ref, identical FROM ml.reproduce('h_logit@1') UNION ALL SELECT model_ref, identical FROM ml.reproduce('h_kmeans@1');
-- The lifecycle goes on under the new rules.
SELECT version FROM ml.train_model('h_ridge', 'snapshot:homes_v1', 'price', 'ridge', '{"alpha": 4}', features => '{area,rooms,district}');
SELECT name, stage FROM ml.promote('h_ridge', 2);
RESET ROLE;
SET ROLE up_bob;
SELECT count(*) AS bob_sees_models FROM ml.registry;
RESET ROLE;

-- The forged row and the model changed by hand are reported in the audit log
-- and no longer trusted; the squatted relation is left, with a warning.
SELECT name, relation ~ '^ml_data\.snapshot_\d+$' AS canonical_relation, dropped_by FROM ml.snapshots WHERE name = 'forged';
SELECT e.action, coalesce(s.name, m.name) AS row, e.details->>'reason' AS reason
FROM ml.model_events e LEFT JOIN ml.snapshots s ON s.id = e.snapshot_id AND e.model_id IS NULL
LEFT JOIN ml.models m ON m.id = e.model_id
WHERE e.action = 'untrusted' ORDER BY e.id;
SELECT count(*) AS mallory_owns_in_ml_data FROM pg_class WHERE relnamespace = 'ml_data'::regnamespace AND relowner = 'up_mallory'::regrole;

-- Snapshot relations belong to the extension's owner now; their creator reads them with grant option.
SELECT c.relowner = e.extowner AS owner_is_extension_owner,
       has_table_privilege('up_alice', c.oid, 'SELECT WITH GRANT OPTION') AS creator_reads,
       has_table_privilege('up_mallory', c.oid, 'SELECT') AS others_read
FROM pg_class c, pg_extension e WHERE c.oid = :'homes_rel'::regclass AND e.extname = 'pg_mlops';
SELECT has_schema_privilege('up_mallory', 'ml_data', 'CREATE') AS public_creates_in_ml_data,
       has_table_privilege('up_mallory', 'ml.snapshots', 'INSERT') AS public_inserts_snapshots,
       has_table_privilege('up_mallory', 'ml.models', 'UPDATE') AS public_updates_models;

-- The updated catalog is a new install's: functions with their settings and
-- rights, relations, columns with defaults, constraints, policies, triggers.
CREATE TEMP VIEW catalog_shape AS
SELECT 'function' AS kind, p.oid::regprocedure::text AS name,
       concat_ws(' | ', p.prorettype::regtype, l.lanname, p.prosrc, p.provolatile, p.proparallel, p.proisstrict,
                 p.prosecdef, array_to_string(p.proconfig, ','), array_to_string(p.proacl, ','), pg_get_function_arguments(p.oid)) AS shape
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.pronamespace = 'ml'::regnamespace
UNION ALL
SELECT 'relation', c.relname, concat_ws(' | ', c.relkind, c.relrowsecurity, array_to_string(c.relacl, ','),
       CASE WHEN c.relkind = 'v' THEN pg_get_viewdef(c.oid) END, array_to_string(c.reloptions, ','))
FROM pg_class c WHERE c.relnamespace = 'ml'::regnamespace
UNION ALL
SELECT 'column', c.relname || '.' || a.attname, concat_ws(' | ', a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid))
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = 'ml'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint', conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'ml'::regnamespace
UNION ALL
SELECT 'policy', polrelid::regclass::text || '.' || polname, concat_ws(' | ', polcmd, pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid))
FROM pg_policy WHERE polrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'ml'::regnamespace)
UNION ALL
SELECT 'trigger', tgrelid::regclass::text || '.' || tgname, pg_get_triggerdef(oid)
FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'ml'::regnamespace)
UNION ALL
SELECT 'event trigger', evtname, concat_ws(' | ', evtevent, evtfoid::regproc, array_to_string(evttags, ','))
FROM pg_event_trigger WHERE evtname LIKE 'ml\_%'
UNION ALL
SELECT 'schema', nspname, array_to_string(nspacl, ',') FROM pg_namespace WHERE nspname IN ('ml', 'ml_data');
SELECT count(*) > 300 AS described, md5(string_agg(kind || ':' || name || ':' || coalesce(shape, ''), E'\n' ORDER BY kind, name)) AS updated_catalog
FROM catalog_shape \gset
\c :regress_db
CREATE TEMP VIEW catalog_shape AS
SELECT 'function' AS kind, p.oid::regprocedure::text AS name,
       concat_ws(' | ', p.prorettype::regtype, l.lanname, p.prosrc, p.provolatile, p.proparallel, p.proisstrict,
                 p.prosecdef, array_to_string(p.proconfig, ','), array_to_string(p.proacl, ','), pg_get_function_arguments(p.oid)) AS shape
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.pronamespace = 'ml'::regnamespace
UNION ALL
SELECT 'relation', c.relname, concat_ws(' | ', c.relkind, c.relrowsecurity, array_to_string(c.relacl, ','),
       CASE WHEN c.relkind = 'v' THEN pg_get_viewdef(c.oid) END, array_to_string(c.reloptions, ','))
FROM pg_class c WHERE c.relnamespace = 'ml'::regnamespace
UNION ALL
SELECT 'column', c.relname || '.' || a.attname, concat_ws(' | ', a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid))
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = 'ml'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint', conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'ml'::regnamespace
UNION ALL
SELECT 'policy', polrelid::regclass::text || '.' || polname, concat_ws(' | ', polcmd, pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid))
FROM pg_policy WHERE polrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'ml'::regnamespace)
UNION ALL
SELECT 'trigger', tgrelid::regclass::text || '.' || tgname, pg_get_triggerdef(oid)
FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'ml'::regnamespace)
UNION ALL
SELECT 'event trigger', evtname, concat_ws(' | ', evtevent, evtfoid::regproc, array_to_string(evttags, ','))
FROM pg_event_trigger WHERE evtname LIKE 'ml\_%'
UNION ALL
SELECT 'schema', nspname, array_to_string(nspacl, ',') FROM pg_namespace WHERE nspname IN ('ml', 'ml_data');
SELECT md5(string_agg(kind || ':' || name || ':' || coalesce(shape, ''), E'\n' ORDER BY kind, name)) = :'updated_catalog' AS same_catalog_as_new_install,
       :'described' AS described
FROM catalog_shape;
DROP DATABASE ml_update_db;
DROP ROLE up_alice, up_bob, up_mallory;
