-- Training: the preprocessing plan read from a snapshot, hyperparameter
-- checks and searches, the C fit (ml._fit) and ml.train_model, which
-- registers a new model version.

CREATE OR REPLACE FUNCTION ml._fit(relation regclass, plan jsonb, algorithm text, hyperparams jsonb,
                        trials jsonb, folds integer, options jsonb DEFAULT NULL,
                        OUT task text, OUT model bytea, OUT effective_hyperparams jsonb,
                        OUT metrics jsonb, OUT summary jsonb, OUT history jsonb,
                        OUT workers integer, OUT trials jsonb)
AS 'MODULE_PATHNAME', 'ml_fit' LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION ml._check_hyperparams(algorithm text, hyperparams jsonb) RETURNS void
AS 'MODULE_PATHNAME', 'ml_check_hyperparams' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION ml._algorithm_task(algorithm text) RETURNS text
AS 'MODULE_PATHNAME', 'ml_algorithm_task_sql' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

-- The algorithms that train for a task (trees for both supervised ones), for hints.
CREATE OR REPLACE FUNCTION ml._algorithms_for(task text) RETURNS text[]
AS 'MODULE_PATHNAME', 'ml_algorithms_for_sql' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION ml.blas_info(OUT threads integer, OUT sequential boolean, OUT process_threads integer)
AS 'MODULE_PATHNAME', 'ml_blas_info' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION ml.blas_info() IS 'OpenBLAS build loaded in this backend and the backend''s thread count';

-- The hint for a target that is not a number where a regression needs one.
CREATE OR REPLACE FUNCTION ml._regression_target_hint(algorithm text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN ml._algorithm_task(algorithm) = 'tree'
                THEN format('Leave "task" out: %s classifies a text or boolean target.', algorithm)
                ELSE format('%s is a regression; for labels use a classifier: %s.', algorithm,
                            array_to_string(ml._algorithms_for('classification'), ', ')) END
$$;

-- Checks of the target and features a training names against the columns
-- of a source that is about to be copied into a snapshot (as
-- ml._query_columns describes them), so that a training that cannot work
-- fails before any row is copied.  The same checks run again on the
-- snapshot (ml._train_model, ml._read_training_plan) for snapshot sources.
CREATE OR REPLACE FUNCTION ml._check_training_columns(cols jsonb, what text, target text, features text[],
                                                      algorithm text, hyperparams jsonb) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
#variable_conflict use_variable
DECLARE
    task text := ml._algorithm_task(algorithm);
    names text[] := ARRAY(SELECT c->>'name' FROM jsonb_array_elements(cols) WITH ORDINALITY x(c, o) ORDER BY o);
    ttype text;
    f text;
BEGIN
    IF task IN ('clustering', 'decomposition') THEN
        IF target IS NOT NULL THEN
            RAISE EXCEPTION '% is unsupervised and takes no target', algorithm
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Pass target => NULL; every column in features is an input.';
        END IF;
    ELSE
        IF target IS NULL THEN
            RAISE EXCEPTION 'target must not be NULL for %', algorithm USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF NOT target = ANY (names) THEN
            RAISE EXCEPTION 'column "%" does not exist in %', target, what
                USING ERRCODE = 'undefined_column',
                      DETAIL = 'Nothing was copied: the target is checked before the snapshot is taken.',
                      HINT = format('The source has columns %s.', array_to_string(names, ', '));
        END IF;
        ttype := (SELECT c->>'snapshot_type' FROM jsonb_array_elements(cols) c WHERE c->>'name' = target LIMIT 1);
        IF (task = 'regression' OR task = 'tree' AND hyperparams->>'task' = 'regression')
           AND NOT ml._is_number_type(ttype) THEN
            RAISE EXCEPTION 'target column "%" is of type %, not a number', target, ttype
                USING ERRCODE = 'datatype_mismatch',
                      DETAIL = 'Nothing was copied: the target is checked before the snapshot is taken.',
                      HINT = ml._regression_target_hint(algorithm);
        END IF;
    END IF;
    FOREACH f IN ARRAY coalesce(features, '{}') LOOP
        IF f IS NOT NULL AND NOT f = ANY (names) THEN
            RAISE EXCEPTION 'column "%" does not exist in %', f, what
                USING ERRCODE = 'undefined_column',
                      DETAIL = 'Nothing was copied: the features are checked before the snapshot is taken.',
                      HINT = format('The source has columns %s.', array_to_string(names, ', '));
        END IF;
    END LOOP;
END $$;

-- Find or take the snapshot a training source names; a source to be copied
-- is checked first (ml._check_training_columns).
CREATE OR REPLACE FUNCTION ml._training_snapshot(source text, test_fraction float8, seed integer,
                                                 target text, features text[], algorithm text, hyperparams jsonb,
                                                 split text DEFAULT NULL)
RETURNS ml.snapshots
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    snap ml.snapshots;
    rel regclass;
    query text;
BEGIN
    IF source IS NULL THEN
        RAISE EXCEPTION 'source must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF source LIKE 'snapshot:%' THEN
        SELECT * INTO snap FROM ml.snapshots s WHERE s.name = substr(source, 10) AND ml._can_use_snapshot(s);
        IF NOT FOUND THEN
            RAISE EXCEPTION 'snapshot "%" does not exist', substr(source, 10)
                USING ERRCODE = 'undefined_object', HINT = 'See SELECT name FROM ml.snapshots.';
        END IF;
    ELSIF ml._is_query(source) THEN
        query := 'SELECT * FROM ' || ml._caller_view(regexp_replace(source, '[\s;]+$', ''));
        PERFORM ml._check_training_columns(ml._query_columns(query), 'the source query', target, features,
                                           algorithm, hyperparams);
        RETURN ml._snapshot_of(source, query, NULL, NULL, coalesce(test_fraction, 0.25), seed, ml._parse_split(split, target));
    ELSE
        SELECT * INTO snap FROM ml.snapshots s WHERE s.name = source AND ml._can_use_snapshot(s);
        BEGIN
            rel := ml._caller_relation(source);
        EXCEPTION WHEN invalid_name OR syntax_error THEN
            rel := NULL;
        END;
        IF snap.id IS NOT NULL AND rel IS NOT NULL THEN
            RAISE EXCEPTION 'source "%" names both a snapshot and a relation', source
                USING ERRCODE = 'ambiguous_alias',
                      HINT = format('Write %L to train on the snapshot, or %L to take a new snapshot of the relation.',
                                    'snapshot:' || source, 'TABLE ' || source);
        END IF;
        IF snap.id IS NULL AND rel IS NULL THEN
            RAISE EXCEPTION 'relation or snapshot "%" does not exist', source
                USING ERRCODE = 'undefined_table',
                      HINT = 'Pass a snapshot name, a table or view name, or a query starting with SELECT, WITH, VALUES or TABLE.';
        END IF;
        IF rel IS NOT NULL THEN
            PERFORM ml._check_training_columns(ml._query_columns('SELECT * FROM ' || rel::text), format('relation %s', rel),
                                               target, features, algorithm, hyperparams);
            RETURN ml._snapshot_of(source, 'SELECT * FROM ' || rel::text, rel, NULL, coalesce(test_fraction, 0.25), seed,
                                   ml._parse_split(split, target));
        END IF;
    END IF;
    IF test_fraction IS NOT NULL AND test_fraction <> snap.test_fraction THEN
        RAISE EXCEPTION 'snapshot "%" was split with test_fraction %, not %', snap.name, snap.test_fraction, test_fraction
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave test_fraction out to use the snapshot''s split, or take a new snapshot.';
    END IF;
    IF split IS NOT NULL AND ml._parse_split(split, target) <> snap.split - 'cut' THEN
        RAISE EXCEPTION 'snapshot "%" was split by %, not by %', snap.name, snap.split - 'cut', ml._parse_split(split, target)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave split out to use the snapshot''s split, or take a new snapshot.';
    END IF;
    RETURN snap;
END $$;

-- Whether a snapshot column type (as format_type prints it) is a number.
CREATE OR REPLACE FUNCTION ml._is_number_type(t text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT t IN ('smallint', 'integer', 'bigint', 'real', 'double precision') OR t LIKE 'numeric%'
$$;

-- The preprocessing plan of a training, read from the snapshot's train
-- split: the target's classes, each input's encoder (number, bool, time or
-- one-hot category) and the value imputed for NULLs.  ml._fit applies it in
-- the parallel engine and stores it in the model, so scoring encodes rows
-- the same way.
CREATE OR REPLACE FUNCTION ml._read_training_plan(snap ml.snapshots, target text, features text[], algorithm text,
                                       hyperparams jsonb, OUT plan jsonb, OUT numeric_hyperparams jsonb,
                                       OUT impute text)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    task text := ml._algorithm_task(algorithm);
    types jsonb := (SELECT jsonb_object_agg(c->>'name', c->>'type') FROM jsonb_array_elements(snap.columns) c);
    ttype text;
    max_categories integer;
    max_classes integer;
    classes text[];
    class_values float8[];
    inputs jsonb := '[]';
    f text;
    ftype text;
    kind text;
    v float8;
    cats text[];
    reference_coding boolean;
    zero_one boolean;
BEGIN
    -- Trees send missing values their learned default way; other models impute.
    impute := coalesce(hyperparams->>'impute', CASE WHEN task = 'tree' THEN 'missing' ELSE 'mean' END);
    IF task = 'tree' AND impute NOT IN ('missing', 'mean', 'median', 'zero') THEN
        RAISE EXCEPTION 'unknown "impute" value "%" for %', impute, algorithm
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Trees take "missing" (the default: NULLs follow a learned direction), "mean", "median" or "zero".';
    END IF;
    IF task <> 'tree' AND impute NOT IN ('mean', 'median', 'zero', 'error') THEN
        RAISE EXCEPTION 'unknown "impute" value "%"', impute
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use "mean" (the default), "median", "zero" or "error".';
    END IF;
    IF coalesce(hyperparams->>'engine', 'parallel') NOT IN ('parallel', 'aggregate') THEN
        RAISE EXCEPTION 'unknown "engine" value "%"', hyperparams->>'engine'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use "parallel" (parallel workers over a local table, the default) or "aggregate" (SQL aggregates, for foreign and distributed tables).';
    END IF;
    -- "task" chooses between regression and classification for trees; for
    -- the others it can only name the algorithm's own.
    IF hyperparams ? 'task' AND (coalesce(hyperparams->>'task', '') NOT IN ('regression', 'classification')
                                 OR task <> 'tree' AND hyperparams->>'task' <> task) THEN
        RAISE EXCEPTION '% cannot train for "task" "%"', algorithm, coalesce(hyperparams->>'task', 'null')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = CASE WHEN task = 'tree' THEN 'Trees take "regression" or "classification" (the default: a number is a regression, anything else a classification).'
                              ELSE format('%s is always a %s; "task" chooses only for trees.', algorithm, task) END;
    END IF;
    numeric_hyperparams := hyperparams - 'impute' - 'engine' - 'task' - 'class_weight';
    max_categories := coalesce((numeric_hyperparams->>'max_categories')::numeric, 100);
    max_classes := coalesce((numeric_hyperparams->>'max_classes')::numeric, 100);
    plan := jsonb_build_object('train_rows', snap.train_count, 'engine', coalesce(hyperparams->>'engine', 'parallel'),
                               'missing_as_nan', impute = 'missing', 'seed', snap.seed);

    -- The target.
    IF task IN ('clustering', 'decomposition') THEN
        IF target IS NOT NULL THEN
            RAISE EXCEPTION '% is unsupervised and takes no target', algorithm
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Pass target => NULL; every column in features is an input.';
        END IF;
        plan := plan || jsonb_build_object('target_kind', 'none');
    ELSE
        IF target IS NULL THEN
            RAISE EXCEPTION 'target must not be NULL for %', algorithm USING ERRCODE = 'null_value_not_allowed';
        END IF;
        ttype := types->>target;
        IF task = 'tree' THEN
            -- as asked, else a numeric target is a regression, a boolean or text one a classification
            task := coalesce(hyperparams->>'task',
                             CASE WHEN ml._is_number_type(ttype) THEN 'regression' ELSE 'classification' END);
            -- An integer 0/1 target is as likely a label as a number: say which was chosen.
            IF NOT hyperparams ? 'task' AND ttype IN ('smallint', 'integer', 'bigint') THEN
                EXECUTE format('SELECT min(%1$I) = 0 AND max(%1$I) = 1 FROM %2$s', target, snap.relation) INTO zero_one;
                IF zero_one THEN
                    RAISE NOTICE 'target column "%" holds only 0 and 1: % trains a regression on it', target, algorithm
                        USING DETAIL = 'A number is a regression unless hyperparams say "task": "classification".',
                              HINT = 'Pass "task": "classification" in hyperparams to classify it (classes 0 and 1), or "task": "regression" to keep the regression without this notice.';
                END IF;
            END IF;
        END IF;
        IF task = 'regression' THEN
            IF NOT ml._is_number_type(ttype) THEN
                RAISE EXCEPTION 'target column "%" is of type %, not a number', target, ttype
                    USING ERRCODE = 'datatype_mismatch',
                          HINT = ml._regression_target_hint(algorithm);
            END IF;
            plan := plan || jsonb_build_object('target_kind', 'number', 'target', target);
        ELSE
            -- Classes in the label type's order, from every snapshot row.
            EXECUTE format('SELECT array_agg(ml._text(c) ORDER BY c), array_agg(c ORDER BY c) FROM
                              (SELECT DISTINCT %1$I AS c FROM %2$s WHERE %1$I IS NOT NULL ORDER BY 1 LIMIT %3$s) d',
                           target, snap.relation, max_classes + 1)
                INTO classes;
            IF cardinality(classes) IS NULL OR cardinality(classes) < 2 THEN
                RAISE EXCEPTION 'target column "%" has % class', target, coalesce(cardinality(classes), 0)
                    USING ERRCODE = 'data_exception',
                          DETAIL = format('Classification needs at least two distinct non-NULL labels; snapshot %s has %s.',
                                          snap.name, coalesce(array_to_string(classes, ', '), 'none')),
                          HINT = 'Check the target column, or use a regression algorithm for a numeric target.';
            END IF;
            IF cardinality(classes) > max_classes THEN
                RAISE EXCEPTION 'target column "%" has more than % classes', target, max_classes
                    USING ERRCODE = 'program_limit_exceeded',
                          HINT = 'Raise "max_classes" in hyperparams, or use a regression algorithm for a numeric target.';
            END IF;
            IF ml._is_number_type(ttype) OR ttype = 'boolean' THEN
                EXECUTE format('SELECT array_agg(%s ORDER BY c) FROM (SELECT DISTINCT %I AS c FROM %s WHERE %I IS NOT NULL) d',
                               CASE WHEN ttype = 'boolean' THEN 'c::integer::float8' ELSE 'c::float8' END,
                               target, snap.relation, target)
                    INTO class_values;
            END IF;
            plan := plan || jsonb_build_object('target_kind', 'class', 'target', target,
                                               'classes', to_jsonb(classes), 'class_values', to_jsonb(class_values));
        END IF;
    END IF;

    -- Unpenalized linear models code categories against the first (collinear with the intercept otherwise).
    reference_coding := algorithm = 'linear_regression'
                        OR (algorithm = 'logistic_regression' AND coalesce((numeric_hyperparams->>'alpha')::float8, 0) = 0);

    FOREACH f IN ARRAY features LOOP
        ftype := types->>f;
        kind := CASE WHEN ml._is_number_type(ftype) THEN 'number'
                     WHEN ftype = 'boolean' THEN 'bool'
                     WHEN ftype IN ('date', 'timestamp without time zone', 'timestamp with time zone') THEN 'time'
                     ELSE 'category' END;
        IF kind = 'category' THEN
            EXECUTE format('SELECT array_agg(c ORDER BY n DESC, c COLLATE "C") FROM
                              (SELECT ml._text(%1$I) AS c, count(*) AS n FROM %2$s WHERE NOT _ml_is_test AND %1$I IS NOT NULL
                               GROUP BY 1 ORDER BY 2 DESC, ml._text(%1$I) COLLATE "C" LIMIT %3$s) t',
                           f, snap.relation, max_categories + 1)
                INTO cats;
            inputs := inputs || jsonb_build_array(jsonb_build_object(
                'column', f, 'kind', 'category', 'categories', to_jsonb(coalesce(cats[1:max_categories], '{}')),
                'has_other', coalesce(cardinality(cats), 0) > max_categories,
                'drop_first', reference_coding));
            CONTINUE;
        END IF;
        -- The imputed value: the train split's mean or median, which the
        -- snapshot profile recorded for numbers.
        IF impute = 'error' THEN
            v := NULL;
        ELSIF impute IN ('zero', 'missing') THEN
            v := CASE impute WHEN 'zero' THEN 0 END;
        ELSIF kind = 'number' AND snap.profile -> f ? ('train_' || impute) THEN
            v := coalesce((snap.profile -> f ->> ('train_' || impute))::float8, 0);
        ELSE
            EXECUTE format('SELECT %s FROM (SELECT %s AS c FROM %s WHERE NOT _ml_is_test) s',
                           CASE impute WHEN 'mean' THEN 'avg(c)' ELSE 'percentile_cont(0.5) WITHIN GROUP (ORDER BY c)' END,
                           CASE kind WHEN 'number' THEN format('%I::float8', f)
                                     WHEN 'bool' THEN format('%I::integer::float8', f)
                                     ELSE format('extract(epoch FROM %I)::float8', f) END,
                           snap.relation)
                INTO v;
            v := coalesce(v, 0);  -- a column NULL in every train row
        END IF;
        inputs := inputs || jsonb_build_array(jsonb_build_object('column', f, 'kind', kind, 'impute', v));
    END LOOP;
    plan := plan || jsonb_build_object('inputs', inputs);
END $$;

-- The plan, read from the snapshot with the caller's rights.
CREATE OR REPLACE FUNCTION ml._training_plan(snap ml.snapshots, target text, features text[], algorithm text,
                                  hyperparams jsonb, OUT plan jsonb, OUT numeric_hyperparams jsonb,
                                  OUT impute text)
LANGUAGE sql VOLATILE AS $$
    SELECT x.plan, x.numeric_hyperparams, x.impute
    FROM jsonb_to_record(ml._as_caller(
        'SELECT to_jsonb(p) FROM ml._read_training_plan(jsonb_populate_record(NULL::ml.snapshots, $1->''snap''), $1->>''target'',
                                                         ARRAY(SELECT jsonb_array_elements_text($1->''features'')),
                                                         $1->>''algorithm'', $1->''hyperparams'') p',
        jsonb_build_object('snap', to_jsonb(snap), 'target', target, 'features', to_jsonb(features),
                           'algorithm', algorithm, 'hyperparams', hyperparams)))
         AS x(plan jsonb, numeric_hyperparams jsonb, impute text)
$$;

-- The trials of a hyperparameter search: every combination of the listed
-- values ("grid"), or n_iter of them drawn without replacement in an order
-- fixed by the seed ("random").  Each trial is the base hyperparameters
-- with its own values on top.
CREATE OR REPLACE FUNCTION ml._search_trials(search jsonb, base jsonb, seed integer, OUT trials jsonb, OUT folds integer)
LANGUAGE plpgsql IMMUTABLE AS $$
#variable_conflict use_variable
DECLARE
    method text;
    params jsonb;
    k text;
    n_iter integer;
    grid_size numeric := 1;
BEGIN
    IF jsonb_typeof(search) <> 'object' THEN
        RAISE EXCEPTION 'search must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'For example ''{"method": "grid", "params": {"alpha": [0.1, 1, 10]}, "folds": 5}''.';
    END IF;
    FOR k IN SELECT jsonb_object_keys(search) LOOP
        IF k NOT IN ('method', 'params', 'folds', 'n_iter', 'score') THEN
            RAISE EXCEPTION 'unknown search key "%"', k USING ERRCODE = 'invalid_parameter_value',
                HINT = 'Search keys are method, params, folds, n_iter and score.';
        END IF;
    END LOOP;
    IF search ? 'score' AND jsonb_typeof(search->'score') <> 'string' THEN
        RAISE EXCEPTION 'search "score" must be the name of a metric' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'For example "score": "macro_f1".';
    END IF;
    method := coalesce(search->>'method', 'grid');
    IF method NOT IN ('grid', 'random') THEN
        RAISE EXCEPTION 'unknown search method "%"', method USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use "grid" or "random".';
    END IF;
    params := search->'params';
    IF params IS NULL OR jsonb_typeof(params) <> 'object' OR params = '{}' THEN
        RAISE EXCEPTION 'search needs "params", an object of hyperparameter value lists' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF params ? 'class_weight' THEN
        RAISE EXCEPTION 'a search cannot vary "class_weight"' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Set "class_weight" in hyperparams; every trial uses it ("balanced" is computed on each fold''s training rows).';
    END IF;
    FOR k IN SELECT jsonb_object_keys(params) LOOP
        IF jsonb_typeof(params->k) <> 'array' OR jsonb_array_length(params->k) = 0 THEN
            RAISE EXCEPTION 'search grid of size zero: "%" lists no values', k USING ERRCODE = 'invalid_parameter_value',
                HINT = 'Give each hyperparameter a non-empty array of values, e.g. "alpha": [0.1, 1].';
        END IF;
    END LOOP;
    folds := coalesce((search->>'folds')::integer, 5);
    n_iter := coalesce((search->>'n_iter')::integer, 10);
    IF n_iter < 1 THEN
        RAISE EXCEPTION '"n_iter" must be positive, got %', n_iter USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The size of the grid, from the lengths of its lists, before any work.
    FOR k IN SELECT jsonb_object_keys(params) LOOP
        grid_size := grid_size * jsonb_array_length(params->k);
    END LOOP;
    IF method = 'grid' AND grid_size > 1000 THEN
        RAISE EXCEPTION 'search grid has % combinations, more than 1000', grid_size
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = format('The lists of %s multiply to %s.', (SELECT string_agg(x, ', ' ORDER BY x) FROM jsonb_object_keys(params) x), grid_size),
                  HINT = 'Shorten the lists, or use "method": "random" with "n_iter" trials.';
    END IF;
    IF method = 'random' AND n_iter > 1000 THEN
        RAISE EXCEPTION '"n_iter" is %, more than 1000', n_iter USING ERRCODE = 'program_limit_exceeded';
    END IF;
    IF method = 'random' AND grid_size > 100000 THEN
        RAISE EXCEPTION 'random search draws from % combinations, more than 100000', grid_size
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'Shorten the lists of values.';
    END IF;
    -- A grid's trials run in the order given: keys by name, the last one
    -- varying fastest, each key's values as listed (so the first of equal
    -- scores is the first listed).  o is the path of value positions.
    WITH RECURSIVE keys AS (
        SELECT key_name, row_number() OVER (ORDER BY key_name) AS i FROM jsonb_object_keys(params) key_name
    ), combos AS (
        SELECT 0::bigint AS i, '{}'::jsonb AS c, '{}'::bigint[] AS o
        UNION ALL
        SELECT keys.i, combos.c || jsonb_build_object(keys.key_name, v.value), combos.o || v.n
        FROM combos JOIN keys ON keys.i = combos.i + 1,
             jsonb_array_elements(params->keys.key_name) WITH ORDINALITY v(value, n)
    ), full_combos AS (
        SELECT c, o FROM combos WHERE i = (SELECT count(*) FROM keys)
    )
    SELECT jsonb_agg(base || c ORDER BY CASE WHEN method = 'random' THEN md5(seed || ':' || c::text) END, o)
    INTO trials
    FROM (SELECT c, o FROM full_combos
          ORDER BY CASE WHEN method = 'random' THEN md5(seed || ':' || c::text) END, o
          LIMIT CASE WHEN method = 'random' THEN n_iter END) t;
END $$;

-- ml._fit's options: the search's metric and the class weights, from
-- hyperparams->'class_weight': "balanced" or a map of class to a positive
-- weight (classes not named weigh 1), as an array in the plan's class order.
CREATE OR REPLACE FUNCTION ml._fit_options(algorithm text, plan jsonb, hyperparams jsonb, search jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    cw jsonb := hyperparams->'class_weight';
    classes text[] := ARRAY(SELECT jsonb_array_elements_text(plan->'classes'));
    k text;
    result jsonb := '{}';
BEGIN
    IF search ? 'score' THEN
        result := jsonb_build_object('score', search->'score');
    END IF;
    IF cw IS NULL OR jsonb_typeof(cw) = 'null' THEN
        RETURN result;
    END IF;
    IF algorithm NOT IN ('logistic_regression', 'softmax_regression') THEN
        RAISE EXCEPTION '% takes no "class_weight"', algorithm USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Class weights apply to logistic_regression and softmax_regression.';
    END IF;
    IF cw = '"balanced"' THEN
        RETURN result || jsonb_build_object('class_weight', 'balanced');
    END IF;
    IF jsonb_typeof(cw) <> 'object' THEN
        RAISE EXCEPTION '"class_weight" must be "balanced" or an object of class to weight, got %', cw
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('For example {"class_weight": {%s: 2}}; the classes are %s.',
                                to_jsonb(classes[cardinality(classes)]), array_to_string(classes, ', '));
    END IF;
    FOR k IN SELECT jsonb_object_keys(cw) LOOP
        IF NOT k = ANY (classes) THEN
            RAISE EXCEPTION '"class_weight" names class "%", which the target does not have', k
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = format('The classes are %s.', array_to_string(classes, ', '));
        END IF;
        IF jsonb_typeof(cw->k) <> 'number' OR (cw->>k)::float8 <= 0 OR (cw->>k)::float8 = 'Infinity' THEN
            RAISE EXCEPTION 'the weight of class "%" must be a positive number, got %', k, cw->k
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    RETURN result || jsonb_build_object('class_weight',
        (SELECT jsonb_agg(coalesce(cw->c, '1') ORDER BY o) FROM unnest(classes) WITH ORDINALITY x(c, o)));
END $$;

-- Exact ROC AUC of scored rows (ties count one half), as a parallel aggregate.
CREATE OR REPLACE FUNCTION ml._auc_trans(internal, float8, boolean) RETURNS internal
AS 'MODULE_PATHNAME', 'ml_auc_trans' LANGUAGE C PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._auc_combine(internal, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'ml_auc_combine' LANGUAGE C PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._auc_serialize(internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'ml_auc_serialize' LANGUAGE C STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._auc_deserialize(bytea, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'ml_auc_deserialize' LANGUAGE C STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._auc_final(internal) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_auc_final' LANGUAGE C PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE ml._auc_agg(score float8, positive boolean) (
    SFUNC = ml._auc_trans, STYPE = internal, COMBINEFUNC = ml._auc_combine,
    SERIALFUNC = ml._auc_serialize, DESERIALFUNC = ml._auc_deserialize,
    FINALFUNC = ml._auc_final, PARALLEL = SAFE
);
-- Average precision of scored rows (scikit-learn's average_precision_score), the same states.
CREATE OR REPLACE FUNCTION ml._ap_final(internal) RETURNS float8
AS 'MODULE_PATHNAME', 'ml_ap_final' LANGUAGE C PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE ml._ap_agg(score float8, positive boolean) (
    SFUNC = ml._auc_trans, STYPE = internal, COMBINEFUNC = ml._auc_combine,
    SERIALFUNC = ml._auc_serialize, DESERIALFUNC = ml._auc_deserialize,
    FINALFUNC = ml._ap_final, PARALLEL = SAFE
);

-- ROC AUC of a binary classifier on a query's rows: the probability that a
-- positive row scores above a negative one, ties counting one half.
CREATE OR REPLACE FUNCTION ml._roc_auc(model text, query text, target text, positive text) RETURNS float8
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN (ml._as_caller(format($q$
        SELECT to_jsonb(ml._auc_agg((ml.predict_proba(%2$L, _ml_row))[2], ml._text(_ml_row.%1$I) = %4$L))
        FROM (%3$s) _ml_row WHERE _ml_row.%1$I IS NOT NULL $q$,
        target, model, query, positive)) #>> '{}')::float8;
END $$;

CREATE OR REPLACE FUNCTION ml._train_model(model_name text, source text, target text,
                               algorithm text DEFAULT 'linear_regression',
                               hyperparams jsonb DEFAULT '{}',
                               features text[] DEFAULT NULL,
                               test_fraction float8 DEFAULT NULL,
                               seed integer DEFAULT 42,
                               search jsonb DEFAULT NULL,
                               split text DEFAULT NULL)
RETURNS TABLE (id bigint, name text, version integer, metrics jsonb)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    snap ml.snapshots;
    snap_cols text[];
    f text;
    pl record;
    search_trials jsonb;
    search_folds integer;
    fit record;
    new_id bigint;
    new_version integer;
    parent bigint;
    metrics jsonb;
    ref text;
    side text;
    t0 timestamptz := clock_timestamp();
    secs float8;
BEGIN
    PERFORM ml._require_writable('train a model');
    PERFORM ml._check_model_name(model_name);
    IF algorithm IS NULL THEN
        RAISE EXCEPTION 'algorithm must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM ml._algorithm_task(algorithm);
    IF seed IS NULL THEN
        RAISE EXCEPTION 'seed must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF hyperparams IS NULL OR jsonb_typeof(hyperparams) <> 'object' THEN
        RAISE EXCEPTION 'hyperparams must be a JSON object'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example ''{"alpha": 0.5}''.';
    END IF;
    IF search IS NOT NULL AND algorithm = 'pca' THEN
        RAISE EXCEPTION 'pca has no score to search hyperparameters with' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Limits before work: names and bounds of the hyperparameters, the size of a search.
    PERFORM ml._check_hyperparams(algorithm, hyperparams - 'impute' - 'engine' - 'task' - 'class_weight');
    IF hyperparams ? 'class_weight' AND algorithm NOT IN ('logistic_regression', 'softmax_regression') THEN
        RAISE EXCEPTION '% takes no "class_weight"', algorithm USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Class weights apply to logistic_regression and softmax_regression.';
    END IF;
    IF search IS NOT NULL THEN
        SELECT * INTO search_trials, search_folds FROM ml._search_trials(search, hyperparams - 'impute' - 'engine' - 'task' - 'class_weight', seed);
    END IF;
    snap := ml._training_snapshot(source, test_fraction, seed, target, features, algorithm, hyperparams, split);

    SELECT array_agg(c->>'name' ORDER BY o) INTO snap_cols
    FROM jsonb_array_elements(snap.columns) WITH ORDINALITY AS x(c, o);
    IF target IS NOT NULL AND NOT target = ANY (snap_cols) THEN
        RAISE EXCEPTION 'column "%" does not exist in snapshot "%"', target, snap.name
            USING ERRCODE = 'undefined_column',
                  HINT = format('The snapshot has columns %s.', array_to_string(snap_cols, ', '));
    END IF;
    IF features IS NULL THEN
        features := array_remove(snap_cols, target);
    ELSE
        FOREACH f IN ARRAY features LOOP
            IF f IS NULL THEN
                RAISE EXCEPTION 'features must not contain NULL' USING ERRCODE = 'null_value_not_allowed';
            END IF;
            IF NOT f = ANY (snap_cols) THEN
                RAISE EXCEPTION 'column "%" does not exist in snapshot "%"', coalesce(f, 'NULL'), snap.name
                    USING ERRCODE = 'undefined_column',
                          HINT = format('The snapshot has columns %s.', array_to_string(snap_cols, ', '));
            END IF;
            IF f = target THEN
                RAISE EXCEPTION 'target column "%" cannot also be a feature', f
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
        END LOOP;
        IF (SELECT count(DISTINCT x) FROM unnest(features) x) <> cardinality(features) THEN
            RAISE EXCEPTION 'features must not repeat a column' USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    IF coalesce(cardinality(features), 0) = 0 THEN
        RAISE EXCEPTION 'at least one feature is needed' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF algorithm = 'kmeans' AND coalesce((hyperparams->>'k')::numeric, 8) > snap.train_count THEN
        RAISE EXCEPTION 'k is %, but snapshot "%" has only % training rows', coalesce((hyperparams->>'k')::numeric, 8), snap.name, snap.train_count
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use a k no larger than the number of training rows.';
    END IF;

    pl := ml._training_plan(snap, target, features, algorithm, hyperparams);
    fit := ml._fit(snap.relation::regclass, pl.plan, algorithm, pl.numeric_hyperparams, search_trials, search_folds,
                   ml._fit_options(algorithm, pl.plan, hyperparams, search));
    secs := extract(epoch FROM clock_timestamp() - t0);

    -- Serialize version numbering per model name; other names proceed.
    PERFORM pg_advisory_xact_lock(hashtextextended('pg_mlops.model:' || model_name, 0));
    -- The first training of a name makes its owner; later ones need the manage privilege.
    INSERT INTO ml.model_owners (name, owner) VALUES (model_name, ml._caller()) ON CONFLICT ON CONSTRAINT model_owners_pkey DO NOTHING;
    PERFORM ml._require_model_privilege(model_name, 'manage', 'train a new version of');
    SELECT coalesce(max(m.version), 0) + 1 INTO new_version FROM ml.models m WHERE m.name = model_name;
    -- A new version of a name is retrained from its production (else latest) version.
    SELECT m.id INTO parent FROM ml.models m WHERE m.name = model_name AND m.deleted_at IS NULL
    ORDER BY (m.stage = 'production') DESC, m.version DESC LIMIT 1;
    metrics := fit.metrics;
    IF fit.task = 'clustering' AND jsonb_typeof(metrics->'train') = 'object' THEN
        metrics := jsonb_set(metrics, '{train,silhouette}', coalesce(fit.summary->'silhouette', 'null'));
    END IF;
    new_id := nextval('ml.models_id_seq');
    INSERT INTO ml.models (id, name, version, task, algorithm, snapshot_id, target, features, hyperparams,
                           seed, metrics, summary, model, model_hash, model_digest, workers, train_seconds,
                           extension_version, parent_id, history, search)
    VALUES (new_id, model_name, new_version, fit.task, algorithm, snap.id, target, features,
            fit.effective_hyperparams || jsonb_build_object('impute', pl.impute, 'engine', pl.plan->>'engine')
                || CASE WHEN hyperparams ? 'task' THEN jsonb_build_object('task', hyperparams->'task') ELSE '{}' END
                || CASE WHEN hyperparams ? 'class_weight' THEN jsonb_build_object('class_weight', hyperparams->'class_weight') ELSE '{}' END,
            seed, metrics, fit.summary, fit.model, encode(sha256(fit.model), 'hex'),
            encode(sha256(int8send(new_id) || fit.model), 'hex'), fit.workers, secs,
            (SELECT extversion FROM pg_extension WHERE extname = 'pg_mlops'), parent, fit.history, search)
    RETURNING models.id INTO new_id;
    ref := model_name || '@' || new_version;
    IF fit.trials IS NOT NULL THEN
        INSERT INTO ml.trials (model_id, trial, params, score_name, folds, fold_scores, mean_score, sd_score, chosen)
        SELECT new_id, (t->>'trial')::integer, t->'params', t->>'score', search_folds,
               ARRAY(SELECT x::float8 FROM jsonb_array_elements_text(t->'fold_scores') x),
               (t->>'mean_score')::float8, (t->>'sd_score')::float8, (t->>'chosen')::boolean
        FROM jsonb_array_elements(fit.trials) t;
    END IF;
    -- ROC AUC needs every score sorted: computed here, by the scoring code, on both splits.
    IF fit.task = 'classification' AND jsonb_array_length(fit.summary->'classes') = 2 THEN
        FOREACH side IN ARRAY ARRAY['train', 'test'] LOOP
            IF jsonb_typeof(metrics->side) = 'object' THEN
                metrics := jsonb_set(metrics, ARRAY[side, 'roc_auc'],
                    coalesce(to_jsonb(ml._roc_auc(ref, format('SELECT * FROM %s WHERE %s_ml_is_test', snap.relation,
                                                              CASE side WHEN 'train' THEN 'NOT ' ELSE '' END),
                                                  target, fit.summary->'classes'->>1)), 'null'));
            END IF;
        END LOOP;
        UPDATE ml.models m SET metrics = metrics WHERE m.id = new_id;
    END IF;
    INSERT INTO ml.model_events (action, model_id, snapshot_id, details)
    VALUES ('train', new_id, snap.id, jsonb_build_object('model', ref,
            'algorithm', algorithm, 'snapshot', snap.name, 'workers', fit.workers,
            'trials', jsonb_array_length(coalesce(fit.trials, '[]'))));
    PERFORM ml._notice(format('registering: %s (id %s) trained on snapshot %s in %s s',
                              ref, new_id, snap.name, round(secs::numeric, 3)));
    RETURN QUERY SELECT new_id, model_name, new_version, metrics;
END $$;
COMMENT ON FUNCTION ml._train_model(text, text, text, text, jsonb, text[], float8, integer, jsonb, text)
    IS 'train a model in parallel workers and register it as a new version';

-- Cross-validation without registering anything (issue 17): the rows of a
-- source (a table, view or query, all its rows; or 'snapshot:NAME', its
-- train split) are cut into folds, fold = floor(frac(u * 2^20) * folds) with
-- u the split hash of the row (ml._row_split_unit) or, with group_column, of
-- the row's group, so a group never straddles folds.  Each fold is fitted on the
-- other folds, with the preprocessing read from them, and evaluated on
-- itself, by the same ml._fit as ml.train_model.  The rows sit in a work
-- relation that is registered as a snapshot only inside the call (training
-- reads nothing else) and dropped with its record before the call returns:
-- no snapshot, model, trial or event remains.
CREATE OR REPLACE FUNCTION ml._cross_validate(source text, target text,
                                   algorithm text DEFAULT 'linear_regression',
                                   hyperparams jsonb DEFAULT '{}',
                                   features text[] DEFAULT NULL,
                                   folds integer DEFAULT 5,
                                   seed integer DEFAULT 42,
                                   group_column text DEFAULT NULL)
RETURNS TABLE (fold text, train_rows bigint, valid_rows bigint, metrics jsonb)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    snap ml.snapshots;
    src ml.snapshots;
    query text;
    qcols jsonb;
    copy_list text;
    rel text;
    sid bigint;
    unit text;
    groups bigint;
    progress text := current_setting('ml.progress', true);
    pl record;
    fit record;
    results jsonb := '[]';
    f integer;
    m jsonb;
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    PERFORM ml._require_writable('cross-validate');
    IF algorithm IS NULL THEN
        RAISE EXCEPTION 'algorithm must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF ml._algorithm_task(algorithm) = 'decomposition' THEN
        RAISE EXCEPTION '% has no score to cross-validate', algorithm USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF folds IS NULL OR folds < 2 OR folds > 20 THEN
        RAISE EXCEPTION '"folds" must be between 2 and 20, got %', coalesce(folds::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF seed IS NULL THEN
        RAISE EXCEPTION 'seed must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF hyperparams IS NULL OR jsonb_typeof(hyperparams) <> 'object' THEN
        RAISE EXCEPTION 'hyperparams must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'For example ''{"alpha": 0.5}''.';
    END IF;
    PERFORM ml._check_hyperparams(algorithm, hyperparams - 'impute' - 'engine' - 'task');
    IF source LIKE 'snapshot:%' THEN
        SELECT * INTO src FROM ml.snapshots s WHERE s.name = substr(source, 10) AND ml._can_use_snapshot(s);
        IF NOT FOUND OR src.dropped_at IS NOT NULL THEN
            RAISE EXCEPTION 'snapshot "%" does not exist', substr(source, 10)
                USING ERRCODE = 'undefined_object', HINT = 'See SELECT name FROM ml.snapshots.';
        END IF;
        query := format('SELECT %s FROM %s WHERE NOT _ml_is_test',
                        (SELECT string_agg(quote_ident(c->>'name'), ', ' ORDER BY o)
                         FROM jsonb_array_elements(src.columns) WITH ORDINALITY x(c, o)), src.relation);
    ELSE
        query := (ml._resolve_source(source)).query;
    END IF;
    qcols := ml._query_columns(query);
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(qcols) c WHERE c->>'name' IN ('_ml_is_test', '_ml_fold')) THEN
        RAISE EXCEPTION 'the source has a column named "%"',
              (SELECT c->>'name' FROM jsonb_array_elements(qcols) c WHERE c->>'name' IN ('_ml_is_test', '_ml_fold') LIMIT 1)
            USING ERRCODE = 'duplicate_column',
                  DETAIL = 'Cross-validation adds the columns _ml_is_test and _ml_fold to its copy of the rows.',
                  HINT = 'Rename the column in a query source.';
    END IF;
    -- The checks ml.train_model makes before it copies, with a detail that
    -- says what was not done here (no snapshot is taken).
    BEGIN
        PERFORM ml._check_training_columns(qcols, 'the source', target, features, algorithm, hyperparams);
        IF group_column IS NOT NULL THEN
            PERFORM ml._check_split(jsonb_build_object('kind', 'group', 'column', group_column), qcols, false);
        END IF;
    EXCEPTION WHEN undefined_column OR datatype_mismatch THEN
        GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                                err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
        RAISE EXCEPTION USING ERRCODE = err_state, MESSAGE = err_message,
            DETAIL = replace(err_detail, 'before the snapshot is taken', 'before any row is copied for cross-validation'),
            HINT = err_hint;
    END;
    IF features IS NULL THEN
        features := array_remove(ARRAY(SELECT c->>'name' FROM jsonb_array_elements(qcols) WITH ORDINALITY x(c, o) ORDER BY o), target);
    END IF;
    IF array_position(features, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'features must not contain NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF target = ANY (features) THEN
        RAISE EXCEPTION 'target column "%" cannot also be a feature', target
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF (SELECT count(DISTINCT x) FROM unnest(features) x) <> cardinality(features) THEN
        RAISE EXCEPTION 'features must not repeat a column' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF coalesce(cardinality(features), 0) = 0 THEN
        RAISE EXCEPTION 'at least one feature is needed' USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- The work relation: the rows as a snapshot keeps them, and their fold.
    sid := nextval('ml.snapshots_id_seq');
    rel := format('ml_data.%I', 'snapshot_' || sid);
    EXECUTE format('CREATE TABLE %s (%s, _ml_is_test boolean NOT NULL, _ml_fold integer NOT NULL)', rel,
                   (SELECT string_agg(format('%I %s', c->>'name', c->>'snapshot_type'), ', ' ORDER BY o)
                    FROM jsonb_array_elements(qcols) WITH ORDINALITY x(c, o)));
    copy_list := (SELECT string_agg(CASE WHEN (c->>'as_text')::boolean THEN format('ml._text(_ml_src.%I) AS %I', c->>'name', c->>'name')
                                         ELSE format('_ml_src.%I', c->>'name') END, ', ' ORDER BY o)
                  FROM jsonb_array_elements(qcols) WITH ORDINALITY x(c, o));
    -- The low bits of the split hash (u * 2^20 less its integer part, exact in
    -- float8), so that the folds of a snapshot's train split, whose rows all
    -- have u >= test_fraction under the same seed, are still uniform.
    unit := format('(ml._row_split_unit(%1$s, %2$s) * 1048576 - floor(ml._row_split_unit(%1$s, %2$s) * 1048576))',
                   CASE WHEN group_column IS NULL THEN '_ml_row' ELSE format('ROW(_ml_row.%I)', group_column) END, seed);
    IF ml._caller() <> current_user THEN
        EXECUTE format('GRANT INSERT ON %s TO %I', rel, ml._caller());
    END IF;
    PERFORM ml._as_caller(format(E'INSERT INTO %s SELECT _ml_row.*, false, floor(%s * %s)::integer\nFROM (SELECT %s FROM (%s\n) _ml_src) _ml_row',
                                 rel, unit, folds, copy_list, query));
    IF ml._caller() <> current_user THEN
        EXECUTE format('REVOKE INSERT ON %s FROM %I', rel, ml._caller());
        EXECUTE format('GRANT SELECT ON %s TO %I', rel, ml._caller());
    END IF;
    EXECUTE format('SELECT count(*), count(DISTINCT _ml_fold) FROM %s', rel) INTO snap.row_count, groups;
    IF groups < folds THEN
        RAISE EXCEPTION 'only % of % folds have rows', groups, folds
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The source has %s rows%s; a fold without rows has nothing to validate on.', snap.row_count,
                                  CASE WHEN group_column IS NOT NULL THEN format(', whose "%s" values fall in %s folds', group_column, groups) ELSE '' END),
                  HINT = 'Use fewer folds, or more rows (more groups).';
    END IF;

    snap.id := sid;
    -- Not a valid snapshot name (ml._check_model_name), so no snapshot a
    -- user takes can hold it or wait on it; the row is uncommitted, so no
    -- other session sees it, and it is deleted before the call returns.
    snap.name := format('(cross-validation %s)', sid);
    snap.source := source;
    snap.source_relations := '{}';
    snap.relation := rel;
    snap.columns := (SELECT jsonb_agg(jsonb_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum)
                     FROM pg_attribute a WHERE a.attrelid = rel::regclass AND a.attnum > 0 AND NOT a.attisdropped
                       AND a.attname NOT IN ('_ml_is_test', '_ml_fold'));
    snap.test_fraction := 0;
    snap.seed := seed;
    snap.content_hash := '';
    snap.schema_hash := '';
    snap.profile := '{}';
    snap.created_at := now();
    snap.created_by := ml._caller();
    snap.split := jsonb_build_object('kind', 'folds', 'folds', folds, 'group', group_column);
    snap.test_count := 0;
    snap.train_count := snap.row_count;
    INSERT INTO ml.snapshots VALUES (snap.*);

    BEGIN
        FOR f IN 0 .. folds - 1 LOOP
            EXECUTE format('UPDATE %s SET _ml_is_test = (_ml_fold = %s)', rel, f);
            PERFORM set_config('ml.progress', 'off', true);
            pl := ml._training_plan(snap, target, features, algorithm, hyperparams);
            fit := ml._fit(rel::regclass, pl.plan, algorithm, pl.numeric_hyperparams, NULL, NULL);
            PERFORM set_config('ml.progress', coalesce(progress, 'on'), true);
            m := coalesce(fit.metrics->'test', '{}');
            results := results || jsonb_build_array(jsonb_build_object('fold', f + 1, 'train', (fit.summary->>'rows_used')::bigint,
                                                                       'valid', (fit.summary->>'rows_test')::bigint, 'metrics', m));
            PERFORM ml._notice(format('fold %s of %s: %s train and %s validation rows, %s', f + 1, folds,
                                      fit.summary->>'rows_used', fit.summary->>'rows_test',
                                      (SELECT string_agg(format('%s %s', k, round((m->>k)::numeric, 6)), ', ' ORDER BY k)
                                       FROM jsonb_object_keys(m) k WHERE k IN ('r2', 'rmse', 'accuracy', 'mean_inertia'))));
        END LOOP;
    EXCEPTION WHEN OTHERS THEN
        PERFORM set_config('ml.progress', coalesce(progress, 'on'), true);
        RAISE;
    END;
    EXECUTE format('DROP TABLE %s', rel);
    DELETE FROM ml.snapshots s WHERE s.id = sid;

    RETURN QUERY
    SELECT (r->>'fold'), (r->>'train')::bigint, (r->>'valid')::bigint, r->'metrics'
    FROM jsonb_array_elements(results) WITH ORDINALITY x(r, o) ORDER BY o;
    -- Mean and sample standard deviation over the folds of every metric.
    RETURN QUERY
    SELECT s.stat, NULL::bigint, NULL::bigint,
           jsonb_object_agg(s.k, s.v)
    FROM (SELECT 'mean' AS stat, k, avg((r->'metrics'->>k)::float8) AS v
          FROM jsonb_array_elements(results) r, jsonb_object_keys(r->'metrics') k GROUP BY k
          UNION ALL
          SELECT 'sd', k, stddev_samp((r->'metrics'->>k)::float8)
          FROM jsonb_array_elements(results) r, jsonb_object_keys(r->'metrics') k GROUP BY k) s
    GROUP BY s.stat ORDER BY s.stat = 'sd';
END $$;
COMMENT ON FUNCTION ml._cross_validate(text, text, text, jsonb, text[], integer, integer, text)
    IS 'k-fold cross-validation of a training, registering nothing';
