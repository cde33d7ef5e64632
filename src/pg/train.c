/*
 * train.c: ml._fit, the C half of ml.train_model.  Plans the feature matrix,
 * drives the parallel engine through the algorithm's passes, and returns the
 * encoded model with its metrics; registering is done by the SQL caller.
 *
 * Linear and ridge regression take up to three passes over fixed chunks:
 *   1. per chunk: counts, means and the R factor of the chunk's centered
 *      [X y] (tall-skinny QR while the rows are hot in cache), merged
 *      exactly along a fixed tree
 *   2. only for fits that lost digits: exact residuals (double-double)
 *      -> one step of iterative refinement
 *   3. residual sums on train and test  -> metrics
 * Rows are read from the table once; later passes use the rows each
 * participant kept in memory (up to ml.work_mem).
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/table.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "lib/stringinfo.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "engine.h"
#include "pg_mlops.h"

#define ML_MAX_FEATURES 1000

enum
{
	PASS_STATS = 0,
	PASS_REFINE = 1,
	PASS_METRICS = 2
};

/* Layout of the PASS_STATS partial: counts, then the core's chunk stats. */
#define STATS_N_TRAIN 0
#define STATS_N_TEST 1
#define STATS_N_SKIPPED 2
#define STATS_FIRST 3

#define METRICS_DOUBLES (sizeof(mlc_reg_metrics) / sizeof(double))

static void
check_core(mlc_status st, const mlc_error *err)
{
	if (st != MLC_OK)
		ml_raise_core_error(err);
}

/* ---------- per-chunk partials (leader and workers) ---------- */

void
ml_chunk_partial(int algorithm, int pass_kind, int p, const MLChunk *c,
				 const double *params, double *partial)
{
	mlc_error	err;
	int64		i;

	switch (pass_kind)
	{
		case PASS_STATS:
			{
				mlc_block	b = {c->n_train, p, c->Xtr, c->ytr};

				partial[STATS_N_TRAIN] = (double) c->n_train;
				partial[STATS_N_TEST] = (double) c->n_test;
				partial[STATS_N_SKIPPED] = (double) c->n_skipped;
				check_core(mlc_linear_chunk_stats(&b, partial + STATS_FIRST, &err), &err);
			}
			break;
		case PASS_REFINE:
			{
				mlc_block	b = {c->n_train, p, c->Xtr, c->ytr};
				mlc_linear_model m = {p, params[0], (double *) params + 1};

				memset(partial, 0, sizeof(double) * 2 * (p + 1));
				check_core(mlc_linear_refine_chunk(&b, &m, partial, &err), &err);
			}
			break;
		case PASS_METRICS:
			{
				mlc_linear_model m = {p, params[0], (double *) params + 1};
				mlc_block	train = {c->n_train, p, c->Xtr, c->ytr};
				mlc_block	test = {c->n_test, p, c->Xte, c->yte};
				mlc_reg_metrics *metrics = (mlc_reg_metrics *) partial;
				double	   *yhat = palloc(sizeof(double) * Max(1, Max(c->n_train, c->n_test)));

				memset(partial, 0, 2 * sizeof(mlc_reg_metrics));
				mlc_linear_predict_block(&m, &train, yhat);
				for (i = 0; i < c->n_train; i++)
					mlc_reg_metrics_add(&metrics[0], c->ytr[i], yhat[i]);
				mlc_linear_predict_block(&m, &test, yhat);
				for (i = 0; i < c->n_test; i++)
					mlc_reg_metrics_add(&metrics[1], c->yte[i], yhat[i]);
				pfree(yhat);
			}
			break;
		default:
			elog(ERROR, "unknown pass %d for algorithm %d", pass_kind, algorithm);
	}
}

/* ---------- JSON output ---------- */

static void
json_number(StringInfo buf, double v)
{
	if (isfinite(v))
		appendStringInfoString(buf, float8out_internal(v));
	else
		appendStringInfoString(buf, "null");
}

static void
json_key_number(StringInfo buf, const char *key, double v, bool comma)
{
	if (comma)
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
	json_number(buf, v);
}

static Datum
json_to_jsonb(StringInfo buf)
{
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf->data));
}

static void
json_metrics(StringInfo buf, const char *split, const mlc_reg_metrics *m)
{
	double		r2,
				rmse,
				mae,
				ev;

	escape_json(buf, split);
	if (m->n == 0)
	{
		appendStringInfoString(buf, ": null");
		return;
	}
	mlc_reg_metrics_final(m, &r2, &rmse, &mae, &ev);
	appendStringInfoString(buf, ": {");
	json_key_number(buf, "r2", r2, false);
	json_key_number(buf, "rmse", rmse, true);
	json_key_number(buf, "mae", mae, true);
	json_key_number(buf, "explained_variance", ev, true);
	json_key_number(buf, "rows", m->n, true);
	appendStringInfoChar(buf, '}');
}

/* ---------- hyperparameters ---------- */

static void
parse_hyperparams(mlc_algorithm alg, Jsonb *jb, mlc_hparams *hp)
{
	/* The canonical text of the jsonb: keys in jsonb order, numbers as numeric_out. */
	char	   *text = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	mlc_error	err;

	if (mlc_hparams_parse(alg, text, strlen(text), hp, &err) != MLC_OK)
		ml_raise_core_error(&err);
	pfree(text);
}

static void
json_hyperparams(StringInfo buf, mlc_algorithm alg, const mlc_hparams *hp)
{
	int			n,
				i;
	const mlc_hparam_spec *specs = mlc_hparam_specs(alg, &n);

	appendStringInfoChar(buf, '{');
	for (i = 0; i < n; i++)
		json_key_number(buf, specs[i].name, mlc_hparams_get(alg, hp, specs[i].name), i > 0);
	appendStringInfoChar(buf, '}');
}

/* ---------- planning ---------- */

static AttrNumber
column_attnum(Relation rel, const char *name, Oid *typid)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
		{
			*typid = att->atttypid;
			return att->attnum;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("column \"%s\" does not exist in relation \"%s\"",
					name, RelationGetRelationName(rel))));
	return InvalidAttrNumber;
}

/* Whether the QR solution's error bound leaves fewer than 13 correct digits. */
static bool
needs_refinement(const mlc_linear_summary *s)
{
	double		kappa = s->condition_number;
	double		fitted = s->tss - s->rss;

	if (!isfinite(kappa) || fitted <= 0)
		return true;
	return DBL_EPSILON * kappa * kappa * sqrt(s->rss / fitted) > 1e-13;
}

/* Publish a model's coefficients as the parameters of the next pass. */
static void
publish_model(MLEngine *engine, const mlc_linear_model *lm)
{
	double	   *params = ml_engine_params(engine);

	params[0] = lm->intercept;
	memcpy(params + 1, lm->coef, sizeof(double) * lm->p);
}

/* ---------- ml._fit ---------- */

PG_FUNCTION_INFO_V1(ml_fit);
Datum
ml_fit(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *target;
	ArrayType  *feat_arr;
	char	   *alg_name;
	Jsonb	   *hp_json;
	mlc_algorithm alg;
	mlc_hparams hp;
	Datum	   *feat_datums;
	bool	   *feat_nulls;
	int			p,
				j,
				c;
	Relation	rel;
	AttrNumber *attnums;
	Oid		   *typids;
	AttrNumber	split_attnum;
	Oid			split_type;
	MLEngine   *engine;
	double	   *partials;
	int			nchunks,
				partial_doubles,
				p1;
	int64		n_train = 0,
				n_test = 0,
				n_skipped = 0;
	double	   *stats;
	double	   *means;
	double	   *Rs;
	mlc_linear_model lm;
	mlc_linear_summary summary;
	mlc_reg_metrics mtrain,
				mtest;
	mlc_model	model;
	mlc_error	err;
	mlc_status	st;
	uint8_t    *enc;
	size_t		enc_len;
	bytea	   *blob;
	TimestampTz t0 = GetCurrentTimestamp(),
				t1;
	int			workers;
	int			refined;
	StringInfoData buf;
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};

	for (j = 0; j < 6; j++)
		if (PG_ARGISNULL(j))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("arguments of ml._fit must not be NULL")));
	relid = PG_GETARG_OID(0);
	target = text_to_cstring(PG_GETARG_TEXT_PP(1));
	feat_arr = PG_GETARG_ARRAYTYPE_P(2);
	alg_name = text_to_cstring(PG_GETARG_TEXT_PP(3));
	hp_json = PG_GETARG_JSONB_P(4);

	alg = mlc_algorithm_from_name(alg_name);
	if (alg == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown algorithm \"%s\"", alg_name),
				 errhint("Available algorithms: %s.", mlc_algorithm_names())));
	parse_hyperparams(alg, hp_json, &hp);

	deconstruct_array(feat_arr, TEXTOID, -1, false, TYPALIGN_INT, &feat_datums, &feat_nulls, &p);
	if (p == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("at least one feature is needed")));
	if (p > ML_MAX_FEATURES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many features: %d", p),
				 errdetail("At most %d features are supported.", ML_MAX_FEATURES)));

	rel = table_open(relid, AccessShareLock);
	/* The engine reads the table directly, so check the caller's right here. */
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(rel->rd_rel->relkind),
					   RelationGetRelationName(rel));

	attnums = palloc(sizeof(AttrNumber) * (p + 1));
	typids = palloc(sizeof(Oid) * (p + 1));
	attnums[0] = column_attnum(rel, target, &typids[0]);
	if (!ml_type_is_numeric(typids[0]))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("target column \"%s\" is of type %s, not a number", target,
						format_type_be(typids[0])),
				 errhint("Regression needs a target of type smallint, integer, bigint, real, double precision or numeric.")));
	for (j = 0; j < p; j++)
	{
		char	   *fname = TextDatumGetCString(feat_datums[j]);

		attnums[j + 1] = column_attnum(rel, fname, &typids[j + 1]);
		if (!ml_type_is_numeric(typids[j + 1]) && getBaseType(typids[j + 1]) != BOOLOID)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("feature \"%s\" has unsupported type %s", fname,
							format_type_be(typids[j + 1])),
					 errhint("Features must be numbers or booleans: cast the column in the snapshot query, or leave it out of features.")));
		typids[j + 1] = getBaseType(typids[j + 1]);
	}
	typids[0] = getBaseType(typids[0]);
	split_attnum = column_attnum(rel, "_ml_is_test", &split_type);
	if (split_type != BOOLOID)
		elog(ERROR, "snapshot split column has type %s", format_type_be(split_type));

	p1 = p + 1;
	partial_doubles = Max(STATS_FIRST + MLC_STATS_DOUBLES(p1), (int) (2 * METRICS_DOUBLES));

	engine = ml_engine_begin(rel, p, attnums, typids, split_attnum, alg,
							 partial_doubles, Max(p1, p + 1));
	nchunks = ml_engine_nchunks(engine);
	workers = ml_engine_workers(engine);

	/* Pass 1: read rows; per chunk counts, means and R, merged along a fixed tree. */
	partials = ml_engine_run_pass(engine, PASS_STATS);
	for (c = 0; c < nchunks; c++)
	{
		const double *part = partials + (Size) c * partial_doubles;

		n_train += (int64) part[STATS_N_TRAIN];
		n_test += (int64) part[STATS_N_TEST];
		n_skipped += (int64) part[STATS_N_SKIPPED];
	}
	stats = partials + STATS_FIRST;
	check_core(mlc_linear_stats_tree(p1, nchunks, stats, partial_doubles, &err), &err);
	/* Private copies: the next passes reuse the shared partials. */
	means = palloc(sizeof(double) * p1);
	memcpy(means, stats + 1, sizeof(double) * p1);
	Rs = palloc(sizeof(double) * p1 * p1);
	memcpy(Rs, stats + 1 + p1, sizeof(double) * p1 * p1);
	ml_progress_notice("reading and factoring: %lld rows (%lld train, %lld test, %lld skipped) in %d chunks with %d parallel workers, %.3f s",
					   (long long) (n_train + n_test + n_skipped), (long long) n_train,
					   (long long) n_test, (long long) n_skipped, nchunks, workers,
					   ml_elapsed_seconds(t0));
	if (n_train == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("no usable training rows"),
				 errdetail("%lld rows were skipped because the target or a feature is NULL or not finite; %lld rows are in the test split.",
						   (long long) n_skipped, (long long) n_test),
				 errhint("Filter or fill NULLs in the snapshot query.")));
	if (hp.alpha == 0 && n_train < p1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("not enough training rows: %lld rows for %d features", (long long) n_train, p),
				 errdetail("Linear regression needs at least as many rows as features plus one."),
				 errhint("Use fewer features, more data, or algorithm => 'ridge'.")));
	t1 = GetCurrentTimestamp();
	st = mlc_linear_solve(p, Rs, means, n_train, hp.alpha, &lm, &summary, &err);
	if (st == MLC_ESINGULAR && summary.dependent_feature >= 0 && summary.dependent_is_constant)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("feature \"%s\" is constant in the training rows",
						TextDatumGetCString(feat_datums[summary.dependent_feature])),
				 errdetail("A constant column cannot be told apart from the intercept."),
				 errhint("Leave it out of features, or use algorithm => 'ridge'.")));
	if (st == MLC_ESINGULAR && summary.dependent_feature >= 0)
	{
		StringInfoData others;

		initStringInfo(&others);
		for (j = 0; j < summary.dependent_feature; j++)
			appendStringInfo(&others, "%s%s", j ? ", " : "", TextDatumGetCString(feat_datums[j]));
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("feature \"%s\" is a linear combination of other features",
						TextDatumGetCString(feat_datums[summary.dependent_feature])),
				 errdetail("It is collinear with features listed before it: %s.",
						   others.data),
				 errhint("Leave it out of features, or use algorithm => 'ridge'.")));
	}
	check_core(st, &err);
	ml_progress_notice("solving: condition number %.3g, %.3f s", summary.condition_number,
					   ml_elapsed_seconds(t1));

	/*
	 * Pass 3: one step of iterative refinement from exact residuals, when
	 * the QR solution may have lost digits: its relative error is about
	 * eps * kappa^2 * ||r|| / ||X b||, large for ill-conditioned fits with
	 * big residuals (NIST Wampler4 and 5).
	 */
	t1 = GetCurrentTimestamp();
	refined = 0;
	if (needs_refinement(&summary))
	{
		double	   *acc = palloc0(sizeof(double) * 2 * p1);

		publish_model(engine, &lm);
		partials = ml_engine_run_pass(engine, PASS_REFINE);
		for (c = 0; c < nchunks; c++)
			mlc_linear_refine_combine(p, acc, partials + (Size) c * partial_doubles);
		check_core(mlc_linear_refine_apply(p, Rs, means, n_train, hp.alpha, acc, &lm, &summary,
										   &refined, &err), &err);
		ml_progress_notice("pass refine: %s, %.3f s", refined ? "applied" : "skipped (would not converge)",
						   ml_elapsed_seconds(t1));
	}

	/* Pass 4: metrics on both splits. */
	t1 = GetCurrentTimestamp();
	publish_model(engine, &lm);
	partials = ml_engine_run_pass(engine, PASS_METRICS);
	memset(&mtrain, 0, sizeof(mtrain));
	memset(&mtest, 0, sizeof(mtest));
	for (c = 0; c < nchunks; c++)
	{
		const mlc_reg_metrics *part = (const mlc_reg_metrics *) (partials + (Size) c * partial_doubles);

		mlc_reg_metrics_combine(&mtrain, &part[0]);
		mlc_reg_metrics_combine(&mtest, &part[1]);
	}
	ml_engine_end(engine);
	table_close(rel, AccessShareLock);
	ml_progress_notice("pass metrics: %.3f s", ml_elapsed_seconds(t1));

	/* Encode the model. */
	memset(&model, 0, sizeof(model));
	model.algorithm = alg;
	model.n_features = p;
	model.feature_names = palloc(sizeof(char *) * p);
	for (j = 0; j < p; j++)
		model.feature_names[j] = TextDatumGetCString(feat_datums[j]);
	model.linear = lm;
	check_core(mlc_model_encode(&model, &enc, &enc_len, &err), &err);
	blob = palloc(VARHDRSZ + enc_len);
	SET_VARSIZE(blob, VARHDRSZ + enc_len);
	memcpy(VARDATA(blob), enc, enc_len);

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = CStringGetTextDatum("regression");
	values[1] = PointerGetDatum(blob);

	initStringInfo(&buf);
	json_hyperparams(&buf, alg, &hp);
	values[2] = json_to_jsonb(&buf);

	resetStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	json_metrics(&buf, "train", &mtrain);
	appendStringInfoString(&buf, ", ");
	json_metrics(&buf, "test", &mtest);
	appendStringInfoChar(&buf, '}');
	values[3] = json_to_jsonb(&buf);

	resetStringInfo(&buf);
	appendStringInfoString(&buf, "{\"coefficients\": [");
	for (j = 0; j <= p; j++)
	{
		double		coef = j == 0 ? lm.intercept : lm.coef[j - 1];

		appendStringInfoString(&buf, j ? ", {" : "{");
		escape_json(&buf, "feature");
		appendStringInfoString(&buf, ": ");
		escape_json(&buf, j == 0 ? "intercept" : model.feature_names[j - 1]);
		json_key_number(&buf, "coefficient", coef, true);
		json_key_number(&buf, "std_error", summary.std_error[j], true);
		json_key_number(&buf, "t_stat", summary.t_stat[j], true);
		json_key_number(&buf, "p_value", summary.p_value[j], true);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoString(&buf, "]");
	json_key_number(&buf, "r2", summary.r2, true);
	json_key_number(&buf, "adj_r2", summary.adj_r2, true);
	json_key_number(&buf, "residual_sd", summary.residual_sd, true);
	json_key_number(&buf, "rss", summary.rss, true);
	json_key_number(&buf, "condition_number", summary.condition_number, true);
	json_key_number(&buf, "df_residual", (double) (n_train - p - 1), true);
	json_key_number(&buf, "rows_used", (double) n_train, true);
	json_key_number(&buf, "rows_test", (double) n_test, true);
	json_key_number(&buf, "rows_skipped", (double) n_skipped, true);
	json_key_number(&buf, "chunks", nchunks, true);
	appendStringInfo(&buf, ", \"refined\": %s", refined ? "true" : "false");
	appendStringInfoChar(&buf, '}');
	values[4] = json_to_jsonb(&buf);
	values[5] = Int32GetDatum(workers);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
