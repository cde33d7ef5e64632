-- Attacks from a role with no privileges beyond CREATE on schema public,
-- and from use and manage grantees: each fails closed with a clear
-- SQLSTATE, changes nothing and leaves the server up.  See
-- docs/governance.md for the role matrix.
SET ml.progress = off;
CREATE ROLE victim;
CREATE ROLE mallory;
CREATE ROLE user_grantee;
CREATE ROLE manage_grantee;
GRANT CREATE ON SCHEMA public TO victim, mallory, user_grantee, manage_grantee;

SET ROLE victim;
CREATE TABLE victim_data AS SELECT i AS id, (i % 17)::float8 AS x, (i % 5)::float8 AS z,
                                   3 * (i % 17) - (i % 5) + cos(i) AS y
FROM generate_series(1, 400) i;
SELECT name FROM ml.snapshot('victim_data', name => 'victim_v1');
SELECT version FROM ml.train_model('victim', 'snapshot:victim_v1', 'y', features => '{x,z}');
SELECT version FROM ml.train_model('victim', 'snapshot:victim_v1', 'y', features => '{x}');
SELECT ml.grant_model('victim', 'user_grantee', 'use');
SELECT ml.grant_model('victim', 'manage_grantee', 'manage');
RESET ROLE;
SELECT relation AS victim_rel FROM ml.snapshots WHERE name = 'victim_v1' \gset
SELECT count(*) AS events_before FROM ml.model_events \gset

-- What mallory plants: a log her trojans write to, a function shadowing
-- pg_catalog.format(text, VARIADIC "any") with a better match, an operator
-- and a type named like built-ins.
SET ROLE mallory;
CREATE TABLE mallory_log (who text, what text);
GRANT INSERT ON mallory_log TO PUBLIC;
CREATE FUNCTION public.format(a text, b text) RETURNS text LANGUAGE sql AS
$$ INSERT INTO public.mallory_log VALUES (current_user, 'format'); SELECT pg_catalog.format(a, b) $$;
CREATE FUNCTION public.mallory_eq(a text, b text) RETURNS boolean LANGUAGE sql AS
$$ INSERT INTO public.mallory_log VALUES (current_user, 'operator'); SELECT a OPERATOR(pg_catalog.=) b $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.mallory_eq);
CREATE FUNCTION public.mallory_check(v text) RETURNS boolean LANGUAGE sql AS
$$ INSERT INTO public.mallory_log VALUES (current_user, 'domain'); SELECT true $$;
CREATE DOMAIN public.text AS pg_catalog.text CHECK (public.mallory_check(VALUE));
RESET ROLE;

-- The trojans work: an administrator's own unqualified call runs them.
SET search_path = public, pg_catalog;
SELECT format('%s', 'x') AS administrators_own_call;
RESET search_path;
SELECT who, what FROM mallory_log;
DELETE FROM mallory_log;

-- An administrator works with public first in the path: no trojan runs
-- inside ml functions.
SET search_path = public, pg_catalog;
SELECT name FROM ml.snapshot('victim_data', name => 'admin_v1');
SELECT version FROM ml.train_model('victim', 'snapshot:admin_v1', 'y', features => '{x,z}');
SELECT ml.score('victim@1', 'victim_data', 'admin_scores', 'id');
SELECT count(*) AS drift_rows FROM ml.check_drift('victim@1', 'SELECT * FROM victim_data WHERE id <= 200');
SELECT (ml.evaluate('victim@1', 'victim_data')->>'rows')::int AS evaluated;
SELECT intact FROM ml.verify_snapshot('admin_v1');
SELECT name, stage FROM ml.promote('victim', 1);
SELECT name, stage FROM ml.promote('victim', 2);
SELECT name, version FROM ml.rollback('victim');
RESET search_path;
SELECT count(*) AS trojan_runs FROM mallory_log;

-- The same through a pg_cron-style job: a superuser's statement with
-- mallory's schema first.
SET search_path = public;
DO $$ BEGIN PERFORM ml.score('victim', 'public.victim_data', 'public.admin_scores', 'id'); END $$;
RESET search_path;
SELECT count(*) AS trojan_runs_in_job FROM mallory_log;

-- Every ml function pins its search_path; none is SECURITY DEFINER.
SELECT count(*) AS unpinned_functions
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = 'ml'::regnamespace AND l.lanname IN ('sql', 'plpgsql')
  AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, ml, pg_temp'], false);

-- The internal C functions PUBLIC may call: aggregate support (checked for
-- any input), row-level security and per-row helpers, pure computations.
SELECT string_agg(p.proname, ' ' ORDER BY p.proname) AS public_internal_c_functions
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = 'ml'::regnamespace AND p.proname LIKE '\_%' AND l.lanname = 'c'
  AND has_function_privilege('public', p.oid, 'EXECUTE');

SET ROLE mallory;
-- No table of the extension takes a write from her.
SELECT regress.err($$INSERT INTO ml.snapshots (id, name, source, source_relations, relation, columns, row_count, train_count,
                     test_count, test_fraction, seed, content_hash, schema_hash, profile)
                     VALUES (999, 'x', 'x', '{}', 'public.junk, public.victim_data', '[]', 1, 1, 0, 0, 1, 'h', 'h', '{}')$$);
SELECT regress.err($$INSERT INTO ml.model_events (action, model_id, details) VALUES ('promote', 1, '{"stage": "production"}')$$);
SELECT regress.err($$INSERT INTO ml.models (name) VALUES ('x')$$);
SELECT regress.err($$INSERT INTO ml.model_owners (name, owner) VALUES ('victim2', 'mallory')$$);
SELECT regress.err($$INSERT INTO ml.model_grants (name, grantee, privilege) VALUES ('victim', 'mallory', 'manage')$$);
SELECT regress.err($$INSERT INTO ml.drift_checks (check_id, model_id, source, feature, metric, status) VALUES (1, 1, 'x', '_dataset', 'drifted_share', 'ok')$$);
SELECT regress.err($$INSERT INTO ml.scoring_runs (model_id, model, source, source_relations, output, mode, rows, input_profile, started_at, finished_at, seconds) VALUES (1, 'x', 'x', '{}', 'x', 'append', 0, '{}', now(), now(), 0)$$);
SELECT regress.err($$INSERT INTO ml.prediction_baselines (model_id, rows, edges, shares) VALUES (1, 1, '{}', '{}')$$);
SELECT regress.err($$INSERT INTO ml.trials (model_id, trial, params, score_name, folds, fold_scores, chosen) VALUES (1, 1, '{}', 'x', 1, '{}', true)$$);
SELECT regress.err($$DELETE FROM ml.model_grants$$);
SELECT regress.err($$UPDATE ml.models SET stage = 'production'$$);
-- Nor does ml_data: no squatting the next snapshot's name, no view in place of one.
SELECT regress.err($$CREATE TABLE ml_data.snapshot_999 (x int)$$);
SELECT regress.err($$CREATE VIEW ml_data.snapshot_998 AS SELECT 1 AS x$$);
SELECT regexp_replace(regress.err('DROP TABLE ' || :'victim_rel'), 'snapshot_\d+', 'snapshot_N', 'g');
-- Internal functions that act with the owner's rights or take engine input are not hers to call.
SELECT regress.err($$SELECT ml._as_caller('SELECT 1')$$);
SELECT regress.err($$SELECT ml._caller_view('SELECT 1')$$);
SELECT regexp_replace(regress.err(format('SELECT ml._fit(%L::regclass, %L, %L, %L, NULL, NULL)', :'victim_rel', '{}', 'linear_regression', '{}')), 'snapshot_\d+', 'snapshot_N', 'g');
SELECT regress.err($$SELECT ml._promote('victim', 1, 'production')$$);
SELECT regress.err($$SELECT ml._snapshot('victim_data', 'stolen', 0.25, 1)$$);
-- And the public functions check her: nothing of the victim's is hers.
SELECT regress.err($$SELECT ml.promote('victim', 1)$$);
SELECT regress.err($$SELECT ml.drop_snapshot('victim_v1')$$);
SELECT regress.err($$SELECT ml.train_model('victim', 'snapshot:victim_v1', 'y')$$);
SELECT regress.err($$SELECT ml.evaluate('victim', 'SELECT 1 AS x, 2 AS z, 3 AS y')$$);
RESET ROLE;

SET ROLE mallory;
-- Her query changes the session's search_path (a plain SET, not LOCAL) in
-- the middle of ml.snapshot, to make the rest of it, which runs as the
-- extension's owner, call her clock_timestamp(): the change is undone when
-- her query returns.
CREATE FUNCTION public.mallory_setpath() RETURNS int LANGUAGE plpgsql AS
$$ BEGIN PERFORM pg_catalog.set_config('search_path', 'public, pg_catalog', false); RETURN 1; END $$;
CREATE FUNCTION public.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO public.mallory_log VALUES (current_user, 'clock_timestamp'); RETURN pg_catalog.clock_timestamp(); END $$;
SELECT current_setting('search_path') AS path_before \gset
SELECT row_count FROM ml.snapshot('SELECT a::float8 AS a, public.mallory_setpath() AS b FROM generate_series(1, 10) a', 'mallory_path');
SELECT current_setting('search_path') = :'path_before' AS path_unchanged,
       (SELECT count(*) FROM mallory_log) AS trojan_runs,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS mallory_is_superuser;
-- A table of hers that an administrator's unqualified output name finds.
CREATE TABLE public.scores (id int, prediction float8, model text, scored_at timestamptz);
GRANT INSERT ON public.scores TO PUBLIC;
RESET ROLE;
SET search_path = public, pg_catalog;
-- (called directly: the test helper regress.err is itself an unpinned function)
SELECT ml.score('victim@1', 'victim_data', 'scores', 'id');
RESET search_path;
SELECT count(*) AS rows_in_malloryss_table FROM public.scores;

-- A SECURITY DEFINER function of mallory's, called by an administrator,
-- acts as mallory, not as the administrator.
SET ROLE mallory;
CREATE FUNCTION mallory_promote() RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS
$$ BEGIN PERFORM ml.promote('victim', 2); RETURN 'promoted'; END $$;
RESET ROLE;
SELECT regress.err($$SELECT mallory_promote()$$);

-- A use grantee reads and scores but writes nothing by hand.
SET ROLE victim;
SELECT ml.score('victim@1', 'victim_data', 'victim_scores', 'id');
RESET ROLE;
SET ROLE user_grantee;
SELECT round(ml.predict('victim', ARRAY[1, 2]::float8[])::numeric, 6) IS NOT NULL AS predicts;
SELECT regress.err($$INSERT INTO ml.drift_checks (check_id, model_id, source, feature, metric, status) VALUES (1, 1, 'x', '_dataset', 'drifted_share', 'ok')$$);
SELECT regress.err($$SELECT ml.promote('victim', 1)$$);
-- Her scoring run of a source she chose does not decide the owner's default drift check.
CREATE TABLE grantee_rows AS SELECT i AS id, 1000.0::float8 AS x, 0::float8 AS z FROM generate_series(1, 50) i;
SELECT ml.score('victim@1', 'grantee_rows', 'grantee_scores', 'id');
RESET ROLE;
SET ROLE victim;
SELECT count(*) > 0 AS checked FROM ml.check_drift('victim@1');
SELECT DISTINCT source FROM ml.drift_checks WHERE check_id = (SELECT max(check_id) FROM ml.drift_checks);
RESET ROLE;
-- A manage grantee promotes through ml.promote, which records it with him
-- as the actor, but cannot update the registry by hand.
SET ROLE manage_grantee;
SELECT regress.err($$UPDATE ml.models SET stage = 'production', metrics = '{}' WHERE name = 'victim'$$);
SELECT regress.err($$UPDATE ml.models SET model = (SELECT model FROM ml.models WHERE name = 'victim' AND version = 1) WHERE name = 'victim' AND version = 2$$);
SELECT name, version, stage FROM ml.promote('victim', 2);
RESET ROLE;
SELECT action, actor, details->>'model' AS model FROM ml.model_events
WHERE id > :events_before AND action IN ('promote', 'rollback') ORDER BY id;

-- Her types in a table an administrator snapshots: an enum with a cast to
-- text, a domain with a check, arrays of them.  The snapshot keeps built-in
-- types (text by the output function, the domain's base type), so none of
-- her functions runs, and renaming her enum's labels or dropping her domain
-- changes nothing in it.
SET ROLE mallory;
CREATE TYPE mood AS ENUM ('good', 'bad');
CREATE FUNCTION public.mood_text(m mood) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO public.mallory_log VALUES (current_user, 'cast'); RETURN 'cast'; END $$;
CREATE CAST (mood AS text) WITH FUNCTION public.mood_text(mood);
CREATE DOMAIN public.score_value AS float8 CHECK (public.mallory_check(VALUE::text));
CREATE TABLE moods AS SELECT i AS id, (ARRAY['good', 'bad'])[1 + i % 2]::mood AS m, ARRAY[(ARRAY['good', 'bad'])[1 + i % 2]::mood] AS ms,
                             (i % 7)::float8::score_value AS s, (i % 7) * 2.0 + (i % 2) AS y FROM generate_series(1, 60) i;
GRANT SELECT ON moods TO PUBLIC;
DELETE FROM mallory_log;
RESET ROLE;
SELECT row_count FROM ml.snapshot('moods', name => 'admin_moods');
SELECT jsonb_agg(c->>'type' ORDER BY o) AS snapshot_types FROM ml.snapshots s, jsonb_array_elements(s.columns) WITH ORDINALITY x(c, o)
WHERE s.name = 'admin_moods';
SELECT version FROM ml.train_model('moods', 'snapshot:admin_moods', 'y', features => '{m,s}');
SELECT count(*) AS drift_rows FROM ml.check_drift('moods', 'moods');
SELECT (ml.evaluate('moods', 'moods')->>'rows')::int AS evaluated;
SELECT count(*) AS trojan_runs FROM mallory_log;
SET ROLE mallory;
ALTER TYPE mood RENAME VALUE 'good' TO 'worse';
DROP DOMAIN score_value CASCADE;
RESET ROLE;
SELECT intact, split_intact FROM ml.verify_snapshot('admin_moods');

-- Row-level security is the caller's: a snapshot of a table with a policy
-- holds the rows the caller may see, and the engine refuses to read any
-- relation that is not a snapshot.
SET ROLE victim;
CREATE TABLE shared_rows AS SELECT i AS id, i::float8 AS x, (2 * i)::float8 AS y, CASE WHEN i <= 3 THEN 'mallory' ELSE 'victim' END AS visible_to
FROM generate_series(1, 40) i;
ALTER TABLE shared_rows ENABLE ROW LEVEL SECURITY;
CREATE POLICY shared_rows_visible ON shared_rows FOR SELECT USING (visible_to = current_user);
GRANT SELECT ON shared_rows TO mallory;
RESET ROLE;
SET ROLE mallory;
SELECT row_count FROM ml.snapshot('shared_rows', name => 'mallory_shared', test_fraction => 0);
RESET ROLE;
SELECT regress.err($$SELECT ml._fit('public.shared_rows'::regclass, '{}', 'kmeans', '{"k": 40}', NULL, NULL)$$);

-- Limits come before work: a 3.2 million combination grid fails at once.
SELECT regress.err($$SELECT ml.train_model('victim', 'snapshot:victim_v1', 'y', algorithm => 'ridge',
    search => '{"params": {"alpha": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20],
                           "max_categories": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20],
                           "a": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20],
                           "b": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20],
                           "c": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]}}')$$);
SELECT regress.err($$SELECT ml.train_model('victim', 'snapshot:victim_v1', NULL, algorithm => 'kmeans', hyperparams => '{"k": 100000}')$$);
-- A forest whose node count could pass 40 million fails before its first tree.
SELECT name FROM ml.snapshot('SELECT i::float8 AS x, (i % 7)::float8 AS y FROM generate_series(1, 5000) i', name => 'limits_5000');
SELECT regress.err($$SELECT ml.train_model('big_forest', 'snapshot:limits_5000', 'y', 'random_forest', '{"n_trees": 10000, "max_depth": 20}')$$);

SELECT current_database() AS regress_db \gset
-- A role that is not a superuser installs the extension (it is trusted):
-- it owns the extension, not its schemas or tables, so it cannot hang a
-- trigger, constraint or object on what ml functions write for a superuser.
CREATE DATABASE ml_installer_db;
CREATE ROLE installer;
GRANT CREATE ON DATABASE ml_installer_db TO installer;
\c ml_installer_db
SET ROLE installer;
CREATE EXTENSION pg_mlops;
SELECT e.extowner::regrole AS extension_owner, (SELECT c.relowner::regrole FROM pg_class c WHERE c.oid = 'ml.snapshots'::regclass) AS tables_owner,
       (SELECT n.nspowner::regrole FROM pg_namespace n WHERE n.nspname = 'ml') AS schema_owner
FROM pg_extension e WHERE e.extname = 'pg_mlops';
CREATE SCHEMA installer;
CREATE FUNCTION installer.on_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
\set VERBOSITY terse
CREATE TRIGGER t BEFORE INSERT ON ml.snapshots FOR EACH ROW EXECUTE FUNCTION installer.on_insert();
ALTER TABLE ml.snapshots ADD CONSTRAINT c CHECK (ml._as_caller('SELECT 1') IS NOT NULL) NOT VALID;
ALTER SCHEMA ml RENAME TO ml_old;
CREATE TABLE ml_data.snapshot_99 (x int);
SELECT ml._as_caller('SELECT 1');
\set VERBOSITY default
RESET ROLE;
\c :regress_db
DROP DATABASE ml_installer_db;
DROP ROLE installer;

-- A schema ml that exists before the extension is refused.
CREATE DATABASE ml_attack_db;
\c ml_attack_db
CREATE ROLE squatter;
CREATE SCHEMA ml AUTHORIZATION squatter;
\set VERBOSITY terse
CREATE EXTENSION pg_mlops;
\set VERBOSITY default
SELECT count(*) AS extension_installed FROM pg_extension WHERE extname = 'pg_mlops';
\c :regress_db
DROP DATABASE ml_attack_db;
DROP ROLE squatter;

-- Nothing above changed the registry except what the legitimate calls recorded.
SELECT count(*) AS forged_snapshots FROM ml.snapshots WHERE name IN ('x', 'stolen');
SELECT count(*) AS victim_versions FROM ml.models WHERE name = 'victim';
SELECT count(*) AS owners FROM ml.model_owners WHERE name = 'victim2';
SELECT who, what, count(*) AS trojan_runs FROM mallory_log GROUP BY 1, 2 ORDER BY 1, 2;
SELECT 1 AS server_up;

DROP OWNED BY victim, mallory, user_grantee, manage_grantee CASCADE;
DROP ROLE victim, mallory, user_grantee, manage_grantee;
