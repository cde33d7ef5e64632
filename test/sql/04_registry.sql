-- Registry: versions, stages, references, audit log and lineage.
SET ml.progress = off;
CREATE TABLE sales AS SELECT i, (i % 13)::float8 AS ads, (i % 5)::float8 AS discount,
                             10 + 3 * (i % 13) - (i % 5) + cos(i) AS revenue
FROM generate_series(1, 300) i;
SELECT version FROM ml.train_model('sales', 'sales', 'revenue', features => '{ads}');
SELECT version FROM ml.train_model('sales', 'sales', 'revenue', features => '{ads,discount}');
SELECT version FROM ml.train_model('sales', 'sales', 'revenue', 'ridge', '{"alpha": 10}');
SELECT version, stage, features FROM ml.registry WHERE name = 'sales' ORDER BY version;

-- Without a production version, 'sales' means the latest.
SELECT ml._resolve_model('sales') = (SELECT id FROM ml.models WHERE name = 'sales' AND version = 3) AS latest;

SELECT name, version, stage FROM ml.promote('sales', 1);
SELECT ml._resolve_model('sales') = (SELECT id FROM ml.models WHERE name = 'sales' AND version = 1) AS production;
SELECT name, version, stage FROM ml.promote('sales', 2);
SELECT name, version, stage FROM ml.promote('sales', 3, 'staging');
SELECT version, stage FROM ml.registry WHERE name = 'sales' ORDER BY version;
SELECT ml._resolve_model('sales@staging') = (SELECT id FROM ml.models WHERE name = 'sales' AND version = 3) AS staging;
SELECT ml._resolve_model('sales@1') = (SELECT id FROM ml.models WHERE name = 'sales' AND version = 1) AS by_version;
SELECT ml._resolve_model((SELECT id FROM ml.models WHERE name = 'sales' AND version = 2)) IS NOT NULL AS by_id;

-- Rollback: production goes back to the version that held it before.
SELECT name, version, stage FROM ml.rollback('sales');
SELECT version, stage FROM ml.registry WHERE name = 'sales' ORDER BY version;
SELECT regress.err($$SELECT ml.rollback('sales')$$);
SELECT name, version, stage FROM ml.promote('sales', 3);
SELECT name, version, stage FROM ml.rollback('sales');
SELECT name, version, stage FROM ml.archive('sales', 1);
SELECT version, stage FROM ml.registry WHERE name = 'sales' ORDER BY version;
SELECT regress.err($$SELECT ml.rollback('sales')$$);

-- At most one production version, whatever happens.
SELECT count(*) FROM ml.models WHERE name = 'sales' AND stage = 'production';
SELECT regress.err($$UPDATE ml.models SET stage = 'production' WHERE name = 'sales'$$);

-- The audit log records every action with its actor and is append-only.
SELECT action, details->>'model' AS model, details->>'stage' AS stage, actor = current_user AS by_me
FROM ml.model_events e WHERE e.model_id IN (SELECT id FROM ml.models WHERE name = 'sales') ORDER BY e.id;
SELECT regress.err($$DELETE FROM ml.model_events$$);
SELECT regress.err($$UPDATE ml.model_events SET actor = 'someone else'$$);

-- Lineage: table -> snapshot -> model versions -> stages.
SELECT l.source_kind, regexp_replace(l.source_name, '\d+$', 'N') AS source_name, l.target_kind, regexp_replace(l.target_name, '\d+$', 'N') AS target_name, l.relation
FROM ml.lineage l
WHERE l.source_name = 'public.sales'
   OR l.target_name LIKE 'sales@%'
   OR l.source_name IN (SELECT s.name FROM ml.snapshots s JOIN ml.models m ON m.snapshot_id = s.id WHERE m.name = 'sales')
ORDER BY l.at, l.relation, l.target_name;
-- Each training of a table took its own snapshot; all three read public.sales.
SELECT count(DISTINCT s.id) AS snapshots, count(DISTINCT s.content_hash) AS hashes
FROM ml.models m JOIN ml.snapshots s ON s.id = m.snapshot_id WHERE m.name = 'sales';

-- Bad references.
SELECT regress.err($$SELECT ml.promote('sales', 9)$$);
SELECT regress.err($$SELECT ml.promote('nosuch', 1)$$);
SELECT regress.err($$SELECT ml.promote('sales', 2, 'testing')$$);
SELECT regress.err($$SELECT ml._resolve_model('sales@0')$$);
SELECT regress.err($$SELECT ml._resolve_model('sales@nightly')$$);
SELECT regress.err($$SELECT ml._resolve_model('sales@staging')$$);
SELECT regress.err($$SELECT ml._resolve_model('')$$);
SELECT regress.err($$SELECT ml._resolve_model(-5::bigint)$$);
SELECT regress.err($$SELECT ml.archive('sales', NULL)$$);
