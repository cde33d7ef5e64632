/*
 * train.c: ml._fit, the C half of ml.train_model.  Reads the preprocessing
 * plan the SQL caller computed from the snapshot (classes, categories,
 * imputed values), starts the parallel engine once, runs the requested
 * trials of a hyperparameter search on cross-validation folds of the rows
 * it keeps, refits the best one on the train split and returns the encoded
 * model with its metrics, summary and per-iteration history; registering
 * is done by the SQL caller.  The algorithms' passes are in fit.c.
 */
#include "postgres.h"

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
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "encode.h"
#include "wire.h"
#include "fit.h"
#include "pg_mlops.h"

#define ML_MAX_FEATURES 10000
#define ML_MAX_TRIALS 1000

/*
 * ---------- reading the plan (jsonb built by ml.train_model) ----------
 *
 * The plan is decoded and checked by the core (mlc_json_plan_parse, from
 * the jsonb's text), which the fuzzers reach too; the glue resolves the
 * column names and checks the feature count.
 */
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

static void
read_plan(Relation rel, Jsonb *jb, MLPlan *plan, int64 *train_rows)
{
	char	   *text = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	mlc_json_plan jp;
	mlc_error	err;
	int			i;

	if (mlc_json_plan_parse(text, strlen(text), &jp, &err) != MLC_OK)
		ml_raise_core_error(&err);
	pfree(text);

	/* The core's arrays are palloc'd in this context: the plan keeps them. */
	memset(plan, 0, sizeof(*plan));
	plan->target_kind = jp.target_kind == 1 ? ML_TARGET_NUMBER
		: jp.target_kind == 2 ? ML_TARGET_CLASS : ML_TARGET_NONE;
	if (plan->target_kind != ML_TARGET_NONE)
		plan->target_attnum = column_attnum(rel, jp.target, &plan->target_typid);
	plan->n_classes = jp.n_classes;
	plan->classes = jp.classes;
	plan->class_values = jp.class_values;
	*train_rows = jp.train_rows;
	plan->use_aggregates = jp.use_aggregates != 0;
	plan->missing_as_nan = jp.missing_as_nan != 0;
	plan->seed = jp.seed;
	plan->n_inputs = jp.n_inputs;
	plan->enc = jp.enc;
	plan->attnums = palloc(sizeof(AttrNumber) * Max(1, plan->n_inputs));
	plan->typids = palloc(sizeof(Oid) * Max(1, plan->n_inputs));
	for (i = 0; i < plan->n_inputs; i++)
		plan->attnums[i] = column_attnum(rel, plan->enc[i].column, &plan->typids[i]);

	if (plan->n_inputs == 0 || jp.p == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("at least one feature is needed"),
				 errdetail("The features give no columns after encoding (text columns without categories in the training rows).")));
	if (jp.p > ML_MAX_FEATURES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many features after one-hot encoding: %lld", (long long) jp.p),
				 errdetail("At most %d are supported.", ML_MAX_FEATURES),
				 errhint("Lower \"max_categories\" or leave out high-cardinality text columns.")));
	plan->p = (int) jp.p;
}

/* Expanded feature names: "col", "col=category", "col=(other)". */
static char **
feature_names(const MLPlan *plan)
{
	char	  **names = palloc(sizeof(char *) * plan->p);
	int			i,
				k,
				f = 0;

	for (i = 0; i < plan->n_inputs; i++)
	{
		const mlc_encoder *enc = &plan->enc[i];

		if (enc->kind != MLC_ENC_CATEGORY)
			names[f++] = enc->column;
		else
		{
			for (k = enc->drop_first; k < enc->n_categories; k++)
				names[f++] = psprintf("%s=%s", enc->column, enc->categories[k]);
			if (enc->has_other)
				names[f++] = psprintf("%s=(other)", enc->column);
		}
	}
	return names;
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
		ml_json_key_number(buf, specs[i].name, mlc_hparams_get(alg, hp, specs[i].name), i > 0);
	appendStringInfoChar(buf, '}');
}

/*
 * A forest's size, bounded before any tree is grown: at most 2^(depth+1)
 * nodes a tree and never more than twice the training rows, one tree per
 * class and round for boosting on more than two classes.  40 million nodes
 * keep the encoded model well under the 1 GB a bytea holds.
 */
#define ML_MAX_FOREST_NODES 40000000.0

static void
check_model_size(mlc_algorithm alg, const mlc_hparams *hp, const MLPlan *plan, int64 train_rows)
{
	double		trees,
				per_tree;

	if (!mlc_algorithm_is_tree(alg))
		return;
	trees = alg == MLC_ALG_DECISION_TREE ? 1 : mlc_hparams_get(alg, hp, "n_trees");
	if (alg == MLC_ALG_GRADIENT_BOOSTING && plan->n_classes > 2)
		trees *= plan->n_classes;
	per_tree = Min(ldexp(1.0, (int) mlc_hparams_get(alg, hp, "max_depth") + 1), 2.0 * (double) Max(train_rows, 1));
	if (trees * per_tree > ML_MAX_FOREST_NODES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s with these hyperparameters could grow %.0f tree nodes, more than %.0f",
						mlc_algorithm_name(alg), trees * per_tree, ML_MAX_FOREST_NODES),
				 errdetail("%.0f trees of up to %.0f nodes each (2^(max_depth + 1), at most twice the %lld training rows).",
						   trees, per_tree, (long long) train_rows),
				 errhint("Lower n_trees or max_depth.")));
}

static void
check_hyperparams(mlc_algorithm alg, const mlc_hparams *hp, const MLPlan *plan)
{
	if (alg == MLC_ALG_LOGISTIC && plan->n_classes != 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("logistic_regression needs 2 classes, the target has %d", plan->n_classes),
				 errhint("Use algorithm => 'softmax_regression' for more than two classes.")));
}

/* ---------- the model ---------- */

static void
build_model(const MLPlan *plan, mlc_algorithm alg, char **names, const MLFit *fit, mlc_model *m)
{
	memset(m, 0, sizeof(*m));
	m->algorithm = alg;
	m->task = ml_algorithm_task(alg, plan->n_classes);
	m->n_inputs = plan->n_inputs;
	m->inputs = plan->enc;
	m->n_features = plan->p;
	m->feature_names = names;
	if (plan->target_kind == ML_TARGET_CLASS)
	{
		m->n_classes = plan->n_classes;
		m->classes = plan->classes;
		m->labels_numeric = plan->class_values != NULL;
		m->class_values = plan->class_values;
	}
	m->n_arrays = fit->n_arrays;
	m->arrays = (mlc_array *) fit->arrays;
}

/* ---------- ml._fit ---------- */

typedef struct Trial
{
	mlc_hparams hp;
	char	   *params_json;	/* the trial's own parameters, as given */
	double	   *scores;			/* per fold */
	double		mean;
	double		sd;
} Trial;

/*
 * ml._fit's options: "score", the search's metric, and "class_weight",
 * "balanced" or an array of a positive weight per class in class order
 * (train_model resolves a map of class names to it).
 */
static void
read_fit_options(Jsonb *opts, mlc_algorithm alg, const MLPlan *plan, MLFit *fit)
{
	JsonbValue *v;

	if (opts == NULL || !JB_ROOT_IS_OBJECT(opts))
		return;
	v = getKeyJsonValueFromContainer(&opts->root, "score", 5, NULL);
	if (v != NULL && v->type == jbvString)
	{
		fit->score_name = pnstrdup(v->val.string.val, v->val.string.len);
	}
	v = getKeyJsonValueFromContainer(&opts->root, "class_weight", 12, NULL);
	if (v == NULL || v->type == jbvNull)
		return;
	if (alg != MLC_ALG_LOGISTIC && alg != MLC_ALG_SOFTMAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s takes no \"class_weight\"", mlc_algorithm_name(alg)),
				 errhint("Class weights apply to logistic_regression and softmax_regression.")));
	if (v->type == jbvString && v->val.string.len == 8 && memcmp(v->val.string.val, "balanced", 8) == 0)
		fit->class_weight_mode = 2;
	else if (v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data) &&
			 JsonContainerSize(v->val.binary.data) == (uint32) plan->n_classes)
	{
		double	   *w = palloc(sizeof(double) * plan->n_classes);
		int			c;

		for (c = 0; c < plan->n_classes; c++)
		{
			JsonbValue *e = getIthJsonbValueFromContainer(v->val.binary.data, c);

			w[c] = e != NULL && e->type == jbvNumeric
				? DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(e->val.numeric))) : NAN;
			if (!(isfinite(w[c]) && w[c] > 0))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the weight of class \"%s\" must be a positive number", plan->classes[c])));
		}
		fit->class_weight_mode = 1;
		fit->class_weight = w;
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"class_weight\" must be \"balanced\" or a weight for each of the %d classes", plan->n_classes)));
}

PG_FUNCTION_INFO_V1(ml_fit);
Datum
ml_fit(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Jsonb	   *plan_json;
	char	   *alg_name;
	mlc_algorithm alg;
	mlc_hparams hp;
	Jsonb	   *trials_json = PG_ARGISNULL(4) ? NULL : PG_GETARG_JSONB_P(4);
	int			folds = PG_ARGISNULL(5) ? 0 : PG_GETARG_INT32(5);
	Jsonb	   *options = PG_NARGS() > 6 && !PG_ARGISNULL(6) ? PG_GETARG_JSONB_P(6) : NULL;
	bool		higher_is_better = true;
	Relation	rel;
	MLPlan		plan;
	int64		train_rows;
	char	  **names;
	AttrNumber	split_attnum;
	Oid			split_type;
	MLEngine   *engine;
	int			partial_doubles = 0,
				param_doubles = 0;
	int			ntrials = 0,
				nchunks,
				best = -1,
				t,
				f,
				j;
	Trial	   *trials = NULL;
	MLFit		fit,
				opts;
	mlc_model	model;
	mlc_error	err;
	uint8_t    *enc;
	size_t		enc_len;
	bytea	   *blob;
	TimestampTz t0 = GetCurrentTimestamp();
	StringInfoData buf,
				metrics;
	TupleDesc	tupdesc;
	Datum		values[8];
	bool		nulls[8] = {false, false, false, false, false, false, false, false};
	MLCallerSwitch caller;

	for (j = 0; j < 4; j++)
		if (PG_ARGISNULL(j))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("arguments of ml._fit must not be NULL")));
	relid = PG_GETARG_OID(0);
	plan_json = PG_GETARG_JSONB_P(1);
	alg_name = text_to_cstring(PG_GETARG_TEXT_PP(2));
	alg = mlc_algorithm_from_name(alg_name);
	if (alg == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown algorithm \"%s\"", alg_name),
				 errhint("Available algorithms: %s.", mlc_algorithm_names())));
	parse_hyperparams(alg, PG_GETARG_JSONB_P(3), &hp);

	/* Training reads with the caller's rights (a view over a remote source too). */
	ml_enter_caller(&caller, false);
	rel = table_open(relid, AccessShareLock);
	ml_check_snapshot_relation(rel);
	/* The engine reads the table directly, so check the caller's right here. */
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(rel->rd_rel->relkind),
					   RelationGetRelationName(rel));
	read_plan(rel, plan_json, &plan, &train_rows);
	names = feature_names(&plan);
	check_hyperparams(alg, &hp, &plan);
	check_model_size(alg, &hp, &plan, train_rows);
	split_attnum = column_attnum(rel, "_ml_is_test", &split_type);
	if (split_type != BOOLOID)
		elog(ERROR, "snapshot split column has type %s", format_type_be(split_type));

	/* Trials of a search: each a complete hyperparameter object. */
	if (trials_json != NULL)
	{
		JsonbContainer *arr = &trials_json->root;

		if (!JsonContainerIsArray(arr) || JsonContainerIsScalar(arr))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the trials of a search must be a jsonb array of objects")));
		ntrials = JsonContainerSize(arr);
		if (ntrials < 1 || ntrials > ML_MAX_TRIALS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a search needs 1 to %d trials, got %d", ML_MAX_TRIALS, ntrials)));
		if (folds < 2 || folds > 20)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"folds\" must be between 2 and 20, got %d", folds)));
		trials = palloc0(sizeof(Trial) * ntrials);
		for (t = 0; t < ntrials; t++)
		{
			JsonbValue *v = getIthJsonbValueFromContainer(arr, t);
			Jsonb	   *one = JsonbValueToJsonb(v);

			parse_hyperparams(alg, one, &trials[t].hp);
			check_hyperparams(alg, &trials[t].hp, &plan);
			check_model_size(alg, &trials[t].hp, &plan, train_rows);
			trials[t].params_json = JsonbToCString(NULL, &one->root, VARSIZE(one));
			trials[t].scores = palloc(sizeof(double) * folds);
		}
		plan.folds = folds;
	}
	/* the search's metric and the class weights, checked before any row is read */
	memset(&opts, 0, sizeof(opts));
	read_fit_options(options, alg, &plan, &opts);
	if (opts.score_name != NULL)
		higher_is_better = ml_search_score_check(ml_algorithm_task(alg, plan.n_classes), plan.n_classes,
												 opts.score_name);
	else
		opts.score_name = ml_search_score_name(ml_algorithm_task(alg, plan.n_classes));
	partial_doubles = ml_fit_partial_doubles(alg, &hp, plan.p, plan.n_classes);
	param_doubles = ml_fit_param_doubles(alg, &hp, plan.p, plan.n_classes);
	for (t = 0; t < ntrials; t++)
	{
		partial_doubles = Max(partial_doubles, ml_fit_partial_doubles(alg, &trials[t].hp, plan.p, plan.n_classes));
		param_doubles = Max(param_doubles, ml_fit_param_doubles(alg, &trials[t].hp, plan.p, plan.n_classes));
	}

	/*
	 * Sources the parallel engine cannot scan block by block (foreign,
	 * partitioned, distributed tables and views over them) train through
	 * aggregates.  The plan records the engine, and the model names it.
	 */
	plan.use_aggregates |= ml_relation_needs_aggregates(rel);
	engine = ml_engine_begin(rel, &plan, split_attnum, alg, partial_doubles, param_doubles);

	memset(&fit, 0, sizeof(fit));
	fit.score_name = opts.score_name;
	fit.class_weight_mode = opts.class_weight_mode;
	fit.class_weight = opts.class_weight;
	fit.engine = engine;
	fit.plan = &plan;
	fit.alg = alg;
	fit.feature_names = names;
	fit.partial_doubles = partial_doubles;
	fit.train_rows_hint = train_rows;

	/* Search: every trial on every fold, from the rows read once. */
	if (ntrials > 0)
	{
		MemoryContext trial_cxt = AllocSetContextCreate(CurrentMemoryContext, "pg_mlops trial",
														ALLOCSET_DEFAULT_SIZES);

		for (t = 0; t < ntrials; t++)
		{
			double		sum = 0,
						sq = 0;

			for (f = 0; f < folds; f++)
			{
				MemoryContext old = MemoryContextSwitchTo(trial_cxt);

				CHECK_FOR_INTERRUPTS();
				fit.hp = trials[t].hp;
				fit.holdout = f;
				ml_fit_run(&fit);
				build_model(&plan, alg, names, &fit, &model);
				ml_check_core(mlc_model_encode(&model, &enc, &enc_len, &err), &err);
				initStringInfo(&buf);
				trials[t].scores[f] = ml_fit_evaluate(&fit, &model, enc, enc_len, &buf, "train", "valid");
				MemoryContextSwitchTo(old);
				MemoryContextReset(trial_cxt);
				sum += trials[t].scores[f];
			}
			trials[t].mean = sum / folds;
			for (f = 0; f < folds; f++)
				sq += (trials[t].scores[f] - trials[t].mean) * (trials[t].scores[f] - trials[t].mean);
			trials[t].sd = folds > 1 ? sqrt(sq / (folds - 1)) : 0;
			/* NaN scores (e.g. r2 of a constant fold) never win; the first of equals does */
			if (!isnan(trials[t].mean) &&
				(best < 0 || (higher_is_better ? trials[t].mean > trials[best].mean
							  : trials[t].mean < trials[best].mean)))
				best = t;
			ml_progress_notice("trial %d of %d: %s mean %s %.6g (sd %.3g) over %d folds, %.3f s",
							   t + 1, ntrials, trials[t].params_json, fit.score_name,
							   trials[t].mean, trials[t].sd, folds, ml_elapsed_seconds(t0));
		}
		if (best < 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("no trial of the search has a defined score"),
					 errhint("Use more folds or more rows.")));
		hp = trials[best].hp;
	}

	/* The final fit: train split, validated on the test split. */
	fit.hp = hp;
	fit.holdout = -1;
	ml_fit_run(&fit);
	ml_progress_notice("fitting: %lld rows (%lld train, %lld test, %lld skipped) in %d chunks with %d parallel workers, %d iterations, %.3f s",
					   (long long) (fit.n_train + fit.n_valid + fit.n_skipped), (long long) fit.n_train,
					   (long long) fit.n_valid, (long long) fit.n_skipped, ml_engine_nchunks(engine),
					   ml_engine_workers(engine), fit.iterations, ml_elapsed_seconds(t0));
	build_model(&plan, alg, names, &fit, &model);
	ml_check_core(mlc_model_encode(&model, &enc, &enc_len, &err), &err);
	initStringInfo(&metrics);
	appendStringInfoChar(&metrics, '{');
	{
		TimestampTz t1 = GetCurrentTimestamp();

		ml_fit_evaluate(&fit, &model, enc, enc_len, &metrics, "train", "test");
		ml_progress_notice("evaluating: %.3f s", ml_elapsed_seconds(t1));
	}
	appendStringInfoChar(&metrics, '}');
	values[6] = Int32GetDatum(ml_engine_workers(engine));
	nchunks = ml_engine_nchunks(engine);
	ml_engine_end(engine);
	table_close(rel, AccessShareLock);
	ml_leave_caller(&caller);

	blob = palloc(VARHDRSZ + enc_len);
	SET_VARSIZE(blob, VARHDRSZ + enc_len);
	memcpy(VARDATA(blob), enc, enc_len);

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	switch (model.task)
	{
		case MLC_TASK_REGRESSION:
			values[0] = CStringGetTextDatum("regression");
			break;
		case MLC_TASK_CLASSIFICATION:
			values[0] = CStringGetTextDatum("classification");
			break;
		case MLC_TASK_CLUSTERING:
			values[0] = CStringGetTextDatum("clustering");
			break;
		default:
			values[0] = CStringGetTextDatum("decomposition");
			break;
	}
	values[1] = PointerGetDatum(blob);

	initStringInfo(&buf);
	json_hyperparams(&buf, alg, &hp);
	values[2] = DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
	values[3] = DirectFunctionCall1(jsonb_in, CStringGetDatum(metrics.data));

	resetStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	appendStringInfoString(&buf, fit.summary.data);
	if (fit.summary.len > 0)
		appendStringInfoString(&buf, ", ");
	appendStringInfoString(&buf, "\"features\": [");
	for (j = 0; j < plan.p; j++)
	{
		if (j)
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, names[j]);
	}
	appendStringInfoChar(&buf, ']');
	if (plan.target_kind == ML_TARGET_CLASS)
	{
		appendStringInfoString(&buf, ", \"classes\": [");
		for (j = 0; j < plan.n_classes; j++)
		{
			if (j)
				appendStringInfoString(&buf, ", ");
			escape_json(&buf, plan.classes[j]);
		}
		appendStringInfoChar(&buf, ']');
	}
	ml_json_key_number(&buf, "iterations", fit.iterations, true);
	appendStringInfo(&buf, ", \"converged\": %s", fit.converged ? "true" : "false");
	ml_json_key_number(&buf, "rows_used", (double) fit.n_train, true);
	ml_json_key_number(&buf, "rows_test", (double) fit.n_valid, true);
	ml_json_key_number(&buf, "rows_skipped", (double) fit.n_skipped, true);
	ml_json_key_number(&buf, "chunks", nchunks, true);
	appendStringInfo(&buf, ", \"engine\": \"%s\"", plan.use_aggregates ? "aggregate" : "parallel");
	appendStringInfoChar(&buf, '}');
	values[4] = DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
	values[5] = DirectFunctionCall1(jsonb_in, CStringGetDatum(psprintf("[%s]", fit.history.data)));

	/* Trials: parameters, fold scores, mean and sd; the chosen one flagged. */
	if (ntrials > 0)
	{
		resetStringInfo(&buf);
		appendStringInfoChar(&buf, '[');
		for (t = 0; t < ntrials; t++)
		{
			appendStringInfo(&buf, "%s{\"trial\": %d, \"params\": %s, \"score\": ",
							 t ? ", " : "", t + 1, trials[t].params_json);
			escape_json(&buf, fit.score_name);
			appendStringInfoString(&buf, ", \"fold_scores\": [");
			for (f = 0; f < folds; f++)
			{
				if (f)
					appendStringInfoString(&buf, ", ");
				ml_json_number(&buf, trials[t].scores[f]);
			}
			appendStringInfoChar(&buf, ']');
			ml_json_key_number(&buf, "mean_score", trials[t].mean, true);
			ml_json_key_number(&buf, "sd_score", trials[t].sd, true);
			appendStringInfo(&buf, ", \"chosen\": %s}", t == best ? "true" : "false");
		}
		appendStringInfoChar(&buf, ']');
		values[7] = DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
	}
	else
		nulls[7] = true;

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/* ml._algorithm_task(algorithm): what the algorithm predicts; errors for an unknown name. */
PG_FUNCTION_INFO_V1(ml_algorithm_task_sql);
Datum
ml_algorithm_task_sql(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	mlc_algorithm alg = mlc_algorithm_from_name(name);
	static const char *const tasks[] = {NULL, "regression", "classification", "clustering", "decomposition"};

	if (alg != 0 && mlc_algorithm_is_tree(alg))
		PG_RETURN_TEXT_P(cstring_to_text("tree"));	/* regression or classification by the target */

	if (alg == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown algorithm \"%s\"", name),
				 errhint("Available algorithms: %s.", mlc_algorithm_names())));
	PG_RETURN_TEXT_P(cstring_to_text(tasks[ml_algorithm_task(alg, 0)]));
}

/*
 * ml._algorithms_for(task): the algorithms that train for a task
 * ('regression', 'classification', 'clustering', 'decomposition'), the
 * trees with both supervised tasks, in the order of their ids; for hints
 * that name them all.
 */
PG_FUNCTION_INFO_V1(ml_algorithms_for_sql);
Datum
ml_algorithms_for_sql(PG_FUNCTION_ARGS)
{
	char	   *task = text_to_cstring(PG_GETARG_TEXT_PP(0));
	static const char *const tasks[] = {NULL, "regression", "classification", "clustering", "decomposition"};
	ArrayBuildState *astate = NULL;
	int			id;

	for (id = 1; id < 256; id++)
	{
		mlc_algorithm alg = (mlc_algorithm) id;
		const char *name = mlc_algorithm_name(alg);
		bool		fits;

		if (strcmp(name, "unknown") == 0)
			continue;
		if (mlc_algorithm_is_tree(alg))
			fits = strcmp(task, "regression") == 0 || strcmp(task, "classification") == 0;
		else
			fits = strcmp(task, tasks[ml_algorithm_task(alg, 0)]) == 0;
		if (fits)
			astate = accumArrayResult(astate, CStringGetTextDatum(name), false, TEXTOID, CurrentMemoryContext);
	}
	if (astate == NULL)
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(TEXTOID));
	PG_RETURN_DATUM(makeArrayResult(astate, CurrentMemoryContext));
}

/*
 * ml._class_metrics(k, confusion): accuracy, precision, recall and F1 of a
 * k x k confusion matrix (row = actual, column = predicted), the core's
 * definitions, as jsonb.
 */
PG_FUNCTION_INFO_V1(ml_class_metrics_sql);
Datum
ml_class_metrics_sql(PG_FUNCTION_ARGS)
{
	int			k = PG_GETARG_INT32(0);
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
	mlc_class_metrics_out cm;
	StringInfoData buf;

	if (k < 2 || k > 65535 || ARR_NDIM(arr) != 1 ||
		(int64) ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr)) != (int64) k * k ||
		ARR_HASNULL(arr) || ARR_ELEMTYPE(arr) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ml._class_metrics needs k between 2 and 65535 and k * k non-NULL float8 counts")));
	mlc_class_metrics(k, (const double *) ARR_DATA_PTR(arr), &cm);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	ml_json_key_number(&buf, "accuracy", cm.accuracy, false);
	if (k == 2)
	{
		ml_json_key_number(&buf, "precision", cm.precision, true);
		ml_json_key_number(&buf, "recall", cm.recall, true);
		ml_json_key_number(&buf, "f1", cm.f1, true);
	}
	ml_json_key_number(&buf, "macro_precision", cm.macro_precision, true);
	ml_json_key_number(&buf, "macro_recall", cm.macro_recall, true);
	ml_json_key_number(&buf, "macro_f1", cm.macro_f1, true);
	ml_json_key_number(&buf, "weighted_precision", cm.weighted_precision, true);
	ml_json_key_number(&buf, "weighted_recall", cm.weighted_recall, true);
	ml_json_key_number(&buf, "weighted_f1", cm.weighted_f1, true);
	appendStringInfoChar(&buf, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/*
 * ml._check_hyperparams(algorithm, hyperparams): every name known and every
 * value within its bounds, checked before any data is read.
 */
PG_FUNCTION_INFO_V1(ml_check_hyperparams);
Datum
ml_check_hyperparams(PG_FUNCTION_ARGS)
{
	char	   *alg_name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	mlc_algorithm alg = mlc_algorithm_from_name(alg_name);
	mlc_hparams hp;

	if (alg == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown algorithm \"%s\"", alg_name),
				 errhint("Available algorithms: %s.", mlc_algorithm_names())));
	parse_hyperparams(alg, PG_GETARG_JSONB_P(1), &hp);
	PG_RETURN_VOID();
}
