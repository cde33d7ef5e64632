/*
 * test_hparams.c: algorithm names and hyperparameter validation.
 */
#include <math.h>
#include <string.h>

#include "unit.h"

static void
test_algorithm_names(void **state)
{
	assert_int_equal(mlc_algorithm_from_name("linear_regression"), MLC_ALG_LINEAR);
	assert_int_equal(mlc_algorithm_from_name("ridge"), MLC_ALG_RIDGE);
	assert_int_equal(mlc_algorithm_from_name("Ridge"), 0);
	assert_int_equal(mlc_algorithm_from_name("lasso"), 0);
	assert_int_equal(mlc_algorithm_from_name(""), 0);
	assert_int_equal(mlc_algorithm_from_name(NULL), 0);
	assert_string_equal(mlc_algorithm_name(MLC_ALG_LINEAR), "linear_regression");
	assert_string_equal(mlc_algorithm_name(MLC_ALG_RIDGE), "ridge");
	assert_string_equal(mlc_algorithm_name((mlc_algorithm) 99), "unknown");
	assert_string_equal(mlc_algorithm_names(), "linear_regression, ridge");
}

static void
test_specs_and_defaults(void **state)
{
	const mlc_hparam_spec *s;
	mlc_hparams hp;
	int			n = -1;

	s = mlc_hparam_specs(MLC_ALG_LINEAR, &n);
	assert_int_equal(n, 0);
	(void) s;
	s = mlc_hparam_specs(MLC_ALG_RIDGE, &n);
	assert_int_equal(n, 1);
	assert_string_equal(s[0].name, "alpha");
	assert_true(s[0].default_value == 1.0);
	assert_true(s[0].min_value == 0.0);
	assert_true(s[0].max_value == 1e300);
	assert_int_equal(s[0].is_integer, 0);

	hp.alpha = 123;
	mlc_hparams_defaults(MLC_ALG_LINEAR, &hp);
	assert_true(hp.alpha == 0.0);
	mlc_hparams_defaults(MLC_ALG_RIDGE, &hp);
	assert_true(hp.alpha == 1.0);
	assert_true(mlc_hparams_get(MLC_ALG_RIDGE, &hp, "alpha") == 1.0);
	assert_true(isnan(mlc_hparams_get(MLC_ALG_RIDGE, &hp, "beta")));
	assert_true(isnan(mlc_hparams_get(MLC_ALG_LINEAR, &hp, "alpha")));
}

static void
test_set_valid(void **state)
{
	mlc_hparams hp;
	mlc_error	err;

	mlc_hparams_defaults(MLC_ALG_RIDGE, &hp);
	assert_int_equal(mlc_hparams_set(MLC_ALG_RIDGE, &hp, "alpha", 0.25, &err), MLC_OK);
	assert_true(mlc_hparams_get(MLC_ALG_RIDGE, &hp, "alpha") == 0.25);
	assert_int_equal(mlc_hparams_set(MLC_ALG_RIDGE, &hp, "alpha", 0.0, &err), MLC_OK);
	assert_int_equal(mlc_hparams_set(MLC_ALG_RIDGE, &hp, "alpha", 1e300, &err), MLC_OK);
	assert_true(hp.alpha == 1e300);
}

static void
test_unknown_key(void **state)
{
	mlc_hparams hp;
	mlc_error	err;

	mlc_hparams_defaults(MLC_ALG_RIDGE, &hp);
	assert_int_equal(mlc_hparams_set(MLC_ALG_RIDGE, &hp, "foo", 1, &err), MLC_EINVAL);
	assert_int_equal(err.code, MLC_EINVAL);
	assert_string_equal(err.msg, "unknown hyperparameter \"foo\" for algorithm ridge");
	assert_non_null(strstr(err.detail, "alpha"));
	assert_true(hp.alpha == 1.0);

	mlc_hparams_defaults(MLC_ALG_LINEAR, &hp);
	assert_int_equal(mlc_hparams_set(MLC_ALG_LINEAR, &hp, "alpha", 1, &err), MLC_EINVAL);
	assert_string_equal(err.msg,
						"unknown hyperparameter \"alpha\" for algorithm linear_regression");
	assert_non_null(strstr(err.detail, "takes no hyperparameters"));

	assert_int_equal(mlc_hparams_set((mlc_algorithm) 7, &hp, "alpha", 1, &err), MLC_EINVAL);
	assert_int_equal(mlc_hparams_set(MLC_ALG_RIDGE, &hp, NULL, 1, NULL), MLC_EINVAL);
}

static void
test_out_of_range(void **state)
{
	mlc_hparams hp;
	mlc_error	err;

	mlc_hparams_defaults(MLC_ALG_RIDGE, &hp);
	assert_int_equal(mlc_hparams_set(MLC_ALG_RIDGE, &hp, "alpha", -1e-9, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "\"alpha\""));
	assert_non_null(strstr(err.msg, "between 0 and 1e+300"));
	assert_non_null(strstr(err.detail, "-1e-09"));
	assert_int_equal(mlc_hparams_set(MLC_ALG_RIDGE, &hp, "alpha", NAN, &err), MLC_EINVAL);
	assert_int_equal(mlc_hparams_set(MLC_ALG_RIDGE, &hp, "alpha", INFINITY, &err), MLC_EINVAL);
	assert_int_equal(mlc_hparams_set(MLC_ALG_RIDGE, &hp, "alpha", 2e300, &err), MLC_EINVAL);
	assert_true(hp.alpha == 1.0);	/* unchanged by failures */
}

int
run_hparams_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_algorithm_names),
		cmocka_unit_test(test_specs_and_defaults),
		cmocka_unit_test(test_set_valid),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_out_of_range),
	};

	return cmocka_run_group_tests_name("hparams", tests, NULL, NULL);
}
