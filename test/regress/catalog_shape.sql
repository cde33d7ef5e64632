-- The shape of the extension's catalog, compared between an updated and a
-- new installation by test/sql/17_update.sql.
CREATE TEMP VIEW catalog_shape AS
SELECT 'function' AS kind, p.oid::regprocedure::text AS name,
       concat_ws(' | ', p.prorettype::regtype, l.lanname, p.prosrc, p.provolatile, p.proparallel, p.proisstrict,
                 p.prosecdef, array_to_string(p.proconfig, ','), array_to_string(p.proacl, ','), pg_get_function_arguments(p.oid)) AS shape
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.pronamespace = 'ml'::regnamespace
UNION ALL
SELECT 'relation', c.relname, concat_ws(' | ', c.relkind, c.relrowsecurity, array_to_string(c.relacl, ','),
       CASE WHEN c.relkind = 'v' THEN pg_get_viewdef(c.oid) END, array_to_string(c.reloptions, ','))
FROM pg_class c WHERE c.relnamespace = 'ml'::regnamespace
UNION ALL
SELECT 'column', c.relname || '.' || a.attname, concat_ws(' | ', a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid))
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = 'ml'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint', conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'ml'::regnamespace
UNION ALL
SELECT 'policy', polrelid::regclass::text || '.' || polname, concat_ws(' | ', polcmd, pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid))
FROM pg_policy WHERE polrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'ml'::regnamespace)
UNION ALL
SELECT 'trigger', tgrelid::regclass::text || '.' || tgname, pg_get_triggerdef(oid)
FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'ml'::regnamespace)
UNION ALL
SELECT 'event trigger', evtname, concat_ws(' | ', evtevent, evtfoid::regproc, array_to_string(evttags, ','))
FROM pg_event_trigger WHERE evtname LIKE 'ml\_%'
UNION ALL
SELECT 'schema', nspname, array_to_string(nspacl, ',') FROM pg_namespace WHERE nspname IN ('ml', 'ml_data');
