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

/* One row set's metrics as a JSON member; returns the search score. */
static double
metrics_json(StringInfo buf, const char *name, const mlc_model *m, const double *e)
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
				score = r2;
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
				score = cm.accuracy;
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
			score = -e[1] / e[0];
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
	metrics_json(buf, train_name, model, partial);
	appendStringInfoString(buf, ", ");
	score = metrics_json(buf, valid_name, model, partial + E);
	return score;
}
