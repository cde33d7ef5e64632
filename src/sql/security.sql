
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

CREATE OR REPLACE FUNCTION ml._grant_model(model text, grantee name, privilege text DEFAULT 'use') RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
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
    PERFORM ml._check_model_name(model);
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
