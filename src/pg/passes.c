/*
 * passes.c: the table of passes both engines read (see passes.h).
 *
 * A pass's entry says which function computes a chunk's partial, which
 * combines two partials (the parallel engine folds its chunks' in chunk
 * order with it, an aggregate state merges with it), the rule an aggregate
 * state records, whether it accumulates, whether the pass starts the
 * chunks' kept state afresh, and how many parameter doubles it reads (the
 * aggregate engine sends only those in each query).
 */
#include "postgres.h"

#include <math.h>

#include "passes.h"
#include "pg_mlops.h"

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
params_linear_weighted(const double *prm, int p)
{
	return 1 + p + 2;			/* intercept, coefficients, two class weights */
}

static double
params_softmax_weighted(const double *prm, int p)
{
	return 1 + prm[0] * (p + 1) + prm[0];	/* K, coefficients, a weight per class */
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

/* ---------- combining ---------- */

static void
combine_add(double *acc, const double *part, Size n, int p, int k)
{
	Size		i;

	for (i = 0; i < n; i++)
		acc[i] += part[i];
}

/* PASS_STATS: counts, then the merged mean and R factor (mlc_linear_stats_merge). */
static void
combine_stats(double *acc, const double *part, Size n, int p, int k)
{
	mlc_error	err;

	acc[STATS_N_TRAIN] += part[STATS_N_TRAIN];
	acc[STATS_N_VALID] += part[STATS_N_VALID];
	acc[STATS_N_SKIPPED] += part[STATS_N_SKIPPED];
	ml_check_core(mlc_linear_stats_merge(p + 1, acc + STATS_FIRST, part + STATS_FIRST, acc + STATS_FIRST, &err),
				  &err);
}

/* PASS_REFINE: double-double sums of the residuals. */
static void
combine_refine(double *acc, const double *part, Size n, int p, int k)
{
	mlc_linear_refine_combine(p, acc, part);
}

/* PASS_NB: the class moments merge (Chan et al.); the counts after them add. */
static void
combine_nb(double *acc, const double *part, Size n, int p, int k)
{
	Size		moments = MLC_NB_PARTIAL_DOUBLES((Size) k, (Size) p);

	mlc_nb_combine(k, p, acc, part);
	combine_add(acc + moments, part + moments, n - moments, p, k);
}

/* PASS_TREE_INIT: row counts and target sum add; the largest |y|, the least and largest y. */
static void
combine_tree_init(double *acc, const double *part, Size n, int p, int k)
{
	combine_add(acc, part, 3, p, k);
	acc[3] = Max(acc[3], part[3]);
	acc[4] = Min(acc[4], part[4]);
	acc[5] = Max(acc[5], part[5]);
}

/* PASS_TREE_GRAD: the largest |gradient| and hessian per output (k of each); losses and counts add. */
static void
combine_tree_grad(double *acc, const double *part, Size n, int p, int k)
{
	int			i;

	for (i = 0; i < 2 * k; i++)
		acc[i] = Max(acc[i], part[i]);
	combine_add(acc + 2 * k, part + 2 * k, 4, p, k);
}

/* PASS_TREE_HIST: fixed-point histograms, exact in any order. */
static void
combine_hist(double *acc, const double *part, Size n, int p, int k)
{
	mlc_tree_hist_combine(n, (int64_t *) acc, (const int64_t *) part);
}

static void
combine_nothing(double *acc, const double *part, Size n, int p, int k)
{
}

const MLPassDef ml_passes[ML_N_PASSES] = {
	[PASS_STATS] = {"stats", ml_linear_partial, combine_stats, -1, ML_COMBINE_STATS, false, false, params_holdout_only},
	[PASS_REFINE] = {"refine", ml_linear_partial, combine_refine, -1, ML_COMBINE_ADD, false, false, params_linear},
	[PASS_EVAL] = {"evaluate", ml_common_partial, combine_add, -1, ML_COMBINE_ADD, false, false, params_model},
	[PASS_LOGISTIC] = {"logistic", ml_glm_partial, combine_add, -1, ML_COMBINE_ADD, false, false, params_linear},
	[PASS_SOFTMAX] = {"softmax", ml_glm_partial, combine_add, -1, ML_COMBINE_ADD, false, false, params_softmax},
	[PASS_SAMPLE] = {"sample", ml_common_partial, NULL, -1, ML_COMBINE_SAMPLE, false, false, params_sample},
	[PASS_KMEANS] = {"kmeans", ml_kmeans_partial, combine_add, -1, ML_COMBINE_ADD, false, false, params_kmeans},
	[PASS_LOGISTIC_W] = {"logistic_weighted", ml_glm_partial, combine_add, -1, ML_COMBINE_ADD, false, false, params_linear_weighted},
	[PASS_SOFTMAX_W] = {"softmax_weighted", ml_glm_partial, combine_add, -1, ML_COMBINE_ADD, false, false, params_softmax_weighted},
	[PASS_NB] = {"naive_bayes", ml_naive_bayes_partial, combine_nb, PARAM_FIRST, ML_COMBINE_NB, false, false, params_nb},
	[PASS_TREE_INIT] = {"tree_init", ml_tree_partial, combine_tree_init, -1, ML_COMBINE_NONE, false, true, NULL},
	[PASS_TREE_GRAD] = {"tree_gradients", ml_tree_partial, combine_tree_grad, PARAM_FIRST + 1, ML_COMBINE_NONE, false, false, NULL},
	[PASS_TREE_HIST] = {"tree_histograms", ml_tree_partial, combine_hist, -1, ML_COMBINE_NONE, true, false, NULL},
	[PASS_TREE_UPDATE] = {"tree_update", ml_tree_partial, combine_nothing, -1, ML_COMBINE_NONE, false, false, NULL},
	[PASS_TREE_EVAL] = {"tree_evaluate", ml_tree_partial, combine_add, -1, ML_COMBINE_NONE, false, false, NULL},
	[PASS_TREE_KEEP] = {"tree_keep", ml_tree_partial, combine_nothing, -1, ML_COMBINE_NONE, false, false, NULL},
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
