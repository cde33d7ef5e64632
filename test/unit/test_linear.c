/*
 * test_linear.c: chunk statistics and their exact merge, chunked
 * linear/ridge regression, inference, prediction, metrics and the
 * refinement pass, checked against naive computations
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

/* Stats of rows [i0, i0 + m) into st. */
static void
stats_of_rows(int n, int p, const double *X, const double *y, int i0, int m,
			  double *st)
{
	double	   *Xc = malloc(sizeof(double) * ((size_t) m * p + 1));
	double	   *yc = malloc(sizeof(double) * ((size_t) m + 1));
	mlc_block	b;
	mlc_error	err;

	take_rows(n, p, X, y, i0, m, Xc, yc, &b);
	assert_int_equal(mlc_linear_chunk_stats(&b, st, &err), MLC_OK);
	free(Xc);
	free(yc);
}

/* max |(Ra^T Ra - Rb^T Rb)_ij| / max |(Rb^T Rb)_ij| (k x k upper factors) */
static double
gram_diff(int k, const double *Ra, const double *Rb)
{
	double		maxd = 0.0,
				maxg = 0.0;
	int			i,
				j,
				r;

	for (i = 0; i < k; i++)
		for (j = 0; j < k; j++)
		{
			double		ga = 0.0,
						gb = 0.0;

			for (r = 0; r < k; r++)
			{
				ga += Ra[r + (size_t) i * k] * Ra[r + (size_t) j * k];
				gb += Rb[r + (size_t) i * k] * Rb[r + (size_t) j * k];
			}
			if (fabs(gb) > maxg)
				maxg = fabs(gb);
			if (fabs(ga - gb) > maxd)
				maxd = fabs(ga - gb);
		}
	return maxg > 0.0 ? maxd / maxg : maxd;
}

/*
 * Fit with each chunking: coefficients agree with the one-chunk fit to
 * 1e-12 relative and a second run gives the same bits.  The intercept
 * a = mean_y - sum_j mean_j b_j is checked relative to itself when
 * icpt_scaled is 0, else relative to |mean_y| + sum_j |mean_j b_j|: with
 * 21 features of means up to 200 and coefficients up to 21 that sum is
 * ~5e4 while a is ~1, so a carries ~4 fewer digits than the terms it
 * cancels (the pipeline before per-chunk centering varied by 1.8e-11
 * relative on the same data).
 */
static void
check_chunkings(int n, int p, double noise, uint64_t seed, const int *chunkings,
				int nt, int icpt_scaled)
{
	int			p1 = p + 1,
				t,
				j;
	double	   *X,
			   *y;
	double	   *R1 = malloc(sizeof(double) * p1 * p1);
	double	   *R2 = malloc(sizeof(double) * p1 * p1);
	mlc_linear_model ref,
				m,
				m2;
	mlc_linear_summary s;
	mlc_error	err;
	double		scale = 0.0;

	make_data(n, p, noise, seed, &X, &y);
	assert_int_equal(unit_fit_chunked(n, p, X, y, n, 0.0, &ref, NULL, NULL, &err), MLC_OK);
	if (icpt_scaled)
	{
		double		my = 0.0;
		int			i;

		for (i = 0; i < n; i++)
			my += y[i];
		scale = fabs(my / n);
		for (j = 0; j < p; j++)
		{
			double		mx = 0.0;

			for (i = 0; i < n; i++)
				mx += X[i + (size_t) j * n];
			scale += fabs(mx / n * ref.coef[j]);
		}
	}
	for (t = 0; t < nt; t++)
	{
		assert_int_equal(unit_fit_chunked(n, p, X, y, chunkings[t], 0.0, &m, &s, R1, &err), MLC_OK);
		if (icpt_scaled)
			assert_true(fabs(m.intercept - ref.intercept) < 1e-12 * scale);
		else
			assert_true(unit_reldiff(m.intercept, ref.intercept) < 1e-12);
		for (j = 0; j < p; j++)
			assert_true(unit_reldiff(m.coef[j], ref.coef[j]) < 1e-12);
		/* the same chunks always give the same bits */
		assert_int_equal(unit_fit_chunked(n, p, X, y, chunkings[t], 0.0, &m2, NULL, R2, &err), MLC_OK);
		assert_memory_equal(R1, R2, sizeof(double) * p1 * p1);
		assert_memory_equal(&m.intercept, &m2.intercept, sizeof(double));
		assert_memory_equal(m.coef, m2.coef, sizeof(double) * p);
		unit_free_fit(&m, &s);
		unit_free_fit(&m2, NULL);
	}
	unit_free_fit(&ref, NULL);
	free(X);
	free(y);
	free(R1);
	free(R2);
}

static void
test_chunking_independence(void **state)
{
	static const int small[] = {1000, 7, 64, 333, 1, 2, 999, 500};
	/* 22 columns: chunks of 960 and more factor with dgeqrt, the rest and
	 * every merge with dgeqrf */
	static const int wide[] = {3000, 960, 1500, 100, 7, 1};

	check_chunkings(1000, 5, 0.5, 11, small, 8, 0);
	check_chunkings(3000, 21, 0.5, 12, wide, 6, 1);
}

/* The tree is ((0,1),(2,3)),4 for 5 chunks, whoever computed the chunks. */
static void
test_tree_shape(void **state)
{
	int			n = 60,
				p = 3,
				p1 = 4,
				c,
				k;
	size_t		sz = MLC_STATS_DOUBLES(4),
				stride = MLC_STATS_DOUBLES(4) + 3;
	double	   *X,
			   *y;
	double		St[5 * 25],
				Srev[5 * 25],
				Sw[5 * 28],
				A[25],
				B[25],
				C[25],
				D[25];
	mlc_error	err;

	/* n, means (4), R (16), low parts of the means (4) */
	assert_int_equal(sz, 25);
	make_data(n, p, 1.0, 3, &X, &y);

	/* chunk statistics computed in reverse and in forward order */
	for (c = 4; c >= 0; c--)
		stats_of_rows(n, p, X, y, c * 12, 12, Srev + sz * c);
	for (c = 0; c < 5; c++)
		stats_of_rows(n, p, X, y, c * 12, 12, St + sz * c);
	assert_memory_equal(St, Srev, sizeof(St));
	for (c = 0; c < 5; c++)
		assert_true(St[sz * c] == 12.0);

	assert_int_equal(mlc_linear_stats_merge(p1, St, St + sz, A, &err), MLC_OK);
	assert_int_equal(mlc_linear_stats_merge(p1, St + 2 * sz, St + 3 * sz, B, &err), MLC_OK);
	assert_int_equal(mlc_linear_stats_merge(p1, A, B, C, &err), MLC_OK);
	assert_int_equal(mlc_linear_stats_merge(p1, C, St + 4 * sz, D, &err), MLC_OK);
	assert_true(D[0] == 60.0);

	/* a wider stride gives the same bits and leaves the gaps alone */
	for (k = 0; k < 5 * 28; k++)
		Sw[k] = -12345.0;
	for (c = 0; c < 5; c++)
		memcpy(Sw + stride * c, St + sz * c, sizeof(double) * sz);
	assert_int_equal(mlc_linear_stats_tree(p1, 5, St, sz, &err), MLC_OK);
	assert_memory_equal(St, D, sizeof(D));
	assert_int_equal(mlc_linear_stats_tree(p1, 5, Sw, stride, &err), MLC_OK);
	assert_memory_equal(Sw, D, sizeof(D));
	for (c = 0; c < 5; c++)
		for (k = (int) sz; k < (int) stride; k++)
			assert_true(Sw[stride * c + k] == -12345.0);

	/* one chunk: untouched */
	memcpy(A, Srev, sizeof(A));
	assert_int_equal(mlc_linear_stats_tree(p1, 1, Srev, sz, &err), MLC_OK);
	assert_memory_equal(A, Srev, sizeof(A));
	assert_int_equal(mlc_linear_stats_tree(0, 1, Srev, sz, &err), MLC_EINVAL);
	assert_int_equal(mlc_linear_stats_tree(p1, 0, Srev, sz, &err), MLC_EINVAL);
	assert_int_equal(mlc_linear_stats_tree(p1, 2, NULL, sz, &err), MLC_EINVAL);
	assert_int_equal(mlc_linear_stats_tree(p1, 2, Srev, sz - 1, &err), MLC_EINVAL);
	free(X);
	free(y);
}

/*
 * Merging the stats of two parts equals the stats of the whole: same n,
 * means to rounding (high parts to 4e-16 relative; as double-doubles to
 * 1e-15 of the column's spread), the same centered scatter (R^T R; R
 * itself is unique up to row signs), |diag R| and the same solved
 * coefficients, also from trees of 7- and 64-row chunks; out may alias
 * either input.
 *
 * offset shifts every column by a constant.  The merge is exact in exact
 * arithmetic; its only first-order rounding is that of the chunk means in
 * the cross-term row sqrt(na nb / n) (ma - mb).  The means are carried as
 * double-doubles (accurate to a few eps * spread) and ma - mb is taken in
 * double-double, so an offset costs nothing.  Measured with these seeds
 * over p = 0, 1, 3, 21 and the four cuts, offset 0 / 1e6 / 1e9: R^T R
 * 1.4e-15 / 5.5e-16 / 7.7e-16, |diag R| 2.1e-14 / 4.8e-14 / 2.5e-14,
 * coefficients 4.6e-14 / 5.9e-14 / 1.8e-14 (trees of 1 to 333 rows per
 * chunk: 5.0e-14 / 7.2e-14 / 4.3e-14), intercept 4e-16 / 5e-16 / 1e-15 of
 * its scale, means 1e-16 / 3e-18 / 4e-18 of the spread.  The bounds of
 * 2e-13 leave a margin for other BLAS kernels.  With the means as rounded
 * doubles, offset 1e6 gave R^T R 6.7e-13, |diag R| 1.1e-10 and
 * coefficients 1.3e-10; offset 1e9 gave 1.7e-9, 4.2e-8 and 3.7e-8
 * (log10(|mean| / spread) digits lost).
 */
static void
check_merge_whole(int p, double offset, uint64_t seed, double tol_gram,
				  double tol_diag, double tol_coef)
{
	static const int cuts[] = {1, 400, 517, 999};
	int			n = 1000,
				p1 = p + 1,
				u,
				i,
				j;
	size_t		sz = MLC_STATS_DOUBLES(p1),
				lo = 1 + (size_t) p1 + (size_t) p1 * p1;
	double	   *X,
			   *y;
	double	   *W = malloc(sizeof(double) * sz);
	double	   *Sa = malloc(sizeof(double) * sz);
	double	   *Sb = malloc(sizeof(double) * sz);
	double	   *M = malloc(sizeof(double) * sz);
	double	   *Al = malloc(sizeof(double) * sz);
	mlc_linear_model mw,
				mm;
	mlc_error	err;

	make_data(n, p, 0.5, seed, &X, &y);
	for (i = 0; i < n * p; i++)
		X[i] += offset;
	for (i = 0; i < n; i++)
		y[i] -= 0.3 * offset;
	stats_of_rows(n, p, X, y, 0, n, W);
	assert_true(W[0] == (double) n);
	for (u = 0; u < 4; u++)
	{
		int			k = cuts[u];

		stats_of_rows(n, p, X, y, 0, k, Sa);
		stats_of_rows(n, p, X, y, k, n - k, Sb);
		assert_int_equal(mlc_linear_stats_merge(p1, Sa, Sb, M, &err), MLC_OK);
		assert_true(M[0] == (double) n);
		for (j = 0; j < p1; j++)
		{
			double		dh = M[1 + j] - W[1 + j],
						dl = M[lo + j] - W[lo + j],
						sd = 0.0;

			assert_true(fabs(dh) <= 4e-16 * (fabs(W[1 + j]) + 1.0));
			/* column spread: sqrt(centered sum of squares / n) */
			for (i = 0; i <= j; i++)
				sd += W[1 + p1 + i + (size_t) j * p1] * W[1 + p1 + i + (size_t) j * p1];
			sd = sqrt(sd / n);
			assert_true(fabs(dh + dl) <= 1e-15 * sd);
		}
		assert_true(gram_diff(p1, M + 1 + p1, W + 1 + p1) < tol_gram);
		for (j = 0; j < p1; j++)
		{
			double		dm = M[1 + p1 + j + (size_t) j * p1],
						dw = W[1 + p1 + j + (size_t) j * p1];

			assert_true(unit_reldiff(fabs(dm), fabs(dw)) < tol_diag);
			for (i = j + 1; i < p1; i++)
				assert_true(M[1 + p1 + i + (size_t) j * p1] == 0.0);
		}
		/* the solve sees the same problem */
		assert_int_equal(mlc_linear_solve(p, W + 1 + p1, W + 1, n, 0.0, &mw, NULL, &err), MLC_OK);
		assert_int_equal(mlc_linear_solve(p, M + 1 + p1, M + 1, n, 0.0, &mm, NULL, &err), MLC_OK);
		for (j = 0; j < p; j++)
			assert_true(unit_reldiff(mm.coef[j], mw.coef[j]) < tol_coef);
		/* the intercept cancels terms of size |offset b| */
		{
			double		sc = fabs(W[p1]);

			for (j = 0; j < p; j++)
				sc += fabs(W[1 + j] * mw.coef[j]);
			assert_true(fabs(mm.intercept - mw.intercept) <= tol_coef * sc);
		}
		unit_free_fit(&mw, NULL);
		unit_free_fit(&mm, NULL);

		/* out may alias a or b, with the same bits */
		memcpy(Al, Sa, sizeof(double) * sz);
		assert_int_equal(mlc_linear_stats_merge(p1, Al, Sb, Al, &err), MLC_OK);
		assert_memory_equal(Al, M, sizeof(double) * sz);
		memcpy(Al, Sb, sizeof(double) * sz);
		assert_int_equal(mlc_linear_stats_merge(p1, Sa, Al, Al, &err), MLC_OK);
		assert_memory_equal(Al, M, sizeof(double) * sz);
	}
	/* trees of many chunks (7 and 64 rows) fit the same model */
	assert_int_equal(mlc_linear_solve(p, W + 1 + p1, W + 1, n, 0.0, &mw, NULL, &err), MLC_OK);
	for (u = 0; u < 2; u++)
	{
		double		sc = fabs(W[p1]);

		assert_int_equal(unit_fit_chunked(n, p, X, y, u == 0 ? 7 : 64, 0.0, &mm, NULL, NULL, &err), MLC_OK);
		for (j = 0; j < p; j++)
		{
			assert_true(unit_reldiff(mm.coef[j], mw.coef[j]) < tol_coef);
			sc += fabs(W[1 + j] * mw.coef[j]);
		}
		assert_true(fabs(mm.intercept - mw.intercept) <= tol_coef * sc);
		unit_free_fit(&mm, NULL);
	}
	unit_free_fit(&mw, NULL);
	free(X);
	free(y);
	free(W);
	free(Sa);
	free(Sb);
	free(M);
	free(Al);
}

/*
 * Rows added one by one (mlc_linear_stats_add_row) give the chunk stats of
 * the whole block: same n, means, centered scatter R^T R and solved
 * coefficients to ~1e-12 relative, with and without a column offset;
 * mixing row updates with merges gives the same again.  Argument checks.
 */
static void
check_add_row(int p, double offset, uint64_t seed)
{
	int			n = 500,
				p1 = p + 1,
				i,
				j;
	size_t		sz = MLC_STATS_DOUBLES(p1);
	double	   *X,
			   *y;
	double	   *W = malloc(sizeof(double) * sz);
	double	   *A = calloc(sz, sizeof(double));
	double	   *B = calloc(sz, sizeof(double));
	double	   *row = malloc(sizeof(double) * p1);
	mlc_linear_model mw,
				ma;
	mlc_error	err;
	double		sc;

	make_data(n, p, 0.5, seed, &X, &y);
	for (i = 0; i < n * p; i++)
		X[i] += offset;
	stats_of_rows(n, p, X, y, 0, n, W);
	for (i = 0; i < n; i++)
	{
		for (j = 0; j < p; j++)
			row[j] = X[i + (size_t) j * n];
		row[p] = y[i];
		assert_int_equal(mlc_linear_stats_add_row(p1, i < 200 ? A : B, row, &err), MLC_OK);
	}
	assert_true(B[0] == (double) (n - 200));
	assert_int_equal(mlc_linear_stats_merge(p1, A, B, B, &err), MLC_OK);
	/* A again: all rows one by one */
	memset(A, 0, sizeof(double) * sz);
	for (i = 0; i < n; i++)
	{
		for (j = 0; j < p; j++)
			row[j] = X[i + (size_t) j * n];
		row[p] = y[i];
		assert_int_equal(mlc_linear_stats_add_row(p1, A, row, &err), MLC_OK);
	}
	assert_true(A[0] == (double) n);
	for (j = 0; j < p1; j++)
	{
		assert_true(unit_reldiff(A[1 + j], W[1 + j]) < 1e-14);
		assert_true(unit_reldiff(B[1 + j], W[1 + j]) < 1e-14);
	}
	assert_true(gram_diff(p1, A + 1 + p1, W + 1 + p1) < 1e-12);
	assert_true(gram_diff(p1, B + 1 + p1, W + 1 + p1) < 1e-12);
	assert_int_equal(mlc_linear_solve(p, W + 1 + p1, W + 1, n, 0.0, &mw, NULL, &err), MLC_OK);
	assert_int_equal(mlc_linear_solve(p, A + 1 + p1, A + 1, n, 0.0, &ma, NULL, &err), MLC_OK);
	sc = fabs(W[p1]);
	for (j = 0; j < p; j++)
	{
		assert_true(unit_reldiff(ma.coef[j], mw.coef[j]) < 1e-12);
		sc += fabs(W[1 + j] * mw.coef[j]);
	}
	assert_true(fabs(ma.intercept - mw.intercept) <= 1e-12 * sc);
	unit_free_fit(&ma, NULL);
	assert_int_equal(mlc_linear_solve(p, B + 1 + p1, B + 1, n, 0.0, &ma, NULL, &err), MLC_OK);
	for (j = 0; j < p; j++)
		assert_true(unit_reldiff(ma.coef[j], mw.coef[j]) < 1e-12);
	assert_true(fabs(ma.intercept - mw.intercept) <= 1e-12 * sc);
	unit_free_fit(&ma, NULL);
	unit_free_fit(&mw, NULL);
	free(X);
	free(y);
	free(W);
	free(A);
	free(B);
	free(row);
}

static void
test_stats_add_row(void **state)
{
	static const int ps[] = {0, 1, 3, 21};
	double		st[16] = {0},
				row[3] = {1.0, 2.0, 3.0};
	mlc_error	err;
	int			t;

	for (t = 0; t < 4; t++)
	{
		check_add_row(ps[t], 0.0, 400 + t);
		check_add_row(ps[t], 1e6, 500 + t);
	}
	/* the first row: its values are the means, R stays zero */
	assert_int_equal(mlc_linear_stats_add_row(3, st, row, &err), MLC_OK);
	assert_true(st[0] == 1.0 && st[1] == 1.0 && st[2] == 2.0 && st[3] == 3.0);
	for (t = 4; t < 16; t++)
		assert_true(st[t] == 0.0);
	assert_int_equal(mlc_linear_stats_add_row(0, st, row, &err), MLC_EINVAL);
	assert_int_equal(mlc_linear_stats_add_row(3, NULL, row, &err), MLC_EINVAL);
	assert_int_equal(mlc_linear_stats_add_row(3, st, NULL, &err), MLC_EINVAL);
	row[1] = NAN;
	assert_int_equal(mlc_linear_stats_add_row(3, st, row, &err), MLC_EINVAL);
	assert_true(st[0] == 1.0 && st[2] == 2.0);
	row[1] = 2.0;
	st[0] = 1.5;
	assert_int_equal(mlc_linear_stats_add_row(3, st, row, &err), MLC_EINVAL);
}

static void
test_merge_equals_whole(void **state)
{
	static const int ps[] = {0, 1, 3, 21};
	int			t;

	for (t = 0; t < 4; t++)
	{
		check_merge_whole(ps[t], 0.0, 100 + t, 1e-14, 2e-13, 2e-13);
		check_merge_whole(ps[t], 1e6, 200 + t, 1e-14, 2e-13, 2e-13);
		check_merge_whole(ps[t], 1e9, 300 + t, 1e-14, 2e-13, 2e-13);
	}
}

/*
 * Empty and one-row chunks: an empty chunk is all zeros and merges as the
 * identity (bit for bit); a one-row chunk has the row as means and a zero
 * R; uneven chunkings full of both still fit the same model.
 */
static void
test_empty_and_single_chunks(void **state)
{
	static const int sizes[] = {0, 1, 0, 37, 1, 1, 0, 0, 200, 61, 0, 1, 98, 0,
	1, 0};
	int			nchunks = (int) (sizeof(sizes) / sizeof(sizes[0]));
	int			n = 0,
				p = 4,
				p1 = 5,
				c,
				i,
				j,
				i0;
	size_t		sz = MLC_STATS_DOUBLES(5);
	double	   *X,
			   *y;
	double	   *S;
	double		E[36],
				One[36],
				Out[36],
				Z[36];
	mlc_block	b;
	mlc_linear_model ref,
				m;
	mlc_linear_summary sref,
				s;
	mlc_error	err;

	for (c = 0; c < nchunks; c++)
		n += sizes[c];
	make_data(n, p, 0.3, 55, &X, &y);
	S = malloc(sizeof(double) * sz * nchunks);
	memset(Z, 0, sizeof(Z));

	/* an empty chunk: all zeros, whatever the buffer held; data may be NULL */
	b.n = 0;
	b.p = p;
	b.X = NULL;
	b.y = NULL;
	memset(E, 0x33, sizeof(E));
	assert_int_equal(mlc_linear_chunk_stats(&b, E, &err), MLC_OK);
	assert_memory_equal(E, Z, sizeof(E));

	/* one row: means are the row, R is zero */
	stats_of_rows(n, p, X, y, 5, 1, One);
	assert_true(One[0] == 1.0);
	for (j = 0; j < p; j++)
		assert_true(One[1 + j] == X[5 + (size_t) j * n]);
	assert_true(One[1 + p] == y[5]);
	for (j = 0; j < p1 * p1; j++)
		assert_true(One[1 + p1 + j] == 0.0);
	/* the mean of one value is exact: no low parts */
	for (j = 0; j < p1; j++)
		assert_true(One[1 + p1 + p1 * p1 + j] == 0.0);

	/* empty is the identity of the merge, on either side */
	assert_int_equal(mlc_linear_stats_merge(p1, E, One, Out, &err), MLC_OK);
	assert_memory_equal(Out, One, sizeof(One));
	assert_int_equal(mlc_linear_stats_merge(p1, One, E, Out, &err), MLC_OK);
	assert_memory_equal(Out, One, sizeof(One));
	assert_int_equal(mlc_linear_stats_merge(p1, E, E, Out, &err), MLC_OK);
	assert_memory_equal(Out, Z, sizeof(Z));

	/* two one-row chunks: R^T R = (1/2) d d^T with d their difference */
	stats_of_rows(n, p, X, y, 6, 1, Out);
	assert_int_equal(mlc_linear_stats_merge(p1, One, Out, Out, &err), MLC_OK);
	assert_true(Out[0] == 2.0);
	{
		double		R2[25],
					Rd[25];

		memset(Rd, 0, sizeof(Rd));
		for (j = 0; j < p1; j++)
		{
			double		a = j < p ? X[5 + (size_t) j * n] : y[5];
			double		bb = j < p ? X[6 + (size_t) j * n] : y[6];

			Rd[(size_t) j * p1] = (a - bb) * sqrt(0.5);
			assert_true(fabs(Out[1 + j] - 0.5 * (a + bb)) <= 1e-15 * fabs(a + bb));
		}
		memcpy(R2, Out + 1 + p1, sizeof(R2));
		assert_true(gram_diff(p1, R2, Rd) < 1e-14);
	}

	/* an uneven chunking with empty and one-row chunks */
	i0 = 0;
	for (c = 0; c < nchunks; c++)
	{
		stats_of_rows(n, p, X, y, i0, sizes[c], S + sz * c);
		i0 += sizes[c];
	}
	assert_int_equal(mlc_linear_stats_tree(p1, nchunks, S, sz, &err), MLC_OK);
	assert_true(S[0] == (double) n);
	assert_int_equal(mlc_linear_solve(p, S + 1 + p1, S + 1, (int64_t) S[0], 0.0, &m, &s, &err), MLC_OK);
	assert_int_equal(unit_fit_chunked(n, p, X, y, n, 0.0, &ref, &sref, NULL, &err), MLC_OK);
	assert_true(unit_reldiff(m.intercept, ref.intercept) < 1e-12);
	for (j = 0; j < p; j++)
		assert_true(unit_reldiff(m.coef[j], ref.coef[j]) < 1e-12);
	assert_true(unit_reldiff(s.rss, sref.rss) < 1e-10);
	for (j = 0; j <= p; j++)
		assert_true(unit_reldiff(s.std_error[j], sref.std_error[j]) < 1e-10);
	unit_free_fit(&m, &s);
	unit_free_fit(&ref, &sref);

	/* every chunk empty: zeros, and the solve has no rows */
	for (c = 0; c < 3; c++)
		memcpy(S + sz * c, Z, sizeof(Z));
	assert_int_equal(mlc_linear_stats_tree(p1, 3, S, sz, &err), MLC_OK);
	assert_memory_equal(S, Z, sizeof(Z));
	assert_int_equal(mlc_linear_solve(p, S + 1 + p1, S + 1, (int64_t) S[0], 0.0, &m, NULL, &err), MLC_ENODATA);

	/* one-row chunks only (n merges of zero factors) */
	for (i = 0; i < 3; i++)
	{
		int			cr[3] = {1, 2, 3};

		assert_int_equal(unit_fit_chunked(n, p, X, y, cr[i], 0.0, &m, NULL, NULL, &err), MLC_OK);
		assert_int_equal(unit_fit_chunked(n, p, X, y, n, 0.0, &ref, NULL, NULL, &err), MLC_OK);
		for (j = 0; j < p; j++)
			assert_true(unit_reldiff(m.coef[j], ref.coef[j]) < 1e-12);
		unit_free_fit(&m, NULL);
		unit_free_fit(&ref, NULL);
	}
	free(S);
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
	double		big[3] = {1.7e308, 1.7e308, -1.0};
	double		St[16],
				Sb[16],
				Out[16],
				Two[32];
	double	   *R = St + 4;
	double		bad[9] = {1, 0, 0, 1, 1, 0, 1, 1, NAN};
	mlc_block	b;
	mlc_linear_model m;
	mlc_error	err;
	int			i;

	b.n = 3;
	b.p = 2;
	b.X = X;
	b.y = y;
	assert_int_equal(mlc_linear_chunk_stats(&b, St, &err), MLC_OK);
	assert_true(St[0] == 3.0);
	assert_true(St[1] == 2.0 && St[2] == 16.0 / 3.0 && St[3] == 7.0 / 3.0);
	/* low parts (after R): 0 for an exact mean, else the remainder of 16/3, 7/3 */
	assert_true(St[13] == 0.0);
	assert_true(St[14] != 0.0 && fabs(St[14]) <= 0.5 * (nextafter(St[2], 10.0) - St[2]));
	assert_true(St[15] != 0.0 && fabs(St[15]) <= 0.5 * (nextafter(St[3], 10.0) - St[3]));
	/* hi + lo is 16/3 to a few eps of the spread (not of the mean) */
	assert_true(fabs(fma(3.0, St[2], -16.0) + 3.0 * St[14]) <= 3.0 * 4.0 * 2.3e-16);
	assert_int_equal(mlc_linear_chunk_stats(NULL, St, &err), MLC_EINVAL);
	assert_int_equal(mlc_linear_chunk_stats(&b, NULL, &err), MLC_EINVAL);
	b.n = -1;
	assert_int_equal(mlc_linear_chunk_stats(&b, St, &err), MLC_EINVAL);
	b.n = 3;
	b.p = 100001;
	assert_int_equal(mlc_linear_chunk_stats(&b, St, &err), MLC_EINVAL);
	b.p = 2;
	b.y = NULL;
	assert_int_equal(mlc_linear_chunk_stats(&b, St, &err), MLC_EINVAL);
	b.y = y;
	X[4] = NAN;
	assert_int_equal(mlc_linear_chunk_stats(&b, St, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "non-finite value in feature 1 of row 1"));
	X[4] = 5;
	y[2] = INFINITY;
	assert_int_equal(mlc_linear_chunk_stats(&b, St, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "non-finite target value in row 2"));
	y[2] = 4;
	/* finite values whose sum overflows */
	b.X = big;
	b.p = 0;
	b.y = big;
	assert_int_equal(mlc_linear_chunk_stats(&b, St, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "the target overflows"));
	b.X = X;
	b.p = 2;
	b.y = y;

	/* fewer rows than columns: the missing rows of R are zero */
	b.n = 2;
	assert_int_equal(mlc_linear_chunk_stats(&b, St, &err), MLC_OK);
	assert_true(St[0] == 2.0);
	for (i = 0; i < 3; i++)
		assert_true(R[2 + 3 * i] == 0.0);
	assert_true(R[1] == 0.0 && R[2] == 0.0 && R[5] == 0.0);
	b.n = 1;
	assert_int_equal(mlc_linear_chunk_stats(&b, Sb, &err), MLC_OK);
	for (i = 0; i < 9; i++)
		assert_true(Sb[4 + i] == 0.0);

	/* merge: sizes, NULLs, corrupted counts and entries */
	assert_int_equal(mlc_linear_stats_merge(3, St, Sb, Out, &err), MLC_OK);
	assert_true(Out[0] == 3.0);
	assert_int_equal(mlc_linear_stats_merge(0, St, Sb, Out, &err), MLC_EINVAL);
	assert_int_equal(mlc_linear_stats_merge(100002, St, Sb, Out, &err), MLC_EINVAL);
	assert_int_equal(mlc_linear_stats_merge(3, NULL, Sb, Out, &err), MLC_EINVAL);
	assert_int_equal(mlc_linear_stats_merge(3, St, NULL, Out, &err), MLC_EINVAL);
	assert_int_equal(mlc_linear_stats_merge(3, St, Sb, NULL, &err), MLC_EINVAL);
	Sb[0] = -1.0;
	assert_int_equal(mlc_linear_stats_merge(3, St, Sb, Out, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "invalid row counts"));
	Sb[0] = 0.5;
	assert_int_equal(mlc_linear_stats_merge(3, St, Sb, Out, &err), MLC_EINVAL);
	Sb[0] = NAN;
	assert_int_equal(mlc_linear_stats_merge(3, St, Sb, Out, &err), MLC_EINVAL);
	Sb[0] = 1.0;
	Sb[2] = INFINITY;
	assert_int_equal(mlc_linear_stats_merge(3, St, Sb, Out, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "non-finite column mean"));
	Sb[2] = 5.0;
	Sb[13 + 1] = NAN;			/* low part of a mean */
	assert_int_equal(mlc_linear_stats_merge(3, St, Sb, Out, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "non-finite column mean"));
	Sb[13 + 1] = 0.0;
	St[4 + 7] = NAN;			/* R(1, 2) */
	assert_int_equal(mlc_linear_stats_merge(3, St, Sb, Out, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "non-finite R entry"));
	/* the tree reports what a merge reports */
	memcpy(Two, St, sizeof(St));
	memcpy(Two + 16, Sb, sizeof(Sb));
	assert_int_equal(mlc_linear_stats_tree(3, 2, Two, 16, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "non-finite R entry"));

	assert_int_equal(mlc_linear_solve(2, bad, means, 10, 0.0, &m, NULL, &err), MLC_EINVAL);
	assert_int_equal(mlc_linear_solve(2, Sb + 4, means, 10, -1.0, &m, NULL, &err), MLC_EINVAL);
	assert_int_equal(mlc_linear_solve(2, Sb + 4, means, 10, NAN, &m, NULL, &err), MLC_EINVAL);
	assert_int_equal(mlc_linear_solve(2, NULL, means, 10, 0.0, &m, NULL, &err), MLC_EINVAL);
	assert_int_equal(mlc_linear_solve(-1, Sb + 4, means, 10, 0.0, &m, NULL, &err), MLC_EINVAL);
}

static void
test_predict(void **state)
{
	double		coef[3] = {0.5, -2.0, 1e-3};
	double		x[3] = {4.0, 1.25, 1000.0};
	double		beta[4] = {10.0, 0.5, -2.0, 1e-3};
	mlc_linear_model m;
	mlc_linear_model view;
	mlc_model	mm;
	mlc_array	arr = {"coef", 1, 4, beta};

	m.p = 3;
	m.intercept = 10.0;
	m.coef = coef;
	assert_true(mlc_linear_predict(&m, x) == ((10.0 + 0.5 * 4.0) + -2.0 * 1.25) + 1e-3 * 1000.0);
	/* a registered model scores with the same bits */
	memset(&mm, 0, sizeof(mm));
	mm.algorithm = MLC_ALG_RIDGE;
	mm.task = MLC_TASK_REGRESSION;
	mm.n_features = 3;
	mm.n_arrays = 1;
	mm.arrays = &arr;
	assert_int_equal(mlc_model_linear_view(&mm, &view), 0);
	assert_true(view.intercept == 10.0 && view.coef[2] == 1e-3);
	assert_true(mlc_model_predict(&mm, x) == mlc_linear_predict(&m, x));
	mm.algorithm = (mlc_algorithm) 0;
	assert_true(isnan(mlc_model_predict(&mm, x)));
}

/* predict_block gives mlc_linear_predict's bits, row for row */
static void
test_predict_block(void **state)
{
	static const int shapes[][2] = {{1, 1}, {7, 3}, {5, 0}, {511, 5}, {512, 4},
	{513, 2}, {1000, 22}, {1537, 7}, {2048, 1}};
	uint64_t	rng = 99;
	size_t		t;
	int			i,
				j;

	for (t = 0; t < sizeof(shapes) / sizeof(shapes[0]); t++)
	{
		int			n = shapes[t][0],
					p = shapes[t][1];
		double	   *X = malloc(sizeof(double) * ((size_t) n * p + 1));
		double	   *coef = malloc(sizeof(double) * (p + 1));
		double	   *yb = malloc(sizeof(double) * (n + 1));
		double	   *yr = malloc(sizeof(double) * (n + 1));
		double	   *x = malloc(sizeof(double) * (p + 1));
		mlc_linear_model m;
		mlc_block	b;

		/* magnitudes over many binades, so every rounding shows */
		for (j = 0; j < p; j++)
			coef[j] = unit_rand_normal(&rng) * pow(10.0, (double) (j % 9) - 4.0);
		for (i = 0; i < n * p; i++)
			X[i] = unit_rand_normal(&rng) * pow(2.0, (double) (i % 41) - 20.0);
		m.p = p;
		m.intercept = unit_rand_normal(&rng) * 1e3;
		m.coef = coef;
		b.n = n;
		b.p = p;
		b.X = p > 0 ? X : NULL;
		b.y = NULL;
		for (i = 0; i < n; i++)
		{
			for (j = 0; j < p; j++)
				x[j] = X[i + (size_t) j * n];
			yr[i] = mlc_linear_predict(&m, x);
		}
		memset(yb, 0x55, sizeof(double) * n);
		mlc_linear_predict_block(&m, &b, yb);
		assert_memory_equal(yb, yr, sizeof(double) * n);

		/* a block of another width: NaN, not a wild read */
		if (p > 0)
		{
			b.p = p - 1;
			mlc_linear_predict_block(&m, &b, yb);
			for (i = 0; i < n; i++)
				assert_true(isnan(yb[i]));
		}
		/* no rows: yhat untouched */
		b.n = 0;
		yb[0] = 42.0;
		mlc_linear_predict_block(&m, &b, yb);
		assert_true(yb[0] == 42.0);
		free(X);
		free(coef);
		free(yb);
		free(yr);
		free(x);
	}
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
		cmocka_unit_test(test_merge_equals_whole),
		cmocka_unit_test(test_stats_add_row),
		cmocka_unit_test(test_empty_and_single_chunks),
		cmocka_unit_test(test_ridge_closed_form),
		cmocka_unit_test(test_singular_detection),
		cmocka_unit_test(test_textbook_inference),
		cmocka_unit_test(test_inference_vs_naive),
		cmocka_unit_test(test_intercept_only),
		cmocka_unit_test(test_row_count_edges),
		cmocka_unit_test(test_argument_validation),
		cmocka_unit_test(test_predict),
		cmocka_unit_test(test_predict_block),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_refinement),
	};

	return cmocka_run_group_tests_name("linear", tests, NULL, NULL);
}
