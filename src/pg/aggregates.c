/*
 * aggregates.c: ml.linreg_stats, a linear-regression statistics aggregate
 * over rows whose state is the core's stats buffer as a float8[]
 * (MLC_STATS_DOUBLES(p + 1) values: n, means, R, low parts of the means),
 * and ml._linreg_solve, the coefficients from such a buffer.
 *
 * The transition adds one row with mlc_linear_stats_add_row (Givens
 * rotations, O(p^2) per row); the combine function merges two partial
 * states with mlc_linear_stats_merge, so the aggregate runs in parallel
 * plans (and in any engine that combines partial aggregates).
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "pg_mlops.h"

/* Doubles of a float8[] argument: one dimension, no NULLs. */
static double *
stats_values(ArrayType *a, int *p1, const char *what)
{
	int			len,
				k;

	if (ARR_ELEMTYPE(a) != FLOAT8OID)
		elog(ERROR, "%s must be a float8[]", what);
	if (ARR_NDIM(a) != 1 || ARR_HASNULL(a))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional float8[] without NULLs", what)));
	len = ARR_DIMS(a)[0];
	/* MLC_STATS_DOUBLES(p1) = (p1 + 1)^2 */
	k = (int) floor(sqrt((double) len) + 0.5);
	if (k < 2 || (int64) k * k != len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is not a linear regression statistics array (%d values)", what, len)));
	*p1 = k - 1;
	return (double *) ARR_DATA_PTR(a);
}

static ArrayType *
new_stats(int p1)
{
	size_t		sz = MLC_STATS_DOUBLES(p1);
	ArrayType  *a;
	int			nbytes;

	if (sz > (MaxAllocSize - ARR_OVERHEAD_NONULLS(1)) / sizeof(double))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many features for linear regression statistics")));
	nbytes = ARR_OVERHEAD_NONULLS(1) + sz * sizeof(double);
	a = palloc0(nbytes);
	SET_VARSIZE(a, nbytes);
	a->ndim = 1;
	a->dataoffset = 0;
	a->elemtype = FLOAT8OID;
	ARR_DIMS(a)[0] = (int) sz;
	ARR_LBOUND(a)[0] = 1;
	return a;
}

/* ml._linreg_stats_accum(state float8[], y float8, x float8[]) */
PG_FUNCTION_INFO_V1(ml_linreg_stats_accum);
Datum
ml_linreg_stats_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt,
				old;
	ArrayType  *state = NULL;
	ArrayType  *x;
	double	   *st;
	double	   *xy;
	Datum	   *elems;
	bool	   *nulls;
	int			nx,
				p1,
				j;
	mlc_error	err;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "ml._linreg_stats_accum called in non-aggregate context");
	if (!PG_ARGISNULL(0))
		state = PG_GETARG_ARRAYTYPE_P(0);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || !isfinite(PG_GETARG_FLOAT8(1)))
		goto skip;
	x = PG_GETARG_ARRAYTYPE_P(2);
	if (ARR_ELEMTYPE(x) != FLOAT8OID)
		elog(ERROR, "x must be a float8[]");
	if (ARR_NDIM(x) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("x must be a one-dimensional array")));
	deconstruct_array(x, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &nx);
	if (state != NULL)
	{
		st = stats_values(state, &p1, "linear regression state");
		if (nx != p1 - 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("x has %d features, earlier rows had %d", nx, p1 - 1),
					 errhint("Pass the same features, in the same order, for every row.")));
	}
	for (j = 0; j < nx; j++)
		if (nulls[j] || !isfinite(DatumGetFloat8(elems[j])))
			goto skip;
	if (state == NULL)
	{
		old = MemoryContextSwitchTo(aggcxt);
		state = new_stats(nx + 1);
		MemoryContextSwitchTo(old);
	}
	st = stats_values(state, &p1, "linear regression state");
	xy = palloc(sizeof(double) * p1);
	for (j = 0; j < nx; j++)
		xy[j] = DatumGetFloat8(elems[j]);
	xy[nx] = PG_GETARG_FLOAT8(1);
	if (mlc_linear_stats_add_row(p1, st, xy, &err) != MLC_OK)
		ml_raise_core_error(&err);
	pfree(xy);
	PG_RETURN_ARRAYTYPE_P(state);

skip:
	if (state == NULL)
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(state);
}

/* ml._linreg_stats_combine(a float8[], b float8[]): STRICT */
PG_FUNCTION_INFO_V1(ml_linreg_stats_combine);
Datum
ml_linreg_stats_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *b = PG_GETARG_ARRAYTYPE_P(1);
	ArrayType  *out;
	int			pa,
				pb;
	double	   *sa = stats_values(a, &pa, "linear regression state");
	double	   *sb = stats_values(b, &pb, "linear regression state");
	mlc_error	err;

	if (pa != pb)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("cannot combine linear regression states of %d and %d features",
						pa - 1, pb - 1)));
	if (AggCheckCallContext(fcinfo, NULL))
		out = a;				/* the aggregate's own state: update in place */
	else
		out = new_stats(pa);
	if (mlc_linear_stats_merge(pa, sa, sb, (double *) ARR_DATA_PTR(out), &err) != MLC_OK)
		ml_raise_core_error(&err);
	PG_RETURN_ARRAYTYPE_P(out);
}

/* ml._linreg_solve(stats float8[], alpha float8) RETURNS float8[]: intercept, coefficients */
PG_FUNCTION_INFO_V1(ml_linreg_solve);
Datum
ml_linreg_solve(PG_FUNCTION_ARGS)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);
	double		alpha = PG_GETARG_FLOAT8(1);
	int			p1,
				j;
	double	   *st = stats_values(a, &p1, "stats");
	mlc_linear_model model;
	mlc_linear_summary summary;
	mlc_error	err;
	Datum	   *out;

	if (!(alpha >= 0.0) || !isfinite(alpha))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("alpha must be a finite number >= 0, not %g", alpha)));
	if (!(st[0] >= 1.0) || st[0] != floor(st[0]) || st[0] > 9007199254740992.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid row count %g in linear regression statistics", st[0])));
	memset(&model, 0, sizeof(model));
	memset(&summary, 0, sizeof(summary));
	if (mlc_linear_solve(p1 - 1, st + 1 + p1, st + 1, (int64_t) st[0], alpha,
						 &model, &summary, &err) != MLC_OK)
		ml_raise_core_error(&err);
	out = palloc(sizeof(Datum) * p1);
	out[0] = Float8GetDatum(model.intercept);
	for (j = 0; j < p1 - 1; j++)
		out[j + 1] = Float8GetDatum(model.coef[j]);
	PG_RETURN_ARRAYTYPE_P(construct_array(out, p1, FLOAT8OID, sizeof(float8),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * ml.column_profile(float8): state float8[6] = {count, nulls, min, max,
 * mean, M2}; mean and M2 by Welford per row and Chan's merge across
 * states, so partial states combine in any order to within rounding.
 * Non-finite values count as NULLs.
 */
#define PROFILE_LEN 6

static double *
profile_values(ArrayType *a)
{
	if (ARR_ELEMTYPE(a) != FLOAT8OID || ARR_NDIM(a) != 1 || ARR_HASNULL(a) ||
		ARR_DIMS(a)[0] != PROFILE_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("malformed column profile state"),
				 errdetail("A column profile state is a float8[] of %d values without NULLs.", PROFILE_LEN)));
	{
		double	   *v = (double *) ARR_DATA_PTR(a);

		if (!(v[0] >= 0) || !(v[1] >= 0) || v[0] != floor(v[0]) || v[1] != floor(v[1]) ||
			!isfinite(v[4]) || !(v[5] >= 0) || (v[0] > 0 && !(v[2] <= v[3])))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("malformed column profile state"),
					 errdetail("Counts must be non-negative integers, min <= max, M2 >= 0.")));
		return v;
	}
}

static ArrayType *
profile_new(void)
{
	ArrayType  *a = new_stats(1);	/* MLC_STATS_DOUBLES(1) = 4: resized below */
	int			nbytes = ARR_OVERHEAD_NONULLS(1) + PROFILE_LEN * sizeof(double);

	a = repalloc(a, nbytes);
	SET_VARSIZE(a, nbytes);
	ARR_DIMS(a)[0] = PROFILE_LEN;
	memset(ARR_DATA_PTR(a), 0, PROFILE_LEN * sizeof(double));
	return a;
}

PG_FUNCTION_INFO_V1(ml_profile_accum);
Datum
ml_profile_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt,
				old;
	ArrayType  *state;
	double	   *v;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "ml._profile_accum called in non-aggregate context");
	if (PG_ARGISNULL(0))
	{
		old = MemoryContextSwitchTo(aggcxt);
		state = profile_new();
		MemoryContextSwitchTo(old);
	}
	else
		state = PG_GETARG_ARRAYTYPE_P(0);
	v = profile_values(state);
	if (PG_ARGISNULL(1) || !isfinite(PG_GETARG_FLOAT8(1)))
		v[1] += 1;
	else
	{
		double		x = PG_GETARG_FLOAT8(1);
		double		d;

		v[0] += 1;
		if (v[0] == 1)
			v[2] = v[3] = x;
		v[2] = Min(v[2], x);
		v[3] = Max(v[3], x);
		d = x - v[4];
		v[4] += d / v[0];
		v[5] += d * (x - v[4]);
	}
	PG_RETURN_ARRAYTYPE_P(state);
}

PG_FUNCTION_INFO_V1(ml_profile_combine);
Datum
ml_profile_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *r;
	double	   *a,
			   *b,
			   *o;
	double		n,
				d;

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
	{
		ArrayType  *one = PG_GETARG_ARRAYTYPE_P_COPY(PG_ARGISNULL(0) ? 1 : 0);

		(void) profile_values(one);
		PG_RETURN_ARRAYTYPE_P(one);
	}
	a = profile_values(PG_GETARG_ARRAYTYPE_P(0));
	b = profile_values(PG_GETARG_ARRAYTYPE_P(1));
	r = profile_new();
	o = (double *) ARR_DATA_PTR(r);
	n = a[0] + b[0];
	o[0] = n;
	o[1] = a[1] + b[1];
	if (a[0] == 0 || b[0] == 0)
	{
		const double *s = a[0] == 0 ? b : a;

		o[2] = s[2];
		o[3] = s[3];
		o[4] = s[4];
		o[5] = s[5];
	}
	else
	{
		o[2] = Min(a[2], b[2]);
		o[3] = Max(a[3], b[3]);
		d = b[4] - a[4];
		o[4] = a[4] + d * (b[0] / n);
		o[5] = a[5] + b[5] + d * d * (a[0] * b[0] / n);
	}
	PG_RETURN_ARRAYTYPE_P(r);
}

PG_FUNCTION_INFO_V1(ml_profile_final);
Datum
ml_profile_final(PG_FUNCTION_ARGS)
{
	double	   *v;
	StringInfoData buf;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	v = profile_values(PG_GETARG_ARRAYTYPE_P(0));
	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"count\": %.0f, \"nulls\": %.0f", v[0], v[1]);
	if (v[0] > 0)
		appendStringInfo(&buf, ", \"min\": %.17g, \"max\": %.17g, \"mean\": %.17g", v[2], v[3], v[4]);
	else
		appendStringInfoString(&buf, ", \"min\": null, \"max\": null, \"mean\": null");
	if (v[0] > 1)
		appendStringInfo(&buf, ", \"stddev\": %.17g}", sqrt(v[5] / (v[0] - 1)));
	else
		appendStringInfoString(&buf, ", \"stddev\": null}");
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
