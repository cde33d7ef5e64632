/*
 * fit_linear.c: linear regression, ridge, lasso and elastic net: one pass
 * of chunk statistics (counts, means, the R factor of centered [X y]),
 * solved by QR (or coordinate descent for the L1 penalties), then exact
 * refinement passes while the error bound says digits are missing.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "fit.h"
#include "pg_mlops.h"

/* PASS_STATS and PASS_REFINE of one chunk. */
void
ml_linear_partial(int pass_kind, const MLChunk *c, const double *params, double *partial)
{
	mlc_block	tr,
				va;
	const double *prm = ml_partial_views(c, params, &tr, &va);
	int			p = c->p;
	mlc_error	err;

	switch (pass_kind)
	{
		case PASS_STATS:
			partial[STATS_N_TRAIN] = (double) tr.n;
			partial[STATS_N_VALID] = (double) va.n;
			partial[STATS_N_SKIPPED] = (double) c->n_skipped;
			ml_check_core(mlc_linear_chunk_stats(&tr, partial + STATS_FIRST, &err), &err);
			break;
		case PASS_REFINE:
			{
				mlc_linear_model m = {p, prm[0], (double *) prm + 1};

				memset(partial, 0, sizeof(double) * 2 * (p + 1));
				ml_check_core(mlc_linear_refine_chunk(&tr, &m, partial, &err), &err);
			}
			break;
		default:
			elog(ERROR, "pass %d is not one of linear's", pass_kind);
	}
}

/* PASS_STATS: the counts into fit; returns the merged statistics. */
double *
ml_linear_stats_pass(MLFit *fit)
{
	double	   *part = ml_fit_pass(fit, PASS_STATS);

	fit->n_train = (int64) part[STATS_N_TRAIN];
	fit->n_valid = (int64) part[STATS_N_VALID];
	fit->n_skipped = (int64) part[STATS_N_SKIPPED];
	if (fit->n_train == 0)
		ml_fit_no_rows_error(fit);
	return part + STATS_FIRST;
}

/* Refinement passes at most: each gains digits while eps * kappa^2 < 1. */
#define ML_MAX_REFINE_PASSES 4

/* Whether the QR solution's error bound leaves fewer than 13 correct digits. */
static bool
needs_refinement(const mlc_linear_summary *s)
{
	double		kappa = s->condition_number;
	double		fitted = s->tss - s->rss;

	if (!isfinite(kappa) || fitted <= 0)
		return true;
	/* the bound eps kappa (1 + kappa |r| / |Xb|): an exact fit leaves eps kappa */
	return DBL_EPSILON * kappa * (1 + kappa * sqrt(s->rss / fitted)) > 1e-13;
}

static void
publish_linear(MLFit *fit, const mlc_linear_model *lm)
{
	double	   *params = ml_engine_params(fit->engine) + PARAM_FIRST;

	params[0] = lm->intercept;
	memcpy(params + 1, lm->coef, sizeof(double) * lm->p);
}

static void
singular_error(MLFit *fit, const mlc_linear_summary *summary, const char *hint)
{
	char	  **names = fit->feature_names;
	int			f = summary->dependent_feature;
	StringInfoData others;
	int			j;

	if (summary->dependent_is_constant)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("feature \"%s\" is constant in the training rows", names[f]),
				 errdetail("A constant column cannot be told apart from the intercept."),
				 errhint("%s", hint)));
	initStringInfo(&others);
	for (j = 0; j < f; j++)
		appendStringInfo(&others, "%s%s", j ? ", " : "", names[j]);
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("feature \"%s\" is a linear combination of other features", names[f]),
			 errdetail("It is collinear with features listed before it: %s.", others.data),
			 errhint("%s", hint)));
}

static void
cd_history(int iteration, double objective, double max_change, void *arg)
{
	MLFit	   *fit = arg;

	if (iteration <= 1000 || iteration % 100 == 0)
		ml_fit_history(fit, iteration, objective, NAN, max_change, GetCurrentTimestamp());
}

/* linear_regression, ridge, lasso, elastic_net */
static void
fit_linear(MLFit *fit)
{
	int			p = fit->plan->p,
				p1 = p + 1;
	double	   *stats = ml_linear_stats_pass(fit);
	double	   *means = palloc(sizeof(double) * p1);
	double	   *R = palloc(sizeof(double) * p1 * p1);
	double	   *beta = palloc(sizeof(double) * p1);
	mlc_linear_model lm;
	mlc_linear_summary summary;
	mlc_error	err;
	mlc_status	st;
	int			refined = 0;

	memcpy(means, stats + 1, sizeof(double) * p1);
	memcpy(R, stats + 1 + p1, sizeof(double) * p1 * p1);
	memset(&summary, 0, sizeof(summary));
	if (fit->alg == MLC_ALG_LINEAR || fit->alg == MLC_ALG_RIDGE)
	{
		if (fit->hp.alpha == 0 && fit->n_train < p1)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("not enough training rows: %lld rows for %d features", (long long) fit->n_train, p),
					 errdetail("Linear regression needs at least as many rows as features plus one."),
					 errhint("Use fewer features, more data, or algorithm => 'ridge'.")));
		st = mlc_linear_solve(p, R, means, fit->n_train, fit->hp.alpha, &lm, &summary, &err);
		if (st == MLC_ESINGULAR && summary.dependent_feature >= 0)
			singular_error(fit, &summary, "Leave it out of features, or use algorithm => 'ridge'.");
		ml_check_core(st, &err);
		/*
		 * Iterative refinement from exact residuals, a pass each, while the
		 * error bound says digits are missing and a step still moves the
		 * coefficients (each step contracts the error by about eps * kappa^2).
		 */
		while (refined < ML_MAX_REFINE_PASSES && needs_refinement(&summary))
		{
			double	   *before = palloc(sizeof(double) * p1);
			double	   *acc;
			double		moved;
			int			applied,
						j;

			before[0] = lm.intercept;
			memcpy(before + 1, lm.coef, sizeof(double) * p);
			publish_linear(fit, &lm);
			acc = ml_fit_pass(fit, PASS_REFINE);
			ml_check_core(mlc_linear_refine_apply(p, R, means, fit->n_train, fit->hp.alpha, acc, &lm,
											   &summary, &applied, &err), &err);
			if (!applied)
				break;
			refined++;
			moved = fabs(lm.intercept - before[0]) / Max(fabs(lm.intercept), DBL_MIN);
			for (j = 0; j < p; j++)
				moved = Max(moved, fabs(lm.coef[j] - before[j + 1]) / Max(fabs(lm.coef[j]), DBL_MIN));
			if (moved <= 4 * DBL_EPSILON)
				break;
		}
		fit->iterations = 1;
		fit->converged = true;
	}
	else
	{
		mlc_cd_info info;
		double		l1 = fit->alg == MLC_ALG_LASSO ? 1.0 : fit->hp.l1_ratio;

		ml_check_core(mlc_elastic_net_solve(p, R, means, fit->n_train, fit->hp.alpha, l1, fit->hp.tol,
										 (int) fit->hp.max_iter, &lm, &info, cd_history, fit, &err), &err);
		fit->iterations = info.iterations;
		fit->converged = info.converged;
		fit->objective = info.objective;
	}
	beta[0] = lm.intercept;
	memcpy(beta + 1, lm.coef, sizeof(double) * p);
	/* training means first (ml.explain_predict centers by them); coef last */
	ml_fit_add_array(fit, "feature_mean", 1, p, means);
	ml_fit_add_array(fit, "coef", 1, p1, beta);

	if (fit->alg == MLC_ALG_LINEAR || fit->alg == MLC_ALG_RIDGE)
	{
		ml_fit_summary_coefficients(fit, beta, summary.std_error, summary.t_stat, "t_stat", summary.p_value, NULL);
		ml_json_key_number(&fit->summary, "r2", summary.r2, true);
		ml_json_key_number(&fit->summary, "adj_r2", summary.adj_r2, true);
		ml_json_key_number(&fit->summary, "residual_sd", summary.residual_sd, true);
		ml_json_key_number(&fit->summary, "rss", summary.rss, true);
		ml_json_key_number(&fit->summary, "condition_number", summary.condition_number, true);
		ml_json_key_number(&fit->summary, "df_residual", (double) (fit->n_train - p - 1), true);
		appendStringInfo(&fit->summary, ", \"refined\": %s", refined ? "true" : "false");
		if (fit->alg == MLC_ALG_LINEAR)
		{
			/* statsmodels OLS's llf, aic, bic, fvalue, f_pvalue (ridge is no OLS) */
			mlc_ols_tests tests;

			mlc_ols_tests_compute(fit->n_train, p, summary.rss, summary.tss, &tests);
			ml_json_key_number(&fit->summary, "llf", tests.llf, true);
			ml_json_key_number(&fit->summary, "aic", tests.aic, true);
			ml_json_key_number(&fit->summary, "bic", tests.bic, true);
			ml_json_key_number(&fit->summary, "fvalue", tests.fvalue, true);
			ml_json_key_number(&fit->summary, "f_pvalue", tests.f_pvalue, true);
		}
	}
	else
	{
		int			nonzero = 0,
					j;

		for (j = 0; j < p; j++)
			nonzero += lm.coef[j] != 0;
		ml_fit_summary_coefficients(fit, beta, NULL, NULL, NULL, NULL, NULL);
		ml_json_key_number(&fit->summary, "nonzero_coefficients", nonzero, true);
		ml_json_key_number(&fit->summary, "objective", fit->objective, true);
	}
}

static Size
linear_partial_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K)
{
	return Max(STATS_FIRST + MLC_STATS_DOUBLES((Size) p + 1), 2 * ((Size) p + 1));
}

const MLAlgorithmFamily ml_linear_family = {"linear", fit_linear, linear_partial_doubles, NULL};
