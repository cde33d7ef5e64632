/*
 * test_classify.c: logistic regression (Newton), softmax regression with
 * L-BFGS, and classification metrics.
 *
 * Reference values were computed with Debian's /usr/bin/python3
 * (statsmodels 0.13.5, scikit-learn 1.2.1, numpy 1.24.2, scipy) on data
 * made by the same generators as here (gen_logit, gen_softmax: the
 * xorshift64* / Box-Muller of helpers.c re-implemented in Python, same
 * operation order; the tests check the class counts and sum of X that
 * Python printed, so a generator mismatch shows up as such), printed with
 * 17 significant digits:
 *   statsmodels: sm.Logit(y, sm.add_constant(X)).fit(method='newton', tol=1e-14)
 *   scikit-learn: LogisticRegression(C=1/alpha, tol=1e-12, max_iter=10000,
 *     solver='newton-cg') (multi_class='multinomial' for softmax).  The
 *     default lbfgs solver of scikit-learn 1.2.1 stops 7.7e-7 away from the
 *     optimum in the probabilities even with tol=1e-12 (checked against
 *     scipy BFGS on the same objective to 1e-10), so newton-cg values are used.
 *   metrics: sklearn.metrics accuracy/precision/recall/f1 (average='macro',
 *     labels=range(K), zero_division=0), roc_auc_score, roc_curve
 *     (drop_intermediate=False), log_loss.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* ---------- data generators (mirrored in Python) ---------- */

/* 500 rows, 3 features; y ~ Bernoulli(sigmoid(-0.3 + 0.8 x0 - 0.6 x1 + 0.5 x2)) */
#define LOGIT_N 500
#define LOGIT_P 3
static void
gen_logit(double *X, double *y)
{
	uint64_t	st = 12345;
	int			i;

	for (i = 0; i < LOGIT_N; i++)
	{
		double		x0 = unit_rand_normal(&st);
		double		x1 = 2.0 * unit_rand_normal(&st) + 0.5;
		double		x2 = unit_rand_uniform(&st) * 4.0 - 2.0;
		double		eta = ((-0.3 + 0.8 * x0) + (-0.6 * x1)) + 0.5 * x2;
		double		pr = 1.0 / (1.0 + exp(-eta));

		X[i] = x0;
		X[i + LOGIT_N] = x1;
		X[i + 2 * LOGIT_N] = x2;
		y[i] = unit_rand_uniform(&st) < pr ? 1.0 : 0.0;
	}
}

/* 240 rows, 2 features, 3 classes drawn from a softmax of known scores */
#define SOFT_N 240
#define SOFT_P 2
#define SOFT_K 3
static void
gen_softmax(double *X, double *y)
{
	uint64_t	st = 777;
	int			i;

	for (i = 0; i < SOFT_N; i++)
	{
		double		x0 = unit_rand_normal(&st);
		double		x1 = unit_rand_normal(&st);
		double		z[3],
					e[3],
					m,
					s,
					u;

		z[0] = 0.0;
		z[1] = (0.5 + 1.0 * x0) + (-0.5 * x1);
		z[2] = (-0.3 + (-0.8 * x0)) + 1.2 * x1;
		m = fmax(fmax(z[0], z[1]), z[2]);
		e[0] = exp(z[0] - m);
		e[1] = exp(z[1] - m);
		e[2] = exp(z[2] - m);
		s = (e[0] + e[1]) + e[2];
		u = unit_rand_uniform(&st) * s;
		X[i] = x0;
		X[i + SOFT_N] = x1;
		y[i] = u < e[0] ? 0.0 : (u < e[0] + e[1] ? 1.0 : 2.0);
	}
}

static double
column_sum(int n, int p, const double *X)
{
	double		s = 0.0;
	int			i;

	/* numpy's X.sum() on a row-major array differs in order; compared loosely */
	for (i = 0; i < n * p; i++)
		s += X[i];
	return s;
}

/* ---------- logistic helpers ---------- */

/*
 * Logistic partial over the rows cut at bounds[0] = 0 < ... < bounds[nc] = n
 * (empty chunks allowed), chunks combined in order.
 */
static void
logit_pass(int n, int p, const double *X, const double *y, int nc, const int *bounds,
		   const double *beta, double *acc)
{
	size_t		len = MLC_LOGISTIC_PARTIAL_DOUBLES(p);
	double	   *part = malloc(sizeof(double) * len);
	double	   *Xc = malloc(sizeof(double) * (size_t) n * (p > 0 ? p : 1));
	double	   *yc = malloc(sizeof(double) * (size_t) n);
	mlc_error	err;
	int			c;

	memset(acc, 0, sizeof(double) * len);
	for (c = 0; c < nc; c++)
	{
		mlc_block	b;

		take_rows(n, p, X, y, bounds[c], bounds[c + 1] - bounds[c], Xc, yc, &b);
		assert_int_equal(mlc_logistic_chunk(&b, beta, part, &err), MLC_OK);
		mlc_logistic_combine(p, acc, part);
	}
	free(part);
	free(Xc);
	free(yc);
}

/* Newton until max_step <= 1e-10 (1 + max|beta|); then acc is the partial at beta. */
static int
logit_fit(int n, int p, const double *X, const double *y, int nc, const int *bounds,
		  double alpha, double *beta, double *acc)
{
	int			d = p + 1,
				it,
				j;
	mlc_error	err;

	for (j = 0; j < d; j++)
		beta[j] = 0.0;
	for (it = 1; it <= 50; it++)
	{
		double		ms,
					mb = 0.0;

		logit_pass(n, p, X, y, nc, bounds, beta, acc);
		assert_int_equal(mlc_logistic_newton(p, acc, alpha, beta, beta, &ms, &err), MLC_OK);
		for (j = 0; j < d; j++)
			mb = fmax(mb, fabs(beta[j]));
		if (ms <= 1e-10 * (1.0 + mb))
			break;
	}
	assert_true(it <= 50);
	/* statistics at the final coefficients */
	logit_pass(n, p, X, y, nc, bounds, beta, acc);
	return it;
}

/* ---------- logistic tests ---------- */

static void
test_logistic_statsmodels(void **state)
{
	static const double sm_params[4] = {
		-0.38192186635686098, 0.55147920164642483, -0.5036510850807886, 0.37731401636893552
	};
	static const double sm_bse[4] = {
		0.10662502306719301, 0.1129356612594674, 0.064467057306926187, 0.090237535813840405
	};
	static const double sm_pvalues[4] = {
		0.0003410835926872954, 1.044164538780979e-06, 5.6049462200700678e-15, 2.8979334011203314e-05
	};
	double	   *X = malloc(sizeof(double) * LOGIT_N * LOGIT_P);
	double	   *y = malloc(sizeof(double) * LOGIT_N);
	double	   *acc = malloc(sizeof(double) * MLC_LOGISTIC_PARTIAL_DOUBLES(LOGIT_P));
	double		beta[4];
	int			bounds[4] = {0, 170, 330, LOGIT_N};
	struct mlc_logistic_summary s;
	mlc_error	err;
	int			j,
				it;

	gen_logit(X, y);
	/* the generator matches Python's: 187 positives, sum of X 270.86559563142549 */
	assert_int_equal((int) column_sum(LOGIT_N, 1, y), 187);
	assert_true(fabs(column_sum(LOGIT_N, LOGIT_P, X) - 270.86559563142549) < 1e-9);

	it = logit_fit(LOGIT_N, LOGIT_P, X, y, 3, bounds, 0.0, beta, acc);
	assert_true(it >= 4 && it <= 12);
	assert_int_equal(mlc_logistic_summary(LOGIT_P, acc, 0.0, beta, &s, &err), MLC_OK);
	for (j = 0; j < 4; j++)
	{
		assert_true(unit_reldiff(beta[j], sm_params[j]) < 1e-8);
		assert_true(unit_reldiff(s.std_error[j], sm_bse[j]) < 1e-8);
		assert_true(unit_reldiff(s.p_value[j], sm_pvalues[j]) < 1e-6);
		assert_true(unit_reldiff(s.z[j], beta[j] / s.std_error[j]) < 1e-15);
		assert_true(unit_reldiff(s.odds_ratio[j], exp(beta[j])) < 1e-15);
	}
	assert_int_equal(s.n, LOGIT_N);
	assert_int_equal(s.n_positive, 187);
	assert_int_equal(s.p, LOGIT_P);
	assert_true(unit_reldiff(s.loglik, -270.08516790178521) < 1e-12);
	/* statsmodels' llnull (-330.52513927440566) comes from an iterative
	 * intercept-only fit that stops 1.6e-10 short; the closed form
	 * 187 ln(187/500) + 313 ln(313/500) (python math) is exact */
	assert_true(unit_reldiff(s.null_loglik, -330.52513922022024) < 1e-14);
	assert_true(unit_reldiff(s.null_loglik, -330.52513927440566) < 1e-9);
	assert_true(unit_reldiff(s.deviance, 2 * 270.08516790178521) < 1e-12);
	assert_true(unit_reldiff(s.aic, 548.17033580357042) < 1e-12);
	assert_true(unit_reldiff(s.bic, 565.02876819725918) < 1e-12);
	assert_true(unit_reldiff(s.pseudo_r2, 0.18286043676140906) < 1e-12);	/* 1 - llf / exact llnull */
	assert_true(unit_reldiff(s.pseudo_r2, 0.18286043689536879) < 1e-8);	/* statsmodels' prsquared */
	/* at the optimum the gradient vanishes */
	for (j = 0; j < 4; j++)
		assert_true(fabs(acc[3 + j]) < 1e-8);
	mlc_logistic_summary_free(&s);
	assert_null(s.std_error);
	mlc_logistic_summary_free(&s);	/* idempotent */
	free(X);
	free(y);
	free(acc);
}

static void
test_logistic_chunking(void **state)
{
	double	   *X = malloc(sizeof(double) * LOGIT_N * LOGIT_P);
	double	   *y = malloc(sizeof(double) * LOGIT_N);
	size_t		len = MLC_LOGISTIC_PARTIAL_DOUBLES(LOGIT_P);
	double	   *a1 = malloc(sizeof(double) * len);
	double	   *a2 = malloc(sizeof(double) * len);
	double		b1[4],
				b2[4],
				b3[4],
				fixed[4] = {0.3, -0.2, 0.1, 0.7};
	int			one[2] = {0, LOGIT_N};
	int			seven[8] = {0, 1, 64, 64, 200, 333, 499, LOGIT_N};	/* includes an empty chunk */
	int			thirds[4] = {0, 170, 330, LOGIT_N};
	size_t		i;
	int			j;

	gen_logit(X, y);
	/* partials at a fixed point */
	logit_pass(LOGIT_N, LOGIT_P, X, y, 1, one, fixed, a1);
	logit_pass(LOGIT_N, LOGIT_P, X, y, 7, seven, fixed, a2);
	for (i = 0; i < len; i++)
		assert_true(unit_reldiff(a1[i], a2[i]) < 1e-13);
	/* the fits */
	logit_fit(LOGIT_N, LOGIT_P, X, y, 1, one, 0.0, b1, a1);
	logit_fit(LOGIT_N, LOGIT_P, X, y, 7, seven, 0.0, b2, a2);
	logit_fit(LOGIT_N, LOGIT_P, X, y, 3, thirds, 0.0, b3, a2);
	for (j = 0; j < 4; j++)
	{
		assert_true(unit_reldiff(b1[j], b2[j]) < 1e-13);
		assert_true(unit_reldiff(b1[j], b3[j]) < 1e-13);
	}
	/* the same chunking twice is bit-identical */
	logit_fit(LOGIT_N, LOGIT_P, X, y, 7, seven, 0.0, b3, a1);
	assert_memory_equal(b2, b3, sizeof(b2));
	free(X);
	free(y);
	free(a1);
	free(a2);
}

/* Partial against a naive long-double computation, including extreme scores. */
static void
test_logistic_partial_naive(void **state)
{
	enum
	{
		n = 40, p = 2, d = 3
	};
	double		X[n * p],
				y[n],
				beta[d] = {0.5, 3.0, -2.0},
				part[MLC_LOGISTIC_PARTIAL_DOUBLES(2)];
	long double ll = 0,
				g[d] = {0},
				H[d * d] = {0};
	uint64_t	st = 99;
	mlc_block	b = {n, p, X, y};
	mlc_error	err;
	int			i,
				j,
				k;

	for (i = 0; i < n; i++)
	{
		X[i] = unit_rand_normal(&st) * 3.0;
		X[i + n] = unit_rand_normal(&st);
		y[i] = unit_rand_uniform(&st) < 0.5 ? 1.0 : 0.0;
	}
	/* rows with |eta| in the hundreds: log(1 + exp) must not overflow */
	X[0] = 300.0;
	y[0] = 0.0;
	X[1] = -250.0;
	y[1] = 1.0;
	X[2] = 200.0;
	y[2] = 1.0;
	assert_int_equal(mlc_logistic_chunk(&b, beta, part, &err), MLC_OK);
	for (i = 0; i < n; i++)
	{
		long double xt[d] = {1.0L, X[i], X[i + n]};
		long double eta = beta[0] + beta[1] * xt[1] + beta[2] * xt[2];
		long double mu = 1.0L / (1.0L + expl(-eta));
		long double sp = eta > 0 ? eta + log1pl(expl(-eta)) : log1pl(expl(eta));

		ll += y[i] * eta - sp;
		for (j = 0; j < d; j++)
		{
			g[j] += (y[i] - mu) * xt[j];
			for (k = 0; k < d; k++)
				H[j + k * d] += mu * (1 - mu) * xt[j] * xt[k];
		}
	}
	assert_true(isfinite(part[1]));
	assert_true(part[1] < -800.0);	/* row 0 alone costs about 900.5 */
	assert_true(part[0] == n);
	assert_true(unit_reldiff(part[1], (double) ll) < 1e-13);
	for (j = 0; j < d; j++)
		assert_true(fabs(part[3 + j] - (double) g[j]) < 1e-12 * (1 + fabsl(g[j])) + 1e-12);
	for (j = 0; j < d * d; j++)
		assert_true(unit_reldiff(part[3 + d + j], (double) H[j]) < 1e-12);
	/* symmetric, exactly */
	for (j = 0; j < d; j++)
		for (k = 0; k < d; k++)
			assert_true(part[3 + d + j + k * d] == part[3 + d + k + j * d]);
}

static void
test_logistic_penalized(void **state)
{
	/* scikit-learn LogisticRegression(C=0.5, tol=1e-12, solver='newton-cg') */
	static const double sk[4] = {
		-0.38122864254692518, 0.5368033826064641, -0.4978426083197543, 0.37057555448288493
	};
	double	   *X = malloc(sizeof(double) * LOGIT_N * LOGIT_P);
	double	   *y = malloc(sizeof(double) * LOGIT_N);
	double	   *acc = malloc(sizeof(double) * MLC_LOGISTIC_PARTIAL_DOUBLES(LOGIT_P));
	double		beta[4];
	int			bounds[4] = {0, 100, 101, LOGIT_N};
	struct mlc_logistic_summary s;
	mlc_error	err;
	int			j;

	gen_logit(X, y);
	logit_fit(LOGIT_N, LOGIT_P, X, y, 3, bounds, 2.0, beta, acc);
	for (j = 0; j < 4; j++)
		assert_true(unit_reldiff(beta[j], sk[j]) < 1e-6);
	/* stationarity of the penalized objective */
	assert_true(fabs(acc[3]) < 1e-8);
	for (j = 1; j < 4; j++)
		assert_true(fabs(acc[3 + j] - 2.0 * beta[j]) < 1e-8);
	/* penalized standard errors are smaller than the unpenalized ones */
	assert_int_equal(mlc_logistic_summary(LOGIT_P, acc, 2.0, beta, &s, &err), MLC_OK);
	assert_true(s.std_error[1] < 0.1129356612594674);
	assert_true(s.std_error[1] > 0.09);
	mlc_logistic_summary_free(&s);
	free(X);
	free(y);
	free(acc);
}

static void
test_logistic_errors(void **state)
{
	double		X[8] = {1, 2, 3, 4, 2, 4, 6, 8};	/* second column = 2 * first */
	double		y[4] = {0, 1, 0, 1};
	double		beta[3] = {0, 0, 0},
				bn[3],
				ms;
	double		part[MLC_LOGISTIC_PARTIAL_DOUBLES(2)];
	mlc_block	b = {4, 2, X, y};
	struct mlc_logistic_summary s;
	mlc_error	err;
	size_t		i;

	/* collinear: singular Hessian */
	assert_int_equal(mlc_logistic_chunk(&b, beta, part, &err), MLC_OK);
	assert_int_equal(mlc_logistic_newton(2, part, 0.0, beta, bn, &ms, &err), MLC_ESINGULAR);
	assert_int_equal(err.code, MLC_ESINGULAR);
	assert_int_equal(mlc_logistic_summary(2, part, 0.0, beta, &s, &err), MLC_ESINGULAR);
	assert_null(s.std_error);
	/* a penalty makes it solvable */
	assert_int_equal(mlc_logistic_newton(2, part, 1.0, beta, bn, &ms, &err), MLC_OK);
	assert_true(ms > 0.0);

	/* bad class id, named by row */
	y[2] = 2.0;
	assert_int_equal(mlc_logistic_chunk(&b, beta, part, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "row 2"));
	y[2] = NAN;
	assert_int_equal(mlc_logistic_chunk(&b, beta, part, &err), MLC_EINVAL);
	y[2] = 0.0;
	X[5] = INFINITY;
	assert_int_equal(mlc_logistic_chunk(&b, beta, part, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "row 1"));
	X[5] = 4.0;
	beta[1] = NAN;
	assert_int_equal(mlc_logistic_chunk(&b, beta, part, &err), MLC_EINVAL);
	beta[1] = 0.0;

	/* empty chunk: zeros; then no data to solve */
	b.n = 0;
	for (i = 0; i < sizeof(part) / sizeof(part[0]); i++)
		part[i] = 7.0;
	assert_int_equal(mlc_logistic_chunk(&b, beta, part, &err), MLC_OK);
	for (i = 0; i < sizeof(part) / sizeof(part[0]); i++)
		assert_true(part[i] == 0.0);
	assert_int_equal(mlc_logistic_newton(2, part, 0.0, beta, bn, &ms, &err), MLC_ENODATA);

	/* argument checks */
	b.n = -1;
	assert_int_equal(mlc_logistic_chunk(&b, beta, part, &err), MLC_EINVAL);
	b.n = 4;
	b.p = -1;
	assert_int_equal(mlc_logistic_chunk(&b, beta, part, &err), MLC_EINVAL);
	b.p = 2;
	b.X = NULL;
	assert_int_equal(mlc_logistic_chunk(&b, beta, part, &err), MLC_EINVAL);
	assert_int_equal(mlc_logistic_chunk(NULL, beta, part, &err), MLC_EINVAL);
	b.X = X;
	assert_int_equal(mlc_logistic_chunk(&b, beta, part, &err), MLC_OK);
	assert_int_equal(mlc_logistic_newton(2, part, -1.0, beta, bn, &ms, &err), MLC_EINVAL);
	assert_int_equal(mlc_logistic_newton(2, part, NAN, beta, bn, &ms, &err), MLC_EINVAL);
	assert_int_equal(mlc_logistic_newton(2, NULL, 0.0, beta, bn, &ms, &err), MLC_EINVAL);
	assert_int_equal(mlc_logistic_newton(2, part, 1.0, beta, bn, NULL, &err), MLC_EINVAL);
	assert_int_equal(mlc_logistic_summary(2, part, 1.0, beta, NULL, &err), MLC_EINVAL);
	part[4] = NAN;
	assert_int_equal(mlc_logistic_newton(2, part, 1.0, beta, bn, &ms, &err), MLC_EINVAL);

	/* one class only: the null log-likelihood is 0 and McFadden's R2 undefined */
	{
		double		y1[4] = {1, 1, 1, 1};
		double		X1[4] = {0.1, -0.3, 0.2, 0.5};
		double		bb[2] = {0, 0};
		double		pp[MLC_LOGISTIC_PARTIAL_DOUBLES(1)];
		mlc_block	b1 = {4, 1, X1, y1};

		assert_int_equal(mlc_logistic_chunk(&b1, bb, pp, &err), MLC_OK);
		assert_int_equal(mlc_logistic_summary(1, pp, 0.0, bb, &s, &err), MLC_OK);
		assert_true(s.null_loglik == 0.0);
		assert_true(isnan(s.pseudo_r2));
		assert_true(unit_reldiff(s.loglik, 4 * log(0.5)) < 1e-15);
		mlc_logistic_summary_free(&s);
	}
	/* p = 0: intercept-only model converges to logit(n1 / n) */
	{
		double		yy[5] = {1, 0, 1, 1, 0};
		double		bb[1] = {0};
		double		pp[MLC_LOGISTIC_PARTIAL_DOUBLES(0)];
		mlc_block	b0 = {5, 0, NULL, yy};
		int			it;

		for (it = 0; it < 30; it++)
		{
			assert_int_equal(mlc_logistic_chunk(&b0, bb, pp, &err), MLC_OK);
			assert_int_equal(mlc_logistic_newton(0, pp, 0.0, bb, bb, &ms, &err), MLC_OK);
			if (ms <= 1e-10 * (1 + fabs(bb[0])))
				break;
		}
		assert_true(fabs(bb[0] - log(1.5)) < 1e-12);
	}
}

/* ---------- softmax ---------- */

static void
softmax_pass(int n, int p, int K, const double *X, const double *y, int nc,
			 const int *bounds, const double *W, double *acc)
{
	size_t		len = MLC_SOFTMAX_PARTIAL_DOUBLES(p, K);
	double	   *part = malloc(sizeof(double) * len);
	double	   *Xc = malloc(sizeof(double) * (size_t) n * (p > 0 ? p : 1));
	double	   *yc = malloc(sizeof(double) * (size_t) n);
	mlc_error	err;
	int			c;

	memset(acc, 0, sizeof(double) * len);
	for (c = 0; c < nc; c++)
	{
		mlc_block	b;

		take_rows(n, p, X, y, bounds[c], bounds[c + 1] - bounds[c], Xc, yc, &b);
		assert_int_equal(mlc_softmax_chunk(&b, K, W, part, &err), MLC_OK);
		mlc_softmax_combine(p, K, acc, part);
	}
	free(part);
	free(Xc);
	free(yc);
}

static void
test_softmax_gradient_fd(void **state)
{
	enum
	{
		n = 30, p = 3, K = 4, d = 4, kd = K * d
	};
	double		X[n * p],
				y[n],
				W[kd],
				Wh[kd],
				g[kd],
				gh[kd],
				f,
				fp,
				fm;
	double		part[MLC_SOFTMAX_PARTIAL_DOUBLES(3, 4)];
	int			bounds[3] = {0, 11, n};
	uint64_t	st = 4242;
	int			i;
	long double nll = 0;

	for (i = 0; i < n * p; i++)
		X[i] = unit_rand_normal(&st);
	for (i = 0; i < n; i++)
		y[i] = (double) (unit_rand_u64(&st) % K);
	for (i = 0; i < kd; i++)
		W[i] = unit_rand_normal(&st) * 0.7;
	softmax_pass(n, p, K, X, y, 2, bounds, W, part);
	mlc_softmax_objective(p, K, part, W, 0.3, &f, g);
	/* naive long-double cross-entropy */
	for (i = 0; i < n; i++)
	{
		long double z[K],
					s = 0;
		int			c,
					j;

		for (c = 0; c < K; c++)
		{
			z[c] = W[c * d];
			for (j = 0; j < p; j++)
				z[c] += (long double) W[c * d + j + 1] * X[i + j * n];
			s += expl(z[c]);
		}
		nll += logl(s) - z[(int) y[i]];
	}
	assert_true(unit_reldiff(part[1], (double) nll) < 1e-13);
	assert_true(part[0] == n);
	/* central differences of f */
	for (i = 0; i < kd; i++)
	{
		double		h = 1e-5;

		memcpy(Wh, W, sizeof(W));
		Wh[i] += h;
		softmax_pass(n, p, K, X, y, 2, bounds, Wh, part);
		mlc_softmax_objective(p, K, part, Wh, 0.3, &fp, gh);
		Wh[i] = W[i] - h;
		softmax_pass(n, p, K, X, y, 2, bounds, Wh, part);
		mlc_softmax_objective(p, K, part, Wh, 0.3, &fm, gh);
		assert_true(fabs((fp - fm) / (2 * h) - g[i]) < 1e-6 * (1 + fabs(g[i])));
	}
	/* the gradient of each row sums to zero over classes: intercept gradients too */
	assert_true(fabs(g[0] + g[d] + g[2 * d] + g[3 * d]) < 1e-12);
}

/* Extended Rosenbrock in dim variables: f and g. */
static double
rosenbrock(int dim, const double *x, double *g)
{
	double		f = 0.0;
	int			i;

	for (i = 0; i < dim; i++)
		g[i] = 0.0;
	for (i = 0; i + 1 < dim; i += 2)
	{
		double		a = x[i + 1] - x[i] * x[i];
		double		b = 1.0 - x[i];

		f += 100.0 * a * a + b * b;
		g[i] += -400.0 * x[i] * a - 2.0 * b;
		g[i + 1] += 200.0 * a;
	}
	return f;
}

static void
test_lbfgs_rosenbrock(void **state)
{
	int			dims[2] = {2, 10},
				t;

	for (t = 0; t < 2; t++)
	{
		int			dim = dims[t],
					i,
					rc,
					evals = 0;
		double		x[10],
					g[10],
					f;
		mlc_lbfgs  *s = mlc_lbfgs_create(dim, 6, 1e-10, 1000);

		assert_non_null(s);
		for (i = 0; i < dim; i++)
			x[i] = i % 2 == 0 ? -1.2 : 1.0;
		do
		{
			f = rosenbrock(dim, x, g);
			evals++;
			rc = mlc_lbfgs_step(s, x, f, g);
		} while (rc == MLC_LBFGS_EVALUATE && evals < 100000);
		assert_int_equal(rc, MLC_LBFGS_CONVERGED);
		for (i = 0; i < dim; i++)
			assert_true(fabs(x[i] - 1.0) < 1e-8);
		assert_true(mlc_lbfgs_gradient_norm(s) <= 1e-10 ||
					mlc_lbfgs_value(s) < 1e-20);
		assert_true(mlc_lbfgs_iterations(s) > 10 && mlc_lbfgs_iterations(s) < 1000);
		/* after the end, a further call repeats the outcome and the point */
		x[0] = 5.0;
		assert_int_equal(mlc_lbfgs_step(s, x, 0.0, g), MLC_LBFGS_CONVERGED);
		assert_true(fabs(x[0] - 1.0) < 1e-8);
		mlc_lbfgs_free(s);
	}
}

static void
test_lbfgs_limits(void **state)
{
	double		x[2] = {-1.2, 1.0},
				g[2],
				f;
	int			rc,
				evals = 0;
	mlc_lbfgs  *s;

	/* max_iter reached: the best accepted point is returned */
	s = mlc_lbfgs_create(2, 5, 1e-12, 3);
	assert_non_null(s);
	do
	{
		f = rosenbrock(2, x, g);
		evals++;
		rc = mlc_lbfgs_step(s, x, f, g);
	} while (rc == MLC_LBFGS_EVALUATE && evals < 1000);
	assert_int_equal(rc, MLC_LBFGS_MAX_ITER);
	assert_int_equal(mlc_lbfgs_iterations(s), 3);
	f = rosenbrock(2, x, g);
	assert_true(f == mlc_lbfgs_value(s));
	assert_true(f < 24.2);		/* f(-1.2, 1) = 24.2 */
	mlc_lbfgs_free(s);

	/* converged at the start point */
	s = mlc_lbfgs_create(2, 5, 1e-12, 3);
	x[0] = x[1] = 1.0;
	f = rosenbrock(2, x, g);
	assert_int_equal(mlc_lbfgs_step(s, x, f, g), MLC_LBFGS_CONVERGED);
	assert_int_equal(mlc_lbfgs_iterations(s), 0);
	mlc_lbfgs_free(s);

	/* a non-finite start fails */
	s = mlc_lbfgs_create(2, 5, 1e-12, 3);
	g[0] = g[1] = 1.0;
	assert_int_equal(mlc_lbfgs_step(s, x, NAN, g), MLC_LBFGS_FAILED);
	mlc_lbfgs_free(s);

	/* a function that is NaN away from the start: the line search gives up */
	s = mlc_lbfgs_create(2, 5, 1e-12, 100);
	x[0] = x[1] = 0.0;
	g[0] = 1.0;
	g[1] = -1.0;
	rc = mlc_lbfgs_step(s, x, 1.0, g);
	evals = 0;
	while (rc == MLC_LBFGS_EVALUATE && evals++ < 1000)
		rc = mlc_lbfgs_step(s, x, NAN, g);
	assert_int_equal(rc, MLC_LBFGS_FAILED);
	assert_true(x[0] == 0.0 && x[1] == 0.0);
	mlc_lbfgs_free(s);

	assert_null(mlc_lbfgs_create(0, 5, 1e-6, 10));
	assert_null(mlc_lbfgs_create(3, 0, 1e-6, 10));
	assert_null(mlc_lbfgs_create(3, 5, NAN, 10));
	assert_null(mlc_lbfgs_create(3, 5, -1.0, 10));
	assert_null(mlc_lbfgs_create(3, 5, 1e-6, -1));
	assert_int_equal(mlc_lbfgs_step(NULL, x, 0.0, g), MLC_LBFGS_FAILED);
	mlc_lbfgs_free(NULL);
}

/* Fit softmax by L-BFGS over chunked passes; returns the status. */
static int
softmax_fit(int nc, const int *bounds, const double *X, const double *y, double alpha,
			double *W, double *fout)
{
	size_t		len = MLC_SOFTMAX_PARTIAL_DOUBLES(SOFT_P, SOFT_K);
	int			kd = SOFT_K * (SOFT_P + 1),
				rc,
				evals = 0;
	double	   *acc = malloc(sizeof(double) * len);
	double		g[SOFT_K * (SOFT_P + 1)],
				f;
	mlc_lbfgs  *s = mlc_lbfgs_create(kd, 10, 1e-12, 10000);

	assert_non_null(s);
	memset(W, 0, sizeof(double) * kd);
	do
	{
		softmax_pass(SOFT_N, SOFT_P, SOFT_K, X, y, nc, bounds, W, acc);
		mlc_softmax_objective(SOFT_P, SOFT_K, acc, W, alpha, &f, g);
		evals++;
		rc = mlc_lbfgs_step(s, W, f, g);
	} while (rc == MLC_LBFGS_EVALUATE && evals < 100000);
	*fout = mlc_lbfgs_value(s);
	mlc_lbfgs_free(s);
	free(acc);
	return rc;
}

static void
test_softmax_sklearn(void **state)
{
	/* scikit-learn newton-cg, multinomial, C = 2 (alpha = 0.5): predict_proba of rows */
	static const int rows[5] = {0, 1, 2, 100, 239};
	static const double sk_proba[5][3] = {
		{0.31095562515426817, 0.267016585567667, 0.42202778927806484},
		{0.14539168813397063, 0.84421669418599543, 0.010391617680033757},
		{0.14885513388223975, 0.82057322488387252, 0.030571641233887593},
		{0.066782713175199029, 0.93064625515728661, 0.0025710316675144444},
		{0.32557537751227095, 0.50599049391538986, 0.16843412857233922},
	};
	/* coef_ (K x p) and intercept_ */
	static const double sk_coef[6] = {
		0.095801121784737917, -0.30269102969878742, 0.82265224085770861,
		-0.63659055961177236, -0.9184533626424477, 0.93928158931055994
	};
	static const double sk_intercept[3] = {
		-0.040860924133536147, 0.58611805201896494, -0.54525712788542813
	};
	double	   *X = malloc(sizeof(double) * SOFT_N * SOFT_P);
	double	   *y = malloc(sizeof(double) * SOFT_N);
	double		W[9],
				W2[9],
				f,
				f2,
				proba[3],
				x[2],
				mean;
	int			three[4] = {0, 80, 150, SOFT_N};
	int			one[2] = {0, SOFT_N};
	int			counts[3] = {0, 0, 0};
	int			i,
				c,
				j;

	gen_softmax(X, y);
	/* the generator matches Python's: counts 55/127/58, sum of X -7.0788701558337248 */
	for (i = 0; i < SOFT_N; i++)
		counts[(int) y[i]]++;
	assert_int_equal(counts[0], 55);
	assert_int_equal(counts[1], 127);
	assert_int_equal(counts[2], 58);
	assert_true(fabs(column_sum(SOFT_N, SOFT_P, X) + 7.0788701558337248) < 1e-9);

	assert_int_equal(softmax_fit(3, three, X, y, 0.5, W, &f), MLC_LBFGS_CONVERGED);
	/* objective at the optimum from scipy BFGS (gtol 1e-13) on the same objective */
	assert_true(unit_reldiff(f, 192.29858254964978) < 1e-12);
	for (i = 0; i < 5; i++)
	{
		x[0] = X[rows[i]];
		x[1] = X[rows[i] + SOFT_N];
		mlc_softmax_proba(SOFT_P, SOFT_K, W, x, proba);
		for (c = 0; c < 3; c++)
			assert_true(fabs(proba[c] - sk_proba[i][c]) < 1e-6);
		assert_true(fabs(proba[0] + proba[1] + proba[2] - 1.0) < 1e-15);
	}
	/* weights: unique; intercepts up to a common shift (starting from 0 keeps their sum 0) */
	mean = (W[0] + W[3] + W[6]) / 3.0;
	assert_true(fabs(mean) < 1e-9);
	for (c = 0; c < 3; c++)
	{
		assert_true(fabs(W[c * 3] - mean - sk_intercept[c]) < 1e-6);
		for (j = 0; j < 2; j++)
			assert_true(fabs(W[c * 3 + 1 + j] - sk_coef[c * 2 + j]) < 1e-6);
	}
	/* another chunking gives the same fit to rounding */
	assert_int_equal(softmax_fit(1, one, X, y, 0.5, W2, &f2), MLC_LBFGS_CONVERGED);
	assert_true(unit_reldiff(f, f2) < 1e-13);
	for (j = 0; j < 9; j++)
		assert_true(fabs(W[j] - W2[j]) < 1e-7);
	free(X);
	free(y);
}

static void
test_softmax_errors(void **state)
{
	double		X[4] = {1, 2, 3, 4};
	double		y[4] = {0, 1, 2, 1};
	double		W[6] = {0.1, 0.2, -0.1, 0.3, 0, 0};
	double		part[MLC_SOFTMAX_PARTIAL_DOUBLES(1, 3)];
	double		proba[3];
	mlc_block	b = {4, 1, X, y};
	mlc_error	err;
	size_t		i;

	assert_int_equal(mlc_softmax_chunk(&b, 2, W, part, &err), MLC_EINVAL);	/* y = 2 with K = 2 */
	assert_non_null(strstr(err.msg, "row 2"));
	assert_int_equal(mlc_softmax_chunk(&b, 1, W, part, &err), MLC_EINVAL);
	y[1] = 0.5;
	assert_int_equal(mlc_softmax_chunk(&b, 3, W, part, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "row 1"));
	y[1] = -1.0;
	assert_int_equal(mlc_softmax_chunk(&b, 3, W, part, &err), MLC_EINVAL);
	y[1] = 1.0;
	X[3] = NAN;
	assert_int_equal(mlc_softmax_chunk(&b, 3, W, part, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "row 3"));
	X[3] = 4.0;
	W[5] = INFINITY;
	assert_int_equal(mlc_softmax_chunk(&b, 3, W, part, &err), MLC_EINVAL);
	W[5] = 0.0;
	assert_int_equal(mlc_softmax_chunk(NULL, 3, W, part, &err), MLC_EINVAL);
	/* huge scores stay finite (log-sum-exp) */
	W[1] = 500.0;
	assert_int_equal(mlc_softmax_chunk(&b, 3, W, part, &err), MLC_OK);
	assert_true(isfinite(part[1]));
	/* row 2 (x = 3, class 2): nll ~ 1500 - 0 */
	assert_true(part[1] > 1000.0);
	mlc_softmax_proba(1, 3, W, X, proba);
	assert_true(proba[0] == 1.0 && proba[1] > 0.0 && proba[1] < 1e-200);
	/* empty chunk writes zeros */
	b.n = 0;
	for (i = 0; i < sizeof(part) / sizeof(part[0]); i++)
		part[i] = 3.0;
	assert_int_equal(mlc_softmax_chunk(&b, 3, W, part, &err), MLC_OK);
	for (i = 0; i < sizeof(part) / sizeof(part[0]); i++)
		assert_true(part[i] == 0.0);
}

/* ---------- metrics ---------- */

/* Class weights: all 1 the same bits, all 2 exactly twice the sums, one
 * weight per class the weighted sum of per-class chunks; bad weights fail. */
static void
test_class_weight_chunks(void **state)
{
	enum
	{
		n = 40, p = 2, d = 3, K = 3
	};
	double		X[n * p],
				y[n],
				ys[n],
				beta[d] = {0.3, -1.0, 0.7},
				W[K * d] = {0.1, 0.2, -0.3, -0.4, 0.5, 0.1, 0.2, -0.6, 0.3},
				one[K] = {1, 1, 1},
				two[K] = {2, 2, 2},
				cw[2] = {0.5, 3.0},
				bad[K] = {1, 0, 1},
				u[MLC_LOGISTIC_PARTIAL_DOUBLES(2)],
				w[MLC_LOGISTIC_PARTIAL_DOUBLES(2)],
				s0[MLC_LOGISTIC_PARTIAL_DOUBLES(2)],
				s1[MLC_LOGISTIC_PARTIAL_DOUBLES(2)],
				su[MLC_SOFTMAX_PARTIAL_DOUBLES(2, 3)],
				sw[MLC_SOFTMAX_PARTIAL_DOUBLES(2, 3)];
	double		X0[n * p],
				y0[n],
				X1[n * p],
				y1[n];
	uint64_t	st = 7;
	mlc_block	b = {n, p, X, y},
				bs = {n, p, X, ys};
	mlc_error	err;
	int			i,
				n0 = 0,
				n1 = 0;
	size_t		L = MLC_LOGISTIC_PARTIAL_DOUBLES(2),
				S = MLC_SOFTMAX_PARTIAL_DOUBLES(2, 3);

	for (i = 0; i < n; i++)
	{
		X[i] = unit_rand_normal(&st);
		X[i + n] = unit_rand_normal(&st);
		y[i] = unit_rand_uniform(&st) < 0.3 ? 1.0 : 0.0;
		ys[i] = (double) (i % K);
	}
	assert_int_equal(mlc_logistic_chunk(&b, beta, u, &err), MLC_OK);
	assert_int_equal(mlc_logistic_chunk_weighted(&b, beta, one, w, &err), MLC_OK);
	assert_memory_equal(u, w, sizeof(double) * L);
	assert_int_equal(mlc_logistic_chunk_weighted(&b, beta, two, w, &err), MLC_OK);
	assert_true(w[0] == u[0] && w[2] == u[2]);
	assert_true(w[1] == 2 * u[1]);
	for (i = 3; i < (int) L; i++)
		assert_true(w[i] == 2 * u[i]);

	/* per class: the rows of each class alone, unweighted */
	for (i = 0; i < n; i++)
	{
		if (y[i] == 1.0)
			n1++;
		else
			n0++;
	}
	{
		int			a = 0,
					c = 0;

		for (i = 0; i < n; i++)
		{
			if (y[i] == 1.0)
			{
				X1[c] = X[i];
				X1[c + n1] = X[i + n];
				y1[c++] = 1.0;
			}
			else
			{
				X0[a] = X[i];
				X0[a + n0] = X[i + n];
				y0[a++] = 0.0;
			}
		}
	}
	{
		mlc_block	b0 = {n0, p, X0, y0},
					b1 = {n1, p, X1, y1};

		assert_int_equal(mlc_logistic_chunk(&b0, beta, s0, &err), MLC_OK);
		assert_int_equal(mlc_logistic_chunk(&b1, beta, s1, &err), MLC_OK);
	}
	assert_int_equal(mlc_logistic_chunk_weighted(&b, beta, cw, w, &err), MLC_OK);
	for (i = 3; i < (int) L; i++)
		assert_true(fabs(w[i] - (cw[0] * s0[i] + cw[1] * s1[i])) <= 1e-12 * (1 + fabs(w[i])));
	assert_true(fabs(w[1] - (cw[0] * s0[1] + cw[1] * s1[1])) <= 1e-12 * (1 + fabs(w[1])));
	assert_int_equal(mlc_logistic_chunk_weighted(&b, beta, bad, w, &err), MLC_EINVAL);

	assert_int_equal(mlc_softmax_chunk(&bs, K, W, su, &err), MLC_OK);
	assert_int_equal(mlc_softmax_chunk_weighted(&bs, K, W, one, sw, &err), MLC_OK);
	assert_memory_equal(su, sw, sizeof(double) * S);
	assert_int_equal(mlc_softmax_chunk_weighted(&bs, K, W, two, sw, &err), MLC_OK);
	assert_true(sw[0] == su[0]);
	for (i = 1; i < (int) S; i++)
		assert_true(sw[i] == 2 * su[i]);
	assert_int_equal(mlc_softmax_chunk_weighted(&bs, K, W, bad, sw, &err), MLC_EINVAL);
	bad[1] = NAN;
	assert_int_equal(mlc_softmax_chunk_weighted(&bs, K, W, bad, sw, &err), MLC_EINVAL);
}

static void
test_class_metrics(void **state)
{
	/* y_true = [0,0,0,1,1,1,1,2,2,2,2,2], y_pred = [0,1,0,1,1,2,1,2,0,2,2,1] */
	static const double cm3[9] = {2, 1, 0, 0, 3, 1, 1, 1, 3};
	/* y_true = [0,1,2,2,1,0,1], y_pred = [0,1,1,0,1,1,1], labels 0..3: class 2
	 * never predicted, class 3 absent */
	static const double cm4[16] = {1, 1, 0, 0, 0, 3, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0};
	/* y_true = [1,0,1,1,0,0,1,0,1,1], y_pred = [1,0,0,1,1,0,1,0,1,0] */
	static const double cm2[4] = {3, 1, 2, 4};
	static const double zero[4] = {0, 0, 0, 0};
	mlc_class_metrics_out o;

	mlc_class_metrics(3, cm3, &o);
	assert_true(unit_reldiff(o.accuracy, 0.66666666666666663) < 1e-15);
	assert_true(unit_reldiff(o.macro_precision, 0.67222222222222217) < 1e-15);
	assert_true(unit_reldiff(o.macro_recall, 0.67222222222222217) < 1e-15);
	assert_true(unit_reldiff(o.macro_f1, 0.66666666666666652) < 1e-14);
	assert_true(isnan(o.precision) && isnan(o.recall) && isnan(o.f1));
	/* scikit-learn precision_recall_fscore_support(average='weighted') */
	assert_true(unit_reldiff(o.weighted_precision, 0.6791666666666667) < 1e-15);
	assert_true(unit_reldiff(o.weighted_recall, 0.6666666666666666) < 1e-15);
	assert_true(unit_reldiff(o.weighted_f1, 0.6666666666666665) < 1e-14);

	mlc_class_metrics(4, cm4, &o);
	assert_true(unit_reldiff(o.macro_precision, 0.27500000000000002) < 1e-15);
	assert_true(unit_reldiff(o.macro_recall, 0.375) < 1e-15);
	assert_true(unit_reldiff(o.macro_f1, 0.3125) < 1e-15);
	assert_true(unit_reldiff(o.accuracy, 4.0 / 7.0) < 1e-15);

	mlc_class_metrics(2, cm2, &o);
	assert_true(unit_reldiff(o.accuracy, 0.69999999999999996) < 1e-15);
	assert_true(unit_reldiff(o.precision, 0.80000000000000004) < 1e-15);
	assert_true(unit_reldiff(o.recall, 0.66666666666666663) < 1e-15);
	assert_true(unit_reldiff(o.f1, 0.72727272727272718) < 1e-15);
	assert_true(unit_reldiff(o.macro_precision, 0.69999999999999996) < 1e-15);
	assert_true(unit_reldiff(o.macro_recall, 0.70833333333333326) < 1e-15);
	assert_true(unit_reldiff(o.macro_f1, 0.69696969696969679) < 1e-14);

	mlc_class_metrics(2, zero, &o);
	assert_true(isnan(o.accuracy) && isnan(o.weighted_f1));
	assert_true(o.precision == 0.0 && o.recall == 0.0 && o.f1 == 0.0);
	mlc_class_metrics(1, cm3, &o);
	assert_true(isnan(o.accuracy) && isnan(o.macro_f1));
	mlc_class_metrics(3, NULL, &o);
	assert_true(isnan(o.accuracy));
	mlc_class_metrics(3, cm3, NULL);
}

static void
test_roc(void **state)
{
	static const double s0[10] = {0.1, 0.4, 0.35, 0.8, 0.4, 0.7, 0.1, 0.9, 0.35, 0.5};
	static const double l0[10] = {0, 0, 1, 1, 1, 0, 0, 1, 0, 1};
	/* roc_curve thresholds (the first, 1.9 in scikit-learn 1.2, is +inf here) */
	static const double th[8] = {INFINITY, 0.9, 0.8, 0.7, 0.5, 0.4, 0.35, 0.1};
	static const double fpr_ref[8] = {0, 0, 0, 0.2, 0.2, 0.4, 0.6, 1};
	static const double tpr_ref[8] = {0, 0.2, 0.4, 0.4, 0.6, 0.8, 1, 1};
	double		s[10],
				l[10],
				t[11],
				fpr[11],
				tpr[11];
	int64_t		k;
	int			i;

	memcpy(s, s0, sizeof(s));
	memcpy(l, l0, sizeof(l));
	assert_true(unit_reldiff(mlc_roc_auc(10, s, l), 0.80000000000000004) < 1e-15);
	/* arrays were sorted */
	for (i = 1; i < 10; i++)
		assert_true(s[i - 1] <= s[i]);

	memcpy(s, s0, sizeof(s));
	memcpy(l, l0, sizeof(l));
	k = mlc_roc_curve(10, s, l, t, fpr, tpr);
	assert_int_equal(k, 8);
	for (i = 0; i < 8; i++)
	{
		assert_true(t[i] == th[i]);
		assert_true(fabs(fpr[i] - fpr_ref[i]) < 1e-15);
		assert_true(fabs(tpr[i] - tpr_ref[i]) < 1e-15);
	}

	/* scikit-learn average_precision_score */
	memcpy(s, s0, sizeof(s));
	memcpy(l, l0, sizeof(l));
	assert_true(unit_reldiff(mlc_average_precision(10, s, l), 0.8083333333333333) < 1e-15);
	{
		double		s1[4] = {2, 2, 2, 2},
					l1[4] = {0, 1, 1, 0},
					l2[4] = {0, 0, 0, 0};

		assert_true(mlc_average_precision(4, s1, l1) == 0.5);
		assert_true(isnan(mlc_average_precision(4, s1, l2)));
	}

	/* all scores tied: AUC 1/2; one point after the leading one */
	{
		double		s1[4] = {2, 2, 2, 2},
					l1[4] = {1, 0, 0, 1};

		assert_true(mlc_roc_auc(4, s1, l1) == 0.5);
		assert_int_equal(mlc_roc_curve(4, s1, l1, t, fpr, tpr), 2);
		assert_true(fpr[1] == 1.0 && tpr[1] == 1.0);
	}
	/* perfect and inverted rankings */
	{
		double		s1[4] = {0.1, 0.2, 0.3, 0.4},
					l1[4] = {0, 0, 1, 1},
					l2[4] = {1, 1, 0, 0};

		assert_true(mlc_roc_auc(4, s1, l1) == 1.0);
		memcpy(s1, (double[4]) {0.1, 0.2, 0.3, 0.4}, sizeof(s1));
		assert_true(mlc_roc_auc(4, s1, l2) == 0.0);
	}
	/* one class absent, bad labels, NaN scores */
	{
		double		s1[3] = {0.1, 0.2, 0.3},
					l1[3] = {1, 1, 1};

		assert_true(isnan(mlc_roc_auc(3, s1, l1)));
		assert_int_equal(mlc_roc_curve(3, s1, l1, t, fpr, tpr), 4);
		assert_true(isnan(fpr[0]) && isnan(fpr[3]) && tpr[3] == 1.0);
		l1[1] = 2;
		assert_true(isnan(mlc_roc_auc(3, s1, l1)));
		assert_int_equal(mlc_roc_curve(3, s1, l1, t, fpr, tpr), -1);
		l1[1] = 0;
		s1[2] = NAN;
		assert_true(isnan(mlc_roc_auc(3, s1, l1)));
		assert_true(isnan(mlc_roc_auc(0, s1, l1)));
		assert_true(isnan(mlc_roc_auc(3, NULL, l1)));
	}
}

static void
test_log_loss(void **state)
{
	/* sklearn log_loss([0,1,2], [[.2,.5,.3],[.1,.9,0],[.5,.5,0]]) * 3 */
	static const double pr[3][3] = {{0.2, 0.5, 0.3}, {0.1, 0.9, 0.0}, {0.5, 0.5, 0.0}};
	double		s = 0.0;
	int			i;

	for (i = 0; i < 3; i++)
		s += mlc_log_loss_term(3, pr[i], i);
	assert_true(unit_reldiff(s, 36.253574823002609) < 1e-13);
	assert_true(mlc_log_loss_term(3, pr[2], 2) == -log(1e-15));
	assert_true(isnan(mlc_log_loss_term(3, pr[0], 3)));
	assert_true(isnan(mlc_log_loss_term(3, pr[0], -1)));
	assert_true(isnan(mlc_log_loss_term(3, NULL, 0)));
}

int
run_classify_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_logistic_statsmodels),
		cmocka_unit_test(test_logistic_chunking),
		cmocka_unit_test(test_logistic_partial_naive),
		cmocka_unit_test(test_logistic_penalized),
		cmocka_unit_test(test_logistic_errors),
		cmocka_unit_test(test_softmax_gradient_fd),
		cmocka_unit_test(test_lbfgs_rosenbrock),
		cmocka_unit_test(test_lbfgs_limits),
		cmocka_unit_test(test_softmax_sklearn),
		cmocka_unit_test(test_softmax_errors),
		cmocka_unit_test(test_class_weight_chunks),
		cmocka_unit_test(test_class_metrics),
		cmocka_unit_test(test_roc),
		cmocka_unit_test(test_log_loss),
	};

	return cmocka_run_group_tests_name("classify", tests, NULL, NULL);
}
