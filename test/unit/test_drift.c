/*
 * test_drift.c: PSI, binned KS, KS p-values and the Jensen-Shannon
 * distance against hand computations (written independently of drift.c)
 * and reference values of the Kolmogorov distribution (mpmath, 17 digits).
 */
#include <math.h>

#include "unit.h"

#define NELEM(a) ((int) (sizeof(a) / sizeof((a)[0])))

/* Kolmogorov Q(lambda) from the alternating series only, many terms. */
static double
q_alternating(double lambda)
{
	double		s = 0.0;
	int			j;

	for (j = 1; j <= 400; j++)
		s += (j % 2 ? 2.0 : -2.0) * exp(-2.0 * (double) j * j * lambda * lambda);
	return s;
}

/* d giving exactly lambda under Stephens' correction for sizes n1, n2 */
static double
d_for_lambda(double lambda, double n1, double n2)
{
	double		ne = n1 * n2 / (n1 + n2);

	return lambda / (sqrt(ne) + 0.12 + 0.11 / sqrt(ne));
}

/* PSI by the formula: normalize by the sums, floor, sum */
static double
psi_ref(int k, const double *r, const double *c, double eps)
{
	double		sr = 0.0,
				sc = 0.0,
				out = 0.0;
	int			i;

	for (i = 0; i < k; i++)
	{
		sr += r[i];
		sc += c[i];
	}
	for (i = 0; i < k; i++)
	{
		double		a = fmax(r[i] / sr, eps);
		double		b = fmax(c[i] / sc, eps);

		out += (b - a) * log(b / a);
	}
	return out;
}

static void
test_psi_hand(void **state)
{
	double		r2[] = {0.5, 0.5};
	double		c2[] = {0.4, 0.6};
	double		r2w[] = {50, 50};
	double		c2w[] = {4, 6};
	double		r5[] = {120, 340, 610, 280, 150};
	double		c5[] = {90, 300, 560, 400, 250};
	double		expect;

	/* -0.1 ln(0.8) + 0.1 ln(1.2) = 0.1 ln(1.5) */
	expect = 0.1 * log(1.5);
	assert_true(fabs(expect - 0.040546510810816438) < 1e-16);
	assert_true(fabs(mlc_psi(2, r2, c2, 1e-6) - expect) < 1e-15);
	/* unnormalized weights give the same shares */
	assert_true(fabs(mlc_psi(2, r2w, c2w, 1e-6) - expect) < 1e-15);
	/* a 5-bin example against the formula written out here */
	expect = psi_ref(5, r5, c5, 1e-4);
	assert_true(expect > 0.05 && expect < 0.2);
	assert_true(unit_reldiff(mlc_psi(5, r5, c5, 1e-4), expect) < 1e-13);
}

static void
test_psi_identical_symmetric(void **state)
{
	double		a[] = {0.1, 0.2, 0.3, 0.4};
	double		a3[] = {0.3, 0.6, 0.9, 1.2};
	double		b[] = {0.25, 0.25, 0.3, 0.2};

	assert_true(mlc_psi(4, a, a, 1e-4) == 0.0);
	assert_true(fabs(mlc_psi(4, a, a3, 1e-4)) < 1e-15);
	assert_true(mlc_psi(4, a, b, 1e-4) > 0.0);
	assert_true(fabs(mlc_psi(4, a, b, 1e-4) - mlc_psi(4, b, a, 1e-4)) < 1e-16);
	assert_true(unit_reldiff(mlc_psi(4, a, b, 1e-4), psi_ref(4, a, b, 1e-4)) < 1e-13);
}

static void
test_psi_eps(void **state)
{
	double		r[] = {0.5, 0.5, 0.0};
	double		c[] = {0.4, 0.4, 0.2};
	double		r0[] = {0.5, 0.0, 0.5};
	double		c0[] = {0.4, 0.0, 0.6};
	double		v1,
				v2,
				expect;

	/* the empty reference bin is floored at eps */
	expect = 2.0 * (-0.1) * log(0.8) + (0.2 - 1e-4) * log(0.2 / 1e-4);
	v1 = mlc_psi(3, r, c, 1e-4);
	assert_true(isfinite(v1));
	assert_true(unit_reldiff(v1, expect) < 1e-13);
	/* a smaller floor makes the empty bin weigh more */
	v2 = mlc_psi(3, r, c, 1e-8);
	assert_true(isfinite(v2) && v2 > v1);
	/* a bin empty on both sides contributes nothing */
	assert_true(fabs(mlc_psi(3, r0, c0, 1e-4) - 0.1 * log(1.5)) < 1e-15);
}

static void
test_psi_invalid(void **state)
{
	double		a[] = {1, 2};
	double		z[] = {0, 0};
	double		neg[] = {1, -1};
	double		nan2[] = {1, NAN};

	assert_true(isnan(mlc_psi(0, a, a, 1e-4)));
	assert_true(isnan(mlc_psi(2, a, z, 1e-4)));
	assert_true(isnan(mlc_psi(2, z, a, 1e-4)));
	assert_true(isnan(mlc_psi(2, a, a, 0.0)));
	assert_true(isnan(mlc_psi(2, a, a, -1e-4)));
	assert_true(isnan(mlc_psi(2, a, a, NAN)));
	assert_true(isnan(mlc_psi(2, a, neg, 1e-4)));
	assert_true(isnan(mlc_psi(2, nan2, a, 1e-4)));
	assert_true(isnan(mlc_psi(2, NULL, a, 1e-4)));
}

static void
test_ks_binned(void **state)
{
	double		a[] = {3, 1, 4, 1, 5};
	double		a2[] = {6, 2, 8, 2, 10};
	double		d1[] = {1, 0};
	double		d2[] = {0, 1};
	double		e1[] = {2, 3, 0, 0};
	double		e2[] = {0, 0, 7, 1};
	double		u[] = {1, 1, 1, 1};
	double		v[] = {0, 1, 1, 2};
	double		big1[] = {1e300, 1e300, 1e300, 1e300};
	double		one[] = {5};
	double		z[] = {0, 0, 0, 0};
	double		neg[] = {1, 1, -1, 1};

	assert_true(mlc_ks_binned(5, a, a) == 0.0);
	assert_true(fabs(mlc_ks_binned(5, a, a2)) < 1e-15);
	assert_true(mlc_ks_binned(2, d1, d2) == 1.0);
	assert_true(mlc_ks_binned(4, e1, e2) == 1.0);
	/* F_ref = .25 .5 .75, F_cur = 0 .25 .5 */
	assert_true(fabs(mlc_ks_binned(4, u, v) - 0.25) < 1e-15);
	assert_true(fabs(mlc_ks_binned(4, v, u) - 0.25) < 1e-15);
	/* huge weights do not overflow the total */
	assert_true(fabs(mlc_ks_binned(4, big1, v) - 0.25) < 1e-15);
	assert_true(mlc_ks_binned(1, one, one) == 0.0);
	assert_true(isnan(mlc_ks_binned(0, u, v)));
	assert_true(isnan(mlc_ks_binned(4, u, z)));
	assert_true(isnan(mlc_ks_binned(4, neg, u)));
	assert_true(isnan(mlc_ks_binned(4, u, NULL)));
}

static void
test_ks_pvalue_kolmogorov(void **state)
{
	/* mpmath: 2 sum (-1)^(j-1) exp(-2 j^2 l^2) */
	const double lam[] = {0.2, 0.5, 1.0, 1.36, 1.63, 2.0, 3.0};
	const double ref[] = {0.99999999999949496, 0.96394524366487511,
		0.2699996716773545, 0.049485876755377883, 0.0098463648884865307,
	0.00067092525577969533, 3.0459959489425258e-8};
	const double n = 1e12;
	int			i;

	/* the classical table values, to 1e-4 */
	assert_true(fabs(mlc_ks_pvalue(d_for_lambda(1.36, n, n), n, n) - 0.0494) < 1e-4);
	assert_true(fabs(mlc_ks_pvalue(d_for_lambda(1.63, n, n), n, n) - 0.0098) < 1e-4);
	assert_true(fabs(mlc_ks_pvalue(d_for_lambda(0.5, n, n), n, n) - 0.9639) < 1e-4);
	assert_true(fabs(mlc_ks_pvalue(d_for_lambda(0.2, n, n), n, n) - 1.0) < 1e-4);
	/* high-precision values: relative for the tail, absolute near 1 */
	for (i = 0; i < NELEM(lam); i++)
	{
		double		p = mlc_ks_pvalue(d_for_lambda(lam[i], n, n), n, n);

		assert_true(fabs(p - ref[i]) < 1e-13);
		assert_true(unit_reldiff(p, ref[i]) < 1e-9);
	}
	/* against the plain alternating series, across the switch-over */
	for (i = 0; i <= 60; i++)
	{
		double		l = 0.3 + 0.05 * i;
		double		p = mlc_ks_pvalue(d_for_lambda(l, n, n), n, n);

		assert_true(fabs(p - q_alternating(l)) < 1e-13);
	}
}

static void
test_ks_pvalue_stephens(void **state)
{
	double		d,
				p,
				prev;
	int			i;

	/* n1 = n2 = 50: ne = 25, lambda = (5 + 0.12 + 0.022) d */
	d = 0.272;
	p = mlc_ks_pvalue(d, 50, 50);
	assert_true(fabs(p - q_alternating(5.142 * d)) < 1e-13);
	/* symmetric in n1, n2; unequal sizes */
	assert_true(mlc_ks_pvalue(0.2, 120, 75) == mlc_ks_pvalue(0.2, 75, 120));
	assert_true(fabs(mlc_ks_pvalue(0.2, 120, 75) -
					 q_alternating((sqrt(9000.0 / 195.0) + 0.12 +
									0.11 / sqrt(9000.0 / 195.0)) * 0.2)) < 1e-13);
	/* monotonically decreasing in d, within [0, 1] */
	assert_true(mlc_ks_pvalue(0.0, 100, 80) == 1.0);
	prev = 1.0;
	for (i = 1; i <= 100; i++)
	{
		p = mlc_ks_pvalue(0.01 * i, 100, 80);
		assert_true(p >= 0.0 && p <= 1.0);
		assert_true(p <= prev);
		/* strictly, except where Q rounds to 1 or underflows to 0 */
		if (prev < 1.0 && p > 1e-300)
			assert_true(p < prev);
		prev = p;
	}
	/* small lambda: Q -> 1 without a divergent series */
	p = mlc_ks_pvalue(1e-9, 10, 10);
	assert_true(p == 1.0);
	p = mlc_ks_pvalue(1e-3, 10, 10);
	assert_true(p > 0.999999 && p <= 1.0);
	/* huge samples, tiny p */
	p = mlc_ks_pvalue(0.5, 1e9, 1e9);
	assert_true(p == 0.0);
	p = mlc_ks_pvalue(0.01, 1e300, 1e300);
	assert_true(p == 0.0);
}

static void
test_ks_pvalue_invalid(void **state)
{
	assert_true(isnan(mlc_ks_pvalue(-0.1, 10, 10)));
	assert_true(isnan(mlc_ks_pvalue(1.1, 10, 10)));
	assert_true(isnan(mlc_ks_pvalue(NAN, 10, 10)));
	assert_true(isnan(mlc_ks_pvalue(0.3, 0, 10)));
	assert_true(isnan(mlc_ks_pvalue(0.3, 10, -5)));
	assert_true(isnan(mlc_ks_pvalue(0.3, INFINITY, 10)));
	assert_true(isnan(mlc_ks_pvalue(0.3, 10, NAN)));
}

static void
test_js_distance(void **state)
{
	double		a[] = {0.2, 0.5, 0.3};
	double		a10[] = {2, 5, 3};
	double		b[] = {0.6, 0.1, 0.3};
	double		p[] = {1, 0};
	double		q[] = {0.5, 0.5};
	double		dis1[] = {1, 2, 0, 0};
	double		dis2[] = {0, 0, 3, 4};
	double		z[] = {0, 0, 0};
	double		neg[] = {1, -1, 1};
	double		kl_p,
				kl_q,
				expect,
				v;
	int			i;

	assert_true(mlc_js_distance(3, a, a) == 0.0);
	assert_true(fabs(mlc_js_distance(3, a, a10)) < 1e-7);
	assert_true(fabs(mlc_js_distance(4, dis1, dis2) - 1.0) < 1e-15);
	/* p = [1, 0], q = [.5, .5], m = [.75, .25] */
	kl_p = 1.0 * log2(1.0 / 0.75);
	kl_q = 0.5 * log2(0.5 / 0.75) + 0.5 * log2(0.5 / 0.25);
	expect = sqrt(0.5 * kl_p + 0.5 * kl_q);
	assert_true(fabs(expect - 0.55792304528414388) < 1e-15);
	assert_true(fabs(mlc_js_distance(2, p, q) - expect) < 1e-15);
	assert_true(fabs(mlc_js_distance(2, q, p) - expect) < 1e-15);
	/* 3 categories, natural logs converted, symmetric */
	expect = 0.0;
	for (i = 0; i < 3; i++)
	{
		double		m = (a[i] + b[i]) / 2.0;

		expect += 0.5 * (a[i] * log(a[i] / m) + b[i] * log(b[i] / m)) / log(2.0);
	}
	expect = sqrt(expect);
	v = mlc_js_distance(3, a, b);
	assert_true(unit_reldiff(v, expect) < 1e-13);
	assert_true(v == mlc_js_distance(3, b, a));
	assert_true(v > 0.0 && v < 1.0);
	assert_true(isnan(mlc_js_distance(3, a, z)));
	assert_true(isnan(mlc_js_distance(3, z, a)));
	assert_true(isnan(mlc_js_distance(0, a, b)));
	assert_true(isnan(mlc_js_distance(3, neg, a)));
	assert_true(isnan(mlc_js_distance(3, a, NULL)));
}

int
run_drift_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_psi_hand),
		cmocka_unit_test(test_psi_identical_symmetric),
		cmocka_unit_test(test_psi_eps),
		cmocka_unit_test(test_psi_invalid),
		cmocka_unit_test(test_ks_binned),
		cmocka_unit_test(test_ks_pvalue_kolmogorov),
		cmocka_unit_test(test_ks_pvalue_stephens),
		cmocka_unit_test(test_ks_pvalue_invalid),
		cmocka_unit_test(test_js_distance),
	};

	return cmocka_run_group_tests_name("drift", tests, NULL, NULL);
}
