/*
 * test_scorer.c: the embeddable scorer's API (src/scorer/scorer.c, the code
 * of pg_mlops_scorer.h) on models built here and encoded with the core's
 * codec: bad and truncated model bytes, misuse, NULLs, unseen categories,
 * dates and the tree models' default directions.  Expected values are
 * written out from the model's parameters (test_model.c's
 * test_model_build), in the order the core sums them, so they compare
 * bit for bit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "scorer.h"

void		test_model_build(mlc_algorithm alg, mlc_model *m);

/* The encoded bytes of test_model_build's model of alg, after tweak. */
static uint8_t *
model_bytes(mlc_algorithm alg, void (*tweak) (mlc_model *), size_t *len)
{
	mlc_model	m;
	mlc_error	err;
	uint8_t    *buf = NULL;

	test_model_build(alg, &m);
	if (tweak != NULL)
		tweak(&m);
	assert_int_equal(mlc_model_encode(&m, &buf, len, &err), MLC_OK);
	mlc_model_free(&m);
	return buf;
}

static void
open_ok(pgml_scorer *s, mlc_algorithm alg, void (*tweak) (mlc_model *))
{
	size_t		len;
	uint8_t    *buf = model_bytes(alg, tweak, &len);

	assert_int_equal(pgml_open(s, buf, len), PGML_OK);
	mlc_free(buf);
}

/* A row of test_model_build's inputs: age, city, member. */
static void
row3(pgml_value *row, int age_null, double age, const char *city, int member_null, double member)
{
	memset(row, 0, 3 * sizeof(pgml_value));
	row[0].isnull = age_null;
	row[0].number = age;
	row[1].isnull = city == NULL;
	row[1].text = city;
	row[2].isnull = member_null;
	row[2].number = member;
}

static int
same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof(double)) == 0;
}

/* ---------- model bytes ---------- */

/* Every truncation and every changed byte of a valid model is an error with
 * a message; a failed scorer closes safely. */
static void
test_scorer_bad_bytes(void **state)
{
	static const mlc_algorithm algs[] = {MLC_ALG_LINEAR, MLC_ALG_NAIVE_BAYES, MLC_ALG_RANDOM_FOREST};
	int			a;

	for (a = 0; a < 3; a++)
	{
		size_t		len,
					i;
		uint8_t    *buf = model_bytes(algs[a], NULL, &len);
		uint8_t    *copy = malloc(len + 1);
		pgml_scorer s;

		assert_non_null(copy);
		for (i = 0; i < len; i++)
		{
			memcpy(copy, buf, i);
			assert_int_equal(pgml_open(&s, copy, i), PGML_ERROR);
			assert_true(pgml_error(&s)[0] != '\0');
			pgml_close(&s);
		}
		for (i = 0; i < len; i++)
		{
			memcpy(copy, buf, len);
			copy[i] ^= 0x5a;
			assert_int_equal(pgml_open(&s, copy, len), PGML_ERROR);
			assert_true(pgml_error(&s)[0] != '\0');
			pgml_close(&s);
		}
		/* a byte too many */
		memcpy(copy, buf, len);
		copy[len] = 0;
		assert_int_equal(pgml_open(&s, copy, len + 1), PGML_ERROR);
		pgml_close(&s);
		/* and the bytes themselves open */
		assert_int_equal(pgml_open(&s, buf, len), PGML_OK);
		pgml_close(&s);
		pgml_close(&s);			/* twice is harmless */
		free(copy);
		mlc_free(buf);
	}
}

static void
test_scorer_misuse(void **state)
{
	pgml_scorer s,
				never;
	pgml_value	row[3];
	double		v,
				proba[2],
				out[4];
	int			c;
	size_t		len;
	uint8_t    *buf = model_bytes(MLC_ALG_LINEAR, NULL, &len);

	assert_int_equal(pgml_open(NULL, buf, len), PGML_ERROR);
	assert_int_equal(pgml_open(&s, NULL, len), PGML_ERROR);
	assert_non_null(strstr(pgml_error(&s), "no model bytes"));
	pgml_close(&s);
	assert_string_equal(pgml_error(NULL), "no scorer");
	pgml_close(NULL);
	assert_int_equal(pgml_output_width(NULL), 0);
	mlc_free(buf);

	/* a scorer that was never opened (zeroed) scores nothing */
	memset(&never, 0, sizeof(never));
	row3(row, 0, 30, "Paris", 0, 1);
	assert_int_equal(pgml_predict(&never, row, &v), PGML_ERROR);
	assert_non_null(strstr(pgml_error(&never), "not open"));

	open_ok(&s, MLC_ALG_LINEAR, NULL);
	assert_int_equal(pgml_predict(NULL, row, &v), PGML_ERROR);
	assert_int_equal(pgml_predict(&s, row, NULL), PGML_ERROR);
	assert_int_equal(pgml_predict(&s, NULL, &v), PGML_ERROR);
	assert_non_null(strstr(pgml_error(&s), "no row"));
	/* what a regression model does not have */
	assert_int_equal(pgml_predict_class(&s, row, &c), PGML_ERROR);
	assert_non_null(strstr(pgml_error(&s), "not a classifier"));
	assert_int_equal(pgml_predict_proba(&s, row, proba), PGML_ERROR);
	assert_int_equal(pgml_transform(&s, row, out), PGML_ERROR);
	assert_non_null(strstr(pgml_error(&s), "no transform"));
	assert_int_equal(pgml_output_width(&s), 0);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_OK);
	pgml_close(&s);

	/* text labels: ml.predict has no number to return */
	open_ok(&s, MLC_ALG_LOGISTIC, NULL);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_ERROR);
	assert_non_null(strstr(pgml_error(&s), "pgml_predict_class"));
	assert_int_equal(pgml_predict_class(&s, row, &c), PGML_OK);
	assert_int_equal(pgml_predict_proba(&s, row, NULL), PGML_ERROR);
	pgml_close(&s);

	/* PCA predicts nothing, transforms */
	open_ok(&s, MLC_ALG_PCA, NULL);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_ERROR);
	assert_int_equal(pgml_output_width(&s), 2);
	assert_int_equal(pgml_transform(&s, row, out), PGML_OK);
	pgml_close(&s);
}

/* ---------- input handling ---------- */

/*
 * The linear model of test_model_build: coef = {-0.1, 1/3, -0.0, 4.9e-324,
 * 2.5, -1.25} over age, city=Paris, city=Zürich, city=(other), member; age
 * imputes 40, member imputes nothing.
 */
static double
linear_value(double age, double paris, double zurich, double other, double member)
{
	double		acc = -0.1;

	acc += (1.0 / 3.0) * age;
	acc += -0.0 * paris;
	acc += 4.9e-324 * zurich;
	acc += 2.5 * other;
	acc += -1.25 * member;
	return acc;
}

static void
test_scorer_nulls(void **state)
{
	pgml_scorer s;
	pgml_value	row[3];
	double		v;

	open_ok(&s, MLC_ALG_LINEAR, NULL);
	assert_int_equal(s.model.n_inputs, 3);

	/* a NULL number takes the imputed value */
	row3(row, 1, 12345, "Paris", 0, 1);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_OK);
	assert_true(same_double(v, linear_value(40, 1, 0, 0, 1)));

	/* a NULL where the model imputes nothing is an error naming the column */
	row3(row, 0, 30, "Paris", 1, 0);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_ERROR);
	assert_non_null(strstr(pgml_error(&s), "member"));

	/* a non-finite number: the SQL function's NULL */
	row3(row, 0, NAN, "Paris", 0, 1);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_NULL);
	row3(row, 0, INFINITY, "Paris", 0, 1);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_NULL);
	row3(row, 0, 30, "Paris", 0, -INFINITY);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_NULL);

	/* a boolean other than 0 or 1 is an error */
	row3(row, 0, 30, "Paris", 0, 2);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_ERROR);
	assert_non_null(strstr(pgml_error(&s), "member"));

	/* a NULL text is all zeros, like the reference category (dropped) */
	row3(row, 0, 30, NULL, 0, 0);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_OK);
	assert_true(same_double(v, linear_value(30, 0, 0, 0, 0)));
	row3(row, 0, 30, "Berlin", 0, 0);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_OK);
	assert_true(same_double(v, linear_value(30, 0, 0, 0, 0)));
	pgml_close(&s);
}

static void
test_scorer_categories(void **state)
{
	pgml_scorer s;
	pgml_value	row[3];
	double		v,
				p_unseen[2],
				p_other[2],
				p_berlin[2],
				p_paris[2];

	open_ok(&s, MLC_ALG_LINEAR, NULL);
	/* a value not kept goes to "(other)" (the model has it), case and bytes exact */
	row3(row, 0, 30, "Nowhere", 0, 0);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_OK);
	assert_true(same_double(v, linear_value(30, 0, 0, 1, 0)));
	row3(row, 0, 30, "paris", 0, 0);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_OK);
	assert_true(same_double(v, linear_value(30, 0, 0, 1, 0)));
	row3(row, 0, 30, "Z\xc3\xbcrich", 0, 0);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_OK);
	assert_true(same_double(v, linear_value(30, 0, 1, 0, 0)));
	/* text NULL without isnull is the empty string: an unseen value */
	row3(row, 0, 30, "", 0, 0);
	row[1].text = NULL;
	assert_int_equal(pgml_predict(&s, row, &v), PGML_OK);
	assert_true(same_double(v, linear_value(30, 0, 0, 1, 0)));
	pgml_close(&s);

	/* probabilities: unseen values are one and the same "(other)" */
	open_ok(&s, MLC_ALG_LOGISTIC, NULL);
	row3(row, 0, 30, "Nowhere", 0, 1);
	assert_int_equal(pgml_predict_proba(&s, row, p_unseen), PGML_OK);
	row3(row, 0, 30, "Elsewhere", 0, 1);
	assert_int_equal(pgml_predict_proba(&s, row, p_other), PGML_OK);
	row3(row, 0, 30, "Berlin", 0, 1);
	assert_int_equal(pgml_predict_proba(&s, row, p_berlin), PGML_OK);
	row3(row, 0, 30, "Paris", 0, 1);
	assert_int_equal(pgml_predict_proba(&s, row, p_paris), PGML_OK);
	assert_memory_equal(p_unseen, p_other, sizeof(p_unseen));
	assert_true(p_unseen[1] != p_berlin[1] && p_paris[1] != p_berlin[1]);
	assert_true(fabs(p_paris[0] + p_paris[1] - 1) < 1e-15);
	pgml_close(&s);
}

/* A model whose first input is a date or timestamp (seconds since 1970). */
static void
age_is_time(mlc_model *m)
{
	m->inputs[0].kind = MLC_ENC_TIME;
}

static void
test_scorer_dates(void **state)
{
	pgml_scorer s;
	pgml_value	row[3];
	double		v;

	assert_true(pgml_date_seconds(0) == 0.0);
	assert_true(pgml_date_seconds(1) == 86400.0);
	assert_true(pgml_date_seconds(10957) == 946684800.0);	/* 2000-01-01 */
	assert_true(pgml_date_seconds(-1) == -86400.0);
	assert_true(pgml_date_seconds(20000) == 20000.0 * 86400.0);
	assert_true(pgml_timestamp_seconds(0) == 0.0);
	assert_true(pgml_timestamp_seconds(INT64_C(946684800000000)) == 946684800.0);
	assert_true(pgml_timestamp_seconds(INT64_C(1500000)) == 1.5);
	assert_true(pgml_timestamp_seconds(-INT64_C(500000)) == -0.5);

	open_ok(&s, MLC_ALG_LINEAR, age_is_time);
	assert_int_equal(s.model.inputs[0].kind, MLC_ENC_TIME);
	row3(row, 0, pgml_date_seconds(19000), "Paris", 0, 1);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_OK);
	assert_true(same_double(v, linear_value(19000.0 * 86400.0, 1, 0, 0, 1)));
	row3(row, 0, pgml_timestamp_seconds(INT64_C(1700000000123456)), "Paris", 0, 1);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_OK);
	assert_true(same_double(v, linear_value(pgml_timestamp_seconds(INT64_C(1700000000123456)), 1, 0, 0, 1)));
	/* NULL takes the imputed seconds */
	row3(row, 1, 0, "Paris", 0, 1);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_OK);
	assert_true(same_double(v, linear_value(40, 1, 0, 0, 1)));
	pgml_close(&s);
}

/* A tree model whose first input has no imputed value: NULL takes the
 * learned default direction. */
static void
age_no_impute(mlc_model *m)
{
	m->inputs[0].impute = NAN;
}

static void
test_scorer_tree_missing(void **state)
{
	pgml_scorer s;
	pgml_value	row[3];
	double		v,
				proba[2];
	int			c;

	/* regression stump: base 0.25, age < 0.5 -> -1, else 1; missing left */
	open_ok(&s, MLC_ALG_DECISION_TREE, age_no_impute);
	row3(row, 0, 0.4, "Paris", 0, 1);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_OK);
	assert_true(v == 0.25 + -1.0);
	row3(row, 0, 0.5, "Paris", 0, 1);	/* x < threshold goes left: 0.5 goes right */
	assert_int_equal(pgml_predict(&s, row, &v), PGML_OK);
	assert_true(v == 0.25 + 1.0);
	row3(row, 1, 0, "Paris", 0, 1);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_OK);
	assert_true(v == 0.25 + -1.0);
	row3(row, 0, NAN, "Paris", 0, 1);	/* not finite: the default way too */
	assert_int_equal(pgml_predict(&s, row, &v), PGML_OK);
	assert_true(v == 0.25 + -1.0);
	row3(row, 0, INFINITY, "Paris", 0, 1);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_OK);
	assert_true(v == 0.25 + -1.0);
	pgml_close(&s);

	/* with an imputed value (40), NULL is 40: right */
	open_ok(&s, MLC_ALG_DECISION_TREE, NULL);
	row3(row, 1, 0, "Paris", 0, 1);
	assert_int_equal(pgml_predict(&s, row, &v), PGML_OK);
	assert_true(v == 0.25 + 1.0);
	pgml_close(&s);

	/* forest classifier: leaves {0.8, 0.2} (left) and {0.1, 0.9} (right) */
	open_ok(&s, MLC_ALG_RANDOM_FOREST, age_no_impute);
	row3(row, 1, 0, NULL, 0, 0);
	assert_int_equal(pgml_predict_proba(&s, row, proba), PGML_OK);
	assert_true(proba[0] == 0.8 && proba[1] == 0.2);
	assert_int_equal(pgml_predict_class(&s, row, &c), PGML_OK);
	assert_int_equal(c, 0);
	row3(row, 0, 3, "Nowhere", 0, 0);
	assert_int_equal(pgml_predict_class(&s, row, &c), PGML_OK);
	assert_int_equal(c, 1);
	assert_string_equal(s.model.classes[c], "yes");
	pgml_close(&s);
}

int
run_scorer_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scorer_bad_bytes),
		cmocka_unit_test(test_scorer_misuse),
		cmocka_unit_test(test_scorer_nulls),
		cmocka_unit_test(test_scorer_categories),
		cmocka_unit_test(test_scorer_dates),
		cmocka_unit_test(test_scorer_tree_missing),
	};

	return cmocka_run_group_tests_name("scorer", tests, NULL, NULL);
}
