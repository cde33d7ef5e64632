-- Export: a registered model as a JSON document, a C99 scorer for
-- pg_mlops_scorer.h or PMML, and the import of a JSON document as a new
-- version.

----------------------------------------------------------------------------
-- Model export and import
--
-- ml.export_model writes a registered model of any algorithm as a JSON
-- document (complete, re-importable), as C (the model bytes and an opener
-- for pg_mlops_scorer.h, the server's decoder, encoders and scoring in one
-- header) or as PMML 4.4 (the kinds PMML describes); ml.import_model
-- registers a JSON document as a new version.  Every number comes from the
-- encoded model bytes (what ml.predict uses), decoded by the core's codec
-- (ml._model_document).
----------------------------------------------------------------------------
-- A float8 as a C99 hexadecimal floating literal, exact by construction:
-- 0x1.<fraction>p<exp> from the IEEE-754 bits (0x0.<fraction>p-1022 for
-- subnormals), trailing zero digits of the fraction dropped.  NULL for NaN
-- and infinities, which have no literal.
CREATE OR REPLACE FUNCTION ml._float8_hex(x float8) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE
        WHEN e = 2047 THEN NULL
        WHEN e = 0 AND f = '' THEN s || '0x0p+0'
        WHEN e = 0 THEN s || '0x0.' || f || 'p-1022'
        ELSE s || '0x1' || CASE WHEN f = '' THEN '' ELSE '.' || f END
               || 'p' || CASE WHEN e >= 1023 THEN '+' ELSE '' END || (e - 1023)::text
    END
    FROM (SELECT CASE WHEN get_byte(b, 0) >= 128 THEN '-' ELSE '' END AS s,
                 ((get_byte(b, 0) & 127) << 4) | (get_byte(b, 1) >> 4) AS e,
                 rtrim(substr(encode(b, 'hex'), 4), '0') AS f
          FROM (SELECT float8send(x) AS b) b0) p
$$;

-- The little-endian IEEE-754 double at byte offset off of b (0-based), bit
-- for bit: the bits become a hexadecimal literal, which float8in (strtod)
-- reads exactly.
CREATE OR REPLACE FUNCTION ml._float8_le(b bytea, off integer) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE
        WHEN e = 2047 AND f = '' THEN (s || 'Infinity')::float8
        WHEN e = 2047 THEN 'NaN'::float8
        WHEN e = 0 THEN (s || '0x0.' || coalesce(nullif(f, ''), '0') || 'p-1022')::float8
        ELSE (s || '0x1.' || coalesce(nullif(f, ''), '0') || 'p' || (e - 1023)::text)::float8
    END
    FROM (SELECT CASE WHEN get_byte(b, off + 7) >= 128 THEN '-' ELSE '' END AS s,
                 ((get_byte(b, off + 7) & 127) << 4) | (get_byte(b, off + 6) >> 4) AS e,
                 rtrim(substr(string_agg(lpad(to_hex(get_byte(b, off + 7 - i)), 2, '0'), '' ORDER BY i), 4), '0') AS f
          FROM generate_series(0, 7) i) p
$$;

-- The whole encoded model as JSON (see src/pg/document.c): algorithm, task,
-- inputs (encoders), expanded features, classes and every parameter array
-- {"rows", "cols", "data"}.  Raises data_corrupted for bytes the codec
-- refuses (header, CRC-32C, lengths, validation).
CREATE OR REPLACE FUNCTION ml._model_document(model bytea) RETURNS jsonb
AS 'MODULE_PATHNAME', 'ml_model_document' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

-- Text for a C comment: no comment terminator, no control characters.
CREATE OR REPLACE FUNCTION ml._c_comment(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT regexp_replace(replace(s, '*/', '*\/'), '[\x01-\x1f\x7f]', '?', 'g')
$$;

-- A C string literal holding the UTF-8 bytes of s: printable ASCII as is,
-- '"', '\' and '?' (trigraphs) escaped, every other byte as a 3-digit octal escape.
CREATE OR REPLACE FUNCTION ml._c_string(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT '"' || coalesce(string_agg(CASE
               WHEN c IN (34, 63, 92) THEN '\' || chr(c)
               WHEN c BETWEEN 32 AND 126 THEN chr(c)
               ELSE '\' || lpad(((c >> 6) & 7)::text || ((c >> 3) & 7)::text || (c & 7)::text, 3, '0')
           END, '' ORDER BY i), '') || '"'
    FROM (SELECT i, get_byte(b, i) AS c
          FROM (SELECT convert_to(s, 'UTF8') AS b) b0, generate_series(0, octet_length(b) - 1) i) x
$$;

-- The C identifier of a model name: '.' and '-' become '_'; a name not
-- starting with a letter gets the prefix 'm_'.
CREATE OR REPLACE FUNCTION ml._c_ident(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN x ~ '^[A-Za-z]' THEN x ELSE 'm_' || x END
    FROM (SELECT regexp_replace(name, '[^A-Za-z0-9_]', '_', 'g') AS x) y
$$;

-- Text for an XML attribute value or element content.  Characters XML 1.0
-- does not allow are an error rather than silently changed.
CREATE OR REPLACE FUNCTION ml._xml_escape(s text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    IF s ~ '[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]' THEN
        RAISE EXCEPTION 'name % contains a character that XML cannot represent', quote_literal(s)
            USING ERRCODE = 'character_not_in_repertoire',
                  HINT = 'Export as json or c, or rename the column and retrain.';
    END IF;
    RETURN replace(replace(replace(replace(replace(replace(replace(replace(s,
           '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&apos;'),
           E'\t', '&#9;'), E'\n', '&#10;'), E'\r', '&#13;');
END $$;

-- The document of a registered model's bytes (ml._model_document), after
-- checking them against the registry row: the hash, the codec (CRC-32C,
-- lengths, validation), the algorithm and the input columns.
CREATE OR REPLACE FUNCTION ml._export_document(m ml.models) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
    label text := m.name || '@' || m.version;
    doc jsonb;
    problem text;
    columns text[];
BEGIN
    IF encode(sha256(m.model), 'hex') <> m.model_hash THEN
        RAISE EXCEPTION 'model bytes of % do not match its registered hash', label
            USING ERRCODE = 'data_corrupted';
    END IF;
    BEGIN
        doc := ml._model_document(m.model);
    EXCEPTION WHEN data_corrupted THEN
        GET STACKED DIAGNOSTICS problem = PG_EXCEPTION_DETAIL;
        RAISE EXCEPTION 'model bytes of % are corrupted', label
            USING ERRCODE = 'data_corrupted', DETAIL = coalesce(nullif(problem, ''), SQLERRM || '.');
    END;
    columns := ARRAY(SELECT i->>'column' FROM jsonb_array_elements(doc->'inputs') WITH ORDINALITY x(i, o) ORDER BY o);
    IF columns <> m.features OR doc->>'algorithm' <> m.algorithm THEN
        RAISE EXCEPTION 'model bytes of % do not match its registry row', label
            USING ERRCODE = 'data_corrupted',
                  DETAIL = format('The bytes encode a %s model of columns %s; the registry says %s of %s.',
                                  doc->>'algorithm', columns, m.algorithm, m.features);
    END IF;
    RETURN doc;
END $$;

-- One line per input for the C export's comment: the column and what a
-- pgml_value of it holds.
CREATE OR REPLACE FUNCTION ml._c_inputs(doc jsonb) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT string_agg(format(' *   row[%s]  %s: %s', o - 1, ml._c_comment(i->>'column'),
        CASE i->>'kind'
            WHEN 'category' THEN format('text (.text), one-hot over %s values%s; NULL and other values: all zeros',
                                        jsonb_array_length(i->'categories'),
                                        CASE WHEN (i->'has_other')::bool THEN ' and "(other)" for values not kept' ELSE '' END)
            ELSE CASE i->>'kind' WHEN 'time' THEN 'date or timestamp (.number = pgml_date_seconds or pgml_timestamp_seconds)'
                                 WHEN 'bool' THEN 'boolean (.number = 0 or 1)'
                                 ELSE 'number (.number)' END
                 || CASE WHEN i->'impute' <> 'null' THEN format('; NULL: %s', i->>'impute')
                         WHEN doc->>'algorithm' IN ('decision_tree', 'random_forest', 'gradient_boosting')
                             THEN '; NULL: the trees'' default branches'
                         ELSE '; NULL: an error' END
        END), E'\n' ORDER BY o)
    FROM jsonb_array_elements(doc->'inputs') WITH ORDINALITY x(i, o)
$$;

-- PMML: the DataDictionary, the TransformationDictionary (one NormDiscrete
-- field per one-hot feature) and the MiningSchema of a model document, and
-- the names of the expanded features the model element refers to.
CREATE OR REPLACE FUNCTION ml._pmml_fields(doc jsonb, target text, OUT dictionary text, OUT transformations text,
                                           OUT mining_schema text, OUT feature_fields text[])
LANGUAGE plpgsql IMMUTABLE AS $$
#variable_conflict use_variable
DECLARE
    bad jsonb;
    classes text[] := ARRAY(SELECT c FROM jsonb_array_elements_text(doc->'classes') WITH ORDINALITY x(c, o) ORDER BY o);
    naive_bayes boolean := doc->>'algorithm' = 'naive_bayes';
    trees boolean := doc->>'algorithm' IN ('decision_tree', 'random_forest', 'gradient_boosting');
BEGIN
    SELECT i INTO bad FROM jsonb_array_elements(doc->'inputs') i WHERE (i->'has_other')::bool LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'cannot export a model with an "(other)" category as PMML'
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = format('Column "%s" keeps its %s most frequent values and maps the others to "(other)", which PMML''s NormDiscrete cannot express.',
                                  bad->>'column', jsonb_array_length(bad->'categories')),
                  HINT = 'Export as c or json, or retrain with a larger max_categories.';
    END IF;
    dictionary := format(E'  <DataDictionary numberOfFields="%s">\n',
                         jsonb_array_length(doc->'inputs') + CASE WHEN target IS NULL THEN 0 ELSE 1 END)
        || (SELECT string_agg(format('    <DataField name="%s" %s', ml._xml_escape(i->>'column'),
                                     CASE i->>'kind' WHEN 'category' THEN 'optype="categorical" dataType="string"'
                                                     WHEN 'time' THEN 'optype="continuous" dataType="dateTimeSecondsSince[1970]"'
                                                     ELSE 'optype="continuous" dataType="double"' END)
                              -- naive Bayes reads a text column's values, not its one-hot fields:
                              -- the kept values are the valid ones, others are treated as missing
                              || CASE WHEN i->>'kind' = 'category' AND naive_bayes THEN
                                          E'>\n' || (SELECT string_agg(format(E'      <Value value="%s"/>\n', ml._xml_escape(c)), '' ORDER BY co)
                                                     FROM jsonb_array_elements_text(i->'categories') WITH ORDINALITY y(c, co))
                                          || '    </DataField>'
                                      ELSE '/>' END, E'\n' ORDER BY o)
            FROM jsonb_array_elements(doc->'inputs') WITH ORDINALITY x(i, o))
        || CASE WHEN target IS NULL THEN ''
                WHEN doc->>'task' = 'classification' THEN
                    format(E'\n    <DataField name="%s" optype="categorical" dataType="string">\n', ml._xml_escape(target))
                    || (SELECT string_agg(format('      <Value value="%s"/>', ml._xml_escape(c)), E'\n' ORDER BY o)
                        FROM unnest(classes) WITH ORDINALITY u(c, o))
                    || E'\n    </DataField>'
                ELSE format(E'\n    <DataField name="%s" optype="continuous" dataType="double"/>', ml._xml_escape(target)) END
        || E'\n  </DataDictionary>\n';
    transformations := coalesce(E'  <TransformationDictionary>\n'
        || (SELECT string_agg(format(E'    <DerivedField name="%s" optype="continuous" dataType="double">\n'
                                     || E'      <NormDiscrete field="%s" value="%s" mapMissingTo="0"/>\n    </DerivedField>',
                                     ml._xml_escape(i->>'column' || '=' || c), ml._xml_escape(i->>'column'), ml._xml_escape(c)),
                              E'\n' ORDER BY o, co)
            FROM jsonb_array_elements(doc->'inputs') WITH ORDINALITY x(i, o),
                 jsonb_array_elements_text(i->'categories') WITH ORDINALITY y(c, co)
            WHERE i->>'kind' = 'category' AND (co > 1 OR NOT (i->'drop_first')::bool) AND NOT naive_bayes)
        || E'\n  </TransformationDictionary>\n', '');
    mining_schema := E'    <MiningSchema>\n'
        || (SELECT string_agg(format('      <MiningField name="%s" usageType="active"%s/>', ml._xml_escape(i->>'column'),
                                     CASE WHEN i->>'kind' = 'category' THEN
                                              CASE WHEN naive_bayes THEN ' invalidValueTreatment="asMissing"' ELSE '' END
                                          -- trees send NULL to the default branches
                                          WHEN i->'impute' = 'null' AND trees THEN ''
                                          WHEN i->'impute' = 'null' THEN ' missingValueTreatment="returnInvalid"'
                                          ELSE format(' missingValueReplacement="%s"', i->>'impute') END), E'\n' ORDER BY o)
            FROM jsonb_array_elements(doc->'inputs') WITH ORDINALITY x(i, o))
        || CASE WHEN target IS NULL THEN '' ELSE format(E'\n      <MiningField name="%s" usageType="target"/>', ml._xml_escape(target)) END
        || E'\n    </MiningSchema>\n';
    -- expanded feature j is the column itself or a derived field named like it
    feature_fields := ARRAY(SELECT f FROM jsonb_array_elements_text(doc->'features') WITH ORDINALITY x(f, o) ORDER BY o);
END $$;

-- The k-th row (0-based) of a document array as text numbers.
CREATE OR REPLACE FUNCTION ml._doc_row(doc jsonb, name text, k integer) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ARRAY(SELECT v FROM jsonb_array_elements_text(doc #> ARRAY['arrays', name, 'data']) WITH ORDINALITY x(v, o)
                 WHERE o > k * (doc #>> ARRAY['arrays', name, 'cols'])::int
                   AND o <= (k + 1) * (doc #>> ARRAY['arrays', name, 'cols'])::int ORDER BY o)
$$;

-- A PMML RegressionTable: intercept then one NumericPredictor per feature.
CREATE OR REPLACE FUNCTION ml._pmml_regression_table(coefs text[], fields text[], category text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT format(E'    <RegressionTable intercept="%s"%s>\n', coefs[1],
                  CASE WHEN category IS NULL THEN '' ELSE format(' targetCategory="%s"', ml._xml_escape(category)) END)
        || coalesce((SELECT string_agg(format('      <NumericPredictor name="%s" exponent="1" coefficient="%s"/>',
                                              ml._xml_escape(fields[j]), coefs[j + 1]), E'\n' ORDER BY j)
                     FROM generate_series(1, cardinality(fields)) j) || E'\n', '')
        || E'    </RegressionTable>\n'
$$;

-- A document array as text numbers (the shortest exact decimals), in order.
CREATE OR REPLACE FUNCTION ml._doc_array(doc jsonb, name text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ARRAY(SELECT v FROM jsonb_array_elements_text(doc #> ARRAY['arrays', name, 'data']) WITH ORDINALITY x(v, o) ORDER BY o)
$$;

-- PMML's Output of a classification model: the predicted class and one
-- probability field per class, in the order of ml.predict_proba.
CREATE OR REPLACE FUNCTION ml._pmml_class_output(doc jsonb, target text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT E'    <Output>\n'
        || format(E'      <OutputField name="%s" optype="categorical" dataType="string" feature="predictedValue"/>\n',
                  ml._xml_escape('predicted(' || target || ')'))
        || string_agg(format(E'      <OutputField name="%s" optype="continuous" dataType="double" feature="probability" value="%s"/>\n',
                             ml._xml_escape('probability(' || c || ')'), ml._xml_escape(c)), '' ORDER BY o)
        || E'    </Output>\n'
    FROM jsonb_array_elements_text(doc->'classes') WITH ORDINALITY x(c, o)
$$;

-- The MiningSchema of a model nested in a MiningModel: every input column,
-- active, without missing-value treatment (the outer schema has it).
CREATE OR REPLACE FUNCTION ml._pmml_inner_schema(doc jsonb, indent text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT indent || E'<MiningSchema>\n'
        || string_agg(format(E'%s  <MiningField name="%s"/>\n', indent, ml._xml_escape(i->>'column')), '' ORDER BY o)
        || indent || E'</MiningSchema>\n'
    FROM jsonb_array_elements(doc->'inputs') WITH ORDINALITY x(i, o)
$$;

-- The trees of a tree model (tree.h) as PMML TreeModels, one per tree, in
-- order.  A split node's children are "field < threshold" (left) and
-- "field >= threshold" (right), as mlc_trees_predict_raw tests them; a
-- missing value (NULL, or NaN) goes to the node's defaultChild, the learned
-- default direction.  Leaves have the tree's value as score (one output),
-- or the class of the highest value (lowest on ties) with one
-- ScoreDistribution per class whose probability is the value (the class
-- fractions of a forest's tree).  head is written after each TreeModel's
-- start tag (its MiningSchema and Output); attrs are the start tag's
-- model attributes, indent the TreeModel's.
CREATE OR REPLACE FUNCTION ml._pmml_trees(doc jsonb, fields text[], attrs text, head text, indent text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE AS $$
#variable_conflict use_variable
DECLARE
    classes text[] := ARRAY(SELECT c FROM jsonb_array_elements_text(doc->'classes') WITH ORDINALITY x(c, o) ORDER BY o);
    tree_nodes int[] := ml._doc_array(doc, 'tree_nodes')::float8[]::int[];
    feature int[] := ml._doc_array(doc, 'node_feature')::float8[]::int[];
    threshold text[] := ml._doc_array(doc, 'node_threshold');
    lft int[] := ml._doc_array(doc, 'node_left')::float8[]::int[];
    rgt int[] := ml._doc_array(doc, 'node_right')::float8[]::int[];
    dleft int[] := ml._doc_array(doc, 'node_default_left')::float8[]::int[];
    val text[] := ml._doc_array(doc, 'node_value');
    cover float8[] := ml._doc_array(doc, 'node_cover')::float8[];
    w int := (doc #>> '{arrays,node_value,cols}')::int;
    start int := 0;
    nt int;
    trees text[] := '{}';
    pieces text[];
    stack int[];
    pred text[];
    dep int[];
    i int;
    g int;
    l int;
    r int;
    k int;
    best int;
    ind text;
    leaf text;
BEGIN
    FOR t IN 1 .. coalesce(cardinality(tree_nodes), 0) LOOP
        nt := tree_nodes[t];
        pieces := ARRAY[format(E'%s<TreeModel %s missingValueStrategy="defaultChild" noTrueChildStrategy="returnNullPrediction" splitCharacteristic="binarySplit">\n',
                               indent, attrs) || head];
        pred := array_fill(NULL::text, ARRAY[nt]);
        dep := array_fill(0, ARRAY[nt]);
        pred[1] := '<True/>';
        stack := ARRAY[0];
        WHILE cardinality(stack) > 0 LOOP
            i := stack[cardinality(stack)];
            stack := stack[1:cardinality(stack) - 1];
            IF i < 0 THEN
                pieces := array_append(pieces, format(E'%s  %s</Node>\n', indent, repeat('  ', dep[-i])));
                CONTINUE;
            END IF;
            g := start + i + 1;
            ind := indent || '  ' || repeat('  ', dep[i + 1]);
            IF feature[g] < 0 THEN
                IF w = 1 THEN
                    leaf := format(E'%s<Node id="%s" score="%s">\n%s  %s\n%s</Node>\n', ind, i, val[g], ind, pred[i + 1], ind);
                ELSE
                    best := 1;
                    FOR k IN 2 .. w LOOP
                        IF val[(g - 1) * w + k]::float8 > val[(g - 1) * w + best]::float8 THEN
                            best := k;
                        END IF;
                    END LOOP;
                    leaf := format(E'%s<Node id="%s" score="%s" recordCount="%s">\n%s  %s\n', ind, i, ml._xml_escape(classes[best]),
                                   cover[g], ind, pred[i + 1])
                        || (SELECT string_agg(format(E'%s  <ScoreDistribution value="%s" recordCount="%s" probability="%s"/>\n',
                                                     ind, ml._xml_escape(classes[kk]), val[(g - 1) * w + kk]::float8 * cover[g],
                                                     val[(g - 1) * w + kk]), '' ORDER BY kk)
                            FROM generate_series(1, w) kk)
                        || ind || E'</Node>\n';
                END IF;
                pieces := array_append(pieces, leaf);
            ELSE
                l := lft[g];
                r := rgt[g];
                pred[l + 1] := format('<SimplePredicate field="%s" operator="lessThan" value="%s"/>',
                                      ml._xml_escape(fields[feature[g] + 1]), threshold[g]);
                pred[r + 1] := format('<SimplePredicate field="%s" operator="greaterOrEqual" value="%s"/>',
                                      ml._xml_escape(fields[feature[g] + 1]), threshold[g]);
                dep[l + 1] := dep[i + 1] + 1;
                dep[r + 1] := dep[i + 1] + 1;
                pieces := array_append(pieces, format(E'%s<Node id="%s" defaultChild="%s">\n%s  %s\n', ind, i,
                                                      CASE WHEN dleft[g] = 1 THEN l ELSE r END, ind, pred[i + 1]));
                stack := stack || (-1 - i) || r || l;
            END IF;
        END LOOP;
        trees := array_append(trees, array_to_string(pieces, '') || indent || E'</TreeModel>\n');
        start := start + nt;
    END LOOP;
    RETURN trees;
END $$;

-- A PMML Segment holding one model (always chosen: <True/>).
CREATE OR REPLACE FUNCTION ml._pmml_segment(id text, model text, indent text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT format(E'%s<Segment id="%s">\n%s  <True/>\n', indent, ml._xml_escape(id), indent) || model || indent || E'</Segment>\n'
$$;

-- A tree model as PMML: decision_tree a TreeModel; random_forest a
-- MiningModel averaging its trees (the average of the trees' values or class
-- fractions is what ml.predict and ml.predict_proba return); gradient_boosting
-- a MiningModel summing a constant tree (the base score) and the trees, and
-- for classification a model chain: the sum per class (raw scores), then a
-- RegressionModel applying the logistic (two classes) or softmax link.
CREATE OR REPLACE FUNCTION ml._pmml_tree_body(doc jsonb, label text, target text, mining_schema text, fields text[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
#variable_conflict use_variable
DECLARE
    algorithm text := doc->>'algorithm';
    task text := doc->>'task';
    info text[] := ml._doc_array(doc, 'tree_info');
    objective int := info[1]::float8::int;
    base text[] := ml._doc_array(doc, 'base_score');
    scale float8[] := ml._doc_array(doc, 'tree_scale')::float8[];
    output int[] := ml._doc_array(doc, 'tree_output')::float8[]::int[];
    classes text[] := ARRAY(SELECT c FROM jsonb_array_elements_text(doc->'classes') WITH ORDINALITY x(c, o) ORDER BY o);
    n int := cardinality(scale);
    out_xml text := CASE WHEN task = 'classification' THEN ml._pmml_class_output(doc, target) ELSE '' END;
    attrs text := format('modelName="%s" functionName="%s" algorithmName="%s"', ml._xml_escape(label), task, algorithm);
    problem text;
    trees text[];
    k int;
    chain text := '';
    ind text;
BEGIN
    -- What PMML's combinations express exactly; trained models always are.
    IF algorithm IN ('decision_tree', 'random_forest') THEN
        IF objective <> 4 THEN
            problem := format('Its trees are combined by objective %s, not averaged.', objective);
        ELSIF EXISTS (SELECT 1 FROM unnest(base) b WHERE b::float8 <> 0) THEN
            problem := 'Its base score is not zero, which an average of trees cannot add.';
        ELSIF EXISTS (SELECT 1 FROM unnest(scale) s WHERE s <> 1::float8 / n) THEN
            problem := 'Its trees are not weighted equally (tree_scale is not 1 / trees), which PMML''s average cannot express.';
        END IF;
    ELSIF objective NOT IN (1, 2, 3) OR EXISTS (SELECT 1 FROM unnest(scale) s WHERE s NOT IN (0, 1))
          OR EXISTS (SELECT 1 FROM unnest(output) o WHERE o < 0) THEN
        problem := 'Its trees are not each added once to one output (tree_scale 0 or 1, tree_output set), which is what the export writes as a sum.';
    END IF;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION 'cannot export % model % as PMML', algorithm, label
            USING ERRCODE = 'feature_not_supported', DETAIL = problem,
                  HINT = 'Export as c (bit-identical to ml.predict) or json.';
    END IF;

    IF algorithm = 'decision_tree' THEN
        RETURN (ml._pmml_trees(doc, fields, attrs, mining_schema || out_xml, '  '))[1];
    END IF;
    IF algorithm = 'random_forest' THEN
        trees := ml._pmml_trees(doc, fields, format('functionName="%s"', task), ml._pmml_inner_schema(doc, '          '), '        ');
        RETURN format(E'  <MiningModel %s>\n', attrs) || mining_schema || out_xml
            || E'    <Segmentation multipleModelMethod="average">\n'
            || (SELECT string_agg(ml._pmml_segment(t::text, trees[t], '      '), '' ORDER BY t) FROM generate_series(1, n) t)
            || E'    </Segmentation>\n  </MiningModel>\n';
    END IF;
    -- gradient boosting: per output k, base_score[k] plus its trees (scale 1;
    -- a tree of scale 0 adds nothing and is left out)
    ind := CASE WHEN objective = 1 THEN '      ' ELSE '            ' END;
    trees := ml._pmml_trees(doc, fields, 'functionName="regression"', ml._pmml_inner_schema(doc, ind || '    '), ind || '  ');
    FOR k IN 0 .. cardinality(base) - 1 LOOP
        chain := chain
            || CASE WHEN objective = 1 THEN '' ELSE
                   format(E'      <Segment id="%s">\n        <True/>\n', ml._xml_escape('raw(' || classes[k + 1 + CASE WHEN objective = 2 THEN 1 ELSE 0 END] || ')'))
                   || E'        <MiningModel functionName="regression">\n'
                   || ml._pmml_inner_schema(doc, '          ')
                   || format(E'          <Output>\n            <OutputField name="%s" optype="continuous" dataType="double" feature="predictedValue" isFinalResult="false"/>\n          </Output>\n',
                             ml._xml_escape('raw(' || classes[k + 1 + CASE WHEN objective = 2 THEN 1 ELSE 0 END] || ')'))
               END
            || left(ind, -2) || E'<Segmentation multipleModelMethod="sum">\n'
            || ml._pmml_segment('base_score', format(E'%s  <TreeModel functionName="regression">\n', ind)
                                               || ml._pmml_inner_schema(doc, ind || '    ')
                                               || format(E'%s    <Node score="%s">\n%s      <True/>\n%s    </Node>\n%s  </TreeModel>\n',
                                                         ind, base[k + 1], ind, ind, ind, ind), ind)
            || coalesce((SELECT string_agg(ml._pmml_segment(t::text, trees[t], ind), '' ORDER BY t)
                         FROM generate_series(1, n) t WHERE output[t] = k AND scale[t] = 1), '')
            || left(ind, -2) || E'</Segmentation>\n'
            || CASE WHEN objective = 1 THEN '' ELSE E'        </MiningModel>\n      </Segment>\n' END;
    END LOOP;
    IF objective = 1 THEN
        RETURN format(E'  <MiningModel %s>\n', attrs) || mining_schema || chain || E'  </MiningModel>\n';
    END IF;
    RETURN format(E'  <MiningModel %s>\n', attrs) || mining_schema || out_xml
        || E'    <Segmentation multipleModelMethod="modelChain">\n' || chain
        || format(E'      <Segment id="link">\n        <True/>\n        <RegressionModel functionName="classification" normalizationMethod="%s">\n',
                  CASE WHEN objective = 2 THEN 'logit' ELSE 'softmax' END)
        || format(E'          <MiningSchema>\n            <MiningField name="%s" usageType="target"/>\n', ml._xml_escape(target))
        || (SELECT string_agg(format(E'            <MiningField name="%s"/>\n', ml._xml_escape('raw(' || c || ')')), '' ORDER BY o)
            FROM unnest(classes) WITH ORDINALITY u(c, o) WHERE objective = 3 OR o = 2)
        || E'          </MiningSchema>\n'
        || (SELECT string_agg(format(E'          <RegressionTable intercept="0" targetCategory="%s">\n', ml._xml_escape(c))
                              || CASE WHEN objective = 2 AND o = 1 THEN ''
                                      ELSE format(E'            <NumericPredictor name="%s" exponent="1" coefficient="1"/>\n', ml._xml_escape('raw(' || c || ')')) END
                              || E'          </RegressionTable>\n', '' ORDER BY CASE WHEN objective = 2 THEN -o ELSE o END)
            FROM unnest(classes) WITH ORDINALITY u(c, o))
        || E'        </RegressionModel>\n      </Segment>\n    </Segmentation>\n  </MiningModel>\n';
END $$;

-- Naive Bayes as PMML's NaiveBayesModel, with the posterior of ml.predict_proba:
-- Gaussian columns (numbers, booleans, dates) as GaussianDistribution with
-- the model's means and smoothed variances; a text column as PairCounts with
-- count(value, class) = exp(class_log_prior + feature_log_prob), so that
-- count / (sum of the class's counts in the input) = P(value | class); the
-- share of training rows where the column was NULL (counted in the class,
-- with no category) is the count of a placeholder value that no input can
-- have (it is not a valid value of the field, and invalid values are
-- treated as missing).  BayesOutput counts are exp(class_log_prior), so
-- either denominator PMML describes (the class count or the sum of the
-- input's counts) gives the model's probabilities.  A missing or unseen
-- text value adds nothing to any class, as in the model; threshold is the
-- smallest normal double, below every probability the model gives.
CREATE OR REPLACE FUNCTION ml._pmml_naive_bayes(doc jsonb, label text, target text, mining_schema text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
#variable_conflict use_variable
DECLARE
    classes text[] := ARRAY(SELECT c FROM jsonb_array_elements_text(doc->'classes') WITH ORDINALITY x(c, o) ORDER BY o);
    nk int := cardinality(classes);
    d int := jsonb_array_length(doc->'features');
    prior float8[] := ml._doc_array(doc, 'class_log_prior')::float8[];
    theta text[] := ml._doc_array(doc, 'theta');
    var text[] := ml._doc_array(doc, 'var');
    flp float8[] := ml._doc_array(doc, 'feature_log_prob')::float8[];
    inputs text := '';
    inp jsonb;
    j int := 0;
    w int;
    deficit float8[];
    placeholder text;
BEGIN
    FOR inp IN SELECT i FROM jsonb_array_elements(doc->'inputs') WITH ORDINALITY x(i, o) ORDER BY o LOOP
        w := (inp->>'width')::int;
        IF inp->>'kind' = 'category' THEN
            IF (inp->'drop_first')::bool THEN
                RAISE EXCEPTION 'cannot export naive_bayes model % as PMML', label
                    USING ERRCODE = 'feature_not_supported',
                          DETAIL = format('Column "%s" drops its first category, which a PMML BayesInput cannot leave out.', inp->>'column'),
                          HINT = 'Export as c (bit-identical to ml.predict) or json.';
            END IF;
            inputs := inputs || format(E'      <BayesInput fieldName="%s">\n', ml._xml_escape(inp->>'column'))
                || (SELECT string_agg(format(E'        <PairCounts value="%s">\n          <TargetValueCounts>\n', ml._xml_escape(cat))
                                      || (SELECT string_agg(format(E'            <TargetValueCount value="%s" count="%s"/>\n',
                                                                   ml._xml_escape(classes[c]), exp(prior[c] + flp[(c - 1) * d + j + q])), '' ORDER BY c)
                                          FROM generate_series(1, nk) c)
                                      || E'          </TargetValueCounts>\n        </PairCounts>\n', '' ORDER BY q)
                    FROM jsonb_array_elements_text(inp->'categories') WITH ORDINALITY y(cat, q));
            -- the probability mass of the rows where the column was NULL
            deficit := ARRAY(SELECT 1 - (SELECT sum(exp(flp[(c - 1) * d + j + q])) FROM generate_series(1, w) q)
                             FROM generate_series(1, nk) c ORDER BY c);
            IF EXISTS (SELECT 1 FROM unnest(deficit) x WHERE x > 1e-12) THEN
                placeholder := '(missing)';
                WHILE placeholder IN (SELECT jsonb_array_elements_text(inp->'categories')) LOOP
                    placeholder := placeholder || '*';
                END LOOP;
                inputs := inputs || format(E'        <PairCounts value="%s">\n          <TargetValueCounts>\n', ml._xml_escape(placeholder))
                    || (SELECT string_agg(format(E'            <TargetValueCount value="%s" count="%s"/>\n',
                                                 ml._xml_escape(classes[c]), exp(prior[c]) * greatest(deficit[c], 0)), '' ORDER BY c)
                        FROM generate_series(1, nk) c)
                    || E'          </TargetValueCounts>\n        </PairCounts>\n';
            END IF;
            inputs := inputs || E'      </BayesInput>\n';
        ELSE
            inputs := inputs || format(E'      <BayesInput fieldName="%s">\n        <TargetValueStats>\n', ml._xml_escape(inp->>'column'))
                || (SELECT string_agg(format(E'          <TargetValueStat value="%s">\n            <GaussianDistribution mean="%s" variance="%s"/>\n          </TargetValueStat>\n',
                                             ml._xml_escape(classes[c]), theta[(c - 1) * d + j + 1], var[(c - 1) * d + j + 1]), '' ORDER BY c)
                    FROM generate_series(1, nk) c)
                || E'        </TargetValueStats>\n      </BayesInput>\n';
        END IF;
        j := j + w;
    END LOOP;
    RETURN format(E'  <NaiveBayesModel modelName="%s" functionName="classification" algorithmName="naive_bayes" threshold="2.2250738585072014e-308">\n',
                  ml._xml_escape(label))
        || mining_schema || ml._pmml_class_output(doc, target)
        || E'    <BayesInputs>\n' || inputs || E'    </BayesInputs>\n'
        || format(E'    <BayesOutput fieldName="%s">\n      <TargetValueCounts>\n', ml._xml_escape(target))
        || (SELECT string_agg(format(E'        <TargetValueCount value="%s" count="%s"/>\n', ml._xml_escape(classes[c]), exp(prior[c])), '' ORDER BY c)
            FROM generate_series(1, nk) c)
        || E'      </TargetValueCounts>\n    </BayesOutput>\n  </NaiveBayesModel>\n';
END $$;

-- extra_float_digits = 1: every float8 is printed as its shortest decimal
-- that reads back to the same double, whatever the caller's setting.
CREATE OR REPLACE FUNCTION ml._export_model(model text, format text DEFAULT 'json') RETURNS text
LANGUAGE plpgsql STABLE
SET extra_float_digits = 1
AS $$
#variable_conflict use_variable
DECLARE
    m ml.models;
    snap ml.snapshots;
    doc jsonb;
    ext text := (SELECT e.extversion FROM pg_extension e WHERE e.extname = 'pg_mlops');
    label text;
    ident text;
    task text;
    f record;
    nc integer;
    body text;
    out text;
BEGIN
    IF format IS NULL OR format NOT IN ('json', 'c', 'pmml') THEN
        RAISE EXCEPTION 'unknown export format "%"', coalesce(format, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Formats are json (complete, re-importable with ml.import_model), c (a C99 scorer for pg_mlops_scorer.h) and pmml (PMML 4.4).';
    END IF;
    SELECT * INTO m FROM ml.models x WHERE x.id = ml._resolve_model(model);
    PERFORM ml._require_model_privilege(m.name, 'use', 'export');
    label := m.name || '@' || m.version;
    doc := ml._export_document(m);
    task := doc->>'task';
    SELECT * INTO snap FROM ml.snapshots s WHERE s.id = m.snapshot_id;

    IF format = 'json' THEN
        -- Keys in a fixed order, one per line; values compact.
        SELECT E'{\n' || string_agg(format('  %s: %s', to_json(k), coalesce(v::text, 'null')), E',\n' ORDER BY o) || E'\n}'
        INTO out
        FROM (VALUES
            (1, 'format', to_json('pg_mlops-model'::text)),
            (2, 'format_version', to_json(2)),
            (3, 'name', to_json(m.name)),
            (4, 'version', to_json(m.version)),
            (5, 'task', to_json(task)),
            (6, 'algorithm', to_json(m.algorithm)),
            (7, 'target', to_json(m.target)),
            (8, 'features', to_json(m.features)),
            (9, 'inputs', to_json(doc->'inputs')),
            (10, 'encoded_features', to_json(doc->'features')),
            (11, 'classes', to_json(doc->'classes')),
            (12, 'class_values', to_json(doc->'class_values')),
            (13, 'arrays', to_json(doc->'arrays')),
            (14, 'hyperparameters', to_json(m.hyperparams)),
            (15, 'seed', to_json(m.seed)),
            (16, 'metrics', to_json(m.metrics)),
            (17, 'summary', to_json(m.summary)),
            (18, 'model_hash', to_json(m.model_hash)),
            (19, 'model_base64', to_json(translate(encode(m.model, 'base64'), E'\n', ''))),
            (20, 'snapshot', to_json(jsonb_build_object('name', snap.name, 'content_hash', snap.content_hash,
                                                        'rows', snap.row_count))),
            (21, 'trained_by', to_json(m.trained_by)),
            (22, 'trained_at', to_json(m.trained_at)),
            (23, 'trained_with', to_json(m.extension_version)),
            (24, 'exported_by', to_json(ml._caller()::text)),
            (25, 'exported_at', to_json(now())),
            (26, 'extension_version', to_json(ext))) AS f(o, k, v);
        RETURN out;
    END IF;

    IF format = 'c' THEN
        -- The model bytes and an opener; pg_mlops_scorer.h decodes and
        -- scores them with the server's own code.
        ident := ml._c_ident(m.name);
        out := array_to_string(ARRAY[
            '/*',
            format(' * %s: %s model (%s) exported by pg_mlops %s at %s.', ml._c_comment(label), m.algorithm, task,
                   coalesce(ext, '?'), to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
            format(' * Model hash (SHA-256 of the encoded model): %s', m.model_hash),
            format(' * Trained on snapshot %s (content hash %s).', ml._c_comment(snap.name), snap.content_hash),
            format(' * Target: %s', coalesce(ml._c_comment(m.target), '(none)')),
            ' *',
            ' * Compile with pg_mlops_scorer.h (SELECT ml.scorer_header(), or the file',
            ' * in $(pg_config --sharedir)/extension): see docs/export.md.',
            format(' *     cc -std=c99 -O2 -ffp-contract=off -c %s.c', ident),
            format(' * %s_open(&s) decodes the model into a pgml_scorer s; then', ident),
            CASE task
                WHEN 'regression' THEN format(' *     pgml_predict(&s, row, &value)        ml.predict(%s, row)', ml._c_comment(quote_literal(label)))
                WHEN 'classification' THEN
                    CASE WHEN doc->'class_values' <> 'null'
                         THEN format(E' *     pgml_predict(&s, row, &value)        ml.predict(%s, row)\n', ml._c_comment(quote_literal(label))) ELSE '' END
                    || format(E' *     pgml_predict_class(&s, row, &c)      ml.predict_class: s.model.classes[c]\n'
                              || ' *     pgml_predict_proba(&s, row, proba)   ml.predict_proba (%s classes)', jsonb_array_length(doc->'classes'))
                WHEN 'clustering' THEN format(E' *     pgml_predict(&s, row, &value)        ml.predict(%s, row), the cluster\n'
                                              || ' *     pgml_transform(&s, row, out)         ml.transform, %s distances',
                                              ml._c_comment(quote_literal(label)), doc #>> '{arrays,centroids,rows}')
                ELSE format(' *     pgml_transform(&s, row, out)         ml.transform, %s components',
                            (doc #>> '{arrays,components,rows}'))
            END,
            ' * with the bits the SQL function returns, and pgml_close(&s).',
            ' *',
            format(' * row: %s pgml_value, one per column in this order:', jsonb_array_length(doc->'inputs')),
            ml._c_inputs(doc),
            ' */',
            '',
            '#include "pg_mlops_scorer.h"',
            '',
            '#if !defined(PGML_SCORER_VERSION) || MLC_MODEL_FORMAT != 2',
            '#error "this model needs pg_mlops_scorer.h for model format 2"',
            '#endif',
            '',
            format('#define %s_N_INPUTS %s', upper(ident), jsonb_array_length(doc->'inputs')),
            '',
            format('const unsigned char %s_model[%s] = {', ident, octet_length(m.model))],
            E'\n') || E'\n'
            || (SELECT string_agg('    ' || rtrim(regexp_replace(substr(h, 32 * k + 1, 32), '(..)', '0x\1, ', 'g'), ' '),
                                  E'\n' ORDER BY k)
                FROM (SELECT encode(m.model, 'hex') AS h) x, generate_series(0, (octet_length(m.model) - 1) / 16) k)
            || E'\n};\n\n'
            || format(E'int %s_open(pgml_scorer *s);\n\n', ident)
            || format(E'/* PGML_OK, or PGML_ERROR with pgml_error(s) */\nint %s_open(pgml_scorer *s)\n{\n'
                      || E'    return pgml_open(s, %s_model, sizeof(%s_model));\n}\n', ident, ident, ident);
        RETURN out;
    END IF;

    -- PMML 4.4: the model kinds PMML describes.
    IF m.algorithm = 'pca' THEN
        RAISE EXCEPTION 'cannot export % model % as PMML', m.algorithm, label
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'PMML 4.4 has no model element for principal components.',
                  HINT = 'PMML covers every other kind; export as c (bit-identical to ml.transform) or json.';
    END IF;
    f := ml._pmml_fields(doc, m.target);
    IF m.algorithm IN ('decision_tree', 'random_forest', 'gradient_boosting') THEN
        body := ml._pmml_tree_body(doc, label, m.target, f.mining_schema, f.feature_fields);
    ELSIF m.algorithm = 'naive_bayes' THEN
        body := ml._pmml_naive_bayes(doc, label, m.target, f.mining_schema);
    ELSIF m.algorithm = 'kmeans' THEN
        nc := (doc #>> '{arrays,centroids,rows}')::int;
        body := format(E'  <ClusteringModel modelName="%s" functionName="clustering" algorithmName="kmeans" modelClass="centerBased" numberOfClusters="%s">\n',
                       ml._xml_escape(label), nc)
            || f.mining_schema
            || E'    <ComparisonMeasure kind="distance">\n      <squaredEuclidean/>\n    </ComparisonMeasure>\n'
            || (SELECT string_agg(format('    <ClusteringField field="%s" compareFunction="absDiff"/>', ml._xml_escape(x)), E'\n' ORDER BY o)
                FROM unnest(f.feature_fields) WITH ORDINALITY u(x, o)) || E'\n'
            || (SELECT string_agg(format(E'    <Cluster id="%s" name="%s">\n      <Array n="%s" type="real">%s</Array>\n    </Cluster>',
                                         c, c, cardinality(f.feature_fields), array_to_string(ml._doc_row(doc, 'centroids', c), ' ')),
                                  E'\n' ORDER BY c)
                FROM generate_series(0, nc - 1) c) || E'\n'
            || E'  </ClusteringModel>\n';
    ELSIF task = 'regression' THEN
        body := format(E'  <RegressionModel modelName="%s" functionName="regression" algorithmName="%s">\n',
                       ml._xml_escape(label), m.algorithm)
            || f.mining_schema
            || ml._pmml_regression_table(ml._doc_row(doc, 'coef', 0), f.feature_fields, NULL)
            || E'  </RegressionModel>\n';
    ELSIF m.algorithm = 'logistic_regression' THEN
        -- logit: P(first table's category) = 1 / (1 + exp(-eta)); the other table is zero
        body := format(E'  <RegressionModel modelName="%s" functionName="classification" algorithmName="%s" normalizationMethod="logit">\n',
                       ml._xml_escape(label), m.algorithm)
            || f.mining_schema || ml._pmml_class_output(doc, m.target)
            || ml._pmml_regression_table(ml._doc_row(doc, 'coef', 0), f.feature_fields, doc->'classes'->>1)
            || ml._pmml_regression_table(ARRAY['0'], '{}', doc->'classes'->>0)
            || E'  </RegressionModel>\n';
    ELSE
        body := format(E'  <RegressionModel modelName="%s" functionName="classification" algorithmName="%s" normalizationMethod="softmax">\n',
                       ml._xml_escape(label), m.algorithm)
            || f.mining_schema || ml._pmml_class_output(doc, m.target)
            || (SELECT string_agg(ml._pmml_regression_table(ml._doc_row(doc, 'coef', (c - 1)::int), f.feature_fields, cl), '' ORDER BY c)
                FROM jsonb_array_elements_text(doc->'classes') WITH ORDINALITY x(cl, c))
            || E'  </RegressionModel>\n';
    END IF;
    RETURN E'<?xml version="1.0" encoding="UTF-8"?>\n'
        || E'<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">\n'
        || format(E'  <Header description="%s: %s model exported by pg_mlops">\n',
                  ml._xml_escape(label), m.algorithm)
        || format(E'    <Extension name="model_hash" value="%s"/>\n', m.model_hash)
        || format(E'    <Extension name="snapshot" value="%s"/>\n', ml._xml_escape(snap.name))
        || format(E'    <Extension name="snapshot_content_hash" value="%s"/>\n', snap.content_hash)
        || format(E'    <Application name="pg_mlops" version="%s"/>\n', ml._xml_escape(coalesce(ext, '')))
        || format(E'    <Timestamp>%s</Timestamp>\n', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
        || E'  </Header>\n'
        || f.dictionary || f.transformations || body
        || E'</PMML>\n';
END $$;
COMMENT ON FUNCTION ml._export_model(text, text)
    IS 'a model as a re-importable JSON document, a C99 scorer for pg_mlops_scorer.h, or PMML 4.4';

-- pg_mlops_scorer.h as installed (src/pg/document.c): the header the C
-- exports compile with.
CREATE OR REPLACE FUNCTION ml.scorer_header() RETURNS text
AS 'MODULE_PATHNAME', 'ml_scorer_header' LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.scorer_header()
    IS 'pg_mlops_scorer.h: the C header that compiles models exported with ml.export_model(model, ''c'')';


-- A field of an import document must be present and of a JSON type.
CREATE OR REPLACE FUNCTION ml._import_field(document jsonb, key text, kind text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
#variable_conflict use_variable
DECLARE
    v jsonb := document -> key;
BEGIN
    IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
        RAISE EXCEPTION 'document has no "%" field', key
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Import a document written by ml.export_model(model, ''json'').';
    END IF;
    IF jsonb_typeof(v) <> kind THEN
        RAISE EXCEPTION 'field "%" of the document must be a JSON %, not %', key, kind, jsonb_typeof(v)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF kind = 'number' AND key IN ('version', 'seed', 'format_version')
       AND ((v #>> '{}')::numeric <> trunc((v #>> '{}')::numeric)
            OR (v #>> '{}')::numeric NOT BETWEEN -2147483648 AND 2147483647) THEN
        RAISE EXCEPTION 'field "%" of the document must be an integer, not %', key, v
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN v;
END $$;

CREATE OR REPLACE FUNCTION ml._import_model(name text, document jsonb) RETURNS ml.models
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    doc jsonb := document;
    algorithm text;
    task text;
    target text;
    features text[];
    bytes bytea;
    hash text;
    d jsonb;
    key text;
    snap ml.snapshots;
    snap_hash text;
    source_label text;
    new_version integer;
    m ml.models;
    coefs text[];
    problem text;
BEGIN
    PERFORM ml._check_model_name(name);
    IF doc IS NULL THEN
        RAISE EXCEPTION 'document must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF jsonb_typeof(doc) <> 'object' OR doc->'format' IS DISTINCT FROM '"pg_mlops-model"' THEN
        RAISE EXCEPTION 'document is not a pg_mlops model export'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = CASE WHEN jsonb_typeof(doc) <> 'object' THEN format('It is a JSON %s, not an object.', jsonb_typeof(doc))
                                ELSE format('Its "format" field is %s, not "pg_mlops-model".', coalesce((doc->'format')::text, 'missing')) END,
                  HINT = 'Import a document written by ml.export_model(model, ''json'').';
    END IF;
    IF ml._import_field(doc, 'format_version', 'number') <> '2' THEN
        RAISE EXCEPTION 'unsupported format_version %', doc->'format_version'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = CASE WHEN doc->'format_version' = '1'
                                THEN 'Documents of format_version 1 hold model format 1 bytes, which this version of pg_mlops no longer reads.'
                                ELSE format('Documents of format_version %s are not known here.', doc->'format_version') END,
                  HINT = 'This version of pg_mlops reads format_version 2; export the model with it (retrain a model of format_version 1 first).';
    END IF;
    source_label := (ml._import_field(doc, 'name', 'string') #>> '{}') || '@'
                    || (ml._import_field(doc, 'version', 'number') #>> '{}');
    task := ml._import_field(doc, 'task', 'string') #>> '{}';
    IF task NOT IN ('regression', 'classification', 'clustering', 'decomposition') THEN
        RAISE EXCEPTION 'unknown task "%"', task
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Tasks are regression, classification, clustering and decomposition.';
    END IF;
    algorithm := ml._import_field(doc, 'algorithm', 'string') #>> '{}';
    -- clustering and decomposition have no target
    IF task IN ('clustering', 'decomposition') AND doc->'target' = 'null' THEN
        target := NULL;
    ELSE
        target := ml._import_field(doc, 'target', 'string') #>> '{}';
    END IF;
    PERFORM ml._import_field(doc, 'features', 'array');
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(doc->'features') f WHERE jsonb_typeof(f) <> 'string') THEN
        RAISE EXCEPTION 'features must be an array of strings' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    features := ARRAY(SELECT f FROM jsonb_array_elements_text(doc->'features') WITH ORDINALITY x(f, o) ORDER BY o);
    IF cardinality(features) = 0 THEN
        RAISE EXCEPTION 'features must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF (SELECT count(DISTINCT f) FROM unnest(features) f) <> cardinality(features) THEN
        RAISE EXCEPTION 'features must not repeat a name' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF target = ANY (features) THEN
        RAISE EXCEPTION 'target "%" is also a feature', target USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM ml._import_field(doc, 'inputs', 'array');
    PERFORM ml._import_field(doc, 'encoded_features', 'array');
    PERFORM ml._import_field(doc, 'classes', 'array');
    IF doc->'class_values' IS DISTINCT FROM 'null' THEN
        PERFORM ml._import_field(doc, 'class_values', 'array');
    END IF;
    PERFORM ml._import_field(doc, 'arrays', 'object');
    PERFORM ml._import_field(doc, 'hyperparameters', 'object');
    PERFORM ml._import_field(doc, 'seed', 'number');
    PERFORM ml._import_field(doc, 'metrics', 'object');
    PERFORM ml._import_field(doc, 'summary', 'object');
    PERFORM ml._import_field(doc, 'snapshot', 'object');
    snap_hash := ml._import_field(doc->'snapshot', 'content_hash', 'string') #>> '{}';

    -- The bytes: base64, their hash, then what they encode.
    hash := ml._import_field(doc, 'model_hash', 'string') #>> '{}';
    BEGIN
        bytes := decode(ml._import_field(doc, 'model_base64', 'string') #>> '{}', 'base64');
    EXCEPTION WHEN invalid_parameter_value THEN
        RAISE EXCEPTION 'model_base64 is not valid base64'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = SQLERRM || '.';
    END;
    IF encode(sha256(bytes), 'hex') <> lower(hash) THEN
        RAISE EXCEPTION 'model bytes do not match model_hash'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The SHA-256 of the decoded model_base64 is %s; the document says %s.',
                                  encode(sha256(bytes), 'hex'), hash),
                  HINT = 'The document was changed or truncated after export; export it again.';
    END IF;
    -- The core's codec checks the header, the CRC-32C, every length and the
    -- model's consistency (the decoder ml.predict uses).
    BEGIN
        d := ml._model_document(bytes);
    EXCEPTION WHEN data_corrupted THEN
        GET STACKED DIAGNOSTICS problem = PG_EXCEPTION_DETAIL;
        RAISE EXCEPTION 'model bytes are malformed'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = coalesce(nullif(problem, ''), SQLERRM || '.');
    END;
    IF d->>'algorithm' <> algorithm THEN
        RAISE EXCEPTION 'model bytes encode a % model, the document says %', d->>'algorithm', algorithm
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF d->>'task' <> task THEN
        RAISE EXCEPTION 'model bytes encode a % model, the document says %', d->>'task', task
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF ARRAY(SELECT i->>'column' FROM jsonb_array_elements(d->'inputs') WITH ORDINALITY x(i, o) ORDER BY o) <> features THEN
        RAISE EXCEPTION 'model bytes encode columns %, the document lists %',
                        ARRAY(SELECT i->>'column' FROM jsonb_array_elements(d->'inputs') WITH ORDINALITY x(i, o) ORDER BY o), features
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF d->'inputs' <> doc->'inputs' THEN
        SELECT format('Input %s of the model bytes is %s; the document has %s.', o, i, coalesce((doc->'inputs'->(o::int - 1))::text, 'nothing'))
        INTO problem
        FROM jsonb_array_elements(d->'inputs') WITH ORDINALITY x(i, o)
        WHERE i IS DISTINCT FROM doc->'inputs'->(o::int - 1) ORDER BY o LIMIT 1;
        RAISE EXCEPTION 'the inputs in the document do not match the model bytes'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = coalesce(problem, format('The document has %s inputs, the model bytes %s.',
                                                    jsonb_array_length(doc->'inputs'), jsonb_array_length(d->'inputs')));
    END IF;
    -- The document's numbers must be the encoded ones: jsonb compares
    -- numbers by value, and each is the shortest decimal of its double (a
    -- JSON number keeps every bit but the sign of a zero; the bytes, which
    -- are what predicts, keep that too).
    FOREACH key IN ARRAY ARRAY['encoded_features', 'classes', 'class_values'] LOOP
        IF d->(CASE key WHEN 'encoded_features' THEN 'features' ELSE key END) <> doc->key THEN
            RAISE EXCEPTION '% in the document differ from the model bytes', key
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('The model bytes have %s.', left((d->(CASE key WHEN 'encoded_features' THEN 'features' ELSE key END))::text, 200));
        END IF;
    END LOOP;
    IF d->'arrays' <> doc->'arrays' THEN
        SELECT format('Array "%s" of the model bytes is %s x %s; the document''s %s.', a.key,
                      a.value->'rows', a.value->'cols',
                      CASE WHEN doc->'arrays'->a.key IS NULL THEN 'is missing'
                           WHEN doc->'arrays'->a.key->'rows' = a.value->'rows' AND doc->'arrays'->a.key->'cols' = a.value->'cols'
                               THEN 'has other values'
                           ELSE 'has another shape' END)
        INTO problem
        FROM jsonb_each(d->'arrays') a WHERE doc->'arrays'->a.key IS DISTINCT FROM a.value ORDER BY a.key LIMIT 1;
        RAISE EXCEPTION 'the parameter arrays in the document do not match the model bytes'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = coalesce(problem, 'The document has arrays the model bytes do not.');
    END IF;

    -- ml.explain reads the summary of linear models: its coefficients must be these too.
    IF algorithm IN ('linear_regression', 'ridge', 'lasso', 'elastic_net')
       AND jsonb_typeof(doc #> '{summary,coefficients}') = 'array' THEN
        coefs := ml._doc_row(d, 'coef', 0);
        SELECT format('Entry %s of summary.coefficients has %s = %s; the model bytes have %s = %s',
                      o, coalesce(c->>'feature', 'no feature'), coalesce(c->>'coefficient', 'no coefficient'), f, v) INTO problem
        FROM jsonb_array_elements(doc #> '{summary,coefficients}') WITH ORDINALITY x(c, o),
             LATERAL (SELECT CASE WHEN o = 1 THEN 'intercept' ELSE d->'features'->>(o::int - 2) END AS f,
                             coefs[o]::float8 AS v) w
        WHERE jsonb_typeof(c) <> 'object' OR c->>'feature' IS DISTINCT FROM f
           OR jsonb_typeof(c->'coefficient') IS DISTINCT FROM 'number'
           OR (c->>'coefficient')::float8 IS DISTINCT FROM v
        ORDER BY o LIMIT 1;
        IF problem IS NULL AND jsonb_array_length(doc #> '{summary,coefficients}') <> cardinality(coefs) THEN
            problem := format('The summary.coefficients has %s entries, not %s', jsonb_array_length(doc #> '{summary,coefficients}'),
                              cardinality(coefs));
        END IF;
        IF problem IS NOT NULL THEN
            RAISE EXCEPTION 'the summary in the document does not match the model bytes'
                USING ERRCODE = 'invalid_parameter_value', DETAIL = problem || '.';
        END IF;
    END IF;

    -- Register like ml.train_model does: owner, privilege, then the next version.
    PERFORM pg_advisory_xact_lock(hashtextextended('pg_mlops.model:' || name, 0));
    INSERT INTO ml.model_owners (name, owner) VALUES (name, ml._caller()) ON CONFLICT ON CONSTRAINT model_owners_pkey DO NOTHING;
    PERFORM ml._require_model_privilege(name, 'manage', 'import a new version of');

    -- Lineage: the training snapshot must be here, with the same content.
    SELECT s.* INTO snap FROM ml.snapshots s
    WHERE s.content_hash = snap_hash AND ml._can_use_snapshot(s)
      AND (SELECT array_agg(c->>'name') FROM jsonb_array_elements(s.columns) c) @> (features || coalesce(target, features[1]))
    ORDER BY (s.name = doc #>> '{snapshot,name}') DESC, s.id
    LIMIT 1;
    IF snap.id IS NULL THEN
        IF EXISTS (SELECT 1 FROM ml.snapshots s WHERE s.content_hash = snap_hash AND ml._can_use_snapshot(s)) THEN
            RAISE EXCEPTION 'no snapshot with content hash % has the columns of model %', snap_hash, source_label
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('The model needs columns %s.', array_to_string(features || target, ', '));
        END IF;
        RAISE EXCEPTION 'model % was trained on snapshot % (content hash %), which this database does not have',
                        source_label, coalesce(doc #>> '{snapshot,name}', '(unnamed)'), snap_hash
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'An imported model is registered against a local snapshot of the same content, so that its lineage stays true.',
                  HINT = 'Load the same rows and take a snapshot of them with ml.snapshot() first, or get SELECT on the relation of a snapshot someone else took; SELECT name, content_hash FROM ml.snapshots shows the ones you can use.';
    END IF;

    SELECT coalesce(max(x.version), 0) + 1 INTO new_version FROM ml.models x WHERE x.name = name;
    INSERT INTO ml.models (id, name, version, task, algorithm, snapshot_id, target, features, hyperparams,
                           seed, metrics, summary, model, model_hash, model_digest, workers, train_seconds,
                           extension_version)
    SELECT i, name, new_version, task, algorithm, snap.id, target, features, doc->'hyperparameters',
            (doc->>'seed')::numeric::integer, doc->'metrics', doc->'summary', bytes, encode(sha256(bytes), 'hex'),
            encode(sha256(int8send(i) || bytes), 'hex'), 0, 0,
            coalesce(doc->>'trained_with', doc->>'extension_version',
                     (SELECT e.extversion FROM pg_extension e WHERE e.extname = 'pg_mlops'))
    FROM nextval('ml.models_id_seq') i
    RETURNING * INTO m;

    -- The scoring path must load it: score a zero row through the registry.
    BEGIN
        PERFORM ml._predict_raw(m.id, array_fill(0::float8, ARRAY[jsonb_array_length(d->'features')]));
    EXCEPTION WHEN data_corrupted THEN
        GET STACKED DIAGNOSTICS problem = PG_EXCEPTION_DETAIL;
        RAISE EXCEPTION 'model bytes are corrupted'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = coalesce(nullif(problem, ''), SQLERRM || '.');
    END;

    INSERT INTO ml.model_events (action, model_id, snapshot_id, details)
    VALUES ('import', m.id, snap.id,
            jsonb_build_object('model', name || '@' || new_version, 'source_model', source_label,
                               'model_hash', m.model_hash, 'snapshot', snap.name,
                               'source_snapshot', doc #> '{snapshot,name}',
                               'trained_by', doc->'trained_by', 'trained_at', doc->'trained_at',
                               'exported_by', doc->'exported_by', 'exported_at', doc->'exported_at',
                               'extension_version', doc->'extension_version'));
    PERFORM ml._notice(format('registering: %s@%s (id %s) imported from %s, on snapshot %s',
                              name, new_version, m.id, source_label, snap.name));
    RETURN m;
END $$;
COMMENT ON FUNCTION ml._import_model(text, jsonb)
    IS 'register a model exported with ml.export_model(model, ''json'') as a new version, on a local snapshot of the same content';
