/*
 * fit_naive_bayes.c: Gaussian, multinomial and Bernoulli naive Bayes from
 * one pass of per-class moments, combined in chunk order (Chan et al.).
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "fit.h"
#include "pg_mlops.h"

/* PASS_NB of one chunk: per-class moments, then the validation rows. */
void
ml_naive_bayes_partial(int pass_kind, const MLChunk *c, const double *params, double *partial)
{
	mlc_block	tr,
				va;
	const double *prm = ml_partial_views(c, params, &tr, &va);
	int			K = (int) prm[0];
	mlc_error	err;

	ml_check_core(mlc_nb_chunk(&tr, K, partial, &err), &err);
	partial[MLC_NB_PARTIAL_DOUBLES(K, c->p)] = (double) va.n;
}

static void
fit_naive_bayes(MLFit *fit)
{
	const MLPlan *plan = fit->plan;
	int			p = plan->p,
				K = plan->n_classes;
	Size		NB = MLC_NB_PARTIAL_DOUBLES(K, p);
	double	   *acc = palloc(sizeof(double) * (NB + 1));
	int		   *group = palloc(sizeof(int) * Max(1, p));
	double	   *prior = palloc(sizeof(double) * K);
	double	   *theta = palloc(sizeof(double) * K * p);
	double	   *var = palloc(sizeof(double) * K * p);
	double	   *flp = palloc(sizeof(double) * K * p);
	mlc_error	err;
	mlc_status	st;
	int			c,
				i,
				j,
				f = 0;

	for (i = 0; i < plan->n_inputs; i++)
		for (j = 0; j < plan->enc[i].width; j++)
			group[f++] = plan->enc[i].kind == MLC_ENC_CATEGORY ? i : -1;
	ml_engine_params(fit->engine)[PARAM_FIRST] = K;
	memcpy(acc, ml_fit_pass(fit, PASS_NB), sizeof(double) * (NB + 1));
	fit->n_valid = (int64) acc[NB];
	fit->n_train = 0;
	for (c = 0; c < K; c++)
		fit->n_train += (int64) acc[c * (1 + 2 * p)];
	if (fit->n_train == 0)
		ml_fit_no_rows_error(fit);
	st = mlc_nb_finalize(K, p, acc, group, fit->hp.var_smoothing, fit->hp.smoothing,
						 prior, theta, var, flp, &err);
	if (st == MLC_ENODATA)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("a class has no training rows"),
				 errdetail("%s", err.msg),
				 errhint("Every class of the snapshot must appear in its train split; use a larger test_fraction seed or more data.")));
	ml_check_core(st, &err);
	ml_fit_add_array(fit, "class_log_prior", 1, K, prior);
	ml_fit_add_array(fit, "theta", K, p, theta);
	ml_fit_add_array(fit, "var", K, p, var);
	ml_fit_add_array(fit, "feature_log_prob", K, p, flp);
	fit->iterations = 1;
	fit->converged = true;
	{
		double	   *counts = palloc(sizeof(double) * K);

		for (c = 0; c < K; c++)
			counts[c] = acc[c * (1 + 2 * p)];
		ml_json_key_array(&fit->summary, "class_counts", counts, K, false);
		ml_json_key_array(&fit->summary, "class_log_prior", prior, K, true);
	}
}

static Size
nb_partial_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K)
{
	return MLC_NB_PARTIAL_DOUBLES((Size) K, (Size) p) + 1;
}

const MLAlgorithmFamily ml_naive_bayes_family = {"naive_bayes", fit_naive_bayes, nb_partial_doubles, NULL};
