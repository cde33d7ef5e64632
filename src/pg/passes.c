/*
 * passes.c: the table of passes both engines read (see passes.h).
 *
 * A pass's entry says which function computes a chunk's partial, how two
 * partials combine (an aggregate state merges by it), whether the pass
 * starts the chunks' kept state afresh, and how many parameter doubles it
 * reads (the aggregate engine sends only those in each query).
 */
#include "postgres.h"

#include <math.h>

#include "passes.h"

/* Parameter doubles after params[PARAM_FIRST - 1] each pass reads. */
static double
params_holdout_only(const double *prm, int p)
{
	return 0;
}

static double
params_linear(const double *prm, int p)
{
	return 1 + p;				/* intercept, coefficients */
}

static double
params_model(const double *prm, int p)
{
	return 1 + ceil(prm[0] / sizeof(double));	/* length, encoded model */
}

static double
params_softmax(const double *prm, int p)
{
	return 1 + prm[0] * (p + 1);	/* K, coefficients */
}

static double
params_sample(const double *prm, int p)
{
	return 3;					/* lo, hi, seed */
}

static double
params_kmeans(const double *prm, int p)
{
	return 2 + prm[0] * prm[1] * p; /* k, runs, centroids */
}

static double
params_nb(const double *prm, int p)
{
	return 1;					/* classes */
}

const MLPassDef ml_passes[ML_N_PASSES] = {
	[PASS_STATS] = {"stats", ml_linear_partial, ML_COMBINE_STATS, false, params_holdout_only},
	[PASS_REFINE] = {"refine", ml_linear_partial, ML_COMBINE_ADD, false, params_linear},
	[PASS_EVAL] = {"evaluate", ml_common_partial, ML_COMBINE_ADD, false, params_model},
	[PASS_LOGISTIC] = {"logistic", ml_glm_partial, ML_COMBINE_ADD, false, params_linear},
	[PASS_SOFTMAX] = {"softmax", ml_glm_partial, ML_COMBINE_ADD, false, params_softmax},
	[PASS_SAMPLE] = {"sample", ml_common_partial, ML_COMBINE_SAMPLE, false, params_sample},
	[PASS_KMEANS] = {"kmeans", ml_kmeans_partial, ML_COMBINE_ADD, false, params_kmeans},
	[PASS_NB] = {"naive_bayes", ml_naive_bayes_partial, ML_COMBINE_NB, false, params_nb},
	[PASS_TREE_INIT] = {"tree_init", ml_tree_partial, ML_COMBINE_NONE, true, NULL},
	[PASS_TREE_GRAD] = {"tree_gradients", ml_tree_partial, ML_COMBINE_NONE, false, NULL},
	[PASS_TREE_HIST] = {"tree_histograms", ml_tree_partial, ML_COMBINE_NONE, false, NULL},
	[PASS_TREE_UPDATE] = {"tree_update", ml_tree_partial, ML_COMBINE_NONE, false, NULL},
	[PASS_TREE_EVAL] = {"tree_evaluate", ml_tree_partial, ML_COMBINE_NONE, false, NULL},
};

const MLPassDef *
ml_pass(int pass)
{
	if (pass < 0 || pass >= ML_N_PASSES || ml_passes[pass].partial == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown training pass %d", pass)));
	return &ml_passes[pass];
}
