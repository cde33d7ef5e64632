/*
 * linalg.c: the few dense factorizations the core needs, on top of LAPACKE.
 *
 * Every routine validates its shapes before calling LAPACK (LAPACK's own
 * xerbla would print and, in some builds, abort the process), allocates
 * its workspace with mlc_alloc (so the backend's memory accounting sees
 * it), and checks LAPACK's info.  Matrices are column-major.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include <lapacke.h>

#include "mlcore.h"

/* OpenBLAS extensions; declared here to avoid depending on its cblas.h. */
extern int	openblas_get_num_threads(void);
extern int	openblas_get_parallel(void);

/* 1 when a * b doubles fit in size_t (and in int for LAPACK's leading dims). */
static int
shape_ok(int m, int n)
{
	if (m < 0 || n < 0)
		return 0;
	if (n != 0 && (size_t) m > ((size_t) -1) / sizeof(double) / (size_t) n)
		return 0;
	return 1;
}

/* Run dgeqrf on A (m x n, lda = m, m >= 1, n >= 1); tau gets min(m, n). */
static mlc_status
geqrf(int m, int n, double *A, double *tau, mlc_error *err)
{
	double		wq = 0.0;
	double	   *work;
	lapack_int	lwork;
	lapack_int	info;

	info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, m, n, A, m, tau, &wq, -1);
	if (info != 0)
		return mlc_fail(err, MLC_ELAPACK, NULL,
						"dgeqrf workspace query failed with info %d", (int) info);
	if (!(wq >= 1.0) || wq > (double) INT_MAX)
		wq = (double) (n > 0 ? n : 1);
	lwork = (lapack_int) wq;
	if (lwork < n)
		lwork = n;
	work = mlc_alloc(sizeof(double) * (size_t) lwork);
	if (work == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for QR workspace");
	info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, m, n, A, m, tau, work, lwork);
	mlc_free(work);
	if (info != 0)
		return mlc_fail(err, MLC_ELAPACK, NULL,
						"dgeqrf failed with info %d", (int) info);
	return MLC_OK;
}

/*
 * Run dgeqrt on A (m x n, lda = m, m >= 1, n >= 1) with block size nb
 * (1 <= nb <= min(m, n)).  Its compact-WY T factors (nb x min(m, n)) and
 * the nb x n workspace live in one mlc_alloc buffer; mlc_qr_r only needs
 * R, so T is discarded.
 */
static mlc_status
geqrt(int m, int n, int nb, double *A, mlc_error *err)
{
	int			k = m < n ? m : n;
	double	   *buf;
	lapack_int	info;

	if (nb < 1 || nb > k)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"invalid QR block size %d for %d x %d", nb, m, n);
	if ((size_t) k + (size_t) n > ((size_t) -1) / sizeof(double) / (size_t) nb)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"invalid QR shape %d x %d", m, n);
	buf = mlc_alloc(sizeof(double) * (size_t) nb * ((size_t) k + (size_t) n));
	if (buf == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for QR workspace");
	info = LAPACKE_dgeqrt_work(LAPACK_COL_MAJOR, m, n, nb, A, m,
							   buf, nb, buf + (size_t) nb * (size_t) k);
	mlc_free(buf);
	if (info != 0)
		return mlc_fail(err, MLC_ELAPACK, NULL,
						"dgeqrt failed with info %d", (int) info);
	return MLC_OK;
}

/*
 * Which LAPACK routine factors an m x n block.  Measured with the
 * sequential OpenBLAS of the unit tests (2-core x86-64 VM, 4000 blocks):
 * on tall-skinny blocks the blocked dgeqrt (block size 8) beats dgeqrf,
 * which below its crossover (nb 32, nx 128) runs the unblocked dgeqr2:
 * 960 x 22 0.198 s vs 0.268 s, 960 x 40 0.46 s vs 0.82 s, 2000 x 10
 * 0.127 s vs 0.134 s.  On short or narrow blocks dgeqrt's recursive panel
 * and dlarfb calls cost more than they save: 45 x 22 (the shape of a stats
 * merge) 0.99 s vs 0.40 s, 200 x 16 0.20 s vs 0.14 s, 960 x 6 0.060 s vs
 * 0.052 s.  The crossover sits near m n^2 = 1.3e5 for n >= 10; block sizes
 * 4 and 16 were within 5% of 8, and 8 was best from 30 columns up.  The
 * choice depends only on the shape, so the same block always gives the same
 * bits.
 */
#define QR_BLOCK 8
#define QR_GEQRT_MIN_COLS 10
#define QR_GEQRT_MIN_WORK 131072.0	/* m n^2 */

mlc_status
mlc_qr_r(int m, int n, double *A, double *R, mlc_error *err)
{
	double	   *tau;
	mlc_status	st;
	int			i,
				j,
				k;

	if (m < 0 || n < 1 || !shape_ok(m, n) || !shape_ok(n, n))
		return mlc_fail(err, MLC_EINVAL, NULL,
						"invalid QR shape %d x %d", m, n);
	if (R == NULL || (m > 0 && A == NULL))
		return mlc_fail(err, MLC_EINVAL, NULL, "QR called with a NULL matrix");

	if (m == 0)
	{
		memset(R, 0, sizeof(double) * (size_t) n * (size_t) n);
		return MLC_OK;
	}

	k = m < n ? m : n;
	if (n >= QR_GEQRT_MIN_COLS &&
		(double) m * (double) n * (double) n >= QR_GEQRT_MIN_WORK)
		st = geqrt(m, n, k < QR_BLOCK ? k : QR_BLOCK, A, err);
	else
	{
		tau = mlc_alloc(sizeof(double) * (size_t) k);
		if (tau == NULL)
			return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for QR");
		st = geqrf(m, n, A, tau, err);
		mlc_free(tau);
	}
	if (st != MLC_OK)
		return st;

	for (j = 0; j < n; j++)
		for (i = 0; i < n; i++)
			R[i + (size_t) j * n] =
				(i <= j && i < m) ? A[i + (size_t) j * m] : 0.0;
	return MLC_OK;
}

mlc_status
mlc_qr_stack(int n, const double *R1, const double *R2, double *Rout,
			 mlc_error *err)
{
	double	   *S;
	mlc_status	st;
	int			i,
				j;

	if (n < 1 || n > INT_MAX / 2 || !shape_ok(2 * n, n))
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid R size %d", n);
	if (R1 == NULL || R2 == NULL || Rout == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"QR stack called with a NULL matrix");

	/* S = [R1; R2], 2n x n; only the upper triangles are read. */
	S = mlc_alloc(sizeof(double) * (size_t) 2 * n * n);
	if (S == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for QR stack");
	for (j = 0; j < n; j++)
	{
		double	   *col = S + (size_t) j * 2 * n;

		for (i = 0; i < n; i++)
		{
			col[i] = i <= j ? R1[i + (size_t) j * n] : 0.0;
			col[n + i] = i <= j ? R2[i + (size_t) j * n] : 0.0;
		}
	}
	st = mlc_qr_r(2 * n, n, S, Rout, err);
	mlc_free(S);
	return st;
}

mlc_status
mlc_singular_values(int n, const double *A, double *sv, mlc_error *err)
{
	double	   *a;
	double	   *work;
	double		wq = 0.0;
	double		dummy = 0.0;
	size_t		i;
	lapack_int	lwork;
	lapack_int	info;

	if (n < 0 || !shape_ok(n, n))
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid matrix size %d", n);
	if (n == 0)
		return MLC_OK;
	if (A == NULL || sv == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"singular values called with a NULL matrix");
	for (i = 0; i < (size_t) n * n; i++)
		if (!isfinite(A[i]))
			return mlc_fail(err, MLC_EINVAL, NULL,
							"singular values of a matrix with non-finite entries");

	info = LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'N', 'N', n, n, &dummy, n,
							   sv, &dummy, 1, &dummy, 1, &wq, -1);
	if (info != 0)
		return mlc_fail(err, MLC_ELAPACK, NULL,
						"dgesvd workspace query failed with info %d", (int) info);
	if (!(wq >= 1.0) || wq > (double) INT_MAX)
		wq = (double) (5 * n);
	lwork = (lapack_int) wq;
	if (lwork < 5 * n)
		lwork = 5 * n;

	a = mlc_alloc(sizeof(double) * (size_t) n * n);
	work = mlc_alloc(sizeof(double) * (size_t) lwork);
	if (a == NULL || work == NULL)
	{
		mlc_free(a);
		mlc_free(work);
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for SVD");
	}
	memcpy(a, A, sizeof(double) * (size_t) n * n);
	info = LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'N', 'N', n, n, a, n,
							   sv, &dummy, 1, &dummy, 1, work, lwork);
	mlc_free(a);
	mlc_free(work);
	if (info < 0)
		return mlc_fail(err, MLC_ELAPACK, NULL,
						"dgesvd failed with info %d", (int) info);
	if (info > 0)
		return mlc_fail(err, MLC_ELAPACK, NULL,
						"dgesvd did not converge (%d superdiagonals)", (int) info);
	return MLC_OK;
}

int
mlc_blas_threads(void)
{
	return openblas_get_num_threads();
}

int
mlc_blas_is_sequential(void)
{
	return openblas_get_parallel() == 0;
}
