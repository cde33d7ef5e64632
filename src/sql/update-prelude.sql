/* pg_mlops 0.1.0 -> 0.2.0: the privilege model (see docs/governance.md) */

\echo Use "ALTER EXTENSION pg_mlops UPDATE" to load this file. \quit

-- A fresh install runs pg_mlops--0.1.0.sql and then this script, so an
-- updated installation and a new one end in the same catalog.  Functions,
-- views and aggregates are replaced in place (their dependants, such as the
-- snapshot views that call ml._row_is_test, keep them); tables change in
-- src/sql/migrate-0.2.0.sql.

-- Schema ml must be the extension's own: owned by its owner and holding
-- nothing but the extension's members, which another role could have placed
-- there to run with the rights of whoever calls ml functions.
DO $$
BEGIN
    -- (the installer, who created it with the extension, or since 0.2.0 the owner of the tables)
    IF (SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) 'ml')
       NOT IN ((SELECT e.extowner FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'pg_mlops'),
               (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) 'ml.models'::pg_catalog.regclass))
       OR EXISTS (SELECT 1 FROM (SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, c.oid FROM pg_catalog.pg_class c
                                 WHERE c.relnamespace OPERATOR(pg_catalog.=) 'ml'::pg_catalog.regnamespace
                                   AND c.relkind OPERATOR(pg_catalog.<>) ALL (ARRAY['i', 't']::"char"[])
                                 UNION ALL
                                 SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass, p.oid FROM pg_catalog.pg_proc p
                                 WHERE p.pronamespace OPERATOR(pg_catalog.=) 'ml'::pg_catalog.regnamespace
                                 UNION ALL
                                 SELECT 'pg_catalog.pg_operator'::pg_catalog.regclass, o.oid FROM pg_catalog.pg_operator o
                                 WHERE o.oprnamespace OPERATOR(pg_catalog.=) 'ml'::pg_catalog.regnamespace
                                 UNION ALL
                                 SELECT 'pg_catalog.pg_type'::pg_catalog.regclass, t.oid FROM pg_catalog.pg_type t
                                 WHERE t.typnamespace OPERATOR(pg_catalog.=) 'ml'::pg_catalog.regnamespace
                                   AND t.typrelid OPERATOR(pg_catalog.=) 0 AND t.typelem OPERATOR(pg_catalog.=) 0) o(classid, objid)
                  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                                    WHERE d.classid OPERATOR(pg_catalog.=) o.classid AND d.objid OPERATOR(pg_catalog.=) o.objid
                                      AND d.deptype OPERATOR(pg_catalog.=) 'e'
                                      AND d.refobjid OPERATOR(pg_catalog.=) (SELECT e.oid FROM pg_catalog.pg_extension e
                                                                             WHERE e.extname OPERATOR(pg_catalog.=) 'pg_mlops'))) THEN
        RAISE EXCEPTION 'schema ml holds objects that are not pg_mlops''s, or is not owned by the extension''s owner'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'pg_mlops runs its functions from schema ml; objects another role placed there would run with its callers'' rights.',
                  HINT = 'Drop or move the objects (or the schema ml) that another role made, then install or update again.';
    END IF;
END $$;

-- ml.score's output table parameter is output_table now ("into" is a
-- reserved word, so named notation needed quotes); a parameter cannot be
-- renamed in place.
DROP FUNCTION ml.score(text, text, text, text, text);

-- ml.reproduce also says which release changed the training (changed_in):
-- a new result column is a new return type.
DROP FUNCTION ml.reproduce(text);

-- ml._training_snapshot checks the target and features before it copies a
-- source, so it takes them (issue 17).
DROP FUNCTION ml._training_snapshot(text, float8, integer);

-- ml.snapshot and ml.train_model take a split (issue 17): a new parameter
-- is a new signature.
DROP FUNCTION ml.snapshot(text, text, float8, integer);
DROP FUNCTION ml.train_model(text, text, text, text, jsonb, text[], float8, integer, jsonb);

-- ml._fit takes the search's metric and the class weights (options, issue 17).
DROP FUNCTION ml._fit(regclass, jsonb, text, jsonb, jsonb, integer);

-- ml.promote, ml.archive, ml.rollback and ml.delete_model return an
-- ml.model_version (registry.sql), not the whole ml.models row with its
-- bytes; a return type cannot change in place.
DROP FUNCTION ml.promote(text, integer, text);
DROP FUNCTION ml.archive(text, integer);
DROP FUNCTION ml.rollback(text);
DROP FUNCTION ml.delete_model(text, boolean);

-- Replaced below: the guards of snapshot relations and every policy.
DROP EVENT TRIGGER IF EXISTS ml_guard_snapshot_ddl;
DROP EVENT TRIGGER IF EXISTS ml_guard_snapshot_drop;
DO $$
DECLARE
    p record;
BEGIN
    FOR p IN SELECT pol.polname, pol.polrelid::pg_catalog.regclass AS rel FROM pg_catalog.pg_policy pol
             JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) pol.polrelid
             WHERE c.relnamespace OPERATOR(pg_catalog.=) 'ml'::pg_catalog.regnamespace LOOP
        EXECUTE pg_catalog.format('DROP POLICY %I ON %s', p.polname, p.rel);
    END LOOP;
END $$;

