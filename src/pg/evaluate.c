/*
 * evaluate.c: ml._auc_agg(score, positive), the exact ROC AUC of scored
 * rows as a parallel aggregate: partial states collect the scores of
 * positive and negative rows, the final function sorts them once (the
 * core's mlc_roc_auc, ties counting one half); ml._ap_agg the same with
 * the average precision (mlc_average_precision).
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "utils/builtins.h"

#include "pg_mlops.h"

typedef struct AucState
{
	int64		n;
	int64		cap;
	double	   *score;
	double	   *label;			/* 1 positive, 0 negative */
} AucState;

static AucState *
auc_state(MemoryContext cxt, int64 cap)
{
	AucState   *st = MemoryContextAllocZero(cxt, sizeof(AucState));

	st->cap = Max(cap, 1024);
	st->score = MemoryContextAllocHuge(cxt, sizeof(double) * st->cap);
	st->label = MemoryContextAllocHuge(cxt, sizeof(double) * st->cap);
	return st;
}

static void
auc_reserve(AucState *st, int64 need)
{
	if (need <= st->cap)
		return;
	st->cap = Max(need, st->cap * 2);
	st->score = repalloc_huge(st->score, sizeof(double) * st->cap);
	st->label = repalloc_huge(st->label, sizeof(double) * st->cap);
}

PG_FUNCTION_INFO_V1(ml_auc_trans);
Datum
ml_auc_trans(PG_FUNCTION_ARGS)
{
	MemoryContext cxt;
	AucState   *st;

	if (!AggCheckCallContext(fcinfo, &cxt))
		elog(ERROR, "ml._auc_trans called in non-aggregate context");
	st = PG_ARGISNULL(0) ? auc_state(cxt, 0) : (AucState *) PG_GETARG_POINTER(0);
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2) && !isnan(PG_GETARG_FLOAT8(1)))
	{
		auc_reserve(st, st->n + 1);
		st->score[st->n] = PG_GETARG_FLOAT8(1);
		st->label[st->n] = PG_GETARG_BOOL(2) ? 1 : 0;
		st->n++;
	}
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(ml_auc_combine);
Datum
ml_auc_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt;
	AucState   *a,
			   *b;

	if (!AggCheckCallContext(fcinfo, &cxt))
		elog(ERROR, "ml._auc_combine called in non-aggregate context");
	a = PG_ARGISNULL(0) ? NULL : (AucState *) PG_GETARG_POINTER(0);
	b = PG_ARGISNULL(1) ? NULL : (AucState *) PG_GETARG_POINTER(1);
	if (b == NULL)
		PG_RETURN_POINTER(a);
	if (a == NULL)
		a = auc_state(cxt, b->n);
	auc_reserve(a, a->n + b->n);
	memcpy(a->score + a->n, b->score, sizeof(double) * b->n);
	memcpy(a->label + a->n, b->label, sizeof(double) * b->n);
	a->n += b->n;
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(ml_auc_serialize);
Datum
ml_auc_serialize(PG_FUNCTION_ARGS)
{
	AucState   *st = (AucState *) PG_GETARG_POINTER(0);
	Size		len = sizeof(int64) + 2 * sizeof(double) * st->n;
	bytea	   *out = palloc_extended(VARHDRSZ + len, MCXT_ALLOC_HUGE);
	char	   *p = VARDATA(out);

	SET_VARSIZE(out, VARHDRSZ + len);
	memcpy(p, &st->n, sizeof(int64));
	memcpy(p + sizeof(int64), st->score, sizeof(double) * st->n);
	memcpy(p + sizeof(int64) + sizeof(double) * st->n, st->label, sizeof(double) * st->n);
	PG_RETURN_BYTEA_P(out);
}

PG_FUNCTION_INFO_V1(ml_auc_deserialize);
Datum
ml_auc_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	const char *p = VARDATA_ANY(in);
	Size		len = VARSIZE_ANY_EXHDR(in);
	MemoryContext cxt;
	AucState   *st;
	int64		n = 0;

	if (!AggCheckCallContext(fcinfo, &cxt))
		elog(ERROR, "ml._auc_deserialize called in non-aggregate context");
	if (len >= sizeof(int64))
		memcpy(&n, p, sizeof(int64));
	if (len < sizeof(int64) || n < 0 || (Size) n > (len - sizeof(int64)) / (2 * sizeof(double)) ||
		len != sizeof(int64) + 2 * sizeof(double) * (Size) n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("malformed ROC AUC state"),
				 errdetail("The state's length disagrees with its row count.")));
	st = auc_state(cxt, n);
	memcpy(st->score, p + sizeof(int64), sizeof(double) * n);
	memcpy(st->label, p + sizeof(int64) + sizeof(double) * n, sizeof(double) * n);
	st->n = n;
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(ml_auc_final);
Datum
ml_auc_final(PG_FUNCTION_ARGS)
{
	AucState   *st = PG_ARGISNULL(0) ? NULL : (AucState *) PG_GETARG_POINTER(0);
	double		auc;

	if (st == NULL || st->n == 0)
		PG_RETURN_NULL();
	auc = mlc_roc_auc(st->n, st->score, st->label);
	if (isnan(auc))
		PG_RETURN_NULL();		/* one class only */
	PG_RETURN_FLOAT8(auc);
}

PG_FUNCTION_INFO_V1(ml_ap_final);
Datum
ml_ap_final(PG_FUNCTION_ARGS)
{
	AucState   *st = PG_ARGISNULL(0) ? NULL : (AucState *) PG_GETARG_POINTER(0);
	double		ap;

	if (st == NULL || st->n == 0)
		PG_RETURN_NULL();
	ap = mlc_average_precision(st->n, st->score, st->label);
	if (isnan(ap))
		PG_RETURN_NULL();		/* no positive row */
	PG_RETURN_FLOAT8(ap);
}
