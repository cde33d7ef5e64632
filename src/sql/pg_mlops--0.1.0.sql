/* pg_mlops 0.1.0: machine learning lifecycle in SQL */

\echo Use "CREATE EXTENSION pg_mlops" to load this file. \quit

-- Snapshot relations live in ml_data and belong to whoever took them.
CREATE SCHEMA ml_data;
GRANT USAGE, CREATE ON SCHEMA ml_data TO PUBLIC;
GRANT USAGE ON SCHEMA ml TO PUBLIC;

----------------------------------------------------------------------------
-- Catalog tables
----------------------------------------------------------------------------

CREATE TABLE ml.snapshots (
    id               bigserial PRIMARY KEY,
    name             text NOT NULL UNIQUE,
    source           text NOT NULL,
    source_relations text[] NOT NULL,
    relation         text NOT NULL,
    columns          jsonb NOT NULL,
    row_count        bigint NOT NULL,
    train_count      bigint NOT NULL,
    test_count       bigint NOT NULL,
    test_fraction    float8 NOT NULL,
    seed             integer NOT NULL,
    content_hash     text NOT NULL,
    schema_hash      text NOT NULL,
    profile          jsonb NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    created_by       text NOT NULL DEFAULT current_user
);
COMMENT ON TABLE ml.snapshots IS 'immutable, hashed copies of training data';

CREATE TABLE ml.models (
    id                bigserial PRIMARY KEY,
    name              text NOT NULL,
    version           integer NOT NULL,
    task              text NOT NULL,
    algorithm         text NOT NULL,
    snapshot_id       bigint NOT NULL REFERENCES ml.snapshots (id),
    target            text NOT NULL,
    features          text[] NOT NULL,
    hyperparams       jsonb NOT NULL,
    seed              integer NOT NULL,
    metrics           jsonb NOT NULL,
    summary           jsonb NOT NULL,
    stage             text NOT NULL DEFAULT 'none'
                      CHECK (stage IN ('none', 'staging', 'production', 'archived')),
    model             bytea NOT NULL,
    model_hash        text NOT NULL,
    workers           integer NOT NULL,
    train_seconds     float8 NOT NULL,
    trained_by        text NOT NULL DEFAULT current_user,
    trained_at        timestamptz NOT NULL DEFAULT now(),
    extension_version text NOT NULL,
    parent_id         bigint REFERENCES ml.models (id),
    UNIQUE (name, version)
);
COMMENT ON TABLE ml.models IS 'model registry: one row per trained version';
-- At most one production and one staging version per model name.
CREATE UNIQUE INDEX models_one_per_stage ON ml.models (name, stage)
    WHERE stage IN ('staging', 'production');

CREATE TABLE ml.model_events (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor       text NOT NULL DEFAULT current_user,
    action      text NOT NULL,
    model_id    bigint REFERENCES ml.models (id),
    snapshot_id bigint REFERENCES ml.snapshots (id),
    details     jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE ml.model_events IS 'append-only audit log of every snapshot, training and stage change';
CREATE INDEX ON ml.model_events (model_id);

CREATE FUNCTION ml._append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
    RAISE EXCEPTION 'ml.model_events is append-only'
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = format('%s is not allowed on the audit log.', TG_OP);
END $$;
CREATE TRIGGER model_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
    ON ml.model_events FOR EACH STATEMENT EXECUTE FUNCTION ml._append_only();

SELECT pg_catalog.pg_extension_config_dump('ml.snapshots', '');
SELECT pg_catalog.pg_extension_config_dump('ml.snapshots_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.models', '');
SELECT pg_catalog.pg_extension_config_dump('ml.models_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.model_events', '');
SELECT pg_catalog.pg_extension_config_dump('ml.model_events_id_seq', '');

-- Users record their own work; the audit log only grows.
GRANT SELECT, INSERT ON ml.snapshots, ml.models, ml.model_events TO PUBLIC;
GRANT UPDATE (stage) ON ml.models TO PUBLIC;
GRANT USAGE ON SEQUENCE ml.snapshots_id_seq, ml.models_id_seq, ml.model_events_id_seq TO PUBLIC;

----------------------------------------------------------------------------
-- C helpers
----------------------------------------------------------------------------

CREATE FUNCTION ml._notice(message text) RETURNS void
AS 'MODULE_PATHNAME', 'ml_notice' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

CREATE FUNCTION ml._check_model_name(name text) RETURNS text
AS 'MODULE_PATHNAME', 'ml_check_model_name' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION ml._parse_model_ref(ref text, OUT name text, OUT version integer, OUT stage text)
AS 'MODULE_PATHNAME', 'ml_parse_model_ref' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION ml._row_is_test(row_value record, seed integer, test_fraction float8) RETURNS boolean
AS 'MODULE_PATHNAME', 'ml_row_is_test' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION ml._content_hash_accum(internal, record) RETURNS internal
AS 'MODULE_PATHNAME', 'ml_content_hash_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml._content_hash_final(internal) RETURNS text
AS 'MODULE_PATHNAME', 'ml_content_hash_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE ml.content_hash(record) (
    SFUNC = ml._content_hash_accum,
    STYPE = internal,
    FINALFUNC = ml._content_hash_final
);
COMMENT ON AGGREGATE ml.content_hash(record) IS 'order-independent hash of a set of rows';

CREATE FUNCTION ml._query_relations(query text) RETURNS text[]
AS 'MODULE_PATHNAME', 'ml_query_relations' LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION ml._fit(relation regclass, target text, features text[], algorithm text,
                        hyperparams jsonb, seed integer,
                        OUT task text, OUT model bytea, OUT effective_hyperparams jsonb,
                        OUT metrics jsonb, OUT summary jsonb, OUT workers integer)
AS 'MODULE_PATHNAME', 'ml_fit' LANGUAGE C VOLATILE;

CREATE FUNCTION ml.blas_info(OUT threads integer, OUT sequential boolean, OUT process_threads integer)
AS 'MODULE_PATHNAME', 'ml_blas_info' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION ml.blas_info() IS 'OpenBLAS build loaded in this backend and the backend''s thread count';

----------------------------------------------------------------------------
-- Snapshots
----------------------------------------------------------------------------

-- A source is a relation name or a query; return it as a query text.
CREATE FUNCTION ml._source_query(source text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
    rel regclass;
BEGIN
    IF source IS NULL OR btrim(source) = '' THEN
        RAISE EXCEPTION 'source must not be empty'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass a table or view name, or a query starting with SELECT, WITH, VALUES or TABLE.';
    END IF;
    IF source ~* '^\s*\(*\s*(select|with|values|table)\M' THEN
        RETURN regexp_replace(source, '[\s;]+$', '');
    END IF;
    BEGIN
        rel := to_regclass(source);
    EXCEPTION WHEN invalid_name OR syntax_error OR invalid_parameter_value THEN
        rel := NULL;
    END;
    IF rel IS NULL THEN
        RAISE EXCEPTION 'relation "%" does not exist', source
            USING ERRCODE = 'undefined_table',
                  HINT = 'Pass a table or view name, or a query starting with SELECT, WITH, VALUES or TABLE.';
    END IF;
    RETURN 'SELECT * FROM ' || rel::text;
END $$;

-- Per-column profile: counts, moments, decile edges and shares (numeric),
-- top categories and shares (everything else).
CREATE FUNCTION ml._profile(rel text, columns jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    col jsonb;
    cname text;
    ctype text;
    numeric_col boolean;
    stats jsonb;
    edges float8[];
    shares float8[];
    tops jsonb;
    profile jsonb := '{}';
BEGIN
    FOR col IN SELECT * FROM jsonb_array_elements(columns) LOOP
        cname := col->>'name';
        ctype := col->>'type';
        numeric_col := ctype IN ('smallint', 'integer', 'bigint', 'real', 'double precision')
                       OR ctype LIKE 'numeric%';
        IF numeric_col THEN
            EXECUTE format($q$
                SELECT jsonb_build_object('kind', 'numeric', 'count', count(c), 'nulls', count(*) - count(c),
                         'min', min(c), 'max', max(c), 'mean', avg(c), 'stddev', stddev_samp(c)),
                       percentile_disc(ARRAY[0, .1, .2, .3, .4, .5, .6, .7, .8, .9, 1])
                         WITHIN GROUP (ORDER BY c)
                FROM (SELECT %I::float8 AS c FROM %s) s $q$, cname, rel)
            INTO stats, edges;
            shares := NULL;
            IF (stats->>'count')::bigint > 0 THEN
                -- Bins are [-inf, e1), [e1, e2), ..., [e9, +inf): open outer bins.
                EXECUTE format($q$
                    SELECT array_agg(coalesce(n, 0)::float8 / %s ORDER BY b)
                    FROM generate_series(0, 9) b
                    LEFT JOIN (SELECT width_bucket(%I::float8, $1) AS w, count(*) AS n
                               FROM %s WHERE %I IS NOT NULL GROUP BY 1) x ON x.w = b $q$,
                    stats->>'count', cname, rel, cname)
                INTO shares USING edges[2:10];
            END IF;
            stats := stats || jsonb_build_object('decile_edges', to_jsonb(edges),
                                                 'decile_shares', to_jsonb(shares));
        ELSE
            EXECUTE format($q$
                SELECT jsonb_build_object('kind', 'categorical', 'count', count(c), 'nulls', count(*) - count(c),
                                          'distinct', count(DISTINCT c))
                FROM (SELECT %I::text AS c FROM %s) s $q$, cname, rel)
            INTO stats;
            EXECUTE format($q$
                SELECT coalesce(jsonb_agg(jsonb_build_object('value', c, 'share', n::float8 / %s)
                                          ORDER BY n DESC, c), '[]')
                FROM (SELECT %I::text AS c, count(*) AS n FROM %s WHERE %I IS NOT NULL
                      GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10) t $q$,
                greatest((stats->>'count')::bigint, 1), cname, rel, cname)
            INTO tops;
            stats := stats || jsonb_build_object('top', tops);
        END IF;
        profile := profile || jsonb_build_object(cname, stats);
    END LOOP;
    RETURN profile;
END $$;

CREATE FUNCTION ml._snapshot_is_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
    RAISE EXCEPTION 'snapshot relation %.% is immutable', TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'object_not_in_prerequisite_state',
              DETAIL = format('%s would change the rows a snapshot recorded and its content hash.', TG_OP),
              HINT = 'Take a new snapshot with ml.snapshot() instead.';
END $$;

CREATE FUNCTION ml.snapshot(source text, name text DEFAULT NULL,
                            test_fraction float8 DEFAULT 0.25, seed integer DEFAULT 42)
RETURNS ml.snapshots
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    query text;
    snap ml.snapshots;
    sid bigint;
    rel text;
    cols jsonb;
    col_list text;
    t0 timestamptz := clock_timestamp();
BEGIN
    IF test_fraction IS NULL OR NOT (test_fraction >= 0 AND test_fraction < 1) THEN
        RAISE EXCEPTION 'test_fraction must be at least 0 and less than 1, not %', coalesce(test_fraction::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use 0 for no test split; the default is 0.25.';
    END IF;
    IF seed IS NULL THEN
        RAISE EXCEPTION 'seed must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF name IS NOT NULL THEN
        PERFORM ml._check_model_name(name);
        IF EXISTS (SELECT 1 FROM ml.snapshots s WHERE s.name = name) THEN
            RAISE EXCEPTION 'snapshot "%" already exists', name
                USING ERRCODE = 'duplicate_object',
                      HINT = 'Snapshots are immutable; choose another name.';
        END IF;
    END IF;
    query := ml._source_query(source);

    sid := nextval('ml.snapshots_id_seq');
    name := coalesce(name, 'snapshot_' || sid);
    rel := format('ml_data.%I', 'snapshot_' || sid);

    PERFORM ml._notice(format('snapshot %s: copying rows', name));
    EXECUTE format(E'CREATE TABLE %s AS SELECT _ml_src.*, ml._row_is_test(_ml_src, %s, %s) AS _ml_is_test\nFROM (%s\n) _ml_src',
                   rel, seed, test_fraction, query);

    SELECT jsonb_agg(jsonb_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod))
                     ORDER BY a.attnum),
           string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
    INTO cols, col_list
    FROM pg_attribute a
    WHERE a.attrelid = rel::regclass AND a.attnum > 0 AND NOT a.attisdropped
      AND a.attname <> '_ml_is_test';
    IF cols IS NULL THEN
        RAISE EXCEPTION 'source of snapshot "%" has no columns', name USING ERRCODE = 'invalid_parameter_value';
    END IF;

    snap.id := sid;
    snap.name := name;
    snap.source := source;
    snap.source_relations := ml._query_relations(query);
    snap.relation := rel;
    snap.columns := cols;
    snap.test_fraction := test_fraction;
    snap.seed := seed;
    snap.schema_hash := encode(sha256(convert_to(cols::text, 'UTF8')), 'hex');
    EXECUTE format('SELECT count(*), count(*) FILTER (WHERE _ml_is_test) FROM %s', rel)
        INTO snap.row_count, snap.test_count;
    IF snap.row_count = 0 THEN
        RAISE EXCEPTION 'source of snapshot "%" returned no rows', name
            USING ERRCODE = 'data_exception',
                  DETAIL = format('The source was: %s', source),
                  HINT = 'A snapshot needs at least one row; check the source query.';
    END IF;
    snap.train_count := snap.row_count - snap.test_count;
    EXECUTE format('SELECT ml.content_hash(_ml_s) FROM (SELECT %s FROM %s) _ml_s', col_list, rel)
        INTO snap.content_hash;
    PERFORM ml._notice(format('snapshot %s: %s rows copied and hashed in %s s, profiling columns',
                              name, snap.row_count, round(extract(epoch FROM clock_timestamp() - t0)::numeric, 3)));
    snap.profile := ml._profile(rel, cols);
    snap.created_at := now();
    snap.created_by := current_user;

    EXECUTE format('CREATE TRIGGER snapshot_is_immutable BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION ml._snapshot_is_immutable()', rel);
    EXECUTE format('COMMENT ON TABLE %s IS %L', rel, 'pg_mlops snapshot ' || name);

    INSERT INTO ml.snapshots VALUES (snap.*);
    INSERT INTO ml.model_events (action, snapshot_id, details)
    VALUES ('snapshot', sid, jsonb_build_object('name', name, 'rows', snap.row_count,
                                                'content_hash', snap.content_hash,
                                                'source_relations', to_jsonb(snap.source_relations)));
    PERFORM ml._notice(format('snapshot %s: done, %s train and %s test rows, hash %s',
                              name, snap.train_count, snap.test_count, snap.content_hash));
    RETURN snap;
END $$;
COMMENT ON FUNCTION ml.snapshot(text, text, float8, integer) IS 'freeze a table, view or query into an immutable, hashed snapshot';

----------------------------------------------------------------------------
-- Model references
----------------------------------------------------------------------------

-- 'name' (production, else latest), 'name@3', 'name@staging' -> models.id
CREATE FUNCTION ml._resolve_model(ref text) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
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
        SELECT m.id INTO mid FROM ml.models m WHERE m.name = r.name AND m.version = r.version;
    ELSIF r.stage IS NOT NULL THEN
        SELECT m.id INTO mid FROM ml.models m WHERE m.name = r.name AND m.stage = r.stage
        ORDER BY m.version DESC LIMIT 1;
    ELSE
        SELECT m.id INTO mid FROM ml.models m WHERE m.name = r.name
        ORDER BY (m.stage = 'production') DESC, m.version DESC LIMIT 1;
    END IF;
    IF mid IS NULL THEN
        IF NOT EXISTS (SELECT 1 FROM ml.models m WHERE m.name = r.name) THEN
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

CREATE FUNCTION ml._resolve_model(id bigint) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
#variable_conflict use_variable
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ml.models m WHERE m.id = $1) THEN
        RAISE EXCEPTION 'model with id % does not exist', coalesce($1::text, 'NULL')
            USING ERRCODE = 'undefined_object',
                  HINT = 'See SELECT id, name, version FROM ml.registry.';
    END IF;
    RETURN $1;
END $$;

----------------------------------------------------------------------------
-- Training
----------------------------------------------------------------------------

-- Find or take the snapshot a training source names.
CREATE FUNCTION ml._training_snapshot(source text, test_fraction float8, seed integer)
RETURNS ml.snapshots
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    snap ml.snapshots;
    rel regclass;
    is_query boolean := source ~* '^\s*\(*\s*(select|with|values|table)\M';
BEGIN
    IF source IS NULL THEN
        RAISE EXCEPTION 'source must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF source LIKE 'snapshot:%' THEN
        SELECT * INTO snap FROM ml.snapshots s WHERE s.name = substr(source, 10);
        IF NOT FOUND THEN
            RAISE EXCEPTION 'snapshot "%" does not exist', substr(source, 10)
                USING ERRCODE = 'undefined_object', HINT = 'See SELECT name FROM ml.snapshots.';
        END IF;
    ELSIF NOT is_query THEN
        SELECT * INTO snap FROM ml.snapshots s WHERE s.name = source;
        BEGIN
            rel := to_regclass(source);
        EXCEPTION WHEN invalid_name OR syntax_error OR invalid_parameter_value THEN
            rel := NULL;
        END;
        IF snap.id IS NOT NULL AND rel IS NOT NULL THEN
            RAISE EXCEPTION 'source "%" names both a snapshot and a relation', source
                USING ERRCODE = 'ambiguous_alias',
                      HINT = format('Write %L to train on the snapshot, or %L to take a new snapshot of the relation.',
                                    'snapshot:' || source, 'TABLE ' || source);
        END IF;
        IF snap.id IS NULL AND rel IS NULL THEN
            RAISE EXCEPTION 'relation or snapshot "%" does not exist', source
                USING ERRCODE = 'undefined_table',
                      HINT = 'Pass a snapshot name, a table or view name, or a query starting with SELECT, WITH, VALUES or TABLE.';
        END IF;
    END IF;
    IF snap.id IS NOT NULL THEN
        IF test_fraction IS NOT NULL AND test_fraction <> snap.test_fraction THEN
            RAISE EXCEPTION 'snapshot "%" was split with test_fraction %, not %', snap.name, snap.test_fraction, test_fraction
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Leave test_fraction out to use the snapshot''s split, or take a new snapshot.';
        END IF;
        RETURN snap;
    END IF;
    RETURN ml.snapshot(source, NULL, coalesce(test_fraction, 0.25), seed);
END $$;

CREATE FUNCTION ml.train_model(model_name text, source text, target text,
                               algorithm text DEFAULT 'linear_regression',
                               hyperparams jsonb DEFAULT '{}',
                               features text[] DEFAULT NULL,
                               test_fraction float8 DEFAULT NULL,
                               seed integer DEFAULT 42)
RETURNS TABLE (id bigint, name text, version integer, metrics jsonb)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    snap ml.snapshots;
    snap_cols text[];
    f text;
    fit record;
    new_id bigint;
    new_version integer;
    t0 timestamptz := clock_timestamp();
    secs float8;
BEGIN
    PERFORM ml._check_model_name(model_name);
    IF target IS NULL THEN
        RAISE EXCEPTION 'target must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF algorithm IS NULL THEN
        RAISE EXCEPTION 'algorithm must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF seed IS NULL THEN
        RAISE EXCEPTION 'seed must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF hyperparams IS NULL OR jsonb_typeof(hyperparams) <> 'object' THEN
        RAISE EXCEPTION 'hyperparams must be a JSON object'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example ''{"alpha": 0.5}''.';
    END IF;
    snap := ml._training_snapshot(source, test_fraction, seed);

    SELECT array_agg(c->>'name' ORDER BY o) INTO snap_cols
    FROM jsonb_array_elements(snap.columns) WITH ORDINALITY AS x(c, o);
    IF NOT target = ANY (snap_cols) THEN
        RAISE EXCEPTION 'column "%" does not exist in snapshot "%"', target, snap.name
            USING ERRCODE = 'undefined_column',
                  HINT = format('The snapshot has columns %s.', array_to_string(snap_cols, ', '));
    END IF;
    IF features IS NULL THEN
        features := array_remove(snap_cols, target);
    ELSE
        FOREACH f IN ARRAY features LOOP
            IF f IS NULL OR NOT f = ANY (snap_cols) THEN
                RAISE EXCEPTION 'column "%" does not exist in snapshot "%"', coalesce(f, 'NULL'), snap.name
                    USING ERRCODE = 'undefined_column',
                          HINT = format('The snapshot has columns %s.', array_to_string(snap_cols, ', '));
            END IF;
            IF f = target THEN
                RAISE EXCEPTION 'target column "%" cannot also be a feature', f
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
        END LOOP;
        IF (SELECT count(DISTINCT x) FROM unnest(features) x) <> cardinality(features) THEN
            RAISE EXCEPTION 'features must not repeat a column' USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;

    fit := ml._fit(snap.relation::regclass, target, features, algorithm, hyperparams, seed);
    secs := extract(epoch FROM clock_timestamp() - t0);

    -- Serialize version numbering per model name; other names proceed.
    PERFORM pg_advisory_xact_lock(hashtextextended('pg_mlops.model:' || model_name, 0));
    SELECT coalesce(max(m.version), 0) + 1 INTO new_version FROM ml.models m WHERE m.name = model_name;
    INSERT INTO ml.models (name, version, task, algorithm, snapshot_id, target, features, hyperparams,
                           seed, metrics, summary, model, model_hash, workers, train_seconds,
                           extension_version)
    VALUES (model_name, new_version, fit.task, algorithm, snap.id, target, features, fit.effective_hyperparams,
            seed, fit.metrics, fit.summary, fit.model, encode(sha256(fit.model), 'hex'), fit.workers, secs,
            (SELECT extversion FROM pg_extension WHERE extname = 'pg_mlops'))
    RETURNING models.id INTO new_id;
    INSERT INTO ml.model_events (action, model_id, snapshot_id, details)
    VALUES ('train', new_id, snap.id, jsonb_build_object('model', model_name || '@' || new_version,
            'algorithm', algorithm, 'snapshot', snap.name, 'workers', fit.workers));
    PERFORM ml._notice(format('registering: %s@%s (id %s) trained on snapshot %s in %s s',
                              model_name, new_version, new_id, snap.name, round(secs::numeric, 3)));
    RETURN QUERY SELECT new_id, model_name, new_version, fit.metrics;
END $$;
COMMENT ON FUNCTION ml.train_model(text, text, text, text, jsonb, text[], float8, integer)
    IS 'train a model in parallel workers and register it as a new version';

----------------------------------------------------------------------------
-- Registry
----------------------------------------------------------------------------

-- Lock every version of a model name and return the version's row.
CREATE FUNCTION ml._lock_version(model text, version integer) RETURNS ml.models
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    m ml.models;
BEGIN
    PERFORM ml._check_model_name(model);
    PERFORM 1 FROM ml.models x WHERE x.name = model ORDER BY x.id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'model "%" does not exist', model
            USING ERRCODE = 'undefined_object',
                  HINT = 'See SELECT name, version, stage FROM ml.registry.';
    END IF;
    SELECT * INTO m FROM ml.models x WHERE x.name = model AND x.version = $2;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'model "%" has no version %', model, coalesce(version::text, 'NULL')
            USING ERRCODE = 'undefined_object',
                  HINT = format('See SELECT version, stage FROM ml.registry WHERE name = %L.', model);
    END IF;
    RETURN m;
END $$;

CREATE FUNCTION ml.promote(model text, version integer, stage text DEFAULT 'production')
RETURNS ml.models
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    m ml.models;
    previous ml.models;
BEGIN
    IF stage IS NULL OR stage NOT IN ('staging', 'production') THEN
        RAISE EXCEPTION 'cannot promote to stage "%"', coalesce(stage, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Stages are staging and production; use ml.archive() to retire a version.';
    END IF;
    m := ml._lock_version(model, version);
    SELECT * INTO previous FROM ml.models x WHERE x.name = model AND x.stage = stage;
    IF previous.id = m.id THEN
        RAISE NOTICE '%@% is already in stage %', model, version, stage;
        RETURN m;
    END IF;
    IF previous.id IS NOT NULL THEN
        UPDATE ml.models x SET stage = 'archived' WHERE x.id = previous.id;
    END IF;
    UPDATE ml.models x SET stage = stage WHERE x.id = m.id RETURNING * INTO m;
    INSERT INTO ml.model_events (action, model_id, snapshot_id, details)
    VALUES ('promote', m.id, m.snapshot_id,
            jsonb_build_object('model', model || '@' || version, 'stage', stage,
                               'previous_version', previous.version));
    RETURN m;
END $$;
COMMENT ON FUNCTION ml.promote(text, integer, text) IS 'move a version to staging or production; the previous holder is archived';

CREATE FUNCTION ml.archive(model text, version integer) RETURNS ml.models
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    m ml.models;
BEGIN
    m := ml._lock_version(model, version);
    UPDATE ml.models x SET stage = 'archived' WHERE x.id = m.id RETURNING * INTO m;
    INSERT INTO ml.model_events (action, model_id, snapshot_id, details)
    VALUES ('archive', m.id, m.snapshot_id, jsonb_build_object('model', model || '@' || version));
    RETURN m;
END $$;
COMMENT ON FUNCTION ml.archive(text, integer) IS 'retire a version';

-- Production history of a model name, replayed from the audit log: a
-- promotion pushes, a rollback pops, an archive removes.
CREATE FUNCTION ml.rollback(model text) RETURNS ml.models
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    e record;
    history integer[] := '{}';
    current_prod ml.models;
    m ml.models;
BEGIN
    PERFORM ml._check_model_name(model);
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
    RETURN m;
END $$;
COMMENT ON FUNCTION ml.rollback(text) IS 'put back the version that held production before the current one';

CREATE VIEW ml.registry AS
SELECT m.id, m.name, m.version, m.name || '@' || m.version AS reference, m.stage, m.task, m.algorithm,
       m.target, array_to_string(m.features, ', ') AS features, cardinality(m.features) AS n_features,
       s.name AS snapshot, s.content_hash AS snapshot_hash, s.row_count AS snapshot_rows,
       m.hyperparams::text AS hyperparams,
       (m.metrics #>> '{train,r2}')::float8 AS train_r2,
       (m.metrics #>> '{test,r2}')::float8 AS test_r2,
       (m.metrics #>> '{test,rmse}')::float8 AS test_rmse,
       m.metrics::text AS metrics, m.model_hash, octet_length(m.model) AS model_bytes,
       m.workers, m.train_seconds, m.trained_by, m.trained_at, m.extension_version
FROM ml.models m JOIN ml.snapshots s ON s.id = m.snapshot_id;
COMMENT ON VIEW ml.registry IS 'models without the encoded blob, with their data lineage';

----------------------------------------------------------------------------
-- Scoring and explanation
----------------------------------------------------------------------------

CREATE FUNCTION ml.predict(model text, features anyelement) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_predict' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION ml.predict(model bigint, features anyelement) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_predict' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.predict(text, anyelement) IS 'score one row (features matched by column name) or one float8[] (by position)';

CREATE FUNCTION ml._explain(mid bigint)
RETURNS TABLE (feature text, coefficient float8, std_error float8, t_stat float8, p_value float8)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT c->>'feature', (c->>'coefficient')::float8, (c->>'std_error')::float8,
           (c->>'t_stat')::float8, (c->>'p_value')::float8
    FROM ml.models m, jsonb_array_elements(m.summary->'coefficients') WITH ORDINALITY AS x(c, o)
    WHERE m.id = mid
    ORDER BY o
$$;
CREATE FUNCTION ml.explain(model text)
RETURNS TABLE (feature text, coefficient float8, std_error float8, t_stat float8, p_value float8)
LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT * FROM ml._explain(ml._resolve_model(model)) $$;
CREATE FUNCTION ml.explain(model bigint)
RETURNS TABLE (feature text, coefficient float8, std_error float8, t_stat float8, p_value float8)
LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT * FROM ml._explain(ml._resolve_model(model)) $$;

----------------------------------------------------------------------------
-- Lineage
----------------------------------------------------------------------------

CREATE VIEW ml.lineage AS
SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'
                      WHEN 'm' THEN 'materialized_view' WHEN 'f' THEN 'foreign_table'
                      ELSE 'relation' END AS source_kind,
       r.rel AS source_name, 'snapshot'::text AS target_kind, s.name AS target_name,
       'snapshot_of'::text AS relation, s.created_at AS at, s.created_by AS actor
FROM ml.snapshots s
CROSS JOIN LATERAL unnest(s.source_relations) AS r(rel)
LEFT JOIN pg_class c ON c.oid = to_regclass(r.rel)
UNION ALL
SELECT 'snapshot', s.name, 'model', m.name || '@' || m.version, 'trained_on', m.trained_at, m.trained_by
FROM ml.models m JOIN ml.snapshots s ON s.id = m.snapshot_id
UNION ALL
SELECT 'model', m.name || '@' || m.version, 'stage', m.name || '@' || coalesce(e.details->>'stage', 'archived'),
       CASE e.action WHEN 'promote' THEN 'promoted' WHEN 'rollback' THEN 'rolled_back_to' ELSE 'archived' END,
       e.at, e.actor
FROM ml.model_events e JOIN ml.models m ON m.id = e.model_id
WHERE e.action IN ('promote', 'rollback', 'archive');
COMMENT ON VIEW ml.lineage IS 'one row per lineage edge: relation -> snapshot -> model version -> stage';
