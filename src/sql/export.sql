-- Export: a registered model as a JSON document, a standalone C99 scorer
-- or PMML, and the import of a JSON document as a new version.

----------------------------------------------------------------------------
-- Model export and import
--
-- ml.export_model writes a registered model as a JSON document (complete,
-- re-importable), a standalone C99 scorer or PMML 4.4; ml.import_model
-- registers a JSON document as a new version.  The coefficients always come
-- from the encoded model bytes (what ml.predict uses), decoded by the core's
-- codec (ml._model_document).  Linear models over numeric and boolean
-- columns export; the others (categories, time columns, other algorithms)
-- are refused with feature_not_supported.
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

-- The linear family export writes: models whose prediction is intercept +
-- sum of coef[j] * x[j] over the input columns themselves.
CREATE OR REPLACE FUNCTION ml._exportable_algorithms() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT '{linear_regression,ridge,lasso,elastic_net}'::text[]
$$;

-- An encoded linear model through ml._model_document.  problem is NULL for
-- bytes that decode, else says why not; unsupported is NULL for a model of
-- the linear family whose inputs are all numeric or boolean columns (one
-- feature each, the column itself), else says why it cannot be exported.
-- impute: per feature, what ml.predict uses for a NULL (NULL: an error).
-- The coefficients are the encoded bits: "coef" is the last array of the
-- payload, so they are read from the tail of the bytes (keeping the sign of
-- a zero, which JSON numbers lose) and checked against the document.
CREATE OR REPLACE FUNCTION ml._decode_linear(model bytea, OUT algorithm text, OUT features text[],
                                  OUT intercept float8, OUT coefficients float8[], OUT problem text,
                                  OUT unsupported text, OUT impute float8[], OUT document jsonb)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
#variable_conflict use_variable
DECLARE
    doc jsonb;
    coef jsonb;
    bad jsonb;
    p integer;
    len integer := octet_length(model);
    tail float8[];
BEGIN
    features := '{}';
    coefficients := '{}';
    BEGIN
        doc := ml._model_document(model);
    EXCEPTION WHEN data_corrupted THEN
        GET STACKED DIAGNOSTICS problem = PG_EXCEPTION_DETAIL;
        problem := rtrim(coalesce(nullif(problem, ''), SQLERRM), '.');
        RETURN;
    END;
    document := doc;
    algorithm := doc->>'algorithm';
    features := ARRAY(SELECT f FROM jsonb_array_elements_text(doc->'features') WITH ORDINALITY x(f, o) ORDER BY o);
    IF algorithm <> ALL (ml._exportable_algorithms()) THEN
        unsupported := format('A %s model is not a linear regression.', algorithm);
        RETURN;
    END IF;
    SELECT i INTO bad FROM jsonb_array_elements(doc->'inputs') WITH ORDINALITY x(i, o)
    WHERE i->>'kind' NOT IN ('number', 'bool') OR (i->'width')::int <> 1 ORDER BY o LIMIT 1;
    IF bad IS NOT NULL THEN
        unsupported := format('Column "%s" is %s.', bad->>'column',
                              CASE bad->>'kind'
                                  WHEN 'category' THEN format('a text column, one-hot encoded into %s features', bad->'width')
                                  WHEN 'time' THEN 'a date or time column, encoded as seconds since 1970'
                                  ELSE format('encoded as %s into %s features', bad->>'kind', bad->'width') END);
        RETURN;
    END IF;
    impute := ARRAY(SELECT (i->>'impute')::float8 FROM jsonb_array_elements(doc->'inputs') WITH ORDINALITY x(i, o) ORDER BY o);
    p := cardinality(features);
    coef := doc #> '{arrays,coef}';
    IF coef IS NULL OR (coef->'rows')::int <> 1 OR (coef->'cols')::int <> p + 1 THEN
        problem := format('no 1 x %s coefficient array', p + 1);
        RETURN;
    END IF;
    intercept := (coef #>> '{data,0}')::float8;
    coefficients := ARRAY(SELECT c::float8 FROM jsonb_array_elements_text(coef->'data') WITH ORDINALITY x(c, o)
                          WHERE o > 1 ORDER BY o);
    IF (SELECT count(*) FROM jsonb_object_keys(doc->'arrays')) = 1 THEN
        tail := ARRAY(SELECT ml._float8_le(model, len - 8 * (p + 1) + 8 * k) FROM generate_series(0, p) k ORDER BY k);
        IF tail = intercept || coefficients THEN
            intercept := tail[1];
            coefficients := tail[2:];
        END IF;
    END IF;
END $$;

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
    d record;
    ext text := (SELECT e.extversion FROM pg_extension e WHERE e.extname = 'pg_mlops');
    label text;
    ident text;
    p integer;
    out text;
BEGIN
    IF format IS NULL OR format NOT IN ('json', 'c', 'pmml') THEN
        RAISE EXCEPTION 'unknown export format "%"', coalesce(format, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Formats are json (complete, re-importable with ml.import_model), c (standalone C99 scorer) and pmml (PMML 4.4).';
    END IF;
    SELECT * INTO m FROM ml.models x WHERE x.id = ml._resolve_model(model);
    PERFORM ml._require_model_privilege(m.name, 'use', 'export');
    label := m.name || '@' || m.version;
    IF m.algorithm <> ALL (ml._exportable_algorithms()) THEN
        RAISE EXCEPTION 'cannot export % model %', m.algorithm, label
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = format('A %s model is not a linear regression.', m.algorithm),
                  HINT = 'Only linear models (linear_regression, ridge, lasso, elastic_net) over numeric and boolean columns export; score this model in the database with ml.predict.';
    END IF;
    IF encode(sha256(m.model), 'hex') <> m.model_hash THEN
        RAISE EXCEPTION 'model bytes of % do not match its registered hash', label
            USING ERRCODE = 'data_corrupted';
    END IF;
    d := ml._decode_linear(m.model);
    IF d.problem IS NOT NULL THEN
        RAISE EXCEPTION 'model bytes of % are corrupted', label
            USING ERRCODE = 'data_corrupted', DETAIL = d.problem || '.';
    END IF;
    IF d.unsupported IS NOT NULL THEN
        RAISE EXCEPTION 'cannot export % model %', m.algorithm, label
            USING ERRCODE = 'feature_not_supported', DETAIL = d.unsupported,
                  HINT = 'Only linear models (linear_regression, ridge, lasso, elastic_net) over numeric and boolean columns export; score this model in the database with ml.predict.';
    END IF;
    IF d.features <> m.features OR d.algorithm <> m.algorithm THEN
        RAISE EXCEPTION 'model bytes of % do not match its registry row', label
            USING ERRCODE = 'data_corrupted',
                  DETAIL = format('The bytes encode a %s model of features %s; the registry says %s of %s.',
                                  d.algorithm, d.features, m.algorithm, m.features);
    END IF;
    -- (NaN sorts above Infinity, so it fails the test too.)
    IF NOT (d.intercept > '-Infinity' AND d.intercept < 'Infinity')
       OR EXISTS (SELECT 1 FROM unnest(d.coefficients) c WHERE NOT (c > '-Infinity' AND c < 'Infinity')) THEN
        RAISE EXCEPTION 'model % has a coefficient that is not finite', label
            USING ERRCODE = 'data_corrupted';
    END IF;
    SELECT * INTO snap FROM ml.snapshots s WHERE s.id = m.snapshot_id;
    p := cardinality(d.features);

    IF format = 'json' THEN
        -- Keys in a fixed order, one per line; values compact.
        SELECT E'{\n' || string_agg(format('  %s: %s', to_json(k), v), E',\n' ORDER BY o) || E'\n}'
        INTO out
        FROM (VALUES
            (1, 'format', to_json('pg_mlops-model'::text)),
            (2, 'format_version', to_json(2)),
            (3, 'name', to_json(m.name)),
            (4, 'version', to_json(m.version)),
            (5, 'task', to_json(m.task)),
            (6, 'algorithm', to_json(m.algorithm)),
            (7, 'target', to_json(m.target)),
            (8, 'features', to_json(d.features)),
            (9, 'inputs', to_json(d.document->'inputs')),
            (10, 'hyperparameters', to_json(m.hyperparams)),
            (11, 'seed', to_json(m.seed)),
            (12, 'intercept', to_json(d.intercept)),
            (13, 'coefficients', to_json(d.coefficients)),
            (14, 'metrics', to_json(m.metrics)),
            (15, 'summary', to_json(m.summary)),
            (16, 'model_hash', to_json(m.model_hash)),
            (17, 'model_base64', to_json(translate(encode(m.model, 'base64'), E'\n', ''))),
            (18, 'snapshot', to_json(jsonb_build_object('name', snap.name, 'content_hash', snap.content_hash,
                                                        'rows', snap.row_count))),
            (19, 'trained_by', to_json(m.trained_by)),
            (20, 'trained_at', to_json(m.trained_at)),
            (21, 'trained_with', to_json(m.extension_version)),
            (22, 'exported_by', to_json(ml._caller()::text)),
            (23, 'exported_at', to_json(now())),
            (24, 'extension_version', to_json(ext))) AS f(o, k, v);
        RETURN out;
    END IF;

    IF format = 'c' THEN
        ident := ml._c_ident(m.name);
        out := array_to_string(ARRAY[
            '/*',
            format(' * %s: %s model exported by pg_mlops %s at %s.', ml._c_comment(label), m.algorithm,
                   coalesce(ext, '?'), to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
            format(' * Model hash (SHA-256 of the encoded model): %s', m.model_hash),
            format(' * Trained on snapshot %s (content hash %s).', ml._c_comment(snap.name), snap.content_hash),
            format(' * Target: %s', ml._c_comment(m.target)),
            ' *',
            format(' * double %s_predict(const double *x) returns', ident),
            format(' *     intercept + %s,',
                   CASE p WHEN 1 THEN 'coef[0] * x[0]' WHEN 2 THEN 'coef[0] * x[0] + coef[1] * x[1]'
                          ELSE format('coef[0] * x[0] + ... + coef[%s] * x[%s]', p - 1, p - 1) END),
            ' * summed left to right in double precision, exactly as ml.predict does.',
            ' * Compiled without floating-point contraction or reassociation (gcc or',
            ' * clang: -ffp-contract=off, and no -ffast-math) where double is IEEE-754',
            ' * binary64 evaluated in double (FLT_EVAL_METHOD 0: x86-64, AArch64), the',
            ' * result is bit-identical to',
            format(' *     ml.predict(%s, ARRAY[x[0], x[1], ...]::float8[]).', ml._c_comment(quote_literal(label))),
            ' * Coefficients are hexadecimal floating literals: the exact bits.',
            ' * Standalone C99: no header, no library.',
            ' *',
            format(' * A missing value (NULL) has no double: pass %s_impute[j] for it,', ident),
            ' * the value ml.predict substitutes (the train split''s mean or median, or',
            ' * 0; 0 with a comment where the model was trained with "impute": "error").',
            ' *',
            ' * Feature order:'],
            E'\n') || E'\n'
            || (SELECT string_agg(format(' *   x[%s]  %s', j - 1, ml._c_comment(d.features[j])), E'\n' ORDER BY j)
                FROM generate_series(1, p) j)
            || E'\n */\n\n'
            || format(E'#define %s_N_FEATURES %s\n\n', upper(ident), p)
            || format(E'const char *const %s_features[%s] = {\n', ident, p)
            || (SELECT string_agg('    ' || ml._c_string(d.features[j]), E',\n' ORDER BY j) FROM generate_series(1, p) j)
            || E'\n};\n\n'
            || format(E'const double %s_impute[%s] = {\n', ident, p)
            || (SELECT string_agg(format('    %s%s /* %s if NULL: %s */', coalesce(ml._float8_hex(d.impute[j]), '0x0p+0'),
                                         CASE WHEN j < p THEN ',' ELSE '' END, ml._c_comment(d.features[j]),
                                         coalesce(d.impute[j]::text, 'none, NULL is an error')), E'\n' ORDER BY j)
                FROM generate_series(1, p) j)
            || E'\n};\n\n'
            || format(E'static const double %s_intercept = %s; /* %s */\n\n', ident, ml._float8_hex(d.intercept), d.intercept)
            || format(E'static const double %s_coef[%s] = {\n', ident, p)
            || (SELECT string_agg(format('    %s%s /* %s: %s */', ml._float8_hex(d.coefficients[j]),
                                         CASE WHEN j < p THEN ',' ELSE '' END, ml._c_comment(d.features[j]),
                                         d.coefficients[j]), E'\n' ORDER BY j)
                FROM generate_series(1, p) j)
            || E'\n};\n\n'
            || format(E'double %s_predict(const double *x);\n\n', ident)
            || format(E'double %s_predict(const double *x)\n{\n    double acc = %s_intercept;\n    int j;\n\n'
                      || E'    for (j = 0; j < %s_N_FEATURES; j++)\n        acc += %s_coef[j] * x[j];\n    return acc;\n}\n',
                      ident, ident, upper(ident), ident);
        RETURN out;
    END IF;

    -- PMML 4.4 RegressionModel.
    out := E'<?xml version="1.0" encoding="UTF-8"?>\n'
        || E'<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">\n'
        || format(E'  <Header description="%s: %s model exported by pg_mlops">\n',
                  ml._xml_escape(label), m.algorithm)
        || format(E'    <Extension name="model_hash" value="%s"/>\n', m.model_hash)
        || format(E'    <Extension name="snapshot" value="%s"/>\n', ml._xml_escape(snap.name))
        || format(E'    <Extension name="snapshot_content_hash" value="%s"/>\n', snap.content_hash)
        || format(E'    <Application name="pg_mlops" version="%s"/>\n', ml._xml_escape(coalesce(ext, '')))
        || format(E'    <Timestamp>%s</Timestamp>\n', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
        || E'  </Header>\n'
        || format(E'  <DataDictionary numberOfFields="%s">\n', p + 1)
        || (SELECT string_agg(format('    <DataField name="%s" optype="continuous" dataType="double"/>',
                                     ml._xml_escape(f)), E'\n' ORDER BY o)
            FROM unnest(d.features || m.target) WITH ORDINALITY u(f, o))
        || E'\n  </DataDictionary>\n'
        || format(E'  <RegressionModel modelName="%s" functionName="regression" algorithmName="%s">\n',
                  ml._xml_escape(label), m.algorithm)
        || E'    <MiningSchema>\n'
        || (SELECT string_agg(format('      <MiningField name="%s" usageType="active" %s/>', ml._xml_escape(f),
                                     CASE WHEN v IS NULL THEN 'missingValueTreatment="returnInvalid"'
                                          ELSE format('missingValueReplacement="%s"', v) END), E'\n' ORDER BY o)
            FROM unnest(d.features, d.impute) WITH ORDINALITY u(f, v, o))
        || format(E'\n      <MiningField name="%s" usageType="target"/>\n', ml._xml_escape(m.target))
        || E'    </MiningSchema>\n'
        || format(E'    <RegressionTable intercept="%s">\n', d.intercept)
        || (SELECT string_agg(format('      <NumericPredictor name="%s" exponent="1" coefficient="%s"/>',
                                     ml._xml_escape(d.features[j]), d.coefficients[j]), E'\n' ORDER BY j)
            FROM generate_series(1, p) j)
        || E'\n    </RegressionTable>\n'
        || E'  </RegressionModel>\n'
        || E'</PMML>\n';
    RETURN out;
END $$;
COMMENT ON FUNCTION ml._export_model(text, text)
    IS 'a model as a re-importable JSON document, a standalone C99 scorer or PMML 4.4';

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
    target text;
    features text[];
    coefs float8[];
    intercept float8;
    bytes bytea;
    hash text;
    d record;
    snap ml.snapshots;
    snap_hash text;
    source_label text;
    new_version integer;
    m ml.models;
    pred float8;
    problem text;
    j integer;
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
    IF ml._import_field(doc, 'task', 'string') <> '"regression"' THEN
        RAISE EXCEPTION 'unknown task %', doc->'task'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Models of task regression can be imported.';
    END IF;
    algorithm := ml._import_field(doc, 'algorithm', 'string') #>> '{}';
    IF algorithm <> ALL (ml._exportable_algorithms()) THEN
        RAISE EXCEPTION 'unknown algorithm "%"', algorithm
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Algorithms are ' || array_to_string(ml._exportable_algorithms(), ', ') || '.';
    END IF;
    target := ml._import_field(doc, 'target', 'string') #>> '{}';
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
    PERFORM ml._import_field(doc, 'hyperparameters', 'object');
    PERFORM ml._import_field(doc, 'seed', 'number');
    intercept := (ml._import_field(doc, 'intercept', 'number') #>> '{}')::float8;
    PERFORM ml._import_field(doc, 'coefficients', 'array');
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(doc->'coefficients') c WHERE jsonb_typeof(c) <> 'number') THEN
        RAISE EXCEPTION 'coefficients must be an array of numbers' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    coefs := ARRAY(SELECT c::float8 FROM jsonb_array_elements_text(doc->'coefficients') WITH ORDINALITY x(c, o) ORDER BY o);
    IF cardinality(coefs) <> cardinality(features) THEN
        RAISE EXCEPTION 'document has % coefficients for % features', cardinality(coefs), cardinality(features)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
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
    d := ml._decode_linear(bytes);
    IF d.problem IS NOT NULL THEN
        RAISE EXCEPTION 'model bytes are malformed' USING ERRCODE = 'invalid_parameter_value', DETAIL = d.problem || '.';
    END IF;
    IF d.unsupported IS NOT NULL THEN
        RAISE EXCEPTION 'cannot import a % model of these columns', d.algorithm
            USING ERRCODE = 'feature_not_supported', DETAIL = d.unsupported,
                  HINT = 'Only linear models (linear_regression, ridge, lasso, elastic_net) over numeric and boolean columns export and import.';
    END IF;
    IF d.algorithm <> algorithm THEN
        RAISE EXCEPTION 'model bytes encode a % model, the document says %', d.algorithm, algorithm
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF d.features <> features THEN
        RAISE EXCEPTION 'model bytes encode features %, the document lists %', d.features, features
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF d.document->'inputs' <> doc->'inputs' THEN
        SELECT format('Input %s of the model bytes is %s; the document has %s.', o, i, coalesce((doc->'inputs'->(o::int - 1))::text, 'nothing'))
        INTO problem
        FROM jsonb_array_elements(d.document->'inputs') WITH ORDINALITY x(i, o)
        WHERE i IS DISTINCT FROM doc->'inputs'->(o::int - 1) ORDER BY o LIMIT 1;
        RAISE EXCEPTION 'the inputs in the document do not match the model bytes'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = coalesce(problem, format('The document has %s inputs, the model bytes %s.',
                                                    jsonb_array_length(doc->'inputs'), jsonb_array_length(d.document->'inputs')));
    END IF;
    -- The document's numbers must be the encoded ones: the same float8 (a
    -- JSON number keeps every bit but the sign of a zero; the bytes, which
    -- are what predicts, keep that too).
    IF d.intercept <> intercept THEN
        RAISE EXCEPTION 'intercept % in the document differs from the model bytes (%)', intercept, d.intercept
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR j IN 1 .. cardinality(features) LOOP
        IF d.coefficients[j] <> coefs[j] THEN
            RAISE EXCEPTION 'coefficient of feature "%" in the document differs from the model bytes', features[j]
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('The document says %s, the model bytes %s.', coefs[j], d.coefficients[j]);
        END IF;
    END LOOP;

    -- ml.explain reads the summary: its coefficients must be these too.
    IF jsonb_typeof(doc #> '{summary,coefficients}') = 'array' THEN
        SELECT format('Entry %s of summary.coefficients has %s = %s; the model bytes have %s = %s',
                      o, coalesce(c->>'feature', 'no feature'), coalesce(c->>'coefficient', 'no coefficient'), f, v) INTO problem
        FROM jsonb_array_elements(doc #> '{summary,coefficients}') WITH ORDINALITY x(c, o),
             LATERAL (SELECT CASE WHEN o = 1 THEN 'intercept' ELSE features[o - 1] END AS f,
                             CASE WHEN o = 1 THEN intercept ELSE coefs[o - 1] END AS v) w
        WHERE jsonb_typeof(c) <> 'object' OR c->>'feature' IS DISTINCT FROM f
           OR jsonb_typeof(c->'coefficient') IS DISTINCT FROM 'number'
           OR (c->>'coefficient')::float8 IS DISTINCT FROM v
        ORDER BY o LIMIT 1;
        IF problem IS NULL AND jsonb_array_length(doc #> '{summary,coefficients}') <> cardinality(features) + 1 THEN
            problem := format('The summary.coefficients has %s entries, not %s', jsonb_array_length(doc #> '{summary,coefficients}'),
                              cardinality(features) + 1);
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
      AND (SELECT array_agg(c->>'name') FROM jsonb_array_elements(s.columns) c) @> (features || target)
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
    SELECT i, name, new_version, 'regression', algorithm, snap.id, target, features, doc->'hyperparameters',
            (doc->>'seed')::numeric::integer, doc->'metrics', doc->'summary', bytes, encode(sha256(bytes), 'hex'),
            encode(sha256(int8send(i) || bytes), 'hex'), 0, 0,
            coalesce(doc->>'trained_with', doc->>'extension_version',
                     (SELECT e.extversion FROM pg_extension e WHERE e.extname = 'pg_mlops'))
    FROM nextval('ml.models_id_seq') i
    RETURNING * INTO m;

    -- The codec (with its CRC) must accept the bytes: score a zero row.
    BEGIN
        pred := ml.predict(m.id, array_fill(0::float8, ARRAY[cardinality(features)]));
    EXCEPTION WHEN data_corrupted THEN
        GET STACKED DIAGNOSTICS problem = PG_EXCEPTION_DETAIL;
        RAISE EXCEPTION 'model bytes are corrupted'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = coalesce(nullif(problem, ''), SQLERRM || '.');
    END;
    IF pred IS DISTINCT FROM d.intercept THEN
        RAISE EXCEPTION 'imported model scores % on a zero row, not its intercept %', pred, d.intercept
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

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
