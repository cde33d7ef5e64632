
----------------------------------------------------------------------------
-- 0.2.0: the registry's tables under the privilege model
--
-- Only the extension's functions write its tables; users read them
-- through row-level security.  Snapshot relations belong to the extension's
-- owner.  Rows written by hand before (0.1.0 let users insert them) are
-- checked: those that fail the new constraints are reported and no longer
-- trusted.
----------------------------------------------------------------------------

-- Functions 0.1.0 had that 0.2.0 replaced (ml._resolve_source resolves a
-- source once, for query and relation alike).
DROP FUNCTION ml._source_query(text);
-- (the export of every model kind reads ml._model_document's arrays)
DROP FUNCTION ml._decode_linear(bytea);
DROP FUNCTION ml._exportable_algorithms();

REVOKE ALL ON SCHEMA ml FROM PUBLIC;
GRANT USAGE ON SCHEMA ml TO PUBLIC;
REVOKE ALL ON SCHEMA ml_data FROM PUBLIC;
GRANT USAGE ON SCHEMA ml_data TO PUBLIC;

REVOKE ALL ON ml.snapshots, ml.models, ml.model_events, ml.model_owners, ml.model_grants, ml.trials,
              ml.scoring_runs, ml.prediction_baselines, ml.drift_checks FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA ml FROM PUBLIC;
GRANT SELECT ON ml.snapshots, ml.models, ml.model_events, ml.model_owners, ml.model_grants, ml.trials,
                ml.scoring_runs, ml.prediction_baselines, ml.drift_checks TO PUBLIC;

-- Who did it: the caller of the ml function, not the owner it runs as.
ALTER TABLE ml.snapshots ALTER COLUMN created_by SET DEFAULT ml._caller();
ALTER TABLE ml.models ALTER COLUMN trained_by SET DEFAULT ml._caller();
ALTER TABLE ml.model_events ALTER COLUMN actor SET DEFAULT ml._caller();
ALTER TABLE ml.model_grants ALTER COLUMN granted_by SET DEFAULT ml._caller();
ALTER TABLE ml.scoring_runs ALTER COLUMN scored_by SET DEFAULT ml._caller();
ALTER TABLE ml.drift_checks ALTER COLUMN checked_by SET DEFAULT ml._caller();

-- A model's bytes belong to its row: model_hash is the hash of the bytes
-- alone (identical trainings compare equal), model_digest binds them to the
-- row's id, so bytes copied from another version are refused.
ALTER TABLE ml.models ADD COLUMN model_digest text;
COMMENT ON COLUMN ml.models.model_digest IS 'sha256 of the id (int8send) and the model bytes';
DO $$
DECLARE
    m record;
BEGIN
    FOR m IN SELECT x.id, x.name, x.version FROM ml.models x
             WHERE x.deleted_at IS NULL AND x.model_hash IS DISTINCT FROM encode(sha256(x.model), 'hex') ORDER BY x.id LOOP
        RAISE WARNING 'model %@% (id %): its bytes do not match its model_hash; it will not be scored', m.name, m.version, m.id
            USING DETAIL = 'pg_mlops 0.1.0 let users update ml.models; the row was changed outside the extension''s functions.',
                  HINT = 'Retrain the model, or restore ml.models from a backup.';
        INSERT INTO ml.model_events (action, model_id, details)
        VALUES ('untrusted', m.id, jsonb_build_object('reason', 'model bytes do not match model_hash', 'release', '0.2.0'));
    END LOOP;
    UPDATE ml.models x SET model_digest = CASE WHEN x.model_hash = encode(sha256(x.model), 'hex')
                                                THEN encode(sha256(int8send(x.id) || x.model), 'hex') ELSE '' END;
END $$;
ALTER TABLE ml.models ALTER COLUMN model_digest SET NOT NULL;

-- How a snapshot was split (issue 17): '{"kind": "hash"}', the only split
-- 0.1.0 took, or a grouped, chronological or stratified split and its column
-- (ml._parse_split); ml.verify_snapshot re-checks the rows by it.
ALTER TABLE ml.snapshots ADD COLUMN split jsonb;
UPDATE ml.snapshots x SET split = '{"kind": "hash"}';
ALTER TABLE ml.snapshots ALTER COLUMN split SET DEFAULT '{"kind": "hash"}', ALTER COLUMN split SET NOT NULL;
COMMENT ON COLUMN ml.snapshots.split IS 'the split rule: kind (hash, group, time, stratified), column, and for time the cut';

-- A snapshot row names its own relation, ml_data.snapshot_<id>, which the
-- extension's owner owns; its creator reads it with grant option.
DO $$
DECLARE
    bad record;
    r record;
    trusted boolean;
    src regclass;
    squatted bigint;
    owner regrole := (SELECT c.relowner FROM pg_class c WHERE c.oid = 'ml.models'::regclass);
BEGIN
    FOR bad IN SELECT * FROM ml.snapshots x WHERE x.relation IS DISTINCT FROM 'ml_data.snapshot_' || x.id ORDER BY x.id LOOP
        RAISE WARNING 'snapshot % (id %) names relation %, not ml_data.snapshot_%; it is kept as a dropped snapshot',
                      bad.name, bad.id, bad.relation, bad.id
            USING DETAIL = 'pg_mlops 0.1.0 let users insert into ml.snapshots; ml.snapshot() never wrote this row.';
        INSERT INTO ml.model_events (action, snapshot_id, details)
        VALUES ('untrusted', bad.id, jsonb_build_object('reason', 'snapshot row names another relation',
                                                        'relation', bad.relation, 'release', '0.2.0'));
        UPDATE ml.snapshots x SET relation = 'ml_data.snapshot_' || x.id,
                                  dropped_at = coalesce(x.dropped_at, now()),
                                  dropped_by = coalesce(x.dropped_by, 'pg_mlops 0.2.0 update')
        WHERE x.id = bad.id;
    END LOOP;
    -- Adopt only what 0.1.0's ml.snapshot made: a table owned by the role
    -- that took it, holding nothing but the immutability trigger (no index,
    -- statistics, rule, policy or other trigger, whose expressions would run
    -- as the new owner), or a view whose definition is the one ml.snapshot
    -- writes for the snapshot's source.  Anything else is not trusted: the
    -- snapshot becomes a dropped one and its relation is left to its owner.
    FOR r IN SELECT k.oid, k.oid::regclass AS rel, k.relkind, k.relowner, s.id, s.name, s.created_by, s.source_relations,
                    s.seed, s.test_fraction
             FROM pg_class k JOIN ml.snapshots s ON k.oid = to_regclass(s.relation)
             WHERE k.relnamespace = 'ml_data'::regnamespace AND s.dropped_at IS NULL LOOP
        IF r.relkind = 'r' THEN
            trusted := r.relowner = (SELECT o.oid FROM pg_roles o WHERE o.rolname = r.created_by)
                AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = r.oid)
                AND NOT EXISTS (SELECT 1 FROM pg_statistic_ext x WHERE x.stxrelid = r.oid)
                AND NOT EXISTS (SELECT 1 FROM pg_rewrite w WHERE w.ev_class = r.oid)
                AND NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = r.oid)
                AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = r.oid OR h.inhparent = r.oid)
                AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = r.oid AND NOT t.tgisinternal
                                  AND (t.tgname <> 'snapshot_is_immutable' OR t.tgfoid <> 'ml._snapshot_is_immutable()'::regprocedure));
        ELSIF r.relkind = 'v' THEN
            -- the view 0.1.0 would have written over one of its sources, made here and compared
            trusted := false;
            FOR src IN SELECT to_regclass(x) FROM unnest(r.source_relations) x WHERE to_regclass(x) IS NOT NULL LOOP
                EXECUTE format('CREATE TEMPORARY VIEW ml_update_template AS SELECT _ml_src.*, ml._row_is_test(_ml_src, %s, %s) AS _ml_is_test FROM %s _ml_src',
                               r.seed, r.test_fraction, src);
                trusted := trusted OR pg_get_viewdef(r.oid) = pg_get_viewdef('pg_temp.ml_update_template'::regclass);
                DROP VIEW pg_temp.ml_update_template;
            END LOOP;
            trusted := trusted
                AND NOT EXISTS (SELECT 1 FROM pg_rewrite w WHERE w.ev_class = r.oid AND w.rulename <> '_RETURN')
                AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = r.oid AND NOT t.tgisinternal
                                  AND (t.tgname <> 'snapshot_is_immutable' OR t.tgfoid <> 'ml._snapshot_is_immutable()'::regprocedure));
        ELSE
            trusted := false;
        END IF;
        IF NOT coalesce(trusted, false) THEN
            RAISE WARNING 'snapshot % (id %): relation % is not what ml.snapshot() made; it is kept as a dropped snapshot and its relation left to its owner',
                          r.name, r.id, r.rel
                USING DETAIL = 'It has an index, statistics, a rule, a policy, a trigger or a definition that pg_mlops 0.1.0 did not write.';
            INSERT INTO ml.model_events (action, snapshot_id, details)
            VALUES ('untrusted', r.id, jsonb_build_object('reason', 'snapshot relation changed by hand', 'relation', r.rel::text,
                                                          'release', '0.2.0'));
            UPDATE ml.snapshots x SET dropped_at = now(), dropped_by = 'pg_mlops 0.2.0 update' WHERE x.id = r.id;
            CONTINUE;
        END IF;
        EXECUTE format('ALTER TABLE %s OWNER TO %s', r.rel, owner);
        IF r.relkind = 'v' THEN
            EXECUTE format('ALTER VIEW %s SET (security_invoker = true)', r.rel);
        END IF;
        IF EXISTS (SELECT 1 FROM pg_roles o WHERE o.rolname = r.created_by) AND r.created_by <> owner::text THEN
            EXECUTE format('GRANT SELECT ON %s TO %I WITH GRANT OPTION', r.rel, r.created_by);
        END IF;
    END LOOP;
    FOR r IN SELECT k.oid::regclass AS rel FROM pg_class k
             WHERE k.relnamespace = 'ml_data'::regnamespace AND k.relkind IN ('r', 'v', 'm', 'f', 'p')
               AND NOT EXISTS (SELECT 1 FROM ml.snapshots s WHERE to_regclass(s.relation) = k.oid) LOOP
        RAISE WARNING 'relation % in schema ml_data is not a snapshot; it was left as it is', r.rel
            USING HINT = 'ml functions never read it; drop or move it.';
    END LOOP;
    -- Names squatted ahead of the snapshots to come stay taken: skip them.
    SELECT max(substr(k.relname, 10)::bigint) INTO squatted FROM pg_class k
    WHERE k.relnamespace = 'ml_data'::regnamespace AND k.relname ~ '^snapshot_[0-9]{1,18}$';
    IF squatted IS NOT NULL AND squatted >= (SELECT last_value FROM ml.snapshots_id_seq) THEN
        PERFORM setval('ml.snapshots_id_seq', squatted);
    END IF;
END $$;
ALTER TABLE ml.snapshots ADD CONSTRAINT snapshots_relation_check CHECK (relation = 'ml_data.snapshot_' || id);

-- Each backend caches what model references resolve to (src/pg/modelcache.c);
-- a change to a model, its owner or its grants invalidates those caches in
-- every backend, on standbys too (the invalidation is in the commit record).
-- ALWAYS: also with session_replication_role = replica.
CREATE TRIGGER models_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ml.models
    FOR EACH STATEMENT EXECUTE FUNCTION ml._registry_changed();
CREATE TRIGGER model_owners_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ml.model_owners
    FOR EACH STATEMENT EXECUTE FUNCTION ml._registry_changed();
CREATE TRIGGER model_grants_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ml.model_grants
    FOR EACH STATEMENT EXECUTE FUNCTION ml._registry_changed();
ALTER TABLE ml.models ENABLE ALWAYS TRIGGER models_changed;
ALTER TABLE ml.model_owners ENABLE ALWAYS TRIGGER model_owners_changed;
ALTER TABLE ml.model_grants ENABLE ALWAYS TRIGGER model_grants_changed;
