-- Privileges: who can snapshot, train, see, use and manage what.
SET ml.progress = off;
CREATE ROLE alice;
CREATE ROLE bob;
CREATE ROLE carol;
CREATE ROLE dave;
GRANT CREATE ON SCHEMA public TO alice, bob, carol, dave;

SET ROLE alice;
CREATE TABLE credit AS SELECT i AS id, (i % 40)::float8 AS income, (i % 9)::float8 AS debt,
                              2 * (i % 40) - 3 * (i % 9) + sin(i) AS score
FROM generate_series(1, 2000) i;
SELECT name FROM ml.snapshot('credit', name => 'credit_v1');
SELECT version FROM ml.train_model('credit', 'snapshot:credit_v1', 'score', features => '{income,debt}');
SELECT count(*) AS alice_sees_models FROM ml.registry;
RESET ROLE;
SELECT relation AS credit_rel FROM ml.snapshots WHERE name = 'credit_v1' \gset

-- bob has no right on alice's table or model: he sees nothing and can do nothing with them.
SET ROLE bob;
SELECT count(*) AS snapshots, (SELECT count(*) FROM ml.models) AS models, (SELECT count(*) FROM ml.registry) AS registry,
       (SELECT count(*) FROM ml.lineage) AS lineage, (SELECT count(*) FROM ml.model_events) AS events
FROM ml.snapshots;
SELECT regexp_replace(regress.err($$SELECT count(*) FROM $$ || :'credit_rel'), 'snapshot_\d+', 'snapshot_N');
SELECT regress.err($$SELECT ml.snapshot('credit')$$);
SELECT regress.err($$SELECT ml.train_model('stolen', 'snapshot:credit_v1', 'score')$$);
SELECT regress.err($$SELECT ml.train_model('stolen', 'credit', 'score')$$);
SELECT regress.err($$SELECT ml.predict('credit', ARRAY[1, 2]::float8[])$$);
SELECT regress.err($$SELECT * FROM ml.explain('credit')$$);
SELECT regress.err($$SELECT ml.promote('credit', 1)$$);
SELECT regress.err($$SELECT ml.grant_model('credit', 'bob', 'use')$$);
-- Nor can he add versions to alice's model name with his own data.
CREATE TABLE bobs AS SELECT i::float8 AS income, (i % 3)::float8 AS debt, i::float8 AS score FROM generate_series(1, 100) i;
SELECT regress.err($$SELECT ml.train_model('credit', 'bobs', 'score')$$);
RESET ROLE;
SELECT count(*) AS versions FROM ml.models WHERE name = 'credit';

-- alice gives carol the use privilege and dave the manage privilege.
SET ROLE alice;
SELECT ml.grant_model('credit', 'carol', 'use');
SELECT ml.grant_model('credit', 'dave', 'manage');
RESET ROLE;
SET ROLE carol;
SELECT round(ml.predict('credit', ARRAY[10, 2]::float8[])::numeric, 6) = round((SELECT 10 * c1.coefficient + 2 * c2.coefficient + c0.coefficient
       FROM ml.explain('credit') c0, ml.explain('credit') c1, ml.explain('credit') c2
       WHERE c0.feature = 'intercept' AND c1.feature = 'income' AND c2.feature = 'debt')::numeric, 6) AS carol_predicts;
SELECT name, version FROM ml.registry;
SELECT count(*) AS carol_sees_snapshot_rows FROM ml.snapshots;
SELECT regexp_replace(regress.err($$SELECT count(*) FROM $$ || :'credit_rel'), 'snapshot_\d+', 'snapshot_N');
SELECT regress.err($$SELECT ml.promote('credit', 1)$$);
SELECT regress.err($$SELECT ml.grant_model('credit', 'bob')$$);
RESET ROLE;
SET ROLE dave;
SELECT name, version, stage FROM ml.promote('credit', 1);
SELECT regress.err($$SELECT ml.train_model('credit', 'snapshot:credit_v1', 'score')$$);
RESET ROLE;
-- With SELECT on the snapshot (granted by its owner) dave can train a new version.
SET ROLE alice;
DO $$ BEGIN EXECUTE format('GRANT SELECT ON %s TO dave', (SELECT relation FROM ml.snapshots WHERE name = 'credit_v1')); END $$;
RESET ROLE;
SET ROLE dave;
SELECT version FROM ml.train_model('credit', 'snapshot:credit_v1', 'score', features => '{income}');
RESET ROLE;
-- Revoking takes the privilege back at the next statement.
SET ROLE alice;
SELECT ml.revoke_model('credit', 'carol', 'use');
RESET ROLE;
SET ROLE carol;
SELECT regress.err($$SELECT ml.predict('credit', ARRAY[10, 2]::float8[])$$);
SELECT count(*) AS carol_sees_models FROM ml.registry;
RESET ROLE;
SELECT action, actor, details->>'grantee' AS grantee, details->>'privilege' AS privilege
FROM ml.model_events WHERE action IN ('grant', 'revoke') ORDER BY id;

-- Names, sources, targets and hyperparameters never become SQL text.
SET ROLE alice;
CREATE TABLE "we""ird; table" ("x; DROP TABLE credit" float8, "y'--" float8);
INSERT INTO "we""ird; table" SELECT i, 2 * i + 1 FROM generate_series(1, 50) i;
SELECT version FROM ml.train_model('weird', '"we""ird; table"', 'y''--', test_fraction => 0);
SELECT feature, round(coefficient::numeric, 6) FROM ml.explain('weird');
SELECT regress.err($$SELECT ml.train_model('x''; DROP TABLE credit; --', 'credit', 'score')$$);
SELECT regress.err($$SELECT ml.snapshot('credit; DROP TABLE credit')$$);
SELECT regexp_replace(regress.err($$SELECT ml.train_model('m', 'credit', 'score); DROP TABLE credit; --')$$), 'snapshot_\d+', 'snapshot_N');
SELECT regress.err($$SELECT ml.train_model('m', 'credit', 'score', 'ridge', '{"alpha; DROP TABLE credit": 1}')$$);
SELECT regress.err($$SELECT ml.score('credit', 'credit', 'out AS SELECT 1; DROP TABLE credit; --')$$);
SELECT ml.score('credit', 'credit', 'public."scores; DROP TABLE credit"', 'id');
SELECT count(*) AS credit_rows FROM credit;
SELECT count(*) AS scored FROM "scores; DROP TABLE credit";
RESET ROLE;

-- A snapshot stays immutable for its owner: no disabling or dropping its trigger.
SET ROLE alice;
SELECT regexp_replace(regress.err(format('ALTER TABLE %s DISABLE TRIGGER snapshot_is_immutable', (SELECT relation FROM ml.snapshots WHERE name = 'credit_v1'))), 'snapshot_\d+', 'snapshot_N', 'g');
SELECT regexp_replace(regress.err(format('DROP TRIGGER snapshot_is_immutable ON %s', (SELECT relation FROM ml.snapshots WHERE name = 'credit_v1'))), 'snapshot_\d+', 'snapshot_N', 'g');
SELECT regexp_replace(regress.err(format('UPDATE %s SET debt = 0', (SELECT relation FROM ml.snapshots WHERE name = 'credit_v1'))), 'snapshot_\d+', 'snapshot_N', 'g');
SELECT intact FROM ml.verify_snapshot('credit_v1');
-- Its owner removes it the supported way.
SELECT name FROM ml.snapshot('SELECT * FROM credit WHERE id <= 10', name => 'credit_small');
SELECT name, dropped_by FROM ml.drop_snapshot('credit_small');
RESET ROLE;

-- Clean up the roles.
DROP OWNED BY alice, bob, carol, dave CASCADE;
DROP ROLE alice, bob, carol, dave;
