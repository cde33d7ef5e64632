/*
 * pca.c: principal components from the R factor of the centered data.
 * R'R is the centered scatter, so the right singular vectors of R are the
 * principal axes and its singular values squared the scatter eigenvalues:
 * no second data pass and no squaring of the condition number.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include <lapacke.h>

#include "mlcore.h"

mlc_status
mlc_pca_from_r(int p, const double *R, int ldr, int64_t n, int n_components,
			   double *components, double *explained_variance,
			   double *explained_variance_ratio, mlc_error *err)
{
	double	   *a,
			   *s,
			   *vt,
			   *work;
	double		wq = 0.0,
				dummy = 0.0,
				total = 0.0,
				dof;
	lapack_int	lwork,
				info;
	int			i,
				j,
				c;

	if (p < 1 || p > 46340)
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid number of features %d", p);
	if (ldr < p)
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid leading dimension %d for %d features", ldr, p);
	if (R == NULL || components == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "pca called with a NULL argument");
	if (n < 2)
		return mlc_fail(err, MLC_EINVAL, "PCA needs at least two rows.",
						"invalid row count %lld", (long long) n);
	if (n_components < 1 || n_components > p)
		return mlc_fail(err, MLC_EINVAL, "n_components must be between 1 and the number of features.",
						"invalid n_components %d for %d features", n_components, p);
	for (j = 0; j < p; j++)
		for (i = 0; i <= j; i++)
			if (!isfinite(R[i + (size_t) j * ldr]))
				return mlc_fail(err, MLC_EINVAL, "The R factor contains a non-finite value.",
								"invalid statistics for pca");

	info = LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'N', 'A', p, p, &dummy, p,
							   &dummy, &dummy, 1, &dummy, p, &wq, -1);
	if (info != 0)
		return mlc_fail(err, MLC_ELAPACK, NULL,
						"dgesvd workspace query failed with info %d", (int) info);
	if (!(wq >= 1.0) || wq > (double) INT_MAX)
		wq = (double) (5 * p);
	lwork = (lapack_int) wq;
	if (lwork < 5 * p)
		lwork = 5 * p;

	a = mlc_alloc(sizeof(double) * ((size_t) 2 * p * p + p));
	work = mlc_alloc(sizeof(double) * (size_t) lwork);
	if (a == NULL || work == NULL)
	{
		mlc_free(a);
		mlc_free(work);
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for pca");
	}
	vt = a + (size_t) p * p;
	s = vt + (size_t) p * p;
	/* copy the upper triangle; the total variance is its squared Frobenius norm */
	for (j = 0; j < p; j++)
		for (i = 0; i < p; i++)
		{
			double		r = i <= j ? R[i + (size_t) j * ldr] : 0.0;

			a[i + (size_t) j * p] = r;
			total += r * r;
		}
	info = LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'N', 'A', p, p, a, p,
							   s, &dummy, 1, vt, p, work, lwork);
	mlc_free(work);
	if (info != 0)
	{
		mlc_free(a);
		if (info < 0)
			return mlc_fail(err, MLC_ELAPACK, NULL, "dgesvd failed with info %d", (int) info);
		return mlc_fail(err, MLC_ELAPACK, NULL,
						"dgesvd did not converge (%d superdiagonals)", (int) info);
	}

	dof = (double) (n - 1);
	for (c = 0; c < n_components; c++)
	{
		int			imax = 0;
		double		sign;

		/* deterministic sign: the largest |entry| (first on ties) positive */
		for (j = 1; j < p; j++)
			if (fabs(vt[c + (size_t) j * p]) > fabs(vt[c + (size_t) imax * p]))
				imax = j;
		sign = vt[c + (size_t) imax * p] < 0.0 ? -1.0 : 1.0;
		for (j = 0; j < p; j++)
			components[(size_t) c * p + j] = sign * vt[c + (size_t) j * p] + 0.0;
		if (explained_variance != NULL)
			explained_variance[c] = s[c] * s[c] / dof;
		if (explained_variance_ratio != NULL)
			explained_variance_ratio[c] = total > 0.0 ? (s[c] * s[c] / dof) / (total / dof) : 0.0;
	}
	mlc_free(a);
	return MLC_OK;
}
