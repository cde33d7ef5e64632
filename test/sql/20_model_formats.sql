-- Every model format pg_mlops has written stays decodable.  Format 2 is the
-- only one so far (0.1.0 and 0.2.0 write it): bytes that 0.1.0's own build
-- wrote for each of the 12 algorithms, with the predictions 0.1.0 made, are
-- stored in test/data/model_format_2.sql (made by test/t/008_upgrade.pl).
SET ml.progress = off;
\i test/data/model_format_2.sql
-- The rows the models were trained and scored on (the generator of 008_upgrade.pl).
CREATE TABLE fmt_homes AS
SELECT i AS id, (50 + i % 150)::float8 AS area, (i % 5) AS rooms,
       (ARRAY['north', 'south', 'east'])[1 + i % 3] AS district,
       date '2020-01-01' + (i * 7) % 1000 AS listed_on,
       1000 + 12 * (50 + i % 150) + 40 * (i % 5) + 30 * sin(i) + CASE i % 3 WHEN 0 THEN 25 ELSE 0 END AS price,
       1000 + 12 * (50 + i % 150) + 40 * (i % 5) + 30 * sin(i) > 2400 AS expensive,
       CASE WHEN 12 * (50 + i % 150) + 40 * (i % 5) + 30 * sin(i * 3) < 1300 THEN 'low'
            WHEN 12 * (50 + i % 150) + 40 * (i % 5) + 30 * sin(i * 3) < 1900 THEN 'mid' ELSE 'high' END AS band
FROM generate_series(1, 40) i;
SELECT name FROM ml.snapshot('fmt_homes', name => 'fmt_homes');
-- The stored bytes registered as a restore would bring them back.
INSERT INTO ml.models (id, name, version, task, algorithm, snapshot_id, target, features, hyperparams, seed, metrics,
                       summary, model, model_hash, model_digest, workers, train_seconds, extension_version)
SELECT i, 'fmt_' || name, 1, task, algorithm, (SELECT id FROM ml.snapshots WHERE name = 'fmt_homes'), target,
       features, hyperparams, seed, '{}', '{}', b, model_hash, encode(sha256(int8send(i) || b), 'hex'), 0, 0, '0.1.0'
FROM (SELECT s.*, decode(s.model_hex, 'hex') AS b, nextval('ml.models_id_seq') AS i FROM stored_models s) s;
SELECT s.name, s.algorithm, substr(s.model_hex, 1, 8) = encode('PGML', 'hex') AS magic,
       get_byte(m.model, 4) + 256 * get_byte(m.model, 5) AS format, m.model_hash = encode(sha256(m.model), 'hex') AS intact
FROM stored_models s JOIN ml.models m ON m.name = 'fmt_' || s.name ORDER BY 1;
-- This build decodes them and predicts what 0.1.0 predicted, to the bit.
SELECT p.name, count(*) AS rows_compared,
       count(*) FILTER (WHERE p.value IS DISTINCT FROM
           CASE WHEN p.name IN ('u_logit', 'u_softmax', 'u_bayes', 'u_tree') THEN ml.predict_proba('fmt_' || p.name, h)::text
                WHEN p.name = 'u_pca' THEN ml.transform('fmt_' || p.name, h)::text
                ELSE ml.predict('fmt_' || p.name, h)::text END) AS differ
FROM stored_predictions p JOIN fmt_homes h USING (id) GROUP BY p.name ORDER BY 1;
DELETE FROM ml.models WHERE name LIKE 'fmt\_%';
SELECT (ml.drop_snapshot('fmt_homes')).name AS dropped;
DROP TABLE fmt_homes;
