/*
 * drift.c: the input profile of scored data, and the drift statistics.
 *
 * ml._drift_profile(model_id, spec, features...) is an aggregate over the rows of a
 * source: per feature of the model it counts rows and NULLs, sums values
 * shifted by the reference mean (for a mean and standard deviation without
 * cancellation), and counts rows in the reference bins (decile bins for
 * numeric features, reference categories plus "other" for categorical ones);
 * it also predicts each row and bins the predictions on the reference
 * prediction deciles.  The state is a flat array of doubles, so partial
 * states combine by addition (min and max aside) and the aggregate runs in
 * parallel query.  The spec (jsonb) comes from ml._drift_spec().
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "encode.h"
#include "wire.h"
#include "pg_mlops.h"

/* Per-block layout: count, nulls, shifted sum, shifted sum of squares, min, max, bins. */
#define B_COUNT 0
#define B_NULLS 1
#define B_SUM 2
#define B_SUMSQ 3
#define B_MIN 4
#define B_MAX 5
#define B_BINS 6

typedef enum
{
	OP_ADD = 0,
	OP_MIN = 1,
	OP_MAX = 2
} CombineOp;

typedef struct DriftFeature
{
	char	   *name;
	bool		categorical;
	double		shift;			/* reference mean (numeric) */
	int			nedges;			/* numeric: internal bin edges */
	double	   *edges;
	int			nvalues;		/* categorical: reference values */
	char	  **values;
	int			offset;			/* block start in vals */
	int			nbins;
	Oid			type;			/* of the argument */
	FmgrInfo	out;
} DriftFeature;

typedef struct DriftState
{
	int			nvals;
	uint8	   *ops;
	double	   *vals;
	/* only in the state that reads rows (not after deserialization) */
	int			nfeat;
	DriftFeature *feat;
	const mlc_model *model;
	double		pred_shift;
	int			pred_nedges;
	double	   *pred_edges;
	int			pred_offset;
	bool		types_set;
	double	   *x;				/* numeric value of each feature */
	MLInputReader *readers;		/* the model's encoding of each input */
	double	   *xenc;			/* encoded features, for the prediction */
	const char *label;
} DriftState;


/* The core lays out the state; its blocks must be these. */
StaticAssertDecl(B_BINS == MLC_DRIFT_BLOCK_HEAD, "drift block layout");

static void
block_init(DriftState *st, int offset, int nbins)
{
	int			i;

	for (i = 0; i < B_BINS + nbins; i++)
	{
		st->ops[offset + i] = i == B_MIN ? OP_MIN : i == B_MAX ? OP_MAX : OP_ADD;
		st->vals[offset + i] = i == B_MIN ? INFINITY : i == B_MAX ? -INFINITY : 0.0;
	}
}

/* Parse the spec and lay out the state. */
static DriftState *
state_create(MemoryContext cxt, int64 model_id, Jsonb *spec)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	DriftState *st = palloc0(sizeof(DriftState));
	char	   *text = JsonbToCString(NULL, &spec->root, VARSIZE(spec));
	mlc_drift_spec sp;
	mlc_error	err;
	int			f;

	/* Decoded and checked by the core (also fuzzed); its arrays live in cxt. */
	if (mlc_drift_spec_parse(text, strlen(text), &sp, &err) != MLC_OK)
		ml_raise_core_error(&err);
	pfree(text);
	st->nfeat = sp.nfeat;
	st->feat = palloc0(sizeof(DriftFeature) * Max(1, st->nfeat));
	for (f = 0; f < st->nfeat; f++)
	{
		DriftFeature *d = &st->feat[f];
		const mlc_drift_feature *c = &sp.feat[f];

		d->name = c->name;
		d->categorical = c->categorical != 0;
		d->shift = c->shift;
		d->nedges = c->nedges;
		d->edges = c->edges;
		d->nvalues = c->nvalues;
		d->values = c->values;
		d->offset = c->offset;
		d->nbins = c->nbins;
	}
	st->pred_shift = sp.pred_shift;
	st->pred_nedges = sp.pred_nedges;
	st->pred_edges = sp.pred_edges;
	st->pred_offset = sp.pred_offset;
	st->nvals = sp.nvals;
	st->ops = palloc0(st->nvals);
	st->vals = palloc0(sizeof(double) * st->nvals);
	for (f = 0; f < st->nfeat; f++)
		block_init(st, st->feat[f].offset, st->feat[f].nbins);
	block_init(st, st->pred_offset, st->pred_nedges + 1);
	st->x = palloc(sizeof(double) * Max(1, st->nfeat));
	MemoryContextSwitchTo(old);

	/* The model must have these features in this order. */
	st->model = ml_model_by_id(model_id, &st->label);
	if (st->model->n_inputs != st->nfeat)
		elog(ERROR, "drift spec does not match model %lld", (long long) model_id);
	return st;
}

/* Learn the features' argument types (once): numbers, booleans or categories. */
static void
state_set_types(DriftState *st, FunctionCallInfo fcinfo, MemoryContext cxt)
{
	int			f,
				offset = 0;

	st->readers = MemoryContextAlloc(cxt, sizeof(MLInputReader) * Max(1, st->nfeat));
	st->xenc = MemoryContextAlloc(cxt, sizeof(double) * Max(1, st->model->n_features));
	if (PG_NARGS() != 3 + st->nfeat)
		elog(ERROR, "drift profile called with %d features for a model of %d",
			 PG_NARGS() - 3, st->nfeat);
	for (f = 0; f < st->nfeat; f++)
	{
		DriftFeature *d = &st->feat[f];
		Oid			func;
		bool		varlena;

		d->type = getBaseType(get_fn_expr_argtype(fcinfo->flinfo, 3 + f));
		if (f >= st->model->n_inputs || strcmp(st->model->inputs[f].column, d->name) != 0)
			elog(ERROR, "drift spec feature \"%s\" is not input %d of the model", d->name, f + 1);
		ml_reader_init(&st->readers[f], &st->model->inputs[f], d->type, offset, st->label,
					   mlc_algorithm_is_tree(st->model->algorithm), cxt);
		offset += st->model->inputs[f].width;
		getTypeOutputInfo(d->type, &func, &varlena);
		fmgr_info_cxt(func, &d->out, cxt);
	}
	st->types_set = true;
}

/*
 * Number of edges <= x: the bin, as width_bucket() numbers it.  A branch-free
 * count: with nine decile edges it beats a binary search, whose branches
 * mispredict on every row.
 */
static int
bin_of(const double *edges, int nedges, double x)
{
	int			bin = 0,
				i;

	for (i = 0; i < nedges; i++)
		bin += edges[i] <= x;
	return bin;
}

static void
add_value(double *block, double shifted)
{
	block[B_COUNT] += 1;
	block[B_SUM] += shifted;
	block[B_SUMSQ] += shifted * shifted;
}

static void
add_minmax(double *block, double x)
{
	if (x < block[B_MIN])
		block[B_MIN] = x;
	if (x > block[B_MAX])
		block[B_MAX] = x;
}

/*
 * ml._drift_accum(state, model_id, spec, VARIADIC features): the features
 * are passed as columns, in the model's order, so no row is built.
 */
PG_FUNCTION_INFO_V1(ml_drift_accum);
Datum
ml_drift_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	DriftState *st;
	bool		complete = true;
	int			f;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "ml._drift_accum called in non-aggregate context");
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model id and drift spec must not be NULL")));
	st = PG_ARGISNULL(0) ? state_create(aggcxt, PG_GETARG_INT64(1), PG_GETARG_JSONB_P(2))
		: (DriftState *) PG_GETARG_POINTER(0);
	if (!st->types_set)
		state_set_types(st, fcinfo, aggcxt);

	st->vals[0] += 1;
	for (f = 0; f < st->nfeat; f++)
	{
		DriftFeature *d = &st->feat[f];
		double	   *block = st->vals + d->offset;
		Datum		value = PG_GETARG_DATUM(3 + f);

		/* the prediction sees the row as ml.predict does: NULLs imputed */
		if (PG_ARGISNULL(3 + f) && isnan(st->model->inputs[f].impute) &&
			st->model->inputs[f].kind != MLC_ENC_CATEGORY && !st->readers[f].missing_as_nan)
			complete = false;
		else if (!ml_reader_encode(&st->readers[f], value, PG_ARGISNULL(3 + f), st->xenc, st->label))
			complete = false;
		if (PG_ARGISNULL(3 + f))
		{
			block[B_NULLS] += 1;
			continue;
		}
		if (d->categorical)
		{
			/* the text a ::text cast gives, as the snapshot profile used */
			char	   *txt = d->type == BOOLOID ? pstrdup(DatumGetBool(value) ? "true" : "false")
				: OutputFunctionCall(&d->out, value);
			int			i;

			for (i = 0; i < d->nvalues; i++)
				if (strcmp(txt, d->values[i]) == 0)
					break;
			block[B_COUNT] += 1;
			block[B_BINS + i] += 1;
			pfree(txt);
		}
		else
		{
			st->x[f] = ml_datum_to_double(value, d->type);
			add_value(block, st->x[f] - d->shift);
			add_minmax(block, st->x[f]);
			block[B_BINS + bin_of(d->edges, d->nedges, st->x[f])] += 1;
		}
	}
	{
		double	   *block = st->vals + st->pred_offset;

		if (complete)
		{
			double		yhat = mlc_model_predict(st->model, st->xenc);

			add_value(block, yhat - st->pred_shift);
			add_minmax(block, yhat);
			block[B_BINS + bin_of(st->pred_edges, st->pred_nedges, yhat)] += 1;
		}
		else
			block[B_NULLS] += 1;
	}
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(ml_drift_combine);
Datum
ml_drift_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	DriftState *a,
			   *b;
	int			i;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "ml._drift_combine called in non-aggregate context");
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(PG_ARGISNULL(0) ? NULL : PG_GETARG_POINTER(0));
	b = (DriftState *) PG_GETARG_POINTER(1);
	if (PG_ARGISNULL(0))
	{
		MemoryContext old = MemoryContextSwitchTo(aggcxt);

		a = palloc0(sizeof(DriftState));
		a->nvals = b->nvals;
		a->ops = palloc(b->nvals);
		a->vals = palloc(sizeof(double) * b->nvals);
		memcpy(a->ops, b->ops, b->nvals);
		memcpy(a->vals, b->vals, sizeof(double) * b->nvals);
		MemoryContextSwitchTo(old);
		PG_RETURN_POINTER(a);
	}
	a = (DriftState *) PG_GETARG_POINTER(0);
	if (a->nvals != b->nvals)
		elog(ERROR, "drift profile states of different shapes");
	for (i = 0; i < a->nvals; i++)
	{
		switch (a->ops[i])
		{
			case OP_MIN:
				a->vals[i] = Min(a->vals[i], b->vals[i]);
				break;
			case OP_MAX:
				a->vals[i] = Max(a->vals[i], b->vals[i]);
				break;
			default:
				a->vals[i] += b->vals[i];
				break;
		}
	}
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(ml_drift_serialize);
Datum
ml_drift_serialize(PG_FUNCTION_ARGS)
{
	DriftState *st = (DriftState *) PG_GETARG_POINTER(0);
	Size		len = sizeof(int32) + st->nvals + sizeof(double) * st->nvals;
	bytea	   *out = palloc(VARHDRSZ + len);
	char	   *p = VARDATA(out);
	int32		n = st->nvals;

	SET_VARSIZE(out, VARHDRSZ + len);
	memcpy(p, &n, sizeof(int32));
	memcpy(p + sizeof(int32), st->ops, st->nvals);
	memcpy(p + sizeof(int32) + st->nvals, st->vals, sizeof(double) * st->nvals);
	PG_RETURN_BYTEA_P(out);
}

PG_FUNCTION_INFO_V1(ml_drift_deserialize);
Datum
ml_drift_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	const char *p = VARDATA_ANY(in);
	DriftState *st = palloc0(sizeof(DriftState));
	int32		n;

	if (VARSIZE_ANY_EXHDR(in) < sizeof(int32))
		n = 0;
	else
		memcpy(&n, p, sizeof(int32));
	if (n <= 0 || VARSIZE_ANY_EXHDR(in) != sizeof(int32) + (Size) n + sizeof(double) * (Size) n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("malformed drift profile state"),
				 errdetail("The state's length disagrees with its value count.")));
	st->nvals = n;
	st->ops = palloc(n);
	st->vals = palloc(sizeof(double) * n);
	memcpy(st->ops, p + sizeof(int32), n);
	memcpy(st->vals, p + sizeof(int32) + n, sizeof(double) * n);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(ml_drift_final);
Datum
ml_drift_final(PG_FUNCTION_ARGS)
{
	DriftState *st;
	Datum	   *d;
	int			i;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (DriftState *) PG_GETARG_POINTER(0);
	d = palloc(sizeof(Datum) * st->nvals);
	for (i = 0; i < st->nvals; i++)
		d[i] = Float8GetDatum(st->vals[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, st->nvals, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* ---------- drift statistics for SQL ---------- */

static double *
array_doubles(ArrayType *a, int *n)
{
	Datum	   *d;
	bool	   *nulls;
	double	   *out;
	int			i;

	deconstruct_array(a, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &d, &nulls, n);
	out = palloc(sizeof(double) * Max(1, *n));
	for (i = 0; i < *n; i++)
		out[i] = nulls[i] ? 0.0 : DatumGetFloat8(d[i]);
	return out;
}

static Datum
float8_or_null(FunctionCallInfo fcinfo, double v)
{
	if (isnan(v))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(v);
}

/* Two distributions of the same number of bins. */
static void
two_arrays(FunctionCallInfo fcinfo, double **a, double **b, int *n)
{
	int			na,
				nb;

	*a = array_doubles(PG_GETARG_ARRAYTYPE_P(0), &na);
	*b = array_doubles(PG_GETARG_ARRAYTYPE_P(1), &nb);
	if (na != nb)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("distributions have %d and %d bins", na, nb)));
	*n = na;
}

PG_FUNCTION_INFO_V1(ml_psi);
Datum
ml_psi(PG_FUNCTION_ARGS)
{
	double	   *ref,
			   *cur;
	int			n;

	two_arrays(fcinfo, &ref, &cur, &n);
	return float8_or_null(fcinfo, mlc_psi(n, ref, cur, PG_GETARG_FLOAT8(2)));
}

PG_FUNCTION_INFO_V1(ml_ks_binned);
Datum
ml_ks_binned(PG_FUNCTION_ARGS)
{
	double	   *ref,
			   *cur;
	int			n;

	two_arrays(fcinfo, &ref, &cur, &n);
	return float8_or_null(fcinfo, mlc_ks_binned(n, ref, cur));
}

PG_FUNCTION_INFO_V1(ml_ks_pvalue);
Datum
ml_ks_pvalue(PG_FUNCTION_ARGS)
{
	return float8_or_null(fcinfo, mlc_ks_pvalue(PG_GETARG_FLOAT8(0), PG_GETARG_FLOAT8(1),
												PG_GETARG_FLOAT8(2)));
}

PG_FUNCTION_INFO_V1(ml_js_distance);
Datum
ml_js_distance(PG_FUNCTION_ARGS)
{
	double	   *p,
			   *q;
	int			n;

	two_arrays(fcinfo, &p, &q, &n);
	return float8_or_null(fcinfo, mlc_js_distance(n, p, q));
}
