-- Installing the extension creates schema ml; helpers for the other tests.
-- (make installcheck-owner runs the suite where a role that is not a
-- superuser installed it already.)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_mlops;
RESET client_min_messages;
-- One role owns the extension's functions, tables and schemas, a superuser
-- (the bootstrap superuser when another role installed it): the functions
-- write as it, and no other role can hang code on what they write.
SELECT bool_and(c.relowner = f.proowner) AS tables_owned_with_functions,
       (SELECT bool_and(n.nspowner = f.proowner) FROM pg_namespace n WHERE n.nspname IN ('ml', 'ml_data')) AS schemas_owned_with_functions,
       (SELECT r.rolsuper FROM pg_roles r WHERE r.oid = f.proowner) AS owner_is_superuser
FROM pg_class c, pg_proc f
WHERE c.relnamespace = 'ml'::regnamespace AND c.relkind IN ('r', 'S') AND f.oid = 'ml._caller()'::regprocedure
GROUP BY f.proowner;
SELECT nspname FROM pg_namespace WHERE nspname IN ('ml', 'ml_data') ORDER BY 1;
SELECT extrelocatable, extversion FROM pg_extension WHERE extname = 'pg_mlops';

-- Every function runs with the caller's rights.
SELECT count(*) AS security_definer_functions
FROM pg_proc WHERE pronamespace = 'ml'::regnamespace AND prosecdef;

-- The SQL surface.
SELECT p.oid::regprocedure AS function, p.provolatile, p.proparallel
FROM pg_proc p WHERE p.pronamespace = 'ml'::regnamespace AND p.proname NOT LIKE '\_%'
ORDER BY p.oid::regprocedure::text;
SELECT c.relname, c.relkind FROM pg_class c
WHERE c.relnamespace = 'ml'::regnamespace AND c.relkind IN ('r', 'v') ORDER BY 1;

-- Settings are registered with their defaults (when the library is loaded).
DO $$ BEGIN PERFORM ml.blas_info(); END $$;
SELECT name, setting, unit FROM pg_settings WHERE name LIKE 'ml.%' ORDER BY 1;

-- The backend loaded the sequential OpenBLAS and runs a single thread.
SELECT threads, sequential, process_threads FROM ml.blas_info();

-- Test helper: run a statement, return its SQLSTATE, message and hint.
CREATE SCHEMA regress;
GRANT USAGE ON SCHEMA regress TO PUBLIC;
CREATE FUNCTION regress.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    RETURN s || ': ' || m || coalesce(' | DETAIL: ' || nullif(d, ''), '') || coalesce(' | HINT: ' || nullif(h, ''), '');
END $$;
