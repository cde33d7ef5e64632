/*
 * naive_bayes.c: per-class counts, means and M2 (chunk, Chan merge), then
 * scikit-learn's GaussianNB / CategoricalNB parameters from them.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"

static mlc_status
nb_interrupted(mlc_error *err)
{
	return mlc_fail(err, MLC_EINTR, NULL, "naive bayes interrupted");
}

mlc_status
mlc_nb_chunk(const mlc_block *b, int K, double *partial, mlc_error *err)
{
	int			d,
				c,
				j;
	int64_t		i,
				imask;
	size_t		stride;

	if (b == NULL || partial == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "naive bayes chunk called with a NULL argument");
	d = b->p;
	if (K < 1 || d < 1 || b->n < 0 || (b->n > 0 && (b->X == NULL || b->y == NULL)))
		return mlc_fail(err, MLC_EINVAL, NULL,
						"invalid naive bayes chunk shape (%d classes, %d features)", K, d);
	stride = 1 + 2 * (size_t) d;
	memset(partial, 0, sizeof(double) * stride * K);

	/* pass 1: validate, count and sum */
	imask = mlc_interrupt_mask(d);
	for (i = 0; i < b->n; i++)
	{
		double		y = b->y[i];
		double	   *pc;

		if ((i & imask) == 0 && mlc_interrupted())
			return nb_interrupted(err);
		if (!(y >= 0.0 && y < (double) K && y == floor(y)))
			return mlc_fail(err, MLC_EINVAL, "Class ids must be integers from 0 to the number of classes minus 1.",
							"invalid class id %g in row %lld", y, (long long) (i + 1));
		pc = partial + stride * (size_t) y;
		pc[0] += 1.0;
		for (j = 0; j < d; j++)
		{
			double		x = b->X[i + (size_t) j * b->n];

			if (!isfinite(x))
				return mlc_fail(err, MLC_EINVAL, "Feature values must be finite.",
								"non-finite value in feature %d of row %lld",
								j + 1, (long long) (i + 1));
			pc[1 + j] += x;
		}
	}
	for (c = 0; c < K; c++)
	{
		double	   *pc = partial + stride * c;

		if (pc[0] > 0.0)
			for (j = 0; j < d; j++)
			{
				pc[1 + j] /= pc[0];
				if (!isfinite(pc[1 + j]))
					return mlc_fail(err, MLC_EINVAL, "Feature values are too large.",
									"overflow in the sum of feature %d", j + 1);
			}
	}
	/* pass 2: squared deviations about the chunk's class means */
	for (i = 0; i < b->n; i++)
	{
		double	   *pc = partial + stride * (size_t) b->y[i];

		if ((i & imask) == 0 && mlc_interrupted())
			return nb_interrupted(err);
		for (j = 0; j < d; j++)
		{
			double		t = b->X[i + (size_t) j * b->n] - pc[1 + j];

			pc[1 + d + j] += t * t;
		}
	}
	for (c = 0; c < K; c++)
		for (j = 0; j < d; j++)
			if (!isfinite(partial[stride * c + 1 + d + j]))
				return mlc_fail(err, MLC_EINVAL, "Feature values are too large.",
								"overflow in the variance of feature %d", j + 1);
	return MLC_OK;
}

void
mlc_nb_combine(int K, int d, double *into, const double *other)
{
	size_t		stride = 1 + 2 * (size_t) d;
	int			c,
				j;

	if (into == NULL || other == NULL || K < 1 || d < 1)
		return;
	for (c = 0; c < K; c++)
	{
		double	   *a = into + stride * c;
		const double *b = other + stride * c;
		double		na = a[0],
					nb = b[0],
					nt;

		if (nb == 0.0)
			continue;
		if (na == 0.0)
		{
			memcpy(a, b, sizeof(double) * stride);
			continue;
		}
		nt = na + nb;
		for (j = 0; j < d; j++)
		{
			double		delta = b[1 + j] - a[1 + j];

			a[1 + j] = a[1 + j] + delta * (nb / nt);
			a[1 + d + j] = a[1 + d + j] + b[1 + d + j] + delta * delta * (na * nb / nt);
		}
		a[0] = nt;
	}
}

static int
cmp_int(const void *a, const void *b)
{
	int			x = *(const int *) a,
				y = *(const int *) b;

	return (x > y) - (x < y);
}

/* Number of entries equal to g in the sorted array s of m ints. */
static int
count_sorted(const int *s, int m, int g)
{
	int			lo = 0,
				hi = m,
				first;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (s[mid] < g)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	hi = m;
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (s[mid] <= g)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - first;
}

mlc_status
mlc_nb_finalize(int K, int d, const double *partial, const int *feature_group,
				double var_smoothing, double smoothing, double *class_log_prior,
				double *theta, double *var, double *feature_log_prob,
				mlc_error *err)
{
	size_t		stride;
	int		   *sorted;
	double		ntot = 0.0,
				maxvar = 0.0,
				eps,
				alpha;
	int			c,
				j;

	if (partial == NULL || feature_group == NULL || class_log_prior == NULL ||
		theta == NULL || var == NULL || feature_log_prob == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "naive bayes finalize called with a NULL argument");
	if (K < 1 || d < 1 || (size_t) K * (size_t) d > (size_t) 1 << 40)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"invalid naive bayes shape (%d classes, %d features)", K, d);
	if (!isfinite(var_smoothing) || var_smoothing < 0.0)
		return mlc_fail(err, MLC_EINVAL, "var_smoothing must be finite and non-negative.",
						"invalid var_smoothing %g", var_smoothing);
	if (!isfinite(smoothing) || smoothing < 0.0)
		return mlc_fail(err, MLC_EINVAL, "smoothing must be finite and non-negative.",
						"invalid smoothing %g", smoothing);
	stride = 1 + 2 * (size_t) d;
	for (j = 0; j < d; j++)
		if (feature_group[j] < -1)
			return mlc_fail(err, MLC_EINVAL, NULL, "invalid feature group %d of feature %d",
							feature_group[j], j + 1);
	for (c = 0; c < K; c++)
	{
		const double *pc = partial + stride * c;
		size_t		t;

		if (!(pc[0] >= 0.0) || !isfinite(pc[0]) || pc[0] != floor(pc[0]))
			return mlc_fail(err, MLC_EINVAL, NULL, "invalid naive bayes class count");
		for (t = 1; t < stride; t++)
			if (!isfinite(pc[t]) || (t > (size_t) d && pc[t] < 0.0))
				return mlc_fail(err, MLC_EINVAL, NULL, "invalid naive bayes partial");
		if (pc[0] == 0.0)
			return mlc_fail(err, MLC_ENODATA, "Every class needs at least one training row.",
							"class %d has no training rows", c);
		ntot += pc[0];
	}

	/* overall population variance of each Gaussian feature: merge the classes */
	for (j = 0; j < d; j++)
	{
		double		mean = 0.0,
					m2 = 0.0,
					cnt = 0.0;

		if (feature_group[j] != -1)
			continue;
		for (c = 0; c < K; c++)
		{
			const double *pc = partial + stride * c;
			double		nt = cnt + pc[0],
						delta = pc[1 + j] - mean;

			m2 = m2 + pc[1 + d + j] + delta * delta * (cnt * pc[0] / nt);
			mean = mean + delta * (pc[0] / nt);
			cnt = nt;
		}
		if (m2 / ntot > maxvar)
			maxvar = m2 / ntot;
	}
	eps = var_smoothing * (maxvar > 0.0 ? maxvar : 1.0);
	alpha = smoothing < 1e-10 ? 1e-10 : smoothing;

	sorted = mlc_alloc(sizeof(int) * (size_t) d);
	if (sorted == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for naive bayes");
	memcpy(sorted, feature_group, sizeof(int) * (size_t) d);
	qsort(sorted, (size_t) d, sizeof(int), cmp_int);

	for (c = 0; c < K; c++)
	{
		const double *pc = partial + stride * c;
		double		nc = pc[0];

		class_log_prior[c] = log(nc / ntot);
		for (j = 0; j < d; j++)
		{
			size_t		o = (size_t) c * d + j;

			if (feature_group[j] == -1)
			{
				theta[o] = pc[1 + j];
				var[o] = pc[1 + d + j] / nc + eps;
				feature_log_prob[o] = 0.0;
				if (!(var[o] > 0.0) || !isfinite(var[o]))
				{
					mlc_free(sorted);
					return mlc_fail(err, MLC_ESINGULAR,
									"Raise var_smoothing above 0 so that constant features get a positive variance.",
									"feature %d has zero variance in class %d", j + 1, c);
				}
			}
			else
			{
				double		m = (double) count_sorted(sorted, d, feature_group[j]);
				double		cnt = nearbyint(nc * pc[1 + j]);

				if (cnt < 0.0)
					cnt = 0.0;
				theta[o] = 0.0;
				var[o] = 1.0;
				feature_log_prob[o] = log((cnt + alpha) / (nc + alpha * m));
			}
		}
	}
	mlc_free(sorted);
	return MLC_OK;
}
