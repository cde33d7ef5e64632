/*
 * elasticnet.c: elastic net / lasso by cyclic coordinate descent on the
 * Gram matrix of the standardized features, built from the merged stats R
 * (S = R'R is the centered scatter of [X y]), so no extra data pass.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "mlcore.h"

static double
soft_threshold(double z, double g)
{
	if (z > g)
		return z - g;
	if (z < -g)
		return z + g;
	return 0.0;
}

/* S[a][b] = sum_{i <= min(a, b)} R[i][a] R[i][b], in i order. */
static double
scatter(int p1, const double *R, int a, int b)
{
	int			m = a < b ? a : b,
				i;
	double		s = 0.0;

	for (i = 0; i <= m; i++)
		s += R[i + (size_t) a * p1] * R[i + (size_t) b * p1];
	return s;
}

/*
 * Objective of standardized w: the residual sum of squares is ||R v||^2
 * with v = [w / sd, -1] (original units), which avoids the cancellation of
 * Syy - 2 c'w + w'Gw near a good fit.
 */
static double
objective(int p, const double *R, int64_t n, const double *w, const double *sd,
		  double alpha, double l1_ratio, double *v)
{
	int			p1 = p + 1,
				i,
				j;
	double		rss = 0.0,
				l1 = 0.0,
				l2 = 0.0;

	for (j = 0; j < p; j++)
		v[j] = sd[j] > 0.0 ? w[j] / sd[j] : 0.0;
	v[p] = -1.0;
	for (i = 0; i < p1; i++)
	{
		double		r = 0.0;

		for (j = i; j < p1; j++)
			r += R[i + (size_t) j * p1] * v[j];
		rss += r * r;
	}
	for (j = 0; j < p; j++)
	{
		l1 += fabs(w[j]);
		l2 += w[j] * w[j];
	}
	return rss / (2.0 * (double) n) + alpha * l1_ratio * l1 +
		0.5 * alpha * (1.0 - l1_ratio) * l2;
}

mlc_status
mlc_elastic_net_solve(int p, const double *R, const double *means, int64_t n,
					  double alpha, double l1_ratio, double tol, int max_iter,
					  mlc_linear_model *model, mlc_cd_info *info,
					  mlc_cd_history_fn history, void *history_arg,
					  mlc_error *err)
{
	int			p1,
				i,
				j,
				k,
				iter,
				converged = 0;
	size_t		pp;
	int64_t		imask;
	double	   *work,
			   *G,
			   *c,
			   *sd,
			   *w,
			   *v,
			   *coef;
	double		dn,
				l1pen,
				l2pen,
				obj = 0.0,
				max_change = 0.0,
				intercept;

	if (p < 1 || p > 46340)
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid number of features %d", p);
	if (R == NULL || means == NULL || model == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "elastic net called with a NULL argument");
	if (n < 1)
		return mlc_fail(err, MLC_EINVAL, "Elastic net needs at least one row.",
						"invalid row count %lld", (long long) n);
	if (!isfinite(alpha) || alpha < 0.0)
		return mlc_fail(err, MLC_EINVAL, "alpha must be finite and non-negative.",
						"invalid alpha %g", alpha);
	if (!isfinite(l1_ratio) || l1_ratio < 0.0 || l1_ratio > 1.0)
		return mlc_fail(err, MLC_EINVAL, "l1_ratio must be between 0 and 1.",
						"invalid l1_ratio %g", l1_ratio);
	if (!isfinite(tol) || tol < 0.0)
		return mlc_fail(err, MLC_EINVAL, "tol must be finite and non-negative.",
						"invalid tol %g", tol);
	if (max_iter < 1)
		return mlc_fail(err, MLC_EINVAL, "max_iter must be at least 1.",
						"invalid max_iter %d", max_iter);
	p1 = p + 1;
	for (j = 0; j < p1; j++)
	{
		if (!isfinite(means[j]))
			return mlc_fail(err, MLC_EINVAL, "The merged means contain a non-finite value.",
							"invalid statistics for elastic net");
		for (i = 0; i <= j; i++)
			if (!isfinite(R[i + (size_t) j * p1]))
				return mlc_fail(err, MLC_EINVAL, "The merged R factor contains a non-finite value.",
								"invalid statistics for elastic net");
	}

	pp = (size_t) p * p;
	work = mlc_alloc(sizeof(double) * (pp + 4 * (size_t) p + 1));
	coef = mlc_alloc(sizeof(double) * (size_t) p);
	if (work == NULL || coef == NULL)
	{
		mlc_free(work);
		mlc_free(coef);
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for elastic net");
	}
	G = work;
	c = G + pp;
	sd = c + p;
	w = sd + p;
	v = w + p;					/* p + 1 */
	dn = (double) n;

	/* population sd; near-constant columns (rounding noise only) are dropped */
	for (j = 0; j < p; j++)
	{
		double		sjj = scatter(p1, R, j, j);
		double		bound = 16.0 * DBL_EPSILON * fabs(means[j]);

		if (!(sjj > 0.0) || sjj <= bound * bound * dn)
			sd[j] = 0.0;
		else
			sd[j] = sqrt(sjj / dn);
		if (!isfinite(sd[j]))
			sd[j] = 0.0;
	}
	/* Gram of standardized X and its correlation with y, both divided by n */
	for (j = 0; j < p; j++)
	{
		/* a column costs O(p^2): look per column */
		if (mlc_interrupted())
			goto interrupted;
		for (k = 0; k < p; k++)
			G[j + (size_t) k * p] = (sd[j] > 0.0 && sd[k] > 0.0) ?
				scatter(p1, R, j, k) / (sd[j] * sd[k]) / dn : 0.0;
		c[j] = sd[j] > 0.0 ? scatter(p1, R, j, p) / sd[j] / dn : 0.0;
		w[j] = 0.0;
	}

	l1pen = alpha * l1_ratio;
	l2pen = alpha * (1.0 - l1_ratio);
	/* a sweep and the objective cost about 2 p^2 + 2 p */
	imask = mlc_interrupt_mask(2 * (int64_t) p * (p + 1));
	for (iter = 1; iter <= max_iter; iter++)
	{
		double		max_w = 0.0;

		if ((iter & imask) == 0 && mlc_interrupted())
			goto interrupted;
		max_change = 0.0;
		for (j = 0; j < p; j++)
		{
			double		rho,
						wn,
						ch;

			if (sd[j] == 0.0)
				continue;
			/* rho = c_j - sum_{k != j} G_jk w_k, in k order */
			rho = c[j];
			for (k = 0; k < p; k++)
				if (k != j)
					rho -= G[k + (size_t) j * p] * w[k];
			wn = soft_threshold(rho, l1pen) / (G[j + (size_t) j * p] + l2pen);
			if (!isfinite(wn))
				wn = 0.0;		/* alpha = 0 on a degenerate column */
			ch = fabs(wn - w[j]);
			if (ch > max_change)
				max_change = ch;
			w[j] = wn;
			if (fabs(wn) > max_w)
				max_w = fabs(wn);
		}
		obj = objective(p, R, n, w, sd, alpha, l1_ratio, v);
		if (history != NULL)
			history(iter, obj, max_change, history_arg);
		if (max_change == 0.0 || max_change <= tol * max_w)
		{
			converged = 1;
			break;
		}
	}
	if (iter > max_iter)
		iter = max_iter;

	intercept = means[p];
	for (j = 0; j < p; j++)
	{
		coef[j] = sd[j] > 0.0 ? w[j] / sd[j] : 0.0;
		intercept -= coef[j] * means[j];
	}
	mlc_free(work);
	if (!isfinite(intercept))
	{
		mlc_free(coef);
		return mlc_fail(err, MLC_EINVAL, "The coefficients overflowed.",
						"elastic net produced a non-finite model");
	}
	model->p = p;
	model->coef = coef;
	model->intercept = intercept;
	if (info != NULL)
	{
		info->iterations = iter;
		info->converged = converged;
		info->objective = obj;
		info->max_change = max_change;
	}
	return MLC_OK;

interrupted:
	mlc_free(work);
	mlc_free(coef);
	return mlc_fail(err, MLC_EINTR, NULL, "elastic net interrupted");
}
