/*
 * test_unsupervised.c: elastic net / lasso, PCA, k-means and naive Bayes.
 *
 * Reference values were computed with Debian's /usr/bin/python3 (numpy
 * 1.24.2, scikit-learn 1.2.1, scipy) on the same data: the generators below
 * draw from mlc_rng_next (splitmix64) and only produce dyadic values
 * (24-bit integers / 2^22 plus small dyadic offsets), so a line-by-line
 * Python port of them reproduces the data bit for bit:
 *   g()    = ((next() >> 40) - 8388608) / 4194304.0
 *   en:    Pipeline(StandardScaler(), ElasticNet(alpha, l1_ratio, tol=1e-12,
 *          max_iter=100000)); coef = en.coef_ / scaler.scale_,
 *          intercept = en.intercept_ - coef . scaler.mean_
 *   pca:   PCA().fit(X) explained_variance_, explained_variance_ratio_,
 *          components_
 *   kmeans: KMeans(n_clusters=3, n_init=10, random_state=0).inertia_;
 *          silhouette_score(cdist(X, X), labels_, metric='precomputed')
 *          (same value as silhouette_score(X, labels_) to all 16 digits)
 *   nb:    GaussianNB().predict_proba, CategoricalNB(alpha=1).predict_proba
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* dyadic value in [-2, 2) with 24 random bits */
static double
gval(uint64_t *s)
{
	return (double) ((int64_t) (mlc_rng_next(s) >> 40) - 8388608) / 4194304.0;
}

/* Merged stats of [X y] over chunks of chunk_rows rows (engine pipeline). */
static double *
merged_stats(int n, int p, const double *X, const double *y, int chunk_rows)
{
	int			p1 = p + 1,
				nchunks = (n + chunk_rows - 1) / chunk_rows,
				c;
	size_t		stride = MLC_STATS_DOUBLES(p1);
	double	   *stats = calloc(stride * nchunks, sizeof(double));
	double	   *Xc = calloc((size_t) chunk_rows * p, sizeof(double));
	double	   *yc = calloc((size_t) chunk_rows, sizeof(double));
	mlc_error	err;

	for (c = 0; c < nchunks; c++)
	{
		int			i0 = c * chunk_rows;
		int			m = i0 + chunk_rows < n ? chunk_rows : n - i0;
		mlc_block	b;

		take_rows(n, p, X, y, i0, m, Xc, yc, &b);
		assert_int_equal(mlc_linear_chunk_stats(&b, stats + stride * c, &err), MLC_OK);
	}
	assert_int_equal(mlc_linear_stats_tree(p1, nchunks, stats, stride, &err), MLC_OK);
	free(Xc);
	free(yc);
	return stats;
}

/* ---------- random numbers ---------- */

static void
test_rng(void **state)
{
	uint64_t	s = 0;
	int			i;
	double		u;

	/* the published splitmix64 sequence for seed 0 */
	assert_true(mlc_rng_next(&s) == UINT64_C(0xe220a8397b1dcdaf));
	assert_true(mlc_rng_next(&s) == UINT64_C(0x6e789e6aa1b965f4));
	s = 7;
	assert_true(gval(&s) == -0.44068121910095215);	/* Python port */
	for (i = 0; i < 1000; i++)
	{
		u = mlc_rng_uniform(&s);
		assert_true(u >= 0.0 && u < 1.0);
	}
}

/* ---------- elastic net ---------- */

#define EN_N 400
#define EN_P 6

static void
en_data(double *X, double *y)
{
	static const double beta[EN_P] = {2.0, -1.0, 0.0, 0.5, 0.0, -3.0};
	uint64_t	s = 1;
	int			i,
				j;

	for (i = 0; i < EN_N; i++)
	{
		double		f = gval(&s),
					v = 1.0;

		for (j = 0; j < EN_P; j++)
		{
			double		x = gval(&s) + f * (0.5 + 0.125 * j) + 3.0 * j;

			X[i + j * EN_N] = x;
			v = v + beta[j] * x;
		}
		y[i] = v + 0.5 * gval(&s);
	}
}

typedef struct hist_rec
{
	int			calls;
	int			last_iter;
	int			increased;
	double		last_obj;
} hist_rec;

static void
record_history(int iteration, double objective, double max_change, void *arg)
{
	hist_rec   *h = arg;

	h->calls++;
	/* coordinate descent never increases the objective (up to rounding) */
	if (h->calls > 1 && objective > h->last_obj * (1 + 1e-12))
		h->increased = 1;
	h->last_iter = iteration;
	h->last_obj = objective;
	(void) max_change;
}

static void
test_elastic_net_sklearn(void **state)
{
	static const struct
	{
		double		alpha,
					l1_ratio,
					intercept,
					coef[EN_P];
	}			cases[] = {
		{0.1, 1.0, -0.5320594370121796,
		{1.859876642620001, -0.9267226668762291, 0.0, 0.40412101302332176, 0.0, -2.8587102102832818}},
		{0.05, 0.5, -1.1171124664977796,
		{1.8697375311056086, -0.9888658850529963, 0.0, 0.4401356173815766, 0.0, -2.82892323252838}},
		{0.3, 1.0, -2.3452323732757563,
		{1.5867722898048595, -0.737736833765052, 0.0, 0.1566572883577435, 0.0, -2.628219230730438}},
	};
	double	   *X = malloc(sizeof(double) * EN_N * EN_P),
			   *y = malloc(sizeof(double) * EN_N),
			   *stats;
	int			t,
				j,
				p1 = EN_P + 1;

	en_data(X, y);
	stats = merged_stats(EN_N, EN_P, X, y, 37);
	for (t = 0; t < (int) (sizeof(cases) / sizeof(cases[0])); t++)
	{
		mlc_linear_model m;
		mlc_cd_info info;
		hist_rec	h = {0, 0, 0, 0.0};
		mlc_error	err;

		assert_int_equal(mlc_elastic_net_solve(EN_P, stats + 1 + p1, stats + 1,
											   (int64_t) stats[0], cases[t].alpha,
											   cases[t].l1_ratio, 1e-12, 100000, &m,
											   &info, record_history, &h, &err), MLC_OK);
		assert_int_equal(m.p, EN_P);
		assert_true(info.converged);
		assert_int_equal(h.calls, info.iterations);
		assert_int_equal(h.last_iter, info.iterations);
		assert_false(h.increased);
		assert_true(h.last_obj == info.objective);
		assert_true(fabs(m.intercept - cases[t].intercept) <= 1e-6);
		for (j = 0; j < EN_P; j++)
		{
			assert_true(fabs(m.coef[j] - cases[t].coef[j]) <= 1e-6);
			/* the lasso zeros are exact zeros */
			if (cases[t].coef[j] == 0.0)
				assert_true(m.coef[j] == 0.0);
			else
				assert_true(m.coef[j] != 0.0);
		}
		mlc_free(m.coef);
	}
	free(stats);
	free(X);
	free(y);
}

static void
test_elastic_net_edges(void **state)
{
	int			n = EN_N,
				p = EN_P + 1,
				p1 = p + 1,
				i,
				j;
	double	   *X = malloc(sizeof(double) * n * p),
			   *y = malloc(sizeof(double) * n),
			   *stats,
			   *R;
	mlc_linear_model m,
				ols;
	mlc_linear_summary sum;
	mlc_cd_info info;
	mlc_error	err;

	/* the elastic net data plus a constant last feature */
	en_data(X, y);
	for (i = 0; i < n; i++)
		X[i + EN_P * n] = 4.25;
	stats = merged_stats(n, p, X, y, 50);
	R = stats + 1 + p1;

	/* alpha = 0 is least squares; the constant feature gets 0 */
	assert_int_equal(mlc_elastic_net_solve(p, R, stats + 1, (int64_t) stats[0], 0.0, 1.0,
										   1e-14, 100000, &m, &info, NULL, NULL, &err), MLC_OK);
	assert_true(m.coef[EN_P] == 0.0);
	mlc_free(m.coef);
	{
		/* the same without the constant column, by plain OLS */
		double	   *s2 = merged_stats(n, EN_P, X, y, 50);

		assert_int_equal(mlc_elastic_net_solve(EN_P, s2 + 1 + EN_P + 1, s2 + 1,
											   (int64_t) s2[0], 0.0, 0.5, 1e-14, 100000,
											   &m, &info, NULL, NULL, &err), MLC_OK);
		assert_int_equal(mlc_linear_solve(EN_P, s2 + 1 + EN_P + 1, s2 + 1, (int64_t) s2[0],
										  0.0, &ols, &sum, &err), MLC_OK);
		for (j = 0; j < EN_P; j++)
			assert_true(fabs(m.coef[j] - ols.coef[j]) <= 1e-9);
		assert_true(fabs(m.intercept - ols.intercept) <= 1e-8);
		mlc_free(m.coef);
		unit_free_fit(&ols, &sum);
		free(s2);
	}

	/* a huge alpha zeroes everything: intercept = mean of y, one sweep */
	assert_int_equal(mlc_elastic_net_solve(p, R, stats + 1, (int64_t) stats[0], 1e6, 1.0,
										   1e-4, 100, &m, &info, NULL, NULL, &err), MLC_OK);
	for (j = 0; j < p; j++)
		assert_true(m.coef[j] == 0.0);
	assert_true(m.intercept == stats[1 + p]);
	assert_int_equal(info.iterations, 1);
	assert_true(info.converged);
	mlc_free(m.coef);

	/* max_iter reached */
	assert_int_equal(mlc_elastic_net_solve(p, R, stats + 1, (int64_t) stats[0], 0.01, 0.5,
										   0.0, 2, &m, &info, NULL, NULL, &err), MLC_OK);
	assert_int_equal(info.iterations, 2);
	assert_false(info.converged);
	mlc_free(m.coef);

	/* invalid arguments */
	assert_int_equal(mlc_elastic_net_solve(p, R, stats + 1, 0, 0.1, 0.5, 1e-4, 10, &m,
										   NULL, NULL, NULL, &err), MLC_EINVAL);
	assert_int_equal(mlc_elastic_net_solve(p, R, stats + 1, n, -0.1, 0.5, 1e-4, 10, &m,
										   NULL, NULL, NULL, &err), MLC_EINVAL);
	assert_int_equal(mlc_elastic_net_solve(p, R, stats + 1, n, 0.1, 1.5, 1e-4, 10, &m,
										   NULL, NULL, NULL, &err), MLC_EINVAL);
	assert_int_equal(mlc_elastic_net_solve(p, R, stats + 1, n, 0.1, NAN, 1e-4, 10, &m,
										   NULL, NULL, NULL, &err), MLC_EINVAL);
	assert_int_equal(mlc_elastic_net_solve(p, R, stats + 1, n, 0.1, 0.5, 1e-4, 0, &m,
										   NULL, NULL, NULL, &err), MLC_EINVAL);
	assert_int_equal(mlc_elastic_net_solve(p, NULL, stats + 1, n, 0.1, 0.5, 1e-4, 10, &m,
										   NULL, NULL, NULL, &err), MLC_EINVAL);
	assert_int_equal(mlc_elastic_net_solve(0, R, stats + 1, n, 0.1, 0.5, 1e-4, 10, &m,
										   NULL, NULL, NULL, &err), MLC_EINVAL);
	R[0] = INFINITY;
	assert_int_equal(mlc_elastic_net_solve(p, R, stats + 1, n, 0.1, 0.5, 1e-4, 10, &m,
										   NULL, NULL, NULL, &err), MLC_EINVAL);
	free(stats);
	free(X);
	free(y);
}

/* ---------- PCA ---------- */

static void
test_pca_sklearn(void **state)
{
	static const double ev[EN_P] = {6.904561657714374, 1.6470535373774207, 1.3907028747964354,
	1.2767306301637007, 1.1879682722050684, 1.065166657842136};
	static const double evr[EN_P] = {0.5125050138337199, 0.1222558705106739, 0.10322772558483911,
	0.09476790587319998, 0.08817934084204036, 0.07906414335552653};
	static const double comp[EN_P][EN_P] = {
		{-0.2491451958733515, -0.29537833673488917, -0.37013856826031005, -0.40772681775812303, -0.49098204449892185, -0.5535081064516219},
		{0.34261129274676744, 0.4477543306974857, 0.48225658933347654, -0.5604805799775495, -0.3672799212137295, 0.023002660927478318},
		{-0.1313790588670415, -0.3739137867316655, 0.7605728599103881, 0.29490125769898834, -0.05590786639063915, -0.4175697623561013},
		{0.015746421945417196, -0.514709863678084, 0.129640511342699, -0.6337068155139586, 0.5353080407589847, 0.17285866399212715},
		{-0.4629176876685911, -0.24535247005914382, 0.14222483387853646, -0.008832940755166042, -0.4879027558157105, 0.6834869102863019},
		{0.767295888811031, -0.49732494336170946, -0.12214901368987746, 0.176043349448913, -0.31034272070527763, 0.14731148291496424},
	};
	double	   *X = malloc(sizeof(double) * EN_N * EN_P),
			   *y = malloc(sizeof(double) * EN_N),
			   *stats,
				c[EN_P * EN_P],
				v[EN_P],
				r[EN_P],
				c2[2 * EN_P];
	int			p1 = EN_P + 1,
				i,
				j;
	mlc_error	err;

	en_data(X, y);
	stats = merged_stats(EN_N, EN_P, X, y, 64);
	/* the X block of the [X y] stats R, leading dimension p + 1 */
	assert_int_equal(mlc_pca_from_r(EN_P, stats + 1 + p1, p1, (int64_t) stats[0], EN_P,
									c, v, r, &err), MLC_OK);
	for (i = 0; i < EN_P; i++)
	{
		double		dot = 0.0,
					sgn;
		int			imax = 0;

		assert_true(unit_reldiff(v[i], ev[i]) <= 1e-9);
		assert_true(unit_reldiff(r[i], evr[i]) <= 1e-9);
		for (j = 0; j < EN_P; j++)
		{
			dot += c[i * EN_P + j] * comp[i][j];
			if (fabs(c[i * EN_P + j]) > fabs(c[i * EN_P + imax]))
				imax = j;
		}
		sgn = dot < 0 ? -1.0 : 1.0;
		for (j = 0; j < EN_P; j++)
			assert_true(fabs(c[i * EN_P + j] - sgn * comp[i][j]) <= 1e-8);
		/* our sign rule: the largest |entry| is positive */
		assert_true(c[i * EN_P + imax] > 0.0);
	}
	/* fewer components: the leading ones, bit for bit; NULL optional outputs */
	assert_int_equal(mlc_pca_from_r(EN_P, stats + 1 + p1, p1, (int64_t) stats[0], 2,
									c2, NULL, NULL, &err), MLC_OK);
	assert_memory_equal(c2, c, sizeof(double) * 2 * EN_P);

	assert_int_equal(mlc_pca_from_r(EN_P, stats + 1 + p1, p1, 1, 2, c2, v, r, &err), MLC_EINVAL);
	assert_int_equal(mlc_pca_from_r(EN_P, stats + 1 + p1, p1, EN_N, 0, c2, v, r, &err), MLC_EINVAL);
	assert_int_equal(mlc_pca_from_r(EN_P, stats + 1 + p1, p1, EN_N, EN_P + 1, c, v, r, &err), MLC_EINVAL);
	assert_int_equal(mlc_pca_from_r(EN_P, stats + 1 + p1, EN_P - 1, EN_N, 2, c2, v, r, &err), MLC_EINVAL);
	assert_int_equal(mlc_pca_from_r(EN_P, NULL, p1, EN_N, 2, c2, v, r, &err), MLC_EINVAL);
	stats[1 + p1 + p1 + 1] = NAN;	/* R[1][1] */
	assert_int_equal(mlc_pca_from_r(EN_P, stats + 1 + p1, p1, EN_N, 2, c2, v, r, &err), MLC_EINVAL);
	free(stats);
	free(X);
	free(y);
}

/* PCA of a zero R: zero variances and ratios, unit components. */
static void
test_pca_degenerate(void **state)
{
	double		R[4] = {0, 0, 0, 0},
				c[4],
				v[2],
				r[2];
	mlc_error	err;

	assert_int_equal(mlc_pca_from_r(2, R, 2, 10, 2, c, v, r, &err), MLC_OK);
	assert_true(v[0] == 0.0 && v[1] == 0.0 && r[0] == 0.0 && r[1] == 0.0);
	assert_true(fabs(c[0] * c[0] + c[1] * c[1] - 1.0) < 1e-15);
}

/* ---------- k-means ---------- */

#define KM_N 300
#define KM_D 2
#define KM_K 3
#define KM_RUNS 10

static void
blob_data(double *X)
{
	static const double C[3][2] = {{0.0, 0.0}, {6.0, 1.0}, {2.0, 7.0}};
	uint64_t	s = 7;
	int			i,
				j;

	for (i = 0; i < KM_N; i++)
		for (j = 0; j < KM_D; j++)
		{
			double		a = gval(&s);

			X[i + j * KM_N] = C[i % 3][j] + 0.5 * (a + gval(&s));
		}
}

/*
 * Lloyd iterations of KM_RUNS runs until every shift is 0, over chunks of
 * chunk_rows rows; returns the final partial (inertia of the final centroids).
 */
static int
run_lloyd(const double *X, int chunk_rows, double *cent, double *total)
{
	size_t		np = MLC_KMEANS_PARTIAL_DOUBLES(KM_K, KM_D, KM_RUNS);
	double	   *part = calloc(np, sizeof(double));
	double	   *Xc = calloc((size_t) chunk_rows * KM_D, sizeof(double));
	double		yc[KM_N],
				shift[KM_RUNS];
	int			iter,
				r;
	mlc_error	err;

	for (iter = 1; iter <= 300; iter++)
	{
		int			i0,
					done = 1;

		for (i0 = 0; i0 < KM_N; i0 += chunk_rows)
		{
			int			m = i0 + chunk_rows < KM_N ? chunk_rows : KM_N - i0;
			mlc_block	b;

			take_rows(KM_N, KM_D, X, X, i0, m, Xc, yc, &b);
			b.y = NULL;			/* ignored */
			assert_int_equal(mlc_kmeans_chunk(&b, KM_K, KM_RUNS, cent,
											  i0 == 0 ? total : part, &err), MLC_OK);
			if (i0 > 0)
				mlc_kmeans_combine(KM_K, KM_D, KM_RUNS, total, part);
		}
		assert_int_equal(mlc_kmeans_update(KM_K, KM_D, KM_RUNS, total, cent, shift, &err), MLC_OK);
		for (r = 0; r < KM_RUNS; r++)
			if (shift[r] != 0.0)
				done = 0;
		if (done)
			break;
	}
	free(part);
	free(Xc);
	return iter;
}

static void
test_kmeans_sklearn(void **state)
{
	double		X[KM_N * KM_D],
				init[KM_RUNS * KM_K * KM_D],
				c1[KM_RUNS * KM_K * KM_D],
				c2[KM_RUNS * KM_K * KM_D];
	size_t		np = MLC_KMEANS_PARTIAL_DOUBLES(KM_K, KM_D, KM_RUNS);
	double	   *t1 = calloc(np, sizeof(double)),
			   *t2 = calloc(np, sizeof(double));
	size_t		stride = KM_K + KM_K * KM_D + 1;
	int			r,
				i,
				c,
				best = 0,
				label[KM_N],
				it1,
				it2;
	mlc_error	err;
	double		sil;

	blob_data(X);
	for (r = 0; r < KM_RUNS; r++)
	{
		double		again[KM_K * KM_D];

		assert_int_equal(mlc_kmeans_plusplus(KM_N, KM_D, X, KM_K, 1000 + r,
											 init + r * KM_K * KM_D, &err), MLC_OK);
		/* deterministic from the seed */
		assert_int_equal(mlc_kmeans_plusplus(KM_N, KM_D, X, KM_K, 1000 + r, again, &err), MLC_OK);
		assert_memory_equal(again, init + r * KM_K * KM_D, sizeof(again));
	}
	memcpy(c1, init, sizeof(init));
	memcpy(c2, init, sizeof(init));
	it1 = run_lloyd(X, 37, c1, t1);
	it2 = run_lloyd(X, KM_N, c2, t2);
	assert_true(it1 <= 300);
	assert_int_equal(it1, it2);
	/*
	 * Chunked vs unchunked: the data are dyadic with few bits, so every
	 * coordinate sum is exact in any order and counts, sums and centroids
	 * are bit-identical; the inertia is a rounded sum whose grouping
	 * follows the chunks, so it agrees to rounding only.
	 */
	assert_memory_equal(c1, c2, sizeof(c1));
	for (r = 0; r < KM_RUNS; r++)
	{
		assert_memory_equal(t1 + r * stride, t2 + r * stride, sizeof(double) * (stride - 1));
		assert_true(unit_reldiff(t1[r * stride + stride - 1], t2[r * stride + stride - 1]) <= 1e-13);
		if (t1[r * stride + stride - 1] < t1[best * stride + stride - 1])
			best = r;
	}
	/* scikit-learn KMeans(n_clusters=3, n_init=10, random_state=0).inertia_ */
	assert_true(t1[best * stride + stride - 1] <= 411.9821841793388 * (1 + 1e-9));
	assert_true(t1[best * stride + stride - 1] >= 411.9821841793388 * (1 - 1e-9));

	/* labels of the best run, then the silhouette */
	for (i = 0; i < KM_N; i++)
	{
		double		bd = INFINITY;

		label[i] = 0;
		for (c = 0; c < KM_K; c++)
		{
			const double *cc = c1 + (best * KM_K + c) * KM_D;
			double		dx = X[i] - cc[0],
						dy = X[i + KM_N] - cc[1],
						dd = dx * dx + dy * dy;

			if (dd < bd)
			{
				bd = dd;
				label[i] = c;
			}
		}
	}
	sil = mlc_kmeans_silhouette(KM_N, KM_D, X, label, KM_K);
	assert_true(fabs(sil - 0.7619657409704077) <= 1e-12);
	free(t1);
	free(t2);
}

static int
always_interrupted(void)
{
	return 1;
}

static void
test_kmeans_small(void **state)
{
	/* five points on a line: {0, 1} {10, 11} {30} */
	double		X[5] = {0, 1, 10, 11, 30},
				cent[5],
				part[3 + 3 + 1],
				shift;
	int			label[5] = {0, 0, 1, 1, 2};
	long double s1 = 9.5L / 10.5L,
				s2 = 8.5L / 9.5L;
	mlc_block	b = {5, 1, X, NULL};
	mlc_error	err;
	double		sil;

	/* closed form: s = (b - a) / max(a, b); the singleton counts 0 */
	sil = mlc_kmeans_silhouette(5, 1, X, label, 3);
	assert_true(fabs(sil - (double) ((2 * s1 + 2 * s2) / 5)) <= 1e-15);
	label[4] = 1;
	label[2] = 0;
	label[3] = 0;
	label[0] = 0;
	label[1] = 0;
	assert_true(isnan(mlc_kmeans_silhouette(4, 1, X, label, 3)));	/* one cluster */
	label[0] = 3;
	assert_true(isnan(mlc_kmeans_silhouette(5, 1, X, label, 3)));

	/* ties go to the lowest index; an empty cluster keeps its centroid */
	cent[0] = 5.0;
	cent[1] = 5.0;
	cent[2] = 40.0;
	assert_int_equal(mlc_kmeans_chunk(&b, 3, 1, cent, part, &err), MLC_OK);
	assert_true(part[0] == 4 && part[1] == 0 && part[2] == 1);
	assert_true(part[3] == 22 && part[4] == 0 && part[5] == 30);
	assert_true(part[6] == 25 + 16 + 25 + 36 + 100);
	assert_int_equal(mlc_kmeans_update(3, 1, 1, part, cent, &shift, &err), MLC_OK);
	assert_true(cent[0] == 5.5 && cent[1] == 5.0 && cent[2] == 30.0);
	assert_true(shift == 0.25 + 100);

	/* k-means++ stops when the interrupt hook asks, and runs on without it */
	mlc_set_interrupt(always_interrupted);
	assert_int_equal(mlc_kmeans_plusplus(5, 1, X, 3, 42, cent, &err), MLC_EINTR);
	mlc_set_interrupt(NULL);

	/* k-means++ picks rows; k > n is an error */
	assert_int_equal(mlc_kmeans_plusplus(5, 1, X, 5, 42, cent, &err), MLC_OK);
	assert_int_equal(mlc_kmeans_plusplus(5, 1, X, 6, 42, cent, &err), MLC_EINVAL);
	assert_int_equal(mlc_kmeans_plusplus(5, 1, X, 3, 42, cent, &err), MLC_OK);
	assert_true(cent[0] != cent[1] && cent[1] != cent[2] && cent[0] != cent[2]);
	{
		/* all rows equal: still k rows, no failure */
		double		Z[4] = {2, 2, 2, 2};

		assert_int_equal(mlc_kmeans_plusplus(4, 1, Z, 3, 1, cent, &err), MLC_OK);
		assert_true(cent[0] == 2 && cent[1] == 2 && cent[2] == 2);
	}

	/* bad input */
	X[2] = NAN;
	assert_int_equal(mlc_kmeans_chunk(&b, 3, 1, cent, part, &err), MLC_EINVAL);
	assert_int_equal(mlc_kmeans_plusplus(5, 1, X, 2, 42, cent, &err), MLC_EINVAL);
	assert_true(isnan(mlc_kmeans_silhouette(5, 1, X, label, 3)));
	assert_int_equal(mlc_kmeans_chunk(&b, 0, 1, cent, part, &err), MLC_EINVAL);
	part[0] = -1;
	assert_int_equal(mlc_kmeans_update(3, 1, 1, part, cent, &shift, &err), MLC_EINVAL);
}

/*
 * The chunk statistics equal, bit for bit, the documented rule computed row
 * by row: n = 37 (four blocks of 8 and a tail of 5), k = 5 (a group of four
 * centroids and one more), 3 runs, with ties and values of mixed scale.
 */
static void
test_kmeans_chunk_blocks(void **state)
{
	enum
	{
		N = 37, D = 3, K = 5, R = 3
	};
	double		X[N * D],
				cent[R * K * D],
				part[R * (K + K * D + 1)],
				want[R * (K + K * D + 1)];
	uint64_t	rng = 7;
	mlc_block	b = {N, D, X, NULL};
	mlc_error	err;
	size_t		stride = K + K * D + 1;
	int			i,
				j,
				c,
				r;

	for (i = 0; i < N * D; i++)
		X[i] = (i % 7 == 0) ? 1.0 : ldexp(mlc_rng_uniform(&rng) - 0.5, (int) (i % 5) * 8);
	for (i = 0; i < R * K * D; i++)
		cent[i] = (i % 4 == 0) ? 1.0 : ldexp(mlc_rng_uniform(&rng) - 0.5, (int) (i % 5) * 8);
	memcpy(cent + 2 * D, cent + D, sizeof(double) * D);	/* run 0: centroids 1 and 2 tie */

	memset(want, 0, sizeof(want));
	for (i = 0; i < N; i++)
		for (r = 0; r < R; r++)
		{
			double	   *w = want + stride * r,
						best = 0.0;
			int			bc = -1;

			for (c = 0; c < K; c++)
			{
				double		s = 0.0;

				for (j = 0; j < D; j++)
				{
					double		t = X[i + j * N] - cent[(r * K + c) * D + j];

					s += t * t;
				}
				if (bc < 0 || s < best)
				{
					best = s;
					bc = c;
				}
			}
			w[bc] += 1.0;
			for (j = 0; j < D; j++)
				w[K + bc * D + j] += X[i + j * N];
			w[K + K * D] += best;
		}
	assert_int_equal(mlc_kmeans_chunk(&b, K, R, cent, part, &err), MLC_OK);
	assert_memory_equal(part, want, sizeof(want));

	/* a non-finite value is reported at its row, in a block or in the tail */
	X[19 + 2 * N] = INFINITY;
	assert_int_equal(mlc_kmeans_chunk(&b, K, R, cent, part, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "feature 3 of row 20"));
	X[19 + 2 * N] = 0.0;
	X[35] = NAN;
	assert_int_equal(mlc_kmeans_chunk(&b, K, R, cent, part, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "feature 1 of row 36"));
}

/* ---------- naive Bayes ---------- */

/* The documented scoring formula of mlcore.h (naive_bayes entry). */
static void
nb_score(int K, int d, const double *x, const int *group, const double *prior,
		 const double *theta, const double *var, const double *flp, double *proba)
{
	double		jll[8],
				mx = -INFINITY,
				s = 0.0;
	int			c,
				j;

	for (c = 0; c < K; c++)
	{
		double		v = prior[c];

		for (j = 0; j < d; j++)
		{
			size_t		o = (size_t) c * d + j;

			if (group[j] == -1)
			{
				double		t = x[j] - theta[o];

				v += -0.5 * log(2 * M_PI * var[o]) - 0.5 * t * t / var[o];
			}
			else
				v += x[j] * flp[o];
		}
		jll[c] = v;
		if (v > mx)
			mx = v;
	}
	for (c = 0; c < K; c++)
	{
		proba[c] = exp(jll[c] - mx);
		s += proba[c];
	}
	for (c = 0; c < K; c++)
		proba[c] /= s;
}

/* partial over chunks of chunk_rows rows, combined in chunk order */
static void
nb_partial(int n, int d, const double *X, const double *y, int K, int chunk_rows,
		   double *total)
{
	double	   *part = calloc(MLC_NB_PARTIAL_DOUBLES(K, d), sizeof(double));
	double	   *Xc = calloc((size_t) chunk_rows * d, sizeof(double));
	double	   *yc = calloc((size_t) chunk_rows, sizeof(double));
	int			i0;
	mlc_error	err;

	for (i0 = 0; i0 < n; i0 += chunk_rows)
	{
		int			m = i0 + chunk_rows < n ? chunk_rows : n - i0;
		mlc_block	b;

		take_rows(n, d, X, y, i0, m, Xc, yc, &b);
		assert_int_equal(mlc_nb_chunk(&b, K, i0 == 0 ? total : part, &err), MLC_OK);
		if (i0 > 0)
			mlc_nb_combine(K, d, total, part);
	}
	free(part);
	free(Xc);
	free(yc);
}

#define NB_N 300

static void
test_gaussian_nb(void **state)
{
	static const double mu[3][3] = {{0.0, 1.0, 2.0}, {1.0, 0.0, 2.5}, {0.5, 1.5, 1.0}};
	static const double sc[3] = {1.0, 0.5, 2.0};
	static const double Q[5][3] = {{0.0, 1.0, 2.0}, {1.0, 0.5, 2.0}, {0.7, 0.8, 1.5},
	{3.0, -1.0, 0.0}, {0.5, 1.2, 1.8}};
	/* GaussianNB().fit(X, y).predict_proba(Q) */
	static const double P[5][3] = {
		{0.5745523276176452, 0.10306411508175672, 0.32238355730059787},
		{0.34093729051800215, 0.5659172496683591, 0.09314545981363878},
		{0.500521103661808, 0.25700818031005623, 0.2424707160281357},
		{0.0038304437403446838, 0.9960651595936467, 0.0001043966660091812},
		{0.495924417957351, 0.0749010630811844, 0.4291745189614645},
	};
	double		X[NB_N * 3],
				y[NB_N],
				total[MLC_NB_PARTIAL_DOUBLES(3, 3)],
				prior[3],
				theta[9],
				var[9],
				flp[9],
				pr[3];
	int			group[3] = {-1, -1, -1},
				i,
				j,
				c;
	uint64_t	s = 11;
	mlc_error	err;

	for (i = 0; i < NB_N; i++)
	{
		y[i] = i % 3;
		for (j = 0; j < 3; j++)
			X[i + j * NB_N] = mu[i % 3][j] + sc[j] * gval(&s);
	}
	nb_partial(NB_N, 3, X, y, 3, 37, total);

	/* combined partial vs naive long double per class mean and M2 */
	for (c = 0; c < 3; c++)
		for (j = 0; j < 3; j++)
		{
			long double m = 0,
						m2 = 0;

			for (i = c; i < NB_N; i += 3)
				m += X[i + j * NB_N];
			m /= NB_N / 3;
			for (i = c; i < NB_N; i += 3)
				m2 += (X[i + j * NB_N] - m) * (X[i + j * NB_N] - m);
			assert_true(total[c * 7] == NB_N / 3);
			assert_true(fabs(total[c * 7 + 1 + j] - (double) m) <= 1e-14);
			assert_true(unit_reldiff(total[c * 7 + 4 + j], (double) m2) <= 1e-13);
		}

	assert_int_equal(mlc_nb_finalize(3, 3, total, group, 1e-9, 1.0, prior, theta, var,
									 flp, &err), MLC_OK);
	for (c = 0; c < 3; c++)
		assert_true(fabs(prior[c] - log(1.0 / 3.0)) <= 1e-15);
	for (i = 0; i < 9; i++)
		assert_true(flp[i] == 0.0);
	for (i = 0; i < 5; i++)
	{
		nb_score(3, 3, Q[i], group, prior, theta, var, flp, pr);
		for (c = 0; c < 3; c++)
			assert_true(fabs(pr[c] - P[i][c]) <= 1e-9);
	}

	/* errors: empty class, bad class id, bad smoothing, zero variance */
	{
		double		big[MLC_NB_PARTIAL_DOUBLES(4, 3)];

		nb_partial(NB_N, 3, X, y, 4, 100, big);
		assert_int_equal(mlc_nb_finalize(4, 3, big, group, 1e-9, 1.0, prior, theta, var,
										 flp, &err), MLC_ENODATA);
	}
	assert_int_equal(mlc_nb_finalize(3, 3, total, group, -1.0, 1.0, prior, theta, var,
									 flp, &err), MLC_EINVAL);
	{
		double		Xz[4] = {1, 1, 2, 2},
					yz[4] = {0, 0, 1, 1},
					pz[MLC_NB_PARTIAL_DOUBLES(2, 1)];
		int			gz = -1;
		mlc_block	b = {4, 1, Xz, yz};

		assert_int_equal(mlc_nb_chunk(&b, 2, pz, &err), MLC_OK);
		assert_int_equal(mlc_nb_finalize(2, 1, pz, &gz, 0.0, 1.0, prior, theta, var,
										 flp, &err), MLC_ESINGULAR);
		/* var_smoothing 1e-9 times the overall variance 0.25 */
		assert_int_equal(mlc_nb_finalize(2, 1, pz, &gz, 1e-9, 1.0, prior, theta, var,
										 flp, &err), MLC_OK);
		assert_true(var[0] == 0.25e-9 && var[1] == 0.25e-9);
		yz[2] = 2;
		assert_int_equal(mlc_nb_chunk(&b, 2, pz, &err), MLC_EINVAL);
		yz[2] = 0.5;
		assert_int_equal(mlc_nb_chunk(&b, 2, pz, &err), MLC_EINVAL);
		yz[2] = 1;
		Xz[1] = NAN;
		assert_int_equal(mlc_nb_chunk(&b, 2, pz, &err), MLC_EINVAL);
	}
}

#define CNB_N 200

static void
test_categorical_nb(void **state)
{
	/* CategoricalNB(alpha=1).fit(Xint, y).predict_proba([[a, b]]) */
	static const double P[3][2][2] = {
		{{0.5070616603513608, 0.4929383396486393}, {0.310733483613664, 0.6892665163863361}},
		{{0.7272727272727274, 0.27272727272727276}, {0.5388933440256615, 0.4611066559743385}},
		{{0.688328345446772, 0.3116716545532279}, {0.4918444165621078, 0.5081555834378921}},
	};
	double		X[CNB_N * 5],
				y[CNB_N],
				total[MLC_NB_PARTIAL_DOUBLES(2, 5)],
				prior[2],
				theta[10],
				var[10],
				flp[10],
				pr[2];
	int			group[5] = {0, 0, 0, 3, 3},
				i,
				a,
				bb,
				c;
	uint64_t	s = 13;
	mlc_error	err;

	memset(X, 0, sizeof(X));
	for (i = 0; i < CNB_N; i++)
	{
		int			cls = i % 2,
					ca,
					cb;

		y[i] = cls;
		ca = (int) ((mlc_rng_next(&s) >> 33) % (uint64_t) (3 + cls));
		if (ca == 3)
			ca = 0;
		if (cls == 0)
			cb = (int) ((mlc_rng_next(&s) >> 33) % 2);
		else
			cb = (mlc_rng_next(&s) >> 33) % 4 != 0;
		X[i + ca * CNB_N] = 1.0;
		X[i + (3 + cb) * CNB_N] = 1.0;
	}
	nb_partial(CNB_N, 5, X, y, 2, 33, total);
	assert_int_equal(mlc_nb_finalize(2, 5, total, group, 1e-9, 1.0, prior, theta, var,
									 flp, &err), MLC_OK);
	for (i = 0; i < 10; i++)
		assert_true(theta[i] == 0.0 && var[i] == 1.0);
	for (a = 0; a < 3; a++)
		for (bb = 0; bb < 2; bb++)
		{
			double		x[5] = {0, 0, 0, 0, 0};

			x[a] = 1.0;
			x[3 + bb] = 1.0;
			nb_score(2, 5, x, group, prior, theta, var, flp, pr);
			for (c = 0; c < 2; c++)
				assert_true(fabs(pr[c] - P[a][bb][c]) <= 1e-9);
		}
}

int
run_unsupervised_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rng),
		cmocka_unit_test(test_elastic_net_sklearn),
		cmocka_unit_test(test_elastic_net_edges),
		cmocka_unit_test(test_pca_sklearn),
		cmocka_unit_test(test_pca_degenerate),
		cmocka_unit_test(test_kmeans_sklearn),
		cmocka_unit_test(test_kmeans_small),
		cmocka_unit_test(test_kmeans_chunk_blocks),
		cmocka_unit_test(test_gaussian_nb),
		cmocka_unit_test(test_categorical_nb),
	};

	return cmocka_run_group_tests_name("unsupervised", tests, NULL, NULL);
}
