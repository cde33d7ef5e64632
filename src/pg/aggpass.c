/*
 * aggpass.c: training passes as SQL aggregates; the aggregate engine
 * (aggengine.c) runs them.
 *
 * Each pass of a training is one query
 *     SELECT ml._pass(t, <split>, plan, pass, params) FROM relation t
 * whose transition function encodes every row exactly as the parallel
 * engine does (ml_encode_row, ml_row_fold), buffers the rows into blocks of
 * a fixed number of rows, computes each full block's partial with the same
 * partial function the parallel engine runs per chunk, and combines it into
 * the state with the pass's combine rule.  The combine function merges two
 * states the same way, so PostgreSQL's parallel aggregation, and engines
 * that ship partial aggregates between nodes (Citus), can run the pass where
 * the rows are.  The result is one combined partial: fit.c sees one chunk.
 *
 * The state is a bytea (not internal, so distributed engines can ship it
 * without a serialization function) that holds the pass's parameters
 * itself: a state with buffered rows can be finished by whichever process
 * combines it.  Layout (MLAggState header, then, 8-byte aligned):
 *     params[param_len]                   the pass's parameters
 *     rows[block_rows * (p + 1)]          buffered encoded rows, y first
 *     flags[block_rows], folds[block_rows] is_test and fold per buffered row
 *     acc[acc_len]                        combined partial of flushed blocks
 * The same state serves the user-facing statistics aggregates
 * (ml.logistic_stats, ml.softmax_stats, ml.kmeans_stats, ml.nb_stats),
 * whose rows come as (y, x[]) instead of encoded table rows.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/typcache.h"

#include "passes.h"
#include "pg_mlops.h"
#include "trainplan.h"

/* Rows per block: ML_SAMPLE_PER_CHUNK, so a block's sample is never cut. */
#define ML_AGG_BLOCK_ROWS ML_SAMPLE_PER_CHUNK
/* Rows the combined k-means sample keeps at most (the smallest hashes). */
#define ML_AGG_SAMPLE_CAP (4 * ML_SAMPLE_ROWS)

/* The state's layout and its check are the core's (wire.h). */
typedef mlc_agg_header MLAggState;

#define ML_AGG_MAGIC MLC_AGG_MAGIC
#define ML_AGG_VERSION MLC_AGG_VERSION
#define AGG_HDR MAXALIGN(sizeof(MLAggState))

static inline Size
flags_bytes(const MLAggState *s)
{
	return TYPEALIGN(8, (Size) 2 * s->block_rows);
}

static inline double *
agg_params(MLAggState *s)
{
	return (double *) ((char *) s + AGG_HDR);
}

static inline double *
agg_rows(MLAggState *s)
{
	return agg_params(s) + s->param_len;
}

static inline uint8 *
agg_flags(MLAggState *s)
{
	return (uint8 *) (agg_rows(s) + (Size) s->block_rows * (s->p + 1));
}

static inline double *
agg_acc(MLAggState *s)
{
	return (double *) (agg_flags(s) + flags_bytes(s));
}

static Size
agg_size(const MLAggState *s, int64 acc_len)
{
	return AGG_HDR + sizeof(double) * ((Size) s->param_len + (Size) s->block_rows * (s->p + 1)) +
		flags_bytes(s) + sizeof(double) * (Size) acc_len;
}

static void
malformed(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("malformed pg_mlops aggregate state"),
			 errdetail("%s", detail),
			 errhint("Pass only states produced by the pg_mlops aggregates of the same version.")));
}

StaticAssertDecl(AGG_HDR == MLC_AGG_HDR_SIZE, "aggregate state header size");

/* Every field of a state checked (mlc_agg_state_check), else ERROR. */
static void
agg_verify(const MLAggState *s, Size len, bool deep)
{
	mlc_error	err;

	if (mlc_agg_state_check((const uint8_t *) s, len, ML_AGG_BLOCK_ROWS, deep, &err) != MLC_OK)
	{
		/* "malformed aggregate state: what" as a sentence: "What." */
		const char *what = strchr(err.msg, ':');
		char	   *detail = psprintf("%s.", what != NULL ? what + 2 : err.msg);

		detail[0] = pg_toupper((unsigned char) detail[0]);
		malformed(detail);
	}
}

/* A state from outside (a combine argument, text input): an aligned copy, every field checked. */
static MLAggState *
agg_check(bytea *b)
{
	MLAggState *s;
	Size		dlen = VARSIZE_ANY_EXHDR(b);
	Size		len = dlen + VARHDRSZ;

	if (len < AGG_HDR)
		malformed("The state is shorter than its header.");
	s = palloc_extended(len, MCXT_ALLOC_HUGE);
	memcpy(VARDATA(s), VARDATA_ANY(b), dlen);
	SET_VARSIZE(s, len);
	agg_verify(s, len, false);
	return s;
}

static MLAggState *
agg_new(int rule, int algorithm, int pass, int p, int K, int partial_len, int result_len,
		const double *params, int param_len, bool has_folds)
{
	MLAggState	hdr;
	MLAggState *s;
	Size		size;

	/* the lengths may come from SQL (ml._pass's plan): bounded before allocating */
	if (partial_len < 1 || partial_len > MLC_AGG_MAX_DOUBLES || param_len < 1 ||
		param_len > MLC_AGG_MAX_DOUBLES || p < 0 || p > MLC_AGG_MAX_P)
		malformed("A length of the state is out of range.");
	memset(&hdr, 0, sizeof(hdr));
	hdr.magic = ML_AGG_MAGIC;
	hdr.version = ML_AGG_VERSION;
	hdr.rule = rule;
	hdr.algorithm = algorithm;
	hdr.pass = pass;
	hdr.p = p;
	hdr.K = K;
	hdr.block_rows = ML_AGG_BLOCK_ROWS;
	hdr.partial_len = partial_len;
	hdr.result_len = result_len;
	hdr.param_len = param_len;
	hdr.has_folds = has_folds ? 1 : 0;
	/* fixed-size accumulators are reserved now: flushing never moves them */
	hdr.acc_len = rule == ML_COMBINE_SAMPLE ? 0 : partial_len;
	hdr.filled = 0;
	size = agg_size(&hdr, hdr.acc_len);
	s = palloc_extended(size, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	memcpy(s, &hdr, sizeof(hdr));
	SET_VARSIZE(s, size);
	memcpy(agg_params(s), params, sizeof(double) * param_len);
	return s;
}

static inline bool
acc_empty(const MLAggState *s)
{
	return !s->filled;
}

/* The partial of the buffered rows (a fresh palloc of partial_len doubles). */
static double *
block_partial(MLAggState *s)
{
	int			p = s->p,
				w = p + 1;
	double	   *rows = agg_rows(s);
	uint8	   *is_test = agg_flags(s);
	uint8	   *fold = is_test + s->block_rows;
	double	   *part;
	MLChunk		c;
	int64		n[2] = {0, 0},
				k[2] = {0, 0};
	int			i,
				j;

	/* the evaluation pass's model is checked against p and partial_len too */
	agg_verify(s, VARSIZE(s), true);
	/* room for all the pass writes: the user aggregates keep only a prefix */
	part = palloc_extended(sizeof(double) * mlc_agg_partial_scratch((const uint8_t *) s),
						   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	for (i = 0; i < s->nbuf; i++)
		n[is_test[i] ? 1 : 0]++;
	memset(&c, 0, sizeof(c));
	c.p = p;
	c.n_train = n[0];
	c.n_test = n[1];
	c.n_skipped = s->skipped;
	c.Xtr = palloc(sizeof(double) * Max(1, n[0] * p));
	c.ytr = palloc(sizeof(double) * Max(1, n[0]));
	c.Xte = palloc(sizeof(double) * Max(1, n[1] * p));
	c.yte = palloc(sizeof(double) * Max(1, n[1]));
	if (s->has_folds)
		c.fold = palloc(Max(1, n[0]));
	/* column-major, rows in arrival order, as read_chunk lays a chunk out */
	for (i = 0; i < s->nbuf; i++)
	{
		const double *row = rows + (Size) i * w;
		int			t = is_test[i] ? 1 : 0;
		double	   *X = t ? c.Xte : c.Xtr;
		double	   *y = t ? c.yte : c.ytr;
		int64		r = k[t]++;

		y[r] = row[0];
		for (j = 0; j < p; j++)
			X[(Size) j * n[t] + r] = row[j + 1];
		if (t == 0 && c.fold)
			c.fold[r] = fold[i];
	}
	ml_pass(s->pass)->partial(s->pass, &c, agg_params(s), part);
	return part;
}

/*
 * Combine a partial into the state's accumulator.  Returns the state, which
 * moves (a new palloc) only when a sample grows; the caller must then not
 * touch the old one (the executor frees it).
 */
static MLAggState *
agg_merge(MLAggState *s, const double *part, int64 len)
{
	double	   *acc;

	if (s->rule == ML_COMBINE_SAMPLE)
	{
		int			w = s->p + 1;
		int64		na = acc_empty(s) ? 0 : (int64) agg_acc(s)[0];
		int64		nb = (int64) part[0];
		int64		n = na + nb;
		MLAggState *t;

		if (nb == 0 && !acc_empty(s))
			return s;
		t = palloc_extended(agg_size(s, 1 + n * w), MCXT_ALLOC_HUGE);
		memcpy(t, s, agg_size(s, 0));
		SET_VARSIZE(t, agg_size(s, 1 + n * w));
		t->acc_len = 1 + n * w;
		t->filled = 1;
		acc = agg_acc(t);
		if (na > 0)
			memcpy(acc + 1, agg_acc(s) + 1, sizeof(double) * na * w);
		memcpy(acc + 1 + na * w, part + 1, sizeof(double) * nb * w);
		acc[0] = (double) n;
		if (n > ML_AGG_SAMPLE_CAP)
		{
			/* keep the smallest hashes: the same set whatever the combine order */
			qsort_arg(acc + 1, n, sizeof(double) * w, ml_sample_cmp, &w);
			acc[0] = ML_AGG_SAMPLE_CAP;
			t->acc_len = 1 + (int64) ML_AGG_SAMPLE_CAP * w;
			SET_VARSIZE(t, agg_size(t, t->acc_len));
		}
		return t;
	}

	Assert(len == s->partial_len);
	acc = agg_acc(s);
	if (acc_empty(s))
	{
		memcpy(acc, part, sizeof(double) * len);
		s->filled = 1;
		return s;
	}
	/* the pass's own combine, as the parallel engine folds its chunks */
	ml_pass(s->pass)->combine(acc, part, len, s->p, s->K);
	return s;
}

/* Turn the buffered rows into a partial combined into the accumulator. */
static MLAggState *
agg_flush(MLAggState *s)
{
	MemoryContext tmp,
				old;
	double	   *part;
	int64		len;

	if (s->nbuf == 0 && s->skipped == 0)
		return s;
	tmp = AllocSetContextCreate(CurrentMemoryContext, "pg_mlops aggregate block", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(tmp);
	part = block_partial(s);
	MemoryContextSwitchTo(old);
	len = s->rule == ML_COMBINE_SAMPLE ? 1 + (int64) part[0] * (s->p + 1) : s->partial_len;
	s->nbuf = 0;
	s->skipped = 0;
	s = agg_merge(s, part, len);
	MemoryContextDelete(tmp);
	return s;
}

static bool
same_kind(MLAggState *a, MLAggState *b)
{
	return a->rule == b->rule && a->algorithm == b->algorithm && a->pass == b->pass &&
		a->p == b->p && a->K == b->K && a->partial_len == b->partial_len &&
		a->result_len == b->result_len && a->param_len == b->param_len &&
		memcmp(agg_params(a), agg_params(b), sizeof(double) * a->param_len) == 0;
}

/* Our own state (first argument of a transition or combine call), in place. */
static MLAggState *
own_state(FunctionCallInfo fcinfo, int arg)
{
	bytea	   *b = PG_GETARG_BYTEA_P(arg);

	/* states the transition made are aligned, 4-byte-header and ours */
	if (VARATT_IS_4B_U(b) && (uintptr_t) b % MAXIMUM_ALIGNOF == 0 && VARSIZE(b) >= AGG_HDR &&
		((MLAggState *) b)->magic == ML_AGG_MAGIC)
	{
		/* an initial condition can be any bytes: checked like any other state */
		agg_verify((MLAggState *) b, VARSIZE(b), false);
		return (MLAggState *) b;
	}
	return agg_check(b);
}

/* Appends one encoded row (width p + 1) to the buffer, flushing when full. */
static MLAggState *
agg_push(MLAggState *s, const double *row, bool is_test, uint8 fold)
{
	uint8	   *flags = agg_flags(s);

	memcpy(agg_rows(s) + (Size) s->nbuf * (s->p + 1), row, sizeof(double) * (s->p + 1));
	flags[s->nbuf] = is_test ? 1 : 0;
	flags[s->block_rows + s->nbuf] = fold;
	s->nbuf++;
	if (s->nbuf == s->block_rows)
		s = agg_flush(s);
	return s;
}

/* ---------- ml._pass: the engine's aggregate ---------- */

/* Decoded plan and readers, cached per call site (fn_extra). */
typedef struct MLPassCache
{
	char	   *blob;
	Size		blob_len;
	MLPassPlanHeader hdr;
	MLPlan	   *plan;
	MLInputReader *readers;
	MLLabel		label;
	Oid			tuptype;
	int32		tuptypmod;
	TupleDesc	tupdesc;
	Datum	   *values;
	bool	   *isnull;
	double	   *row;
} MLPassCache;

static MLPassCache *
pass_cache(FunctionCallInfo fcinfo, bytea *planb)
{
	MLPassCache *c = fcinfo->flinfo->fn_extra;
	Size		len = VARSIZE_ANY_EXHDR(planb);
	MemoryContext old;

	if (c != NULL && c->blob_len == len && memcmp(c->blob, VARDATA_ANY(planb), len) == 0)
		return c;
	if (len < sizeof(MLPassPlanHeader))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("malformed pg_mlops training plan")));
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	c = palloc0(sizeof(MLPassCache));
	c->blob = palloc(len);
	memcpy(c->blob, VARDATA_ANY(planb), len);
	c->blob_len = len;
	memcpy(&c->hdr, c->blob, sizeof(MLPassPlanHeader));
	c->plan = ml_plan_deserialize(c->blob + sizeof(MLPassPlanHeader), len - sizeof(MLPassPlanHeader));
	ml_plan_readers_init(c->plan, fcinfo->flinfo->fn_mcxt, &c->readers, &c->label);
	c->row = palloc(sizeof(double) * (c->plan->p + 1));
	c->tuptype = InvalidOid;
	MemoryContextSwitchTo(old);
	fcinfo->flinfo->fn_extra = c;
	return c;
}

/* The pass's combine rule: an aggregate state needs one. */
static int
pass_rule(int pass)
{
	const MLPassDef *def = ml_pass(pass);

	if (def->rule == ML_COMBINE_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("training pass \"%s\" cannot run as an aggregate", def->name),
				 errdetail("It keeps per-row state between passes, which only the parallel engine holds.")));
	return def->rule;
}

static double *
float8_values(ArrayType *a, int *n, const char *what)
{
	if (ARR_ELEMTYPE(a) != FLOAT8OID || ARR_NDIM(a) > 1 || ARR_HASNULL(a))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional float8[] without NULLs", what)));
	*n = ARR_NDIM(a) == 0 ? 0 : ARR_DIMS(a)[0];
	return (double *) ARR_DATA_PTR(a);
}

/* ml._pass_accum(state bytea, row record, is_test boolean, plan bytea, pass integer, params float8[]) */
PG_FUNCTION_INFO_V1(ml_pass_accum);
Datum
ml_pass_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	MLAggState *s = NULL;
	MLPassCache *c;
	HeapTupleHeader th;
	HeapTupleData tuple;
	Oid			tuptype;
	int32		tuptypmod;
	int			i;
	bool		is_test;
	MLPlan	   *plan;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "ml._pass_accum called in non-aggregate context");
	if (PG_ARGISNULL(3) || PG_ARGISNULL(4) || PG_ARGISNULL(5))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the plan, pass and parameters of ml._pass must not be NULL")));
	c = pass_cache(fcinfo, PG_GETARG_BYTEA_PP(3));
	plan = c->plan;
	if (!PG_ARGISNULL(0))
	{
		s = own_state(fcinfo, 0);
		/* an initial condition made for another plan: rows of another width */
		if (s->p != plan->p || s->algorithm != c->hdr.algorithm || (s->has_folds != 0) != (plan->folds > 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the aggregate state does not belong to this training plan"),
					 errdetail("The state has %d features, the plan %d.", s->p, plan->p)));
	}
	else
	{
		int			np;
		double	   *params = float8_values(PG_GETARG_ARRAYTYPE_P(5), &np, "params");
		int			pass = PG_GETARG_INT32(4);
		int			rule = pass_rule(pass);

		if (np < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("params must hold at least the holdout fold")));
		s = agg_new(rule, c->hdr.algorithm, pass, plan->p,
					rule == ML_COMBINE_NB && np > PARAM_FIRST ? (int) params[PARAM_FIRST] : 0,
					c->hdr.partial_len, -1, params, np, plan->folds > 0);
		if (rule == ML_COMBINE_NB && (s->K < 1 || (Size) s->K * (1 + 2 * (Size) s->p) > (Size) s->partial_len))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid class count %d for naive Bayes statistics", s->K)));
		/* the plan's lengths and the parameters must fit the pass */
		agg_verify(s, VARSIZE(s), false);
	}
	if (PG_ARGISNULL(1))
		PG_RETURN_BYTEA_P(s);
	th = PG_GETARG_HEAPTUPLEHEADER(1);
	tuptype = HeapTupleHeaderGetTypeId(th);
	tuptypmod = HeapTupleHeaderGetTypMod(th);
	if (c->tupdesc == NULL || tuptype != c->tuptype || tuptypmod != c->tuptypmod)
	{
		TupleDesc	td = lookup_rowtype_tupdesc(tuptype, tuptypmod);
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		AttrNumber	maxatt = plan->target_attnum;

		c->tupdesc = CreateTupleDescCopy(td);
		ReleaseTupleDesc(td);
		c->tuptype = tuptype;
		c->tuptypmod = tuptypmod;
		c->values = palloc(sizeof(Datum) * Max(1, c->tupdesc->natts));
		c->isnull = palloc(sizeof(bool) * Max(1, c->tupdesc->natts));
		MemoryContextSwitchTo(old);
		for (i = 0; i < plan->n_inputs; i++)
			maxatt = Max(maxatt, plan->attnums[i]);
		if (maxatt > c->tupdesc->natts)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("the rows have %d columns, the training plan reads column %d",
							c->tupdesc->natts, (int) maxatt)));
		/* the readers convert datums by the plan's types: they must be the rows' */
		for (i = -1; i < plan->n_inputs; i++)
		{
			AttrNumber	att = i < 0 ? plan->target_attnum : plan->attnums[i];
			Oid			want = i < 0 ? plan->target_typid : plan->typids[i];
			Form_pg_attribute fa;

			if (i < 0 && plan->target_kind == ML_TARGET_NONE)
				continue;
			fa = TupleDescAttr(c->tupdesc, att - 1);
			if (fa->attisdropped || fa->atttypid != want)
			{
				/* forget this row type: the next call checks again */
				c->tupdesc = NULL;
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("column %d of the rows has type %s, the training plan reads %s",
								(int) att, format_type_be(fa->atttypid), format_type_be(want))));
			}
		}
	}
	tuple.t_len = HeapTupleHeaderGetDatumLength(th);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = th;
	heap_deform_tuple(&tuple, c->tupdesc, c->values, c->isnull);

	is_test = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	if (!ml_encode_row(plan, c->readers, &c->label, c->values, c->isnull, c->row))
	{
		s->skipped++;
		PG_RETURN_BYTEA_P(s);
	}
	s = agg_push(s, c->row, is_test,
				 (!is_test && plan->folds > 0) ? ml_row_fold(plan, c->row, plan->p + 1) : 0);
	PG_RETURN_BYTEA_P(s);
}

/* ml._agg_combine(a bytea, b bytea): shared by every pg_mlops statistics aggregate */
PG_FUNCTION_INFO_V1(ml_agg_combine);
Datum
ml_agg_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	MLAggState *a,
			   *b;
	bool		in_agg = AggCheckCallContext(fcinfo, &aggcxt);

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	b = agg_check(PG_GETARG_BYTEA_PP(1));
	if (PG_ARGISNULL(0))
		PG_RETURN_BYTEA_P(agg_flush(b));	/* b is our own copy */
	a = in_agg ? own_state(fcinfo, 0) : agg_check(PG_GETARG_BYTEA_PP(0));
	if (!same_kind(a, b))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine pg_mlops aggregate states of different kinds or parameters")));
	a = agg_flush(a);
	b = agg_flush(b);
	if (!acc_empty(b))
		a = agg_merge(a, agg_acc(b), b->acc_len);
	PG_RETURN_BYTEA_P(a);
}

/* ml._agg_final(state bytea) RETURNS float8[]: the combined statistics */
PG_FUNCTION_INFO_V1(ml_agg_final);
Datum
ml_agg_final(PG_FUNCTION_ARGS)
{
	MLAggState *s;
	int64		n;
	double	   *acc;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	/* never modify the state here: a final function may run more than once */
	s = agg_check(PG_GETARG_BYTEA_PP(0));
	s = agg_flush(s);
	if (acc_empty(s))
		PG_RETURN_NULL();
	n = s->result_len >= 0 ? Min(s->result_len, s->acc_len) : s->acc_len;
	acc = agg_acc(s);
	if (n > (int64) (MaxAllocSize / sizeof(double)) - 64)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("aggregate statistics of %lld values are too large", (long long) n)));
	{
		Datum	   *d = palloc(sizeof(Datum) * Max(1, n));
		int64		i;

		for (i = 0; i < n; i++)
			d[i] = Float8GetDatum(acc[i]);
		PG_RETURN_ARRAYTYPE_P(construct_array(d, (int) n, FLOAT8OID, sizeof(float8),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	}
}

/* ml._agg_state_info(state bytea) RETURNS jsonb: what a state holds (for tests and debugging) */
PG_FUNCTION_INFO_V1(ml_agg_state_info);
Datum
ml_agg_state_info(PG_FUNCTION_ARGS)
{
	MLAggState *s = agg_check(PG_GETARG_BYTEA_PP(0));
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"rule\": %d, \"algorithm\": %d, \"pass\": %d, \"p\": %d, \"K\": %d, "
					 "\"params\": %d, \"buffered_rows\": %d, \"skipped\": %lld, \"statistics\": %lld}",
					 s->rule, s->algorithm, s->pass, s->p, s->K, s->param_len, s->nbuf,
					 (long long) s->skipped, (long long) (acc_empty(s) ? 0 : s->acc_len));
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/* ---------- user-facing statistics aggregates over (y, x[]) rows ---------- */

/*
 * One (y, x) row into a state created on the first row with the given rule
 * and parameters.  Rows with a NULL or non-finite value are skipped.
 */
static MLAggState *
user_push(FunctionCallInfo fcinfo, MLAggState *s, double y, bool y_null, int xarg,
		  int rule, int algorithm, int pass, int K, const double *params, int np,
		  int (*partial_len) (int p, const double *params), int (*result_len) (int p, const double *params))
{
	ArrayType  *xa;
	double	   *x;
	double	   *row;
	int			nx,
				j;

	if (PG_ARGISNULL(xarg))
		return s;
	xa = PG_GETARG_ARRAYTYPE_P(xarg);
	if (ARR_ELEMTYPE(xa) != FLOAT8OID || ARR_NDIM(xa) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("x must be a one-dimensional float8[]")));
	nx = ARR_NDIM(xa) == 0 ? 0 : ARR_DIMS(xa)[0];
	if (s == NULL)
	{
		if (nx < 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("x must have at least one feature")));
		s = agg_new(rule, algorithm, pass, nx, K, partial_len(nx, params), result_len(nx, params),
					params, np, false);
	}
	else if (nx != s->p)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("x has %d features, earlier rows had %d", nx, s->p),
				 errhint("Pass the same features, in the same order, for every row.")));
	if (y_null || !isfinite(y) || ARR_HASNULL(xa))
	{
		s->skipped++;
		return s;
	}
	x = (double *) ARR_DATA_PTR(xa);
	row = palloc(sizeof(double) * (nx + 1));
	row[0] = y;
	for (j = 0; j < nx; j++)
	{
		if (!isfinite(x[j]))
		{
			s->skipped++;
			return s;
		}
		row[j + 1] = x[j];
	}
	return agg_push(s, row, false, 0);
}

/* The model parameters must agree with the features of the first row. */
static void
check_params_width(const char *what, int have, int want)
{
	if (have != want)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s has %d values, the rows need %d", what, have, want)));
}

static int
logistic_partial_len(int p, const double *params)
{
	return (int) MLC_LOGISTIC_PARTIAL_DOUBLES(p) + 2;
}

static int
logistic_result_len(int p, const double *params)
{
	return (int) MLC_LOGISTIC_PARTIAL_DOUBLES(p);
}

/* ml._logistic_stats_accum(state bytea, beta float8[], y float8, x float8[]) */
PG_FUNCTION_INFO_V1(ml_logistic_stats_accum);
Datum
ml_logistic_stats_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	MLAggState *s = NULL;
	double	   *params = NULL;
	int			np = 0;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "ml._logistic_stats_accum called in non-aggregate context");
	if (!PG_ARGISNULL(0))
		s = own_state(fcinfo, 0);
	else
	{
		int			nb;
		double	   *beta;

		if (PG_ARGISNULL(1))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("beta must not be NULL")));
		beta = float8_values(PG_GETARG_ARRAYTYPE_P(1), &nb, "beta");
		np = nb + 1;
		params = palloc(sizeof(double) * np);
		params[0] = -1;			/* no holdout fold */
		memcpy(params + 1, beta, sizeof(double) * nb);
	}
	s = user_push(fcinfo, s, PG_ARGISNULL(2) ? 0 : PG_GETARG_FLOAT8(2), PG_ARGISNULL(2), 3,
				  ML_COMBINE_ADD, MLC_ALG_LOGISTIC, PASS_LOGISTIC, 0, params, np,
				  logistic_partial_len, logistic_result_len);
	if (s == NULL)
		PG_RETURN_NULL();
	if (params != NULL)
	{
		check_params_width("beta (intercept first)", s->param_len - 1, s->p + 1);
		agg_verify(s, VARSIZE(s), false);
	}
	PG_RETURN_BYTEA_P(s);
}

static int
softmax_partial_len(int p, const double *params)
{
	return (int) MLC_SOFTMAX_PARTIAL_DOUBLES(p, (int) params[1]) + 2;
}

static int
softmax_result_len(int p, const double *params)
{
	return (int) MLC_SOFTMAX_PARTIAL_DOUBLES(p, (int) params[1]);
}

/* ml._softmax_stats_accum(state bytea, w float8[] (K x (p + 1)), class integer, x float8[]) */
PG_FUNCTION_INFO_V1(ml_softmax_stats_accum);
Datum
ml_softmax_stats_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	MLAggState *s = NULL;
	double	   *params = NULL;
	int			np = 0;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "ml._softmax_stats_accum called in non-aggregate context");
	if (!PG_ARGISNULL(0))
		s = own_state(fcinfo, 0);
	else
	{
		ArrayType  *wa;
		int			K;

		if (PG_ARGISNULL(1))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("w must not be NULL")));
		wa = PG_GETARG_ARRAYTYPE_P(1);
		if (ARR_ELEMTYPE(wa) != FLOAT8OID || ARR_NDIM(wa) != 2 || ARR_HASNULL(wa))
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("w must be a two-dimensional float8[] (one row of p + 1 weights per class) without NULLs")));
		K = ARR_DIMS(wa)[0];
		if (K < 2)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("w must have a row for each of at least 2 classes")));
		np = 2 + K * ARR_DIMS(wa)[1];
		params = palloc(sizeof(double) * np);
		params[0] = -1;
		params[1] = K;
		memcpy(params + 2, ARR_DATA_PTR(wa), sizeof(double) * K * ARR_DIMS(wa)[1]);
	}
	s = user_push(fcinfo, s, PG_ARGISNULL(2) ? 0 : (double) PG_GETARG_INT32(2), PG_ARGISNULL(2), 3,
				  ML_COMBINE_ADD, MLC_ALG_SOFTMAX, PASS_SOFTMAX, 0, params, np,
				  softmax_partial_len, softmax_result_len);
	if (s == NULL)
		PG_RETURN_NULL();
	if (params != NULL)
	{
		check_params_width("each row of w (intercept first)", (np - 2) / (int) params[1], s->p + 1);
		agg_verify(s, VARSIZE(s), false);
	}
	PG_RETURN_BYTEA_P(s);
}

static int
kmeans_partial_len(int p, const double *params)
{
	return (int) MLC_KMEANS_PARTIAL_DOUBLES((int) params[1], p, 1) + 2;
}

static int
kmeans_result_len(int p, const double *params)
{
	return (int) MLC_KMEANS_PARTIAL_DOUBLES((int) params[1], p, 1);
}

/* ml._kmeans_stats_accum(state bytea, centroids float8[] (k x p), x float8[]) */
PG_FUNCTION_INFO_V1(ml_kmeans_stats_accum);
Datum
ml_kmeans_stats_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	MLAggState *s = NULL;
	double	   *params = NULL;
	int			np = 0;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "ml._kmeans_stats_accum called in non-aggregate context");
	if (!PG_ARGISNULL(0))
		s = own_state(fcinfo, 0);
	else
	{
		ArrayType  *ca;
		int			k;

		if (PG_ARGISNULL(1))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("centroids must not be NULL")));
		ca = PG_GETARG_ARRAYTYPE_P(1);
		if (ARR_ELEMTYPE(ca) != FLOAT8OID || ARR_NDIM(ca) != 2 || ARR_HASNULL(ca))
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("centroids must be a two-dimensional float8[] (one row per centroid) without NULLs")));
		k = ARR_DIMS(ca)[0];
		np = 3 + k * ARR_DIMS(ca)[1];
		params = palloc(sizeof(double) * np);
		params[0] = -1;
		params[1] = k;
		params[2] = 1;			/* one run */
		memcpy(params + 3, ARR_DATA_PTR(ca), sizeof(double) * k * ARR_DIMS(ca)[1]);
	}
	/* y is unused by k-means: 0 */
	s = user_push(fcinfo, s, 0, false, 2, ML_COMBINE_ADD, MLC_ALG_KMEANS, PASS_KMEANS, 0,
				  params, np, kmeans_partial_len, kmeans_result_len);
	if (s == NULL)
		PG_RETURN_NULL();
	if (params != NULL)
	{
		check_params_width("each centroid", (np - 3) / (int) params[1], s->p);
		agg_verify(s, VARSIZE(s), false);
	}
	PG_RETURN_BYTEA_P(s);
}

static int
nb_partial_len(int p, const double *params)
{
	return (int) MLC_NB_PARTIAL_DOUBLES((int) params[1], p);
}

/* ml._nb_stats_accum(state bytea, k integer, class integer, x float8[]) */
PG_FUNCTION_INFO_V1(ml_nb_stats_accum);
Datum
ml_nb_stats_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	MLAggState *s = NULL;
	double		params[2];
	int			np = 0;
	int			K = 0;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "ml._nb_stats_accum called in non-aggregate context");
	if (!PG_ARGISNULL(0))
		s = own_state(fcinfo, 0);
	else
	{
		if (PG_ARGISNULL(1) || PG_GETARG_INT32(1) < 1 || PG_GETARG_INT32(1) > 100000)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("k must be between 1 and 100000")));
		K = PG_GETARG_INT32(1);
		params[0] = -1;
		params[1] = K;
		np = 2;
	}
	if (!PG_ARGISNULL(2) && (PG_GETARG_INT32(2) < 0 || PG_GETARG_INT32(2) >= (s ? s->K : K)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("class %d is not between 0 and k - 1 = %d", PG_GETARG_INT32(2), (s ? s->K : K) - 1)));
	s = user_push(fcinfo, s, PG_ARGISNULL(2) ? 0 : (double) PG_GETARG_INT32(2), PG_ARGISNULL(2), 3,
				  ML_COMBINE_NB, MLC_ALG_NAIVE_BAYES, PASS_NB, K, np ? params : NULL, np,
				  nb_partial_len, nb_partial_len);
	if (s == NULL)
		PG_RETURN_NULL();
	if (np > 0)
		agg_verify(s, VARSIZE(s), false);
	PG_RETURN_BYTEA_P(s);
}

