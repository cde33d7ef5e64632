-- Snapshots: freezing a table, view or query into an immutable, hashed
-- relation with a train/test split and a column profile (ml.snapshot), the
-- content hash aggregate, verification and dropping (tombstones).

CREATE OR REPLACE FUNCTION ml._row_is_test(row_value record, seed integer, test_fraction float8) RETURNS boolean
AS 'MODULE_PATHNAME', 'ml_row_is_test' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The number the hash split compares with test_fraction, in [0, 1): the
-- stratified split ranks each class's rows by it, cross-validation cuts it
-- into folds.
CREATE OR REPLACE FUNCTION ml._row_split_unit(row_value record, seed integer) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_row_split_unit' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- A split as ml.snapshot takes it: 'hash' (the default), 'group:COLUMN',
-- 'time:COLUMN' or 'stratified:COLUMN' ('stratified' alone: the target, where
-- a training names one).  The column is named as it is spelled in the source.
CREATE OR REPLACE FUNCTION ml._parse_split(split text, target text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
#variable_conflict use_variable
DECLARE
    kind text := lower(btrim(split_part(coalesce(split, 'hash'), ':', 1)));
    col text := CASE WHEN position(':' IN coalesce(split, '')) > 0 THEN substr(split, position(':' IN split) + 1) END;
BEGIN
    IF kind = 'hash' AND col IS NULL THEN
        RETURN '{"kind": "hash"}';
    END IF;
    IF kind = 'stratified' AND col IS NULL AND target IS NOT NULL THEN
        col := target;
    END IF;
    IF kind NOT IN ('group', 'time', 'stratified') OR col IS NULL OR col = '' THEN
        RAISE EXCEPTION 'unknown split "%"', split
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A split is ''hash'', ''group:COLUMN'', ''time:COLUMN'' or ''stratified:COLUMN''.',
                  HINT = 'For example split => ''group:firm'' keeps every row of a firm on one side.';
    END IF;
    RETURN jsonb_build_object('kind', kind, 'column', col);
END $$;

-- The chronological split's rule, shared by snapshots, their verification
-- and anything else that cuts rows by time: of n rows ordered by the time
-- column, the first ceil(n * (1 - test_fraction)) are train, and so is every
-- row with the same time as the last of them; the rows after that time are
-- test.  (Computed in numeric, so that 10 rows at 0.3 give 7 train rows.)
CREATE OR REPLACE FUNCTION ml._time_split_train_rows(n bigint, test_fraction float8) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ceil(n * (1 - test_fraction::numeric))::bigint
$$;

-- The cut of the chronological split of the rows of query by time_column:
-- the time of the last train row, as jsonb (numbers as numbers, dates and
-- timestamps in ISO 8601 whatever DateStyle says); the test rows are those
-- later than it.  NULL when query has no row with a time.
CREATE OR REPLACE FUNCTION ml._time_cut(query text, time_column text, test_fraction float8) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
    cut jsonb;
BEGIN
    EXECUTE format('SELECT to_jsonb(%1$I) FROM (%2$s) _ml_q WHERE %1$I IS NOT NULL ORDER BY %1$I
                    OFFSET (SELECT ml._time_split_train_rows(count(%1$I), $1) - 1 FROM (%2$s) _ml_c) LIMIT 1',
                   time_column, query)
    INTO cut USING test_fraction;
    RETURN cut;
END $$;

-- The SQL expression that decides _ml_is_test for a row of a split: alias
-- names the row's columns, whole_row the row itself (its data columns).  In
-- a verification (verify) ties of the ranking order by the recorded side,
-- so identical rows on either side of a class's cut check as decided.
CREATE OR REPLACE FUNCTION ml._split_expr(spec jsonb, seed integer, test_fraction float8, alias text, whole_row text,
                                          verify boolean DEFAULT false) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE coalesce(spec->>'kind', 'hash')
        WHEN 'hash' THEN format('ml._row_is_test(%s, %s, %s)', whole_row, seed, test_fraction)
        WHEN 'group' THEN format('ml._row_is_test(ROW(%s.%I), %s, %s)', alias, spec->>'column', seed, test_fraction)
        WHEN 'stratified' THEN format('(row_number() OVER (PARTITION BY %1$s.%2$I ORDER BY ml._row_split_unit(%3$s, %4$s)%5$s)
                                        <= round(count(*) OVER (PARTITION BY %1$s.%2$I) * (%6$s)::float8::numeric))',
                                      alias, spec->>'column', whole_row, seed,
                                      CASE WHEN verify THEN ', _ml_is_test DESC' ELSE '' END, test_fraction)
        WHEN 'time' THEN format('(rank() OVER (ORDER BY %1$s.%2$I) - 1 >= ml._time_split_train_rows(count(*) OVER (), %3$s))',
                                alias, spec->>'column', test_fraction)
    END
$$;

-- Checks of a split against the columns of the source (as ml._query_columns
-- describes them) before anything is copied.
CREATE OR REPLACE FUNCTION ml._check_split(spec jsonb, cols jsonb, remote boolean) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    col text := spec->>'column';
    ctype text;
BEGIN
    IF spec->>'kind' = 'hash' THEN
        RETURN;
    END IF;
    ctype := (SELECT coalesce(c->>'snapshot_type', c->>'type') FROM jsonb_array_elements(cols) c WHERE c->>'name' = col LIMIT 1);
    IF ctype IS NULL THEN
        RAISE EXCEPTION 'split column "%" does not exist in the source', col
            USING ERRCODE = 'undefined_column',
                  DETAIL = 'Nothing was copied: the split is checked before the snapshot is taken.',
                  HINT = format('The source has columns %s.',
                                (SELECT string_agg(c->>'name', ', ') FROM jsonb_array_elements(cols) c));
    END IF;
    IF remote AND spec->>'kind' IN ('time', 'stratified') THEN
        RAISE EXCEPTION 'a % split needs the rows copied, and this source''s rows stay where they are', spec->>'kind'
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'Snapshots of foreign, partitioned-with-foreign-partitions and distributed tables are views; a time or stratified split ranks all rows, which a view would redo at every read.',
                  HINT = 'Snapshot a query over the source instead (it is copied), or use split => ''hash'' or ''group:COLUMN''.';
    END IF;
    -- The split orders (time) or partitions (stratified) by the column as the snapshot keeps it.
    BEGIN
        EXECUTE format('SELECT 1 FROM (SELECT NULL::%s AS x) s %s', ctype,
                       CASE spec->>'kind' WHEN 'time' THEN 'ORDER BY x' WHEN 'stratified' THEN 'GROUP BY x' ELSE '' END);
    EXCEPTION WHEN undefined_function THEN
        RAISE EXCEPTION 'split column "%" of type % cannot be %', col, ctype,
                        CASE spec->>'kind' WHEN 'time' THEN 'ordered' ELSE 'compared for equality' END
            USING ERRCODE = 'datatype_mismatch',
                  DETAIL = CASE spec->>'kind' WHEN 'time' THEN 'A time split puts the latest rows by this column in test; the type has no ordering.'
                                ELSE 'A stratified split splits each value''s rows; the type has no equality.' END,
                  HINT = 'Split by a column of a type with a default btree operator class (a number, date, timestamp, text, ...), or cast it in a source query.';
    END;
END $$;

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

-- A source is a relation name or a query.  query reads it the same for the
-- caller under the pinned search_path: a relation named with its schema, or
-- a query text as a temporary view of the caller's; relation is NULL for a
-- query.
CREATE OR REPLACE FUNCTION ml._resolve_source(source text, OUT query text, OUT relation regclass)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
BEGIN
    IF source IS NULL OR btrim(source) = '' THEN
        RAISE EXCEPTION 'source must not be empty'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass a table or view name, or a query starting with SELECT, WITH, VALUES or TABLE.';
    END IF;
    IF ml._is_query(source) THEN
        query := 'SELECT * FROM ' || ml._caller_view(regexp_replace(source, '[\s;]+$', ''));
        RETURN;
    END IF;
    BEGIN
        relation := ml._caller_relation(source);
    EXCEPTION WHEN invalid_name OR syntax_error THEN
        relation := NULL;  -- not a name: reported as no such relation
    END;
    IF relation IS NULL THEN
        RAISE EXCEPTION 'relation "%" does not exist', source
            USING ERRCODE = 'undefined_table',
                  HINT = 'Pass a table or view name, or a query starting with SELECT, WITH, VALUES or TABLE.';
    END IF;
    query := 'SELECT * FROM ' || relation::text;
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

-- A snapshot of a resolved source (ml._resolve_source): query reads it,
-- src_rel is the relation it names (NULL for a query text).
CREATE OR REPLACE FUNCTION ml._snapshot_of(source text, query text, src_rel regclass, name text,
                                           test_fraction float8, seed integer, split jsonb DEFAULT '{"kind": "hash"}')
RETURNS ml.snapshots
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    snap ml.snapshots;
    sid bigint;
    rel text;
    cols jsonb;
    qcols jsonb;
    col_list text;
    copy_list text;
    remote boolean;
    decide text;
    n bigint;
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
    sid := nextval('ml.snapshots_id_seq');
    name := coalesce(name, 'snapshot_' || sid);
    rel := format('ml_data.%I', 'snapshot_' || sid);

    -- A source whose rows live elsewhere (foreign, partitioned with foreign
    -- partitions, Citus distributed) is not copied here: the snapshot is a
    -- view over it with the split column, hashed and profiled by
    -- aggregates, and trained through the aggregate engine.
    -- The relation belongs to the extension's owner (only ml functions
    -- change or drop it); its creator reads it and may grant others.
    remote := src_rel IS NOT NULL AND ml._is_remote_source(src_rel);
    split := coalesce(split, '{"kind": "hash"}');
    qcols := ml._query_columns(query);
    PERFORM ml._check_split(split, qcols, remote);
    IF remote THEN
        -- security_invoker: each reader reads the source with its own
        -- rights and user mapping.
        PERFORM ml._notice(format('snapshot %s: rows stay in %s (not copied)', name, src_rel));
        EXECUTE format('CREATE VIEW %s WITH (security_invoker = true) AS SELECT _ml_src.*, %s AS _ml_is_test FROM %s _ml_src',
                       rel, ml._split_expr(split, seed, test_fraction, '_ml_src', '_ml_src'), src_rel);
    ELSE
        PERFORM ml._notice(format('snapshot %s: copying rows', name));
        -- Built-in types only (see snapshot_type in rowhash.c): the split is
        -- decided on the row as the snapshot keeps it.
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
        PERFORM ml._as_caller(format(E'INSERT INTO %s SELECT _ml_row.*, %s\nFROM (SELECT %s FROM (%s\n) _ml_src) _ml_row',
                                     rel, ml._split_expr(split, seed, test_fraction, '_ml_row', '_ml_row'), copy_list, query));
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
    snap.source_relations := ml._query_relations(CASE WHEN src_rel IS NULL THEN source ELSE query END);
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
    -- What a split needs of the rows: two groups, times on every row.
    IF split->>'kind' = 'group' AND test_fraction > 0 THEN
        n := (ml._as_caller(format('SELECT to_jsonb(count(DISTINCT ml._row_split_unit(ROW(%I), %s))) FROM %s',
                                   split->>'column', seed, rel)) #>> '{}')::bigint;
        IF n < 2 THEN
            RAISE EXCEPTION 'split column "%" has one group', split->>'column'
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('All %s rows have the same value of "%s", so a grouped split would leave the test or the train split empty.',
                                      snap.row_count, split->>'column'),
                      HINT = 'Group by a column with at least two values, use split => ''hash'', or test_fraction => 0 for no test split.';
        END IF;
    ELSIF split->>'kind' = 'time' THEN
        n := (ml._as_caller(format('SELECT to_jsonb(count(*)) FROM %s WHERE %I IS NULL', rel, split->>'column')) #>> '{}')::bigint;
        IF n > 0 THEN
            RAISE EXCEPTION 'time column "%" is NULL in % rows', split->>'column', n
                USING ERRCODE = 'null_value_not_allowed',
                      DETAIL = 'A chronological split puts the latest rows in test; a row without a time has no side.',
                      HINT = format('Leave those rows out of the source (WHERE %I IS NOT NULL) or give them a time.', split->>'column');
        END IF;
        split := split || jsonb_build_object('cut', ml._as_caller('SELECT ml._time_cut($1->>''q'', $1->>''c'', ($1->>''f'')::float8)',
                                                                   jsonb_build_object('q', 'SELECT * FROM ' || rel, 'c', split->>'column',
                                                                                      'f', test_fraction)));
    END IF;
    snap.split := split;
    PERFORM ml._notice(format('snapshot %s: %s rows %s and hashed in %s s, profiling columns',
                              name, snap.row_count, CASE WHEN remote THEN 'counted' ELSE 'copied' END,
                              round(extract(epoch FROM clock_timestamp() - t0)::numeric, 3)));
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
                                                'content_hash', snap.content_hash, 'split', split,
                                                'source_relations', to_jsonb(snap.source_relations)));
    PERFORM ml._notice(format('snapshot %s: done, %s train and %s test rows, hash %s',
                              name, snap.train_count, snap.test_count, snap.content_hash));
    RETURN snap;
END $$;
CREATE OR REPLACE FUNCTION ml._snapshot(source text, name text DEFAULT NULL,
                            test_fraction float8 DEFAULT 0.25, seed integer DEFAULT 42, split text DEFAULT 'hash')
RETURNS ml.snapshots
LANGUAGE sql VOLATILE AS $$
    SELECT ml._snapshot_of(source, r.query, r.relation, name, test_fraction, seed, ml._parse_split(split))
    FROM ml._resolve_source(source) r
$$;
COMMENT ON FUNCTION ml._snapshot(text, text, float8, integer, text) IS 'freeze a table, view or query into an immutable, hashed snapshot';

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
    -- The split must still be what the rows, the seed and the split's rule decide.
    moved := (ml._as_caller(format('SELECT to_jsonb(count(*)) FROM (SELECT _ml_is_test, %s AS decided FROM %s _ml_row) x
                                    WHERE _ml_is_test IS DISTINCT FROM decided',
                                   ml._split_expr(snap.split, snap.seed, snap.test_fraction, '_ml_row', format('ROW(%s)', col_list), true),
                                   snap.relation))
              #>> '{}')::bigint;
    -- and a chronological split's recorded cut what the rows give.
    IF snap.split->>'kind' = 'time'
       AND snap.split->'cut' IS DISTINCT FROM ml._as_caller('SELECT ml._time_cut($1->>''q'', $1->>''c'', ($1->>''f'')::float8)',
                                                            jsonb_build_object('q', 'SELECT * FROM ' || snap.relation, 'c', snap.split->>'column',
                                                                               'f', snap.test_fraction)) THEN
        moved := moved + 1;
    END IF;
    RETURN QUERY SELECT snap.name, n, snap.content_hash, h, h = snap.content_hash, moved = 0;
END $$;
COMMENT ON FUNCTION ml._verify_snapshot(text) IS 'recompute a snapshot''s content hash and split and compare them with the recorded ones';

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
