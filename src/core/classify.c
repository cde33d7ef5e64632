/*
 * classify.c: logistic regression (Newton/IRLS), softmax regression,
 * reverse-communication L-BFGS and classification metrics.
 *
 * Sums over rows are in row order within a chunk; chunks are combined by the
 * caller in chunk order, so results depend only on the data and chunking.
 * Matrix work on d x d systems goes through LAPACKE's _work routines (no
 * hidden allocation, no NaN scan).
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

#include "mlcore.h"

/* Relative Cholesky pivot below which the Hessian counts as singular */
#define PIVOT_TOL 1e-14

#define IX(A, ld, i, j) ((A)[(size_t) (i) + (size_t) (j) * (size_t) (ld)])

/* log(1 + exp(t)) without overflow or loss of small values */
static double
softplus(double t)
{
	if (t > 0.0)
		return t + log1p(exp(-t));
	return log1p(exp(t));
}

/* 1 / (1 + exp(-t)) without overflow */
static double
sigmoid(double t)
{
	if (t >= 0.0)
		return 1.0 / (1.0 + exp(-t));
	else
	{
		double		e = exp(t);

		return e / (1.0 + e);
	}
}

/* mu (1 - mu) without cancellation near mu = 1: e / (1 + e)^2, e = exp(-|t|) */
static double
logistic_weight(double t)
{
	double		e = exp(-fabs(t));
	double		q = 1.0 + e;

	return e / (q * q);
}

/* Common checks of a block; *n gets the row count as int. */
static mlc_status
check_block(const mlc_block *b, int *n, mlc_error *err)
{
	if (b->p < 0 || b->p > MLC_CLASSIFY_MAX_FEATURES)
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid feature count %d (0 to %d)",
						b->p, MLC_CLASSIFY_MAX_FEATURES);
	if (b->n < 0 || b->n > INT_MAX)
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid chunk row count %lld",
						(long long) b->n);
	*n = (int) b->n;
	if (*n > 0 && ((b->p > 0 && b->X == NULL) || b->y == NULL))
		return mlc_fail(err, MLC_EINVAL, NULL, "classifier chunk called with NULL data");
	return MLC_OK;
}

/* The first non-finite feature value of the block, as an error. */
static mlc_status
check_finite_X(const mlc_block *b, int n, mlc_error *err)
{
	int			i,
				j;

	for (j = 0; j < b->p; j++)
		for (i = 0; i < n; i++)
			if (!isfinite(IX(b->X, n, i, j)))
				return mlc_fail(err, MLC_EINVAL,
								"Rows with NaN or infinite values cannot be used for training.",
								"non-finite value in feature %d of row %d of the chunk",
								j, i);
	return MLC_OK;
}

/* ---------- logistic regression ---------- */

static mlc_status
logistic_interrupted(mlc_error *err)
{
	return mlc_fail(err, MLC_EINTR, NULL, "logistic regression interrupted");
}

mlc_status
mlc_logistic_chunk(const mlc_block *b, const double *beta, double *partial,
				   mlc_error *err)
{
	return mlc_logistic_chunk_weighted(b, beta, NULL, partial, err);
}

mlc_status
mlc_logistic_chunk_weighted(const mlc_block *b, const double *beta, const double *class_weight,
							double *partial, mlc_error *err)
{
	mlc_status	st;
	int			n,
				p,
				d,
				i,
				j,
				k;
	double	   *eta;
	double	   *grad,
			   *H;
	double		ll = 0.0,
				npos = 0.0;

	if (b == NULL || beta == NULL || partial == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "logistic chunk called with a NULL argument");
	if ((st = check_block(b, &n, err)) != MLC_OK)
		return st;
	p = b->p;
	d = p + 1;
	for (j = 0; j < d; j++)
		if (!isfinite(beta[j]))
			return mlc_fail(err, MLC_EINVAL, NULL, "non-finite logistic coefficient %d", j);
	if (class_weight != NULL)
		for (j = 0; j < 2; j++)
			if (!(isfinite(class_weight[j]) && class_weight[j] > 0.0))
				return mlc_fail(err, MLC_EINVAL, NULL, "class weight %d is not a positive number", j);
	memset(partial, 0, sizeof(double) * MLC_LOGISTIC_PARTIAL_DOUBLES(p));
	if (n == 0)
		return MLC_OK;
	for (i = 0; i < n; i++)
		if (b->y[i] != 0.0 && b->y[i] != 1.0)
			return mlc_fail(err, MLC_EINVAL,
							"Binary logistic regression needs the class ids 0 and 1.",
							"invalid class id in row %d of the chunk", i);
	if ((st = check_finite_X(b, n, err)) != MLC_OK)
		return st;

	/* eta (later the weights) for all rows: column passes follow X's layout */
	eta = mlc_alloc(sizeof(double) * (size_t) n);
	if (eta == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for the logistic chunk");
	for (i = 0; i < n; i++)
		eta[i] = beta[0];
	for (j = 0; j < p; j++)
	{
		const double *x = b->X + (size_t) j * (size_t) n;
		double		bj = beta[j + 1];

		/* one look per pass over the chunk's rows */
		if (mlc_interrupted())
		{
			mlc_free(eta);
			return logistic_interrupted(err);
		}
		for (i = 0; i < n; i++)
			eta[i] += bj * x[i];
	}

	grad = partial + 3;
	H = partial + 3 + d;
	/* log-likelihood, count, intercept gradient; eta becomes the residual y - mu */
	{
		double	   *w = mlc_alloc(sizeof(double) * (size_t) n);

		if (w == NULL)
		{
			mlc_free(eta);
			return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for the logistic chunk");
		}
		for (i = 0; i < n; i++)
		{
			double		t = eta[i];
			double		y = b->y[i];

			/* y t - log(1 + exp(t)), stable for large |t| */
			if (class_weight == NULL)
			{
				ll += y * t - softplus(t);
				w[i] = logistic_weight(t);
				eta[i] = y - sigmoid(t);
			}
			else
			{
				/* the row's loss, gradient and Hessian terms times its class's weight */
				double		cw = class_weight[y == 1.0];

				ll += cw * (y * t - softplus(t));
				w[i] = cw * logistic_weight(t);
				eta[i] = cw * (y - sigmoid(t));
			}
			npos += y;
		}
		/* gradient and Hessian: column dot products in row order */
		{
			double		s = 0.0,
						h = 0.0;

			for (i = 0; i < n; i++)
			{
				s += eta[i];
				h += w[i];
			}
			grad[0] = s;
			IX(H, d, 0, 0) = h;
		}
		for (j = 0; j < p; j++)
		{
			const double *xj = b->X + (size_t) j * (size_t) n;
			double		s = 0.0,
						h = 0.0;

			for (i = 0; i < n; i++)
			{
				s += eta[i] * xj[i];
				h += w[i] * xj[i];
			}
			grad[j + 1] = s;
			IX(H, d, j + 1, 0) = h;
			IX(H, d, 0, j + 1) = h;
			for (k = 0; k <= j; k++)
			{
				const double *xk = b->X + (size_t) k * (size_t) n;
				double		hk = 0.0;

				if (mlc_interrupted())
				{
					mlc_free(w);
					mlc_free(eta);
					return logistic_interrupted(err);
				}
				for (i = 0; i < n; i++)
					hk += (w[i] * xj[i]) * xk[i];
				IX(H, d, j + 1, k + 1) = hk;
				IX(H, d, k + 1, j + 1) = hk;
			}
		}
		mlc_free(w);
	}
	mlc_free(eta);
	partial[0] = (double) n;
	partial[1] = ll;
	partial[2] = npos;
	return MLC_OK;
}

void
mlc_logistic_combine(int p, double *into, const double *other)
{
	size_t		len,
				i;

	if (into == NULL || other == NULL || p < 0 || p > MLC_CLASSIFY_MAX_FEATURES)
		return;
	len = MLC_LOGISTIC_PARTIAL_DOUBLES(p);
	for (i = 0; i < len; i++)
		into[i] += other[i];
}

/* Checks shared by newton and summary. */
static mlc_status
check_logistic_args(int p, const double *partial, double alpha, const double *beta,
					mlc_error *err)
{
	size_t		len,
				i;

	if (partial == NULL || beta == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "logistic solve called with a NULL argument");
	if (p < 0 || p > MLC_CLASSIFY_MAX_FEATURES)
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid feature count %d (0 to %d)",
						p, MLC_CLASSIFY_MAX_FEATURES);
	if (!isfinite(alpha) || alpha < 0.0)
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid penalty %g (must be finite and >= 0)",
						alpha);
	len = MLC_LOGISTIC_PARTIAL_DOUBLES(p);
	for (i = 0; i < len; i++)
		if (!isfinite(partial[i]))
			return mlc_fail(err, MLC_EINVAL, NULL, "non-finite logistic partial entry %zu", i);
	for (i = 0; i < (size_t) p + 1; i++)
		if (!isfinite(beta[i]))
			return mlc_fail(err, MLC_EINVAL, NULL, "non-finite logistic coefficient %zu", i);
	if (partial[0] < 1.0)
		return mlc_fail(err, MLC_ENODATA, NULL, "no rows to fit a logistic regression on");
	if (partial[2] < 0.0 || partial[2] > partial[0])
		return mlc_fail(err, MLC_EINVAL, NULL, "inconsistent logistic partial (positives %g of %g rows)",
						partial[2], partial[0]);
	return MLC_OK;
}

/* Cholesky factor (upper) of H + alpha I' into a fresh d x d buffer. */
static mlc_status
penalized_cholesky(int p, const double *partial, double alpha, double **out,
				   mlc_error *err)
{
	int			d = p + 1,
				j;
	lapack_int	info;
	double	   *A = mlc_alloc(sizeof(double) * (size_t) d * (size_t) d);

	*out = NULL;
	if (A == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for the logistic Hessian");
	memcpy(A, partial + 3 + d, sizeof(double) * (size_t) d * (size_t) d);
	for (j = 1; j < d; j++)
		IX(A, d, j, j) += alpha;
	info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', d, A, d);
	if (info > 0)
	{
		mlc_free(A);
		return mlc_fail(err, MLC_ESINGULAR,
						"Remove features that are constant or linear combinations of others, or add a penalty (alpha).",
						"the logistic Hessian is not positive definite (perfectly collinear features)");
	}
	if (info < 0)
	{
		mlc_free(A);
		return mlc_fail(err, MLC_ELAPACK, NULL, "dpotrf failed with info %d", (int) info);
	}
	/*
	 * Exact collinearity can leave a rounding-level positive pivot instead
	 * of a failure.  L_jj^2 / A_jj is the squared sine of the angle between
	 * column j of W^1/2 X~ and the earlier ones; forming X~'WX~ costs about
	 * eps in it, so below 1e-14 (sine 1e-7) it is indistinguishable from 0.
	 */
	for (j = 0; j < d; j++)
	{
		double		ajj = partial[3 + d + (size_t) j * (size_t) (d + 1)] + (j > 0 ? alpha : 0.0);
		double		ljj = IX(A, d, j, j);

		if (ljj * ljj <= PIVOT_TOL * ajj)
		{
			mlc_free(A);
			return mlc_fail(err, MLC_ESINGULAR,
							"Remove features that are constant or linear combinations of others, or add a penalty (alpha).",
							"the logistic Hessian is numerically singular at feature %d (perfectly collinear features)",
							j - 1);
		}
	}
	*out = A;
	return MLC_OK;
}

mlc_status
mlc_logistic_newton(int p, const double *partial, double alpha,
					const double *beta, double *beta_new, double *max_step,
					mlc_error *err)
{
	mlc_status	st;
	int			d,
				j;
	lapack_int	info;
	double	   *L,
			   *rhs;
	double		ms = 0.0;

	if (beta_new == NULL || max_step == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "logistic solve called with a NULL argument");
	if ((st = check_logistic_args(p, partial, alpha, beta, err)) != MLC_OK)
		return st;
	d = p + 1;
	if ((st = penalized_cholesky(p, partial, alpha, &L, err)) != MLC_OK)
		return st;
	rhs = mlc_alloc(sizeof(double) * (size_t) d);
	if (rhs == NULL)
	{
		mlc_free(L);
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for the Newton step");
	}
	/* gradient of the penalized log-likelihood */
	rhs[0] = partial[3];
	for (j = 1; j < d; j++)
		rhs[j] = partial[3 + j] - alpha * beta[j];
	info = LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'U', d, 1, L, d, rhs, d);
	mlc_free(L);
	if (info != 0)
	{
		mlc_free(rhs);
		return mlc_fail(err, MLC_ELAPACK, NULL, "dpotrs failed with info %d", (int) info);
	}
	for (j = 0; j < d; j++)
		if (!isfinite(rhs[j]) || !isfinite(beta[j] + rhs[j]))
		{
			mlc_free(rhs);
			return mlc_fail(err, MLC_ESINGULAR,
							"The classes may be perfectly separable; add a penalty (alpha).",
							"the Newton step is not finite");
		}
	for (j = 0; j < d; j++)
	{
		double		step = rhs[j];

		if (fabs(step) > ms)
			ms = fabs(step);
		beta_new[j] = beta[j] + step;
	}
	mlc_free(rhs);
	*max_step = ms;
	return MLC_OK;
}

void
mlc_logistic_summary_free(struct mlc_logistic_summary *s)
{
	if (s == NULL)
		return;
	mlc_free(s->std_error);
	mlc_free(s->z);
	mlc_free(s->p_value);
	mlc_free(s->odds_ratio);
	s->std_error = s->z = s->p_value = s->odds_ratio = NULL;
}

mlc_status
mlc_logistic_summary(int p, const double *partial, double alpha,
					 const double *beta, struct mlc_logistic_summary *s,
					 mlc_error *err)
{
	mlc_status	st;
	int			d,
				j;
	lapack_int	info;
	double	   *L;
	double		n,
				n1,
				n0,
				ll;

	if (s == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "logistic summary called with a NULL argument");
	memset(s, 0, sizeof(*s));
	if ((st = check_logistic_args(p, partial, alpha, beta, err)) != MLC_OK)
		return st;
	d = p + 1;
	if ((st = penalized_cholesky(p, partial, alpha, &L, err)) != MLC_OK)
		return st;
	info = LAPACKE_dpotri_work(LAPACK_COL_MAJOR, 'U', d, L, d);
	if (info != 0)
	{
		mlc_free(L);
		if (info > 0)
			return mlc_fail(err, MLC_ESINGULAR, NULL, "the logistic Hessian is singular");
		return mlc_fail(err, MLC_ELAPACK, NULL, "dpotri failed with info %d", (int) info);
	}
	s->std_error = mlc_alloc(sizeof(double) * (size_t) d);
	s->z = mlc_alloc(sizeof(double) * (size_t) d);
	s->p_value = mlc_alloc(sizeof(double) * (size_t) d);
	s->odds_ratio = mlc_alloc(sizeof(double) * (size_t) d);
	if (s->std_error == NULL || s->z == NULL || s->p_value == NULL || s->odds_ratio == NULL)
	{
		mlc_free(L);
		mlc_logistic_summary_free(s);
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for the logistic summary");
	}
	for (j = 0; j < d; j++)
	{
		double		v = IX(L, d, j, j);
		double		se = v > 0.0 ? sqrt(v) : NAN;

		s->std_error[j] = se;
		s->z[j] = beta[j] / se;
		s->p_value[j] = erfc(fabs(s->z[j]) / sqrt(2.0));
		s->odds_ratio[j] = exp(beta[j]);
	}
	mlc_free(L);

	n = partial[0];
	n1 = partial[2];
	n0 = n - n1;
	ll = partial[1];
	s->n = (int64_t) n;
	s->n_positive = (int64_t) n1;
	s->p = p;
	s->loglik = ll;
	/* intercept-only MLE is mu = n1 / n; 0 log 0 = 0 */
	s->null_loglik = (n1 > 0.0 ? n1 * log(n1 / n) : 0.0) +
		(n0 > 0.0 ? n0 * log(n0 / n) : 0.0);
	s->deviance = -2.0 * ll;
	s->aic = -2.0 * ll + 2.0 * (double) d;
	s->bic = -2.0 * ll + log(n) * (double) d;
	s->pseudo_r2 = s->null_loglik != 0.0 ? 1.0 - ll / s->null_loglik : NAN;
	return MLC_OK;
}

/* ---------- softmax regression ---------- */

mlc_status
mlc_softmax_chunk(const mlc_block *b, int K, const double *W, double *partial,
				  mlc_error *err)
{
	return mlc_softmax_chunk_weighted(b, K, W, NULL, partial, err);
}

mlc_status
mlc_softmax_chunk_weighted(const mlc_block *b, int K, const double *W, const double *class_weight,
						   double *partial, mlc_error *err)
{
	mlc_status	st;
	int			n,
				p,
				d,
				i,
				j,
				c;
	size_t		kd;
	int64_t		rmask;
	double	   *Z;				/* n x K, column-major: scores, then P - onehot */
	double		nll = 0.0;

	if (b == NULL || W == NULL || partial == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "softmax chunk called with a NULL argument");
	if (K < 2 || K > MLC_CLASSIFY_MAX_CLASSES)
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid class count %d (2 to %d)",
						K, MLC_CLASSIFY_MAX_CLASSES);
	if ((st = check_block(b, &n, err)) != MLC_OK)
		return st;
	p = b->p;
	d = p + 1;
	kd = (size_t) K * (size_t) d;
	for (j = 0; (size_t) j < kd; j++)
		if (!isfinite(W[j]))
			return mlc_fail(err, MLC_EINVAL, NULL, "non-finite softmax weight %d", j);
	if (class_weight != NULL)
		for (c = 0; c < K; c++)
			if (!(isfinite(class_weight[c]) && class_weight[c] > 0.0))
				return mlc_fail(err, MLC_EINVAL, NULL, "class weight %d is not a positive number", c);
	memset(partial, 0, sizeof(double) * MLC_SOFTMAX_PARTIAL_DOUBLES(p, K));
	if (n == 0)
		return MLC_OK;
	for (i = 0; i < n; i++)
	{
		double		y = b->y[i];

		if (!(y >= 0.0 && y <= (double) (K - 1)) || y != floor(y))
			return mlc_fail(err, MLC_EINVAL, NULL,
							"invalid class id in row %d of the chunk (must be 0 to %d)",
							i, K - 1);
	}
	if ((st = check_finite_X(b, n, err)) != MLC_OK)
		return st;
	if ((size_t) n > ((size_t) -1) / sizeof(double) / (size_t) K)
		return mlc_fail(err, MLC_EINVAL, NULL, "chunk too large");
	Z = mlc_alloc(sizeof(double) * (size_t) n * (size_t) K);
	if (Z == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for the softmax chunk");

	for (c = 0; c < K; c++)
	{
		const double *w = W + (size_t) c * d;
		double	   *z = Z + (size_t) c * n;

		for (i = 0; i < n; i++)
			z[i] = w[0];
		for (j = 0; j < p; j++)
		{
			const double *x = b->X + (size_t) j * (size_t) n;
			double		wj = w[j + 1];

			/* one look per pass over the chunk's rows */
			if (mlc_interrupted())
				goto interrupted;
			for (i = 0; i < n; i++)
				z[i] += wj * x[i];
		}
	}
	rmask = mlc_interrupt_mask(4 * (int64_t) K);
	for (i = 0; i < n; i++)
	{
		int			yi = (int) b->y[i];
		double		m = IX(Z, n, i, 0),
					sum = 0.0,
					lse;

		if ((i & rmask) == 0 && mlc_interrupted())
			goto interrupted;

		for (c = 1; c < K; c++)
			if (IX(Z, n, i, c) > m)
				m = IX(Z, n, i, c);
		for (c = 0; c < K; c++)
		{
			double		e = exp(IX(Z, n, i, c) - m);

			sum += e;
			IX(Z, n, i, c) -= m;	/* keep the shifted score */
		}
		lse = log(sum);
		if (class_weight == NULL)
		{
			nll += lse - IX(Z, n, i, yi);
			for (c = 0; c < K; c++)
				IX(Z, n, i, c) = exp(IX(Z, n, i, c) - lse) - (c == yi ? 1.0 : 0.0);
		}
		else
		{
			/* the row's loss and gradient times its class's weight */
			double		cw = class_weight[yi];

			nll += cw * (lse - IX(Z, n, i, yi));
			for (c = 0; c < K; c++)
				IX(Z, n, i, c) = cw * (exp(IX(Z, n, i, c) - lse) - (c == yi ? 1.0 : 0.0));
		}
	}
	for (c = 0; c < K; c++)
	{
		const double *r = Z + (size_t) c * n;
		double	   *g = partial + 2 + (size_t) c * d;
		double		s = 0.0;

		for (i = 0; i < n; i++)
			s += r[i];
		g[0] = s;
		for (j = 0; j < p; j++)
		{
			const double *x = b->X + (size_t) j * (size_t) n;

			if (mlc_interrupted())
				goto interrupted;
			s = 0.0;
			for (i = 0; i < n; i++)
				s += r[i] * x[i];
			g[j + 1] = s;
		}
	}
	mlc_free(Z);
	partial[0] = (double) n;
	partial[1] = nll;
	return MLC_OK;

interrupted:
	mlc_free(Z);
	return mlc_fail(err, MLC_EINTR, NULL, "softmax regression interrupted");
}

void
mlc_softmax_combine(int p, int K, double *into, const double *other)
{
	size_t		len,
				i;

	if (into == NULL || other == NULL || p < 0 || p > MLC_CLASSIFY_MAX_FEATURES ||
		K < 1 || K > MLC_CLASSIFY_MAX_CLASSES)
		return;
	len = MLC_SOFTMAX_PARTIAL_DOUBLES(p, K);
	for (i = 0; i < len; i++)
		into[i] += other[i];
}

void
mlc_softmax_objective(int p, int K, const double *partial, const double *W,
					  double alpha, double *f, double *g)
{
	int			d = p + 1,
				c,
				j;
	double		pen = 0.0;

	if (partial == NULL || W == NULL || f == NULL || g == NULL || p < 0 ||
		p > MLC_CLASSIFY_MAX_FEATURES || K < 1 || K > MLC_CLASSIFY_MAX_CLASSES)
	{
		if (f != NULL)
			*f = NAN;
		return;
	}
	for (c = 0; c < K; c++)
	{
		const double *w = W + (size_t) c * d;
		const double *gp = partial + 2 + (size_t) c * d;
		double	   *gc = g + (size_t) c * d;

		gc[0] = gp[0];
		for (j = 1; j < d; j++)
		{
			pen += w[j] * w[j];
			gc[j] = gp[j] + alpha * w[j];
		}
	}
	*f = partial[1] + 0.5 * alpha * pen;
}

void
mlc_softmax_proba(int p, int K, const double *W, const double *x, double *proba)
{
	int			d = p + 1,
				c,
				j;
	double		m = -INFINITY,
				sum = 0.0;

	if (W == NULL || proba == NULL || K < 1 || p < 0 || (p > 0 && x == NULL))
		return;
	for (c = 0; c < K; c++)
	{
		const double *w = W + (size_t) c * d;
		double		z = w[0];

		for (j = 0; j < p; j++)
			z += w[j + 1] * x[j];
		proba[c] = z;
		if (z > m)
			m = z;
	}
	for (c = 0; c < K; c++)
	{
		proba[c] = exp(proba[c] - m);
		sum += proba[c];
	}
	for (c = 0; c < K; c++)
		proba[c] /= sum;
}

/* ---------- L-BFGS ---------- */

#define LBFGS_C1 1e-4			/* Armijo constant */
#define LBFGS_MAX_HALVINGS 60
#define LBFGS_CURV_EPS 1e-10	/* skip pairs with y's <= eps y'y */
#define LBFGS_FTOL 1e-15		/* relative f change counted as stalled */
#define LBFGS_STALL_ITERS 3

enum
{
	LS_START = 0,				/* waiting for f, g at the start point */
	LS_SEARCH = 1,				/* waiting for f, g at a trial point */
	LS_DONE = 2
};

struct mlc_lbfgs
{
	int			d,
				m,
				max_iter;
	double		gtol;
	int			state;
	int			iter;			/* accepted steps */
	int			npairs;			/* stored pairs (<= m) */
	int			newest;			/* ring index of the newest pair */
	int			halvings;
	int			stalled;
	int			done_code;
	double		f;				/* at the accepted point */
	double		gnorm;			/* max |g| there */
	double		t;				/* current trial step */
	double		gd;				/* g'dir at the accepted point */
	double	   *x,
			   *g,
			   *dir;
	double	   *S,
			   *Y,				/* m x d each, pair k at k*d */
			   *rho,
			   *a;				/* m: two-loop scratch */
};

mlc_lbfgs *
mlc_lbfgs_create(int d, int m, double gtol, int max_iter)
{
	mlc_lbfgs  *s;

	if (d < 1 || m < 1 || m > 1000 || !(gtol >= 0.0) || !isfinite(gtol) || max_iter < 0)
		return NULL;
	if ((size_t) d > ((size_t) -1) / sizeof(double) / (size_t) m / 2)
		return NULL;
	s = mlc_alloc0(sizeof(*s));
	if (s == NULL)
		return NULL;
	s->d = d;
	s->m = m;
	s->gtol = gtol;
	s->max_iter = max_iter;
	s->state = LS_START;
	s->f = NAN;
	s->gnorm = NAN;
	s->x = mlc_alloc(sizeof(double) * (size_t) d);
	s->g = mlc_alloc(sizeof(double) * (size_t) d);
	s->dir = mlc_alloc(sizeof(double) * (size_t) d);
	s->S = mlc_alloc(sizeof(double) * (size_t) d * (size_t) m);
	s->Y = mlc_alloc(sizeof(double) * (size_t) d * (size_t) m);
	s->rho = mlc_alloc(sizeof(double) * (size_t) m);
	s->a = mlc_alloc(sizeof(double) * (size_t) m);
	if (!s->x || !s->g || !s->dir || !s->S || !s->Y || !s->rho || !s->a)
	{
		mlc_lbfgs_free(s);
		return NULL;
	}
	return s;
}

void
mlc_lbfgs_free(mlc_lbfgs *s)
{
	if (s == NULL)
		return;
	mlc_free(s->x);
	mlc_free(s->g);
	mlc_free(s->dir);
	mlc_free(s->S);
	mlc_free(s->Y);
	mlc_free(s->rho);
	mlc_free(s->a);
	mlc_free(s);
}

int
mlc_lbfgs_iterations(const mlc_lbfgs *s)
{
	return s != NULL ? s->iter : 0;
}

double
mlc_lbfgs_gradient_norm(const mlc_lbfgs *s)
{
	return s != NULL ? s->gnorm : NAN;
}

double
mlc_lbfgs_value(const mlc_lbfgs *s)
{
	return s != NULL ? s->f : NAN;
}

static double
dot(int d, const double *a, const double *b)
{
	double		s = 0.0;
	int			i;

	for (i = 0; i < d; i++)
		s += a[i] * b[i];
	return s;
}

static double
max_abs(int d, const double *a)
{
	double		m = 0.0;
	int			i;

	for (i = 0; i < d; i++)
		if (fabs(a[i]) > m || isnan(a[i]))
			m = isnan(a[i]) ? NAN : fabs(a[i]);
	return m;
}

/*
 * dir = -H g by the two-loop recursion (newest pair first, then oldest
 * first); with no pairs, steepest descent.  Sets s->gd and the first
 * trial step.
 */
static void
lbfgs_direction(mlc_lbfgs *s)
{
	int			d = s->d,
				k,
				i,
				idx;

	for (i = 0; i < d; i++)
		s->dir[i] = -s->g[i];
	if (s->npairs > 0)
	{
		const double *sn = s->S + (size_t) s->newest * d;
		const double *yn = s->Y + (size_t) s->newest * d;
		double		gamma;

		for (k = 0; k < s->npairs; k++)
		{
			idx = (s->newest - k + s->m) % s->m;
			s->a[idx] = s->rho[idx] * dot(d, s->S + (size_t) idx * d, s->dir);
			for (i = 0; i < d; i++)
				s->dir[i] -= s->a[idx] * s->Y[(size_t) idx * d + i];
		}
		gamma = dot(d, sn, yn) / dot(d, yn, yn);
		for (i = 0; i < d; i++)
			s->dir[i] *= gamma;
		for (k = s->npairs - 1; k >= 0; k--)
		{
			double		bk;

			idx = (s->newest - k + s->m) % s->m;
			bk = s->rho[idx] * dot(d, s->Y + (size_t) idx * d, s->dir);
			for (i = 0; i < d; i++)
				s->dir[i] += (s->a[idx] - bk) * s->S[(size_t) idx * d + i];
		}
		s->gd = dot(d, s->g, s->dir);
		if (s->gd < 0.0 && isfinite(s->gd))
		{
			s->t = 1.0;
			return;
		}
		/* not a descent direction: drop the memory */
		s->npairs = 0;
		for (i = 0; i < d; i++)
			s->dir[i] = -s->g[i];
	}
	s->gd = dot(d, s->g, s->dir);
	{
		double		gn = sqrt(-s->gd);

		s->t = gn > 1.0 ? 1.0 / gn : 1.0;
	}
}

/* Write the trial point x + t dir into x. */
static void
lbfgs_trial(const mlc_lbfgs *s, double *x)
{
	int			i;

	for (i = 0; i < s->d; i++)
		x[i] = s->x[i] + s->t * s->dir[i];
}

/* After a new accepted point: test convergence or start the next line search. */
static int
lbfgs_next(mlc_lbfgs *s, double *x)
{
	if (s->gnorm <= s->gtol * fmax(1.0, fabs(s->f)) || s->stalled >= LBFGS_STALL_ITERS)
		s->done_code = MLC_LBFGS_CONVERGED;
	else if (s->iter >= s->max_iter)
		s->done_code = MLC_LBFGS_MAX_ITER;
	if (s->done_code != 0)
	{
		s->state = LS_DONE;
		memcpy(x, s->x, sizeof(double) * (size_t) s->d);
		return s->done_code;
	}
	lbfgs_direction(s);
	s->halvings = 0;
	s->state = LS_SEARCH;
	lbfgs_trial(s, x);
	return MLC_LBFGS_EVALUATE;
}

int
mlc_lbfgs_step(mlc_lbfgs *s, double *x, double f, const double *g)
{
	int			d,
				i;

	if (s == NULL || x == NULL || g == NULL)
		return MLC_LBFGS_FAILED;
	d = s->d;
	if (s->state == LS_DONE)
	{
		memcpy(x, s->x, sizeof(double) * (size_t) d);
		return s->done_code;
	}
	if (s->state == LS_START)
	{
		memcpy(s->x, x, sizeof(double) * (size_t) d);
		memcpy(s->g, g, sizeof(double) * (size_t) d);
		s->f = f;
		s->gnorm = max_abs(d, g);
		if (!isfinite(f) || !isfinite(s->gnorm) || !isfinite(max_abs(d, x)))
		{
			s->state = LS_DONE;
			s->done_code = MLC_LBFGS_FAILED;
			return MLC_LBFGS_FAILED;
		}
		return lbfgs_next(s, x);
	}

	/* LS_SEARCH: f, g at the trial point x */
	if (isfinite(f) && f <= s->f + LBFGS_C1 * s->t * s->gd && isfinite(max_abs(d, g)))
	{
		int			slot = s->npairs == 0 ? 0 : (s->newest + 1) % s->m;
		double	   *sk = s->S + (size_t) slot * d;
		double	   *yk = s->Y + (size_t) slot * d;
		double		ys,
					yy,
					rel;

		for (i = 0; i < d; i++)
		{
			sk[i] = x[i] - s->x[i];
			yk[i] = g[i] - s->g[i];
		}
		ys = dot(d, yk, sk);
		yy = dot(d, yk, yk);
		if (ys > LBFGS_CURV_EPS * yy && yy > 0.0)
		{
			s->rho[slot] = 1.0 / ys;
			s->newest = slot;
			if (s->npairs < s->m)
				s->npairs++;
		}
		rel = fabs(s->f - f) / fmax(1.0, fabs(f));
		s->stalled = rel < LBFGS_FTOL ? s->stalled + 1 : 0;
		memcpy(s->x, x, sizeof(double) * (size_t) d);
		memcpy(s->g, g, sizeof(double) * (size_t) d);
		s->f = f;
		s->gnorm = max_abs(d, g);
		s->iter++;
		return lbfgs_next(s, x);
	}
	/* not accepted: halve, or give up on this direction */
	s->halvings++;
	if (s->halvings <= LBFGS_MAX_HALVINGS)
	{
		s->t *= 0.5;
		lbfgs_trial(s, x);
		return MLC_LBFGS_EVALUATE;
	}
	if (s->npairs > 0)
	{
		/* retry once along steepest descent without memory */
		s->npairs = 0;
		lbfgs_direction(s);
		s->halvings = 0;
		lbfgs_trial(s, x);
		return MLC_LBFGS_EVALUATE;
	}
	s->state = LS_DONE;
	s->done_code = MLC_LBFGS_FAILED;
	memcpy(x, s->x, sizeof(double) * (size_t) d);
	return MLC_LBFGS_FAILED;
}

/* ---------- classification metrics ---------- */

void
mlc_class_metrics(int K, const double *confusion, mlc_class_metrics_out *out)
{
	double		total = 0.0,
				trace = 0.0,
				sp = 0.0,
				sr = 0.0,
				sf = 0.0,
				wp = 0.0,
				wr = 0.0,
				wf = 0.0;
	int			c,
				r;

	if (out == NULL)
		return;
	out->accuracy = out->precision = out->recall = out->f1 = NAN;
	out->macro_precision = out->macro_recall = out->macro_f1 = NAN;
	out->weighted_precision = out->weighted_recall = out->weighted_f1 = NAN;
	if (K < 2 || K > MLC_CLASSIFY_MAX_CLASSES || confusion == NULL)
		return;
	for (r = 0; r < K; r++)
		for (c = 0; c < K; c++)
		{
			total += confusion[(size_t) r * K + c];
			if (r == c)
				trace += confusion[(size_t) r * K + c];
		}
	out->accuracy = total > 0.0 ? trace / total : NAN;
	for (c = 0; c < K; c++)
	{
		double		tp = confusion[(size_t) c * K + c],
					pred = 0.0,
					truth = 0.0,
					pr,
					rc,
					f1;

		for (r = 0; r < K; r++)
		{
			pred += confusion[(size_t) r * K + c];
			truth += confusion[(size_t) c * K + r];
		}
		pr = pred > 0.0 ? tp / pred : 0.0;
		rc = truth > 0.0 ? tp / truth : 0.0;
		f1 = pr + rc > 0.0 ? 2.0 * pr * rc / (pr + rc) : 0.0;
		sp += pr;
		sr += rc;
		sf += f1;
		wp += truth * pr;
		wr += truth * rc;
		wf += truth * f1;
		if (K == 2 && c == 1)
		{
			out->precision = pr;
			out->recall = rc;
			out->f1 = f1;
		}
	}
	out->macro_precision = sp / K;
	out->macro_recall = sr / K;
	out->macro_f1 = sf / K;
	if (total > 0.0)
	{
		out->weighted_precision = wp / total;
		out->weighted_recall = wr / total;
		out->weighted_f1 = wf / total;
	}
}

/* (score, label) ascending; equal pairs are interchangeable */
static int
cmp_pair(const void *a, const void *b)
{
	const double *x = a,
			   *y = b;

	if (x[0] < y[0])
		return -1;
	if (x[0] > y[0])
		return 1;
	if (x[1] < y[1])
		return -1;
	if (x[1] > y[1])
		return 1;
	return 0;
}

/*
 * Validate and sort the pairs ascending by (score, label), writing them
 * back into score and label.  Returns the number of positives, or -1.
 */
static int64_t
sort_scores(int64_t n, double *score, double *label)
{
	double	   *pairs;
	int64_t		i,
				npos = 0;

	if (n < 1 || score == NULL || label == NULL ||
		(uint64_t) n > ((size_t) -1) / (2 * sizeof(double)))
		return -1;
	for (i = 0; i < n; i++)
	{
		if (isnan(score[i]) || (label[i] != 0.0 && label[i] != 1.0))
			return -1;
		if (label[i] == 1.0)
			npos++;
	}
	pairs = mlc_alloc(sizeof(double) * 2 * (size_t) n);
	if (pairs == NULL)
		return -1;
	for (i = 0; i < n; i++)
	{
		pairs[2 * i] = score[i];
		pairs[2 * i + 1] = label[i];
	}
	qsort(pairs, (size_t) n, 2 * sizeof(double), cmp_pair);
	for (i = 0; i < n; i++)
	{
		score[i] = pairs[2 * i];
		label[i] = pairs[2 * i + 1];
	}
	mlc_free(pairs);
	return npos;
}

double
mlc_roc_auc(int64_t n, double *score, double *label)
{
	int64_t		npos = sort_scores(n, score, label),
				i,
				j;
	double		neg_below = 0.0,
				u = 0.0;

	if (npos <= 0 || npos >= n)
		return NAN;
	/* per group of equal scores: positives beat the negatives below, tie half with those level */
	for (i = 0; i < n; i = j)
	{
		double		pos = 0.0,
					neg = 0.0;

		for (j = i; j < n && score[j] == score[i]; j++)
		{
			if (label[j] == 1.0)
				pos += 1.0;
			else
				neg += 1.0;
		}
		u += pos * neg_below + 0.5 * pos * neg;
		neg_below += neg;
	}
	return u / ((double) npos * (double) (n - npos));
}

double
mlc_average_precision(int64_t n, double *score, double *label)
{
	int64_t		npos = sort_scores(n, score, label),
				i,
				j;
	double		tp = 0.0,
				fp = 0.0,
				prev_recall = 0.0,
				ap = 0.0;

	if (npos <= 0)
		return NAN;
	/* descending: walk the ascending sort from the end, one point per score */
	for (i = n - 1; i >= 0; i = j)
	{
		double		recall;

		for (j = i; j >= 0 && score[j] == score[i]; j--)
		{
			if (label[j] == 1.0)
				tp += 1.0;
			else
				fp += 1.0;
		}
		recall = tp / (double) npos;
		ap += (recall - prev_recall) * (tp / (tp + fp));
		prev_recall = recall;
	}
	return ap;
}

int64_t
mlc_roc_curve(int64_t n, double *score, double *label, double *threshold,
			  double *fpr, double *tpr)
{
	int64_t		npos,
				i,
				j,
				k = 0;
	double		P,
				N,
				tp = 0.0,
				fp = 0.0;

	if (threshold == NULL || fpr == NULL || tpr == NULL)
		return -1;
	npos = sort_scores(n, score, label);
	if (npos < 0)
		return -1;
	P = (double) npos;
	N = (double) (n - npos);
	threshold[0] = INFINITY;
	/* a rate over an absent class is NAN (0/0), like scikit-learn */
	fpr[0] = N > 0.0 ? 0.0 : NAN;
	tpr[0] = P > 0.0 ? 0.0 : NAN;
	k = 1;
	/* descending: walk the ascending sort from the end, one point per score */
	for (i = n - 1; i >= 0; i = j)
	{
		for (j = i; j >= 0 && score[j] == score[i]; j--)
		{
			if (label[j] == 1.0)
				tp += 1.0;
			else
				fp += 1.0;
		}
		threshold[k] = score[i];
		fpr[k] = N > 0.0 ? fp / N : NAN;
		tpr[k] = P > 0.0 ? tp / P : NAN;
		k++;
	}
	return k;
}

double
mlc_log_loss_term(int K, const double *proba, int cls)
{
	double		v;

	if (proba == NULL || cls < 0 || cls >= K)
		return NAN;
	v = proba[cls];
	if (isnan(v))
		return NAN;
	return -log(v > 1e-15 ? v : 1e-15);
}
