/*
 * test_stats.c: incomplete beta and t p-values against closed forms and
 * high-precision reference values (mpmath, 40 digits).
 */
#include <math.h>

#include "unit.h"

static double
binom(int n, int k)
{
	double		r = 1.0;
	int			i;

	for (i = 1; i <= k; i++)
		r = r * (n - k + i) / i;
	return r;
}

/* I_x(a, b) for integer a, b: P(Binomial(a + b - 1, x) >= a) */
static double
betainc_integer(int a, int b, double x)
{
	int			n = a + b - 1,
				j;
	double		s = 0.0;

	for (j = a; j <= n; j++)
		s += binom(n, j) * pow(x, j) * pow(1.0 - x, n - j);
	return s;
}

static void
test_betainc_closed_forms(void **state)
{
	double		xs[] = {0.01, 0.1, 0.3, 0.5, 0.7, 0.93, 0.999};
	size_t		i;

	for (i = 0; i < sizeof(xs) / sizeof(xs[0]); i++)
	{
		double		x = xs[i];

		assert_true(unit_reldiff(mlc_betainc(1, 1, x), x) < 1e-14);
		assert_true(unit_reldiff(mlc_betainc(3.5, 1, x), pow(x, 3.5)) < 1e-13);
		assert_true(unit_reldiff(mlc_betainc(1, 2.5, x), 1 - pow(1 - x, 2.5)) < 1e-13);
		assert_true(unit_reldiff(mlc_betainc(0.5, 0.5, x),
								 2.0 / M_PI * asin(sqrt(x))) < 1e-13);
		assert_true(unit_reldiff(mlc_betainc(5, 3, x), betainc_integer(5, 3, x)) < 1e-12);
		assert_true(unit_reldiff(mlc_betainc(12, 7, x), betainc_integer(12, 7, x)) < 1e-11);
		/* symmetry */
		assert_true(fabs(mlc_betainc(2.7, 4.1, x) + mlc_betainc(4.1, 2.7, 1 - x) - 1.0) < 1e-14);
	}
	assert_true(mlc_betainc(2, 3, 0.5) == 0.6875 ||
				unit_reldiff(mlc_betainc(2, 3, 0.5), 0.6875) < 1e-15);
}

static void
test_betainc_reference(void **state)
{
	/* mpmath.betainc(a, b, 0, x, regularized=True) */
	assert_true(unit_reldiff(mlc_betainc(200, 300, 0.4), 0.50242861631993199569) < 1e-12);
	assert_true(unit_reldiff(mlc_betainc(2.5, 0.5, 0.999), 0.94634234530818643119) < 1e-13);
	assert_true(unit_reldiff(mlc_betainc(0.1, 10, 0.01), 0.82448967090669876411) < 1e-13);
}

static void
test_betainc_edges(void **state)
{
	assert_true(mlc_betainc(2, 3, 0.0) == 0.0);
	assert_true(mlc_betainc(2, 3, 1.0) == 1.0);
	assert_true(isnan(mlc_betainc(2, 3, -0.1)));
	assert_true(isnan(mlc_betainc(2, 3, 1.1)));
	assert_true(isnan(mlc_betainc(0, 3, 0.5)));
	assert_true(isnan(mlc_betainc(2, -1, 0.5)));
	assert_true(isnan(mlc_betainc(NAN, 1, 0.5)));
	assert_true(isnan(mlc_betainc(1, 1, NAN)));
	assert_true(isnan(mlc_betainc(INFINITY, 1, 0.5)));
}

/* F tails against scipy.stats.f.sf; OLS tests against statsmodels on Longley. */
static void
test_f_pvalue_and_ols_tests(void **state)
{
	mlc_ols_tests t;

	assert_true(unit_reldiff(mlc_f_pvalue(3.5, 2, 10), 0.07042962777237427) < 1e-12);
	assert_true(unit_reldiff(mlc_f_pvalue(0.5, 5, 100), 0.7755895192354815) < 1e-12);
	assert_true(unit_reldiff(mlc_f_pvalue(40.0, 10, 315), 2.3260857658235547e-50) < 1e-10);
	assert_true(unit_reldiff(mlc_f_pvalue(1.0, 1, 1), 0.5) < 1e-13);
	assert_true(mlc_f_pvalue(0.0, 3, 4) == 1.0);
	assert_true(mlc_f_pvalue(INFINITY, 3, 4) == 0.0);
	assert_true(isnan(mlc_f_pvalue(1.0, 0, 4)));
	assert_true(isnan(mlc_f_pvalue(NAN, 3, 4)));

	/* Longley: 16 rows, 6 slopes, rss and centered tss from statsmodels */
	mlc_ols_tests_compute(16, 6, 836424.0555070257, 185008826.0, &t);
	assert_true(unit_reldiff(t.llf, -109.6174348084912) < 1e-12);
	assert_true(unit_reldiff(t.aic, 233.2348696169824) < 1e-12);
	assert_true(unit_reldiff(t.bic, 238.64299067266086) < 1e-12);
	assert_true(unit_reldiff(t.fvalue, 330.28533923414756) < 1e-10);
	assert_true(unit_reldiff(t.f_pvalue, 4.984030528754533e-10) < 1e-9);
	/* no residual degrees of freedom: no F */
	mlc_ols_tests_compute(7, 6, 1.0, 2.0, &t);
	assert_true(isnan(t.fvalue) && isnan(t.f_pvalue));
}

static void
test_t_pvalue_known(void **state)
{
	double		ts[] = {0.0, 0.1, 0.5, 1.0, 1.96, 3.0, 12.0, 100.0};
	size_t		i;

	/* the classic table value: t = 2.0, df = 10 -> 0.0734 */
	assert_true(fabs(mlc_t_pvalue(2.0, 10) - 0.0734) < 5e-5);
	assert_true(unit_reldiff(mlc_t_pvalue(2.0, 10), 0.073388034770740366) < 1e-13);
	assert_true(unit_reldiff(mlc_t_pvalue(-2.0, 10), 0.073388034770740366) < 1e-13);
	/* df = 1e6 is essentially normal: 1.96 -> 0.05 */
	assert_true(fabs(mlc_t_pvalue(1.96, 1e6) - 0.05) < 1e-4);
	assert_true(unit_reldiff(mlc_t_pvalue(1.96, 1e6), 0.049996067585269791) < 1e-9);
	assert_true(unit_reldiff(mlc_t_pvalue(1.96, 1e4), 0.05002352023183305) < 1e-11);
	assert_true(unit_reldiff(mlc_t_pvalue(30, 10), 3.9617923420313243e-11) < 1e-12);
	assert_true(unit_reldiff(mlc_t_pvalue(1.96, 1e8), 0.049995793069328109) < 1e-8);
	assert_true(unit_reldiff(mlc_t_pvalue(1.96, 1e10), 0.049995790324169745) < 1e-12);
	assert_true(unit_reldiff(mlc_t_pvalue(5, 1e10), 5.7330315342206473e-7) < 1e-12);

	for (i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
	{
		double		t = ts[i];

		/*
		 * df = 1 (Cauchy), 2 and 3 have closed forms, written without the
		 * cancellation of 1 - F for large t: 1 - (2/pi) atan(u) =
		 * (2/pi) atan(1/u).
		 */
		assert_true(unit_reldiff(mlc_t_pvalue(t, 1), 2.0 / M_PI * atan(1.0 / t)) < 1e-13);
		assert_true(unit_reldiff(mlc_t_pvalue(t, 2), 1.0 - t / sqrt(2.0 + t * t)) < 1e-12);
		assert_true(unit_reldiff(mlc_t_pvalue(t, 3),
								 2.0 / M_PI * (atan(sqrt(3.0) / t) -
											   t / (sqrt(3.0) * (1.0 + t * t / 3.0)))) < 1e-12);
		assert_true(mlc_t_pvalue(t, 7) == mlc_t_pvalue(-t, 7));
	}
}

static void
test_t_pvalue_edges(void **state)
{
	assert_true(mlc_t_pvalue(0.0, 5) == 1.0);
	assert_true(mlc_t_pvalue(INFINITY, 5) == 0.0);
	assert_true(mlc_t_pvalue(-INFINITY, 5) == 0.0);
	assert_true(mlc_t_pvalue(1e200, 5) == 0.0);
	assert_true(isnan(mlc_t_pvalue(NAN, 5)));
	assert_true(isnan(mlc_t_pvalue(1.0, NAN)));
	assert_true(isnan(mlc_t_pvalue(1.0, 0)));
	assert_true(isnan(mlc_t_pvalue(1.0, -3)));
	assert_true(unit_reldiff(mlc_t_pvalue(1.96, INFINITY), erfc(1.96 / sqrt(2.0))) < 1e-15);
	/* monotone in |t| and in df */
	assert_true(mlc_t_pvalue(1.0, 10) > mlc_t_pvalue(1.1, 10));
	assert_true(mlc_t_pvalue(2.0, 5) > mlc_t_pvalue(2.0, 50));
	/* fractional df */
	assert_true(mlc_t_pvalue(2.0, 2.5) > 0.0 && mlc_t_pvalue(2.0, 2.5) < 1.0);
}

int
run_stats_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_betainc_closed_forms),
		cmocka_unit_test(test_betainc_reference),
		cmocka_unit_test(test_betainc_edges),
		cmocka_unit_test(test_t_pvalue_known),
		cmocka_unit_test(test_f_pvalue_and_ols_tests),
		cmocka_unit_test(test_t_pvalue_edges),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
