-- Drift: input and prediction profiles against the training data (PSI,
-- KS, Jensen-Shannon), ml.check_drift and the drift, drift_summary and
-- performance views.

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
        query := (ml._resolve_source(source)).query;
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
