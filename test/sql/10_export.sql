-- Model export (JSON, C, PMML) and import.
SET ml.progress = off;
CREATE TABLE sensors AS
SELECT i AS id, (i % 37 - 18)::float8 AS temp, sin(i) * 1e-6 AS drift, ((i * 7) % 11)::float8 / 3 AS load,
       2.5 * (i % 37 - 18) - 4e5 * sin(i) * 1e-6 + 0.3 * ((i * 7) % 11) / 3 + cos(i) / 10 AS output
FROM generate_series(1, 3000) i;
SELECT name FROM ml.snapshot('sensors', name => 'sensors_v1');
SELECT version FROM ml.train_model('sensor', 'snapshot:sensors_v1', 'output', features => '{temp,drift,load}');
SELECT version FROM ml.train_model('sensor', 'snapshot:sensors_v1', 'output', 'ridge', '{"alpha": 2}', '{temp,drift,load}');
CREATE TABLE docs AS
SELECT r AS ref, ml.export_model(r) AS txt, ml.export_model(r)::jsonb AS doc FROM unnest('{sensor@1,sensor@2}'::text[]) r;

-- The JSON document: every field, keys in a fixed order.
SELECT jsonb_object_keys(doc) AS key FROM docs WHERE ref = 'sensor@1' ORDER BY 1;
SELECT split_part(txt, E'\n', 2) AS first_key, split_part(txt, E'\n', 3) AS second_key FROM docs WHERE ref = 'sensor@1';
SELECT ref, doc->>'format' AS format, doc->'format_version' AS format_version, doc->>'name' AS name, doc->'version' AS version,
       doc->>'task' AS task, doc->>'algorithm' AS algorithm, doc->>'target' AS target, doc->'features' AS features,
       doc->'hyperparameters'->'alpha' AS alpha, doc->'seed' AS seed
FROM docs ORDER BY ref;
SELECT d.ref, d.doc->>'model_hash' = m.model_hash AS model_hash,
       decode(d.doc->>'model_base64', 'base64') = m.model AS model_bytes,
       position(E'\n' IN d.doc->>'model_base64') = 0 AS base64_one_line,
       d.doc->'metrics' = m.metrics AS metrics, d.doc->'summary' = m.summary AS summary,
       d.doc #>> '{snapshot,name}' AS snapshot, d.doc #>> '{snapshot,content_hash}' = s.content_hash AS content_hash,
       d.doc #> '{snapshot,rows}' AS rows, d.doc->>'trained_by' = m.trained_by AS trained_by,
       (d.doc->>'trained_at')::timestamptz = m.trained_at AS trained_at,
       d.doc->>'extension_version' = (SELECT extversion FROM pg_extension WHERE extname = 'pg_mlops') AS extension_version,
       (d.doc->>'exported_at')::timestamptz <= now() AS exported_at
FROM docs d JOIN ml.models m ON m.name || '@' || m.version = d.ref JOIN ml.snapshots s ON s.id = m.snapshot_id
ORDER BY d.ref;

-- Coefficients round-trip exactly: the JSON numbers of arrays.coef read back
-- to the same float8 bits as ml.explain's, intercept first, in feature order.
SELECT d.ref, count(*) AS coefficients,
       count(*) FILTER (WHERE float8send(e.coefficient) = float8send((d.doc #>> ARRAY['arrays', 'coef', 'data', (e.o - 1)::text])::float8)) AS identical
FROM docs d, ml.explain(d.ref) WITH ORDINALITY e(feature, coefficient, std_error, t_stat, p_value, source_column, class, gain, cover, splits, o)
GROUP BY d.ref ORDER BY d.ref;
-- Also when the caller prints fewer digits.
SET extra_float_digits = -3;
SELECT count(*) FILTER (WHERE float8send(e.coefficient) = float8send((doc #>> ARRAY['arrays', 'coef', 'data', (e.o - 1)::text])::float8)) AS identical
FROM (SELECT ml.export_model('sensor@1')::jsonb AS doc) x,
     ml.explain('sensor@1') WITH ORDINALITY e(feature, coefficient, std_error, t_stat, p_value, source_column, class, gain, cover, splits, o) WHERE e.o > 1;
RESET extra_float_digits;
-- References resolve as everywhere: 'sensor' is the latest version, until one is promoted.
SELECT ml.export_model('sensor')::jsonb->'version' AS latest;
SELECT stage FROM ml.promote('sensor', 1);
SELECT ml.export_model('sensor')::jsonb->'version' AS production;

-- Hexadecimal literals for the C export are exact, subnormals and signed zero included.
SELECT x, ml._float8_hex(x) AS hex, float8send(ml._float8_hex(x)::float8) = float8send(x) AS exact
FROM unnest(ARRAY['0', '-0', '1', '-2.5', '0.1', '5e-324', '-2.2250738585072014e-308', '2.225073858507201e-308',
                  '1.7976931348623157e308', '-1e-300']::float8[]) x;
SELECT ml._float8_hex('NaN') IS NULL AS nan, ml._float8_hex('-Infinity') IS NULL AS infinity;
SELECT ml._c_ident(n) FROM unnest('{house_price,house.price-v2,2fast,_x}'::text[]) n;

-- The C export: the model bytes, exactly, and an opener for pg_mlops_scorer.h
-- (test/reference/check_export.py compiles and runs it for every kind).
SELECT position('int sensor_open(pgml_scorer *s)' IN c) > 0 AS open_function,
       position('#define SENSOR_N_INPUTS 3' IN c) > 0 AS n_inputs,
       position('#include "pg_mlops_scorer.h"' IN c) > 0 AS includes_scorer,
       position('row[1]  drift: number (.number); NULL: ' IN c) > 0 AS input_order,
       position((SELECT model_hash FROM ml.models WHERE name = 'sensor' AND version = 1) IN c) > 0 AS hash,
       decode((SELECT string_agg(h[1], '' ORDER BY o) FROM regexp_matches(c, '0x([0-9a-f]{2}),', 'g') WITH ORDINALITY r(h, o)), 'hex')
           = (SELECT model FROM ml.models WHERE name = 'sensor' AND version = 1) AS same_bytes
FROM ml.export_model('sensor@1', 'c') c;
SELECT length(ml.scorer_header()) > 100000 AS scorer_header,
       position('#define PGML_SCORER_VERSION "' || (SELECT extversion FROM pg_extension WHERE extname = 'pg_mlops') || '"' IN ml.scorer_header()) > 0 AS version;

-- PMML: well-formed, one NumericPredictor per feature, exact decimal values.
CREATE TABLE pmml AS SELECT ml.export_model('sensor@1', 'pmml') AS txt;
SELECT xml_is_well_formed_document(txt) AS well_formed FROM pmml;
SELECT (xpath('count(/p:PMML/p:RegressionModel/p:RegressionTable/p:NumericPredictor)', x, ns))[1]::text AS predictors,
       (xpath('count(/p:PMML/p:DataDictionary/p:DataField)', x, ns))[1]::text AS fields,
       (xpath('/p:PMML/@version', x, ns))[1]::text AS version,
       (xpath('/p:PMML/p:RegressionModel/@functionName', x, ns))[1]::text AS function_name,
       (xpath('/p:PMML/p:RegressionModel/p:MiningSchema/p:MiningField[@usageType="target"]/@name', x, ns))[1]::text AS target,
       array_to_string(xpath('/p:PMML/p:RegressionModel/p:RegressionTable/p:NumericPredictor/@name', x, ns)::text[], ',') AS predictor_names,
       float8send((xpath('/p:PMML/p:RegressionModel/p:RegressionTable/@intercept', x, ns))[1]::text::float8)
           = float8send((SELECT coefficient FROM ml.explain('sensor@1') WHERE feature = 'intercept')) AS intercept_exact
FROM pmml, LATERAL (SELECT txt::xml AS x, ARRAY[ARRAY['p', 'http://www.dmg.org/PMML-4_4']] AS ns) a;

-- Names that need escaping in XML, C and JSON.
CREATE TABLE odd AS SELECT i::float8 AS "a<b&""c'd", (i % 7)::float8 AS "*/ x", 2 * i + (i % 7) + 1 AS "y>"
FROM generate_series(1, 200) i;
SELECT version FROM ml.train_model('odd.model-1', 'odd', 'y>');
SELECT xml_is_well_formed_document(ml.export_model('odd.model-1', 'pmml')) AS well_formed,
       array_to_string(xpath('//p:NumericPredictor/@name', ml.export_model('odd.model-1', 'pmml')::xml,
                             ARRAY[ARRAY['p', 'http://www.dmg.org/PMML-4_4']])::text[], ' | ') AS names;
SELECT position('int odd_model_1_open(pgml_scorer *s)' IN c) > 0 AS sanitized,
       position('row[0]  a<b&"c''d: ' IN c) > 0 AS column_named,
       position('*\/ x' IN c) > 0 AS comment_safe
FROM ml.export_model('odd.model-1', 'c') c;

-- The model document: the codec's view of the bytes (what export reads).
SELECT d->'format' AS format, d->>'algorithm' AS algorithm, d->>'task' AS task, d->'features' AS features,
       jsonb_array_length(d->'inputs') AS inputs, d->'inputs'->0->>'kind' AS kind, d->'inputs'->0->'width' AS width,
       (d->'inputs'->0->>'impute')::float8 = (SELECT (profile #>> '{temp,train_mean}')::float8 FROM ml.snapshots WHERE name = 'sensors_v1') AS impute_is_mean,
       d #> '{arrays,coef,rows}' AS rows, d #> '{arrays,coef,cols}' AS cols,
       (SELECT count(*) FROM ml.explain('sensor@2') WITH ORDINALITY e(feature, coefficient, std_error, t_stat, p_value, source_column, class, gain, cover, splits, o)
        WHERE float8send(e.coefficient) = float8send((d #>> ARRAY['arrays', 'coef', 'data', (e.o - 1)::text])::float8)) AS exact
FROM ml.models m, ml._model_document(m.model) d WHERE m.name = 'sensor' AND m.version = 2;
SELECT regress.err($$SELECT ml._model_document('\x50474d4c0200')$$);

-- lasso and elastic_net export too, booleans as 0 and 1, NULLs imputed as
-- in ml.predict; so do categories, time columns and other algorithms.
CREATE TABLE exp_mixed AS
SELECT i AS id, (i % 13)::float8 AS a, (i % 3 = 0) AS flag,
       CASE WHEN i % 17 = 0 THEN NULL ELSE (i % 5)::float8 END AS b,
       CASE i % 3 WHEN 0 THEN 'x' WHEN 1 THEN 'y' ELSE 'z' END AS city, now()::date - (i % 30) AS day,
       3 * (i % 13) - 2 * (i % 3 = 0)::int + coalesce(i % 5, 0) + sin(i) AS y
FROM generate_series(1, 600) i;
SELECT name FROM ml.snapshot('exp_mixed', name => 'exp_mixed_v1');
SELECT version FROM ml.train_model('exp_mixed_lasso', 'snapshot:exp_mixed_v1', 'y', 'lasso', '{"alpha": 0.01}', '{a,flag,b}');
SELECT version FROM ml.train_model('exp_mixed_enet', 'snapshot:exp_mixed_v1', 'y', 'elastic_net', '{"alpha": 0.01, "l1_ratio": 0.5}', '{a,flag,b}');
SELECT version FROM ml.train_model('exp_mixed_city', 'snapshot:exp_mixed_v1', 'y', 'ridge', '{}', '{a,city}');
SELECT version FROM ml.train_model('exp_mixed_day', 'snapshot:exp_mixed_v1', 'y', 'linear_regression', '{}', '{a,day}');
SELECT version FROM ml.train_model('exp_mixed_km', 'snapshot:exp_mixed_v1', NULL, 'kmeans', '{"k": 2}', '{a,b}');
SELECT version FROM ml.train_model('exp_mixed_pca', 'snapshot:exp_mixed_v1', NULL, 'pca', '{}', '{a,b}');
SELECT version FROM ml.train_model('exp_mixed_nb', 'snapshot:exp_mixed_v1', 'city', 'naive_bayes', '{}', '{a,day}');
CREATE TABLE exp_mixed_docs AS SELECT r AS ref, ml.export_model(r)::jsonb AS doc FROM unnest('{exp_mixed_lasso,exp_mixed_enet}'::text[]) r;
SELECT ref, doc->>'algorithm' AS algorithm, doc->'features' AS features,
       array(SELECT i->>'kind' FROM jsonb_array_elements(doc->'inputs') i) AS kinds,
       doc #> '{arrays,coef,cols}' AS coefficients
FROM exp_mixed_docs ORDER BY ref;
SELECT name, version, algorithm FROM ml.import_model('exp_mixed_lasso_copy', (SELECT doc FROM exp_mixed_docs WHERE ref = 'exp_mixed_lasso'));
SELECT name, version, algorithm FROM ml.import_model('exp_mixed_enet_copy', (SELECT doc FROM exp_mixed_docs WHERE ref = 'exp_mixed_enet'));
SELECT count(*) AS rows, count(*) FILTER (WHERE x.b IS NULL) AS null_b,
       count(*) FILTER (WHERE float8send(ml.predict('exp_mixed_lasso', x)) = float8send(ml.predict('exp_mixed_lasso_copy', x))) AS identical_lasso,
       count(*) FILTER (WHERE float8send(ml.predict('exp_mixed_enet', x)) = float8send(ml.predict('exp_mixed_enet_copy', x))) AS identical_enet
FROM exp_mixed x;
-- The C export's comment names the imputed values; PMML has them as missingValueReplacement.
SELECT position(format('row[2]  b: number (.number); NULL: %s', (SELECT doc->'inputs'->2->>'impute' FROM exp_mixed_docs WHERE ref = 'exp_mixed_lasso')) IN c) > 0 AS impute_named,
       position('row[1]  flag: boolean (.number = 0 or 1)' IN c) > 0 AS boolean
FROM ml.export_model('exp_mixed_lasso', 'c') c;
SELECT (xpath('//p:MiningField[@name="b"]/@missingValueReplacement', x, ns))[1]::text::float8
           = (SELECT (doc->'inputs'->2->>'impute')::float8 FROM exp_mixed_docs WHERE ref = 'exp_mixed_lasso') AS pmml_impute,
       (xpath('count(//p:NumericPredictor)', x, ns))[1]::text AS predictors
FROM (SELECT ml.export_model('exp_mixed_lasso', 'pmml')::xml AS x, ARRAY[ARRAY['p', 'http://www.dmg.org/PMML-4_4']] AS ns) a;
-- A text column: one-hot in C's comment, NormDiscrete fields in PMML; a date
-- column is PMML's dateTimeSecondsSince[1970]; k-means a ClusteringModel.
SELECT position('row[1]  city: text (.text), one-hot over 3 values' IN ml.export_model('exp_mixed_city', 'c')) > 0 AS c_city,
       (xpath('count(//p:DerivedField/p:NormDiscrete[@field="city"])', x, ns))[1]::text AS norm_discrete,
       array_to_string(xpath('//p:NumericPredictor/@name', x, ns)::text[], ',') AS predictors
FROM (SELECT ml.export_model('exp_mixed_city', 'pmml')::xml AS x, ARRAY[ARRAY['p', 'http://www.dmg.org/PMML-4_4']] AS ns) a;
SELECT position('row[1]  day: date or timestamp (.number = pgml_date_seconds or pgml_timestamp_seconds)' IN ml.export_model('exp_mixed_day', 'c')) > 0 AS c_day,
       (xpath('//p:DataField[@name="day"]/@dataType', ml.export_model('exp_mixed_day', 'pmml')::xml,
              ARRAY[ARRAY['p', 'http://www.dmg.org/PMML-4_4']]))[1]::text AS pmml_day;
SELECT (xpath('count(//p:ClusteringModel/p:Cluster)', x, ns))[1]::text AS clusters,
       (xpath('//p:ClusteringModel/@numberOfClusters', x, ns))[1]::text AS number_of_clusters
FROM (SELECT ml.export_model('exp_mixed_km', 'pmml')::xml AS x, ARRAY[ARRAY['p', 'http://www.dmg.org/PMML-4_4']] AS ns) a;
-- Every kind exports as C and JSON and re-imports; PMML only what PMML describes.
SELECT name, (ml.export_model(name, 'c') LIKE '%int ' || name || '_open(pgml_scorer *s)%') AS c,
       (ml.import_model(name || '_copy', ml.export_model(name)::jsonb)).model = m.model AS json_round_trip
FROM ml.models m WHERE name IN ('exp_mixed_city', 'exp_mixed_day', 'exp_mixed_km', 'exp_mixed_pca', 'exp_mixed_nb') ORDER BY name;
SELECT regress.err($$SELECT ml.export_model('exp_mixed_pca', 'pmml')$$);
-- Naive Bayes: a NaiveBayesModel, one Gaussian per input and class, the
-- class probabilities as output fields.
SELECT xml_is_well_formed_document(x::text) AS well_formed,
       (xpath('count(//p:NaiveBayesModel/p:BayesInputs/p:BayesInput)', x, ns))[1]::text AS bayes_inputs,
       (xpath('count(//p:GaussianDistribution)', x, ns))[1]::text AS gaussians,
       (xpath('count(//p:BayesOutput/p:TargetValueCounts/p:TargetValueCount)', x, ns))[1]::text AS classes,
       array_to_string(xpath('//p:Output/p:OutputField/@name', x, ns)::text[], ',') AS outputs
FROM (SELECT ml.export_model('exp_mixed_nb', 'pmml')::xml AS x, ARRAY[ARRAY['p', 'http://www.dmg.org/PMML-4_4']] AS ns) a;
-- Trees: a TreeModel whose splits are "< threshold" / ">= threshold" with
-- the learned default direction for NULLs; boosting a MiningModel (sum of a
-- base-score tree and the trees, then the logistic link).
SELECT version FROM ml.train_model('exp_mixed_tree', 'snapshot:exp_mixed_v1', 'y', 'decision_tree', '{"max_depth": 2}', '{a,flag,b,city}');
SELECT version FROM ml.train_model('exp_mixed_gbm', 'snapshot:exp_mixed_v1', 'flag', 'gradient_boosting', '{"n_trees": 3, "max_depth": 2}', '{a,b}');
SELECT xml_is_well_formed_document(x::text) AS well_formed,
       (xpath('count(//p:TreeModel/p:MiningSchema/p:MiningField[@missingValueTreatment])', x, ns))[1]::text AS null_treatments,
       (xpath('count(//p:Node[p:SimplePredicate/@operator="lessThan"])', x, ns))[1]::text AS left_children,
       (xpath('count(//p:Node[p:SimplePredicate/@operator="greaterOrEqual"])', x, ns))[1]::text AS right_children,
       (xpath('count(//p:Node[@defaultChild])', x, ns))[1]::text AS with_default,
       (xpath('count(//p:Node[not(p:Node)])', x, ns))[1]::text AS leaves,
       (SELECT count(*) FROM ml.models m, ml._model_document(m.model) d, jsonb_array_elements_text(d #> '{arrays,node_feature,data}') f
        WHERE m.name = 'exp_mixed_tree' AND f::float8 >= 0) AS model_splits
FROM (SELECT ml.export_model('exp_mixed_tree', 'pmml')::xml AS x, ARRAY[ARRAY['p', 'http://www.dmg.org/PMML-4_4']] AS ns) a;
SELECT (xpath('/p:PMML/p:MiningModel/p:Segmentation/@multipleModelMethod', x, ns))[1]::text AS chain,
       (xpath('count(//p:Segmentation[@multipleModelMethod="sum"]/p:Segment)', x, ns))[1]::text AS summed,
       (xpath('//p:Segment[@id="base_score"]//p:Node/@score', x, ns))[1]::text::float8
           = (SELECT (d #>> '{arrays,base_score,data,0}')::float8 FROM ml.models m, ml._model_document(m.model) d WHERE m.name = 'exp_mixed_gbm') AS base_score,
       (xpath('//p:RegressionModel/@normalizationMethod', x, ns))[1]::text AS link,
       array_to_string(xpath('/p:PMML/p:MiningModel/p:Output/p:OutputField/@name', x, ns)::text[], ',') AS outputs
FROM (SELECT ml.export_model('exp_mixed_gbm', 'pmml')::xml AS x, ARRAY[ARRAY['p', 'http://www.dmg.org/PMML-4_4']] AS ns) a;
-- Bytes of another model under a valid document: refused.
SELECT regress.err($$SELECT ml.import_model('x', (SELECT jsonb_set(jsonb_set(doc, '{model_base64}', to_jsonb(encode(m.model, 'base64'))),
                                                                  '{model_hash}', to_jsonb(m.model_hash))
                                                  FROM exp_mixed_docs, ml.models m WHERE ref = 'exp_mixed_lasso' AND m.name = 'exp_mixed_city'))$$);

-- Import: a new name gets version 1 on the local snapshot of the same content;
-- its predictions are the original's, bit for bit, on every row.
SELECT name, version, algorithm, features, stage, model_hash = (SELECT model_hash FROM ml.models WHERE name = 'sensor' AND version = 1) AS same_hash
FROM ml.import_model('sensor_copy', (SELECT doc FROM docs WHERE ref = 'sensor@1'));
SELECT name, version, algorithm, hyperparams->'alpha' AS alpha FROM ml.import_model('sensor_copy', (SELECT doc FROM docs WHERE ref = 'sensor@2'));
SELECT reference, snapshot, workers FROM ml.registry WHERE name = 'sensor_copy' ORDER BY version;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE float8send(ml.predict('sensor@1', s)) = float8send(ml.predict('sensor_copy@1', s))) AS identical_v1,
       count(*) FILTER (WHERE float8send(ml.predict('sensor@2', s)) = float8send(ml.predict('sensor_copy@2', s))) AS identical_v2
FROM sensors s;
SELECT count(*) FILTER (WHERE (a.feature, float8send(a.coefficient), a.std_error) IS NOT DISTINCT FROM (b.feature, float8send(b.coefficient), b.std_error)) AS same_explain
FROM ml.explain('sensor@1') WITH ORDINALITY a JOIN ml.explain('sensor_copy@1') WITH ORDINALITY b ON a.ordinality = b.ordinality;
SELECT e.action, e.details->>'model' AS model, e.details->>'source_model' AS source_model, e.details->>'snapshot' AS snapshot,
       e.details->>'model_hash' = src.model_hash AND e.details->>'model_hash' = m.model_hash AS model_hash,
       e.details ? 'exported_at' AND e.details ? 'trained_by' AS provenance
FROM ml.model_events e JOIN ml.models m ON m.id = e.model_id
JOIN ml.models src ON src.name || '@' || src.version = e.details->>'source_model'
WHERE e.action = 'import' AND e.details->>'model' LIKE 'sensor\_copy@%' ORDER BY e.id;
SELECT source_name, relation, target_name FROM ml.lineage WHERE target_name LIKE 'sensor\_copy@%' ORDER BY target_name;
-- The import of an import exports the same coefficients and bytes.
SELECT (ml.export_model('sensor_copy@1')::jsonb - '{name,version,trained_at,exported_at}'::text[])
     = ((SELECT doc FROM docs WHERE ref = 'sensor@1') - '{name,version,trained_at,exported_at}'::text[]) AS same_document;

-- Bad documents and arguments (hashes and coefficients, which depend on the
-- machine's floating point, are masked).
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(regexp_replace(regexp_replace(regress.err(q), '[0-9a-f]{64}', '<sha256>', 'g'),
                                         '[0-9a-f]{32}-', '<hash>-', 'g'),
                          '-?[0-9]+\.[0-9]+(e[-+]?[0-9]+)?', '<number>', 'g')
$$;
CREATE TABLE tampered AS
SELECT doc, b, set_byte(b, octet_length(b) - 8, get_byte(b, octet_length(b) - 8) # 1) AS flipped
FROM (SELECT doc, decode(doc->>'model_base64', 'base64') AS b FROM docs WHERE ref = 'sensor@1') x;
SELECT pg_temp.err($$SELECT ml.import_model('x', jsonb_set((SELECT doc FROM docs WHERE ref = 'sensor@1'), '{format}', '"onnx"'))$$);
SELECT pg_temp.err($$SELECT ml.import_model('x', '[1, 2]')$$);
SELECT pg_temp.err($$SELECT ml.import_model('x', jsonb_set((SELECT doc FROM docs WHERE ref = 'sensor@1'), '{format_version}', '1'))$$);
SELECT pg_temp.err($$SELECT ml.import_model('x', jsonb_set((SELECT doc FROM docs WHERE ref = 'sensor@1'), '{format_version}', '3'))$$);
SELECT pg_temp.err($$SELECT ml.import_model('x', (SELECT doc FROM docs WHERE ref = 'sensor@1') - 'model_hash')$$);
SELECT pg_temp.err($$SELECT ml.import_model('x', jsonb_set((SELECT doc FROM docs WHERE ref = 'sensor@1'), '{seed}', '"42"'))$$);
SELECT pg_temp.err($$SELECT ml.import_model('x', jsonb_set((SELECT doc FROM docs WHERE ref = 'sensor@1'), '{algorithm}', '"random_forest"'))$$);
SELECT pg_temp.err($$SELECT ml.import_model('x', jsonb_set((SELECT doc FROM docs WHERE ref = 'sensor@1'), '{features}', '["temp", "temp", "load"]'))$$);
SELECT pg_temp.err($$SELECT ml.import_model('x', jsonb_set((SELECT doc FROM docs WHERE ref = 'sensor@1'), '{features}', '["temp", "load", "drift"]'))$$);
SELECT pg_temp.err($$SELECT ml.import_model('x', jsonb_set((SELECT doc FROM docs WHERE ref = 'sensor@1'), '{model_base64}', '"not base64!"'))$$);
-- One bit of the last coefficient changed: the hash no longer matches.
SELECT pg_temp.err($$SELECT ml.import_model('x', (SELECT jsonb_set(doc, '{model_base64}', to_jsonb(encode(flipped, 'base64'))) FROM tampered))$$);
-- ... with the hash recomputed: the codec's CRC-32C finds it.
SELECT pg_temp.err($$SELECT ml.import_model('x', (SELECT jsonb_set(jsonb_set(doc, '{model_base64}', to_jsonb(encode(flipped, 'base64'))),
                                                                    '{model_hash}', to_jsonb(encode(sha256(flipped), 'hex'))) FROM tampered))$$);
-- ... and the coefficients edited to match: still the CRC.
SELECT pg_temp.err($$SELECT ml.import_model('x', (SELECT jsonb_set(jsonb_set(jsonb_set(jsonb_set(doc,
        '{model_base64}', to_jsonb(encode(flipped, 'base64'))), '{model_hash}', to_jsonb(encode(sha256(flipped), 'hex'))),
        '{arrays,coef,data,3}', to_jsonb(ml._float8_le(flipped, octet_length(flipped) - 8))),
        '{summary,coefficients,3,coefficient}', to_jsonb(ml._float8_le(flipped, octet_length(flipped) - 8))) FROM tampered))$$);
-- Valid bytes of another model: the document's fields must describe them.
SELECT pg_temp.err($$SELECT ml.import_model('x', (SELECT jsonb_set(jsonb_set(a.doc, '{model_base64}', b.doc->'model_base64'), '{model_hash}', b.doc->'model_hash')
                                                  FROM docs a, docs b WHERE a.ref = 'sensor@1' AND b.ref = 'sensor@2'))$$);
SELECT pg_temp.err($$SELECT ml.import_model('x', (SELECT jsonb_set(jsonb_set(jsonb_set(a.doc, '{model_base64}', b.doc->'model_base64'), '{model_hash}', b.doc->'model_hash'),
                                                                   '{algorithm}', '"ridge"')
                                                  FROM docs a, docs b WHERE a.ref = 'sensor@1' AND b.ref = 'sensor@2'))$$);
SELECT pg_temp.err($$SELECT ml.import_model('x', jsonb_set((SELECT doc FROM docs WHERE ref = 'sensor@1'), '{inputs,1,impute}', '12.5'))$$);
SELECT pg_temp.err($$SELECT ml.import_model('x', (SELECT doc FROM docs WHERE ref = 'sensor@1') - 'inputs')$$);
SELECT pg_temp.err($$SELECT ml.import_model('x', jsonb_set((SELECT doc FROM docs WHERE ref = 'sensor@1'), '{arrays,coef,data,0}', '1.5'))$$);
SELECT pg_temp.err($$SELECT ml.import_model('x', jsonb_set((SELECT doc FROM docs WHERE ref = 'sensor@1'), '{classes}', '["a", "b"]'))$$);
SELECT pg_temp.err($$SELECT ml.import_model('x', jsonb_set((SELECT doc FROM docs WHERE ref = 'sensor@1'), '{task}', '"classification"'))$$);
SELECT pg_temp.err($$SELECT ml.import_model('x', (SELECT doc FROM docs WHERE ref = 'sensor@1') - 'arrays')$$);
SELECT pg_temp.err($$SELECT ml.import_model('x', jsonb_set((SELECT doc FROM docs WHERE ref = 'sensor@1'), '{summary,coefficients,1,coefficient}', '2.5'))$$);
-- The training snapshot must be here.
SELECT pg_temp.err($$SELECT ml.import_model('x', jsonb_set((SELECT doc FROM docs WHERE ref = 'sensor@1'), '{snapshot}',
                                                           '{"name": "elsewhere", "content_hash": "00000000000000000000000000000000-3000", "rows": 3000}'))$$);
SELECT pg_temp.err($$SELECT ml.import_model('x', jsonb_set((SELECT doc FROM docs WHERE ref = 'sensor@1'), '{target}', '"power"'))$$);
SELECT pg_temp.err($$SELECT ml.import_model('bad name', (SELECT doc FROM docs WHERE ref = 'sensor@1'))$$);
SELECT pg_temp.err($$SELECT ml.import_model('x', NULL)$$);
SELECT regress.err($$SELECT ml.export_model('sensor@1', 'onnx')$$);
SELECT regress.err($$SELECT ml.export_model('sensor@1', NULL)$$);
SELECT regress.err($$SELECT ml.export_model('no_such_model')$$);
SELECT regress.err($$SELECT ml.export_model('sensor@9', 'c')$$);
-- Nothing was registered by the failed imports.
SELECT count(*) AS x_versions FROM ml.models WHERE name = 'x';

-- Privileges: exporting needs the use privilege; importing a version of a
-- name needs manage on it, and the training snapshot must be readable.
CREATE ROLE regress_export_alice;
SELECT relation AS sensors_rel FROM ml.snapshots WHERE name = 'sensors_v1' \gset
GRANT SELECT ON docs TO regress_export_alice;
SET ROLE regress_export_alice;
SELECT regress.err($$SELECT ml.export_model('sensor@1')$$);
SELECT pg_temp.err($$SELECT ml.import_model('sensor', (SELECT doc FROM docs WHERE ref = 'sensor@1'))$$);
SELECT pg_temp.err($$SELECT ml.import_model('alice_model', (SELECT doc FROM docs WHERE ref = 'sensor@1'))$$);
RESET ROLE;
GRANT SELECT ON :sensors_rel TO regress_export_alice;
SET ROLE regress_export_alice;
SELECT regress.err($$SELECT ml.import_model('sensor', (SELECT doc FROM docs WHERE ref = 'sensor@1'))$$);
SELECT name, version, trained_by FROM ml.import_model('alice_model', (SELECT doc FROM docs WHERE ref = 'sensor@1'));
SELECT (ml.export_model('alice_model')::jsonb)->>'exported_by' AS exported_by;
RESET ROLE;
SELECT owner FROM ml.model_owners WHERE name = 'alice_model';
DROP OWNED BY regress_export_alice;
DROP ROLE regress_export_alice;
