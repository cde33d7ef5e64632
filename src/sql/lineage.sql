-- Lineage: the ml.lineage view of relations, snapshots, models and runs,
-- its traversal and graphs, reproduction of a training, and OpenLineage
-- events.

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

-- The releases that changed how an algorithm trains: a model trained by an
-- earlier release is retrained with other bits (it keeps its own bytes and
-- predictions).  Each entry is in the release notes of docs/operations.md.
CREATE OR REPLACE FUNCTION ml._training_changed_in(algorithm text, trained_with text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT max(c.release COLLATE "C") FROM (VALUES
        ('linear_regression', '0.2.0'), ('ridge', '0.2.0'), ('kmeans', '0.2.0'),
        ('decision_tree', '0.2.0'), ('random_forest', '0.2.0'), ('gradient_boosting', '0.2.0')) c(algorithm, release)
    WHERE c.algorithm = $1
      AND pg_catalog.string_to_array(c.release, '.')::int[] > pg_catalog.string_to_array($2, '.')::int[]
$$;
COMMENT ON FUNCTION ml._training_changed_in(text, text)
    IS 'the latest release after trained_with that changed how the algorithm trains, or NULL';

CREATE OR REPLACE FUNCTION ml._reproduce(model text)
RETURNS TABLE (model_ref text, registered_hash text, reproduced_hash text, identical boolean, seconds float8,
               changed_in text)
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
    changed text;
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
    fit := ml._fit(snap.relation::regclass, pl.plan, m.algorithm, pl.numeric_hyperparams, search_trials, search_folds,
                   ml._fit_options(m.algorithm, pl.plan, m.hyperparams, m.search));
    h := encode(sha256(fit.model), 'hex');
    changed := ml._training_changed_in(m.algorithm, m.extension_version);
    INSERT INTO ml.model_events (action, model_id, snapshot_id, details)
    VALUES ('reproduce', m.id, m.snapshot_id, jsonb_build_object('model', m.name || '@' || m.version,
            'identical', h = m.model_hash, 'reproduced_hash', h, 'changed_in', changed));
    IF h <> m.model_hash AND changed IS NOT NULL THEN
        PERFORM ml._notice(format('%s@%s was trained by pg_mlops %s; release %s changed how %s trains, so the retrained bits differ',
                                  m.name, m.version, m.extension_version, changed, m.algorithm));
    END IF;
    RETURN QUERY SELECT m.name || '@' || m.version, m.model_hash, h, h = m.model_hash,
                        extract(epoch FROM clock_timestamp() - t0)::float8, changed;
END $$;
COMMENT ON FUNCTION ml._reproduce(text)
    IS 'retrain from the recorded snapshot, hyperparameters and seed, and compare the model hash; changed_in names a later release that changed the training';

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

-- Walk the lineage graph from a node, against the edges (upstream) or along
-- them; each edge once, at its shortest depth.  A table a model scored is
-- downstream of the run, not upstream of the model: upstream walks leave
-- scored_by edges out.
CREATE OR REPLACE FUNCTION ml._lineage_walk(node text, upstream boolean)
RETURNS TABLE (depth integer, source_kind text, source_name text, target_kind text, target_name text,
               relation text, at timestamptz, actor text)
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE edges AS (
        SELECT l.*, CASE WHEN upstream THEN l.target_name ELSE l.source_name END AS here,
               CASE WHEN upstream THEN l.source_name ELSE l.target_name END AS next
        FROM ml.lineage l
        WHERE NOT (upstream AND l.relation = 'scored_by')
    ), walk AS (
        SELECT 1 AS depth, e.*, ARRAY[e.next] AS path
        FROM edges e
        WHERE e.here = ml._lineage_node(node)
        UNION ALL
        SELECT w.depth + 1, e.*, w.path || e.next
        FROM walk w JOIN edges e ON e.here = w.next
        WHERE NOT e.next = ANY (w.path) AND w.depth < 100
    )
    SELECT * FROM (SELECT DISTINCT ON (w.source_kind, w.source_name, w.target_kind, w.target_name, w.relation, w.at, w.actor)
                          w.depth, w.source_kind, w.source_name, w.target_kind, w.target_name, w.relation, w.at, w.actor
                   FROM walk w
                   ORDER BY w.source_kind, w.source_name, w.target_kind, w.target_name, w.relation, w.at, w.actor, w.depth) e
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

-- The edges of the whole graph, or of everything up- and downstream of a
-- model and what it scored.
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
    UNION
    -- what the model scored: not upstream of it, but part of its picture
    SELECT l.source_kind, l.source_name, l.target_kind, l.target_name, l.relation
    FROM ml.lineage l WHERE model IS NOT NULL AND l.relation = 'scored_by' AND l.target_name = ml._lineage_node(model)
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
