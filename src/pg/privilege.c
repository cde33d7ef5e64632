/*
 * privilege.c: who acts, with whose rights.
 *
 * The extension's tables belong to the extension's owner and only its
 * functions write them, after checking who may (as pg_cron does).  Each
 * public function that changes state, or reads user SQL, is a C entry
 * (ml_privileged) in front of a PL/pgSQL implementation of the same
 * arguments named with a leading underscore.  The entry records the real
 * caller and the caller's search_path in a frame, switches to the
 * extension's owner and calls the implementation, whose search_path is
 * pinned.  Inside it:
 *   ml._caller()          names the real caller, for checks and the audit;
 *   ml._as_caller(sql)    runs SQL with the caller's rights and search_path
 *                         (user queries, reads of user data);
 *   ml_enter_caller()     does the same for C (the training engine).
 * Code running as anyone else than the owner inside a frame (a caller's
 * query, a caller's SECURITY DEFINER function) gets no frame powers: it is
 * its own caller, and a nested entry opens a new frame.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/syscache.h"

#include "pg_mlops.h"

typedef struct MLFrame
{
	Oid			caller;			/* the role on whose behalf the entry runs */
	Oid			owner;			/* the extension's owner, whom it runs as */
	char	   *path;			/* the caller's search_path */
	MemoryContext cxt;			/* the entry's call context */
	List	   *views;			/* temporary views of the caller to drop */
} MLFrame;

static MLFrame *current_frame = NULL;
static uint64 view_counter = 0;

/*
 * The role the extension's functions write as: the owner of its registry
 * (ml.models), which is the owner of its functions, schemas and tables.
 * When a superuser installs the extension that is the superuser; when a
 * role that is not one installs it (it is trusted), PostgreSQL makes the
 * bootstrap superuser own the extension's objects, and the installer owns
 * only the extension itself: it can update or drop it, never change its
 * tables or schemas, whose triggers and constraints run in every ml call.
 */
Oid
ml_registry_owner(void)
{
	Oid			relid = get_relname_relid("models", get_namespace_oid("ml", false));
	HeapTuple	tp;
	Oid			owner;

	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "ml.models not found");
	owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
	ReleaseSysCache(tp);
	return owner;
}

/* Inside an entry, running as the owner: the frame acts for its caller. */
static bool
acting_for_caller(void)
{
	return current_frame != NULL && GetUserId() == current_frame->owner;
}

Oid
ml_caller_id(void)
{
	return acting_for_caller() ? current_frame->caller : GetUserId();
}

/*
 * Code of the caller's runs between ml_enter_caller and ml_leave_caller (its
 * query, functions it calls, policies of what it reads).  Whatever settings
 * it changes, with SET LOCAL or a plain SET alike, are undone on the way
 * out: the implementation goes on with its own pinned search_path.
 */
void
ml_enter_caller(MLCallerSwitch *sw, bool with_path)
{
	sw->active = acting_for_caller();
	sw->guc_level = -1;
	if (!sw->active)
		return;
	GetUserIdAndSecContext(&sw->save_uid, &sw->save_sec);
	SetUserIdAndSecContext(current_frame->caller, sw->save_sec | SECURITY_LOCAL_USERID_CHANGE);
	sw->guc_level = NewGUCNestLevel();
	if (with_path)
		(void) set_config_option("search_path", current_frame->path, PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
}

void
ml_leave_caller(MLCallerSwitch *sw)
{
	if (!sw->active)
		return;
	AtEOXact_GUC(false, sw->guc_level);
	SetUserIdAndSecContext(sw->save_uid, sw->save_sec);
	sw->active = false;
}

/*
 * prepare_source plans a source query (inside SPI) and checks that it is a
 * single statement that returns rows.
 */
CachedPlanSource *
ml_prepare_source(const char *query)
{
	SPIPlanPtr	plan;
	List	   *sources;
	CachedPlanSource *ps;

	plan = SPI_prepare(query, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	sources = SPI_plan_get_plan_sources(plan);
	if (list_length(sources) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source must be a single query")));
	ps = (CachedPlanSource *) linitial(sources);
	if (ps->commandTag != CMDTAG_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source must be a query that returns rows, not %s",
						GetCommandTagName(ps->commandTag))));
	return ps;
}

/* Drop the caller's temporary views an entry made (ml._caller_view). */
static void
drop_views(MLFrame *frame)
{
	MLCallerSwitch sw;
	int			i;

	if (frame->views == NIL)
		return;
	ml_enter_caller(&sw, false);
	SPI_connect();
	/* newest first: a view may be defined over an earlier one */
	for (i = list_length(frame->views) - 1; i >= 0; i--)
		if (SPI_execute(psprintf("DROP VIEW IF EXISTS pg_temp.%s",
								 quote_identifier(list_nth(frame->views, i))), false, 0) < 0)
			elog(ERROR, "could not drop a temporary view of pg_mlops");
	SPI_finish();
	ml_leave_caller(&sw);
	frame->views = NIL;
}

typedef struct EntryTarget
{
	FmgrInfo	impl;
	int			nargs;
} EntryTarget;

/* The implementation of an entry: ml._<name> with the same argument types. */
static EntryTarget *
entry_target(FunctionCallInfo fcinfo)
{
	EntryTarget *t = fcinfo->flinfo->fn_extra;
	HeapTuple	tp;
	Form_pg_proc proc;
	Oid			impl;
	List	   *name;

	if (t != NULL)
		return t;
	tp = SearchSysCache1(PROCOID, ObjectIdGetDatum(fcinfo->flinfo->fn_oid));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for function %u", fcinfo->flinfo->fn_oid);
	proc = (Form_pg_proc) GETSTRUCT(tp);
	name = list_make2(makeString(get_namespace_name(proc->pronamespace)),
					  makeString(psprintf("_%s", NameStr(proc->proname))));
	impl = LookupFuncName(name, proc->pronargs, proc->proargtypes.values, false);
	t = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(EntryTarget));
	fmgr_info_cxt(impl, &t->impl, fcinfo->flinfo->fn_mcxt);
	t->nargs = proc->pronargs;
	ReleaseSysCache(tp);
	fcinfo->flinfo->fn_extra = t;
	return t;
}

/*
 * ml_privileged: the C entry of every function that writes the extension's
 * tables or runs user SQL.  Runs ml._<name>(same arguments) as the
 * extension's owner on behalf of the current user.
 */
PG_FUNCTION_INFO_V1(ml_privileged);
Datum
ml_privileged(PG_FUNCTION_ARGS)
{
	EntryTarget *volatile t = entry_target(fcinfo);
	MLFrame		frame;
	MLFrame    *saved = current_frame;
	Oid			save_uid;
	int			save_sec;
	Datum		result = (Datum) 0;
	bool		isnull = true;
	int			guc_level;

	GetUserIdAndSecContext(&save_uid, &save_sec);
	/* An implementation calling another entry keeps its caller. */
	if (!acting_for_caller())
	{
		frame.caller = save_uid;
		frame.owner = ml_registry_owner();
		frame.path = pstrdup(namespace_search_path);
		frame.cxt = CurrentMemoryContext;
		frame.views = NIL;
		current_frame = &frame;
	}
	SetUserIdAndSecContext(current_frame->owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	/* no setting changed inside outlives the call */
	guc_level = NewGUCNestLevel();
	PG_TRY();
	{
		LOCAL_FCINFO(inner, FUNC_MAX_ARGS);
		int			i;

		InitFunctionCallInfoData(*inner, &t->impl, t->nargs, fcinfo->fncollation,
								 fcinfo->context, fcinfo->resultinfo);
		for (i = 0; i < t->nargs; i++)
			inner->args[i] = fcinfo->args[i];
		result = FunctionCallInvoke(inner);
		isnull = inner->isnull;
		if (current_frame == &frame)
			drop_views(&frame);
	}
	PG_CATCH();
	{
		/* the (sub)transaction's abort restores the user and settings */
		current_frame = saved;
		PG_RE_THROW();
	}
	PG_END_TRY();
	AtEOXact_GUC(false, guc_level);
	current_frame = saved;
	SetUserIdAndSecContext(save_uid, save_sec);
	fcinfo->isnull = isnull;
	return result;
}

/* ml._caller(): the role an implementation acts for (else current_user). */
PG_FUNCTION_INFO_V1(ml_caller);
Datum
ml_caller(PG_FUNCTION_ARGS)
{
	char	   *name = GetUserNameFromId(ml_caller_id(), false);

	PG_RETURN_DATUM(DirectFunctionCall1(namein, CStringGetDatum(name)));
}

/*
 * ml._as_caller(sql, args jsonb): run sql ($1 is args) with the caller's
 * rights; returns the first column of the first row, which must be jsonb,
 * {"processed": n} for a command without rows, or NULL.  It switches only
 * from the owner, inside an entry, to that entry's caller; anywhere else it
 * runs the SQL as the current user.  Names in sql resolve in the current
 * (pinned) search_path: user query texts come in as ml._caller_view()s.
 */
PG_FUNCTION_INFO_V1(ml_as_caller);
Datum
ml_as_caller(PG_FUNCTION_ARGS)
{
	char	   *sql;
	Oid			argtypes[1] = {JSONBOID};
	Datum		args[1];
	char		nulls[1];
	MLCallerSwitch sw;
	Datum		result = (Datum) 0;
	bool		isnull = true;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	args[0] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	nulls[0] = PG_ARGISNULL(1) ? 'n' : ' ';

	ml_enter_caller(&sw, false);
	SPI_connect();
	if (SPI_execute_with_args(sql, 1, argtypes, args, nulls, false, 0) < 0)
		elog(ERROR, "ml._as_caller: SPI_execute failed");
	if (SPI_tuptable == NULL)
	{
		/* a command without rows: how many it processed */
		result = DirectFunctionCall1(jsonb_in, CStringGetDatum(psprintf("{\"processed\": " UINT64_FORMAT "}",
																		(uint64) SPI_processed)));
		result = SPI_datumTransfer(result, false, -1);
		isnull = false;
	}
	else if (SPI_processed > 0 && SPI_tuptable->tupdesc->natts >= 1)
	{
		if (SPI_gettypeid(SPI_tuptable->tupdesc, 1) != JSONBOID)
			elog(ERROR, "ml._as_caller: the query must return jsonb");
		result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (!isnull)
			result = SPI_datumTransfer(result, false, -1);
	}
	SPI_finish();
	ml_leave_caller(&sw);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/*
 * ml._caller_relation(name): the relation a name means to the caller (its
 * search_path), as a regclass, or NULL; it does not check any privilege.
 * A text that is no name raises invalid_name or syntax_error.
 */
PG_FUNCTION_INFO_V1(ml_caller_relation);
Datum
ml_caller_relation(PG_FUNCTION_ARGS)
{
	List	   *names = stringToQualifiedNameList(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	MLCallerSwitch sw;
	Oid			relid;

	ml_enter_caller(&sw, true);
	relid = RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, true);
	ml_leave_caller(&sw);
	if (!OidIsValid(relid))
		PG_RETURN_NULL();
	PG_RETURN_OID(relid);
}

/*
 * ml._caller_new_relation(name): the schema-qualified, quoted name a new
 * relation of this name gets when the caller creates it (its search_path
 * decides the schema of an unqualified name).
 */
PG_FUNCTION_INFO_V1(ml_caller_new_relation);
Datum
ml_caller_new_relation(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	RangeVar   *rv = makeRangeVarFromNameList(stringToQualifiedNameList(name));
	MLCallerSwitch sw;
	Oid			nsp;

	ml_enter_caller(&sw, true);
	nsp = RangeVarGetCreationNamespace(rv);
	ml_leave_caller(&sw);
	PG_RETURN_TEXT_P(cstring_to_text(quote_qualified_identifier(get_namespace_name(nsp), rv->relname)));
}

/*
 * ml._caller_view(query): make the caller's query text a temporary view of
 * the caller (names resolved in the caller's search_path, rights checked
 * for the caller when it is read), so that the rest of an ml function can
 * run it under its own pinned search_path.  Returns the view's qualified
 * name; the entry drops the view when it returns.
 */
PG_FUNCTION_INFO_V1(ml_caller_view);
Datum
ml_caller_view(PG_FUNCTION_ARGS)
{
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(0));
	MLCallerSwitch sw;
	char	   *name;
	MemoryContext old;

	name = psprintf("ml_source_%d_" UINT64_FORMAT, MyProcPid, ++view_counter);
	ml_enter_caller(&sw, true);
	SPI_connect();
	/* one query that returns rows, not SQL to splice */
	ml_prepare_source(query);
	if (SPI_execute(psprintf("CREATE TEMPORARY VIEW %s AS %s", quote_identifier(name), query), false, 0) < 0)
		elog(ERROR, "could not create a temporary view of the source");
	SPI_finish();
	ml_leave_caller(&sw);
	if (acting_for_caller())
	{
		old = MemoryContextSwitchTo(current_frame->cxt);
		current_frame->views = lappend(current_frame->views, pstrdup(name));
		MemoryContextSwitchTo(old);
	}
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("pg_temp.%s", quote_identifier(name))));
}

/*
 * The training engine reads only snapshot relations: in ml_data, named by a
 * snapshot row the caller can see, a table or a view owned by the
 * extension's owner (or, in catalogs of 0.1.0 that the update has not
 * re-owned yet, by the role that took it), and never one whose rows
 * row-level security would filter (the engine reads the heap directly).
 */
void
ml_check_snapshot_relation(Relation rel)
{
	char		kind = rel->rd_rel->relkind;
	Oid			owner = rel->rd_rel->relowner;
	Oid			creator = InvalidOid;
	bool		registered = false;

	if (rel->rd_rel->relnamespace == get_namespace_oid("ml_data", false) &&
		(kind == RELKIND_RELATION || kind == RELKIND_VIEW))
	{
		Oid			argtypes[1] = {TEXTOID};
		Datum		args[1] = {CStringGetTextDatum(quote_qualified_identifier("ml_data", RelationGetRelationName(rel)))};

		SPI_connect();
		if (SPI_execute_with_args("SELECT s.created_by FROM ml.snapshots s "
								  "WHERE s.relation OPERATOR(pg_catalog.=) $1 AND s.dropped_at IS NULL",
								  1, argtypes, args, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
		{
			char	   *who = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

			registered = true;
			if (who != NULL)
				creator = get_role_oid(who, true);
		}
		SPI_finish();
	}
	if (!registered || (owner != ml_registry_owner() && owner != creator))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("relation \"%s\" is not a pg_mlops snapshot", RelationGetRelationName(rel)),
				 errdetail("Training reads only the tables and views ml.snapshot() made in schema ml_data."),
				 errhint("Take a snapshot with ml.snapshot() and train on it.")));
	if (kind == RELKIND_RELATION && check_enable_rls(RelationGetRelid(rel), InvalidOid, true) != RLS_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("snapshot relation \"%s\" has row-level security", RelationGetRelationName(rel)),
				 errdetail("The training engine reads rows directly and would bypass the policies.")));
}

/*
 * ml._caller_owns(rel): is the caller the owner of rel, or a member of the
 * owning role?  Superusers are not members of every role here: an
 * administrator's call must not write into a table another role put in its
 * path.
 */
PG_FUNCTION_INFO_V1(ml_caller_owns);
Datum
ml_caller_owns(PG_FUNCTION_ARGS)
{
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(PG_GETARG_OID(0)));
	Oid			owner;

	if (!HeapTupleIsValid(tp))
		PG_RETURN_BOOL(false);
	owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
	ReleaseSysCache(tp);
	PG_RETURN_BOOL(is_member_of_role_nosuper(ml_caller_id(), owner));
}
