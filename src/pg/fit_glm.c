/*
 * fit_glm.c: logistic regression (Newton steps from each pass's gradient
 * and Hessian) and softmax regression (L-BFGS on each pass's loss and
 * gradient).  With class weights the passes are PASS_LOGISTIC_W and
 * PASS_SOFTMAX_W, whose parameters end in a weight per class; "balanced"
 * weights come from the class counts of a first, unweighted pass at zero
 * on the fit's own training rows (a fold's, in a search).
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "fit.h"
#include "pg_mlops.h"

/* Column sums of a block, in row order (for the training means). */
static void
column_sums(const mlc_block *b, double *sums)
{
	int64		i;
	int			j;

	for (j = 0; j < b->p; j++)
	{
		double		sum = 0;

		for (i = 0; i < b->n; i++)
			sum += b->X[(Size) j * b->n + i];
		sums[j] = sum;
	}
}

/* Validation loss of a linear predictor under the logistic loss. */
static double
logistic_loss_sum(const mlc_block *b, const double *beta)
{
	double		sum = 0;
	int64		i;
	int			j;

	for (i = 0; i < b->n; i++)
	{
		double		eta = beta[0];

		for (j = 0; j < b->p; j++)
			eta += beta[j + 1] * b->X[j * b->n + i];
		/* log(1 + exp(eta)) - y eta, stably */
		sum += (eta > 0 ? eta + log1p(exp(-eta)) : log1p(exp(eta))) - b->y[i] * eta;
	}
	return sum;
}

/* PASS_LOGISTIC and PASS_SOFTMAX of one chunk. */
void
ml_glm_partial(int pass_kind, const MLChunk *c, const double *params, double *partial)
{
	mlc_block	tr,
				va;
	const double *prm = ml_partial_views(c, params, &tr, &va);
	int			p = c->p;
	mlc_error	err;

	switch (pass_kind)
	{
		case PASS_LOGISTIC:
		case PASS_LOGISTIC_W:
			{
				Size		L = MLC_LOGISTIC_PARTIAL_DOUBLES(p);

				/* the validation loss stays unweighted */
				ml_check_core(mlc_logistic_chunk_weighted(&tr, prm, pass_kind == PASS_LOGISTIC_W ? prm + p + 1 : NULL,
														  partial, &err), &err);
				partial[L] = logistic_loss_sum(&va, prm);
				partial[L + 1] = (double) va.n;
				column_sums(&tr, partial + L + 2);
			}
			break;
		case PASS_SOFTMAX:
		case PASS_SOFTMAX_W:
			{
				int			K = (int) prm[0];
				Size		S = MLC_SOFTMAX_PARTIAL_DOUBLES(p, K);
				double	   *tmp = palloc(sizeof(double) * S);

				ml_check_core(mlc_softmax_chunk_weighted(&tr, K, prm + 1,
														 pass_kind == PASS_SOFTMAX_W ? prm + 1 + (Size) K * (p + 1) : NULL,
														 partial, &err), &err);
				ml_check_core(mlc_softmax_chunk(&va, K, prm + 1, tmp, &err), &err);
				partial[S] = tmp[1];
				partial[S + 1] = (double) va.n;
				column_sums(&tr, partial + S + 2);
			}
			break;
		default:
			elog(ERROR, "pass %d is not one of glm's", pass_kind);
	}
}

/*
 * The tail the logistic and softmax partials carry after their statistics
 * (at offset off): validation loss sum, validation rows and, on the first
 * pass, the feature sums for the means.  Sets the row counts (n_train from
 * the statistics) and returns the mean validation loss (NaN without
 * validation rows).
 */
static double
loss_tail(MLFit *fit, const double *part, Size off, double n_train, double *means, bool first)
{
	int			p = fit->plan->p,
				j;
	double		valid_sum = part[off],
				valid_n = part[off + 1];

	if (first)
		for (j = 0; j < p; j++)
			means[j] = part[off + 2 + j] / Max(n_train, 1);
	fit->n_train = (int64) n_train;
	fit->n_valid = (int64) valid_n;
	if (fit->n_train == 0)
		ml_fit_no_rows_error(fit);
	return valid_n > 0 ? valid_sum / valid_n : NAN;
}

/*
 * The class weights of a weighted fit into w (K values), or false for an
 * unweighted one.  Balanced: n / (K * count(class)) over the fit's train
 * rows, counted by an unweighted pass (at zero coefficients, where the
 * counts can be read off the partial).
 */
static bool
class_weights(MLFit *fit, double *w)
{
	int			K = fit->plan->n_classes,
				p = fit->plan->p,
				c;
	double	   *params = ml_engine_params(fit->engine) + PARAM_FIRST;
	double	   *part;
	double		n;

	if (fit->class_weight_mode == 0)
		return false;
	if (fit->class_weight_mode == 1)
	{
		memcpy(w, fit->class_weight, sizeof(double) * K);
		return true;
	}
	if (fit->alg == MLC_ALG_LOGISTIC)
	{
		memset(params, 0, sizeof(double) * (p + 1));
		part = ml_fit_pass(fit, PASS_LOGISTIC);
		n = part[0];
		w[1] = part[2];			/* rows of the second class */
		w[0] = n - part[2];
	}
	else
	{
		params[0] = K;
		memset(params + 1, 0, sizeof(double) * K * (p + 1));
		part = ml_fit_pass(fit, PASS_SOFTMAX);
		n = part[0];
		/* at W = 0 the intercept gradient of class c is n / K - count(c) */
		for (c = 0; c < K; c++)
			w[c] = round(n / K - part[2 + (Size) c * (p + 1)]);
	}
	for (c = 0; c < K; c++)
	{
		if (w[c] <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("\"class_weight\": \"balanced\" needs every class in the training rows"),
					 errdetail("Class \"%s\" has no training rows%s.", fit->plan->classes[c],
							   fit->holdout >= 0 ? " outside a fold of the search" : ""),
					 errhint("Give the weights as a map of class to weight, or use fewer folds.")));
		w[c] = n / ((double) K * w[c]);
	}
	return true;
}

/* The class weights in the summary, a member "class_weight": {class: weight}. */
static void
summary_class_weights(MLFit *fit, const double *w)
{
	int			c;

	appendStringInfoString(&fit->summary, ", \"class_weight\": {");
	for (c = 0; c < fit->plan->n_classes; c++)
	{
		if (c)
			appendStringInfoString(&fit->summary, ", ");
		escape_json(&fit->summary, fit->plan->classes[c]);
		appendStringInfoString(&fit->summary, ": ");
		ml_json_number(&fit->summary, w[c]);
	}
	appendStringInfoChar(&fit->summary, '}');
}

static void
fit_logistic(MLFit *fit)
{
	int			p = fit->plan->p,
				d = p + 1;
	Size		L = MLC_LOGISTIC_PARTIAL_DOUBLES(p);
	double	   *beta = palloc0(sizeof(double) * d);
	double	   *next = palloc0(sizeof(double) * d);
	double	   *acc = palloc(sizeof(double) * L);
	double	   *means = palloc0(sizeof(double) * Max(p, 1));
	mlc_logistic_summary_t s;
	mlc_error	err;
	mlc_status	st;
	TimestampTz t0 = GetCurrentTimestamp();
	int			it;
	double		cw[2];
	bool		weighted = class_weights(fit, cw);

	fit->converged = false;
	for (it = 1; it <= (int) fit->hp.max_iter; it++)
	{
		double	   *part;
		double		valid_loss,
					max_step,
					scale = 0;
		int			j;

		memcpy(ml_engine_params(fit->engine) + PARAM_FIRST, beta, sizeof(double) * d);
		if (weighted)
			memcpy(ml_engine_params(fit->engine) + PARAM_FIRST + d, cw, sizeof(cw));
		part = ml_fit_pass(fit, weighted ? PASS_LOGISTIC_W : PASS_LOGISTIC);
		memcpy(acc, part, sizeof(double) * L);
		valid_loss = loss_tail(fit, part, L, acc[0], means, it == 1);
		if (acc[2] == 0 || acc[2] == acc[0])
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("the training rows have a single class"),
					 errdetail("All %lld training rows have the same label.", (long long) fit->n_train),
					 errhint("Classification needs at least two classes in the training split.")));
		st = mlc_logistic_newton(p, acc, fit->hp.alpha, beta, next, &max_step, &err);
		if (st == MLC_ESINGULAR)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("logistic regression failed: the Hessian is singular after %d iterations", it),
					 errdetail("Features are collinear, or the classes are perfectly separated so the coefficients grow without bound."),
					 errhint("Add regularization, e.g. hyperparams => '{\"alpha\": 1}', or drop collinear features.")));
		ml_check_core(st, &err);
		fit->iterations = it;
		fit->objective = -acc[1] / acc[0];
		ml_fit_history(fit, it, -acc[1] / acc[0], valid_loss, max_step, t0);
		for (j = 0; j < d; j++)
			scale = Max(scale, fabs(beta[j]));
		if (max_step <= fit->hp.tol * (1 + scale))
		{
			fit->converged = true;
			break;
		}
		memcpy(beta, next, sizeof(double) * d);
	}
	if (!fit->converged)
	{
		fit->iterations = (int) fit->hp.max_iter;
		ml_fit_iteration_warning(fit, "logistic regression");
	}
	/* beta is the point the last partial was computed at: consistent inference */
	ml_check_core(mlc_logistic_summary(p, acc, fit->hp.alpha, beta, &s, &err), &err);
	ml_fit_add_array(fit, "feature_mean", 1, p, means);
	ml_fit_add_array(fit, "coef", 1, d, beta);
	ml_fit_summary_coefficients(fit, beta, s.std_error, s.z, "z", s.p_value, s.odds_ratio);
	if (weighted)
	{
		/* the weighted likelihood's: its null model has the weighted class shares */
		double		n1 = cw[1] * acc[2],
					n0 = cw[0] * (acc[0] - acc[2]);

		s.null_loglik = n1 * log(n1 / (n0 + n1)) + n0 * log(n0 / (n0 + n1));
		s.pseudo_r2 = s.null_loglik != 0 ? 1 - s.loglik / s.null_loglik : NAN;
		summary_class_weights(fit, cw);
	}
	ml_json_key_number(&fit->summary, "log_likelihood", s.loglik, true);
	ml_json_key_number(&fit->summary, "null_log_likelihood", s.null_loglik, true);
	ml_json_key_number(&fit->summary, "deviance", s.deviance, true);
	ml_json_key_number(&fit->summary, "aic", s.aic, true);
	ml_json_key_number(&fit->summary, "bic", s.bic, true);
	ml_json_key_number(&fit->summary, "pseudo_r2", s.pseudo_r2, true);
	mlc_logistic_summary_free(&s);
}

static void
fit_softmax(MLFit *fit)
{
	int			p = fit->plan->p,
				d = p + 1,
				K = fit->plan->n_classes;
	Size		S = MLC_SOFTMAX_PARTIAL_DOUBLES(p, K);
	Size		nw = (Size) K * d;
	double	   *W = palloc0(sizeof(double) * nw);
	double	   *g = palloc(sizeof(double) * nw);
	double	   *acc = palloc(sizeof(double) * S);
	double	   *params = ml_engine_params(fit->engine) + PARAM_FIRST;
	double	   *means = palloc0(sizeof(double) * Max(p, 1));
	mlc_lbfgs  *opt = mlc_lbfgs_create((int) nw, 10, fit->hp.tol, (int) fit->hp.max_iter);
	TimestampTz t0 = GetCurrentTimestamp();
	int			status = MLC_LBFGS_EVALUATE,
				evals = 0,
				last_iter = -1,
				c;
	StringInfo	buf = &fit->summary;
	double	   *cw = palloc(sizeof(double) * K);
	bool		weighted;

	if (opt == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	weighted = class_weights(fit, cw);
	while (status == MLC_LBFGS_EVALUATE)
	{
		double	   *part;
		double		f,
					valid_loss;

		params[0] = K;
		memcpy(params + 1, W, sizeof(double) * nw);
		if (weighted)
			memcpy(params + 1 + nw, cw, sizeof(double) * K);
		part = ml_fit_pass(fit, weighted ? PASS_SOFTMAX_W : PASS_SOFTMAX);
		memcpy(acc, part, sizeof(double) * S);
		valid_loss = loss_tail(fit, part, S, acc[0], means, evals == 0);
		mlc_softmax_objective(p, K, acc, W, fit->hp.alpha, &f, g);
		evals++;
		status = mlc_lbfgs_step(opt, W, f, g);
		if (mlc_lbfgs_iterations(opt) != last_iter)
		{
			last_iter = mlc_lbfgs_iterations(opt);
			ml_fit_history(fit, last_iter, acc[1] / acc[0], valid_loss, mlc_lbfgs_gradient_norm(opt), t0);
		}
	}
	fit->iterations = mlc_lbfgs_iterations(opt);
	fit->converged = status == MLC_LBFGS_CONVERGED;
	fit->objective = mlc_lbfgs_value(opt);
	if (status == MLC_LBFGS_FAILED)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("softmax regression failed: the line search found no descent after %d iterations",
						fit->iterations),
				 errhint("Scale the features or add regularization (\"alpha\").")));
	mlc_lbfgs_free(opt);
	if (!fit->converged)
		ml_fit_iteration_warning(fit, "softmax regression");
	ml_fit_add_array(fit, "feature_mean", 1, p, means);
	ml_fit_add_array(fit, "coef", K, d, W);

	appendStringInfoString(buf, "\"coefficients\": [");
	for (c = 0; c < K; c++)
	{
		int			j;

		for (j = 0; j <= p; j++)
		{
			appendStringInfoString(buf, c || j ? ", {" : "{");
			escape_json(buf, "class");
			appendStringInfoString(buf, ": ");
			escape_json(buf, fit->plan->classes[c]);
			appendStringInfoString(buf, ", ");
			escape_json(buf, "feature");
			appendStringInfoString(buf, ": ");
			escape_json(buf, j == 0 ? "intercept" : fit->feature_names[j - 1]);
			ml_json_key_number(buf, "coefficient", W[c * d + j], true);
			appendStringInfoChar(buf, '}');
		}
	}
	appendStringInfoChar(buf, ']');
	if (weighted)
		summary_class_weights(fit, cw);
	ml_json_key_number(buf, "objective", fit->objective, true);
	ml_json_key_number(buf, "function_evaluations", evals, true);
}

static Size
glm_partial_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K)
{
	if (alg == MLC_ALG_SOFTMAX)
		return MLC_SOFTMAX_PARTIAL_DOUBLES((Size) p, K) + 2 + p;
	return MLC_LOGISTIC_PARTIAL_DOUBLES((Size) p) + 2 + p;
}

static Size
glm_param_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K)
{
	/* K (softmax), coefficients, a weight per class */
	return PARAM_FIRST + 1 + (alg == MLC_ALG_SOFTMAX ? (Size) K : 1) * ((Size) p + 1) + Max(K, 2);
}

static void
fit_glm(MLFit *fit)
{
	if (fit->alg == MLC_ALG_SOFTMAX)
		fit_softmax(fit);
	else
		fit_logistic(fit);
}

const MLAlgorithmFamily ml_glm_family = {"glm", fit_glm, glm_partial_doubles, glm_param_doubles};
