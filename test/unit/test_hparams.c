/*
 * test_hparams.c: algorithm names and hyperparameter validation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static void
test_algorithm_names(void **state)
{
	assert_int_equal(mlc_algorithm_from_name("linear_regression"), MLC_ALG_LINEAR);
	assert_int_equal(mlc_algorithm_from_name("ridge"), MLC_ALG_RIDGE);
	assert_int_equal(mlc_algorithm_from_name("Ridge"), 0);
	assert_int_equal(mlc_algorithm_from_name("lasso"), MLC_ALG_LASSO);
	assert_int_equal(mlc_algorithm_from_name("xgboost"), 0);
	assert_int_equal(mlc_algorithm_from_name(""), 0);
	assert_int_equal(mlc_algorithm_from_name(NULL), 0);
	assert_string_equal(mlc_algorithm_name(MLC_ALG_LINEAR), "linear_regression");
	assert_string_equal(mlc_algorithm_name(MLC_ALG_RIDGE), "ridge");
	assert_string_equal(mlc_algorithm_name((mlc_algorithm) 99), "unknown");
	assert_string_equal(mlc_algorithm_names(), "linear_regression, ridge, lasso, elastic_net, logistic_regression, softmax_regression, kmeans, pca, naive_bayes, gradient_boosting, random_forest, decision_tree");
}

static void
test_specs_and_defaults(void **state)
{
	const mlc_hparam_spec *s;
	mlc_hparams hp;
	int			n = -1;

	s = mlc_hparam_specs(MLC_ALG_LINEAR, &n);
	assert_int_equal(n, 1);
	assert_string_equal(s[0].name, "max_categories");
	s = mlc_hparam_specs(MLC_ALG_RIDGE, &n);
	assert_int_equal(n, 2);
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
	int			n;

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
	assert_non_null(strstr(err.detail, "max_categories"));

	/* every algorithm's table: defaults inside their own bounds, settable */
	for (n = 1; n <= 12; n++)
	{
		int			m,
					i;
		const mlc_hparam_spec *t = mlc_hparam_specs((mlc_algorithm) n, &m);

		assert_true(m >= 1);
		mlc_hparams_defaults((mlc_algorithm) n, &hp);
		for (i = 0; i < m; i++)
		{
			assert_true(t[i].default_value >= t[i].min_value && t[i].default_value <= t[i].max_value);
			assert_true(mlc_hparams_get((mlc_algorithm) n, &hp, t[i].name) == t[i].default_value);
			assert_int_equal(mlc_hparams_set((mlc_algorithm) n, &hp, t[i].name, t[i].max_value, &err), MLC_OK);
			assert_true(mlc_hparams_get((mlc_algorithm) n, &hp, t[i].name) == t[i].max_value);
		}
		assert_true(mlc_algorithm_from_name(mlc_algorithm_name((mlc_algorithm) n)) == (mlc_algorithm) n);
	}
	assert_int_equal(mlc_hparams_set((mlc_algorithm) 99, &hp, "alpha", 1, &err), MLC_EINVAL);
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

/* Parse text (strlen) for alg; returns the status and leaves err filled. */
static mlc_status
parse_str(mlc_algorithm alg, const char *text, mlc_hparams *hp, mlc_error *err)
{
	return mlc_hparams_parse(alg, text, strlen(text), hp, err);
}

static void
test_parse_valid(void **state)
{
	static const struct
	{
		const char *text;
		double		alpha;
	}			cases[] = {
		{"{}", 1.0},
		{" \t\r\n{ \n} \r\n", 1.0},
		{"{\"alpha\": 5}", 5.0},
		{"{\"alpha\":0.5}", 0.5},
		{"{\"alpha\": 0}", 0.0},
		{"{\"alpha\": -0}", 0.0},
		{"{\"alpha\": 1e3}", 1000.0},
		{"{\"alpha\": 1E+3}", 1000.0},
		{"{\"alpha\": 25e-1}", 2.5},
		{"{\"alpha\": 0.125e1}", 1.25},
		{"{\"alpha\": 1e-400}", 0.0},	/* underflow is finite */
		{"{\"alpha\": 1e300}", 1e300},
		{"{\"\\u0061lpha\": 3}", 3.0},	/* escaped key */
		{"{\"alph\\u0061\" : 7 }", 7.0},
		{"{\"alpha\": 0.1000000000000000055511151231257827021181583404541015625}", 0.1},
	};
	mlc_hparams hp;
	mlc_error	err;
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		hp.alpha = -42;
		if (parse_str(MLC_ALG_RIDGE, cases[i].text, &hp, &err) != MLC_OK)
			fail_msg("%s: %s", cases[i].text, err.msg);
		if (hp.alpha != cases[i].alpha)
			fail_msg("%s: got %.17g", cases[i].text, hp.alpha);
	}

	/* linear regression takes none; an empty object gives the defaults */
	hp.alpha = -42;
	assert_int_equal(parse_str(MLC_ALG_LINEAR, "{ }", &hp, &err), MLC_OK);
	assert_true(hp.alpha == 0.0);
	/* len bounds the text: what follows is not read */
	assert_int_equal(mlc_hparams_parse(MLC_ALG_RIDGE, "{\"alpha\": 2}garbage", 12, &hp, &err), MLC_OK);
	assert_true(hp.alpha == 2.0);
	assert_int_equal(mlc_hparams_parse(MLC_ALG_RIDGE, "{\"alpha\": 25}", 11, &hp, &err), MLC_EINVAL);
	/* the canonical text of jsonb, as the backend passes it */
	assert_int_equal(parse_str(MLC_ALG_RIDGE, "{\"alpha\": 0.000001}", &hp, &err), MLC_OK);
	assert_true(hp.alpha == 1e-6);
	/* a long number token (more than the stack buffer) */
	{
		char		buf[600];

		memset(buf, 0, sizeof(buf));
		strcpy(buf, "{\"alpha\": 1");
		memset(buf + strlen(buf), '0', 300);
		strcat(buf, ".5}");
		assert_int_equal(parse_str(MLC_ALG_RIDGE, buf, &hp, &err), MLC_OK);
		assert_true(hp.alpha == 1e300);
	}
}

static void
test_parse_messages(void **state)
{
	static const struct
	{
		mlc_algorithm alg;
		const char *text;
		const char *msg;
		const char *detail;		/* substring, or NULL for empty */
	}			cases[] = {
		{MLC_ALG_RIDGE, "{\"alpha\": \"big\"}", "hyperparameter \"alpha\" must be a number", NULL},
		{MLC_ALG_RIDGE, "{\"alpha\": {\"x\": 1}}", "hyperparameter \"alpha\" must be a number", NULL},
		{MLC_ALG_RIDGE, "{\"alpha\": [1]}", "hyperparameter \"alpha\" must be a number", NULL},
		{MLC_ALG_RIDGE, "{\"alpha\": true}", "hyperparameter \"alpha\" must be a number", NULL},
		{MLC_ALG_RIDGE, "{\"alpha\": null}", "hyperparameter \"alpha\" must be a number", NULL},
		{MLC_ALG_RIDGE, "{\"alpah\": 1}", "unknown hyperparameter \"alpah\" for algorithm ridge",
		"Accepted hyperparameters for ridge: alpha, max_categories."},
		{MLC_ALG_LINEAR, "{\"alpha\": 1}", "unknown hyperparameter \"alpha\" for algorithm linear_regression",
		"Accepted hyperparameters for linear_regression: max_categories."},
		{MLC_ALG_RIDGE, "{\"alpha\": -1}", "hyperparameter \"alpha\" for algorithm ridge must be between 0 and 1e+300",
		"Got -1."},
		{MLC_ALG_RIDGE, "{\"alpha\": 1e400}", "hyperparameter \"alpha\" must be a finite number", "Got 1e400."},
		{MLC_ALG_RIDGE, "{\"alpha\": -1e999}", "hyperparameter \"alpha\" must be a finite number", NULL},
		{MLC_ALG_RIDGE, "{\"alpha\": 1, \"alpha\": 2}", "duplicate hyperparameter \"alpha\"", NULL},
		{MLC_ALG_RIDGE, "[1]", "hyperparams must be a JSON object", NULL},
		{MLC_ALG_RIDGE, "5", "hyperparams must be a JSON object", NULL},
		{MLC_ALG_RIDGE, "\"alpha\"", "hyperparams must be a JSON object", NULL},
		{MLC_ALG_RIDGE, "", "hyperparams must be a JSON object", NULL},
		{MLC_ALG_RIDGE, "   ", "hyperparams must be a JSON object", NULL},
		{MLC_ALG_RIDGE, "{\"alpha\": 1} x", "invalid hyperparams JSON: unexpected characters after the object", "offset 13"},
		{MLC_ALG_RIDGE, "{}{}", "invalid hyperparams JSON: unexpected characters after the object", "offset 2"},
		{MLC_ALG_RIDGE, "{\"alpha\": 1", "invalid hyperparams JSON: expected ',' or '}'", "ended unexpectedly"},
		{MLC_ALG_RIDGE, "{\"alpha\": 1,}", "invalid hyperparams JSON: expected a string key", NULL},
		{MLC_ALG_RIDGE, "{,}", "invalid hyperparams JSON: expected a string key", NULL},
		{MLC_ALG_RIDGE, "{alpha: 1}", "invalid hyperparams JSON: expected a string key", NULL},
		{MLC_ALG_RIDGE, "{'alpha': 1}", "invalid hyperparams JSON: expected a string key", NULL},
		{MLC_ALG_RIDGE, "{\"alpha\" 1}", "invalid hyperparams JSON: expected ':' after a key", NULL},
		{MLC_ALG_RIDGE, "{\"alpha\": }", "invalid hyperparams JSON: expected a number", NULL},
		{MLC_ALG_RIDGE, "{\"alpha\": 1 2}", "invalid hyperparams JSON: expected ',' or '}'", NULL},
		{MLC_ALG_RIDGE, "{\"alpha\": +1}", "invalid hyperparams JSON: expected a number", NULL},
		{MLC_ALG_RIDGE, "{\"alpha\": 01}", "invalid hyperparams JSON: expected ',' or '}'", NULL},
		{MLC_ALG_RIDGE, "{\"alpha\": .5}", "invalid hyperparams JSON: expected a number", NULL},
		{MLC_ALG_RIDGE, "{\"alpha\": 1.}", "invalid hyperparams JSON: expected a digit after the decimal point", NULL},
		{MLC_ALG_RIDGE, "{\"alpha\": 1e}", "invalid hyperparams JSON: expected a digit in the exponent", NULL},
		{MLC_ALG_RIDGE, "{\"alpha\": 1e+}", "invalid hyperparams JSON: expected a digit in the exponent", NULL},
		{MLC_ALG_RIDGE, "{\"alpha\": -}", "invalid hyperparams JSON: expected a number", NULL},
		{MLC_ALG_RIDGE, "{\"alpha\": NaN}", "invalid hyperparams JSON: expected a number", NULL},
		{MLC_ALG_RIDGE, "{\"alpha\": Infinity}", "invalid hyperparams JSON: expected a number", NULL},
		{MLC_ALG_RIDGE, "{\"alpha\": 0x10}", "invalid hyperparams JSON: expected ',' or '}'", NULL},
		{MLC_ALG_RIDGE, "{\"alpha\": 1", "invalid hyperparams JSON: expected ',' or '}'", NULL},
		{MLC_ALG_RIDGE, "{\"alp", "invalid hyperparams JSON: unterminated string", NULL},
		{MLC_ALG_RIDGE, "{\"alp\\", "invalid hyperparams JSON: unterminated string", NULL},
		{MLC_ALG_RIDGE, "{\"al\tpha\": 1}", "invalid hyperparams JSON: control character in a string", NULL},
		{MLC_ALG_RIDGE, "{\"al\\xpha\": 1}", "invalid hyperparams JSON: invalid escape in a string", NULL},
		{MLC_ALG_RIDGE, "{\"al\\u00g1pha\": 1}", "invalid hyperparams JSON: invalid \\u escape in a string", NULL},
		{MLC_ALG_RIDGE, "{\"al\\u00\": 1}", "invalid hyperparams JSON: invalid \\u escape in a string", NULL},
		{MLC_ALG_RIDGE, "{\"\\ud800\": 1}", "invalid hyperparams JSON: lone high surrogate in a string", NULL},
		{MLC_ALG_RIDGE, "{\"\\ud800\\u0041\": 1}", "invalid hyperparams JSON: lone high surrogate in a string", NULL},
		{MLC_ALG_RIDGE, "{\"\\udc00\": 1}", "invalid hyperparams JSON: lone low surrogate in a string", NULL},
		{MLC_ALG_RIDGE, "{\"a\\u0000\": 1}", "hyperparameter name contains \\u0000", NULL},
		{MLC_ALG_RIDGE, "{\"a\\\"b\\\\c\\/\\b\\f\\n\\r\\t\": 1}",
		"unknown hyperparameter \"a\"b\\c/\b\f\n\r\t\" for algorithm ridge", NULL},
		{MLC_ALG_RIDGE, "{\"\\u00e9\\u20ac\\ud83d\\ude00\": 1}",
		"unknown hyperparameter \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\" for algorithm ridge", NULL},
		/* the first failing key wins, in text order */
		{MLC_ALG_RIDGE, "{\"zz\": 1, \"alpha\": \"x\"}", "unknown hyperparameter \"zz\" for algorithm ridge", NULL},
		{(mlc_algorithm) 99, "{}", "unknown algorithm id 99", NULL},
	};
	mlc_hparams hp;
	mlc_error	err;
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		hp.alpha = -42;
		memset(&err, 0, sizeof(err));
		if (parse_str(cases[i].alg, cases[i].text, &hp, &err) != MLC_EINVAL)
			fail_msg("%s: accepted", cases[i].text);
		assert_int_equal(err.code, MLC_EINVAL);
		if (strcmp(err.msg, cases[i].msg) != 0)
			fail_msg("%s: got message '%s', want '%s'", cases[i].text, err.msg, cases[i].msg);
		if (cases[i].detail != NULL && strstr(err.detail, cases[i].detail) == NULL)
			fail_msg("%s: detail '%s' lacks '%s'", cases[i].text, err.detail, cases[i].detail);
		assert_true(hp.alpha == -42);	/* untouched on failure */
	}
}

static void
test_parse_hostile(void **state)
{
	mlc_hparams hp;
	mlc_error	err;
	char		longkey[1200];
	char	   *big;
	size_t		n,
				i;

	/* NUL bytes anywhere */
	assert_int_equal(mlc_hparams_parse(MLC_ALG_RIDGE, "{\"alpha\": 1}\0", 13, &hp, &err), MLC_EINVAL);
	assert_string_equal(err.msg, "hyperparams contain a NUL byte");
	assert_int_equal(mlc_hparams_parse(MLC_ALG_RIDGE, "{\"al\0pha\": 1}", 13, &hp, &err), MLC_EINVAL);
	assert_string_equal(err.msg, "hyperparams contain a NUL byte");
	/* NULL pointers */
	assert_int_equal(mlc_hparams_parse(MLC_ALG_RIDGE, NULL, 3, &hp, &err), MLC_EINVAL);
	assert_int_equal(mlc_hparams_parse(MLC_ALG_RIDGE, "{}", 2, NULL, &err), MLC_EINVAL);
	assert_int_equal(mlc_hparams_parse(MLC_ALG_RIDGE, NULL, 0, &hp, &err), MLC_EINVAL);
	assert_string_equal(err.msg, "hyperparams must be a JSON object");
	assert_int_equal(mlc_hparams_parse(MLC_ALG_RIDGE, "{\"alpha\": \"x\"}", 14, &hp, NULL), MLC_EINVAL);

	/* a key far longer than any name: message keeps its first 64 bytes */
	strcpy(longkey, "{\"");
	memset(longkey + 2, 'k', 1100);
	strcpy(longkey + 1102, "\": 1}");
	assert_int_equal(parse_str(MLC_ALG_RIDGE, longkey, &hp, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "unknown hyperparameter \"kkkk"));
	assert_true(strlen(err.msg) < 64 + 50);
	/* "alpha" followed by a long tail is not "alpha" */
	memcpy(longkey + 2, "alpha", 5);
	assert_int_equal(parse_str(MLC_ALG_RIDGE, longkey, &hp, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "unknown hyperparameter \"alphakkk"));

	/* deep nesting is rejected where it starts, without recursion */
	n = 100000;
	big = malloc(n + 16);
	assert_non_null(big);
	memcpy(big, "{\"alpha\": ", 10);
	for (i = 10; i < n; i++)
		big[i] = '[';
	assert_int_equal(mlc_hparams_parse(MLC_ALG_RIDGE, big, n, &hp, &err), MLC_EINVAL);
	assert_string_equal(err.msg, "hyperparameter \"alpha\" must be a number");
	/* a huge number token is allocated, converted and freed */
	memcpy(big, "{\"alpha\": 0.", 12);
	for (i = 12; i < n - 3; i++)
		big[i] = '0';
	memcpy(big + n - 3, "7}", 2);
	assert_int_equal(mlc_hparams_parse(MLC_ALG_RIDGE, big, n - 1, &hp, &err), MLC_OK);
	assert_true(hp.alpha >= 0 && hp.alpha < 1e-300);
	/* every prefix of a valid text is rejected, and never read past */
	{
		static const char text[] = "{ \"alpha\" : 1.5e-2 }";

		for (i = 0; i + 1 < sizeof(text); i++)
		{
			char	   *copy = malloc(i + 1);

			assert_non_null(copy);
			memcpy(copy, text, i);
			assert_int_equal(mlc_hparams_parse(MLC_ALG_RIDGE, copy, i, &hp, &err), MLC_EINVAL);
			free(copy);
		}
		assert_int_equal(parse_str(MLC_ALG_RIDGE, text, &hp, &err), MLC_OK);
		assert_true(hp.alpha == 1.5e-2);
	}
	free(big);
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
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_messages),
		cmocka_unit_test(test_parse_hostile),
	};

	return cmocka_run_group_tests_name("hparams", tests, NULL, NULL);
}
