/*
 * fit.c: the algorithm families, and what every fit shares around them.
 *
 * Each family (fit_linear.c, fit_pca.c, fit_glm.c, fit_kmeans.c,
 * fit_naive_bayes.c, fit_tree.c) exports one MLAlgorithmFamily: its fit,
 * which runs passes on the engine and combines their partials in chunk
 * order, and the room its passes need; its per-chunk partials sit in the
 * pass table (passes.c).  This file maps an algorithm to its family, sizes
 * the engine's buffers and evaluates a fitted model (PASS_EVAL).
 *
 * Cross-validation: params[PARAM_HOLDOUT] >= 0 trains on the train split's
 * rows outside that fold and validates on the fold; -1 trains on the train
 * split and validates on the test split.
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"
#include "utils/json.h"

#include "fit.h"
#include "pg_mlops.h"

/* ---------- families ---------- */

static const MLAlgorithmFamily *const families[] = {
	[MLC_ALG_LINEAR] = &ml_linear_family,
	[MLC_ALG_RIDGE] = &ml_linear_family,
	[MLC_ALG_LASSO] = &ml_linear_family,
	[MLC_ALG_ELASTIC_NET] = &ml_linear_family,
	[MLC_ALG_PCA] = &ml_pca_family,
	[MLC_ALG_LOGISTIC] = &ml_glm_family,
	[MLC_ALG_SOFTMAX] = &ml_glm_family,
	[MLC_ALG_KMEANS] = &ml_kmeans_family,
	[MLC_ALG_NAIVE_BAYES] = &ml_naive_bayes_family,
	[MLC_ALG_GRADIENT_BOOSTING] = &ml_tree_family,
	[MLC_ALG_RANDOM_FOREST] = &ml_tree_family,
	[MLC_ALG_DECISION_TREE] = &ml_tree_family,
};

static const MLAlgorithmFamily *
family(mlc_algorithm alg)
{
	if ((int) alg < 0 || (int) alg >= (int) lengthof(families) || families[alg] == NULL)
		elog(ERROR, "algorithm %d has no family", (int) alg);
	return families[alg];
}

mlc_task
ml_algorithm_task(mlc_algorithm alg, int K)
{
	if (mlc_algorithm_is_tree(alg))
		return K > 0 ? MLC_TASK_CLASSIFICATION : MLC_TASK_REGRESSION;
	return mlc_algorithm_task(alg);
}

/* A partial's doubles: the largest of the family's passes and the evaluation's. */
int
ml_fit_partial_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K)
{
	Size		n = Max(2 * (Size) ml_eval_doubles(ml_algorithm_task(alg, K), K),
						family(alg)->partial_doubles(alg, hp, p, K));

	if (n > (Size) 64 * 1024 * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the model is too large to train: %zu statistics per chunk", n),
				 errhint("Use fewer features, categories, classes or clusters.")));
	return (int) n;
}

/* Parameters: the largest of the family's own and an encoded model for PASS_EVAL. */
int
ml_fit_param_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K)
{
	Size		n = 256 * 1024;	/* 2 MB: encoded models of any algorithm here */

	if (family(alg)->param_doubles != NULL)
		n = Max(n, family(alg)->param_doubles(alg, hp, p, K));
	return (int) n;
}

void
ml_fit_run(MLFit *fit)
{
	initStringInfo(&fit->summary);
	initStringInfo(&fit->history);
	fit->n_arrays = 0;
	family(fit->alg)->fit(fit);
}

/* ---------- evaluation ---------- */

const char *
ml_search_score_name(mlc_task task)
{
	switch (task)
	{
		case MLC_TASK_REGRESSION:
			return "r2";
		case MLC_TASK_CLASSIFICATION:
			return "accuracy";
		case MLC_TASK_CLUSTERING:
			return "negative_mean_inertia";
		default:
			return "none";
	}
}

/*
 * The metrics a search can score trials by: those its evaluation pass
 * computes on each fold (from sums and the confusion matrix), with their
 * direction.  ROC AUC, average precision and top-k accuracy need every
 * row's scores, which the pass does not keep.
 */
typedef struct SearchMetric
{
	mlc_task	task;
	const char *name;
	bool		higher_is_better;
	bool		binary_only;
} SearchMetric;

static const SearchMetric search_metrics[] = {
	{MLC_TASK_REGRESSION, "r2", true, false},
	{MLC_TASK_REGRESSION, "explained_variance", true, false},
	{MLC_TASK_REGRESSION, "rmse", false, false},
	{MLC_TASK_REGRESSION, "mae", false, false},
	{MLC_TASK_CLASSIFICATION, "accuracy", true, false},
	{MLC_TASK_CLASSIFICATION, "precision", true, true},
	{MLC_TASK_CLASSIFICATION, "recall", true, true},
	{MLC_TASK_CLASSIFICATION, "f1", true, true},
	{MLC_TASK_CLASSIFICATION, "macro_precision", true, false},
	{MLC_TASK_CLASSIFICATION, "macro_recall", true, false},
	{MLC_TASK_CLASSIFICATION, "macro_f1", true, false},
	{MLC_TASK_CLASSIFICATION, "weighted_precision", true, false},
	{MLC_TASK_CLASSIFICATION, "weighted_recall", true, false},
	{MLC_TASK_CLASSIFICATION, "weighted_f1", true, false},
	{MLC_TASK_CLASSIFICATION, "log_loss", false, false},
	{MLC_TASK_CLUSTERING, "negative_mean_inertia", true, false},
	{MLC_TASK_CLUSTERING, "mean_inertia", false, false},
	{MLC_TASK_CLUSTERING, "inertia", false, false},
};

bool
ml_search_score_check(mlc_task task, int K, const char *name)
{
	StringInfoData names;
	int			i;

	initStringInfo(&names);
	for (i = 0; i < (int) lengthof(search_metrics); i++)
	{
		const SearchMetric *sm = &search_metrics[i];

		if (sm->task != task)
			continue;
		if (sm->binary_only && K != 2)
		{
			if (strcmp(sm->name, name) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("search score \"%s\" needs two classes, the target has %d", name, K),
						 errhint("Use macro_%s or weighted_%s.", name, name)));
			continue;
		}
		if (strcmp(sm->name, name) == 0)
			return sm->higher_is_better;
		appendStringInfo(&names, "%s%s", names.len ? ", " : "", sm->name);
	}
	if (strcmp(name, "roc_auc") == 0 || strncmp(name, "roc_auc_ovr", 11) == 0 ||
		strncmp(name, "average_precision", 17) == 0 || strncmp(name, "top_", 4) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a search cannot score trials by \"%s\"", name),
				 errdetail("The search evaluates each fold from counts and sums; %s needs every row's scores.", name),
				 errhint("Score by one of: %s.", names.data)));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown search score \"%s\"", name),
			 errhint("Score by one of: %s.", names.data)));
	return true;				/* not reached */
}

/* The value of metric name, when want names it. */
static void
pick(const char *want, const char *name, double v, double *out)
{
	if (want != NULL && strcmp(want, name) == 0)
		*out = v;
}

/* One row set's metrics as a JSON member; returns the value of the metric score_name. */
static double
metrics_json(StringInfo buf, const char *name, const mlc_model *m, const double *e, const char *score_name)
{
	double		score = NAN;

	escape_json(buf, name);
	switch (m->task)
	{
		case MLC_TASK_REGRESSION:
			{
				const mlc_reg_metrics *rm = (const mlc_reg_metrics *) e;
				double		r2,
							rmse,
							mae,
							ev;

				if (rm->n == 0)
				{
					appendStringInfoString(buf, ": null");
					return NAN;
				}
				mlc_reg_metrics_final(rm, &r2, &rmse, &mae, &ev);
				appendStringInfoString(buf, ": {");
				ml_json_key_number(buf, "r2", r2, false);
				ml_json_key_number(buf, "rmse", rmse, true);
				ml_json_key_number(buf, "mae", mae, true);
				ml_json_key_number(buf, "explained_variance", ev, true);
				ml_json_key_number(buf, "rows", rm->n, true);
				pick(score_name, "r2", r2, &score);
				pick(score_name, "rmse", rmse, &score);
				pick(score_name, "mae", mae, &score);
				pick(score_name, "explained_variance", ev, &score);
			}
			break;
		case MLC_TASK_CLASSIFICATION:
			{
				mlc_class_metrics_out cm;

				if (e[0] == 0)
				{
					appendStringInfoString(buf, ": null");
					return NAN;
				}
				mlc_class_metrics(m->n_classes, e + 2, &cm);
				appendStringInfoString(buf, ": {");
				ml_json_key_number(buf, "accuracy", cm.accuracy, false);
				if (m->n_classes == 2)
				{
					ml_json_key_number(buf, "precision", cm.precision, true);
					ml_json_key_number(buf, "recall", cm.recall, true);
					ml_json_key_number(buf, "f1", cm.f1, true);
				}
				ml_json_key_number(buf, "macro_precision", cm.macro_precision, true);
				ml_json_key_number(buf, "macro_recall", cm.macro_recall, true);
				ml_json_key_number(buf, "macro_f1", cm.macro_f1, true);
				ml_json_key_number(buf, "log_loss", e[1] / e[0], true);
				ml_json_key_number(buf, "rows", e[0], true);
				pick(score_name, "accuracy", cm.accuracy, &score);
				pick(score_name, "precision", cm.precision, &score);
				pick(score_name, "recall", cm.recall, &score);
				pick(score_name, "f1", cm.f1, &score);
				pick(score_name, "macro_precision", cm.macro_precision, &score);
				pick(score_name, "macro_recall", cm.macro_recall, &score);
				pick(score_name, "macro_f1", cm.macro_f1, &score);
				pick(score_name, "weighted_precision", cm.weighted_precision, &score);
				pick(score_name, "weighted_recall", cm.weighted_recall, &score);
				pick(score_name, "weighted_f1", cm.weighted_f1, &score);
				pick(score_name, "log_loss", e[1] / e[0], &score);
			}
			break;
		default:
			if (e[0] == 0)
			{
				appendStringInfoString(buf, ": null");
				return NAN;
			}
			appendStringInfoString(buf, ": {");
			ml_json_key_number(buf, "inertia", e[1], false);
			ml_json_key_number(buf, "mean_inertia", e[1] / e[0], true);
			ml_json_key_number(buf, "rows", e[0], true);
			pick(score_name, "negative_mean_inertia", -e[1] / e[0], &score);
			pick(score_name, "mean_inertia", e[1] / e[0], &score);
			pick(score_name, "inertia", e[1], &score);
			break;
	}
	appendStringInfoChar(buf, '}');
	return score;
}

double
ml_fit_evaluate(MLFit *fit, const mlc_model *model, const uint8 *enc, size_t enc_len,
				StringInfo buf, const char *train_name, const char *valid_name)
{
	double	   *params = ml_engine_params(fit->engine) + PARAM_FIRST;
	int			E = ml_eval_doubles(model->task, model->n_classes);
	Size		room = (Size) (ml_fit_param_doubles(fit->alg, &fit->hp, fit->plan->p, fit->plan->n_classes) - PARAM_FIRST - 1) * sizeof(double);
	double	   *partial;
	double		score;

	if (model->task == MLC_TASK_DECOMPOSITION)
	{
		appendStringInfo(buf, "\"%s\": null, \"%s\": null", train_name, valid_name);
		return NAN;
	}
	if (mlc_algorithm_is_tree(fit->alg))
		partial = ml_tree_evaluate(fit);	/* from the scores the chunks hold */
	else
	{
		if (enc_len > room)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the encoded model is too large to evaluate in parallel: %zu bytes", enc_len)));
		params[0] = (double) enc_len;
		memcpy(params + 1, enc, enc_len);
		partial = ml_fit_pass(fit, PASS_EVAL);
	}
	metrics_json(buf, train_name, model, partial, NULL);
	appendStringInfoString(buf, ", ");
	score = metrics_json(buf, valid_name, model, partial + E,
						 fit->score_name != NULL ? fit->score_name : ml_search_score_name(model->task));
	return score;
}
