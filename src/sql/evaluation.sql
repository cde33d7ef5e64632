-- Evaluation: metrics of a model on labeled rows (ml.evaluate), confusion
-- matrices, ROC curves and the per-iteration training history.

CREATE OR REPLACE FUNCTION ml._class_metrics(k integer, confusion float8[]) RETURNS jsonb
AS 'MODULE_PATHNAME', 'ml_class_metrics_sql' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

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
    query := (ml._resolve_source(source)).query;
    IF m.target IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(ml._query_columns(query)) c
                                            WHERE c->>'name' = m.target) THEN
        RAISE EXCEPTION 'source has no column "%", the target of model %@%', m.target, m.name, m.version
            USING ERRCODE = 'undefined_column',
                  HINT = 'Evaluation needs labeled rows: include the target column.';
    END IF;
END $$;

-- ml._evaluation_source for the functions that need a classifier.
CREATE OR REPLACE FUNCTION ml._classifier_source(model text, source text, OUT m ml.models, OUT query text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
    e record := ml._evaluation_source(model, source);
BEGIN
    m := e.m;
    query := e.query;
    IF m.task <> 'classification' THEN
        RAISE EXCEPTION 'model %@% is not a classifier', m.name, m.version USING ERRCODE = 'wrong_object_type',
            HINT = 'ml.evaluate() gives regression and clustering metrics.';
    END IF;
END $$;

-- The scores of a classifier on labeled rows, read once: the confusion
-- matrix (row = actual, column = predicted, in the order of classes), the
-- mean log loss, the top-2 and top-3 hit rates and, per class (one against
-- the rest, scored by its probability), the support, the exact ROC AUC and
-- the average precision (NULL where undefined).
CREATE OR REPLACE FUNCTION ml._classification_stats(ref text, query text, target text, classes text[]) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN ml._as_caller(format($q$
        WITH scored AS (
            SELECT array_position(%4$L::text[], ml._text(_ml_row.%1$I)) AS actual, ml.predict_proba(%2$L, _ml_row) AS p
            FROM (%3$s) _ml_row WHERE _ml_row.%1$I IS NOT NULL
        ), labeled AS MATERIALIZED (
            -- rank: classes scoring above the actual one, ties to the earlier class (as the predicted class)
            SELECT actual, p, (SELECT i FROM generate_subscripts(p, 1) i ORDER BY p[i] DESC, i LIMIT 1) AS predicted,
                   (SELECT count(*) FROM generate_subscripts(p, 1) i
                    WHERE p[i] > p[actual] OR (p[i] = p[actual] AND i < actual)) AS rank
            FROM scored WHERE p IS NOT NULL AND actual IS NOT NULL
        ), cells AS (
            SELECT actual, predicted, count(*) AS n FROM labeled GROUP BY 1, 2
        ), per_class AS (
            SELECT c, count(*) FILTER (WHERE l.actual = c) AS support,
                   ml._auc_agg(l.p[c], l.actual = c) AS auc, ml._ap_agg(l.p[c], l.actual = c) AS ap
            FROM labeled l CROSS JOIN generate_series(1, %5$s) c GROUP BY c
        )
        SELECT jsonb_build_object('conf', (SELECT jsonb_agg(coalesce(c.n, 0)::float8 ORDER BY a, b)
                    FROM generate_series(1, %5$s) a CROSS JOIN generate_series(1, %5$s) b
                    LEFT JOIN cells c ON c.actual = a AND c.predicted = b),
                'support', (SELECT jsonb_agg(coalesce(support, 0) ORDER BY c) FROM per_class),
                'auc', (SELECT jsonb_agg(auc ORDER BY c) FROM per_class),
                'ap', (SELECT jsonb_agg(ap ORDER BY c) FROM per_class),
                'result', jsonb_build_object('log_loss', avg(-ln(greatest(p[actual], 1e-15))), 'rows', count(*),
                                             'unknown_labels', (SELECT count(*) FROM scored WHERE actual IS NULL)),
                'top_2', avg((rank < 2)::int)::float8, 'top_3', avg((rank < 3)::int)::float8)
        FROM labeled $q$, target, ref, query, classes, cardinality(classes)));
END $$;

-- Mean over the classes where v is defined, unweighted (macro) or weighted
-- by support; NULL when no class has it.
CREATE OR REPLACE FUNCTION ml._class_average(v jsonb, support jsonb, weighted boolean) RETURNS float8
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN weighted THEN sum(x.value::text::float8 * (s.value::text::float8)) / nullif(sum(s.value::text::float8), 0)
                ELSE avg(x.value::text::float8) END
    FROM jsonb_array_elements(v) WITH ORDINALITY x(value, i)
    JOIN jsonb_array_elements(support) WITH ORDINALITY s(value, j) ON i = j
    WHERE jsonb_typeof(x.value) = 'number'
$$;

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
    st jsonb;
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
        st := ml._classification_stats(ref, e.query, (e.m).target, classes);
        result := st->'result';
        IF (result->>'rows')::bigint = 0 THEN
            RETURN result;
        END IF;
        conf := ARRAY(SELECT jsonb_array_elements_text(st->'conf')::float8);
        result := ml._class_metrics(k, conf) || result
            || jsonb_build_object('roc_auc_ovr_macro', ml._class_average(st->'auc', st->'support', false),
                                  'roc_auc_ovr_weighted', ml._class_average(st->'auc', st->'support', true),
                                  'average_precision_macro', ml._class_average(st->'ap', st->'support', false),
                                  'average_precision_weighted', ml._class_average(st->'ap', st->'support', true));
        IF k = 2 THEN
            result := result || jsonb_build_object('roc_auc', ml._roc_auc(ref, e.query, (e.m).target, classes[2]),
                                                   'average_precision', st->'ap'->1);
        END IF;
        IF k > 2 THEN
            result := result || jsonb_build_object('top_2_accuracy', st->'top_2');
        END IF;
        IF k > 3 THEN
            result := result || jsonb_build_object('top_3_accuracy', st->'top_3');
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

CREATE OR REPLACE FUNCTION ml._classification_report(model text, source text)
RETURNS TABLE (class text, "precision" float8, recall float8, f1 float8, support bigint,
               roc_auc float8, average_precision float8)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    e record;
    ref text;
    classes text[];
    k integer;
    st jsonb;
BEGIN
    e := ml._classifier_source(model, source);
    ref := (e.m).name || '@' || (e.m).version;
    classes := ml.classes(ref);
    k := cardinality(classes);
    st := ml._classification_stats(ref, e.query, (e.m).target, classes);
    -- precision over the predicted column, recall over the actual row (0 where empty, as scikit-learn)
    RETURN QUERY
    WITH cm AS (
        SELECT (o - 1) / k + 1 AS a, (o - 1) % k + 1 AS b, v::text::float8 AS n
        FROM jsonb_array_elements(st->'conf') WITH ORDINALITY x(v, o)
    ), pc AS (
        SELECT c, coalesce((SELECT n FROM cm WHERE a = c AND b = c), 0) AS tp,
               coalesce((SELECT sum(n) FROM cm WHERE b = c), 0) AS pred,
               coalesce((SELECT sum(n) FROM cm WHERE a = c), 0) AS truth
        FROM generate_series(1, k) c
    ), pr AS (
        SELECT c, CASE WHEN pred > 0 THEN tp / pred ELSE 0 END AS p,
               CASE WHEN truth > 0 THEN tp / truth ELSE 0 END AS r, truth
        FROM pc
    )
    SELECT classes[pr.c], pr.p, pr.r, CASE WHEN pr.p + pr.r > 0 THEN 2 * pr.p * pr.r / (pr.p + pr.r) ELSE 0 END,
           pr.truth::bigint, (st->'auc'->>(pr.c - 1))::float8, (st->'ap'->>(pr.c - 1))::float8
    FROM pr ORDER BY pr.c;
END $$;
COMMENT ON FUNCTION ml._classification_report(text, text) IS 'precision, recall, F1, support, ROC AUC and average precision of each class of a classifier on labeled rows';

CREATE OR REPLACE FUNCTION ml._confusion_matrix(model text, source text)
RETURNS TABLE (actual text, predicted text, count bigint)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    e record;
    ref text;
BEGIN
    e := ml._classifier_source(model, source);
    ref := (e.m).name || '@' || (e.m).version;
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
