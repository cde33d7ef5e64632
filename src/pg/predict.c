/*
 * predict.c: ml.predict, ml.predict_class, ml.predict_proba, ml.transform
 * and ml.classes: scoring one row or one float8[] with a registered model.
 *
 * References are resolved once per statement and models cached per backend
 * (modelcache.c).  Each call site (fn_extra) remembers the reference it
 * resolved and how the row's columns map to the model's features.  A call
 * site can outlive a statement (PL/pgSQL keeps its expressions for the whole
 * call), so it keeps its resolution only while nothing it could see has
 * changed: the same transaction, command and active snapshot (MLStamp),
 * and no cached model dropped since.  A promotion,
 * here or committed elsewhere, takes effect at the next statement.
 *
 * A whole row of a table (ml.predict('m', t) FROM t) is rewritten by the
 * planner (ml_predict_support) into the table's columns, passed one by one
 * with their names: the executor then hands over the values it has already
 * read instead of forming a row value for every call.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "parser/parsetree.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "storage/proc.h"
#include "utils/typcache.h"
#include "funcapi.h"

#include "encode.h"
#include "pg_mlops.h"

typedef MLCachedModel CachedModel;

typedef struct PredictSite
{
	/* the reference resolved in this statement */
	bool		by_id;			/* the reference is a bigint id */
	Oid			arg_type;		/* type of the features argument */
	bool		resolved;
	int64		ref_id;
	char	   *ref_text;		/* not NUL-terminated */
	int			ref_len;
	MLStamp		stamp;			/* when it was resolved */
	CachedModel *entry;			/* its cache entry, valid while generation holds */
	uint64		generation;
	/* row layout -> input mapping */
	Oid			row_type;
	int32		row_typmod;
	TupleDesc	row_desc;
	int		   *input_att;		/* per model input: 0-based attribute index */
	MLInputReader *readers;
	Datum	   *values;
	bool	   *isnull;
	double	   *x;				/* encoded features */
	int			x_len;
	double	   *out;			/* probabilities or transform */
	int			out_len;
} PredictSite;

/*
 * Is the reference argument the one this call site resolved already, with
 * nothing changed that the resolution could see?
 */
static bool
same_reference(PredictSite *site, bool by_id, Datum ref)
{
	text	   *t;
	MLStamp		now;

	if (!site->resolved || !ml_stamp_now(&now) || !ml_stamp_equal(&now, &site->stamp))
		return false;
	if (by_id)
		return site->ref_id == DatumGetInt64(ref);
	t = DatumGetTextPP(ref);
	return VARSIZE_ANY_EXHDR(t) == site->ref_len &&
		memcmp(VARDATA_ANY(t), site->ref_text, site->ref_len) == 0;
}

/* Resolve the reference argument to a model, once per statement and value. */
static CachedModel *
resolve(FunctionCallInfo fcinfo, PredictSite *site)
{
	bool		by_id = site->by_id;
	Datum		ref = PG_GETARG_DATUM(0);
	CachedModel *entry;

	if (site->generation == ml_model_cache_generation && same_reference(site, by_id, ref))
		return site->entry;

	entry = ml_resolve_model(by_id, ref);
	/*
	 * Another model, or any model dropped since (its memory may have been
	 * reused for this one): the readers, which point into the model, are
	 * remade.
	 */
	if (entry != site->entry || site->generation != ml_model_cache_generation)
		site->row_type = InvalidOid;
	site->entry = entry;
	site->generation = ml_model_cache_generation;
	site->resolved = ml_stamp_now(&site->stamp);
	if (by_id)
		site->ref_id = DatumGetInt64(ref);
	else
	{
		text	   *t = DatumGetTextPP(ref);
		int			len = VARSIZE_ANY_EXHDR(t);

		if (site->ref_text == NULL || site->ref_len != len ||
			memcmp(site->ref_text, VARDATA_ANY(t), len) != 0)
		{
			if (site->ref_text)
				pfree(site->ref_text);
			site->ref_len = len;
			site->ref_text = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, Max(1, len));
			memcpy(site->ref_text, VARDATA_ANY(t), len);
		}
	}
	return entry;
}

/* Room for n encoded features and the model's outputs. */
static void
size_buffers(FunctionCallInfo fcinfo, PredictSite *site, const mlc_model *m)
{
	int			nx = Max(1, m->n_features);
	int			nout = Max(1, Max(m->n_classes, mlc_model_output_width(m)));

	if (site->x_len < nx)
	{
		site->x = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(double) * nx);
		site->x_len = nx;
	}
	if (site->out_len < nout)
	{
		site->out = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(double) * nout);
		site->out_len = nout;
	}
}

/* Map the row type's columns to the model's inputs by name. */
static void
map_row(FunctionCallInfo fcinfo, PredictSite *site, CachedModel *entry, HeapTupleHeader rec)
{
	Oid			tupType = HeapTupleHeaderGetTypeId(rec);
	int32		tupTypmod = HeapTupleHeaderGetTypMod(rec);
	TupleDesc	desc;
	MemoryContext mcxt = fcinfo->flinfo->fn_mcxt;
	const mlc_model *m = &entry->model;
	int			f,
				i,
				offset = 0;

	if (site->row_type == tupType && site->row_typmod == tupTypmod)
		return;
	desc = lookup_rowtype_tupdesc(tupType, tupTypmod);
	site->input_att = MemoryContextAlloc(mcxt, sizeof(int) * Max(1, m->n_inputs));
	site->readers = MemoryContextAlloc(mcxt, sizeof(MLInputReader) * Max(1, m->n_inputs));
	site->values = MemoryContextAlloc(mcxt, sizeof(Datum) * Max(1, desc->natts));
	site->isnull = MemoryContextAlloc(mcxt, sizeof(bool) * Max(1, desc->natts));
	for (f = 0; f < m->n_inputs; f++)
	{
		const char *column = m->inputs[f].column;

		site->input_att[f] = -1;
		for (i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped && strcmp(NameStr(att->attname), column) == 0)
			{
				site->input_att[f] = i;
				break;
			}
		}
		if (site->input_att[f] < 0)
		{
			ReleaseTupleDesc(desc);
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("row has no column \"%s\", an input of model %s", column, entry->label),
					 errhint("Rename the column in the query, e.g. SELECT ml.predict('%s', s) FROM (SELECT x AS %s, ...) s.",
							 entry->label, column)));
		}
		/* an error here releases desc with the resource owner */
		ml_reader_init(&site->readers[f], &m->inputs[f],
					   TupleDescAttr(desc, site->input_att[f])->atttypid, offset, entry->label,
					   mlc_algorithm_is_tree(m->algorithm), mcxt);
		offset += m->inputs[f].width;
	}
	if (site->row_desc)
		FreeTupleDesc(site->row_desc);
	{
		MemoryContext old = MemoryContextSwitchTo(mcxt);

		site->row_desc = CreateTupleDescCopy(desc);
		MemoryContextSwitchTo(old);
	}
	ReleaseTupleDesc(desc);
	site->row_type = tupType;
	site->row_typmod = tupTypmod;
}

/* The input the model calls column, in a row's columns; error if none. */
static int
find_input(const char *column, int natts, const char *const *names, const CachedModel *entry)
{
	int			i;

	for (i = 0; i < natts; i++)
		if (names[i] != NULL && strcmp(names[i], column) == 0)
			return i;
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("row has no column \"%s\", an input of model %s", column, entry->label),
			 errhint("Rename the column in the query, e.g. SELECT ml.predict('%s', s) FROM (SELECT x AS %s, ...) s.",
					 entry->label, column)));
	return -1;
}

/*
 * Map the columns passed one by one (names in argument 1, values from
 * argument 2 on) to the model's inputs.  The planner passes the names as a
 * constant; a direct call may vary them, and is then mapped at every call.
 */
static void
map_columns(FunctionCallInfo fcinfo, PredictSite *site, CachedModel *entry)
{
	MemoryContext mcxt = fcinfo->flinfo->fn_mcxt;
	const mlc_model *m = &entry->model;
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	const char **names;
	int			n,
				i,
				f,
				offset = 0;

	if (site->row_type == TEXTARRAYOID)
		return;
	arr = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("column names must be a one-dimensional array")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n != PG_NARGS() - 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%d column names for %d column values", n, PG_NARGS() - 2)));
	names = palloc(sizeof(char *) * Max(1, n));
	for (i = 0; i < n; i++)
		names[i] = nulls[i] ? NULL : TextDatumGetCString(elems[i]);
	site->input_att = MemoryContextAlloc(mcxt, sizeof(int) * Max(1, m->n_inputs));
	site->readers = MemoryContextAlloc(mcxt, sizeof(MLInputReader) * Max(1, m->n_inputs));
	for (f = 0; f < m->n_inputs; f++)
	{
		site->input_att[f] = find_input(m->inputs[f].column, n, names, entry);
		ml_reader_init(&site->readers[f], &m->inputs[f],
					   get_fn_expr_argtype(fcinfo->flinfo, 2 + site->input_att[f]), offset, entry->label,
					   mlc_algorithm_is_tree(m->algorithm), mcxt);
		offset += m->inputs[f].width;
	}
	if (get_fn_expr_arg_stable(fcinfo->flinfo, 1))
		site->row_type = TEXTARRAYOID;
}

/*
 * score_args resolves the model and encodes the features argument into
 * site->x; false when the features are NULL or a non-finite number (the
 * result is then NULL).
 */
static bool
score_args(FunctionCallInfo fcinfo, PredictSite **sitep, const mlc_model **mp, const char **label)
{
	PredictSite *site = (PredictSite *) fcinfo->flinfo->fn_extra;
	CachedModel *entry;
	const mlc_model *m;
	Oid			arg_type;
	int			f;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model reference must not be NULL")));
	if (site == NULL)
	{
		Oid			ref_type = get_fn_expr_argtype(fcinfo->flinfo, 0);

		/* ml._*_columns take the reference as "any": text or bigint only */
		if (OidIsValid(ref_type) && ref_type != TEXTOID && ref_type != INT8OID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("model reference must be text or bigint, not %s", format_type_be(ref_type))));
		site = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(PredictSite));
		site->by_id = ref_type == INT8OID;
		site->arg_type = get_fn_expr_argtype(fcinfo->flinfo, 1);
		fcinfo->flinfo->fn_extra = site;
	}
	*sitep = site;
	arg_type = site->arg_type;
	entry = resolve(fcinfo, site);
	*mp = m = &entry->model;
	*label = entry->label;
	size_buffers(fcinfo, site, m);
	if (PG_NARGS() < 2 || PG_ARGISNULL(1))
		return false;

	if (arg_type == FLOAT8ARRAYOID)
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
		int			n = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
		const double *v = (const double *) ARR_DATA_PTR(arr);

		if (ARR_NDIM(arr) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("features array must have one dimension, not %d", ARR_NDIM(arr))));
		if (n != m->n_features)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("model %s needs %d features, the array has %d",
							entry->label, m->n_features, n),
					 errhint("Pass a row, or a one-dimensional float8[] of the encoded features in the order of the model's summary->'features' in ml.models.")));
		if (ARR_HASNULL(arr))
			return false;
		for (f = 0; f < n; f++)
		{
			if (!isfinite(v[f]))
				return false;
			site->x[f] = v[f];
		}
		return true;
	}
	else if (type_is_rowtype(arg_type))
	{
		HeapTupleHeader rec = PG_GETARG_HEAPTUPLEHEADER(1);
		HeapTupleData tuple;

		map_row(fcinfo, site, entry, rec);
		tuple.t_len = HeapTupleHeaderGetDatumLength(rec);
		ItemPointerSetInvalid(&tuple.t_self);
		tuple.t_tableOid = InvalidOid;
		tuple.t_data = rec;
		heap_deform_tuple(&tuple, site->row_desc, site->values, site->isnull);
		for (f = 0; f < m->n_inputs; f++)
		{
			int			a = site->input_att[f];

			if (!ml_reader_encode(&site->readers[f], site->values[a], site->isnull[a], site->x, entry->label))
				return false;
		}
		return true;
	}
	else if (arg_type == TEXTARRAYOID)
	{
		/* the columns of a row, after their names (ml_predict_support) */
		map_columns(fcinfo, site, entry);
		for (f = 0; f < m->n_inputs; f++)
		{
			int			a = 2 + site->input_att[f];

			if (!ml_reader_encode(&site->readers[f], PG_GETARG_DATUM(a), PG_ARGISNULL(a), site->x, entry->label))
				return false;
		}
		return true;
	}
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("features must be a row or a float8[], not %s", format_type_be(arg_type)),
			 errhint("Pass the table's row (SELECT ml.predict('m', t) FROM t t) or an array cast to float8[].")));
	return false;
}

static void
task_error(const char *label, const char *what, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_WRONG_OBJECT_TYPE),
			 errmsg("model %s %s", label, what),
			 errhint("%s", hint)));
}

PG_FUNCTION_INFO_V1(ml_predict);
Datum
ml_predict(PG_FUNCTION_ARGS)
{
	PredictSite *site;
	const mlc_model *m;
	const char *label;
	bool		ok = score_args(fcinfo, &site, &m, &label);
	double		v;

	if (m->task == MLC_TASK_DECOMPOSITION)
		task_error(label, "is a decomposition and predicts nothing", "Use ml.transform() to project rows.");
	if (m->task == MLC_TASK_CLASSIFICATION && !m->labels_numeric)
		task_error(label, "has text labels, which ml.predict cannot return as a number",
				   "Use ml.predict_class() for the label, or ml.predict_proba() for the probabilities.");
	if (!ok)
		PG_RETURN_NULL();
	v = mlc_model_predict(m, site->x);
	if (m->task == MLC_TASK_CLASSIFICATION)
		v = m->class_values[(int) v];
	PG_RETURN_FLOAT8(v);
}

/*
 * ml._predict_raw(model, features): what drift profiles track for any task:
 * the regression value, the class id, the cluster id (NaN for pca).
 */
PG_FUNCTION_INFO_V1(ml_predict_raw);
Datum
ml_predict_raw(PG_FUNCTION_ARGS)
{
	PredictSite *site;
	const mlc_model *m;
	const char *label;

	if (!score_args(fcinfo, &site, &m, &label))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(mlc_model_predict(m, site->x));
}

PG_FUNCTION_INFO_V1(ml_predict_class);
Datum
ml_predict_class(PG_FUNCTION_ARGS)
{
	PredictSite *site;
	const mlc_model *m;
	const char *label;
	bool		ok = score_args(fcinfo, &site, &m, &label);

	if (m->task != MLC_TASK_CLASSIFICATION)
		task_error(label, "is not a classifier", "Use ml.predict() for regression values and cluster ids.");
	if (!ok)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(m->classes[(int) mlc_model_predict(m, site->x)]));
}

static Datum
float8_array(const double *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(1, n));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Float8GetDatum(v[i]);
	return PointerGetDatum(construct_array(d, n, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

PG_FUNCTION_INFO_V1(ml_predict_proba);
Datum
ml_predict_proba(PG_FUNCTION_ARGS)
{
	PredictSite *site;
	const mlc_model *m;
	const char *label;
	bool		ok = score_args(fcinfo, &site, &m, &label);

	if (m->task != MLC_TASK_CLASSIFICATION)
		task_error(label, "is not a classifier and has no class probabilities",
				   "Use ml.predict() for regression values and cluster ids.");
	if (!ok)
		PG_RETURN_NULL();
	mlc_model_predict_proba(m, site->x, site->out);
	PG_RETURN_DATUM(float8_array(site->out, m->n_classes));
}

PG_FUNCTION_INFO_V1(ml_transform);
Datum
ml_transform(PG_FUNCTION_ARGS)
{
	PredictSite *site;
	const mlc_model *m;
	const char *label;
	bool		ok = score_args(fcinfo, &site, &m, &label);
	int			n;

	if (m->task != MLC_TASK_DECOMPOSITION && m->task != MLC_TASK_CLUSTERING)
		task_error(label, "has no transform", "ml.transform projects rows with pca models and gives distances to the centroids of kmeans models.");
	if (!ok)
		PG_RETURN_NULL();
	n = mlc_model_transform(m, site->x, site->out);
	PG_RETURN_DATUM(float8_array(site->out, n));
}

/* ml.classes(model): the class labels in the order of ml.predict_proba. */
PG_FUNCTION_INFO_V1(ml_classes);
Datum
ml_classes(PG_FUNCTION_ARGS)
{
	PredictSite *site;
	const mlc_model *m;
	const char *label;
	Datum	   *d;
	int			i;

	(void) score_args(fcinfo, &site, &m, &label);
	if (m->task != MLC_TASK_CLASSIFICATION)
		task_error(label, "is not a classifier and has no classes", "Only classification models have classes.");
	d = palloc(sizeof(Datum) * m->n_classes);
	for (i = 0; i < m->n_classes; i++)
		d[i] = CStringGetTextDatum(m->classes[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, m->n_classes, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * ml.explain_predict(model, features): each encoded feature's contribution
 * to one prediction and the base value they add to: exact Tree SHAP for
 * trees (path-dependent, on the raw margin), coefficient x (value - training
 * mean) for linear models (on the linear predictor).  Classifiers explain
 * the margin of each class output (log-odds of the second class for binary
 * boosting and logistic regression).
 */
PG_FUNCTION_INFO_V1(ml_explain_predict);
Datum
ml_explain_predict(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PredictSite *site;
	const mlc_model *m;
	const char *label;
	bool		ok;
	int			d,
				V,
				k,
				j;
	double	   *phi;
	const char **class_of;
	mlc_error	err;

	ok = score_args(fcinfo, &site, &m, &label);
	InitMaterializedSRF(fcinfo, 0);
	if (!ok)
		return (Datum) 0;
	d = m->n_features;
	if (mlc_algorithm_is_tree(m->algorithm))
	{
		mlc_forest	f;

		if (mlc_forest_from_model(m, &f, &err) != MLC_OK)
			ml_raise_core_error(&err);
		V = f.n_outputs;
		phi = palloc(sizeof(double) * V * (d + 1));
		if (mlc_tree_shap(&f, site->x, phi, &err) != MLC_OK)
			ml_raise_core_error(&err);
	}
	else
	{
		const mlc_array *coef,
				   *mean;

		V = m->algorithm == MLC_ALG_SOFTMAX ? m->n_classes : 1;
		coef = mlc_model_array(m, "coef", V, d + 1);
		mean = mlc_model_array(m, "feature_mean", 1, d);
		if (coef == NULL || mean == NULL)
			task_error(label, "has no per-feature contributions",
					   "ml.explain_predict explains linear models and trees.");
		phi = palloc(sizeof(double) * V * (d + 1));
		for (k = 0; k < V; k++)
		{
			const double *w = coef->data + (Size) k * (d + 1);
			double		base = w[0];

			for (j = 0; j < d; j++)
			{
				phi[k * (d + 1) + j] = w[j + 1] * (site->x[j] - mean->data[j]);
				base += w[j + 1] * mean->data[j];
			}
			phi[k * (d + 1) + d] = base;
		}
	}
	class_of = palloc0(sizeof(char *) * V);
	for (k = 0; k < V; k++)
		if (m->task == MLC_TASK_CLASSIFICATION)
			class_of[k] = m->classes[V == 1 ? m->n_classes - 1 : k];
	for (k = 0; k < V; k++)
		for (j = 0; j <= d; j++)
		{
			Datum		values[4];
			bool		nulls[4] = {class_of[k] == NULL, false, j == d, false};

			values[0] = class_of[k] ? CStringGetTextDatum(class_of[k]) : (Datum) 0;
			values[1] = CStringGetTextDatum(j < d ? m->feature_names[j] : "(base value)");
			values[2] = j < d ? Float8GetDatum(site->x[j]) : (Datum) 0;
			values[3] = Float8GetDatum(phi[k * (d + 1) + j]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	return (Datum) 0;
}

/*
 * Planner support of ml.predict, ml.predict_class, ml.predict_proba and
 * ml.transform: a whole row of a table at this query level becomes
 * ml._<name>_columns(model, names, column, ...), which scores the same
 * values.  Left alone: rows of subqueries, functions or joins (a row of an
 * outer join's null side is NULL as a whole, its columns could not say so),
 * and tables of more columns than a call can take.
 */
PG_FUNCTION_INFO_V1(ml_predict_support);
Datum
ml_predict_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	SupportRequestSimplify *req;
	FuncExpr   *call;
	Var		   *row;
	RangeTblEntry *rte;
	TupleDesc	desc;
	List	   *names = NIL,
			   *args;
	Oid			target,
				argtypes[3] = {ANYOID, TEXTARRAYOID, ANYOID};
	char	   *fname;
	int			i;
	FuncExpr   *result;

	if (!IsA(rawreq, SupportRequestSimplify))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestSimplify *) rawreq;
	call = req->fcall;
	if (req->root == NULL || req->root->hasJoinRTEs || list_length(call->args) != 2 ||
		!IsA(lsecond(call->args), Var))
		PG_RETURN_POINTER(NULL);
	row = (Var *) lsecond(call->args);
	if (row->varattno != 0 || row->varlevelsup != 0 || row->varno < 1 ||
		row->varno > list_length(req->root->parse->rtable))
		PG_RETURN_POINTER(NULL);
	rte = rt_fetch(row->varno, req->root->parse->rtable);
	if (rte->rtekind != RTE_RELATION || !type_is_rowtype(row->vartype) || row->vartype == RECORDOID)
		PG_RETURN_POINTER(NULL);

	fname = psprintf("_%s_columns", get_func_name(call->funcid));
	target = LookupFuncName(list_make2(makeString("ml"), makeString(fname)), 3, argtypes, true);
	if (!OidIsValid(target))
		PG_RETURN_POINTER(NULL);

	desc = lookup_rowtype_tupdesc(row->vartype, -1);
	if (desc->natts > FUNC_MAX_ARGS - 2)
	{
		ReleaseTupleDesc(desc);
		PG_RETURN_POINTER(NULL);
	}
	args = list_make1(linitial(call->args));
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		names = lappend(names, makeString(pstrdup(NameStr(att->attname))));
		args = lappend(args, makeVar(row->varno, att->attnum, att->atttypid, att->atttypmod,
									 att->attcollation, 0));
	}
	ReleaseTupleDesc(desc);
	{
		Datum	   *d = palloc(sizeof(Datum) * Max(1, list_length(names)));
		ListCell   *lc;
		int			k = 0;

		foreach(lc, names)
			d[k++] = CStringGetTextDatum(strVal(lfirst(lc)));
		args = list_insert_nth(args, 1,
							   makeConst(TEXTARRAYOID, -1, InvalidOid, -1,
										 PointerGetDatum(construct_array(d, k, TEXTOID, -1, false, TYPALIGN_INT)),
										 false, false));
	}
	result = makeFuncExpr(target, call->funcresulttype, args, call->funccollid, call->inputcollid,
						  COERCE_EXPLICIT_CALL);
	result->location = call->location;
	PG_RETURN_POINTER(result);
}
