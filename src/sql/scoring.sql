-- Scoring: predicting one row (ml.predict, predict_class, predict_proba,
-- transform), explaining models and predictions, and batch scoring of a
-- table or query into a table (ml.score).

-- The planner passes a table's row to the scoring functions as its columns
-- (see ml_predict_support in src/pg/predict.c): ml._<name>_columns(model,
-- column names, column values...) score exactly what the row would.
CREATE OR REPLACE FUNCTION ml._predict_support(internal) RETURNS internal
AS 'MODULE_PATHNAME', 'ml_predict_support' LANGUAGE C STRICT STABLE;
CREATE OR REPLACE FUNCTION ml._predict_columns(model "any", columns text[], VARIADIC "any") RETURNS float8
AS 'MODULE_PATHNAME', 'ml_predict' LANGUAGE C STABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._predict_class_columns(model "any", columns text[], VARIADIC "any") RETURNS text
AS 'MODULE_PATHNAME', 'ml_predict_class' LANGUAGE C STABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._predict_proba_columns(model "any", columns text[], VARIADIC "any") RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_predict_proba' LANGUAGE C STABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._transform_columns(model "any", columns text[], VARIADIC "any") RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_transform' LANGUAGE C STABLE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION ml.predict(model text, features anyelement) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_predict' LANGUAGE C STABLE PARALLEL SAFE SUPPORT ml._predict_support;
CREATE OR REPLACE FUNCTION ml.predict(model bigint, features anyelement) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_predict' LANGUAGE C STABLE PARALLEL SAFE SUPPORT ml._predict_support;
COMMENT ON FUNCTION ml.predict(text, anyelement) IS 'score one row (features matched by column name) or one float8[] (by position)';

-- The decoded models this backend keeps (ml.model_cache_size caps them).
CREATE OR REPLACE FUNCTION ml._model_cache(OUT model_id bigint, OUT model text, OUT bytes bigint)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'ml_model_cache' LANGUAGE C VOLATILE PARALLEL RESTRICTED;

CREATE OR REPLACE FUNCTION ml._predict_raw(model bigint, features anyelement) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_predict_raw' LANGUAGE C STABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml.predict_class(model text, features anyelement) RETURNS text
AS 'MODULE_PATHNAME', 'ml_predict_class' LANGUAGE C STABLE PARALLEL SAFE SUPPORT ml._predict_support;
COMMENT ON FUNCTION ml.predict_class(text, anyelement) IS 'the label a classifier predicts for one row';
CREATE OR REPLACE FUNCTION ml.predict_proba(model text, features anyelement) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_predict_proba' LANGUAGE C STABLE PARALLEL SAFE SUPPORT ml._predict_support;
COMMENT ON FUNCTION ml.predict_proba(text, anyelement) IS 'class probabilities of one row, in the order of ml.classes()';
CREATE OR REPLACE FUNCTION ml.transform(model text, features anyelement) RETURNS float8[]
AS 'MODULE_PATHNAME', 'ml_transform' LANGUAGE C STABLE PARALLEL SAFE SUPPORT ml._predict_support;
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

CREATE OR REPLACE FUNCTION ml._score(model text, source text, output_table text, key text DEFAULT NULL,
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
    IF output_table IS NULL OR btrim(output_table) = '' THEN
        RAISE EXCEPTION 'into must name the output table' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- A table name, optionally schema-qualified, never SQL text.
    BEGIN
        parts := parse_ident(output_table);
    EXCEPTION WHEN invalid_parameter_value THEN
        parts := NULL;
    END;
    IF parts IS NULL OR cardinality(parts) > 2 THEN
        RAISE EXCEPTION 'invalid output table name "%"', output_table
            USING ERRCODE = 'invalid_name',
                  HINT = 'Name a table, optionally with its schema: scores or analytics.scores.';
    END IF;
    output_table := CASE cardinality(parts) WHEN 2 THEN format('%I.%I', parts[1], parts[2]) ELSE format('%I', parts[1]) END;
    SELECT * INTO m FROM ml.models x WHERE x.id = mid;
    label := m.name || '@' || m.version;
    query := (ml._resolve_source(source)).query;
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
    target := ml._caller_relation(output_table);
    IF target IS NULL THEN
        -- A new table: CREATE TABLE AS runs the scoring query in parallel.
        output_table := ml._caller_new_relation(output_table);
        n := (ml._as_caller(format('CREATE TABLE %s AS %s', output_table, select_sql))->>'processed')::bigint;
        target := output_table::regclass;
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
