
----------------------------------------------------------------------------
-- Name resolution and EXECUTE rights, for every function above
--
-- Every SQL and PL/pgSQL function resolves names in pg_catalog and ml only
-- (pg_temp last), so no object a user creates can stand in for a built-in
-- function, operator or type inside it; float8 values keep every bit when
-- they pass through text or jsonb.  C functions resolve no user-chosen names.
-- The implementations behind the C entries (ml._<entry>) and the internal
-- functions that act with the owner's rights, take engine bytes or serve
-- only the implementations are not for PUBLIC.  Internal functions stay
-- callable where the caller's own rights run them: row-level security
-- policies and table defaults (ml._caller, ml._has_model_privilege,
-- ml._can_read), SQL the implementations run as the caller (ml._text,
-- ml._read_training_plan, ml._profile, ml._predict_raw), aggregate support
-- functions, and helpers of the functions users call directly.
----------------------------------------------------------------------------

-- The entries: each ml.<name> below is a C function (ml_privileged, see
-- src/pg/privilege.c) with the arguments, defaults, result, volatility and
-- description of its implementation ml._<name>, which it runs as the
-- extension's owner on behalf of its caller.  An entry is a name here.
DO $$
DECLARE
    f record;
BEGIN
    FOR f IN SELECT p.oid, pg_catalog.substr(p.proname, 2) AS name, p.provolatile
             FROM pg_catalog.pg_proc p
             WHERE p.pronamespace = 'ml'::regnamespace
               AND p.proname OPERATOR(pg_catalog.=) ANY (ARRAY[
                   '_snapshot', '_verify_snapshot', '_drop_snapshot',
                   '_train_model', '_reproduce', '_cross_validate',
                   '_promote', '_promote_if_better', '_archive', '_rollback',
                   '_describe_model', '_delete_model', '_grant_model', '_revoke_model',
                   '_evaluate', '_confusion_matrix', '_roc_curve', '_classification_report',
                   '_score', '_check_drift',
                   '_export_model', '_import_model']) LOOP
        EXECUTE pg_catalog.format('CREATE OR REPLACE FUNCTION ml.%I(%s) RETURNS %s AS %L, %L LANGUAGE C %s',
                                  f.name, pg_catalog.pg_get_function_arguments(f.oid),
                                  pg_catalog.pg_get_function_result(f.oid), 'MODULE_PATHNAME', 'ml_privileged',
                                  CASE f.provolatile WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END);
        EXECUTE pg_catalog.format('COMMENT ON FUNCTION ml.%I(%s) IS %L', f.name,
                                  pg_catalog.pg_get_function_identity_arguments(f.oid),
                                  pg_catalog.obj_description(f.oid, 'pg_proc'));
    END LOOP;
END $$;

DO $$
DECLARE
    f regprocedure;
    r regclass;
    -- The role the functions write as: the owner of the functions and tables
    -- the script made.  A superuser who installs the extension owns them;
    -- when a role that is not a superuser installs it (it is trusted), the
    -- script runs as the bootstrap superuser, which owns them, and the
    -- installer owns only the extension (it may update or drop it).  Schema
    -- ml, which CREATE EXTENSION made as the installer, joins them, so that
    -- no role but the owner can add a trigger, rule, constraint or object
    -- that would run inside an ml call.
    owner regrole := (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) 'ml.models'::pg_catalog.regclass);
BEGIN
    EXECUTE pg_catalog.format('ALTER SCHEMA ml OWNER TO %s', owner);
    EXECUTE pg_catalog.format('ALTER SCHEMA ml_data OWNER TO %s', owner);
    FOR r IN SELECT c.oid FROM pg_catalog.pg_class c
             WHERE c.relnamespace = 'ml'::regnamespace AND c.relkind IN ('r', 'v') LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s OWNER TO %s', r, owner);
    END LOOP;
    FOR r IN SELECT c.oid FROM pg_catalog.pg_class c
             WHERE c.relnamespace = 'ml'::regnamespace AND c.relkind = 'S'
               AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d   -- a column's sequence follows its table
                               WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
                                 AND d.deptype IN ('a', 'i')) LOOP
        EXECUTE pg_catalog.format('ALTER SEQUENCE %s OWNER TO %s', r, owner);
    END LOOP;
    FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang
             WHERE p.pronamespace = 'ml'::regnamespace AND l.lanname IN ('sql', 'plpgsql') LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, ml, pg_temp SET extra_float_digits = 1', f);
    END LOOP;
    FOR f IN SELECT i.oid::regprocedure
             FROM pg_catalog.pg_proc e
             JOIN pg_catalog.pg_proc i ON i.pronamespace = e.pronamespace AND i.proname OPERATOR(pg_catalog.=) ('_' || e.proname)
                                      AND i.proargtypes OPERATOR(pg_catalog.=) e.proargtypes
             WHERE e.pronamespace = 'ml'::regnamespace AND e.prosrc = 'ml_privileged'
             UNION ALL
             SELECT p::regprocedure FROM unnest(ARRAY['ml._as_caller(text, jsonb)', 'ml._caller_view(text)',
                 'ml._caller_new_relation(text)', 'ml._caller_relation(text)',
                 'ml._fit(regclass, jsonb, text, jsonb, jsonb, integer, jsonb)', 'ml._fit_options(text, jsonb, jsonb, jsonb)', 'ml._query_relations(text)',
                 'ml._query_columns(text)', 'ml._model_document(bytea)', 'ml._agg_state_info(bytea)',
                 'ml._check_hyperparams(text, jsonb)', 'ml._caller_owns(regclass)', 'ml._is_query(text)',
                 'ml._can_use_snapshot(ml.snapshots)', 'ml._resolve_source(text)', 'ml._check_grant(text, name, text)',
                 'ml._snapshot_of(text, text, regclass, text, double precision, integer, jsonb)',
                 'ml._training_plan(ml.snapshots, text, text[], text, jsonb)', 'ml._training_changed_in(text, text)',
                 'ml._export_document(ml.models)', 'ml._c_inputs(jsonb)', 'ml._pmml_fields(jsonb, text)',
                 'ml._doc_row(jsonb, text, integer)', 'ml._pmml_regression_table(text[], text[], text)',
                 'ml._registry_changed()', 'ml._model_cache()', 'ml._predict_support(internal)',
                 'ml._doc_array(jsonb, text)', 'ml._pmml_class_output(jsonb, text)', 'ml._pmml_inner_schema(jsonb, text)',
                 'ml._pmml_trees(jsonb, text[], text, text, text)', 'ml._pmml_segment(text, text, text)',
                 'ml._pmml_tree_body(jsonb, text, text, text, text[])', 'ml._pmml_naive_bayes(jsonb, text, text, text)']) p LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        -- the extension's owner runs them (it does not own functions the
        -- bootstrap superuser made when a non-superuser installed it)
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s', f, owner);
    END LOOP;
END $$;
