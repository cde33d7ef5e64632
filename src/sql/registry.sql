-- Registry: model names and references (name, name@3, name@staging), the
-- lifecycle of versions (promote, archive, rollback, champion/challenger,
-- delete) and the ml.registry view.

----------------------------------------------------------------------------
-- Model references
----------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION ml._check_model_name(name text) RETURNS text
AS 'MODULE_PATHNAME', 'ml_check_model_name' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION ml._parse_model_ref(ref text, OUT name text, OUT version integer, OUT stage text)
AS 'MODULE_PATHNAME', 'ml_parse_model_ref' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- 'name' (production, else latest), 'name@3', 'name@staging' -> models.id
CREATE OR REPLACE FUNCTION ml._resolve_model(ref text) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED AS $$
#variable_conflict use_variable
DECLARE
    r record;
    mid bigint;
BEGIN
    IF ref IS NULL THEN
        RAISE EXCEPTION 'model reference must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    r := ml._parse_model_ref(ref);
    IF r.version IS NOT NULL THEN
        SELECT m.id INTO mid FROM ml.models m WHERE m.name = r.name AND m.version = r.version
          AND ml._has_model_privilege(m.name, 'use');
    ELSIF r.stage IS NOT NULL THEN
        SELECT m.id INTO mid FROM ml.models m WHERE m.name = r.name AND m.stage = r.stage
          AND ml._has_model_privilege(m.name, 'use')
        ORDER BY m.version DESC LIMIT 1;
    ELSE
        SELECT m.id INTO mid FROM ml.models m WHERE m.name = r.name AND m.deleted_at IS NULL
          AND ml._has_model_privilege(m.name, 'use')
        ORDER BY (m.stage = 'production') DESC, m.version DESC LIMIT 1;
    END IF;
    PERFORM ml._require_not_deleted(mid);
    IF mid IS NULL THEN
        IF NOT EXISTS (SELECT 1 FROM ml.models m WHERE m.name = r.name AND ml._has_model_privilege(m.name, 'use')) THEN
            RAISE EXCEPTION 'model "%" does not exist', r.name
                USING ERRCODE = 'undefined_object',
                      HINT = 'See SELECT name, version, stage FROM ml.registry.';
        END IF;
        RAISE EXCEPTION 'model "%" has no version matching "%"', r.name, ref
            USING ERRCODE = 'undefined_object',
                  HINT = format('See SELECT version, stage FROM ml.registry WHERE name = %L.', r.name);
    END IF;
    RETURN mid;
END $$;

CREATE OR REPLACE FUNCTION ml._resolve_model(id bigint) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED AS $$
#variable_conflict use_variable
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ml.models m WHERE m.id = $1 AND ml._has_model_privilege(m.name, 'use')) THEN
        RAISE EXCEPTION 'model with id % does not exist', coalesce($1::text, 'NULL')
            USING ERRCODE = 'undefined_object',
                  HINT = 'See SELECT id, name, version FROM ml.registry.';
    END IF;
    PERFORM ml._require_not_deleted($1);
    RETURN $1;
END $$;

-- Statement trigger on ml.models, ml.model_owners and ml.model_grants: the
-- backends' caches of model references are invalidated (see migrate-0.2.0.sql).
CREATE OR REPLACE FUNCTION ml._registry_changed() RETURNS trigger
AS 'MODULE_PATHNAME', 'ml_registry_changed' LANGUAGE C;

-- A deleted model keeps its record (a tombstone) but cannot be used.
CREATE OR REPLACE FUNCTION ml._require_not_deleted(mid bigint) RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    m record;
BEGIN
    SELECT x.name, x.version, x.deleted_at, x.deleted_by INTO m FROM ml.models x WHERE x.id = mid;
    IF m.deleted_at IS NOT NULL THEN
        RAISE EXCEPTION 'model %@% was deleted', m.name, m.version
            USING ERRCODE = 'undefined_object',
                  DETAIL = format('Deleted by %s at %s; its record stays in ml.models and ml.lineage.', m.deleted_by, m.deleted_at);
    END IF;
END $$;

-- What ml.promote, ml.archive, ml.rollback and ml.delete_model return: the
-- version they changed, without its bytes, metrics, summary or history
-- (ml.models has them).  Made once, by the update to 0.2.0 (0.1.0 returned
-- the whole ml.models row).
CREATE TYPE ml.model_version AS (
    id          bigint,
    name        text,
    version     integer,
    stage       text,
    task        text,
    algorithm   text,
    model_hash  text,
    trained_at  timestamptz,
    deleted_at  timestamptz,
    deleted_by  text
);
COMMENT ON TYPE ml.model_version IS 'a model version as the registry functions return it: identity, stage and hash, without its bytes';

CREATE OR REPLACE FUNCTION ml._model_version(m ml.models) RETURNS ml.model_version
LANGUAGE sql IMMUTABLE AS $$
    SELECT ROW(m.id, m.name, m.version, m.stage, m.task, m.algorithm, m.model_hash, m.trained_at,
               m.deleted_at, m.deleted_by)::ml.model_version
$$;

-- Lock every version of a model name and return the version's row.
CREATE OR REPLACE FUNCTION ml._lock_version(model text, version integer) RETURNS ml.models
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    m ml.models;
BEGIN
    PERFORM ml._require_model_exists(model);
    PERFORM ml._require_model_privilege(model, 'manage', 'change the stage of');
    PERFORM 1 FROM ml.models x WHERE x.name = model ORDER BY x.id FOR UPDATE;
    SELECT * INTO m FROM ml.models x WHERE x.name = model AND x.version = $2;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'model "%" has no version %', model, coalesce(version::text, 'NULL')
            USING ERRCODE = 'undefined_object',
                  HINT = format('See SELECT version, stage FROM ml.registry WHERE name = %L.', model);
    END IF;
    RETURN m;
END $$;

CREATE OR REPLACE FUNCTION ml._promote(model text, version integer, stage text DEFAULT 'production')
RETURNS ml.model_version
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    m ml.models;
    previous ml.models;
BEGIN
    PERFORM ml._require_writable('promote a model');
    IF stage IS NULL OR stage NOT IN ('staging', 'production') THEN
        RAISE EXCEPTION 'cannot promote to stage "%"', coalesce(stage, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Stages are staging and production; use ml.archive() to retire a version.';
    END IF;
    m := ml._lock_version(model, version);
    SELECT * INTO previous FROM ml.models x WHERE x.name = model AND x.stage = stage;
    IF previous.id = m.id THEN
        RAISE NOTICE '%@% is already in stage %', model, version, stage;
        RETURN ml._model_version(m);
    END IF;
    IF previous.id IS NOT NULL THEN
        UPDATE ml.models x SET stage = 'archived' WHERE x.id = previous.id;
    END IF;
    UPDATE ml.models x SET stage = stage WHERE x.id = m.id RETURNING * INTO m;
    INSERT INTO ml.model_events (action, model_id, snapshot_id, details)
    VALUES ('promote', m.id, m.snapshot_id,
            jsonb_build_object('model', model || '@' || version, 'stage', stage,
                               'previous_version', previous.version));
    RETURN ml._model_version(m);
END $$;
COMMENT ON FUNCTION ml._promote(text, integer, text) IS 'move a version to staging or production; the previous holder is archived';

CREATE OR REPLACE FUNCTION ml._archive(model text, version integer) RETURNS ml.model_version
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    m ml.models;
BEGIN
    PERFORM ml._require_writable('archive a model');
    m := ml._lock_version(model, version);
    UPDATE ml.models x SET stage = 'archived' WHERE x.id = m.id RETURNING * INTO m;
    INSERT INTO ml.model_events (action, model_id, snapshot_id, details)
    VALUES ('archive', m.id, m.snapshot_id, jsonb_build_object('model', model || '@' || version));
    RETURN ml._model_version(m);
END $$;
COMMENT ON FUNCTION ml._archive(text, integer) IS 'retire a version';

-- Production history of a model name, replayed from the audit log: a
-- promotion pushes, a rollback pops, an archive removes.
CREATE OR REPLACE FUNCTION ml._rollback(model text) RETURNS ml.model_version
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    e record;
    history integer[] := '{}';
    current_prod ml.models;
    m ml.models;
BEGIN
    PERFORM ml._require_writable('roll back a model');
    PERFORM ml._require_model_exists(model);
    PERFORM ml._require_model_privilege(model, 'manage', 'roll back');
    PERFORM 1 FROM ml.models x WHERE x.name = model ORDER BY x.id FOR UPDATE;
    FOR e IN SELECT ev.action, ev.details, x.version
             FROM ml.model_events ev JOIN ml.models x ON x.id = ev.model_id
             WHERE x.name = model AND ev.action IN ('promote', 'rollback', 'archive')
             ORDER BY ev.id LOOP
        IF e.action = 'promote' AND e.details->>'stage' = 'production' THEN
            history := array_remove(history, e.version) || e.version;
        ELSIF e.action = 'rollback' THEN
            history := array_remove(history, (e.details->>'from_version')::integer);
        ELSIF e.action = 'archive' THEN
            history := array_remove(history, e.version);
        END IF;
    END LOOP;
    SELECT * INTO current_prod FROM ml.models x WHERE x.name = model AND x.stage = 'production';
    IF current_prod.id IS NULL THEN
        RAISE EXCEPTION 'model "%" has no production version to roll back', model
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Promote a version with ml.promote() first.';
    END IF;
    history := array_remove(history, current_prod.version);
    IF cardinality(history) = 0 THEN
        RAISE EXCEPTION 'model "%" has no earlier production version', model
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Version %s is the first version promoted to production.', current_prod.version);
    END IF;
    UPDATE ml.models x SET stage = 'archived' WHERE x.id = current_prod.id;
    UPDATE ml.models x SET stage = 'production'
    WHERE x.name = model AND x.version = history[cardinality(history)] RETURNING * INTO m;
    INSERT INTO ml.model_events (action, model_id, snapshot_id, details)
    VALUES ('rollback', m.id, m.snapshot_id,
            jsonb_build_object('model', model || '@' || m.version, 'stage', 'production',
                               'from_version', current_prod.version));
    RETURN ml._model_version(m);
END $$;
COMMENT ON FUNCTION ml._rollback(text) IS 'put back the version that held production before the current one';

CREATE OR REPLACE VIEW ml.registry AS
SELECT m.id, m.name, m.version, m.name || '@' || m.version AS reference, m.stage, m.task, m.algorithm,
       m.target, array_to_string(m.features, ', ') AS features, cardinality(m.features) AS n_features,
       s.name AS snapshot, s.content_hash AS snapshot_hash, s.row_count AS snapshot_rows,
       m.hyperparams::text AS hyperparams,
       (m.metrics #>> '{train,r2}')::float8 AS train_r2,
       (m.metrics #>> '{test,r2}')::float8 AS test_r2,
       (m.metrics #>> '{test,rmse}')::float8 AS test_rmse,
       (m.metrics #>> '{test,accuracy}')::float8 AS test_accuracy,
       (m.metrics #>> '{test,roc_auc}')::float8 AS test_roc_auc,
       m.metrics::text AS metrics, m.model_hash, octet_length(m.model) AS model_bytes,
       m.workers, m.train_seconds, m.trained_by, m.trained_at, m.extension_version,
       m.deleted_at IS NOT NULL AS deleted
FROM ml.models m LEFT JOIN ml.snapshots s ON s.id = m.snapshot_id;
COMMENT ON VIEW ml.registry IS 'models without the encoded blob, with their data lineage';

-- Champion/challenger: promote a version only if it beats production on a test metric.
CREATE OR REPLACE FUNCTION ml._promote_if_better(model text, version integer, metric text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    cand ml.models;
    prod ml.models;
    higher_is_better boolean;
    cv float8;
    pv float8;
    better boolean;
BEGIN
    PERFORM ml._require_writable('promote a model');
    cand := ml._lock_version(model, version);
    metric := coalesce(metric, CASE cand.task WHEN 'regression' THEN 'rmse' ELSE 'accuracy' END);
    higher_is_better := metric IN ('r2', 'explained_variance', 'accuracy', 'precision', 'recall', 'f1', 'roc_auc');
    IF NOT higher_is_better AND metric NOT IN ('rmse', 'mae', 'log_loss') THEN
        RAISE EXCEPTION 'unknown metric "%"', metric
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Compare on r2, rmse, mae or explained_variance.';
    END IF;
    cv := (cand.metrics->'test'->>metric)::float8;
    IF cv IS NULL THEN
        RAISE EXCEPTION 'version % of model "%" has no test %', version, model, metric
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Train on a snapshot with a test split (test_fraction > 0).';
    END IF;
    SELECT * INTO prod FROM ml.models x WHERE x.name = model AND x.stage = 'production';
    IF prod.id IS NULL THEN
        better := true;
    ELSIF prod.id = cand.id THEN
        better := false;
    ELSE
        pv := (prod.metrics->'test'->>metric)::float8;
        better := pv IS NULL OR CASE WHEN higher_is_better THEN cv > pv ELSE cv < pv END;
    END IF;
    INSERT INTO ml.model_events (action, model_id, snapshot_id, details)
    VALUES ('promote_if_better', cand.id, cand.snapshot_id,
            jsonb_build_object('model', model || '@' || version, 'metric', metric, 'candidate_value', cv,
                               'production', CASE WHEN prod.id IS NOT NULL THEN model || '@' || prod.version END,
                               'production_value', pv, 'promoted', better));
    IF better THEN
        PERFORM ml.promote(model, version);
    END IF;
    RETURN better;
END $$;
COMMENT ON FUNCTION ml._promote_if_better(text, integer, text) IS 'promote a version only if it beats production on a test metric';

-- Delete a model version: its bytes go, its record stays as a tombstone.
CREATE OR REPLACE FUNCTION ml._delete_model(model text, "cascade" boolean DEFAULT false) RETURNS ml.model_version
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    m ml.models;
    children text;
BEGIN
    PERFORM ml._require_writable('delete a model');
    SELECT * INTO m FROM ml.models x WHERE x.id = ml._resolve_model(model);
    PERFORM ml._require_model_privilege(m.name, 'manage', 'delete');
    IF m.deleted_at IS NOT NULL THEN
        RAISE EXCEPTION 'model %@% is already deleted', m.name, m.version USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF m.stage IN ('production', 'staging') AND NOT "cascade" THEN
        RAISE EXCEPTION 'model %@% is in stage %', m.name, m.version, m.stage
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = 'Scoring jobs that name the model would lose it.',
                  HINT = format('Promote another version or archive it first, or pass "cascade" => true. (SELECT ml.archive(%L, %s))', m.name, m.version);
    END IF;
    SELECT string_agg(x.name || '@' || x.version, ', ') INTO children FROM ml.models x
    WHERE x.parent_id = m.id AND x.deleted_at IS NULL;
    IF children IS NOT NULL AND NOT "cascade" THEN
        RAISE EXCEPTION 'model %@% has versions retrained from it: %', m.name, m.version, children
            USING ERRCODE = 'dependent_objects_still_exist', HINT = 'Pass "cascade" => true to delete them too.';
    END IF;
    IF children IS NOT NULL THEN
        PERFORM ml.delete_model(x.name || '@' || x.version, true) FROM ml.models x WHERE x.parent_id = m.id AND x.deleted_at IS NULL;
    END IF;
    UPDATE ml.models x SET stage = 'archived', model = ''::bytea, deleted_at = now(), deleted_by = ml._caller()
    WHERE x.id = m.id RETURNING * INTO m;
    INSERT INTO ml.model_events (action, model_id, snapshot_id, details)
    VALUES ('delete', m.id, m.snapshot_id, jsonb_build_object('model', m.name || '@' || m.version, 'model_hash', m.model_hash));
    RETURN ml._model_version(m);
END $$;
COMMENT ON FUNCTION ml._delete_model(text, boolean) IS 'delete a model version''s bytes, keeping its record as a tombstone';
