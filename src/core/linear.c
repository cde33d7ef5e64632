/*
 * linear.c: linear and ridge regression from chunked QR factors.
 *
 * Pipeline (the engine drives it chunk by chunk):
 *   pass 1  column sums of [X y] per chunk, combined in chunk order -> means
 *   pass 2  per chunk: R factor of the centered augmented matrix
 *           [X - mean_x, y - mean_y]  (mlc_linear_chunk_r)
 *   combine the chunk factors along a fixed binary tree (mlc_r_tree_combine)
 *   solve   from the combined R (mlc_linear_solve)
 *
 * With R the (p+1) x (p+1) factor of [Xc yc] (Xc, yc centered),
 *   R = [ R_xx  z ]
 *       [  0    s ]
 * least squares is R_xx b = z with residual sum of squares s^2, and for any
 * coefficient vector b, ||Xc b - yc||^2 = ||R [-b; 1]||^2.  The normal
 * equations are never formed, so the conditioning is that of X, not X^T X.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "mlcore.h"

/* Largest feature count accepted anywhere in the core (R is (p+1)^2). */
#define MLC_MAX_FEATURES 100000

/*
 * Rank test: feature j is taken to depend on the intercept and features
 * 0..j-1 when |R_jj| <= RANK_TOL * ||R[0..j, j]||.  The ratio is the sine of
 * the angle between centered column j and the span of the earlier centered
 * columns; exact dependence leaves a few ulps (~1e-15) after rounding.
 * NIST Filip (degree-10 polynomial in x, centered, no scaling) has its
 * smallest ratio at about 4e-11 (x^10), so 1e-12 accepts it with a margin
 * of about 40x while still rejecting rounding-level dependence by 1000x.
 */
#define RANK_TOL 1e-12

#define RIX(R, ld, i, j) ((R)[(size_t) (i) + (size_t) (j) * (size_t) (ld)])

mlc_status
mlc_linear_chunk_r(const mlc_block *b, const double *means, double *R,
				   mlc_error *err)
{
	double	   *A;
	mlc_status	st;
	int			p,
				p1,
				n,
				i,
				j;

	if (b == NULL || means == NULL || R == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"chunk factor called with a NULL argument");
	p = b->p;
	if (p < 0 || p > MLC_MAX_FEATURES)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"invalid feature count %d (at most %d)", p,
						MLC_MAX_FEATURES);
	p1 = p + 1;
	if (b->n < 0 || b->n > INT_MAX)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"invalid chunk row count %lld", (long long) b->n);
	n = (int) b->n;
	if (n == 0)
	{
		memset(R, 0, sizeof(double) * (size_t) p1 * (size_t) p1);
		return MLC_OK;
	}
	if ((p > 0 && b->X == NULL) || b->y == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"chunk factor called with NULL data");
	if ((size_t) n > ((size_t) -1) / sizeof(double) / (size_t) p1)
		return mlc_fail(err, MLC_EINVAL, NULL, "chunk too large");
	for (j = 0; j < p1; j++)
		if (!isfinite(means[j]))
			return mlc_fail(err, MLC_EINVAL, NULL,
							"non-finite column mean for column %d", j);

	A = mlc_alloc(sizeof(double) * (size_t) n * (size_t) p1);
	if (A == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for chunk factor");
	for (j = 0; j < p1; j++)
	{
		const double *src = j < p ? b->X + (size_t) j * n : b->y;
		double	   *dst = A + (size_t) j * n;
		double		m = means[j];

		for (i = 0; i < n; i++)
		{
			if (!isfinite(src[i]))
			{
				mlc_free(A);
				if (j < p)
					return mlc_fail(err, MLC_EINVAL,
									"Rows with NaN or infinite values cannot be used for training.",
									"non-finite value in feature %d of row %d of the chunk",
									j, i);
				return mlc_fail(err, MLC_EINVAL,
								"Rows with NaN or infinite values cannot be used for training.",
								"non-finite target value in row %d of the chunk", i);
			}
			dst[i] = src[i] - m;
		}
	}
	st = mlc_qr_r(n, p1, A, R, err);
	mlc_free(A);
	return st;
}

mlc_status
mlc_r_tree_combine(int p1, int nchunks, double *Rs, mlc_error *err)
{
	size_t		sz;
	int64_t		step,
				i;
	mlc_status	st;

	if (p1 < 1 || p1 > MLC_MAX_FEATURES + 1 || nchunks < 1 || Rs == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"invalid tree combine arguments (size %d, %d chunks)",
						p1, nchunks);
	sz = (size_t) p1 * (size_t) p1;
	/* level by level: (0,1),(2,3),... then (0,2),(4,6),... then (0,4),... */
	for (step = 1; step < nchunks; step *= 2)
	{
		for (i = 0; i + step < nchunks; i += 2 * step)
		{
			st = mlc_qr_stack(p1, Rs + (size_t) i * sz,
							  Rs + (size_t) (i + step) * sz,
							  Rs + (size_t) i * sz, err);
			if (st != MLC_OK)
				return st;
		}
	}
	return MLC_OK;
}

/*
 * Solve U x = rhs for upper triangular U (k x k, leading dimension ld),
 * in place in x (which holds rhs).  Returns the first zero pivot or -1.
 */
static int
back_substitute(int k, const double *U, int ld, double *x)
{
	int			i,
				j;

	for (i = k - 1; i >= 0; i--)
	{
		double		s = x[i];

		for (j = i + 1; j < k; j++)
			s -= RIX(U, ld, i, j) * x[j];
		if (RIX(U, ld, i, i) == 0.0)
			return i;
		x[i] = s / RIX(U, ld, i, i);
	}
	return -1;
}

static void
summary_reset(mlc_linear_summary *s, int64_t n, int p)
{
	s->n = n;
	s->p = p;
	s->std_error = NULL;
	s->t_stat = NULL;
	s->p_value = NULL;
	s->rss = NAN;
	s->tss = NAN;
	s->r2 = NAN;
	s->adj_r2 = NAN;
	s->residual_sd = NAN;
	s->condition_number = NAN;
	s->dependent_feature = -1;
}

/* Ridge: least squares of [R_xx; sqrt(alpha) I] b = [z; 0]. */
static mlc_status
ridge_coef(int p, const double *R, double alpha, double *b, mlc_error *err)
{
	int			p1 = p + 1;
	int			m = 2 * p;
	double	   *M;
	double	   *R2;
	double		sa = sqrt(alpha);
	mlc_status	st;
	int			i,
				j;

	M = mlc_alloc0(sizeof(double) * (size_t) m * (size_t) p1);
	R2 = mlc_alloc(sizeof(double) * (size_t) p1 * (size_t) p1);
	if (M == NULL || R2 == NULL)
	{
		mlc_free(M);
		mlc_free(R2);
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for ridge solve");
	}
	/* rows 0..p-1: [R_xx z]; rows p..2p-1: [sqrt(alpha) I 0] */
	for (j = 0; j < p1; j++)
		for (i = 0; i < p && i <= j; i++)
			RIX(M, m, i, j) = RIX(R, p1, i, j);
	for (i = 0; i < p; i++)
		RIX(M, m, p + i, i) = sa;
	st = mlc_qr_r(m, p1, M, R2, err);
	mlc_free(M);
	if (st != MLC_OK)
	{
		mlc_free(R2);
		return st;
	}
	for (i = 0; i < p; i++)
		b[i] = RIX(R2, p1, i, p);
	i = back_substitute(p, R2, p1, b);
	mlc_free(R2);
	if (i >= 0)
		return mlc_fail(err, MLC_ESINGULAR, NULL,
						"ridge system is singular at feature %d (alpha too small)", i);
	return MLC_OK;
}

/*
 * Standard errors of OLS coefficients: Cov(b) = sigma^2 (R_xx^T R_xx)^-1
 * = sigma^2 Rinv Rinv^T with Rinv = R_xx^-1 (upper triangular), so
 * Var(b_j) = sigma^2 ||row j of Rinv||^2 and, since the mean of y is
 * uncorrelated with b on centered data,
 * Var(intercept) = sigma^2 (1/n + ||Rinv^T mean_x||^2).
 */
static mlc_status
ols_std_errors(int p, const double *R, const double *means, int64_t n,
			   double sigma2, double *se, mlc_error *err)
{
	int			p1 = p + 1;
	double	   *Rinv;
	double		w,
				acc;
	int			i,
				j,
				k;

	Rinv = mlc_alloc0(sizeof(double) * ((size_t) p * (size_t) p + 1));
	if (Rinv == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL,
						"out of memory for standard errors");
	/* column k of Rinv solves R_xx x = e_k; only rows 0..k are nonzero */
	for (k = 0; k < p; k++)
	{
		double	   *x = Rinv + (size_t) k * p;

		x[k] = 1.0;
		(void) back_substitute(k + 1, R, p1, x);
	}
	for (j = 0; j < p; j++)
	{
		acc = 0.0;
		for (k = j; k < p; k++)
			acc += RIX(Rinv, p, j, k) * RIX(Rinv, p, j, k);
		se[j + 1] = sqrt(sigma2 * acc);
	}
	acc = 0.0;
	for (k = 0; k < p; k++)
	{
		w = 0.0;
		for (i = 0; i <= k; i++)
			w += RIX(Rinv, p, i, k) * means[i];
		acc += w * w;
	}
	se[0] = sqrt(sigma2 * (1.0 / (double) n + acc));
	mlc_free(Rinv);
	return MLC_OK;
}

mlc_status
mlc_linear_solve(int p, const double *R, const double *means, int64_t n,
				 double alpha, mlc_linear_model *model,
				 mlc_linear_summary *summary, mlc_error *err)
{
	mlc_linear_summary dummy;
	mlc_linear_summary *s = summary != NULL ? summary : &dummy;
	mlc_status	st = MLC_OK;
	int			p1 = p + 1;
	double	   *coef = NULL;
	double	   *se = NULL;
	double	   *tstat = NULL;
	double	   *pval = NULL;
	double	   *sv = NULL;
	double		tss,
				rss,
				df,
				acc;
	int			i,
				j;

	if (model != NULL)
	{
		model->p = p;
		model->intercept = NAN;
		model->coef = NULL;
	}
	summary_reset(s, n, p);

	if (p < 0 || p > MLC_MAX_FEATURES)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"invalid feature count %d (at most %d)", p,
						MLC_MAX_FEATURES);
	if (R == NULL || means == NULL || model == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "solve called with a NULL argument");
	if (!isfinite(alpha) || alpha < 0.0)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"ridge penalty alpha must be finite and >= 0, got %g", alpha);
	if (n <= 0)
		return mlc_fail(err, MLC_ENODATA, NULL, "no rows to train on");
	if (alpha == 0.0 && n <= p)
		return mlc_fail(err, MLC_ENODATA,
						"Linear regression with an intercept needs more rows than features; use ridge (alpha > 0) for wide data.",
						"not enough rows: %lld rows for %d features",
						(long long) n, p);
	for (j = 0; j < p1; j++)
	{
		if (!isfinite(means[j]))
			return mlc_fail(err, MLC_EINVAL, NULL, "non-finite column mean");
		for (i = 0; i <= j; i++)
			if (!isfinite(RIX(R, p1, i, j)))
				return mlc_fail(err, MLC_EINVAL, NULL,
								"non-finite entry in the R factor");
	}

	tss = 0.0;
	for (i = 0; i < p1; i++)
		tss += RIX(R, p1, i, p) * RIX(R, p1, i, p);

	if (alpha == 0.0)
	{
		for (j = 0; j < p; j++)
		{
			double		cn = 0.0;

			for (i = 0; i <= j; i++)
				cn += RIX(R, p1, i, j) * RIX(R, p1, i, j);
			cn = sqrt(cn);
			if (cn == 0.0)
			{
				s->dependent_feature = j;
				return mlc_fail(err, MLC_ESINGULAR,
								"A constant column is collinear with the intercept. Remove it, or use ridge (alpha > 0).",
								"feature %d is constant", j);
			}
			if (fabs(RIX(R, p1, j, j)) <= RANK_TOL * cn)
			{
				s->dependent_feature = j;
				return mlc_fail(err, MLC_ESINGULAR,
								"The column is (numerically) a linear combination of the intercept and the columns before it. Remove it, or use ridge (alpha > 0).",
								"feature %d is collinear with earlier features", j);
			}
		}
	}

	coef = mlc_alloc(sizeof(double) * (size_t) (p > 0 ? p : 1));
	se = mlc_alloc(sizeof(double) * (size_t) p1);
	tstat = mlc_alloc(sizeof(double) * (size_t) p1);
	pval = mlc_alloc(sizeof(double) * (size_t) p1);
	sv = mlc_alloc(sizeof(double) * ((size_t) p * (size_t) p + (size_t) p + 1));
	if (coef == NULL || se == NULL || tstat == NULL || pval == NULL ||
		sv == NULL)
	{
		st = mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for linear solve");
		goto fail;
	}

	/* coefficients */
	if (p > 0)
	{
		if (alpha == 0.0)
		{
			for (i = 0; i < p; i++)
				coef[i] = RIX(R, p1, i, p);
			i = back_substitute(p, R, p1, coef);
			if (i >= 0)
			{
				s->dependent_feature = i;
				st = mlc_fail(err, MLC_ESINGULAR, NULL,
							  "feature %d is collinear with earlier features", i);
				goto fail;
			}
		}
		else
		{
			st = ridge_coef(p, R, alpha, coef, err);
			if (st != MLC_OK)
				goto fail;
		}
	}
	acc = means[p];
	for (j = 0; j < p; j++)
		acc -= means[j] * coef[j];
	model->intercept = acc;

	/* rss = ||R [-b; 1]||^2, the residual sum of squares of these b */
	rss = 0.0;
	for (i = 0; i < p1; i++)
	{
		acc = RIX(R, p1, i, p);
		for (j = i; j < p; j++)
			acc -= RIX(R, p1, i, j) * coef[j];
		rss += acc * acc;
	}

	df = (double) n - (double) p - 1.0;
	s->rss = rss;
	s->tss = tss;
	s->r2 = tss > 0.0 ? 1.0 - rss / tss : NAN;
	s->adj_r2 = (tss > 0.0 && df > 0.0) ?
		1.0 - (rss / tss) * ((double) n - 1.0) / df : NAN;
	s->residual_sd = df > 0.0 ? sqrt(rss / df) : NAN;

	for (i = 0; i < p1; i++)
	{
		se[i] = NAN;
		tstat[i] = NAN;
		pval[i] = NAN;
	}
	if (alpha == 0.0 && df > 0.0)
	{
		st = ols_std_errors(p, R, means, n, rss / df, se, err);
		if (st != MLC_OK)
			goto fail;
		for (i = 0; i < p1; i++)
		{
			tstat[i] = (i == 0 ? model->intercept : coef[i - 1]) / se[i];
			pval[i] = mlc_t_pvalue(tstat[i], df);
		}
	}

	/* 2-norm condition number of centered X = that of R_xx */
	if (p > 0)
	{
		double	   *Rxx = sv + p;

		for (j = 0; j < p; j++)
			for (i = 0; i < p; i++)
				RIX(Rxx, p, i, j) = i <= j ? RIX(R, p1, i, j) : 0.0;
		st = mlc_singular_values(p, Rxx, sv, err);
		if (st != MLC_OK)
			goto fail;
		s->condition_number = sv[p - 1] > 0.0 ? sv[0] / sv[p - 1] : INFINITY;
	}

	mlc_free(sv);
	model->coef = coef;
	s->std_error = se;
	s->t_stat = tstat;
	s->p_value = pval;
	if (summary == NULL)
	{
		mlc_free(se);
		mlc_free(tstat);
		mlc_free(pval);
	}
	return MLC_OK;

fail:
	mlc_free(coef);
	mlc_free(se);
	mlc_free(tstat);
	mlc_free(pval);
	mlc_free(sv);
	model->intercept = NAN;
	model->coef = NULL;
	s->std_error = NULL;
	s->t_stat = NULL;
	s->p_value = NULL;
	return st;
}

/*
 * intercept + sum_j coef[j] * x[j], accumulated in index order so that the
 * same model and row give the same bits wherever this file is compiled
 * without floating-point contraction (x86-64 without -mfma does not fuse).
 */
double
mlc_linear_predict(const mlc_linear_model *m, const double *x)
{
	double		acc = m->intercept;
	int			j;

	for (j = 0; j < m->p; j++)
		acc += m->coef[j] * x[j];
	return acc;
}

/* ---------- regression metrics ---------- */

void
mlc_reg_metrics_add(mlc_reg_metrics *m, double y, double yhat)
{
	double		r = y - yhat;

	m->n += 1.0;
	m->sse += r * r;
	m->sae += fabs(r);
	m->sum_y += y;
	m->sum_y2 += y * y;
	m->sum_res += r;
	m->sum_res2 += r * r;
}

void
mlc_reg_metrics_combine(mlc_reg_metrics *into, const mlc_reg_metrics *other)
{
	into->n += other->n;
	into->sse += other->sse;
	into->sae += other->sae;
	into->sum_y += other->sum_y;
	into->sum_y2 += other->sum_y2;
	into->sum_res += other->sum_res;
	into->sum_res2 += other->sum_res2;
}

/*
 * The variances come from one-pass sums (sum_y2 - sum_y^2 / n), which
 * cancel catastrophically when |mean y| is large against the spread of y
 * (relative error about eps * mean^2 / variance).  That is acceptable for
 * evaluation metrics; the training statistics use the QR factor instead.
 */
void
mlc_reg_metrics_final(const mlc_reg_metrics *m, double *r2, double *rmse,
					  double *mae, double *explained_variance)
{
	double		n = m->n;
	double		tss,
				var_y,
				var_res;

	if (rmse != NULL)
		*rmse = n >= 1.0 ? sqrt(m->sse / n) : NAN;
	if (mae != NULL)
		*mae = n >= 1.0 ? m->sae / n : NAN;
	tss = n >= 1.0 ? m->sum_y2 - m->sum_y * m->sum_y / n : NAN;
	if (r2 != NULL)
		*r2 = (n >= 2.0 && tss > 0.0) ? 1.0 - m->sse / tss : NAN;
	if (explained_variance != NULL)
	{
		var_y = n >= 1.0 ? tss / n : NAN;
		var_res = n >= 1.0 ?
			m->sum_res2 / n - (m->sum_res / n) * (m->sum_res / n) : NAN;
		if (var_res < 0.0)
			var_res = 0.0;		/* rounding */
		*explained_variance = (n >= 2.0 && var_y > 0.0) ?
			1.0 - var_res / var_y : NAN;
	}
}
