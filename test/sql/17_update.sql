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
-- Her own snapshot with an index and statistics whose expressions would run
-- as the new owner, and a view of hers registered under a snapshot's name.
SET ROLE up_mallory;
CREATE TABLE mallory_log (who text);
GRANT INSERT ON mallory_log TO PUBLIC;
CREATE FUNCTION up_log() RETURNS void LANGUAGE sql AS $$ INSERT INTO public.mallory_log VALUES (current_user) $$;
CREATE FUNCTION up_evil(x float8) RETURNS float8 LANGUAGE plpgsql IMMUTABLE AS
$$ BEGIN PERFORM public.up_log(); RETURN x; END $$;
CREATE TABLE mine AS SELECT i::float8 AS x, 2.0 * i AS y FROM generate_series(1, 20) i;
SELECT relation AS mine_rel FROM ml.snapshot('mine', name => 'mallory_mine') \gset
CREATE INDEX ON :mine_rel (up_evil(x));
CREATE STATISTICS ml_data.mallory_stats ON (up_evil(y)), x FROM :mine_rel;
SELECT nextval('ml.snapshots_id_seq') AS view_id \gset
CREATE VIEW ml_data.snapshot_:view_id AS SELECT up_evil(x) AS x, y, false AS _ml_is_test FROM mine;
INSERT INTO ml.snapshots (id, name, source, source_relations, relation, columns, row_count, train_count, test_count,
                          test_fraction, seed, content_hash, schema_hash, profile)
SELECT :view_id, 'mallory_view', source, source_relations, 'ml_data.snapshot_' || :view_id, columns, row_count, train_count,
       test_count, test_fraction, seed, content_hash, schema_hash, profile FROM ml.snapshots WHERE name = 'mallory_mine';
CREATE TABLE ml_data.snapshot_1000 (x int);
DELETE FROM mallory_log;
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
\set VERBOSITY terse
SELECT ml.predict('h_linear@1', h) AS changed_by_hand FROM homes h LIMIT 1;
\set VERBOSITY default
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

-- Her snapshot with an index and her view are not adopted: dropped, left
-- to her; ANALYZE, which runs index and statistics expressions as the
-- table's owner, runs hers as her; the squatted name is skipped.
SELECT name, dropped_by FROM ml.snapshots WHERE name IN ('mallory_mine', 'mallory_view') ORDER BY 1;
SELECT count(*) AS mallory_owns_in_ml_data FROM pg_class
WHERE relnamespace = 'ml_data'::regnamespace AND relowner = 'up_mallory'::regrole AND relkind IN ('r', 'v');
ANALYZE :mine_rel;
SELECT count(*) FILTER (WHERE who = 'up_mallory') > 0 AS ran_as_her, count(*) FILTER (WHERE who <> 'up_mallory') AS ran_as_others FROM mallory_log;
SELECT last_value >= 1000 AS squatted_name_skipped FROM ml.snapshots_id_seq;

-- The forged row and the model changed by hand are reported in the audit log
-- and no longer trusted; the squatted relation is left, with a warning.
SELECT name, relation ~ '^ml_data\.snapshot_\d+$' AS canonical_relation, dropped_by FROM ml.snapshots WHERE name = 'forged';
SELECT e.action, coalesce(s.name, m.name) AS row, e.details->>'reason' AS reason
FROM ml.model_events e LEFT JOIN ml.snapshots s ON s.id = e.snapshot_id AND e.model_id IS NULL
LEFT JOIN ml.models m ON m.id = e.model_id
WHERE e.action = 'untrusted' ORDER BY e.id;

-- Snapshot relations belong to the registry's owner now; their creator reads them with grant option.
SELECT c.relowner = (SELECT m.relowner FROM pg_class m WHERE m.oid = 'ml.models'::regclass) AS owner_is_registry_owner,
       has_table_privilege('up_alice', c.oid, 'SELECT WITH GRANT OPTION') AS creator_reads,
       has_table_privilege('up_mallory', c.oid, 'SELECT') AS others_read
FROM pg_class c WHERE c.oid = :'homes_rel'::regclass;
SELECT has_schema_privilege('up_mallory', 'ml_data', 'CREATE') AS public_creates_in_ml_data,
       has_table_privilege('up_mallory', 'ml.snapshots', 'INSERT') AS public_inserts_snapshots,
       has_table_privilege('up_mallory', 'ml.models', 'UPDATE') AS public_updates_models;

-- The updated catalog is a new install's: functions with their settings and
-- rights, relations, columns with defaults, constraints, policies, triggers.
\i test/regress/catalog_shape.sql
SELECT count(*) > 300 AS described, md5(string_agg(kind || ':' || name || ':' || coalesce(shape, ''), E'\n' ORDER BY kind, name)) AS updated_catalog
FROM catalog_shape \gset
\c :regress_db
\i test/regress/catalog_shape.sql
SELECT md5(string_agg(kind || ':' || name || ':' || coalesce(shape, ''), E'\n' ORDER BY kind, name)) = :'updated_catalog' AS same_catalog_as_new_install,
       :'described' AS described
FROM catalog_shape;
DROP DATABASE ml_update_db;
DROP ROLE up_alice, up_bob, up_mallory;
