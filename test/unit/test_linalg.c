/*
 * test_linalg.c: QR factor, stacking, singular values, BLAS build checks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static void
fill_random(double *A, size_t count, uint64_t seed)
{
	uint64_t	s = seed;
	size_t		i;

	for (i = 0; i < count; i++)
		A[i] = unit_rand_normal(&s) * (1.0 + (double) (i % 7));
}

/* max |(R^T R - A^T A)_ij| / max |(A^T A)_ij| */
static double
gram_error(int m, int n, const double *A, const double *R)
{
	double		maxd = 0.0,
				maxg = 0.0;
	int			i,
				j,
				k;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
		{
			double		g = 0.0,
						r = 0.0;

			for (k = 0; k < m; k++)
				g += A[k + (size_t) i * m] * A[k + (size_t) j * m];
			for (k = 0; k < n; k++)
				r += R[k + (size_t) i * n] * R[k + (size_t) j * n];
			if (fabs(g) > maxg)
				maxg = fabs(g);
			if (fabs(g - r) > maxd)
				maxd = fabs(g - r);
		}
	return maxd / maxg;
}

static void
test_qr_gram(void **state)
{
	int			m = 50,
				n = 6,
				i,
				j;
	double	   *A = malloc(sizeof(double) * m * n);
	double	   *W = malloc(sizeof(double) * m * n);
	double		R[36];
	mlc_error	err;

	fill_random(A, (size_t) m * n, 42);
	memcpy(W, A, sizeof(double) * m * n);
	memset(R, 0x7f, sizeof(R));
	assert_int_equal(mlc_qr_r(m, n, W, R, &err), MLC_OK);
	assert_true(gram_error(m, n, A, R) < 1e-14);
	for (j = 0; j < n; j++)
		for (i = j + 1; i < n; i++)
			assert_true(R[i + j * n] == 0.0);
	free(A);
	free(W);
}

static void
test_qr_short(void **state)
{
	/* m < n: the missing rows of R are zero and R^T R = A^T A still */
	double		A[8] = {1, 2, 3, -1, 0.5, 4, -2, 7};	/* 2 x 4 */
	double		W[8];
	double		R[16];
	mlc_error	err;
	int			j;

	memcpy(W, A, sizeof(A));
	assert_int_equal(mlc_qr_r(2, 4, W, R, &err), MLC_OK);
	for (j = 0; j < 4; j++)
	{
		assert_true(R[2 + j * 4] == 0.0);
		assert_true(R[3 + j * 4] == 0.0);
	}
	assert_true(gram_error(2, 4, A, R) < 1e-14);

	/* m == 0: all-zero R */
	memset(R, 0x55, sizeof(R));
	assert_int_equal(mlc_qr_r(0, 4, NULL, R, &err), MLC_OK);
	for (j = 0; j < 16; j++)
		assert_true(R[j] == 0.0);
}

static void
test_qr_stack_equals_whole(void **state)
{
	int			m1 = 30,
				m2 = 21,
				n = 5,
				i,
				j;
	int			m = m1 + m2;
	double	   *A = malloc(sizeof(double) * m * n);
	double	   *A1 = malloc(sizeof(double) * m1 * n);
	double	   *A2 = malloc(sizeof(double) * m2 * n);
	double		R1[25],
				R2[25],
				Rs[25],
				Rw[25],
				Ra[25];
	mlc_error	err;

	fill_random(A, (size_t) m * n, 7);
	for (j = 0; j < n; j++)
	{
		for (i = 0; i < m1; i++)
			A1[i + j * m1] = A[i + j * m];
		for (i = 0; i < m2; i++)
			A2[i + j * m2] = A[m1 + i + j * m];
	}
	assert_int_equal(mlc_qr_r(m1, n, A1, R1, &err), MLC_OK);
	assert_int_equal(mlc_qr_r(m2, n, A2, R2, &err), MLC_OK);
	assert_int_equal(mlc_qr_stack(n, R1, R2, Rs, &err), MLC_OK);
	assert_int_equal(mlc_qr_r(m, n, A, Rw, &err), MLC_OK);

	/* R is unique up to the signs of its rows */
	for (i = 0; i < n; i++)
	{
		double		s = (Rs[i + i * n] < 0) == (Rw[i + i * n] < 0) ? 1.0 : -1.0;
		double		scale = fabs(Rw[i + i * n]);

		for (j = i; j < n; j++)
			assert_true(fabs(s * Rs[i + j * n] - Rw[i + j * n]) <= 1e-13 * scale * 10);
	}

	/* Rout may alias R1 and gives the same bits */
	memcpy(Ra, R1, sizeof(R1));
	assert_int_equal(mlc_qr_stack(n, Ra, R2, Ra, &err), MLC_OK);
	assert_memory_equal(Ra, Rs, sizeof(Rs));
	free(A);
	free(A1);
	free(A2);
}

/*
 * Tall-skinny blocks go through dgeqrt (n >= 10 and m n^2 >= 131072), the
 * others through dgeqrf: both give R^T R = A^T A, a zero strictly lower
 * part, the same bits run to run, and R factors that agree up to row signs
 * (a dgeqrt block against the dgeqrf stack of its two halves).
 */
static void
test_qr_blocked_shapes(void **state)
{
	static const int shapes[][2] = {{960, 22}, {2000, 10}, {960, 9}, {1311, 10},
	{1000, 64}, {5, 200}, {300, 40}};
	size_t		t;
	int			i,
				j;
	mlc_error	err;

	for (t = 0; t < sizeof(shapes) / sizeof(shapes[0]); t++)
	{
		int			m = shapes[t][0],
					n = shapes[t][1];
		double	   *A = malloc(sizeof(double) * m * n);
		double	   *W = malloc(sizeof(double) * m * n);
		double	   *R = malloc(sizeof(double) * n * n);
		double	   *R2 = malloc(sizeof(double) * n * n);

		fill_random(A, (size_t) m * n, 1000 + t);
		memcpy(W, A, sizeof(double) * m * n);
		memset(R, 0x7f, sizeof(double) * n * n);
		assert_int_equal(mlc_qr_r(m, n, W, R, &err), MLC_OK);
		assert_true(gram_error(m, n, A, R) < 1e-13);
		for (j = 0; j < n; j++)
			for (i = j + 1; i < n; i++)
				assert_true(R[i + (size_t) j * n] == 0.0);
		for (j = 0; j < n; j++)
			for (i = m; i < n; i++)
				assert_true(R[i + (size_t) j * n] == 0.0);
		memcpy(W, A, sizeof(double) * m * n);
		assert_int_equal(mlc_qr_r(m, n, W, R2, &err), MLC_OK);
		assert_memory_equal(R, R2, sizeof(double) * n * n);
		free(A);
		free(W);
		free(R);
		free(R2);
	}

	/* 960 x 22 (dgeqrt) against the stack of its 200-row (dgeqrf) and
	 * 760-row (dgeqrt) parts */
	{
		int			m = 960,
					h = 200,
					n = 22;
		double	   *A = malloc(sizeof(double) * m * n);
		double	   *A1 = malloc(sizeof(double) * h * n);
		double	   *A2 = malloc(sizeof(double) * (m - h) * n);
		double		R1[22 * 22],
					R2[22 * 22],
					Rs[22 * 22],
					Rw[22 * 22];

		fill_random(A, (size_t) m * n, 77);
		for (j = 0; j < n; j++)
		{
			for (i = 0; i < h; i++)
				A1[i + j * h] = A[i + j * m];
			for (i = h; i < m; i++)
				A2[i - h + j * (m - h)] = A[i + j * m];
		}
		/* 200 x 22: dgeqrf; 760 x 22: dgeqrt; 960 x 22: dgeqrt */
		assert_int_equal(mlc_qr_r(h, n, A1, R1, &err), MLC_OK);
		assert_int_equal(mlc_qr_r(m - h, n, A2, R2, &err), MLC_OK);
		assert_int_equal(mlc_qr_stack(n, R1, R2, Rs, &err), MLC_OK);
		assert_int_equal(mlc_qr_r(m, n, A, Rw, &err), MLC_OK);
		for (i = 0; i < n; i++)
		{
			double		sg = (Rs[i + i * n] < 0) == (Rw[i + i * n] < 0) ? 1.0 : -1.0;
			double		scale = fabs(Rw[i + i * n]);

			for (j = i; j < n; j++)
				assert_true(fabs(sg * Rs[i + j * n] - Rw[i + j * n]) <= 1e-12 * scale);
		}
		free(A);
		free(A1);
		free(A2);
	}
}

static void
test_qr_invalid(void **state)
{
	double		A[4] = {1, 2, 3, 4};
	double		R[4];
	mlc_error	err;

	assert_int_equal(mlc_qr_r(-1, 2, A, R, &err), MLC_EINVAL);
	assert_int_equal(err.code, MLC_EINVAL);
	assert_non_null(strstr(err.msg, "invalid QR shape"));
	assert_int_equal(mlc_qr_r(2, 0, A, R, &err), MLC_EINVAL);
	assert_int_equal(mlc_qr_r(2, 2, NULL, R, &err), MLC_EINVAL);
	assert_int_equal(mlc_qr_r(2, 2, A, NULL, NULL), MLC_EINVAL);
	assert_int_equal(mlc_qr_stack(0, A, A, R, &err), MLC_EINVAL);
	assert_int_equal(mlc_qr_stack(2, NULL, A, R, &err), MLC_EINVAL);
	assert_int_equal(mlc_singular_values(-1, A, R, &err), MLC_EINVAL);
}

static void
test_singular_values(void **state)
{
	/* [[1, 1], [0, 1]] (column-major): golden ratio and its inverse */
	double		A[4] = {1, 0, 1, 1};
	double		D[9] = {3, 0, 0, 0, -5, 0, 0, 0, 0.5};
	double		N[4] = {1, 0, NAN, 1};
	double		phi = (1.0 + sqrt(5.0)) / 2.0;
	double		sv[3];
	mlc_error	err;

	assert_int_equal(mlc_singular_values(2, A, sv, &err), MLC_OK);
	assert_true(fabs(sv[0] - phi) < 1e-15 * 4);
	assert_true(fabs(sv[1] - 1.0 / phi) < 1e-15 * 4);
	assert_true(A[2] == 1.0);	/* input untouched */

	assert_int_equal(mlc_singular_values(3, D, sv, &err), MLC_OK);
	assert_true(sv[0] == 5.0 && sv[1] == 3.0 && sv[2] == 0.5);

	assert_int_equal(mlc_singular_values(0, NULL, NULL, &err), MLC_OK);
	assert_int_equal(mlc_singular_values(2, N, sv, &err), MLC_EINVAL);
}

static void
test_blas_build(void **state)
{
	/* the unit tests link the sequential OpenBLAS, as the backend does */
	assert_true(mlc_blas_threads() >= 1);
	assert_int_equal(mlc_blas_is_sequential(), 1);
}

int
run_linalg_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qr_gram),
		cmocka_unit_test(test_qr_short),
		cmocka_unit_test(test_qr_stack_equals_whole),
		cmocka_unit_test(test_qr_blocked_shapes),
		cmocka_unit_test(test_qr_invalid),
		cmocka_unit_test(test_singular_values),
		cmocka_unit_test(test_blas_build),
	};

	return cmocka_run_group_tests_name("linalg", tests, NULL, NULL);
}
