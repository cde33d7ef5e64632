/*
 * test_linear.c: chunked linear/ridge regression, inference, prediction,
 * metrics and the refinement pass, checked against naive computations
 * done here in long double.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* Solve M x = rhs (k x k, row-major, long double) by Gaussian elimination
 * with partial pivoting; M and rhs are destroyed, x overwrites rhs. */
static void
gauss_solve(int k, long double *M, long double *rhs, int nrhs)
{
	int			i,
				j,
				c,
				r;

	for (c = 0; c < k; c++)
	{
		int			piv = c;

		for (r = c + 1; r < k; r++)
			if (fabsl(M[r * k + c]) > fabsl(M[piv * k + c]))
				piv = r;
		if (piv != c)
		{
			for (j = 0; j < k; j++)
			{
				long double t = M[c * k + j];

				M[c * k + j] = M[piv * k + j];
				M[piv * k + j] = t;
			}
			for (j = 0; j < nrhs; j++)
			{
				long double t = rhs[c * nrhs + j];

				rhs[c * nrhs + j] = rhs[piv * nrhs + j];
				rhs[piv * nrhs + j] = t;
			}
		}
		for (r = c + 1; r < k; r++)
		{
			long double f = M[r * k + c] / M[c * k + c];

			for (j = c; j < k; j++)
				M[r * k + j] -= f * M[c * k + j];
			for (j = 0; j < nrhs; j++)
				rhs[r * nrhs + j] -= f * rhs[c * nrhs + j];
		}
	}
	for (i = k - 1; i >= 0; i--)
		for (j = 0; j < nrhs; j++)
		{
			long double s = rhs[i * nrhs + j];

			for (c = i + 1; c < k; c++)
				s -= M[i * k + c] * rhs[c * nrhs + j];
			rhs[i * nrhs + j] = s / M[i * k + i];
		}
}

/*
 * Naive OLS with an explicit intercept column A = [1 X]: b = (A^T A)^-1 A^T y,
 * with Cov = sigma^2 (A^T A)^-1.  out: coef[p + 1] (intercept first),
 * se[p + 1], rss.
 */
static void
naive_ols(int n, int p, const double *X, const double *y, double *coef,
		  double *se, double *rss)
{
	int			k = p + 1,
				i,
				j,
				r;
	long double *M = calloc((size_t) k * k, sizeof(long double));
	long double *M2 = calloc((size_t) k * k, sizeof(long double));
	long double *rhs = calloc((size_t) k, sizeof(long double));
	long double *inv = calloc((size_t) k * k, sizeof(long double));
	long double s = 0;

	for (i = 0; i < k; i++)
		for (j = 0; j < k; j++)
			for (r = 0; r < n; r++)
				M[i * k + j] += (long double) (i == 0 ? 1.0 : X[r + (size_t) (i - 1) * n]) *
					(j == 0 ? 1.0 : X[r + (size_t) (j - 1) * n]);
	for (i = 0; i < k; i++)
		for (r = 0; r < n; r++)
			rhs[i] += (long double) (i == 0 ? 1.0 : X[r + (size_t) (i - 1) * n]) * y[r];
	memcpy(M2, M, sizeof(long double) * k * k);
	for (i = 0; i < k; i++)
		inv[i * k + i] = 1;
	gauss_solve(k, M, rhs, 1);
	gauss_solve(k, M2, inv, k);
	for (r = 0; r < n; r++)
	{
		long double f = rhs[0];

		for (j = 1; j < k; j++)
			f += rhs[j] * X[r + (size_t) (j - 1) * n];
		s += (y[r] - f) * (y[r] - f);
	}
	*rss = (double) s;
	for (i = 0; i < k; i++)
	{
		coef[i] = (double) rhs[i];
		se[i] = sqrt((double) (s / (n - p - 1) * inv[i * k + i]));
	}
	free(M);
	free(M2);
	free(rhs);
	free(inv);
}

/* Naive ridge on centered data: (Xc^T Xc + alpha I) b = Xc^T yc. */
static void
naive_ridge(int n, int p, const double *X, const double *y, double alpha,
			double *coef)
{
	long double *M = calloc((size_t) p * p, sizeof(long double));
	long double *rhs = calloc((size_t) p, sizeof(long double));
	long double *mx = calloc((size_t) p, sizeof(long double));
	long double my = 0,
				a;
	int			i,
				j,
				r;

	for (r = 0; r < n; r++)
		my += y[r];
	my /= n;
	for (j = 0; j < p; j++)
	{
		for (r = 0; r < n; r++)
			mx[j] += X[r + (size_t) j * n];
		mx[j] /= n;
	}
	for (i = 0; i < p; i++)
	{
		for (j = 0; j < p; j++)
			for (r = 0; r < n; r++)
				M[i * p + j] += (X[r + (size_t) i * n] - mx[i]) * (X[r + (size_t) j * n] - mx[j]);
		M[i * p + i] += alpha;
		for (r = 0; r < n; r++)
			rhs[i] += (X[r + (size_t) i * n] - mx[i]) * (y[r] - my);
	}
	gauss_solve(p, M, rhs, 1);
	a = my;
	for (j = 0; j < p; j++)
	{
		coef[j + 1] = (double) rhs[j];
		a -= mx[j] * rhs[j];
	}
	coef[0] = (double) a;
	free(M);
	free(rhs);
	free(mx);
}

/* Random regression data: X n x p, y = 1.5 + sum_j (j + 1) x_j * (-1)^j + noise */
static void
make_data(int n, int p, double noise, uint64_t seed, double **X, double **y)
{
	uint64_t	s = seed;
	int			i,
				j;

	*X = malloc(sizeof(double) * (size_t) n * (p > 0 ? p : 1));
	*y = malloc(sizeof(double) * (size_t) n);
	for (i = 0; i < n; i++)
	{
		double		v = 1.5;

		for (j = 0; j < p; j++)
		{
			double		x = unit_rand_normal(&s) * (j + 1) + 10.0 * j;

			(*X)[i + (size_t) j * n] = x;
			v += (j % 2 ? -1.0 : 1.0) * (j + 1) * x;
		}
		(*y)[i] = v + noise * unit_rand_normal(&s);
	}
}

static void
test_ols_exact(void **state)
{
	int			n = 10,
				i;
	double		X[20],
				y[10];
	mlc_linear_model m;
	mlc_linear_summary s;
	mlc_error	err;

	for (i = 0; i < n; i++)
	{
		X[i] = i;
		X[n + i] = (i * i) % 7 + 0.5 * i;
		y[i] = 3.0 + 2.0 * X[i] - X[n + i];
	}
	assert_int_equal(unit_fit_chunked(n, 2, X, y, 3, 0.0, &m, &s, NULL, &err), MLC_OK);
	assert_int_equal(m.p, 2);
	assert_true(fabs(m.intercept - 3.0) < 1e-12);
	assert_true(fabs(m.coef[0] - 2.0) < 1e-13);
	assert_true(fabs(m.coef[1] + 1.0) < 1e-13);
	assert_true(s.rss < 1e-24);
	assert_true(fabs(s.r2 - 1.0) < 1e-14);
	assert_int_equal(s.n, 10);
	assert_int_equal(s.p, 2);
	assert_int_equal(s.dependent_feature, -1);
	assert_true(s.condition_number >= 1.0 && isfinite(s.condition_number));
	unit_free_fit(&m, &s);
}

static void
test_chunking_independence(void **state)
{
	int			n = 1000,
				p = 5,
				t,
				j;
	int			chunkings[] = {1000, 7, 64, 333, 1, 999};
	double	   *X,
			   *y;
	mlc_linear_model ref,
				m,
				m2;
	mlc_linear_summary s;
	mlc_error	err;
	double		R1[36],
				R2[36];

	make_data(n, p, 0.5, 11, &X, &y);
	assert_int_equal(unit_fit_chunked(n, p, X, y, 1000, 0.0, &ref, NULL, NULL, &err), MLC_OK);
	for (t = 0; t < 6; t++)
	{
		assert_int_equal(unit_fit_chunked(n, p, X, y, chunkings[t], 0.0, &m, &s, R1, &err), MLC_OK);
		assert_true(unit_reldiff(m.intercept, ref.intercept) < 1e-12);
		for (j = 0; j < p; j++)
			assert_true(unit_reldiff(m.coef[j], ref.coef[j]) < 1e-12);
		/* the same chunks always give the same bits */
		assert_int_equal(unit_fit_chunked(n, p, X, y, chunkings[t], 0.0, &m2, NULL, R2, &err), MLC_OK);
		assert_memory_equal(R1, R2, sizeof(R1));
		assert_memory_equal(&m.intercept, &m2.intercept, sizeof(double));
		assert_memory_equal(m.coef, m2.coef, sizeof(double) * p);
		unit_free_fit(&m, &s);
		unit_free_fit(&m2, NULL);
	}
	unit_free_fit(&ref, NULL);
	free(X);
	free(y);
}

/* The tree is ((0,1),(2,3)),4 for 5 chunks, whoever computed the chunks. */
static void
test_tree_shape(void **state)
{
	int			n = 60,
				p = 3,
				p1 = 4,
				c,
				i,
				j;
	size_t		sz = 16;
	double	   *X,
			   *y;
	double		means[4] = {0, 0, 0, 0};
	double		Rs[5 * 16],
				Rrev[5 * 16],
				A[16],
				B[16],
				C[16],
				D[16];
	double		Xc[12 * 3],
				yc[12];
	mlc_error	err;

	make_data(n, p, 1.0, 3, &X, &y);
	for (j = 0; j < p; j++)
	{
		for (i = 0; i < n; i++)
			means[j] += X[i + j * n];
		means[j] /= n;
	}
	for (i = 0; i < n; i++)
		means[p] += y[i];
	means[p] /= n;

	/* chunk factors computed in forward and in reverse order */
	for (c = 0; c < 5; c++)
	{
		int			cc = 4 - c;
		mlc_block	b;

		for (j = 0; j < p; j++)
			for (i = 0; i < 12; i++)
				Xc[i + j * 12] = X[cc * 12 + i + j * n];
		for (i = 0; i < 12; i++)
			yc[i] = y[cc * 12 + i];
		b.n = 12;
		b.p = p;
		b.X = Xc;
		b.y = yc;
		assert_int_equal(mlc_linear_chunk_r(&b, means, Rrev + sz * cc, &err), MLC_OK);
	}
	for (c = 0; c < 5; c++)
	{
		mlc_block	b;

		for (j = 0; j < p; j++)
			for (i = 0; i < 12; i++)
				Xc[i + j * 12] = X[c * 12 + i + j * n];
		for (i = 0; i < 12; i++)
			yc[i] = y[c * 12 + i];
		b.n = 12;
		b.p = p;
		b.X = Xc;
		b.y = yc;
		assert_int_equal(mlc_linear_chunk_r(&b, means, Rs + sz * c, &err), MLC_OK);
	}
	assert_memory_equal(Rs, Rrev, sizeof(Rs));

	assert_int_equal(mlc_qr_stack(p1, Rs, Rs + sz, A, &err), MLC_OK);
	assert_int_equal(mlc_qr_stack(p1, Rs + 2 * sz, Rs + 3 * sz, B, &err), MLC_OK);
	assert_int_equal(mlc_qr_stack(p1, A, B, C, &err), MLC_OK);
	assert_int_equal(mlc_qr_stack(p1, C, Rs + 4 * sz, D, &err), MLC_OK);
	assert_int_equal(mlc_r_tree_combine(p1, 5, Rs, &err), MLC_OK);
	assert_memory_equal(Rs, D, sizeof(D));

	/* one chunk: untouched */
	memcpy(A, Rrev, sizeof(A));
	assert_int_equal(mlc_r_tree_combine(p1, 1, Rrev, &err), MLC_OK);
	assert_memory_equal(A, Rrev, sizeof(A));
	assert_int_equal(mlc_r_tree_combine(0, 1, Rrev, &err), MLC_EINVAL);
	assert_int_equal(mlc_r_tree_combine(p1, 0, Rrev, &err), MLC_EINVAL);
	assert_int_equal(mlc_r_tree_combine(p1, 2, NULL, &err), MLC_EINVAL);
	free(X);
	free(y);
}

static void
test_ridge_closed_form(void **state)
{
	int			n = 200,
				p = 4,
				a,
				j,
				applied;
	double		alphas[] = {1e-6, 0.1, 10, 1000, 1e6};
	double	   *X,
			   *y;
	double		naive[5];
	mlc_linear_model m;
	mlc_linear_summary s;
	mlc_error	err;

	make_data(n, p, 2.0, 21, &X, &y);
	for (a = 0; a < 5; a++)
	{
		naive_ridge(n, p, X, y, alphas[a], naive);
		assert_int_equal(unit_fit_chunked(n, p, X, y, 17, alphas[a], &m, &s, NULL, &err), MLC_OK);
		assert_true(unit_reldiff(m.intercept, naive[0]) < 1e-11);
		for (j = 0; j < p; j++)
			assert_true(unit_reldiff(m.coef[j], naive[j + 1]) < 1e-11);
		for (j = 0; j <= p; j++)
		{
			assert_true(isnan(s.std_error[j]));
			assert_true(isnan(s.t_stat[j]));
			assert_true(isnan(s.p_value[j]));
		}
		assert_true(s.r2 < 1.0 && s.r2 > 0.0);
		assert_int_equal(s.dependent_feature, -1);
		unit_free_fit(&m, &s);

		/* with the refinement pass: at least as close */
		assert_int_equal(unit_fit_refined(n, p, X, y, 17, alphas[a], &m, &s, &applied, &err), MLC_OK);
		assert_int_equal(applied, 1);
		assert_true(unit_reldiff(m.intercept, naive[0]) < 1e-13);
		for (j = 0; j < p; j++)
			assert_true(unit_reldiff(m.coef[j], naive[j + 1]) < 1e-13);
		unit_free_fit(&m, &s);
	}
	/* a huge penalty shrinks the slopes to ~0 and the intercept to mean y */
	assert_int_equal(unit_fit_chunked(n, p, X, y, 50, 1e250, &m, NULL, NULL, &err), MLC_OK);
	for (j = 0; j < p; j++)
		assert_true(fabs(m.coef[j]) < 1e-200);
	unit_free_fit(&m, NULL);
	free(X);
	free(y);
}

static void
test_singular_detection(void **state)
{
	int			n = 40,
				i;
	double		X[40 * 4],
				y[40];
	uint64_t	rng = 8;
	mlc_linear_model m;
	mlc_linear_summary s;
	mlc_error	err;

	for (i = 0; i < n; i++)
	{
		X[i] = unit_rand_normal(&rng);
		X[n + i] = unit_rand_normal(&rng);
		X[2 * n + i] = X[i] + 2.0 * X[n + i];	/* dependent */
		X[3 * n + i] = unit_rand_normal(&rng);
		y[i] = X[i] - X[3 * n + i] + 0.1 * unit_rand_normal(&rng);
	}
	assert_int_equal(unit_fit_chunked(n, 4, X, y, 9, 0.0, &m, &s, NULL, &err), MLC_ESINGULAR);
	assert_int_equal(s.dependent_feature, 2);
	assert_int_equal(err.code, MLC_ESINGULAR);
	assert_non_null(strstr(err.msg, "feature 2"));
	assert_null(m.coef);
	assert_null(s.std_error);

	/* ridge copes with the same data */
	assert_int_equal(unit_fit_chunked(n, 4, X, y, 9, 0.5, &m, &s, NULL, &err), MLC_OK);
	assert_int_equal(s.dependent_feature, -1);
	unit_free_fit(&m, &s);

	/* a constant column is collinear with the intercept */
	for (i = 0; i < n; i++)
		X[n + i] = 7.25;
	assert_int_equal(unit_fit_chunked(n, 4, X, y, 9, 0.0, &m, &s, NULL, &err), MLC_ESINGULAR);
	assert_int_equal(s.dependent_feature, 1);
	assert_non_null(strstr(err.msg, "feature 1 is constant"));

	/* an exact copy of an earlier column */
	for (i = 0; i < n; i++)
	{
		X[n + i] = unit_rand_normal(&rng);
		X[3 * n + i] = X[n + i];
		X[2 * n + i] = unit_rand_normal(&rng);
	}
	assert_int_equal(unit_fit_chunked(n, 4, X, y, 40, 0.0, &m, &s, NULL, &err), MLC_ESINGULAR);
	assert_int_equal(s.dependent_feature, 3);
}

static void
test_textbook_inference(void **state)
{
	/* x = 1..5, y = 2 4 5 4 5: b = 0.6, a = 2.2, rss = 2.4, sigma^2 = 0.8 */
	double		X[5] = {1, 2, 3, 4, 5};
	double		y[5] = {2, 4, 5, 4, 5};
	double		t,
				pv;
	mlc_linear_model m;
	mlc_linear_summary s;
	mlc_error	err;

	assert_int_equal(unit_fit_chunked(5, 1, X, y, 2, 0.0, &m, &s, NULL, &err), MLC_OK);
	assert_true(fabs(m.intercept - 2.2) < 1e-14);
	assert_true(fabs(m.coef[0] - 0.6) < 1e-14);
	assert_true(fabs(s.rss - 2.4) < 1e-13);
	assert_true(fabs(s.tss - 6.0) < 1e-13);
	assert_true(fabs(s.r2 - 0.6) < 1e-14);
	assert_true(fabs(s.adj_r2 - (1.0 - 0.4 * 4.0 / 3.0)) < 1e-14);
	assert_true(fabs(s.residual_sd - sqrt(0.8)) < 1e-14);
	assert_true(fabs(s.std_error[1] - sqrt(0.08)) < 1e-14);
	assert_true(fabs(s.std_error[0] - sqrt(0.88)) < 1e-14);
	assert_true(fabs(s.t_stat[1] - 0.6 / sqrt(0.08)) < 1e-13);
	assert_true(fabs(s.t_stat[0] - 2.2 / sqrt(0.88)) < 1e-13);
	/* df = 3 has a closed-form t distribution */
	t = 0.6 / sqrt(0.08);
	pv = 1.0 - 2.0 / M_PI * (t / (sqrt(3.0) * (1.0 + t * t / 3.0)) + atan(t / sqrt(3.0)));
	assert_true(unit_reldiff(s.p_value[1], pv) < 1e-12);
	assert_true(unit_reldiff(s.p_value[1], 0.12402706265755463446) < 1e-12);
	assert_true(fabs(s.condition_number - 1.0) < 1e-15);
	unit_free_fit(&m, &s);
}

static void
test_inference_vs_naive(void **state)
{
	int			n = 30,
				p = 3,
				j;
	double	   *X,
			   *y;
	double		coef[4],
				se[4],
				rss;
	double		df = 30 - 3 - 1;
	mlc_linear_model m;
	mlc_linear_summary s;
	mlc_error	err;

	make_data(n, p, 3.0, 77, &X, &y);
	naive_ols(n, p, X, y, coef, se, &rss);
	assert_int_equal(unit_fit_chunked(n, p, X, y, 4, 0.0, &m, &s, NULL, &err), MLC_OK);
	assert_true(unit_reldiff(m.intercept, coef[0]) < 1e-11);
	assert_true(unit_reldiff(s.rss, rss) < 1e-11);
	assert_true(unit_reldiff(s.residual_sd, sqrt(rss / df)) < 1e-11);
	for (j = 0; j <= p; j++)
	{
		double		c = j == 0 ? m.intercept : m.coef[j - 1];

		assert_true(unit_reldiff(c, coef[j]) < 1e-11);
		assert_true(unit_reldiff(s.std_error[j], se[j]) < 1e-10);
		assert_true(unit_reldiff(s.t_stat[j], coef[j] / se[j]) < 1e-10);
		assert_true(unit_reldiff(s.p_value[j], mlc_t_pvalue(coef[j] / se[j], df)) < 1e-8);
		assert_true(s.p_value[j] >= 0.0 && s.p_value[j] <= 1.0);
	}
	assert_true(unit_reldiff(s.adj_r2, 1.0 - (1.0 - s.r2) * (n - 1) / df) < 1e-13);
	unit_free_fit(&m, &s);
	free(X);
	free(y);
}

static void
test_intercept_only(void **state)
{
	double		y[5] = {1, 2, 3, 4, 10};
	mlc_linear_model m;
	mlc_linear_summary s;
	mlc_error	err;

	assert_int_equal(unit_fit_chunked(5, 0, NULL, y, 2, 0.0, &m, &s, NULL, &err), MLC_OK);
	assert_int_equal(m.p, 0);
	assert_true(fabs(m.intercept - 4.0) < 1e-15);
	assert_true(fabs(s.tss - 50.0) < 1e-12);
	assert_true(fabs(s.rss - 50.0) < 1e-12);
	assert_true(fabs(s.r2) < 1e-15);
	assert_true(fabs(s.residual_sd - sqrt(12.5)) < 1e-14);
	assert_true(fabs(s.std_error[0] - sqrt(2.5)) < 1e-14);
	assert_true(fabs(s.t_stat[0] - 4.0 / sqrt(2.5)) < 1e-13);
	assert_true(isnan(s.condition_number));
	assert_true(mlc_linear_predict(&m, NULL) == m.intercept);
	unit_free_fit(&m, &s);
}

static void
test_row_count_edges(void **state)
{
	double		X[12] = {1, 2, 4, 8, 3, 1, 0, 5, 2, 2, 9, 1};
	double		y[6] = {1, 0, 3, 2, 2, 7};
	double		R[9] = {0};
	double		means[3] = {0, 0, 0};
	mlc_linear_model m;
	mlc_linear_summary s;
	mlc_error	err;
	int			j;

	/* no rows */
	assert_int_equal(mlc_linear_solve(2, R, means, 0, 0.0, &m, &s, &err), MLC_ENODATA);
	assert_null(m.coef);
	/* n <= p for OLS */
	assert_int_equal(unit_fit_chunked(2, 2, X, y, 2, 0.0, &m, &s, NULL, &err), MLC_ENODATA);
	assert_non_null(strstr(err.msg, "not enough rows"));
	/* n = p + 1: exact fit, no residual degrees of freedom */
	assert_int_equal(unit_fit_chunked(3, 2, X, y, 2, 0.0, &m, &s, NULL, &err), MLC_OK);
	assert_true(s.rss < 1e-25);
	assert_true(isnan(s.adj_r2));
	assert_true(isnan(s.residual_sd));
	for (j = 0; j < 3; j++)
	{
		assert_true(isnan(s.std_error[j]));
		assert_true(isnan(s.p_value[j]));
	}
	unit_free_fit(&m, &s);
	/* wide ridge: 2 rows, 6 features */
	assert_int_equal(unit_fit_chunked(2, 6, X, y, 1, 1.0, &m, &s, NULL, &err), MLC_OK);
	unit_free_fit(&m, &s);
	/* summary may be NULL */
	assert_int_equal(unit_fit_chunked(6, 2, X, y, 4, 0.0, &m, NULL, NULL, &err), MLC_OK);
	unit_free_fit(&m, NULL);
}

static void
test_argument_validation(void **state)
{
	double		X[6] = {1, 2, 3, 4, 5, 7};
	double		y[3] = {1, 2, 4};
	double		means[3] = {2, 5, 2};
	double		R[9];
	double		bad[9] = {1, 0, 0, 1, 1, 0, 1, 1, NAN};
	mlc_block	b;
	mlc_linear_model m;
	mlc_error	err;

	b.n = 3;
	b.p = 2;
	b.X = X;
	b.y = y;
	assert_int_equal(mlc_linear_chunk_r(&b, means, R, &err), MLC_OK);
	assert_int_equal(mlc_linear_chunk_r(NULL, means, R, &err), MLC_EINVAL);
	assert_int_equal(mlc_linear_chunk_r(&b, NULL, R, &err), MLC_EINVAL);
	b.n = -1;
	assert_int_equal(mlc_linear_chunk_r(&b, means, R, &err), MLC_EINVAL);
	b.n = 3;
	b.p = 100001;
	assert_int_equal(mlc_linear_chunk_r(&b, means, R, &err), MLC_EINVAL);
	b.p = 2;
	X[4] = NAN;
	assert_int_equal(mlc_linear_chunk_r(&b, means, R, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "non-finite value in feature 1 of row 1"));
	X[4] = 5;
	y[2] = INFINITY;
	assert_int_equal(mlc_linear_chunk_r(&b, means, R, &err), MLC_EINVAL);
	y[2] = 4;

	/* zero rows: zero R; fewer rows than columns: zero-padded */
	b.n = 0;
	memset(R, 0x33, sizeof(R));
	assert_int_equal(mlc_linear_chunk_r(&b, means, R, &err), MLC_OK);
	for (int i = 0; i < 9; i++)
		assert_true(R[i] == 0.0);
	b.n = 1;
	assert_int_equal(mlc_linear_chunk_r(&b, means, R, &err), MLC_OK);
	assert_true(R[1] == 0.0 && R[2] == 0.0 && R[4] == 0.0 && R[5] == 0.0 && R[8] == 0.0);

	assert_int_equal(mlc_linear_solve(2, bad, means, 10, 0.0, &m, NULL, &err), MLC_EINVAL);
	assert_int_equal(mlc_linear_solve(2, R, means, 10, -1.0, &m, NULL, &err), MLC_EINVAL);
	assert_int_equal(mlc_linear_solve(2, R, means, 10, NAN, &m, NULL, &err), MLC_EINVAL);
	assert_int_equal(mlc_linear_solve(2, NULL, means, 10, 0.0, &m, NULL, &err), MLC_EINVAL);
	assert_int_equal(mlc_linear_solve(-1, R, means, 10, 0.0, &m, NULL, &err), MLC_EINVAL);
}

static void
test_predict(void **state)
{
	double		coef[3] = {0.5, -2.0, 1e-3};
	double		x[3] = {4.0, 1.25, 1000.0};
	mlc_linear_model m;
	mlc_model	mm;

	m.p = 3;
	m.intercept = 10.0;
	m.coef = coef;
	assert_true(mlc_linear_predict(&m, x) == ((10.0 + 0.5 * 4.0) + -2.0 * 1.25) + 1e-3 * 1000.0);
	memset(&mm, 0, sizeof(mm));
	mm.algorithm = MLC_ALG_RIDGE;
	mm.n_features = 3;
	mm.linear = m;
	assert_true(mlc_model_predict(&mm, x) == mlc_linear_predict(&m, x));
	mm.algorithm = (mlc_algorithm) 0;
	assert_true(isnan(mlc_model_predict(&mm, x)));
}

static void
test_metrics(void **state)
{
	double		y[4] = {1, 2, 3, 4};
	double		yh[4] = {1.5, 2, 2.5, 4};
	mlc_reg_metrics a,
				b,
				c;
	double		r2,
				rmse,
				mae,
				ev;
	int			i;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	for (i = 0; i < 4; i++)
		mlc_reg_metrics_add(&a, y[i], yh[i]);
	mlc_reg_metrics_final(&a, &r2, &rmse, &mae, &ev);
	assert_true(fabs(r2 - 0.9) < 1e-15);
	assert_true(fabs(rmse - sqrt(0.125)) < 1e-15);
	assert_true(fabs(mae - 0.25) < 1e-15);
	assert_true(fabs(ev - 0.9) < 1e-15);

	/* combine equals sequential */
	mlc_reg_metrics_add(&b, y[0], yh[0]);
	mlc_reg_metrics_add(&c, y[1], yh[1]);
	mlc_reg_metrics_add(&c, y[2], yh[2]);
	mlc_reg_metrics_add(&c, y[3], yh[3]);
	mlc_reg_metrics_combine(&b, &c);
	assert_memory_equal(&a, &b, sizeof(a));

	/* biased predictions: explained variance ignores the bias, r2 does not */
	memset(&a, 0, sizeof(a));
	for (i = 0; i < 4; i++)
		mlc_reg_metrics_add(&a, y[i], y[i] + 1.0);
	mlc_reg_metrics_final(&a, &r2, &rmse, &mae, &ev);
	assert_true(fabs(ev - 1.0) < 1e-15);
	assert_true(fabs(r2 - (1.0 - 4.0 / 5.0)) < 1e-15);

	/* undefined cases */
	memset(&a, 0, sizeof(a));
	mlc_reg_metrics_final(&a, &r2, &rmse, &mae, &ev);
	assert_true(isnan(r2) && isnan(rmse) && isnan(mae) && isnan(ev));
	mlc_reg_metrics_add(&a, 3.0, 2.0);
	mlc_reg_metrics_final(&a, &r2, &rmse, &mae, &ev);
	assert_true(isnan(r2) && isnan(ev));
	assert_true(rmse == 1.0 && mae == 1.0);
	mlc_reg_metrics_add(&a, 3.0, 2.5);	/* constant y: tss 0 */
	mlc_reg_metrics_final(&a, &r2, NULL, NULL, &ev);
	assert_true(isnan(r2) && isnan(ev));
}

/*
 * Refinement: on a moderately conditioned problem with a large residual
 * the QR solution loses digits and one refinement step recovers them; on
 * a badly conditioned one it is skipped and the model kept.
 *
 * The data are built like NIST Wampler: y = 1 + x + ... + x^5 + r on
 * x = 0..20 with an integer residual r orthogonal to every polynomial of
 * degree <= 5 (a sum of shifted 6th-difference stencils), so the exact
 * least-squares coefficients are all 1.
 */
static void
test_refinement(void **state)
{
	static const int stencil[7] = {1, -6, 15, -20, 15, -6, 1};
	int			n = 21,
				p = 5,
				i,
				k,
				applied;
	double	   *X = malloc(sizeof(double) * 41 * 10);
	double	   *y = malloc(sizeof(double) * 41);
	double		r[21],
				coef[11],
				err_qr = 0.0,
				err_ref = 0.0;
	uint64_t	rng = 1234;
	mlc_linear_model m,
				m2;
	mlc_linear_summary s;
	mlc_error	err;

	memset(r, 0, sizeof(r));
	for (i = 0; i + 6 < n; i++)
	{
		double		c = (double) ((int64_t) (unit_rand_u64(&rng) % 200000001) - 100000000);

		for (k = 0; k < 7; k++)
			r[i + k] += c * stencil[k];
	}
	for (i = 0; i < n; i++)
	{
		double		x = i,
					v = x,
					sum = 1.0 + x;

		X[i] = v;
		for (k = 1; k < p; k++)
		{
			v *= x;
			X[i + k * n] = v;
			sum += v;
		}
		y[i] = sum + r[i];
	}
	assert_int_equal(unit_fit_chunked(n, p, X, y, 5, 0.0, &m, NULL, NULL, &err), MLC_OK);
	assert_int_equal(unit_fit_refined(n, p, X, y, 5, 0.0, &m2, &s, &applied, &err), MLC_OK);
	assert_int_equal(applied, 1);
	for (k = 0; k <= p; k++)
	{
		double		a = k == 0 ? m.intercept : m.coef[k - 1];
		double		b = k == 0 ? m2.intercept : m2.coef[k - 1];

		if (fabs(a - 1.0) > err_qr)
			err_qr = fabs(a - 1.0);
		if (fabs(b - 1.0) > err_ref)
			err_ref = fabs(b - 1.0);
	}
	assert_true(err_qr > 1e-9);	/* what plain QR loses here */
	assert_true(err_ref < 1e-13);
	/* the summary follows the refined coefficients */
	assert_true(s.t_stat[1] == m2.coef[0] / s.std_error[1]);
	unit_free_fit(&m, NULL);
	unit_free_fit(&m2, &s);
	(void) coef;

	/* deterministic */
	assert_int_equal(unit_fit_refined(n, p, X, y, 5, 0.0, &m, NULL, &applied, &err), MLC_OK);
	assert_int_equal(unit_fit_refined(n, p, X, y, 5, 0.0, &m2, NULL, &applied, &err), MLC_OK);
	assert_memory_equal(m.coef, m2.coef, sizeof(double) * p);
	assert_memory_equal(&m.intercept, &m2.intercept, sizeof(double));
	unit_free_fit(&m, NULL);
	unit_free_fit(&m2, NULL);

	/* degree 10 on 1..41: far too ill-conditioned to refine; skipped */
	n = 41;
	for (i = 0; i < n; i++)
		y[i] = sin(i * 0.3) * 100.0;
	for (i = 0; i < n; i++)
	{
		double		x = 1.0 + i,
					v = x;

		X[i] = v;
		for (k = 1; k < 10; k++)
		{
			v *= x;
			X[i + k * n] = v;
		}
	}
	assert_int_equal(unit_fit_chunked(n, 10, X, y, 5, 0.0, &m, NULL, NULL, &err), MLC_OK);
	assert_int_equal(unit_fit_refined(n, 10, X, y, 5, 0.0, &m2, NULL, &applied, &err), MLC_OK);
	assert_int_equal(applied, 0);
	assert_memory_equal(m.coef, m2.coef, sizeof(double) * 10);
	unit_free_fit(&m, NULL);
	unit_free_fit(&m2, NULL);

	/* argument checks */
	{
		double		acc[4] = {0, 0, 0, 0};
		double		R[4] = {1, 0, 0, 1};
		double		means[2] = {0, 0};
		mlc_block	b;

		m.p = 1;
		m.intercept = 0;
		m.coef = coef;
		b.n = 2;
		b.p = 2;
		b.X = X;
		b.y = y;
		assert_int_equal(mlc_linear_refine_chunk(&b, &m, acc, &err), MLC_EINVAL);
		assert_int_equal(mlc_linear_refine_apply(1, R, means, 0, 0.0, acc, &m, NULL, NULL, &err), MLC_ENODATA);
		assert_int_equal(mlc_linear_refine_apply(2, R, means, 5, 0.0, acc, &m, NULL, NULL, &err), MLC_EINVAL);
	}
	free(X);
	free(y);
}

int
run_linear_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ols_exact),
		cmocka_unit_test(test_chunking_independence),
		cmocka_unit_test(test_tree_shape),
		cmocka_unit_test(test_ridge_closed_form),
		cmocka_unit_test(test_singular_detection),
		cmocka_unit_test(test_textbook_inference),
		cmocka_unit_test(test_inference_vs_naive),
		cmocka_unit_test(test_intercept_only),
		cmocka_unit_test(test_row_count_edges),
		cmocka_unit_test(test_argument_validation),
		cmocka_unit_test(test_predict),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_refinement),
	};

	return cmocka_run_group_tests_name("linear", tests, NULL, NULL);
}
