-- The role an ml function acts for: inside ml.* (which run as the
-- extension's owner) the role that called it, elsewhere current_user.
CREATE OR REPLACE FUNCTION ml._caller() RETURNS name
AS 'MODULE_PATHNAME', 'ml_caller' LANGUAGE C STABLE PARALLEL RESTRICTED;
-- Run SQL with the caller's rights (only ml functions may); $1 is args.
CREATE OR REPLACE FUNCTION ml._as_caller(sql text, args jsonb DEFAULT NULL) RETURNS jsonb
AS 'MODULE_PATHNAME', 'ml_as_caller' LANGUAGE C VOLATILE;
-- The relation a name means in the caller's search_path (NULL if none).
CREATE OR REPLACE FUNCTION ml._caller_relation(name text) RETURNS regclass
AS 'MODULE_PATHNAME', 'ml_caller_relation' LANGUAGE C STRICT STABLE;
-- A query text as a temporary view of the caller, resolved in the caller's
-- search_path; dropped when the ml function that made it returns.
CREATE OR REPLACE FUNCTION ml._caller_view(query text) RETURNS text
AS 'MODULE_PATHNAME', 'ml_caller_view' LANGUAGE C STRICT VOLATILE;
-- Does the caller own a relation (itself, or as a member of the owner)?
-- A value as text by its type's output function: never a cast (casts are
-- not looked up through search_path, and another role may define one).
CREATE OR REPLACE FUNCTION ml._text(value anyelement) RETURNS text
AS 'MODULE_PATHNAME', 'ml_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._caller_owns(rel regclass) RETURNS boolean
AS 'MODULE_PATHNAME', 'ml_caller_owns' LANGUAGE C STRICT STABLE PARALLEL RESTRICTED;
-- The schema-qualified name a new relation gets when the caller creates it.
CREATE OR REPLACE FUNCTION ml._caller_new_relation(name text) RETURNS text
AS 'MODULE_PATHNAME', 'ml_caller_new_relation' LANGUAGE C STRICT STABLE;

----------------------------------------------------------------------------
-- The registry's tables are made by pg_mlops--0.1.0.sql and changed by
-- src/sql/migrate-0.2.0.sql; this file and the others define functions,
-- views and aggregates (CREATE OR REPLACE in the update script).
----------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION ml._append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
    RAISE EXCEPTION 'ml.model_events is append-only'
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = format('%s is not allowed on the audit log.', TG_OP);
END $$;

-- Does the caller hold a privilege on a model name?  The owner of a name is
-- the role that trained its first version; its members and superusers hold
-- both privileges: 'use' (predict, score, explain, check drift, export) and
-- 'manage' (also train new versions, promote, archive, roll back, describe).
CREATE OR REPLACE FUNCTION ml._is_superuser() RETURNS boolean
LANGUAGE sql STABLE PARALLEL RESTRICTED AS $$
    SELECT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = ml._caller() AND r.rolsuper)
$$;

CREATE OR REPLACE FUNCTION ml._has_model_privilege(model_name text, wanted text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL RESTRICTED AS $$
    SELECT ml._is_superuser()
        -- joined to pg_roles, so that roles dropped since are simply no one
        OR EXISTS (SELECT 1 FROM ml.model_owners o JOIN pg_roles r ON r.rolname = o.owner
                   WHERE o.name = model_name AND pg_has_role(ml._caller(), r.oid, 'MEMBER'))
        OR EXISTS (SELECT 1 FROM ml.model_grants g
                   WHERE g.name = model_name AND (g.privilege = wanted OR g.privilege = 'manage')
                     AND g.grantee = 'public')
        OR EXISTS (SELECT 1 FROM ml.model_grants g JOIN pg_roles r ON r.rolname = g.grantee
                   WHERE g.name = model_name AND (g.privilege = wanted OR g.privilege = 'manage')
                     AND pg_has_role(ml._caller(), r.oid, 'MEMBER'))
$$;

-- Can the current user read a relation (named as text; false once it is gone)?
CREATE OR REPLACE FUNCTION ml._can_read(rel text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL RESTRICTED AS $$
    SELECT coalesce(has_table_privilege(ml._caller(), to_regclass(rel), 'SELECT'), false)
$$;

-- May the caller use a snapshot (it took it, or can read its relation)?
CREATE OR REPLACE FUNCTION ml._can_use_snapshot(s ml.snapshots) RETURNS boolean
LANGUAGE sql STABLE PARALLEL RESTRICTED AS $$
    SELECT s.created_by = ml._caller() OR ml._can_read(s.relation)
$$;

CREATE OR REPLACE FUNCTION ml._require_model_exists(model_name text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM ml._check_model_name(model_name);
    IF NOT EXISTS (SELECT 1 FROM ml.model_owners o WHERE o.name = model_name) THEN
        RAISE EXCEPTION 'model "%" does not exist', model_name
            USING ERRCODE = 'undefined_object',
                  HINT = 'See SELECT name, version, stage FROM ml.registry.';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION ml._require_model_privilege(model_name text, privilege text, action text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT ml._has_model_privilege(model_name, privilege) THEN
        RAISE EXCEPTION 'permission denied to % model "%"', action, model_name
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('This needs the %s privilege on the model, which its owner %s can give.', privilege,
                                  coalesce((SELECT o.owner::text FROM ml.model_owners o WHERE o.name = model_name), '(none)')),
                  HINT = format('The owner runs SELECT ml.grant_model(%L, %L, %L).', model_name, ml._caller(), privilege);
    END IF;
END $$;

----------------------------------------------------------------------------
-- C helpers
----------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION ml._notice(message text) RETURNS void
AS 'MODULE_PATHNAME', 'ml_notice' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION ml._check_model_name(name text) RETURNS text
AS 'MODULE_PATHNAME', 'ml_check_model_name' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION ml._parse_model_ref(ref text, OUT name text, OUT version integer, OUT stage text)
AS 'MODULE_PATHNAME', 'ml_parse_model_ref' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OR REPLACE FUNCTION ml._row_is_test(row_value record, seed integer, test_fraction float8) RETURNS boolean
AS 'MODULE_PATHNAME', 'ml_row_is_test' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OR REPLACE FUNCTION ml._content_hash_accum(internal, record) RETURNS internal
AS 'MODULE_PATHNAME', 'ml_content_hash_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._content_hash_final(internal) RETURNS text
AS 'MODULE_PATHNAME', 'ml_content_hash_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._content_hash_combine(internal, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'ml_content_hash_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._content_hash_serialize(internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_content_hash_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._content_hash_deserialize(bytea, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'ml_content_hash_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- Partial states combine (a sum of row hashes), so the aggregate runs in
-- parallel plans and in engines that combine partial aggregates.
CREATE OR REPLACE AGGREGATE ml.content_hash(record) (
    SFUNC = ml._content_hash_accum,
    STYPE = internal,
    FINALFUNC = ml._content_hash_final,
    COMBINEFUNC = ml._content_hash_combine,
    SERIALFUNC = ml._content_hash_serialize,
    DESERIALFUNC = ml._content_hash_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml.content_hash(record) IS 'order-independent hash of a set of rows';

-- Linear-regression statistics of rows (n, means, R of the centered [x y]),
-- combinable, and the least-squares (or ridge) fit from them.
CREATE OR REPLACE FUNCTION ml._linreg_stats_accum(float8[], float8, float8[]) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_linreg_stats_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._linreg_stats_combine(float8[], float8[]) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_linreg_stats_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE ml.linreg_stats(y float8, x float8[]) (
    SFUNC = ml._linreg_stats_accum,
    STYPE = float8[],
    COMBINEFUNC = ml._linreg_stats_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml.linreg_stats(float8, float8[]) IS
    'linear regression statistics of rows (skips rows with NULL or non-finite values); fit with ml.linreg_solve';
CREATE OR REPLACE FUNCTION ml._linreg_solve(stats float8[], alpha float8) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_linreg_solve' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml.linreg_solve(stats float8[], alpha float8 DEFAULT 0)
RETURNS TABLE (term integer, coefficient float8)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT (u.o - 1)::integer, u.c FROM unnest(ml._linreg_solve(stats, alpha)) WITH ORDINALITY AS u(c, o)
$$;
COMMENT ON FUNCTION ml.linreg_solve(float8[], float8) IS
    'coefficients (term 0: intercept, then features 1..p) fitted from ml.linreg_stats';

CREATE OR REPLACE FUNCTION ml._query_relations(query text) RETURNS text[]
AS 'MODULE_PATHNAME', 'ml_query_relations' LANGUAGE C STRICT VOLATILE;

CREATE OR REPLACE FUNCTION ml._fit(relation regclass, plan jsonb, algorithm text, hyperparams jsonb,
                        trials jsonb, folds integer,
                        OUT task text, OUT model bytea, OUT effective_hyperparams jsonb,
                        OUT metrics jsonb, OUT summary jsonb, OUT history jsonb,
                        OUT workers integer, OUT trials jsonb)
AS 'MODULE_PATHNAME', 'ml_fit' LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION ml._check_hyperparams(algorithm text, hyperparams jsonb) RETURNS void
AS 'MODULE_PATHNAME', 'ml_check_hyperparams' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION ml._algorithm_task(algorithm text) RETURNS text
AS 'MODULE_PATHNAME', 'ml_algorithm_task_sql' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION ml._class_metrics(k integer, confusion float8[]) RETURNS jsonb
AS 'MODULE_PATHNAME', 'ml_class_metrics_sql' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION ml.blas_info(OUT threads integer, OUT sequential boolean, OUT process_threads integer)
AS 'MODULE_PATHNAME', 'ml_blas_info' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION ml.blas_info() IS 'OpenBLAS build loaded in this backend and the backend''s thread count';

-- Writes fail on a hot standby; say why before any work is done.
CREATE OR REPLACE FUNCTION ml._require_writable(action text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF pg_is_in_recovery() THEN
        RAISE EXCEPTION 'cannot % on a hot standby', action
            USING ERRCODE = 'read_only_sql_transaction',
                  DETAIL = 'A standby is read-only: the registry, snapshots and audit log can only be written on the primary.',
                  HINT = 'Run this on the primary. On a standby you can predict, explain, export and read every view.';
    END IF;
END $$;

----------------------------------------------------------------------------
-- Snapshots
----------------------------------------------------------------------------

-- A source is a relation name or a query; return it as a query that runs
-- the same for the caller under the pinned search_path: a relation named
-- with its schema, or a query text as a temporary view of the caller's.
CREATE OR REPLACE FUNCTION ml._source_query(source text) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    rel regclass;
BEGIN
    IF source IS NULL OR btrim(source) = '' THEN
        RAISE EXCEPTION 'source must not be empty'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass a table or view name, or a query starting with SELECT, WITH, VALUES or TABLE.';
    END IF;
    IF ml._is_query(source) THEN
        RETURN 'SELECT * FROM ' || ml._caller_view(regexp_replace(source, '[\s;]+$', ''));
    END IF;
    BEGIN
        rel := ml._caller_relation(source);
    EXCEPTION WHEN invalid_name OR syntax_error THEN
        rel := NULL;  -- not a name: reported as no such relation
    END;
    IF rel IS NULL THEN
        RAISE EXCEPTION 'relation "%" does not exist', source
            USING ERRCODE = 'undefined_table',
                  HINT = 'Pass a table or view name, or a query starting with SELECT, WITH, VALUES or TABLE.';
    END IF;
    RETURN 'SELECT * FROM ' || rel::text;
END $$;

-- Is a source a query text (else a relation or snapshot name)?
CREATE OR REPLACE FUNCTION ml._is_query(source text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$ SELECT source ~* '^\s*\(*\s*(select|with|values|table)\M' $$;

-- Per-column profile: counts, moments, decile edges and shares (numeric),
-- top categories and shares (everything else).
CREATE OR REPLACE FUNCTION ml._profile(rel text, columns jsonb) RETURNS jsonb
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
                         'min', min(c), 'max', max(c), 'mean', avg(c), 'stddev', stddev_samp(c),
                         -- what training imputes NULLs with: train split statistics
                         'train_mean', avg(c) FILTER (WHERE NOT t),
                         'train_median', percentile_cont(0.5) WITHIN GROUP (ORDER BY c) FILTER (WHERE NOT t)),
                       percentile_disc(ARRAY[0, .1, .2, .3, .4, .5, .6, .7, .8, .9, 1])
                         WITHIN GROUP (ORDER BY c)
                FROM (SELECT %I::float8 AS c, _ml_is_test AS t FROM %s) s $q$, cname, rel)
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
                FROM (SELECT ml._text(%I) AS c FROM %s) s $q$, cname, rel)
            INTO stats;
            EXECUTE format($q$
                SELECT coalesce(jsonb_agg(jsonb_build_object('value', c, 'share', n::float8 / %s)
                                          ORDER BY n DESC, c), '[]')
                FROM (SELECT ml._text(%I) AS c, count(*) AS n FROM %s WHERE %I IS NOT NULL
                      GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10) t $q$,
                greatest((stats->>'count')::bigint, 1), cname, rel, cname)
            INTO tops;
            stats := stats || jsonb_build_object('top', tops);
        END IF;
        profile := profile || jsonb_build_object(cname, stats);
    END LOOP;
    RETURN profile;
END $$;

CREATE OR REPLACE FUNCTION ml._snapshot_is_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
    RAISE EXCEPTION 'snapshot relation %.% is immutable', TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'object_not_in_prerequisite_state',
              DETAIL = format('%s would change the rows a snapshot recorded and its content hash.', TG_OP),
              HINT = 'Take a new snapshot with ml.snapshot() instead.';
END $$;

CREATE OR REPLACE FUNCTION ml._snapshot(source text, name text DEFAULT NULL,
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
    qcols jsonb;
    src_rel regclass;
    col_list text;
    copy_list text;
    remote boolean;
    t0 timestamptz := clock_timestamp();
BEGIN
    PERFORM ml._require_writable('take a snapshot');
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

    -- A source whose rows live elsewhere (foreign, partitioned with foreign
    -- partitions, Citus distributed) is not copied here: the snapshot is a
    -- view over it with the split column, hashed and profiled by
    -- aggregates, and trained through the aggregate engine.
    -- The relation belongs to the extension's owner (only ml functions
    -- change or drop it); its creator reads it and may grant others.
    src_rel := CASE WHEN NOT ml._is_query(source) THEN ml._caller_relation(source) END;
    remote := src_rel IS NOT NULL AND ml._is_remote_source(src_rel);
    IF remote THEN
        -- security_invoker: each reader reads the source with its own
        -- rights and user mapping.
        PERFORM ml._notice(format('snapshot %s: rows stay in %s (not copied)', name, src_rel));
        EXECUTE format('CREATE VIEW %s WITH (security_invoker = true) AS SELECT _ml_src.*, ml._row_is_test(_ml_src, %s, %s) AS _ml_is_test FROM %s _ml_src',
                       rel, seed, test_fraction, src_rel);
    ELSE
        PERFORM ml._notice(format('snapshot %s: copying rows', name));
        -- Built-in types only (see snapshot_type in rowhash.c): the split is
        -- decided on the row as the snapshot keeps it.
        qcols := ml._query_columns(query);
        EXECUTE format('CREATE TABLE %s (%s, _ml_is_test boolean NOT NULL)', rel,
                       (SELECT string_agg(format('%I %s', c->>'name', c->>'snapshot_type'), ', ' ORDER BY o)
                        FROM jsonb_array_elements(qcols) WITH ORDINALITY x(c, o)));
        copy_list := (SELECT string_agg(CASE WHEN (c->>'as_text')::boolean THEN format('ml._text(_ml_src.%I) AS %I', c->>'name', c->>'name')
                                             ELSE format('_ml_src.%I', c->>'name') END, ', ' ORDER BY o)
                      FROM jsonb_array_elements(qcols) WITH ORDINALITY x(c, o));
        -- The caller copies the rows it can read, with a right held only
        -- for this statement.
        IF ml._caller() <> current_user THEN
            EXECUTE format('GRANT INSERT ON %s TO %I', rel, ml._caller());
        END IF;
        PERFORM ml._as_caller(format(E'INSERT INTO %s SELECT _ml_row.*, ml._row_is_test(_ml_row, %s, %s)\nFROM (SELECT %s FROM (%s\n) _ml_src) _ml_row',
                                     rel, seed, test_fraction, copy_list, query));
        IF ml._caller() <> current_user THEN
            EXECUTE format('REVOKE INSERT ON %s FROM %I', rel, ml._caller());
        END IF;
    END IF;
    IF ml._caller() <> current_user THEN
        EXECUTE format('GRANT SELECT ON %s TO %I WITH GRANT OPTION', rel, ml._caller());
    END IF;

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
    snap.source_relations := ml._query_relations(CASE WHEN ml._is_query(source) THEN source ELSE query END);
    snap.relation := rel;
    snap.columns := cols;
    snap.test_fraction := test_fraction;
    snap.seed := seed;
    snap.schema_hash := encode(sha256(convert_to(cols::text, 'UTF8')), 'hex');
    -- Counted, hashed and profiled by the caller (a view reads the source
    -- with the reader's rights).
    SELECT (x->>'rows')::bigint, (x->>'test')::bigint, x->>'hash' INTO snap.row_count, snap.test_count, snap.content_hash
    FROM ml._as_caller(format('SELECT jsonb_build_object(''rows'', count(*), ''hash'', ml.content_hash(_ml_s),
                                                         ''test'', (SELECT count(*) FROM %2$s WHERE _ml_is_test))
                               FROM (SELECT %1$s FROM %2$s) _ml_s', col_list, rel)) x;
    IF snap.row_count = 0 THEN
        RAISE EXCEPTION 'source of snapshot "%" returned no rows', name
            USING ERRCODE = 'data_exception',
                  DETAIL = format('The source was: %s', source),
                  HINT = 'A snapshot needs at least one row; check the source query.';
    END IF;
    snap.train_count := snap.row_count - snap.test_count;
    PERFORM ml._notice(format('snapshot %s: %s rows copied and hashed in %s s, profiling columns',
                              name, snap.row_count, round(extract(epoch FROM clock_timestamp() - t0)::numeric, 3)));
    snap.profile := ml._as_caller('SELECT ml._profile($1->>''rel'', $1->''cols'')', jsonb_build_object('rel', rel, 'cols', cols));
    snap.created_at := now();
    snap.created_by := ml._caller();

    IF remote THEN
        EXECUTE format('CREATE TRIGGER snapshot_is_immutable INSTEAD OF INSERT OR UPDATE OR DELETE ON %s '
                       'FOR EACH ROW EXECUTE FUNCTION ml._snapshot_is_immutable()', rel);
    ELSE
        EXECUTE format('CREATE TRIGGER snapshot_is_immutable BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s '
                       'FOR EACH STATEMENT EXECUTE FUNCTION ml._snapshot_is_immutable()', rel);
    END IF;
    EXECUTE format('COMMENT ON %s %s IS %L', CASE WHEN remote THEN 'VIEW' ELSE 'TABLE' END, rel,
                   'pg_mlops snapshot ' || name || CASE WHEN remote THEN ' (a view: the rows stay in the source)' ELSE '' END);

    INSERT INTO ml.snapshots VALUES (snap.*);
    INSERT INTO ml.model_events (action, snapshot_id, details)
    VALUES ('snapshot', sid, jsonb_build_object('name', name, 'rows', snap.row_count,
                                                'content_hash', snap.content_hash,
                                                'source_relations', to_jsonb(snap.source_relations)));
    PERFORM ml._notice(format('snapshot %s: done, %s train and %s test rows, hash %s',
                              name, snap.train_count, snap.test_count, snap.content_hash));
    RETURN snap;
END $$;
COMMENT ON FUNCTION ml._snapshot(text, text, float8, integer) IS 'freeze a table, view or query into an immutable, hashed snapshot';

----------------------------------------------------------------------------
-- Model references
----------------------------------------------------------------------------

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

----------------------------------------------------------------------------
-- Training
----------------------------------------------------------------------------

-- Find or take the snapshot a training source names.
CREATE OR REPLACE FUNCTION ml._training_snapshot(source text, test_fraction float8, seed integer)
RETURNS ml.snapshots
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    snap ml.snapshots;
    rel regclass;
    is_query boolean := ml._is_query(source);
BEGIN
    IF source IS NULL THEN
        RAISE EXCEPTION 'source must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF source LIKE 'snapshot:%' THEN
        SELECT * INTO snap FROM ml.snapshots s WHERE s.name = substr(source, 10) AND ml._can_use_snapshot(s);
        IF NOT FOUND THEN
            RAISE EXCEPTION 'snapshot "%" does not exist', substr(source, 10)
                USING ERRCODE = 'undefined_object', HINT = 'See SELECT name FROM ml.snapshots.';
        END IF;
    ELSIF NOT is_query THEN
        SELECT * INTO snap FROM ml.snapshots s WHERE s.name = source AND ml._can_use_snapshot(s);
        BEGIN
            rel := ml._caller_relation(source);
        EXCEPTION WHEN invalid_name OR syntax_error THEN
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

-- Whether a snapshot column type (as format_type prints it) is a number.
CREATE OR REPLACE FUNCTION ml._is_number_type(t text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT t IN ('smallint', 'integer', 'bigint', 'real', 'double precision') OR t LIKE 'numeric%'
$$;

-- The preprocessing plan of a training, read from the snapshot's train
-- split: the target's classes, each input's encoder (number, bool, time or
-- one-hot category) and the value imputed for NULLs.  ml._fit applies it in
-- the parallel engine and stores it in the model, so scoring encodes rows
-- the same way.
CREATE OR REPLACE FUNCTION ml._read_training_plan(snap ml.snapshots, target text, features text[], algorithm text,
                                       hyperparams jsonb, OUT plan jsonb, OUT numeric_hyperparams jsonb,
                                       OUT impute text)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    task text := ml._algorithm_task(algorithm);
    types jsonb := (SELECT jsonb_object_agg(c->>'name', c->>'type') FROM jsonb_array_elements(snap.columns) c);
    ttype text;
    max_categories integer;
    max_classes integer;
    classes text[];
    class_values float8[];
    inputs jsonb := '[]';
    f text;
    ftype text;
    kind text;
    v float8;
    cats text[];
    reference_coding boolean;
BEGIN
    -- Trees send missing values their learned default way; other models impute.
    impute := coalesce(hyperparams->>'impute', CASE WHEN task = 'tree' THEN 'missing' ELSE 'mean' END);
    IF task = 'tree' AND impute NOT IN ('missing', 'mean', 'median', 'zero') THEN
        RAISE EXCEPTION 'unknown "impute" value "%" for %', impute, algorithm
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Trees take "missing" (the default: NULLs follow a learned direction), "mean", "median" or "zero".';
    END IF;
    IF task <> 'tree' AND impute NOT IN ('mean', 'median', 'zero', 'error') THEN
        RAISE EXCEPTION 'unknown "impute" value "%"', impute
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use "mean" (the default), "median", "zero" or "error".';
    END IF;
    IF coalesce(hyperparams->>'engine', 'parallel') NOT IN ('parallel', 'aggregate') THEN
        RAISE EXCEPTION 'unknown "engine" value "%"', hyperparams->>'engine'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use "parallel" (parallel workers over a local table, the default) or "aggregate" (SQL aggregates, for foreign and distributed tables).';
    END IF;
    numeric_hyperparams := hyperparams - 'impute' - 'engine';
    max_categories := coalesce((numeric_hyperparams->>'max_categories')::numeric, 100);
    max_classes := coalesce((numeric_hyperparams->>'max_classes')::numeric, 100);
    plan := jsonb_build_object('train_rows', snap.train_count, 'engine', coalesce(hyperparams->>'engine', 'parallel'),
                               'missing_as_nan', impute = 'missing', 'seed', snap.seed);

    -- The target.
    IF task IN ('clustering', 'decomposition') THEN
        IF target IS NOT NULL THEN
            RAISE EXCEPTION '% is unsupervised and takes no target', algorithm
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Pass target => NULL; every column in features is an input.';
        END IF;
        plan := plan || jsonb_build_object('target_kind', 'none');
    ELSE
        IF target IS NULL THEN
            RAISE EXCEPTION 'target must not be NULL for %', algorithm USING ERRCODE = 'null_value_not_allowed';
        END IF;
        ttype := types->>target;
        IF task = 'tree' THEN
            -- a numeric target is a regression, a boolean or text one a classification
            task := CASE WHEN ml._is_number_type(ttype) THEN 'regression' ELSE 'classification' END;
        END IF;
        IF task = 'regression' THEN
            IF NOT ml._is_number_type(ttype) THEN
                RAISE EXCEPTION 'target column "%" is of type %, not a number', target, ttype
                    USING ERRCODE = 'datatype_mismatch',
                          HINT = format('%s is a regression; use a classifier (logistic_regression, softmax_regression, naive_bayes) for labels.', algorithm);
            END IF;
            plan := plan || jsonb_build_object('target_kind', 'number', 'target', target);
        ELSE
            -- Classes in the label type's order, from every snapshot row.
            EXECUTE format('SELECT array_agg(ml._text(c) ORDER BY c), array_agg(c ORDER BY c) FROM
                              (SELECT DISTINCT %1$I AS c FROM %2$s WHERE %1$I IS NOT NULL ORDER BY 1 LIMIT %3$s) d',
                           target, snap.relation, max_classes + 1)
                INTO classes;
            IF cardinality(classes) IS NULL OR cardinality(classes) < 2 THEN
                RAISE EXCEPTION 'target column "%" has % class', target, coalesce(cardinality(classes), 0)
                    USING ERRCODE = 'data_exception',
                          DETAIL = format('Classification needs at least two distinct non-NULL labels; snapshot %s has %s.',
                                          snap.name, coalesce(array_to_string(classes, ', '), 'none')),
                          HINT = 'Check the target column, or use a regression algorithm for a numeric target.';
            END IF;
            IF cardinality(classes) > max_classes THEN
                RAISE EXCEPTION 'target column "%" has more than % classes', target, max_classes
                    USING ERRCODE = 'program_limit_exceeded',
                          HINT = 'Raise "max_classes" in hyperparams, or use a regression algorithm for a numeric target.';
            END IF;
            IF ml._is_number_type(ttype) OR ttype = 'boolean' THEN
                EXECUTE format('SELECT array_agg(%s ORDER BY c) FROM (SELECT DISTINCT %I AS c FROM %s WHERE %I IS NOT NULL) d',
                               CASE WHEN ttype = 'boolean' THEN 'c::integer::float8' ELSE 'c::float8' END,
                               target, snap.relation, target)
                    INTO class_values;
            END IF;
            plan := plan || jsonb_build_object('target_kind', 'class', 'target', target,
                                               'classes', to_jsonb(classes), 'class_values', to_jsonb(class_values));
        END IF;
    END IF;

    -- Unpenalized linear models code categories against the first (collinear with the intercept otherwise).
    reference_coding := algorithm = 'linear_regression'
                        OR (algorithm = 'logistic_regression' AND coalesce((numeric_hyperparams->>'alpha')::float8, 0) = 0);

    FOREACH f IN ARRAY features LOOP
        ftype := types->>f;
        kind := CASE WHEN ml._is_number_type(ftype) THEN 'number'
                     WHEN ftype = 'boolean' THEN 'bool'
                     WHEN ftype IN ('date', 'timestamp without time zone', 'timestamp with time zone') THEN 'time'
                     ELSE 'category' END;
        IF kind = 'category' THEN
            EXECUTE format('SELECT array_agg(c ORDER BY n DESC, c COLLATE "C") FROM
                              (SELECT ml._text(%1$I) AS c, count(*) AS n FROM %2$s WHERE NOT _ml_is_test AND %1$I IS NOT NULL
                               GROUP BY 1 ORDER BY 2 DESC, ml._text(%1$I) COLLATE "C" LIMIT %3$s) t',
                           f, snap.relation, max_categories + 1)
                INTO cats;
            inputs := inputs || jsonb_build_array(jsonb_build_object(
                'column', f, 'kind', 'category', 'categories', to_jsonb(coalesce(cats[1:max_categories], '{}')),
                'has_other', coalesce(cardinality(cats), 0) > max_categories,
                'drop_first', reference_coding));
            CONTINUE;
        END IF;
        -- The imputed value: the train split's mean or median, which the
        -- snapshot profile recorded for numbers.
        IF impute = 'error' THEN
            v := NULL;
        ELSIF impute IN ('zero', 'missing') THEN
            v := CASE impute WHEN 'zero' THEN 0 END;
        ELSIF kind = 'number' AND snap.profile -> f ? ('train_' || impute) THEN
            v := coalesce((snap.profile -> f ->> ('train_' || impute))::float8, 0);
        ELSE
            EXECUTE format('SELECT %s FROM (SELECT %s AS c FROM %s WHERE NOT _ml_is_test) s',
                           CASE impute WHEN 'mean' THEN 'avg(c)' ELSE 'percentile_cont(0.5) WITHIN GROUP (ORDER BY c)' END,
                           CASE kind WHEN 'number' THEN format('%I::float8', f)
                                     WHEN 'bool' THEN format('%I::integer::float8', f)
                                     ELSE format('extract(epoch FROM %I)::float8', f) END,
                           snap.relation)
                INTO v;
            v := coalesce(v, 0);  -- a column NULL in every train row
        END IF;
        inputs := inputs || jsonb_build_array(jsonb_build_object('column', f, 'kind', kind, 'impute', v));
    END LOOP;
    plan := plan || jsonb_build_object('inputs', inputs);
END $$;

-- The plan, read from the snapshot with the caller's rights.
CREATE OR REPLACE FUNCTION ml._training_plan(snap ml.snapshots, target text, features text[], algorithm text,
                                  hyperparams jsonb, OUT plan jsonb, OUT numeric_hyperparams jsonb,
                                  OUT impute text)
LANGUAGE sql VOLATILE AS $$
    SELECT x.plan, x.numeric_hyperparams, x.impute
    FROM jsonb_to_record(ml._as_caller(
        'SELECT to_jsonb(p) FROM ml._read_training_plan(jsonb_populate_record(NULL::ml.snapshots, $1->''snap''), $1->>''target'',
                                                         ARRAY(SELECT jsonb_array_elements_text($1->''features'')),
                                                         $1->>''algorithm'', $1->''hyperparams'') p',
        jsonb_build_object('snap', to_jsonb(snap), 'target', target, 'features', to_jsonb(features),
                           'algorithm', algorithm, 'hyperparams', hyperparams)))
         AS x(plan jsonb, numeric_hyperparams jsonb, impute text)
$$;

-- The trials of a hyperparameter search: every combination of the listed
-- values ("grid"), or n_iter of them drawn without replacement in an order
-- fixed by the seed ("random").  Each trial is the base hyperparameters
-- with its own values on top.
CREATE OR REPLACE FUNCTION ml._search_trials(search jsonb, base jsonb, seed integer, OUT trials jsonb, OUT folds integer)
LANGUAGE plpgsql IMMUTABLE AS $$
#variable_conflict use_variable
DECLARE
    method text;
    params jsonb;
    k text;
    n_iter integer;
    grid_size numeric := 1;
BEGIN
    IF jsonb_typeof(search) <> 'object' THEN
        RAISE EXCEPTION 'search must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'For example ''{"method": "grid", "params": {"alpha": [0.1, 1, 10]}, "folds": 5}''.';
    END IF;
    FOR k IN SELECT jsonb_object_keys(search) LOOP
        IF k NOT IN ('method', 'params', 'folds', 'n_iter') THEN
            RAISE EXCEPTION 'unknown search key "%"', k USING ERRCODE = 'invalid_parameter_value',
                HINT = 'Search keys are method, params, folds and n_iter.';
        END IF;
    END LOOP;
    method := coalesce(search->>'method', 'grid');
    IF method NOT IN ('grid', 'random') THEN
        RAISE EXCEPTION 'unknown search method "%"', method USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use "grid" or "random".';
    END IF;
    params := search->'params';
    IF params IS NULL OR jsonb_typeof(params) <> 'object' OR params = '{}' THEN
        RAISE EXCEPTION 'search needs "params", an object of hyperparameter value lists' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR k IN SELECT jsonb_object_keys(params) LOOP
        IF jsonb_typeof(params->k) <> 'array' OR jsonb_array_length(params->k) = 0 THEN
            RAISE EXCEPTION 'search grid of size zero: "%" lists no values', k USING ERRCODE = 'invalid_parameter_value',
                HINT = 'Give each hyperparameter a non-empty array of values, e.g. "alpha": [0.1, 1].';
        END IF;
    END LOOP;
    folds := coalesce((search->>'folds')::integer, 5);
    n_iter := coalesce((search->>'n_iter')::integer, 10);
    IF n_iter < 1 THEN
        RAISE EXCEPTION '"n_iter" must be positive, got %', n_iter USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The size of the grid, from the lengths of its lists, before any work.
    FOR k IN SELECT jsonb_object_keys(params) LOOP
        grid_size := grid_size * jsonb_array_length(params->k);
    END LOOP;
    IF method = 'grid' AND grid_size > 1000 THEN
        RAISE EXCEPTION 'search grid has % combinations, more than 1000', grid_size
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = format('The lists of %s multiply to %s.', (SELECT string_agg(x, ', ' ORDER BY x) FROM jsonb_object_keys(params) x), grid_size),
                  HINT = 'Shorten the lists, or use "method": "random" with "n_iter" trials.';
    END IF;
    IF method = 'random' AND n_iter > 1000 THEN
        RAISE EXCEPTION '"n_iter" is %, more than 1000', n_iter USING ERRCODE = 'program_limit_exceeded';
    END IF;
    IF method = 'random' AND grid_size > 100000 THEN
        RAISE EXCEPTION 'random search draws from % combinations, more than 100000', grid_size
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'Shorten the lists of values.';
    END IF;
    WITH RECURSIVE keys AS (
        SELECT key_name, row_number() OVER (ORDER BY key_name) AS i FROM jsonb_object_keys(params) key_name
    ), combos AS (
        SELECT 0::bigint AS i, '{}'::jsonb AS c
        UNION ALL
        SELECT keys.i, combos.c || jsonb_build_object(keys.key_name, v)
        FROM combos JOIN keys ON keys.i = combos.i + 1, jsonb_array_elements(params->keys.key_name) v
    ), full_combos AS (
        SELECT c, row_number() OVER () AS o FROM combos WHERE i = (SELECT count(*) FROM keys)
    )
    SELECT jsonb_agg(base || c ORDER BY CASE WHEN method = 'random' THEN md5(seed || ':' || c::text) END, o)
    INTO trials
    FROM (SELECT c, o FROM full_combos
          ORDER BY CASE WHEN method = 'random' THEN md5(seed || ':' || c::text) END, o
          LIMIT CASE WHEN method = 'random' THEN n_iter END) t;
END $$;

-- Exact ROC AUC of scored rows (ties count one half), as a parallel aggregate.
CREATE OR REPLACE FUNCTION ml._auc_trans(internal, float8, boolean) RETURNS internal
AS 'MODULE_PATHNAME', 'ml_auc_trans' LANGUAGE C PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._auc_combine(internal, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'ml_auc_combine' LANGUAGE C PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._auc_serialize(internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_auc_serialize' LANGUAGE C STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._auc_deserialize(bytea, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'ml_auc_deserialize' LANGUAGE C STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._auc_final(internal) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_auc_final' LANGUAGE C PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE ml._auc_agg(score float8, positive boolean) (
    SFUNC = ml._auc_trans, STYPE = internal, COMBINEFUNC = ml._auc_combine,
    SERIALFUNC = ml._auc_serialize, DESERIALFUNC = ml._auc_deserialize,
    FINALFUNC = ml._auc_final, PARALLEL = SAFE
);

-- ROC AUC of a binary classifier on a query's rows: the probability that a
-- positive row scores above a negative one, ties counting one half.
CREATE OR REPLACE FUNCTION ml._roc_auc(model text, query text, target text, positive text) RETURNS float8
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN (ml._as_caller(format($q$
        SELECT to_jsonb(ml._auc_agg((ml.predict_proba(%2$L, _ml_row))[2], ml._text(_ml_row.%1$I) = %4$L))
        FROM (%3$s) _ml_row WHERE _ml_row.%1$I IS NOT NULL $q$,
        target, model, query, positive)) #>> '{}')::float8;
END $$;

CREATE OR REPLACE FUNCTION ml._train_model(model_name text, source text, target text,
                               algorithm text DEFAULT 'linear_regression',
                               hyperparams jsonb DEFAULT '{}',
                               features text[] DEFAULT NULL,
                               test_fraction float8 DEFAULT NULL,
                               seed integer DEFAULT 42,
                               search jsonb DEFAULT NULL)
RETURNS TABLE (id bigint, name text, version integer, metrics jsonb)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    snap ml.snapshots;
    snap_cols text[];
    f text;
    pl record;
    search_trials jsonb;
    search_folds integer;
    fit record;
    new_id bigint;
    new_version integer;
    parent bigint;
    metrics jsonb;
    ref text;
    split text;
    t0 timestamptz := clock_timestamp();
    secs float8;
BEGIN
    PERFORM ml._require_writable('train a model');
    PERFORM ml._check_model_name(model_name);
    IF algorithm IS NULL THEN
        RAISE EXCEPTION 'algorithm must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM ml._algorithm_task(algorithm);
    IF seed IS NULL THEN
        RAISE EXCEPTION 'seed must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF hyperparams IS NULL OR jsonb_typeof(hyperparams) <> 'object' THEN
        RAISE EXCEPTION 'hyperparams must be a JSON object'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example ''{"alpha": 0.5}''.';
    END IF;
    IF search IS NOT NULL AND algorithm = 'pca' THEN
        RAISE EXCEPTION 'pca has no score to search hyperparameters with' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Limits before work: names and bounds of the hyperparameters, the size of a search.
    PERFORM ml._check_hyperparams(algorithm, hyperparams - 'impute' - 'engine');
    IF search IS NOT NULL THEN
        SELECT * INTO search_trials, search_folds FROM ml._search_trials(search, hyperparams - 'impute' - 'engine', seed);
    END IF;
    snap := ml._training_snapshot(source, test_fraction, seed);

    SELECT array_agg(c->>'name' ORDER BY o) INTO snap_cols
    FROM jsonb_array_elements(snap.columns) WITH ORDINALITY AS x(c, o);
    IF target IS NOT NULL AND NOT target = ANY (snap_cols) THEN
        RAISE EXCEPTION 'column "%" does not exist in snapshot "%"', target, snap.name
            USING ERRCODE = 'undefined_column',
                  HINT = format('The snapshot has columns %s.', array_to_string(snap_cols, ', '));
    END IF;
    IF features IS NULL THEN
        features := array_remove(snap_cols, target);
    ELSE
        FOREACH f IN ARRAY features LOOP
            IF f IS NULL THEN
                RAISE EXCEPTION 'features must not contain NULL' USING ERRCODE = 'null_value_not_allowed';
            END IF;
            IF NOT f = ANY (snap_cols) THEN
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
    IF coalesce(cardinality(features), 0) = 0 THEN
        RAISE EXCEPTION 'at least one feature is needed' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF algorithm = 'kmeans' AND coalesce((hyperparams->>'k')::numeric, 8) > snap.train_count THEN
        RAISE EXCEPTION 'k is %, but snapshot "%" has only % training rows', coalesce((hyperparams->>'k')::numeric, 8), snap.name, snap.train_count
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use a k no larger than the number of training rows.';
    END IF;

    pl := ml._training_plan(snap, target, features, algorithm, hyperparams);
    fit := ml._fit(snap.relation::regclass, pl.plan, algorithm, pl.numeric_hyperparams, search_trials, search_folds);
    secs := extract(epoch FROM clock_timestamp() - t0);

    -- Serialize version numbering per model name; other names proceed.
    PERFORM pg_advisory_xact_lock(hashtextextended('pg_mlops.model:' || model_name, 0));
    -- The first training of a name makes its owner; later ones need the manage privilege.
    INSERT INTO ml.model_owners (name, owner) VALUES (model_name, ml._caller()) ON CONFLICT ON CONSTRAINT model_owners_pkey DO NOTHING;
    PERFORM ml._require_model_privilege(model_name, 'manage', 'train a new version of');
    SELECT coalesce(max(m.version), 0) + 1 INTO new_version FROM ml.models m WHERE m.name = model_name;
    -- A new version of a name is retrained from its production (else latest) version.
    SELECT m.id INTO parent FROM ml.models m WHERE m.name = model_name AND m.deleted_at IS NULL
    ORDER BY (m.stage = 'production') DESC, m.version DESC LIMIT 1;
    metrics := fit.metrics;
    IF fit.task = 'clustering' AND jsonb_typeof(metrics->'train') = 'object' THEN
        metrics := jsonb_set(metrics, '{train,silhouette}', coalesce(fit.summary->'silhouette', 'null'));
    END IF;
    new_id := nextval('ml.models_id_seq');
    INSERT INTO ml.models (id, name, version, task, algorithm, snapshot_id, target, features, hyperparams,
                           seed, metrics, summary, model, model_hash, model_digest, workers, train_seconds,
                           extension_version, parent_id, history, search)
    VALUES (new_id, model_name, new_version, fit.task, algorithm, snap.id, target, features,
            fit.effective_hyperparams || jsonb_build_object('impute', pl.impute, 'engine', pl.plan->>'engine'),
            seed, metrics, fit.summary, fit.model, encode(sha256(fit.model), 'hex'),
            encode(sha256(int8send(new_id) || fit.model), 'hex'), fit.workers, secs,
            (SELECT extversion FROM pg_extension WHERE extname = 'pg_mlops'), parent, fit.history, search)
    RETURNING models.id INTO new_id;
    ref := model_name || '@' || new_version;
    IF fit.trials IS NOT NULL THEN
        INSERT INTO ml.trials (model_id, trial, params, score_name, folds, fold_scores, mean_score, sd_score, chosen)
        SELECT new_id, (t->>'trial')::integer, t->'params', t->>'score', search_folds,
               ARRAY(SELECT x::float8 FROM jsonb_array_elements_text(t->'fold_scores') x),
               (t->>'mean_score')::float8, (t->>'sd_score')::float8, (t->>'chosen')::boolean
        FROM jsonb_array_elements(fit.trials) t;
    END IF;
    -- ROC AUC needs every score sorted: computed here, by the scoring code, on both splits.
    IF fit.task = 'classification' AND jsonb_array_length(fit.summary->'classes') = 2 THEN
        FOREACH split IN ARRAY ARRAY['train', 'test'] LOOP
            IF jsonb_typeof(metrics->split) = 'object' THEN
                metrics := jsonb_set(metrics, ARRAY[split, 'roc_auc'],
                    coalesce(to_jsonb(ml._roc_auc(ref, format('SELECT * FROM %s WHERE %s_ml_is_test', snap.relation,
                                                              CASE split WHEN 'train' THEN 'NOT ' ELSE '' END),
                                                  target, fit.summary->'classes'->>1)), 'null'));
            END IF;
        END LOOP;
        UPDATE ml.models m SET metrics = metrics WHERE m.id = new_id;
    END IF;
    INSERT INTO ml.model_events (action, model_id, snapshot_id, details)
    VALUES ('train', new_id, snap.id, jsonb_build_object('model', ref,
            'algorithm', algorithm, 'snapshot', snap.name, 'workers', fit.workers,
            'trials', jsonb_array_length(coalesce(fit.trials, '[]'))));
    PERFORM ml._notice(format('registering: %s (id %s) trained on snapshot %s in %s s',
                              ref, new_id, snap.name, round(secs::numeric, 3)));
    RETURN QUERY SELECT new_id, model_name, new_version, metrics;
END $$;
COMMENT ON FUNCTION ml._train_model(text, text, text, text, jsonb, text[], float8, integer, jsonb)
    IS 'train a model in parallel workers and register it as a new version';

----------------------------------------------------------------------------
-- Registry
----------------------------------------------------------------------------

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
RETURNS ml.models
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
COMMENT ON FUNCTION ml._promote(text, integer, text) IS 'move a version to staging or production; the previous holder is archived';

CREATE OR REPLACE FUNCTION ml._archive(model text, version integer) RETURNS ml.models
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
    RETURN m;
END $$;
COMMENT ON FUNCTION ml._archive(text, integer) IS 'retire a version';

-- Production history of a model name, replayed from the audit log: a
-- promotion pushes, a rollback pops, an archive removes.
CREATE OR REPLACE FUNCTION ml._rollback(model text) RETURNS ml.models
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
    RETURN m;
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

----------------------------------------------------------------------------
-- Scoring and explanation
----------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION ml.predict(model text, features anyelement) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_predict' LANGUAGE C STABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml.predict(model bigint, features anyelement) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_predict' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.predict(text, anyelement) IS 'score one row (features matched by column name) or one float8[] (by position)';

CREATE OR REPLACE FUNCTION ml._predict_raw(model bigint, features anyelement) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_predict_raw' LANGUAGE C STABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml.predict_class(model text, features anyelement) RETURNS text
AS 'MODULE_PATHNAME', 'ml_predict_class' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.predict_class(text, anyelement) IS 'the label a classifier predicts for one row';
CREATE OR REPLACE FUNCTION ml.predict_proba(model text, features anyelement) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_predict_proba' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.predict_proba(text, anyelement) IS 'class probabilities of one row, in the order of ml.classes()';
CREATE OR REPLACE FUNCTION ml.transform(model text, features anyelement) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_transform' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.transform(text, anyelement) IS 'pca: the row''s component scores; kmeans: its distance to each centroid';
CREATE OR REPLACE FUNCTION ml.classes(model text) RETURNS text[]
AS 'MODULE_PATHNAME', 'ml_classes' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.classes(text) IS 'a classifier''s labels, in the order of ml.predict_proba()';

-- Per encoded feature: coefficients (linear models) or importance (trees:
-- total split gain, cover and number of splits), with the source column.
CREATE OR REPLACE FUNCTION ml._explain(mid bigint)
RETURNS TABLE (feature text, coefficient float8, std_error float8, t_stat float8, p_value float8,
               source_column text, class text, gain float8, cover float8, splits float8)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
#variable_conflict use_variable
DECLARE
    m ml.models;
BEGIN
    SELECT * INTO m FROM ml.models x WHERE x.id = mid;
    IF m.summary->'coefficients' IS NULL AND m.summary->'importance' IS NULL THEN
        RAISE EXCEPTION 'model %@% (%) has no coefficients or feature importance to explain', m.name, m.version, m.algorithm
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'Its parameters (centroids, components, class statistics) are in ml.models.summary.';
    END IF;
    RETURN QUERY
    SELECT c->>'feature', (c->>'coefficient')::float8, (c->>'std_error')::float8,
           coalesce(c->>'t_stat', c->>'z')::float8, (c->>'p_value')::float8,
           CASE WHEN c->>'feature' = 'intercept' THEN NULL
                ELSE (SELECT f FROM unnest(m.features) f
                      WHERE c->>'feature' = f OR starts_with(c->>'feature', f || '=')
                      ORDER BY length(f) DESC LIMIT 1) END,
           c->>'class', (c->>'gain')::float8, (c->>'cover')::float8, (c->>'splits')::float8
    FROM jsonb_array_elements(coalesce(m.summary->'coefficients', m.summary->'importance')) WITH ORDINALITY AS x(c, o)
    ORDER BY o;
END $$;
CREATE OR REPLACE FUNCTION ml.explain(model text)
RETURNS TABLE (feature text, coefficient float8, std_error float8, t_stat float8, p_value float8,
               source_column text, class text, gain float8, cover float8, splits float8)
LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT * FROM ml._explain(ml._resolve_model(model)) $$;
CREATE OR REPLACE FUNCTION ml.explain(model bigint)
RETURNS TABLE (feature text, coefficient float8, std_error float8, t_stat float8, p_value float8,
               source_column text, class text, gain float8, cover float8, splits float8)
LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT * FROM ml._explain(ml._resolve_model(model)) $$;
COMMENT ON FUNCTION ml.explain(text) IS 'coefficients per encoded feature (t for linear regression, z for logistic regression) or tree feature importance, and the source column of each';

CREATE OR REPLACE FUNCTION ml.explain_predict(model text, features anyelement)
RETURNS TABLE (class text, feature text, value float8, contribution float8)
AS 'MODULE_PATHNAME', 'ml_explain_predict' LANGUAGE C STABLE PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION ml.explain_predict(text, anyelement) IS 'each encoded feature''s contribution to one prediction (Tree SHAP for trees, coefficient x centered value for linear models) and the base value they add to';

-- ml.explain per source column: a one-hot column's features together.
CREATE OR REPLACE FUNCTION ml.explain_columns(model text)
RETURNS TABLE (source_column text, features integer, max_abs_coefficient float8, min_p_value float8, gain float8)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT e.source_column, count(*)::integer, max(abs(e.coefficient)), min(e.p_value), sum(e.gain)
    FROM ml.explain(model) WITH ORDINALITY e(feature, coefficient, std_error, t_stat, p_value, source_column, class, gain, cover, splits, o)
    WHERE e.source_column IS NOT NULL
    GROUP BY e.source_column ORDER BY min(o)
$$;
COMMENT ON FUNCTION ml.explain_columns(text) IS 'ml.explain summed per source column: the largest coefficient, the smallest p-value, the total tree gain';

-- The training rows of a model's snapshot (split = 'train' or 'test'), as a query.
CREATE OR REPLACE FUNCTION ml._split_query(relation text, split text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT format('SELECT * FROM %s WHERE %s_ml_is_test', relation, CASE split WHEN 'train' THEN 'NOT ' ELSE '' END)
$$;

-- Resolve a model reference and the query of a source (query, relation or snapshot).
CREATE OR REPLACE FUNCTION ml._evaluation_source(model text, source text, OUT m ml.models, OUT query text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
BEGIN
    SELECT * INTO m FROM ml.models x WHERE x.id = ml._resolve_model(model);
    IF source IS NULL THEN
        RAISE EXCEPTION 'source must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    query := ml._source_query(source);
    IF m.target IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(ml._query_columns(query)) c
                                            WHERE c->>'name' = m.target) THEN
        RAISE EXCEPTION 'source has no column "%", the target of model %@%', m.target, m.name, m.version
            USING ERRCODE = 'undefined_column',
                  HINT = 'Evaluation needs labeled rows: include the target column.';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION ml._evaluate(model text, source text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    e record;
    ref text;
    result jsonb;
    classes text[];
    k integer;
    conf float8[];
BEGIN
    e := ml._evaluation_source(model, source);
    ref := (e.m).name || '@' || (e.m).version;
    CASE (e.m).task
    WHEN 'regression' THEN
        result := ml._as_caller(format($q$
            SELECT jsonb_build_object('r2', 1 - sum((y - p)^2) / nullif(sum((y - ybar)^2), 0),
                                      'rmse', sqrt(avg((y - p)^2)), 'mae', avg(abs(y - p)),
                                      'explained_variance', 1 - var_pop(y - p) / nullif(var_pop(y), 0),
                                      'rows', count(*))
            FROM (SELECT y, p, avg(y) OVER () AS ybar
                  FROM (SELECT (_ml_row.%1$I)::float8 AS y, ml.predict(%2$L, _ml_row) AS p FROM (%3$s) _ml_row) x
                  WHERE y IS NOT NULL AND p IS NOT NULL) z $q$, (e.m).target, ref, e.query));
    WHEN 'classification' THEN
        classes := ml.classes(ref);
        k := cardinality(classes);
        SELECT ARRAY(SELECT jsonb_array_elements_text(x->'conf')::float8), x->'result' INTO conf, result
        FROM ml._as_caller(format($q$
            WITH scored AS (
                SELECT array_position(%4$L::text[], ml._text(_ml_row.%1$I)) AS actual, ml.predict_proba(%2$L, _ml_row) AS p
                FROM (%3$s) _ml_row WHERE _ml_row.%1$I IS NOT NULL
            ), labeled AS (
                SELECT actual, p, (SELECT i FROM generate_subscripts(p, 1) i ORDER BY p[i] DESC, i LIMIT 1) AS predicted
                FROM scored WHERE p IS NOT NULL AND actual IS NOT NULL
            ), cells AS (
                SELECT actual, predicted, count(*) AS n FROM labeled GROUP BY 1, 2
            )
            SELECT jsonb_build_object('conf', (SELECT jsonb_agg(coalesce(c.n, 0)::float8 ORDER BY a, b)
                    FROM generate_series(1, %5$s) a CROSS JOIN generate_series(1, %5$s) b
                    LEFT JOIN cells c ON c.actual = a AND c.predicted = b),
                   'result', jsonb_build_object('log_loss', avg(-ln(greatest(p[actual], 1e-15))), 'rows', count(*),
                                      'unknown_labels', (SELECT count(*) FROM scored WHERE actual IS NULL)))
            FROM labeled $q$, (e.m).target, ref, e.query, classes, k)) x;
        IF (result->>'rows')::bigint = 0 THEN
            RETURN result;
        END IF;
        result := ml._class_metrics(k, conf) || result;
        IF k = 2 THEN
            result := result || jsonb_build_object('roc_auc', ml._roc_auc(ref, e.query, (e.m).target, classes[2]));
        END IF;
    WHEN 'clustering' THEN
        result := ml._as_caller(format($q$
            SELECT jsonb_build_object('inertia', sum(d), 'mean_inertia', avg(d), 'rows', count(*))
            FROM (SELECT (SELECT min(x * x) FROM unnest(ml.transform(%1$L, _ml_row)) x) AS d FROM (%2$s) _ml_row) z
            WHERE d IS NOT NULL $q$, ref, e.query));
    ELSE
        RAISE EXCEPTION 'model % is a decomposition and has no evaluation metrics', ref
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'Its explained variance is in ml.models.summary.';
    END CASE;
    RETURN result;
END $$;
COMMENT ON FUNCTION ml._evaluate(text, text) IS 'metrics of a model on any labeled query, table or snapshot';

CREATE OR REPLACE FUNCTION ml._confusion_matrix(model text, source text)
RETURNS TABLE (actual text, predicted text, count bigint)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    e record;
    ref text;
BEGIN
    e := ml._evaluation_source(model, source);
    ref := (e.m).name || '@' || (e.m).version;
    IF (e.m).task <> 'classification' THEN
        RAISE EXCEPTION 'model % is not a classifier', ref USING ERRCODE = 'wrong_object_type',
            HINT = 'ml.evaluate() gives regression and clustering metrics.';
    END IF;
    RETURN QUERY SELECT x.actual, x.predicted, x.count FROM jsonb_to_recordset(ml._as_caller(format($q$
        WITH cells AS (
            SELECT ml._text(_ml_row.%1$I) AS a, ml.predict_class(%2$L, _ml_row) AS p, count(*) AS n
            FROM (%3$s) _ml_row WHERE _ml_row.%1$I IS NOT NULL GROUP BY 1, 2
        )
        SELECT coalesce(jsonb_agg(jsonb_build_object('actual', a.c, 'predicted', b.c, 'count', coalesce(cells.n, 0))
                                  ORDER BY a.i, b.j), '[]')
        FROM unnest(ml.classes(%2$L)) WITH ORDINALITY a(c, i)
        CROSS JOIN unnest(ml.classes(%2$L)) WITH ORDINALITY b(c, j)
        LEFT JOIN cells ON cells.a = a.c AND cells.p = b.c $q$, (e.m).target, ref, e.query)))
        AS x(actual text, predicted text, count bigint);
END $$;
COMMENT ON FUNCTION ml._confusion_matrix(text, text) IS 'counts of actual x predicted labels of a classifier on labeled rows, every cell included';

CREATE OR REPLACE FUNCTION ml._roc_curve(model text, source text, positive text DEFAULT NULL)
RETURNS TABLE (threshold float8, false_positive_rate float8, true_positive_rate float8)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    e record;
    ref text;
    classes text[];
    pos integer;
BEGIN
    e := ml._evaluation_source(model, source);
    ref := (e.m).name || '@' || (e.m).version;
    IF (e.m).task <> 'classification' THEN
        RAISE EXCEPTION 'model % is not a classifier', ref USING ERRCODE = 'wrong_object_type';
    END IF;
    classes := ml.classes(ref);
    pos := array_position(classes, coalesce(positive, classes[cardinality(classes)]));
    IF pos IS NULL THEN
        RAISE EXCEPTION 'model % has no class "%"', ref, positive USING ERRCODE = 'invalid_parameter_value',
            HINT = format('Its classes are %s.', array_to_string(classes, ', '));
    END IF;
    -- One point per distinct score, from the highest: rows scoring at least
    -- the threshold are predicted positive (one class against the rest).
    RETURN QUERY SELECT x.threshold, x.false_positive_rate, x.true_positive_rate FROM jsonb_to_recordset(ml._as_caller(format($q$
        WITH scored AS (
            SELECT ml._text(_ml_row.%1$I) = %4$L AS is_pos, (ml.predict_proba(%2$L, _ml_row))[%5$s] AS score
            FROM (%3$s) _ml_row WHERE _ml_row.%1$I IS NOT NULL
        ), g AS (
            SELECT score, count(*) FILTER (WHERE is_pos) AS tp, count(*) FILTER (WHERE NOT is_pos) AS fp
            FROM scored WHERE score IS NOT NULL GROUP BY score
        ), t AS (
            SELECT sum(tp) AS p, sum(fp) AS n FROM g
        )
        SELECT jsonb_agg(jsonb_build_object('threshold', c.threshold, 'false_positive_rate', c.fpr, 'true_positive_rate', c.tpr)
                         ORDER BY c.o, c.threshold DESC)
        FROM (SELECT 0 AS o, 'Infinity'::float8 AS threshold, 0::float8 AS fpr, 0::float8 AS tpr
              UNION ALL
              SELECT 1, g.score, (sum(g.fp) OVER w)::float8 / nullif(t.n, 0), (sum(g.tp) OVER w)::float8 / nullif(t.p, 0)
              FROM g, t WINDOW w AS (ORDER BY g.score DESC)) c $q$,
        (e.m).target, ref, e.query, classes[pos], pos)))
        AS x(threshold float8, false_positive_rate float8, true_positive_rate float8);
END $$;
COMMENT ON FUNCTION ml._roc_curve(text, text, text) IS 'ROC curve of a classifier for one class against the rest (default: the last class)';

CREATE OR REPLACE FUNCTION ml.training_info(model text)
RETURNS TABLE (iteration integer, train_loss float8, valid_loss float8, step float8, elapsed_s float8)
LANGUAGE sql STABLE AS $$
    SELECT (h->>'iteration')::integer, (h->>'train_loss')::float8, (h->>'valid_loss')::float8,
           (h->>'step')::float8, (h->>'elapsed_s')::float8
    FROM ml.models m, jsonb_array_elements(m.history) WITH ORDINALITY x(h, o)
    WHERE m.id = ml._resolve_model($1)
    ORDER BY o
$$;
COMMENT ON FUNCTION ml.training_info(text) IS 'per-iteration loss on the train and test splits, step size and elapsed time of a training';

----------------------------------------------------------------------------
-- Batch scoring and drift
----------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION ml._query_columns(query text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'ml_query_columns' LANGUAGE C STRICT VOLATILE;

CREATE OR REPLACE FUNCTION ml._psi(reference float8[], current float8[], epsilon float8) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_psi' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._ks_binned(reference float8[], current float8[]) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_ks_binned' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._ks_pvalue(d float8, n1 float8, n2 float8) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_ks_pvalue' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._js_distance(p float8[], q float8[]) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_js_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OR REPLACE FUNCTION ml._drift_accum(internal, bigint, jsonb, VARIADIC "any") RETURNS internal
AS 'MODULE_PATHNAME', 'ml_drift_accum' LANGUAGE C STABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._drift_combine(internal, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'ml_drift_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._drift_serialize(internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_drift_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._drift_deserialize(bytea, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'ml_drift_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._drift_final(internal) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_drift_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE ml._drift_profile(bigint, jsonb, VARIADIC "any") (
    SFUNC = ml._drift_accum,
    STYPE = internal,
    COMBINEFUNC = ml._drift_combine,
    SERIALFUNC = ml._drift_serialize,
    DESERIALFUNC = ml._drift_deserialize,
    FINALFUNC = ml._drift_final,
    PARALLEL = SAFE
);

-- The distribution of a model's predictions on its test split (train split
-- without one), computed once and kept.
CREATE OR REPLACE FUNCTION ml._prediction_baseline(mid bigint) RETURNS ml.prediction_baselines
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    b ml.prediction_baselines;
    snap ml.snapshots;
BEGIN
    SELECT * INTO b FROM ml.prediction_baselines x WHERE x.model_id = mid;
    IF FOUND THEN
        RETURN b;
    END IF;
    SELECT s.* INTO snap FROM ml.snapshots s JOIN ml.models m ON m.snapshot_id = s.id WHERE m.id = mid;
    IF to_regclass(snap.relation) IS NULL THEN
        RAISE EXCEPTION 'snapshot relation % of model % no longer exists', snap.relation, mid
            USING ERRCODE = 'undefined_table',
                  HINT = 'Prediction drift needs the training snapshot.';
    END IF;
    b.model_id := mid;
    -- The caller reads the snapshot (a view reads its source with the reader's rights).
    SELECT (x->>'rows')::bigint, (x->>'mean')::float8, ARRAY(SELECT jsonb_array_elements_text(x->'edges')::float8)
    INTO b.rows, b.mean, b.edges
    FROM ml._as_caller(format('SELECT jsonb_build_object(''rows'', count(p), ''mean'', avg(p), ''edges'',
                                  percentile_disc(ARRAY[0, .1, .2, .3, .4, .5, .6, .7, .8, .9, 1]) WITHIN GROUP (ORDER BY p))
                               FROM (SELECT ml._predict_raw(%s::bigint, _ml_row) AS p FROM %s _ml_row WHERE %s) x',
                              mid, snap.relation, CASE WHEN snap.test_count > 0 THEN '_ml_is_test' ELSE 'true' END)) x;
    IF b.rows = 0 THEN
        RAISE EXCEPTION 'model % has no rows to take a prediction baseline from', mid
            USING ERRCODE = 'data_exception';
    END IF;
    b.shares := ARRAY(SELECT jsonb_array_elements_text(ml._as_caller(format(
                   'SELECT jsonb_agg(coalesce(n, 0)::float8 / %s ORDER BY k) FROM generate_series(0, 9) k
                    LEFT JOIN (SELECT width_bucket(p, ARRAY(SELECT jsonb_array_elements_text($1)::float8)) AS w, count(*) AS n
                               FROM (SELECT ml._predict_raw(%s::bigint, _ml_row) AS p FROM %s _ml_row WHERE %s) x
                               WHERE p IS NOT NULL GROUP BY 1) y ON y.w = k',
                   b.rows, mid, snap.relation, CASE WHEN snap.test_count > 0 THEN '_ml_is_test' ELSE 'true' END),
                   to_jsonb(b.edges[2:10])))::float8);
    b.computed_at := now();
    INSERT INTO ml.prediction_baselines VALUES (b.*) ON CONFLICT (model_id) DO NOTHING;
    RETURN b;
END $$;

-- What the drift profile of a model's inputs needs: per feature its
-- reference bins (decile edges or top categories) and statistics from the
-- training snapshot, and the prediction baseline.
CREATE OR REPLACE FUNCTION ml._drift_spec(mid bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    m ml.models;
    snap ml.snapshots;
    b ml.prediction_baselines;
    f text;
    p jsonb;
    feats jsonb := '[]';
    total float8;
BEGIN
    SELECT * INTO m FROM ml.models x WHERE x.id = mid;
    SELECT * INTO snap FROM ml.snapshots s WHERE s.id = m.snapshot_id;
    FOREACH f IN ARRAY m.features LOOP
        p := snap.profile -> f;
        IF p IS NULL OR p->>'kind' IS NULL THEN
            RAISE EXCEPTION 'model %@% has no reference profile for feature "%"', m.name, m.version, f
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('Its snapshot %s records no profile of that column.', snap.name),
                      HINT = 'Retrain the model on a snapshot taken with ml.snapshot().';
        END IF;
        total := (p->>'count')::float8 + (p->>'nulls')::float8;
        IF p->>'kind' = 'numeric' THEN
            feats := feats || jsonb_build_array(jsonb_build_object(
                'name', f, 'kind', 'numeric',
                'mean', coalesce((p->>'mean')::float8, 0), 'stddev', (p->>'stddev')::float8,
                'count', (p->>'count')::float8, 'nulls', (p->>'nulls')::float8,
                'edges', coalesce((SELECT jsonb_agg(e ORDER BY o) FROM jsonb_array_elements(p->'decile_edges') WITH ORDINALITY x(e, o)
                                   WHERE o BETWEEN 2 AND 10), '[]'),
                'shares', coalesce(p->'decile_shares', '[]')));
        ELSE
            feats := feats || jsonb_build_array(jsonb_build_object(
                'name', f, 'kind', 'categorical',
                'count', (p->>'count')::float8, 'nulls', (p->>'nulls')::float8,
                'values', (SELECT coalesce(jsonb_agg(t->'value' ORDER BY o), '[]') FROM jsonb_array_elements(p->'top') WITH ORDINALITY x(t, o)),
                'shares', (SELECT coalesce(jsonb_agg((t->>'share')::float8 ORDER BY o), '[]') FROM jsonb_array_elements(p->'top') WITH ORDINALITY x(t, o))
                          || jsonb_build_array(greatest(0, 1 - (SELECT coalesce(sum((t->>'share')::float8), 0) FROM jsonb_array_elements(p->'top') t)))));
        END IF;
    END LOOP;
    b := ml._prediction_baseline(mid);
    RETURN jsonb_build_object('model_id', mid, 'features', feats,
                              'prediction_mean', b.mean, 'prediction_rows', b.rows,
                              'prediction_edges', to_jsonb(b.edges[2:10]),
                              'prediction_shares', to_jsonb(b.shares));
END $$;

-- Turn the flat result of ml._drift_profile into a profile keyed by feature.
CREATE OR REPLACE FUNCTION ml._profile_json(spec jsonb, vals float8[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    f jsonb;
    pos int := 2;
    nbins int;
    out jsonb := '{}';
    feats jsonb := '{}';
BEGIN
    FOR f IN SELECT x FROM jsonb_array_elements(spec->'features') x LOOP
        nbins := CASE f->>'kind' WHEN 'numeric' THEN jsonb_array_length(f->'edges') + 1
                                 ELSE jsonb_array_length(f->'values') + 1 END;
        feats := feats || jsonb_build_object(f->>'name', ml._profile_block(f->>'kind', (f->>'mean')::float8, vals[pos:pos + 5 + nbins]));
        pos := pos + 6 + nbins;
    END LOOP;
    nbins := jsonb_array_length(spec->'prediction_edges') + 1;
    RETURN jsonb_build_object('rows', vals[1], 'features', feats,
                              'prediction', ml._profile_block('numeric', (spec->>'prediction_mean')::float8, vals[pos:pos + 5 + nbins]));
END $$;

CREATE OR REPLACE FUNCTION ml._profile_block(kind text, shift float8, b float8[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('kind', kind, 'count', b[1], 'nulls', b[2], 'bin_counts', to_jsonb(b[7:]),
                              'bin_shares', (SELECT jsonb_agg(x / nullif(b[1], 0) ORDER BY o) FROM unnest(b[7:]) WITH ORDINALITY u(x, o)))
        || CASE WHEN kind = 'numeric' AND b[1] > 0 THEN jsonb_build_object(
               'mean', coalesce(shift, 0) + b[3] / b[1],
               'stddev', CASE WHEN b[1] > 1 THEN sqrt(greatest(0, (b[4] - b[3] * b[3] / b[1]) / (b[1] - 1))) END,
               'min', b[5], 'max', b[6])
           ELSE '{}' END
$$;

-- Profile the rows of a query for a model (one parallel-capable pass).
CREATE OR REPLACE FUNCTION ml._input_profile(mid bigint, spec jsonb, query text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    vals float8[];
BEGIN
    -- The features as columns, in the model's order.
    vals := ARRAY(SELECT jsonb_array_elements_text(ml._as_caller(format(
                E'SELECT to_jsonb(ml._drift_profile(%s::bigint, $1, %s)) FROM (%s\n) _ml_src', mid,
                (SELECT string_agg(format('_ml_src.%I', f->>'name'), ', ' ORDER BY o)
                 FROM jsonb_array_elements(spec->'features') WITH ORDINALITY x(f, o)), query), spec))::float8);
    IF cardinality(vals) = 0 THEN
        vals := NULL;
    END IF;
    IF vals IS NULL THEN
        RETURN jsonb_build_object('rows', 0, 'features', '{}');
    END IF;
    RETURN ml._profile_json(spec, vals);
END $$;

-- Check that a source has every feature of a model (and the key, if any).
CREATE OR REPLACE FUNCTION ml._check_source_columns(m ml.models, query text, source text, key text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    cols jsonb := ml._query_columns(query);
    names text[];
    f text;
BEGIN
    SELECT array_agg(c->>'name') INTO names FROM jsonb_array_elements(cols) c;
    FOREACH f IN ARRAY m.features LOOP
        IF NOT f = ANY (coalesce(names, '{}')) THEN
            RAISE EXCEPTION 'source has no column "%", a feature of model %@%', f, m.name, m.version
                USING ERRCODE = 'undefined_column',
                      DETAIL = format('The source was: %s', source),
                      HINT = format('The model needs columns %s.', array_to_string(m.features, ', '));
        END IF;
    END LOOP;
    IF key IS NOT NULL AND NOT key = ANY (coalesce(names, '{}')) THEN
        RAISE EXCEPTION 'source has no key column "%"', key
            USING ERRCODE = 'undefined_column',
                  HINT = format('The source has columns %s.', array_to_string(names, ', '));
    END IF;
    RETURN cols;
END $$;

CREATE OR REPLACE FUNCTION ml._score(model text, source text, "into" text, key text DEFAULT NULL,
                         mode text DEFAULT 'append')
RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    outputs text;
    output_cols text;
    mid bigint := ml._resolve_model(model);
    m ml.models;
    query text;
    label text;
    target regclass;
    spec jsonb;
    select_sql text;
    staging text;
    n bigint;
    t0 timestamptz := clock_timestamp();
    missing text;
    parts text[];
    run_id bigint;
BEGIN
    PERFORM ml._require_writable('score into a table');
    IF mode IS NULL OR mode NOT IN ('append', 'replace') THEN
        RAISE EXCEPTION 'mode must be append or replace, not %', coalesce(mode, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF "into" IS NULL OR btrim("into") = '' THEN
        RAISE EXCEPTION 'into must name the output table' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- A table name, optionally schema-qualified, never SQL text.
    BEGIN
        parts := parse_ident("into");
    EXCEPTION WHEN invalid_parameter_value THEN
        parts := NULL;
    END;
    IF parts IS NULL OR cardinality(parts) > 2 THEN
        RAISE EXCEPTION 'invalid output table name "%"', "into"
            USING ERRCODE = 'invalid_name',
                  HINT = 'Name a table, optionally with its schema: scores or analytics.scores.';
    END IF;
    "into" := CASE cardinality(parts) WHEN 2 THEN format('%I.%I', parts[1], parts[2]) ELSE format('%I', parts[1]) END;
    SELECT * INTO m FROM ml.models x WHERE x.id = mid;
    label := m.name || '@' || m.version;
    query := ml._source_query(source);
    PERFORM ml._check_source_columns(m, query, source, key);
    spec := ml._drift_spec(mid);

    -- Classifiers write the label and the class probabilities, others a number.
    outputs := CASE WHEN m.task = 'classification'
                    THEN format('ml.predict_class(%L, _ml_src) AS predicted_class, ml.predict_proba(%L, _ml_src) AS probabilities', label, label)
                    ELSE format('ml.predict(%s::bigint, _ml_src) AS prediction', mid) END;
    output_cols := CASE WHEN m.task = 'classification' THEN 'predicted_class, probabilities' ELSE 'prediction' END;
    select_sql := format(E'SELECT %s %s, %L::text AS model, %L::timestamptz AS scored_at FROM (%s\n) _ml_src',
                         CASE WHEN key IS NULL THEN '' ELSE format('_ml_src.%I, ', key) END,
                         outputs, label, t0, query);
    -- The output table is the caller's: the caller creates or fills it.
    target := ml._caller_relation("into");
    IF target IS NULL THEN
        -- A new table: CREATE TABLE AS runs the scoring query in parallel.
        "into" := ml._caller_new_relation("into");
        n := (ml._as_caller(format('CREATE TABLE %s AS %s', "into", select_sql))->>'processed')::bigint;
        target := "into"::regclass;
    ELSE
        SELECT string_agg(format('%s %s', k, v), ', ' ORDER BY o) INTO missing
        FROM (SELECT * FROM (VALUES (1, 'prediction', 'double precision', false), (1, 'predicted_class', 'text', true),
                                    (2, 'probabilities', 'double precision[]', true), (3, 'model', 'text', NULL),
                                    (4, 'scored_at', 'timestamp with time zone', NULL)) AS y(o, k, v, cls)
              WHERE cls IS NULL OR cls = (m.task = 'classification')) AS x(o, k, v, cls)
        WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = target AND a.attname = x.k
                          AND NOT a.attisdropped AND format_type(a.atttypid, a.atttypmod) = x.v);
        IF key IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = target AND a.attname = key AND NOT a.attisdropped) THEN
            missing := concat_ws(', ', missing, quote_ident(key));
        END IF;
        IF NOT ml._caller_owns(target) THEN
            RAISE EXCEPTION 'permission denied to score into %', target
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = format('%s is owned by %s; ml.score writes only into tables the caller owns (or a new one).',
                                      target, (SELECT c.relowner::regrole FROM pg_class c WHERE c.oid = target)),
                      HINT = 'Name the output table with its schema, or score into a new table.';
        END IF;
        IF missing IS NOT NULL THEN
            RAISE EXCEPTION 'table % cannot hold the scores of %', target, label
                USING ERRCODE = 'datatype_mismatch',
                      DETAIL = format('It lacks the columns %s.', missing),
                      HINT = 'Score into a new table name, which ml.score creates, or add the columns.';
        END IF;
        IF mode = 'replace' THEN
            PERFORM ml._as_caller(format('TRUNCATE %s', target));
        END IF;
        -- Score in parallel into a staging table, then append.
        staging := format('pg_temp.%I', 'ml_scoring_' || txid_current());
        PERFORM ml._as_caller(format('CREATE TEMP TABLE %s AS %s', staging, select_sql));
        n := (ml._as_caller(format('INSERT INTO %s (%s %s, model, scored_at) SELECT * FROM %s', target,
                                   CASE WHEN key IS NULL THEN '' ELSE quote_ident(key) || ',' END, output_cols, staging))
              ->>'processed')::bigint;
        PERFORM ml._as_caller(format('DROP TABLE %s', staging));
    END IF;

    INSERT INTO ml.scoring_runs (model_id, model, source, source_relations, output, mode, rows, input_profile,
                                 started_at, finished_at, seconds)
    VALUES (mid, label, source, ml._query_relations(CASE WHEN ml._is_query(source) THEN source ELSE query END), target::text, mode, n,
            ml._input_profile(mid, spec, query), t0, clock_timestamp(),
            extract(epoch FROM clock_timestamp() - t0))
    RETURNING id INTO run_id;
    INSERT INTO ml.model_events (action, model_id, snapshot_id, details)
    VALUES ('score', mid, m.snapshot_id, jsonb_build_object('model', label, 'scoring_run', run_id,
            'output', target::text, 'rows', n));
    PERFORM ml._notice(format('scoring: %s rows with %s into %s in %s s', n, label, target,
                              round(extract(epoch FROM clock_timestamp() - t0)::numeric, 3)));
    RETURN n;
END $$;
COMMENT ON FUNCTION ml._score(text, text, text, text, text) IS 'score a table or query into a table, recorded in ml.scoring_runs';

CREATE OR REPLACE FUNCTION ml._status(value float8, warn float8, alert float8, higher_is_worse boolean DEFAULT true)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN value IS NULL THEN 'ok'
                WHEN higher_is_worse AND value >= alert THEN 'alert'
                WHEN higher_is_worse AND value >= warn THEN 'warn'
                WHEN NOT higher_is_worse AND value < alert THEN 'alert'
                WHEN NOT higher_is_worse AND value < warn THEN 'warn'
                ELSE 'ok' END
$$;

CREATE OR REPLACE FUNCTION ml._drift_row(feature text, metric text, value float8, reference float8, threshold float8, status text)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_array(jsonb_build_object('feature', feature, 'metric', metric,
        'value', CASE WHEN value = 'NaN'::float8 THEN NULL ELSE value END, 'reference', reference,
        'threshold', threshold, 'status', status))
$$;

CREATE OR REPLACE FUNCTION ml._setting(name text) RETURNS float8
LANGUAGE sql STABLE AS $$ SELECT current_setting(name)::float8 $$;

CREATE OR REPLACE FUNCTION ml._check_drift(model text, source text DEFAULT NULL)
RETURNS TABLE (feature text, metric text, value float8, reference float8, threshold float8, status text)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    ev jsonb;
    mid bigint := ml._resolve_model(model);
    m ml.models;
    spec jsonb;
    cur jsonb;
    run ml.scoring_runs;
    query text;
    source_label text;
    cid bigint;
    f jsonb;
    c jsonb;
    ref_rows float8;
    cur_rows float8;
    v float8;
    d float8;
    eps float8 := ml._setting('ml.drift_psi_epsilon');
    nfeat int := 0;
    ndrift int := 0;
    worst text;
    share float8;
    perf record;
    test jsonb;
    out jsonb := '[]';
BEGIN
    PERFORM ml._require_writable('check drift');
    cid := nextval('ml.drift_checks_check_id_seq');
    SELECT * INTO m FROM ml.models x WHERE x.id = mid;
    spec := ml._drift_spec(mid);
    IF source IS NULL THEN
        -- The caller's latest run, or the model owner's: a use grantee's run
        -- must not decide what others see.
        SELECT * INTO run FROM ml.scoring_runs r
        WHERE r.model_id = mid
          AND (r.scored_by = ml._caller() OR r.scored_by = (SELECT o.owner::text FROM ml.model_owners o WHERE o.name = m.name))
        ORDER BY r.id DESC LIMIT 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'model %@% has no scoring run to compare with', m.name, m.version
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Pass a source table or query, or score data first with ml.score().';
        END IF;
        cur := run.input_profile;
        source_label := format('scoring run %s (%s, by %s)', run.id, run.source, run.scored_by);
    ELSE
        query := ml._source_query(source);
        PERFORM ml._check_source_columns(m, query, source, NULL);
        cur := ml._input_profile(mid, spec, query);
        source_label := source;
    END IF;
    cur_rows := (cur->>'rows')::float8;
    IF coalesce(cur_rows, 0) = 0 THEN
        RAISE EXCEPTION 'source of the drift check has no rows' USING ERRCODE = 'data_exception';
    END IF;

    FOR f IN SELECT x FROM jsonb_array_elements(spec->'features') x LOOP
        c := cur->'features'->(f->>'name');
        ref_rows := (f->>'count')::float8 + (f->>'nulls')::float8;
        worst := 'ok';
        IF f->>'kind' = 'numeric' THEN
            -- The decile bins of the non-NULL values, and a bin for NULL.
            v := ml._psi(ARRAY(SELECT x::float8 * (f->>'count')::float8 / ref_rows FROM jsonb_array_elements_text(f->'shares') x)
                           || ((f->>'nulls')::float8 / ref_rows),
                         ARRAY(SELECT jsonb_array_elements_text(c->'bin_counts')::float8) || (c->>'nulls')::float8, eps);
            out := out || ml._drift_row(f->>'name', 'psi', v, NULL, ml._setting('ml.drift_psi_warn'),
                ml._status(v, ml._setting('ml.drift_psi_warn'), ml._setting('ml.drift_psi_alert')));
            d := ml._ks_binned(ARRAY(SELECT jsonb_array_elements_text(f->'shares')::float8),
                               ARRAY(SELECT jsonb_array_elements_text(c->'bin_counts')::float8));
            out := out || ml._drift_row(f->>'name', 'ks_d', d, NULL, NULL, 'ok');
            v := ml._ks_pvalue(d, (f->>'count')::float8, (c->>'count')::float8);
            out := out || ml._drift_row(f->>'name', 'ks_pvalue', v, NULL, ml._setting('ml.drift_ks_pvalue_warn'),
                ml._status(v, ml._setting('ml.drift_ks_pvalue_warn'), ml._setting('ml.drift_ks_pvalue_alert'), false));
            v := abs((c->>'mean')::float8 - (f->>'mean')::float8) / nullif((f->>'stddev')::float8, 0);
            out := out || ml._drift_row(f->>'name', 'mean_shift', v, (f->>'mean')::float8, ml._setting('ml.drift_mean_shift_warn'),
                ml._status(v, ml._setting('ml.drift_mean_shift_warn'), ml._setting('ml.drift_mean_shift_alert')));
        ELSE
            v := ml._js_distance(ARRAY(SELECT jsonb_array_elements_text(f->'shares')::float8),
                                 ARRAY(SELECT jsonb_array_elements_text(c->'bin_counts')::float8));
            out := out || ml._drift_row(f->>'name', 'js_distance', v, NULL, ml._setting('ml.drift_js_warn'),
                ml._status(v, ml._setting('ml.drift_js_warn'), ml._setting('ml.drift_js_alert')));
        END IF;
        v := abs((c->>'nulls')::float8 / cur_rows - (f->>'nulls')::float8 / nullif(ref_rows, 0));
        out := out || ml._drift_row(f->>'name', 'null_rate_change', v, (f->>'nulls')::float8 / nullif(ref_rows, 0),
            ml._setting('ml.drift_null_rate_warn'),
            ml._status(v, ml._setting('ml.drift_null_rate_warn'), ml._setting('ml.drift_null_rate_alert')));
        nfeat := nfeat + 1;
        IF EXISTS (SELECT 1 FROM jsonb_array_elements(out) r WHERE r->>'feature' = f->>'name' AND r->>'status' = 'alert') THEN
            ndrift := ndrift + 1;
        END IF;
    END LOOP;

    -- Predictions against the test split's predictions at training time.
    v := ml._psi(ARRAY(SELECT jsonb_array_elements_text(spec->'prediction_shares')::float8) || 0::float8,
                 ARRAY(SELECT jsonb_array_elements_text(cur->'prediction'->'bin_counts')::float8)
                   || (cur->'prediction'->>'nulls')::float8, eps);
    out := out || ml._drift_row('_prediction', 'psi', v, NULL, ml._setting('ml.drift_psi_warn'),
        ml._status(v, ml._setting('ml.drift_psi_warn'), ml._setting('ml.drift_psi_alert')));

    -- Performance, when the source carries the target.
    IF m.task = 'classification' AND query IS NOT NULL
       AND EXISTS (SELECT 1 FROM jsonb_array_elements(ml._query_columns(query)) x WHERE x->>'name' = m.target) THEN
        ev := ml.evaluate(m.name || '@' || m.version, query);
        test := m.metrics->'test';
        IF (ev->>'rows')::bigint > 0 AND test IS NOT NULL AND jsonb_typeof(test) = 'object' THEN
            out := out || ml._drift_row('_performance', 'accuracy', (ev->>'accuracy')::float8, (test->>'accuracy')::float8, ml._setting('ml.drift_performance_warn'),
               ml._status(((test->>'accuracy')::float8 - (ev->>'accuracy')::float8) / nullif((test->>'accuracy')::float8, 0), ml._setting('ml.drift_performance_warn'), ml._setting('ml.drift_performance_alert')))
                       || ml._drift_row('_performance', 'log_loss', (ev->>'log_loss')::float8, (test->>'log_loss')::float8, ml._setting('ml.drift_performance_warn'),
               ml._status((ev->>'log_loss')::float8 / nullif((test->>'log_loss')::float8, 0) - 1, ml._setting('ml.drift_performance_warn'), ml._setting('ml.drift_performance_alert')))
                       || ml._drift_row('_performance', 'rows', (ev->>'rows')::float8, NULL, NULL, 'ok');
        END IF;
    ELSIF m.task = 'regression' AND query IS NOT NULL AND EXISTS (SELECT 1 FROM jsonb_array_elements(ml._query_columns(query)) x WHERE x->>'name' = m.target) THEN
        SELECT * INTO perf FROM jsonb_to_record(ml._as_caller(format(
                     E'SELECT to_jsonb(b) FROM (SELECT count(*) AS n, sqrt(avg((p - y) ^ 2)) AS rmse, avg(abs(p - y)) AS mae,
                                1 - sum((p - y) ^ 2) / nullif(sum((y - ybar) ^ 2), 0) AS r2
                         FROM (SELECT p, y, avg(y) OVER () AS ybar
                               FROM (SELECT ml.predict(%s::bigint, _ml_src) AS p, _ml_src.%I::float8 AS y
                                     FROM (%s\n) _ml_src) a WHERE p IS NOT NULL AND y IS NOT NULL) b) b',
                       mid, m.target, query))) AS x(n bigint, rmse float8, mae float8, r2 float8);
        test := m.metrics->'test';
        IF perf.n > 0 AND test IS NOT NULL AND jsonb_typeof(test) = 'object' THEN
            out := out || ml._drift_row('_performance', 'rmse', perf.rmse, (test->>'rmse')::float8, ml._setting('ml.drift_performance_warn'),
               ml._status(perf.rmse / nullif((test->>'rmse')::float8, 0) - 1, ml._setting('ml.drift_performance_warn'), ml._setting('ml.drift_performance_alert')))
                       || ml._drift_row('_performance', 'mae', perf.mae, (test->>'mae')::float8, ml._setting('ml.drift_performance_warn'),
               ml._status(perf.mae / nullif((test->>'mae')::float8, 0) - 1, ml._setting('ml.drift_performance_warn'), ml._setting('ml.drift_performance_alert')))
                       || ml._drift_row('_performance', 'r2', perf.r2, (test->>'r2')::float8, ml._setting('ml.drift_performance_warn'),
               ml._status(((test->>'r2')::float8 - perf.r2) / nullif(abs((test->>'r2')::float8), 0), ml._setting('ml.drift_performance_warn'), ml._setting('ml.drift_performance_alert')))
                       || ml._drift_row('_performance', 'rows', perf.n, NULL, NULL, 'ok');
        END IF;
    END IF;

    share := ndrift::float8 / greatest(nfeat, 1);
    out := out || ml._drift_row('_dataset', 'drifted_share', share, NULL, ml._setting('ml.drift_dataset_share'),
        CASE WHEN share >= ml._setting('ml.drift_dataset_share') THEN 'alert' WHEN ndrift > 0 THEN 'warn' ELSE 'ok' END);

    INSERT INTO ml.drift_checks (check_id, model_id, source, feature, metric, value, reference, threshold, status, epsilon)
    SELECT cid, mid, source_label, r.feature, r.metric, r.value, r.reference, r.threshold, r.status,
           CASE WHEN r.metric = 'psi' THEN eps END
    FROM jsonb_to_recordset(out) AS r(feature text, metric text, value float8, reference float8, threshold float8, status text);
    INSERT INTO ml.model_events (action, model_id, snapshot_id, details)
    VALUES ('drift_check', mid, m.snapshot_id, jsonb_build_object('model', m.name || '@' || m.version,
            'check_id', cid, 'source', source_label, 'drifted_share', share,
            'verdict', (SELECT r->>'status' FROM jsonb_array_elements(out) r WHERE r->>'feature' = '_dataset')));
    RETURN QUERY SELECT r.feature, r.metric, r.value, r.reference, r.threshold, r.status
    FROM jsonb_to_recordset(out) AS r(feature text, metric text, value float8, reference float8, threshold float8, status text);
END $$;
COMMENT ON FUNCTION ml._check_drift(text, text) IS 'compare a model''s inputs and predictions on new data with its training data';

CREATE OR REPLACE VIEW ml.drift AS
SELECT DISTINCT ON (d.model_id, d.feature, d.metric)
       m.name || '@' || m.version AS model, m.name AS model_name, m.version, d.model_id, d.check_id,
       d.feature, d.metric, d.value, d.reference, d.threshold, d.status, d.epsilon, d.checked_at, d.source
FROM ml.drift_checks d JOIN ml.models m ON m.id = d.model_id
ORDER BY d.model_id, d.feature, d.metric, d.check_id DESC;
COMMENT ON VIEW ml.drift IS 'latest drift status per model version, feature and metric';

CREATE OR REPLACE VIEW ml.drift_summary AS
WITH checks AS (
    SELECT d.model_id, d.check_id, d.checked_at, d.source, d.value AS drifted_share, d.status AS verdict,
           lag(d.value) OVER (PARTITION BY d.model_id ORDER BY d.check_id) AS previous_share,
           row_number() OVER (PARTITION BY d.model_id ORDER BY d.check_id DESC) AS recency
    FROM ml.drift_checks d WHERE d.feature = '_dataset'
)
SELECT m.name || '@' || m.version AS model, m.name AS model_name, m.version, c.model_id, c.check_id,
       c.checked_at AS last_check, c.source, c.drifted_share, c.verdict,
       (SELECT w.feature FROM ml.drift_checks w
        WHERE w.check_id = c.check_id AND w.feature NOT LIKE '\_%' AND w.status <> 'ok'
        ORDER BY CASE w.status WHEN 'alert' THEN 2 ELSE 1 END DESC,
                 CASE WHEN w.metric IN ('psi', 'js_distance') THEN w.value END DESC NULLS LAST, w.feature
        LIMIT 1) AS worst_feature,
       (SELECT s.status FROM ml.drift_checks s WHERE s.check_id = c.check_id AND s.feature = '_prediction') AS prediction_status,
       c.previous_share,
       CASE WHEN c.previous_share IS NULL THEN 'first check'
            WHEN c.drifted_share > c.previous_share THEN 'worse'
            WHEN c.drifted_share < c.previous_share THEN 'better'
            ELSE 'same' END AS trend
FROM checks c JOIN ml.models m ON m.id = c.model_id
WHERE c.recency = 1;
COMMENT ON VIEW ml.drift_summary IS 'per model version: the last drift check, its verdict, worst feature and trend';

CREATE OR REPLACE VIEW ml.performance AS
SELECT m.name || '@' || m.version AS model, m.name AS model_name, m.version, d.model_id, d.check_id,
       d.checked_at, d.source, d.metric, d.value, d.reference AS training_test_value, d.threshold, d.status
FROM ml.drift_checks d JOIN ml.models m ON m.id = d.model_id
WHERE d.feature = '_performance';
COMMENT ON VIEW ml.performance IS 'history of model performance on labeled new data against the training test metrics';

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

----------------------------------------------------------------------------
-- Lineage
----------------------------------------------------------------------------

-- Kind of a relation named in lineage ('relation' once it is gone).
CREATE OR REPLACE FUNCTION ml._relation_kind(rel text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'
                                           WHEN 'm' THEN 'materialized_view' WHEN 'f' THEN 'foreign_table'
                                           ELSE 'relation' END
                     FROM pg_class c WHERE c.oid = to_regclass(rel)), 'relation')
$$;

CREATE OR REPLACE VIEW ml.lineage AS
SELECT ml._relation_kind(r.rel) AS source_kind,
       r.rel AS source_name, 'snapshot'::text AS target_kind, s.name AS target_name,
       'snapshot_of'::text AS relation, s.created_at AS at, s.created_by AS actor
FROM ml.snapshots s
CROSS JOIN LATERAL unnest(s.source_relations) AS r(rel)
UNION ALL
SELECT 'snapshot', s.name, 'model', m.name || '@' || m.version, 'trained_on', m.trained_at, m.trained_by
FROM ml.models m JOIN ml.snapshots s ON s.id = m.snapshot_id
UNION ALL
SELECT 'model', m.name || '@' || m.version, 'stage', m.name || '@' || coalesce(e.details->>'stage', 'archived'),
       CASE e.action WHEN 'promote' THEN 'promoted' WHEN 'rollback' THEN 'rolled_back_to' ELSE 'archived' END,
       e.at, e.actor
FROM ml.model_events e JOIN ml.models m ON m.id = e.model_id
WHERE e.action IN ('promote', 'rollback', 'archive')
UNION ALL
SELECT ml._relation_kind(r.rel), r.rel, 'model', sr.model, 'scored_by', sr.finished_at, sr.scored_by
FROM ml.scoring_runs sr
CROSS JOIN LATERAL unnest(sr.source_relations) AS r(rel)
UNION ALL
SELECT 'model', sr.model, 'table', sr.output, 'wrote', sr.finished_at, sr.scored_by
FROM ml.scoring_runs sr
UNION ALL
SELECT 'model', p.name || '@' || p.version, 'model', m.name || '@' || m.version, 'retrained_from', m.trained_at, m.trained_by
FROM ml.models m JOIN ml.models p ON p.id = m.parent_id
UNION ALL
SELECT DISTINCT ON (d.check_id) 'model', m.name || '@' || m.version, 'drift_check', 'drift_check:' || d.check_id,
       'drift_checked', d.checked_at, d.checked_by
FROM ml.drift_checks d JOIN ml.models m ON m.id = d.model_id
UNION ALL
SELECT 'snapshot', s.name, 'tombstone', s.name, 'dropped', s.dropped_at, s.dropped_by
FROM ml.snapshots s WHERE s.dropped_at IS NOT NULL
UNION ALL
SELECT 'model', m.name || '@' || m.version, 'tombstone', m.name || '@' || m.version, 'deleted', m.deleted_at, m.deleted_by
FROM ml.models m WHERE m.deleted_at IS NOT NULL;
COMMENT ON VIEW ml.lineage IS 'one row per lineage edge: relation -> snapshot -> model version -> stage, and scoring runs';

----------------------------------------------------------------------------
-- Reproducibility, verification, lineage traversal and model cards
----------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION ml._verify_snapshot(name text)
RETURNS TABLE (snapshot text, rows bigint, recorded_hash text, current_hash text, intact boolean,
               split_intact boolean)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    snap ml.snapshots;
    col_list text;
    h text;
    moved bigint;
    n bigint;
BEGIN
    SELECT * INTO snap FROM ml.snapshots s WHERE s.name = name AND ml._can_use_snapshot(s);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'snapshot "%" does not exist', name
            USING ERRCODE = 'undefined_object', HINT = 'See SELECT name FROM ml.snapshots.';
    END IF;
    IF snap.dropped_at IS NOT NULL THEN
        RAISE EXCEPTION 'snapshot "%" was dropped', name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Dropped by %s at %s; its record and hash %s remain.', snap.dropped_by, snap.dropped_at, snap.content_hash);
    END IF;
    IF to_regclass(snap.relation) IS NULL THEN
        RAISE EXCEPTION 'relation % of snapshot "%" no longer exists', snap.relation, name
            USING ERRCODE = 'undefined_table';
    END IF;
    SELECT string_agg(quote_ident(c->>'name'), ', ' ORDER BY o) INTO col_list
    FROM jsonb_array_elements(snap.columns) WITH ORDINALITY x(c, o);
    -- Read by the caller: a view reads its source with the reader's rights.
    SELECT (x->>'rows')::bigint, x->>'hash' INTO n, h
    FROM ml._as_caller(format('SELECT jsonb_build_object(''rows'', count(*), ''hash'', ml.content_hash(_ml_s))
                               FROM (SELECT %s FROM %s) _ml_s', col_list, snap.relation)) x;
    -- The split must still be what the rows and the seed decide.
    moved := (ml._as_caller(format('SELECT to_jsonb(count(*)) FROM (SELECT _ml_is_test, ml._row_is_test(ROW(%s), %s, %s) AS decided FROM %s) x
                                    WHERE _ml_is_test IS DISTINCT FROM decided', col_list, snap.seed, snap.test_fraction, snap.relation))
              #>> '{}')::bigint;
    RETURN QUERY SELECT snap.name, n, snap.content_hash, h, h = snap.content_hash, moved = 0;
END $$;
COMMENT ON FUNCTION ml._verify_snapshot(text) IS 'recompute a snapshot''s content hash and split and compare them with the recorded ones';

CREATE OR REPLACE FUNCTION ml._reproduce(model text)
RETURNS TABLE (model_ref text, registered_hash text, reproduced_hash text, identical boolean, seconds float8)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    m ml.models;
    snap ml.snapshots;
    pl record;
    search_trials jsonb;
    search_folds integer;
    fit record;
    t0 timestamptz := clock_timestamp();
    h text;
BEGIN
    PERFORM ml._require_writable('reproduce a model');
    SELECT * INTO m FROM ml.models x WHERE x.id = ml._resolve_model(model);
    SELECT * INTO snap FROM ml.snapshots s WHERE s.id = m.snapshot_id;
    IF to_regclass(snap.relation) IS NULL THEN
        RAISE EXCEPTION 'snapshot "%" of model %@% no longer exists', snap.name, m.name, m.version
            USING ERRCODE = 'undefined_table';
    END IF;
    pl := ml._training_plan(snap, m.target, m.features, m.algorithm, m.hyperparams);
    IF m.search IS NOT NULL THEN
        SELECT * INTO search_trials, search_folds
        FROM ml._search_trials(m.search, pl.numeric_hyperparams - ARRAY(SELECT jsonb_object_keys(m.search->'params')), m.seed);
    END IF;
    fit := ml._fit(snap.relation::regclass, pl.plan, m.algorithm, pl.numeric_hyperparams, search_trials, search_folds);
    h := encode(sha256(fit.model), 'hex');
    INSERT INTO ml.model_events (action, model_id, snapshot_id, details)
    VALUES ('reproduce', m.id, m.snapshot_id, jsonb_build_object('model', m.name || '@' || m.version,
            'identical', h = m.model_hash, 'reproduced_hash', h));
    RETURN QUERY SELECT m.name || '@' || m.version, m.model_hash, h, h = m.model_hash,
                        extract(epoch FROM clock_timestamp() - t0)::float8;
END $$;
COMMENT ON FUNCTION ml._reproduce(text) IS 'retrain from the recorded snapshot, hyperparameters and seed, and compare the model hash';

-- A lineage node: a model reference becomes name@version; other names stay.
CREATE OR REPLACE FUNCTION ml._lineage_node(node text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ref text;
BEGIN
    IF node IS NULL THEN
        RAISE EXCEPTION 'lineage node must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF EXISTS (SELECT 1 FROM ml.lineage l WHERE l.source_name = node OR l.target_name = node) THEN
        RETURN node;
    END IF;
    BEGIN
        SELECT m.name || '@' || m.version INTO ref FROM ml.models m WHERE m.id = ml._resolve_model(node);
    EXCEPTION WHEN undefined_object OR invalid_name THEN
        ref := NULL;
    END;
    IF ref IS NULL THEN
        RAISE EXCEPTION 'no lineage node "%"', node
            USING ERRCODE = 'undefined_object',
                  HINT = 'Name a relation (schema.table), a snapshot, or a model reference such as name@3.';
    END IF;
    RETURN ref;
END $$;

-- Walk the lineage graph from a node, against the edges (upstream) or along them.
CREATE OR REPLACE FUNCTION ml._lineage_walk(node text, upstream boolean)
RETURNS TABLE (depth integer, source_kind text, source_name text, target_kind text, target_name text,
               relation text, at timestamptz, actor text)
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE walk AS (
        SELECT 1 AS depth, l.*, CASE WHEN upstream THEN l.source_name ELSE l.target_name END AS next,
               ARRAY[CASE WHEN upstream THEN l.source_name ELSE l.target_name END] AS path
        FROM ml.lineage l
        WHERE CASE WHEN upstream THEN l.target_name ELSE l.source_name END = ml._lineage_node(node)
        UNION ALL
        SELECT w.depth + 1, l.*, CASE WHEN upstream THEN l.source_name ELSE l.target_name END,
               w.path || CASE WHEN upstream THEN l.source_name ELSE l.target_name END
        FROM walk w JOIN ml.lineage l ON CASE WHEN upstream THEN l.target_name ELSE l.source_name END = w.next
        WHERE NOT (CASE WHEN upstream THEN l.source_name ELSE l.target_name END) = ANY (w.path) AND w.depth < 100
    )
    SELECT * FROM (SELECT DISTINCT depth, source_kind, source_name, target_kind, target_name, relation, at, actor
                   FROM walk) e
    ORDER BY depth, at, CASE WHEN upstream THEN source_name ELSE target_name END
$$;

CREATE OR REPLACE FUNCTION ml.lineage_upstream(node text)
RETURNS TABLE (depth integer, source_kind text, source_name text, target_kind text, target_name text,
               relation text, at timestamptz, actor text)
LANGUAGE sql STABLE AS $$ SELECT * FROM ml._lineage_walk(node, true) $$;
COMMENT ON FUNCTION ml.lineage_upstream(text) IS 'every lineage edge leading to a relation, snapshot or model';

CREATE OR REPLACE FUNCTION ml.lineage_downstream(node text)
RETURNS TABLE (depth integer, source_kind text, source_name text, target_kind text, target_name text,
               relation text, at timestamptz, actor text)
LANGUAGE sql STABLE AS $$ SELECT * FROM ml._lineage_walk(node, false) $$;
COMMENT ON FUNCTION ml.lineage_downstream(text) IS 'every lineage edge leading from a relation, snapshot or model';

-- The edges of the whole graph, or of everything up- and downstream of a model.
CREATE OR REPLACE FUNCTION ml._graph_edges(model text)
RETURNS TABLE (source_kind text, source_name text, target_kind text, target_name text, relation text)
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT l.source_kind, l.source_name, l.target_kind, l.target_name, l.relation
    FROM ml.lineage l WHERE model IS NULL
    UNION
    SELECT u.source_kind, u.source_name, u.target_kind, u.target_name, u.relation
    FROM ml.lineage_upstream(model) u WHERE model IS NOT NULL
    UNION
    SELECT d.source_kind, d.source_name, d.target_kind, d.target_name, d.relation
    FROM ml.lineage_downstream(model) d WHERE model IS NOT NULL
$$;

CREATE OR REPLACE FUNCTION ml.lineage_graph(model text DEFAULT NULL, format text DEFAULT 'dot') RETURNS text
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
    edges text;
    nodes text;
BEGIN
    IF format IS NULL OR format NOT IN ('dot', 'mermaid') THEN
        RAISE EXCEPTION 'format must be dot or mermaid, not %', coalesce(format, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF format = 'dot' THEN
        SELECT string_agg(format('  "%s" [shape=%s];', replace(n, '"', '\"'),
                                 CASE k WHEN 'model' THEN 'box' WHEN 'snapshot' THEN 'cylinder' WHEN 'stage' THEN 'ellipse' WHEN 'drift_check' THEN 'note' WHEN 'tombstone' THEN 'octagon' ELSE 'folder' END),
                          E'\n' ORDER BY n) INTO nodes
        FROM (SELECT source_name AS n, min(source_kind) AS k FROM ml._graph_edges(model) GROUP BY 1
              UNION SELECT target_name, min(target_kind) FROM ml._graph_edges(model) GROUP BY 1) x;
        SELECT string_agg(format('  "%s" -> "%s" [label="%s"];', replace(source_name, '"', '\"'),
                                 replace(target_name, '"', '\"'), relation), E'\n' ORDER BY source_name, target_name, relation)
        INTO edges FROM ml._graph_edges(model);
        RETURN E'digraph lineage {\n  rankdir=LR;\n' || coalesce(nodes || E'\n', '') || coalesce(edges || E'\n', '') || '}';
    END IF;
    -- Mermaid: ids must be plain, labels carry the names.
    SELECT string_agg(format('  n%s["%s"] -->|%s| n%s["%s"]', md5(source_name), replace(source_name, '"', '#quot;'), relation,
                             md5(target_name), replace(target_name, '"', '#quot;')), E'\n' ORDER BY source_name, target_name, relation)
    INTO edges FROM ml._graph_edges(model);
    RETURN E'flowchart LR\n' || coalesce(edges || E'\n', '');
END $$;
COMMENT ON FUNCTION ml.lineage_graph(text, text) IS 'the lineage graph, whole or around one model, as Graphviz DOT or Mermaid';

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

----------------------------------------------------------------------------
-- OpenLineage
----------------------------------------------------------------------------

-- A stable run id (UUID) for a pg_mlops action.
CREATE OR REPLACE FUNCTION ml._run_uuid(kind text, id bigint) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$ SELECT md5('pg_mlops:' || kind || ':' || id)::uuid $$;

-- An OpenLineage dataset: namespace is the database, name the relation.
CREATE OR REPLACE FUNCTION ml._ol_dataset(name text, facets jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('namespace', 'postgres://' || current_database(), 'name', name, 'facets', facets)
$$;

CREATE OR REPLACE FUNCTION ml._ol_facet(schema_url text, body jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT body || jsonb_build_object('_producer', 'https://github.com/pg-mlops/pg_mlops', '_schemaURL', schema_url)
$$;

CREATE OR REPLACE FUNCTION ml._ol_event(event_type text, at timestamptz, run_id uuid, job text, inputs jsonb, outputs jsonb)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'eventType', event_type,
        'eventTime', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'run', jsonb_build_object('runId', run_id, 'facets', '{}'::jsonb),
        'job', jsonb_build_object('namespace', 'pg_mlops://' || current_database(), 'name', job, 'facets', '{}'::jsonb),
        'inputs', inputs, 'outputs', outputs,
        'producer', 'https://github.com/pg-mlops/pg_mlops',
        'schemaURL', 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent')
$$;

CREATE OR REPLACE FUNCTION ml.openlineage_events(since timestamptz DEFAULT NULL) RETURNS SETOF jsonb
LANGUAGE sql STABLE AS $$
    WITH runs AS (
        -- snapshots: source relations -> snapshot relation (version = content hash)
        SELECT 'snapshot' AS kind, s.id, s.created_at AS started, s.created_at AS finished,
               'snapshot.' || s.name AS job,
               (SELECT coalesce(jsonb_agg(ml._ol_dataset(r)), '[]') FROM unnest(s.source_relations) r) AS inputs,
               jsonb_build_array(ml._ol_dataset(s.relation, jsonb_build_object(
                   'version', ml._ol_facet('https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json',
                                           jsonb_build_object('datasetVersion', s.content_hash)),
                   'schema', ml._ol_facet('https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json',
                                          jsonb_build_object('fields', (SELECT jsonb_agg(jsonb_build_object('name', c->>'name', 'type', c->>'type'))
                                                                        FROM jsonb_array_elements(s.columns) c)))))) AS outputs
        FROM ml.snapshots s
        UNION ALL
        -- trainings: snapshot relation -> model
        SELECT 'train', m.id, m.trained_at - make_interval(secs => m.train_seconds), m.trained_at,
               'train.' || m.name,
               jsonb_build_array(ml._ol_dataset(s.relation, jsonb_build_object(
                   'version', ml._ol_facet('https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json',
                                           jsonb_build_object('datasetVersion', s.content_hash))))),
               jsonb_build_array(jsonb_build_object('namespace', 'pg_mlops://' || current_database(),
                   'name', m.name || '@' || m.version,
                   'facets', jsonb_build_object('version', ml._ol_facet('https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json',
                                                                        jsonb_build_object('datasetVersion', m.model_hash)))))
        FROM ml.models m JOIN ml.snapshots s ON s.id = m.snapshot_id
        UNION ALL
        -- scoring runs: source relations and the model -> output table
        SELECT 'score', r.id, r.started_at, r.finished_at, 'score.' || split_part(r.model, '@', 1),
               (SELECT coalesce(jsonb_agg(ml._ol_dataset(x)), '[]') FROM unnest(r.source_relations) x)
                 || jsonb_build_array(jsonb_build_object('namespace', 'pg_mlops://' || current_database(), 'name', r.model, 'facets', '{}'::jsonb)),
               jsonb_build_array(ml._ol_dataset(r.output))
        FROM ml.scoring_runs r
    )
    SELECT e FROM runs,
         LATERAL (VALUES (1, ml._ol_event('START', started, ml._run_uuid(kind, id), job, inputs, '[]'::jsonb)),
                         (2, ml._ol_event('COMPLETE', finished, ml._run_uuid(kind, id), job, inputs, outputs))) AS v(o, e)
    WHERE since IS NULL OR finished >= since
    ORDER BY finished, kind, id, o
$$;
COMMENT ON FUNCTION ml.openlineage_events(timestamptz) IS 'OpenLineage START and COMPLETE run events for every snapshot, training and scoring run';

----------------------------------------------------------------------------
-- Dropping snapshots and deleting models, leaving tombstones
----------------------------------------------------------------------------

-- Delete a model version: its bytes go, its record stays as a tombstone.
CREATE OR REPLACE FUNCTION ml._delete_model(model text, "cascade" boolean DEFAULT false) RETURNS ml.models
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
    RETURN m;
END $$;
COMMENT ON FUNCTION ml._delete_model(text, boolean) IS 'delete a model version''s bytes, keeping its record as a tombstone';

-- Drop a snapshot's rows; its record stays as a tombstone.
CREATE OR REPLACE FUNCTION ml._drop_snapshot(name text, "cascade" boolean DEFAULT false) RETURNS ml.snapshots
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    snap ml.snapshots;
    models text;
BEGIN
    PERFORM ml._require_writable('drop a snapshot');
    SELECT * INTO snap FROM ml.snapshots s WHERE s.name = name AND ml._can_use_snapshot(s);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'snapshot "%" does not exist', name
            USING ERRCODE = 'undefined_object', HINT = 'See SELECT name FROM ml.snapshots.';
    END IF;
    -- The role that took it (or a member of it) drops it.
    IF NOT (ml._is_superuser() OR EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = snap.created_by
                                                               AND pg_has_role(ml._caller(), r.oid, 'MEMBER'))) THEN
        RAISE EXCEPTION 'permission denied to drop snapshot "%"', name
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Snapshot %s was taken by %s; only that role (or a superuser) can drop it.', name, snap.created_by);
    END IF;
    IF snap.dropped_at IS NOT NULL THEN
        RAISE EXCEPTION 'snapshot "%" is already dropped', name USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    SELECT string_agg(m.name || '@' || m.version, ', ' ORDER BY m.id) INTO models
    FROM ml.models m WHERE m.snapshot_id = snap.id AND m.deleted_at IS NULL;
    IF models IS NOT NULL AND NOT "cascade" THEN
        RAISE EXCEPTION 'snapshot "%" trained models %', name, models
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = 'Their reproduction and drift checks need the snapshot.',
                  HINT = 'Delete the models first, or pass "cascade" => true to delete them too.';
    END IF;
    PERFORM ml.delete_model(m.name || '@' || m.version, true) FROM ml.models m
    WHERE m.snapshot_id = snap.id AND m.deleted_at IS NULL;
    -- Dropping the relation needs its ownership, as DROP TABLE does.
    -- Only the relation the registry names, of the kind and owner ml.snapshot made.
    EXECUTE coalesce((SELECT format('DROP %s %s', CASE c.relkind WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END, c.oid::regclass)
                      FROM pg_class c
                      WHERE c.oid = to_regclass(format('ml_data.%I', 'snapshot_' || snap.id))
                        AND c.relkind IN ('r', 'v') AND c.relowner = (SELECT m.relowner FROM pg_class m WHERE m.oid = 'ml.models'::regclass)),
                     'SELECT 1');
    UPDATE ml.snapshots s SET dropped_at = now(), dropped_by = ml._caller() WHERE s.id = snap.id RETURNING * INTO snap;
    INSERT INTO ml.model_events (action, snapshot_id, details)
    VALUES ('drop_snapshot', snap.id, jsonb_build_object('name', snap.name, 'content_hash', snap.content_hash,
                                                         'rows', snap.row_count));
    RETURN snap;
END $$;
COMMENT ON FUNCTION ml._drop_snapshot(text, boolean) IS 'drop a snapshot''s rows, keeping its record as a tombstone';

