-- Helpers every capability uses: the role an ml function acts for and
-- its rights (privilege checks on model names, readable relations), the
-- audit log's append-only trigger, notices, the hot-standby check, and the
-- relations and columns of a query.

-- The role an ml function acts for: inside ml.* (which run as the
-- extension's owner) the role that called it, elsewhere current_user.
CREATE OR REPLACE FUNCTION ml._caller() RETURNS name
AS 'MODULE_PATHNAME', 'ml_caller' LANGUAGE C STABLE PARALLEL RESTRICTED;
-- Run SQL with the caller's rights (only ml functions may); $1 is args.
CREATE OR REPLACE FUNCTION ml._as_caller(sql text, args jsonb DEFAULT NULL) RETURNS jsonb
AS 'MODULE_PATHNAME', 'ml_as_caller' LANGUAGE C VOLATILE;
-- The relation a name means in the caller's search_path (NULL if none).
CREATE OR REPLACE FUNCTION ml._caller_relation(name text) RETURNS regclass
AS 'MODULE_PATHNAME', 'ml_caller_relation' LANGUAGE C STRICT STABLE;
-- A query text as a temporary view of the caller, resolved in the caller's
-- search_path; dropped when the ml function that made it returns.
CREATE OR REPLACE FUNCTION ml._caller_view(query text) RETURNS text
AS 'MODULE_PATHNAME', 'ml_caller_view' LANGUAGE C STRICT VOLATILE;
-- Does the caller own a relation (itself, or as a member of the owner)?
-- A value as text by its type's output function: never a cast (casts are
-- not looked up through search_path, and another role may define one).
CREATE OR REPLACE FUNCTION ml._text(value anyelement) RETURNS text
AS 'MODULE_PATHNAME', 'ml_text' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION ml._caller_owns(rel regclass) RETURNS boolean
AS 'MODULE_PATHNAME', 'ml_caller_owns' LANGUAGE C STRICT STABLE PARALLEL RESTRICTED;
-- The schema-qualified name a new relation gets when the caller creates it.
CREATE OR REPLACE FUNCTION ml._caller_new_relation(name text) RETURNS text
AS 'MODULE_PATHNAME', 'ml_caller_new_relation' LANGUAGE C STRICT STABLE;

----------------------------------------------------------------------------
-- The registry's tables are made by pg_mlops--0.1.0.sql and changed by
-- src/sql/migrate-0.2.0.sql; this file and the others define functions,
-- views and aggregates (CREATE OR REPLACE in the update script).
----------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION ml._append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
    RAISE EXCEPTION 'ml.model_events is append-only'
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = format('%s is not allowed on the audit log.', TG_OP);
END $$;

-- Does the caller hold a privilege on a model name?  The owner of a name is
-- the role that trained its first version; its members and superusers hold
-- both privileges: 'use' (predict, score, explain, check drift, export) and
-- 'manage' (also train new versions, promote, archive, roll back, describe).
CREATE OR REPLACE FUNCTION ml._is_superuser() RETURNS boolean
LANGUAGE sql STABLE PARALLEL RESTRICTED AS $$
    SELECT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = ml._caller() AND r.rolsuper)
$$;

CREATE OR REPLACE FUNCTION ml._has_model_privilege(model_name text, wanted text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL RESTRICTED AS $$
    SELECT ml._is_superuser()
        -- joined to pg_roles, so that roles dropped since are simply no one
        OR EXISTS (SELECT 1 FROM ml.model_owners o JOIN pg_roles r ON r.rolname = o.owner
                   WHERE o.name = model_name AND pg_has_role(ml._caller(), r.oid, 'MEMBER'))
        OR EXISTS (SELECT 1 FROM ml.model_grants g
                   WHERE g.name = model_name AND (g.privilege = wanted OR g.privilege = 'manage')
                     AND g.grantee = 'public')
        OR EXISTS (SELECT 1 FROM ml.model_grants g JOIN pg_roles r ON r.rolname = g.grantee
                   WHERE g.name = model_name AND (g.privilege = wanted OR g.privilege = 'manage')
                     AND pg_has_role(ml._caller(), r.oid, 'MEMBER'))
$$;

-- Can the current user read a relation (named as text; false once it is gone)?
CREATE OR REPLACE FUNCTION ml._can_read(rel text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL RESTRICTED AS $$
    SELECT coalesce(has_table_privilege(ml._caller(), to_regclass(rel), 'SELECT'), false)
$$;

-- May the caller use a snapshot (it took it, or can read its relation)?
CREATE OR REPLACE FUNCTION ml._can_use_snapshot(s ml.snapshots) RETURNS boolean
LANGUAGE sql STABLE PARALLEL RESTRICTED AS $$
    SELECT s.created_by = ml._caller() OR ml._can_read(s.relation)
$$;

CREATE OR REPLACE FUNCTION ml._require_model_exists(model_name text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM ml._check_model_name(model_name);
    IF NOT EXISTS (SELECT 1 FROM ml.model_owners o WHERE o.name = model_name) THEN
        RAISE EXCEPTION 'model "%" does not exist', model_name
            USING ERRCODE = 'undefined_object',
                  HINT = 'See SELECT name, version, stage FROM ml.registry.';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION ml._require_model_privilege(model_name text, privilege text, action text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT ml._has_model_privilege(model_name, privilege) THEN
        RAISE EXCEPTION 'permission denied to % model "%"', action, model_name
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('This needs the %s privilege on the model, which its owner %s can give.', privilege,
                                  coalesce((SELECT o.owner::text FROM ml.model_owners o WHERE o.name = model_name), '(none)')),
                  HINT = format('The owner runs SELECT ml.grant_model(%L, %L, %L).', model_name, ml._caller(), privilege);
    END IF;
END $$;

CREATE OR REPLACE FUNCTION ml._notice(message text) RETURNS void
AS 'MODULE_PATHNAME', 'ml_notice' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION ml._query_relations(query text) RETURNS text[]
AS 'MODULE_PATHNAME', 'ml_query_relations' LANGUAGE C STRICT VOLATILE;

-- Writes fail on a hot standby; say why before any work is done.
CREATE OR REPLACE FUNCTION ml._require_writable(action text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF pg_is_in_recovery() THEN
        RAISE EXCEPTION 'cannot % on a hot standby', action
            USING ERRCODE = 'read_only_sql_transaction',
                  DETAIL = 'A standby is read-only: the registry, snapshots and audit log can only be written on the primary.',
                  HINT = 'Run this on the primary. On a standby you can predict, explain, export and read every view.';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION ml._query_columns(query text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'ml_query_columns' LANGUAGE C STRICT VOLATILE;
