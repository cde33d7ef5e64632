-- Governance: who sees and does what (row-level security on the registry,
-- ml.grant_model and ml.revoke_model, guards of snapshot relations) and
-- model cards.

----------------------------------------------------------------------------
-- Privileges: row-level security on the registry
--
-- Users hold SELECT on the extension's tables and nothing else: only ml
-- functions write them, as the extension's owner, after checking who may
-- (see privilege.c).
-- A snapshot row is visible to whoever can read its relation (its owner, and
-- roles the owner granted SELECT).  A model, and everything recorded about
-- it, is visible to roles holding the use privilege on its name (owner,
-- members of the owner role, grantees of ml.grant_model).  Superusers see all.
----------------------------------------------------------------------------

ALTER TABLE ml.snapshots ENABLE ROW LEVEL SECURITY;
CREATE POLICY snapshots_read ON ml.snapshots FOR SELECT
    USING (created_by = ml._caller() OR ml._can_read(relation));

ALTER TABLE ml.models ENABLE ROW LEVEL SECURITY;
CREATE POLICY models_read ON ml.models FOR SELECT
    USING (ml._has_model_privilege(name, 'use'));

ALTER TABLE ml.model_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_events_read ON ml.model_events FOR SELECT
    USING (CASE WHEN model_id IS NOT NULL THEN EXISTS (SELECT 1 FROM ml.models m WHERE m.id = model_id)
                ELSE EXISTS (SELECT 1 FROM ml.snapshots s WHERE s.id = snapshot_id) END);

ALTER TABLE ml.scoring_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY scoring_runs_read ON ml.scoring_runs FOR SELECT
    USING (EXISTS (SELECT 1 FROM ml.models m WHERE m.id = model_id));

ALTER TABLE ml.drift_checks ENABLE ROW LEVEL SECURITY;
CREATE POLICY drift_checks_read ON ml.drift_checks FOR SELECT
    USING (EXISTS (SELECT 1 FROM ml.models m WHERE m.id = model_id));

ALTER TABLE ml.prediction_baselines ENABLE ROW LEVEL SECURITY;
CREATE POLICY prediction_baselines_read ON ml.prediction_baselines FOR SELECT
    USING (EXISTS (SELECT 1 FROM ml.models m WHERE m.id = model_id));

ALTER TABLE ml.trials ENABLE ROW LEVEL SECURITY;
CREATE POLICY trials_read ON ml.trials FOR SELECT
    USING (EXISTS (SELECT 1 FROM ml.models m WHERE m.id = model_id));

ALTER TABLE ml.model_owners ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_owners_read ON ml.model_owners FOR SELECT USING (true);

ALTER TABLE ml.model_grants ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_grants_read ON ml.model_grants FOR SELECT USING (true);

-- Views show each user what the policies let them see.
ALTER VIEW ml.registry SET (security_invoker = true);
ALTER VIEW ml.lineage SET (security_invoker = true);
ALTER VIEW ml.drift SET (security_invoker = true);
ALTER VIEW ml.drift_summary SET (security_invoker = true);
ALTER VIEW ml.performance SET (security_invoker = true);
GRANT SELECT ON ml.registry, ml.lineage, ml.drift, ml.drift_summary, ml.performance TO PUBLIC;

-- What ml.grant_model and ml.revoke_model are given: a model name that
-- exists, a role (or public) and a privilege they know.
CREATE OR REPLACE FUNCTION ml._check_grant(model text, grantee name, privilege text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
BEGIN
    PERFORM ml._check_model_name(model);
    IF privilege IS NULL OR privilege NOT IN ('use', 'manage') THEN
        RAISE EXCEPTION 'privilege must be use or manage, not %', coalesce(privilege, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM ml.model_owners o WHERE o.name = model) THEN
        RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = 'undefined_object';
    END IF;
    IF grantee IS NULL OR (grantee <> 'public' AND NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = grantee)) THEN
        RAISE EXCEPTION 'role "%" does not exist', coalesce(grantee::text, 'NULL') USING ERRCODE = 'undefined_object';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION ml._grant_model(model text, grantee name, privilege text DEFAULT 'use') RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
BEGIN
    PERFORM ml._check_grant(model, grantee, privilege);
    PERFORM ml._require_model_privilege(model, 'manage', 'grant privileges on');
    INSERT INTO ml.model_grants (name, grantee, privilege) VALUES (model, grantee, privilege)
    ON CONFLICT DO NOTHING;
    INSERT INTO ml.model_events (action, details)
    VALUES ('grant', jsonb_build_object('model', model, 'grantee', grantee, 'privilege', privilege));
END $$;
COMMENT ON FUNCTION ml._grant_model(text, name, text) IS 'give a role the use or manage privilege on a model name';

CREATE OR REPLACE FUNCTION ml._revoke_model(model text, grantee name, privilege text DEFAULT 'use') RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
BEGIN
    PERFORM ml._check_grant(model, grantee, privilege);
    PERFORM ml._require_model_privilege(model, 'manage', 'revoke privileges on');
    DELETE FROM ml.model_grants g WHERE g.name = model AND g.grantee = grantee AND g.privilege = privilege;
    INSERT INTO ml.model_events (action, details)
    VALUES ('revoke', jsonb_build_object('model', model, 'grantee', grantee, 'privilege', privilege));
END $$;
COMMENT ON FUNCTION ml._revoke_model(text, name, text) IS 'take back a privilege given with ml.grant_model';

-- Snapshot relations stay immutable for their owners too: only a superuser
-- may alter them (for example disable the immutability trigger) or drop the
-- trigger; ml.drop_snapshot is the way to remove one.
CREATE OR REPLACE FUNCTION ml._guard_snapshot_ddl() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    obj record;
BEGIN
    IF ml._is_superuser() THEN
        RETURN;
    END IF;
    FOR obj IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
        IF obj.schema_name = 'ml_data' AND obj.command_tag IN ('ALTER TABLE', 'CREATE RULE', 'CREATE POLICY') THEN
            RAISE EXCEPTION 'snapshot relation % cannot be altered', obj.object_identity
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = 'Snapshots are immutable; only a superuser may change their definition.',
                      HINT = 'Take a new snapshot with ml.snapshot(), or remove this one with ml.drop_snapshot().';
        END IF;
    END LOOP;
END $$;
CREATE EVENT TRIGGER ml_guard_snapshot_ddl ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'CREATE RULE', 'CREATE POLICY')
    EXECUTE FUNCTION ml._guard_snapshot_ddl();

CREATE OR REPLACE FUNCTION ml._guard_snapshot_drop() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    obj record;
BEGIN
    IF ml._is_superuser() THEN
        RETURN;
    END IF;
    FOR obj IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
        IF obj.object_type = 'trigger' AND obj.schema_name = 'ml_data' AND NOT obj.original THEN
            CONTINUE;   -- dropped along with its table (ml.drop_snapshot)
        END IF;
        IF obj.object_type = 'trigger' AND obj.schema_name = 'ml_data' THEN
            RAISE EXCEPTION 'the immutability trigger of a snapshot cannot be dropped'
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = format('%s protects the snapshot''s rows and content hash.', obj.object_identity);
        END IF;
    END LOOP;
END $$;
CREATE EVENT TRIGGER ml_guard_snapshot_drop ON sql_drop
    WHEN TAG IN ('DROP TRIGGER')
    EXECUTE FUNCTION ml._guard_snapshot_drop();

CREATE OR REPLACE FUNCTION ml._describe_model(model text, description text) RETURNS ml.models
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    m ml.models;
BEGIN
    PERFORM ml._require_writable('describe a model');
    SELECT * INTO m FROM ml.models x WHERE x.id = ml._resolve_model(model);
    PERFORM ml._require_model_privilege(m.name, 'manage', 'describe');
    UPDATE ml.models x SET description = description WHERE x.id = m.id RETURNING * INTO m;
    INSERT INTO ml.model_events (action, model_id, snapshot_id, details)
    VALUES ('describe', m.id, m.snapshot_id, jsonb_build_object('model', m.name || '@' || m.version, 'description', description));
    RETURN m;
END $$;
COMMENT ON FUNCTION ml._describe_model(text, text) IS 'set the description and intended use shown on the model card';

CREATE OR REPLACE FUNCTION ml.model_card(model text, format text DEFAULT 'markdown') RETURNS text
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
    m ml.models;
    snap ml.snapshots;
    card jsonb;
    md text;
BEGIN
    IF format IS NULL OR format NOT IN ('markdown', 'json') THEN
        RAISE EXCEPTION 'format must be markdown or json, not %', coalesce(format, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO m FROM ml.models x WHERE x.id = ml._resolve_model(model);
    SELECT * INTO snap FROM ml.snapshots s WHERE s.id = m.snapshot_id;
    card := jsonb_build_object(
        'model', m.name, 'version', m.version, 'stage', m.stage, 'description', m.description,
        'task', m.task, 'algorithm', m.algorithm, 'target', m.target, 'features', to_jsonb(m.features),
        'hyperparameters', m.hyperparams, 'seed', m.seed, 'metrics', m.metrics,
        'coefficients', m.summary->'coefficients', 'model_hash', m.model_hash,
        'trained_by', m.trained_by, 'trained_at', m.trained_at, 'extension_version', m.extension_version,
        'data', jsonb_build_object('snapshot', snap.name, 'content_hash', snap.content_hash, 'rows', snap.row_count,
                                   'train_rows', snap.train_count, 'test_rows', snap.test_count,
                                   'test_fraction', snap.test_fraction, 'split_seed', snap.seed,
                                   'sources', to_jsonb(snap.source_relations), 'source', snap.source,
                                   'taken_by', snap.created_by, 'taken_at', snap.created_at),
        'drift', (SELECT jsonb_build_object('last_check', d.last_check, 'verdict', d.verdict,
                                            'drifted_share', d.drifted_share, 'worst_feature', d.worst_feature)
                  FROM ml.drift_summary d WHERE d.model_id = m.id),
        'lineage', (SELECT coalesce(jsonb_agg(to_jsonb(u) - 'depth'), '[]') FROM ml.lineage_upstream(m.name || '@' || m.version) u),
        'events', (SELECT coalesce(jsonb_agg(jsonb_build_object('at', e.at, 'actor', e.actor, 'action', e.action,
                                                                 'details', e.details) ORDER BY e.id), '[]')
                   FROM ml.model_events e WHERE e.model_id = m.id));
    IF format = 'json' THEN
        RETURN jsonb_pretty(card);
    END IF;
    md := format(E'# Model card: %s@%s\n\n%s\n\n', m.name, m.version, coalesce(m.description, '_No description: set one with ml.describe_model()._'))
       || format(E'| | |\n| --- | --- |\n| stage | %s |\n| task | %s |\n| algorithm | %s |\n| target | %s |\n| hyperparameters | `%s` |\n| seed | %s |\n| model hash | `%s` |\n| trained by | %s, %s |\n| extension | %s |\n\n',
                 m.stage, m.task, m.algorithm, m.target, m.hyperparams, m.seed, m.model_hash, m.trained_by, m.trained_at, m.extension_version)
       || format(E'## Data\n\nSnapshot `%s` (content hash `%s`): %s rows, %s for training and %s for testing (fraction %s, seed %s), taken by %s at %s from: %s.\n\n',
                 snap.name, snap.content_hash, snap.row_count, snap.train_count, snap.test_count, snap.test_fraction, snap.seed,
                 snap.created_by, snap.created_at, array_to_string(snap.source_relations, ', '))
       || CASE WHEN m.summary ? 'coefficients' THEN
              E'## Features\n\n| feature | coefficient | std error | p-value |\n| --- | --- | --- | --- |\n'
              || (SELECT coalesce(string_agg(format(E'| %s | %s | %s | %s |', c->>'feature', c->>'coefficient',
                                                    coalesce(c->>'std_error', ''), coalesce(c->>'p_value', '')), E'\n' ORDER BY o), '')
                  FROM jsonb_array_elements(m.summary->'coefficients') WITH ORDINALITY x(c, o))
            WHEN m.summary ? 'importance' THEN
              E'## Features\n\n| feature | gain | cover | splits |\n| --- | --- | --- | --- |\n'
              || (SELECT coalesce(string_agg(format(E'| %s | %s | %s | %s |', c->>'feature', c->>'gain', c->>'cover', c->>'splits'),
                                             E'\n' ORDER BY o), '')
                  FROM jsonb_array_elements(m.summary->'importance') WITH ORDINALITY x(c, o))
            ELSE E'## Features\n\n' || (SELECT coalesce(string_agg(format('- %s', f), E'\n' ORDER BY o), '')
                                        FROM jsonb_array_elements_text(m.summary->'features') WITH ORDINALITY x(f, o))
          END || E'\n\n'
       || E'## Metrics\n\n| split | metric | value |\n| --- | --- | --- |\n'
       || (SELECT coalesce(string_agg(format('| %s | %s | %s |', s.key, k.key, k.value), E'\n' ORDER BY s.key DESC, k.key), '')
           FROM jsonb_each(m.metrics) s, jsonb_each_text(CASE WHEN jsonb_typeof(s.value) = 'object' THEN s.value ELSE '{}' END) k) || E'\n\n'
       || E'## Drift\n\n' || coalesce((SELECT format('Last check %s: verdict **%s**, %s of features drifted, worst feature %s.',
                                                     d.last_check, d.verdict, round(d.drifted_share::numeric, 3), coalesce(d.worst_feature, 'none'))
                                         FROM ml.drift_summary d WHERE d.model_id = m.id), 'No drift check yet.') || E'\n\n'
       || E'## Lineage\n\n' || (SELECT coalesce(string_agg(format('- %s `%s` -[%s]-> %s `%s`', u.source_kind, u.source_name, u.relation,
                                                                    u.target_kind, u.target_name), E'\n' ORDER BY u.depth DESC, u.at), '- none')
                                  FROM ml.lineage_upstream(m.name || '@' || m.version) u) || E'\n\n'
       || E'## History\n\n' || (SELECT coalesce(string_agg(format('- %s %s by %s', e.at, e.action, e.actor), E'\n' ORDER BY e.id), '')
                                  FROM ml.model_events e WHERE e.model_id = m.id) || E'\n';
    RETURN md;
END $$;
COMMENT ON FUNCTION ml.model_card(text, text) IS 'a model card in Markdown or JSON: data, features, metrics, lineage, drift, history';
