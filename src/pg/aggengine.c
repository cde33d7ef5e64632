/*
 * aggengine.c: the aggregate engine (see engine.h).  Each pass is one query
 *     SELECT ml._pass(t, <split>, plan, pass, params) FROM relation t
 * over the aggregate of aggpass.c; its result is the pass's one combined
 * partial.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "engine.h"
#include "passes.h"
#include "pg_mlops.h"

typedef struct MLAggEngine
{
	MLEngine	base;
	MemoryContext cxt;
	char	   *query;
	bytea	   *plan;
	int			algorithm;
	int			p;
	int			partial_doubles;
	int			param_doubles;
	double	   *params;
	double	   *partials;
	int64		partials_cap;
} MLAggEngine;

static const MLEngineOps agg_ops;

bool
ml_relation_needs_aggregates(Relation rel)
{
	char		kind = rel->rd_rel->relkind;
	bool		distributed = false;

	if (kind != RELKIND_RELATION && kind != RELKIND_MATVIEW)
		return true;
	/* Citus keeps a distributed table's rows in shards on the workers. */
	if (OidIsValid(get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE)))
	{
		Oid			argtypes[1] = {OIDOID};
		Datum		args[1] = {ObjectIdGetDatum(RelationGetRelid(rel))};

		SPI_connect();
		if (SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid OPERATOR(pg_catalog.=) $1",
								  1, argtypes, args, NULL, true, 1) == SPI_OK_SELECT)
			distributed = SPI_processed > 0;
		SPI_finish();
	}
	return distributed;
}

MLEngine *
ml_agg_engine_begin(Relation rel, const MLPlan *plan, AttrNumber split_attnum,
					int algorithm, int partial_doubles, int param_doubles)
{
	MLAggEngine *a = palloc0(sizeof(MLAggEngine));
	StringInfoData buf;
	MLPassPlanHeader hdr;
	char	   *relname;

	a->base.ops = &agg_ops;
	a->cxt = CurrentMemoryContext;
	a->algorithm = algorithm;
	a->p = plan->p;
	a->partial_doubles = partial_doubles;
	a->param_doubles = param_doubles;
	a->params = palloc0(sizeof(double) * Max(1, param_doubles));
	a->partials_cap = partial_doubles;
	a->partials = palloc_extended(sizeof(double) * Max(1, partial_doubles), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);

	initStringInfo(&buf);
	hdr.algorithm = algorithm;
	hdr.partial_len = partial_doubles;
	appendBinaryStringInfo(&buf, (const char *) &hdr, sizeof(hdr));
	ml_plan_serialize(plan, &buf);
	a->plan = palloc(VARHDRSZ + buf.len);
	SET_VARSIZE(a->plan, VARHDRSZ + buf.len);
	memcpy(VARDATA(a->plan), buf.data, buf.len);

	relname = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
										 RelationGetRelationName(rel));
	resetStringInfo(&buf);
	appendStringInfo(&buf, "SELECT ml._pass(_ml_r, %s, $1, $2, $3) FROM %s _ml_r",
					 split_attnum > 0
					 ? psprintf("_ml_r.%s", quote_identifier(NameStr(TupleDescAttr(RelationGetDescr(rel), split_attnum - 1)->attname)))
					 : "false",
					 relname);
	a->query = buf.data;
	return &a->base;
}

static double *
agg_params(MLEngine *base)
{
	return ((MLAggEngine *) base)->params;
}

static int
agg_nchunks(MLEngine *base)
{
	return 1;
}

static int
agg_workers(MLEngine *base)
{
	return 0;
}

static double *
agg_run_pass(MLEngine *base, int pass_kind)
{
	MLAggEngine *a = (MLAggEngine *) base;
	const MLPassDef *def = ml_pass(pass_kind);
	Oid			argtypes[3] = {BYTEAOID, INT4OID, FLOAT8ARRAYOID};
	Datum		args[3];
	int			np;
	Datum	   *pd;
	int			i,
				rc;
	bool		isnull;
	Datum		result;

	/* Passes with per-chunk state kept between passes (trees) have no combine rule. */
	if (def->rule == ML_COMBINE_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("this algorithm cannot train through the aggregate engine"),
				 errdetail("Tree algorithms keep per-row state between passes; the aggregate engine keeps none."),
				 errhint("Copy the rows into a local table (CREATE TABLE ... AS) and train on it.")));
	/* only the parameters the pass reads travel */
	{
		double		n = PARAM_FIRST + def->params_used(a->params + PARAM_FIRST, a->p);

		np = (n >= 1 && n <= a->param_doubles) ? (int) n : a->param_doubles;
	}
	pd = palloc(sizeof(Datum) * np);

	for (i = 0; i < np; i++)
		pd[i] = Float8GetDatum(a->params[i]);
	args[0] = PointerGetDatum(a->plan);
	args[1] = Int32GetDatum(pass_kind);
	args[2] = PointerGetDatum(construct_array(pd, np, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
											  TYPALIGN_DOUBLE));
	SPI_connect();
	rc = SPI_execute_with_args(a->query, 3, argtypes, args, NULL, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "training aggregate query failed: %s", SPI_result_code_string(rc));
	result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	memset(a->partials, 0, sizeof(double) * a->partials_cap);
	if (!isnull)
	{
		ArrayType  *arr = DatumGetArrayTypeP(result);
		int			n = ARR_NDIM(arr) == 0 ? 0 : ARR_DIMS(arr)[0];

		if (n > a->partials_cap)
		{
			MemoryContext old = MemoryContextSwitchTo(a->cxt);

			pfree(a->partials);
			a->partials = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
			a->partials_cap = n;
			MemoryContextSwitchTo(old);
		}
		memcpy(a->partials, ARR_DATA_PTR(arr), sizeof(double) * n);
	}
	SPI_finish();
	return a->partials;
}

static const MLEngineOps agg_ops = {
	.name = "aggregate",
	.params = agg_params,
	.run_pass = agg_run_pass,
	.nchunks = agg_nchunks,
	.workers = agg_workers,
	.end = NULL,				/* everything lives in the caller's memory */
};
