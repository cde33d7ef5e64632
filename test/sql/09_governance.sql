-- Verification, reproducibility, lineage traversal and model cards.
SET ml.progress = off;
CREATE TABLE loans AS SELECT i AS id, (i % 50)::float8 AS income, (i % 7)::float8 AS debt,
                             3 * (i % 50) - 2 * (i % 7) + cos(i) AS score
FROM generate_series(1, 3000) i;
SELECT name FROM ml.snapshot('loans', name => 'loans_v1');
SELECT version FROM ml.train_model('loans', 'snapshot:loans_v1', 'score', features => '{income,debt}');
SELECT version FROM ml.train_model('loans', 'snapshot:loans_v1', 'score', 'ridge', '{"alpha": 3}', '{income,debt}');
SELECT version, stage FROM ml.promote('loans', 1);
SELECT ml.score('loans', 'loans', 'loan_scores', 'id');

-- Retraining from the record gives the identical model, for each algorithm.
SELECT model_ref, identical, registered_hash = reproduced_hash AS same_hash FROM ml.reproduce('loans@1');
SELECT model_ref, identical FROM ml.reproduce('loans@2');
SELECT count(*) AS versions FROM ml.models WHERE name = 'loans';
SELECT action, details->>'identical' AS identical FROM ml.model_events WHERE action = 'reproduce' ORDER BY id;

-- Snapshots verify; a change made behind the trigger's back is found.
SELECT snapshot, rows, intact, split_intact FROM ml.verify_snapshot('loans_v1');
SELECT relation AS loans_rel FROM ml.snapshots WHERE name = 'loans_v1' \gset
ALTER TABLE :loans_rel DISABLE TRIGGER snapshot_is_immutable;
UPDATE :loans_rel SET debt = debt + 1 WHERE id = 10;
SELECT snapshot, intact, split_intact, recorded_hash <> current_hash AS hash_differs FROM ml.verify_snapshot('loans_v1');
UPDATE :loans_rel SET debt = debt - 1 WHERE id = 10;
UPDATE :loans_rel SET _ml_is_test = NOT _ml_is_test WHERE id = 11;
SELECT snapshot, intact, split_intact FROM ml.verify_snapshot('loans_v1');
UPDATE :loans_rel SET _ml_is_test = NOT _ml_is_test WHERE id = 11;
ALTER TABLE :loans_rel ENABLE TRIGGER snapshot_is_immutable;
SELECT intact, split_intact FROM ml.verify_snapshot('loans_v1');

-- Lineage, both directions, from any node.
SELECT depth, source_kind, source_name, relation, target_kind, target_name FROM ml.lineage_upstream('loans@1');
SELECT depth, source_kind, source_name, relation, target_kind, target_name FROM ml.lineage_downstream('public.loans')
WHERE target_name NOT LIKE 'snapshot\_%' ORDER BY depth, relation, target_name;
SELECT depth, relation, target_name FROM ml.lineage_downstream('loans_v1') ORDER BY depth, relation, target_name;
-- Each edge once, at its shortest depth; the table loans@1 scored is downstream, not upstream.
SELECT count(*) = count(DISTINCT (source_name, relation, target_name)) AS each_edge_once,
       bool_and(relation <> 'scored_by') AS no_scored_tables
FROM ml.lineage_upstream('loans@1');
SELECT ml.lineage_graph('loans@1');
SELECT ml.lineage_graph('loans@1', 'mermaid') LIKE E'flowchart LR\n%' AS mermaid,
       (SELECT count(*) FROM regexp_matches(ml.lineage_graph('loans@1', 'mermaid'), '-->', 'g')) AS edges;

-- Model cards.
SELECT name, version, description FROM ml.describe_model('loans@1', 'Credit score model for the 2026 pilot; not for decisions on individuals.');
SELECT position('# Model card: loans@1' IN card) = 1 AS title,
       position('Credit score model for the 2026 pilot' IN card) > 0 AS description,
       position('Snapshot `loans_v1`' IN card) > 0 AS data,
       position('| income |' IN card) > 0 AS features,
       position('| test | rmse |' IN card) > 0 AS metrics,
       position('snapshot_of' IN card) > 0 AS lineage,
       position('promote by' IN card) > 0 AS history
FROM ml.model_card('loans@1') AS card;
SELECT jsonb_object_keys(ml.model_card('loans@1', 'json')::jsonb) AS keys ORDER BY 1;
SELECT (ml.model_card('loans', 'json')::jsonb #>> '{data,content_hash}') = content_hash AS card_hash_matches
FROM ml.snapshots WHERE name = 'loans_v1';

-- Bad input.
SELECT regress.err($$SELECT * FROM ml.verify_snapshot('no_such_snapshot')$$);
SELECT regress.err($$SELECT * FROM ml.reproduce('no_such_model')$$);
SELECT regress.err($$SELECT * FROM ml.lineage_upstream('nowhere')$$);
SELECT regress.err($$SELECT ml.revoke_model('no_such_model', 'public')$$);
SELECT regress.err($$SELECT ml.revoke_model('loans', 'public', 'own')$$);
SELECT regress.err($$SELECT ml.lineage_graph('loans@1', 'svg')$$);
SELECT regress.err($$SELECT ml.model_card('loans@1', 'pdf')$$);
SELECT regress.err($$SELECT ml.describe_model('loans@9', 'x')$$);

-- OpenLineage run events: START and COMPLETE for every snapshot, training and scoring run.
SELECT e->>'eventType' AS type, e #>> '{job,name}' AS job, jsonb_array_length(e->'inputs') AS inputs,
       jsonb_array_length(e->'outputs') AS outputs
FROM ml.openlineage_events() e WHERE e #>> '{job,name}' LIKE '%loans%';
-- The structure the specification requires of a RunEvent.
SELECT count(*) = 2 * ((SELECT count(*) FROM ml.snapshots) + (SELECT count(*) FROM ml.models)
                      + (SELECT count(*) FROM ml.scoring_runs)) AS two_events_per_run,
       bool_and(e ?& ARRAY['eventType', 'eventTime', 'run', 'job', 'inputs', 'outputs', 'producer', 'schemaURL']) AS top_level,
       bool_and((e #>> '{run,runId}')::uuid IS NOT NULL) AS run_ids_are_uuids,
       bool_and(e->'job' ?& ARRAY['namespace', 'name']) AS jobs,
       bool_and((e->>'eventTime') ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$') AS iso_times,
       bool_and(NOT EXISTS (SELECT 1 FROM jsonb_array_elements(e->'inputs' || e->'outputs') d
                            WHERE NOT d ?& ARRAY['namespace', 'name'])) AS datasets,
       bool_and(NOT EXISTS (SELECT 1 FROM jsonb_array_elements(e->'outputs') d, jsonb_each(d->'facets') f
                            WHERE NOT f.value ?& ARRAY['_producer', '_schemaURL'])) AS facets
FROM ml.openlineage_events() e;
-- Each run starts before it completes, with the same run id; the snapshot's hash is its version.
SELECT count(*) = (SELECT count(*) FROM ml.openlineage_events()) / 2 AS every_run_paired, bool_and(s.e->>'eventType' = 'START' AND c.e->>'eventType' = 'COMPLETE'
                                  AND (s.e->>'eventTime') <= (c.e->>'eventTime')) AS ordered
FROM (SELECT e, e #>> '{run,runId}' AS id FROM ml.openlineage_events() e WHERE e->>'eventType' = 'START') s
JOIN (SELECT e, e #>> '{run,runId}' AS id FROM ml.openlineage_events() e WHERE e->>'eventType' = 'COMPLETE') c USING (id);
SELECT e #>> '{outputs,0,facets,version,datasetVersion}' = (SELECT content_hash FROM ml.snapshots WHERE name = 'loans_v1') AS version_is_hash
FROM ml.openlineage_events() e WHERE e #>> '{job,name}' = 'snapshot.loans_v1' AND e->>'eventType' = 'COMPLETE';
SELECT count(*) AS since_future FROM ml.openlineage_events(now() + interval '1 day');

-- Dropping and deleting refuse while something depends on it, and leave tombstones.
SELECT regress.err($$SELECT ml.drop_snapshot('loans_v1')$$);
SELECT regress.err($$SELECT ml.delete_model('loans@1')$$);
SELECT name, version, stage, deleted_by = current_user AS by_me FROM ml.delete_model('loans@2');
SELECT version, stage, deleted, model_bytes FROM ml.registry WHERE name = 'loans' ORDER BY version;
SELECT regexp_replace(regress.err($$SELECT ml.predict('loans@2', ARRAY[1, 2]::float8[])$$), ' at [^;]*;', ' at (time);');
SELECT round(ml.predict('loans', ARRAY[1, 2]::float8[])::numeric, 6) IS NOT NULL AS production_still_scores;
SELECT name, dropped_by = current_user AS by_me FROM ml.drop_snapshot('loans_v1', "cascade" => true);
SELECT version, stage, deleted FROM ml.registry WHERE name = 'loans' ORDER BY version;
SELECT to_regclass(:'loans_rel') IS NULL AS relation_dropped;
SELECT source_kind, source_name, relation, target_kind FROM ml.lineage WHERE relation IN ('dropped', 'deleted') ORDER BY source_name;
SELECT action, coalesce(details->>'model', details->>'name') AS subject FROM ml.model_events
WHERE action IN ('delete', 'drop_snapshot') ORDER BY id;
SELECT regexp_replace(regress.err($$SELECT * FROM ml.verify_snapshot('loans_v1')$$), ' at [^;]*;', ' at (time);');
SELECT regress.err($$SELECT ml.drop_snapshot('loans_v1')$$);
SELECT regress.err($$SELECT ml.drop_snapshot('no_such_snapshot')$$);
