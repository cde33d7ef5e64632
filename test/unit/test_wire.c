/*
 * test_wire.c: the checks of bytes from SQL (wire.h): aggregate states
 * (mlc_agg_state_check) and training plans (mlc_plan_encode / decode).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "classify.h"
#include "unsupervised.h"
#include "wire.h"

/* ---------- aggregate states ---------- */

/* A state as the glue's agg_new makes it (params copied, rows and acc zero). */
static uint8_t *
make_state(int rule, int alg, int pass, int p, int K, int partial_len, int result_len,
		   const double *params, int param_len, size_t *len)
{
	mlc_agg_header h;
	uint8_t    *buf;

	memset(&h, 0, sizeof(h));
	h.magic = MLC_AGG_MAGIC;
	h.version = MLC_AGG_VERSION;
	h.rule = (int16_t) rule;
	h.algorithm = alg;
	h.pass = pass;
	h.p = p;
	h.K = K;
	h.block_rows = 1024;
	h.partial_len = partial_len;
	h.result_len = result_len;
	h.param_len = param_len;
	h.acc_len = rule == MLC_AGG_RULE_SAMPLE ? 0 : partial_len;
	*len = (size_t) mlc_agg_state_size(&h, h.acc_len);
	buf = calloc(1, *len);
	assert_non_null(buf);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + mlc_agg_params_offset(&h), params, sizeof(double) * param_len);
	return buf;
}

static uint8_t *
logistic_state(int p, size_t *len)
{
	double		params[8] = {-1, 0, 0, 0, 0, 0, 0, 0};

	assert_true(p + 2 <= 8);
	return make_state(MLC_AGG_RULE_ADD, MLC_ALG_LOGISTIC, MLC_PASS_LOGISTIC, p, 0,
					  (int) MLC_LOGISTIC_PARTIAL_DOUBLES(p) + 2, (int) MLC_LOGISTIC_PARTIAL_DOUBLES(p),
					  params, p + 2, len);
}

static void
set_i32(uint8_t *buf, size_t off, int32_t v)
{
	memcpy(buf + off, &v, sizeof(v));
}

static mlc_status
check_state(const uint8_t *buf, size_t len)
{
	mlc_error	err;
	mlc_status	st = mlc_agg_state_check(buf, len, 1024, 1, &err);

	if (st != MLC_OK)
		assert_true(err.msg[0] != '\0');
	return st;
}

static void
test_agg_valid_states(void **unused)
{
	size_t		len;
	uint8_t    *s = logistic_state(2, &len);
	double		nb_params[2] = {-1, 3};
	double		sm_params[2 + 3 * 3] = {-1, 3};
	double		km_params[3 + 2 * 2] = {-1, 2, 1};

	assert_int_equal(check_state(s, len), MLC_OK);
	/* the scratch covers the column sums the pass writes after the partial */
	assert_int_equal(mlc_agg_partial_scratch(s), MLC_LOGISTIC_PARTIAL_DOUBLES(2) + 2 + 2);
	free(s);
	s = make_state(MLC_AGG_RULE_NB, MLC_ALG_NAIVE_BAYES, MLC_PASS_NB, 2, 3,
				   (int) MLC_NB_PARTIAL_DOUBLES(3, 2), (int) MLC_NB_PARTIAL_DOUBLES(3, 2),
				   nb_params, 2, &len);
	assert_int_equal(check_state(s, len), MLC_OK);
	assert_int_equal(mlc_agg_partial_scratch(s), MLC_NB_PARTIAL_DOUBLES(3, 2) + 1);
	free(s);
	s = make_state(MLC_AGG_RULE_ADD, MLC_ALG_SOFTMAX, MLC_PASS_SOFTMAX, 2, 0,
				   (int) MLC_SOFTMAX_PARTIAL_DOUBLES(2, 3) + 2, (int) MLC_SOFTMAX_PARTIAL_DOUBLES(2, 3),
				   sm_params, 11, &len);
	assert_int_equal(check_state(s, len), MLC_OK);
	free(s);
	/* the weighted passes: the engine's states only, a weight per class after the coefficients */
	{
		double		lw[1 + 3 + 2] = {-1, 0, 0, 0, 1, 2};
		double		sw[2 + 3 * 3 + 3] = {-1, 3};

		s = make_state(MLC_AGG_RULE_ADD, MLC_ALG_LOGISTIC, MLC_PASS_LOGISTIC_W, 2, 0,
					   (int) MLC_LOGISTIC_PARTIAL_DOUBLES(2) + 2 + 2, -1, lw, 6, &len);
		assert_int_equal(check_state(s, len), MLC_OK);
		free(s);
		/* without the weights */
		s = make_state(MLC_AGG_RULE_ADD, MLC_ALG_LOGISTIC, MLC_PASS_LOGISTIC_W, 2, 0,
					   (int) MLC_LOGISTIC_PARTIAL_DOUBLES(2) + 2 + 2, -1, lw, 4, &len);
		assert_int_equal(check_state(s, len), MLC_ECORRUPT);
		free(s);
		s = make_state(MLC_AGG_RULE_ADD, MLC_ALG_SOFTMAX, MLC_PASS_SOFTMAX_W, 2, 0,
					   (int) MLC_SOFTMAX_PARTIAL_DOUBLES(2, 3) + 2 + 2, -1, sw, 14, &len);
		assert_int_equal(check_state(s, len), MLC_OK);
		free(s);
		s = make_state(MLC_AGG_RULE_ADD, MLC_ALG_SOFTMAX, MLC_PASS_SOFTMAX_W, 2, 0,
					   (int) MLC_SOFTMAX_PARTIAL_DOUBLES(2, 3) + 2 + 2, -1, sw, 11, &len);
		assert_int_equal(check_state(s, len), MLC_ECORRUPT);
		free(s);
	}
	s = make_state(MLC_AGG_RULE_ADD, MLC_ALG_KMEANS, MLC_PASS_KMEANS, 2, 0,
				   (int) MLC_KMEANS_PARTIAL_DOUBLES(2, 2, 1) + 2, (int) MLC_KMEANS_PARTIAL_DOUBLES(2, 2, 1),
				   km_params, 7, &len);
	assert_int_equal(check_state(s, len), MLC_OK);
	free(s);
	/* the engine's states: partial_len at least what the pass writes, result_len -1 */
	s = make_state(MLC_AGG_RULE_STATS, MLC_ALG_LINEAR, MLC_PASS_STATS, 3, 0,
				   1000, -1, nb_params, 1, &len);
	assert_int_equal(check_state(s, len), MLC_OK);
	free(s);
}

static void
test_agg_bad_lengths(void **unused)
{
	size_t		len;
	uint8_t    *s = logistic_state(2, &len);
	mlc_agg_header h;

	memcpy(&h, s, sizeof(h));
	/* shorter than the header, one byte short, one byte long */
	assert_int_equal(check_state(s, 10), MLC_ECORRUPT);
	assert_int_equal(check_state(s, len - 1), MLC_ECORRUPT);
	s = realloc(s, len + 1);
	assert_int_equal(check_state(s, len + 1), MLC_ECORRUPT);
	/* partial_len 1 (the reported crash), with acc_len and the length made to agree */
	h.partial_len = 1;
	h.acc_len = 1;
	memcpy(s, &h, sizeof(h));
	assert_int_equal(check_state(s, (size_t) mlc_agg_state_size(&h, 1)), MLC_ECORRUPT);
	free(s);

	/* an engine state whose partial is shorter than its pass writes */
	{
		double		params[1] = {-1};

		s = make_state(MLC_AGG_RULE_STATS, MLC_ALG_LINEAR, MLC_PASS_STATS, 3, 0,
					   3 + (int) MLC_STATS_DOUBLES(4) - 1, -1, params, 1, &len);
		assert_int_equal(check_state(s, len), MLC_ECORRUPT);
		free(s);
	}
}

static void
test_agg_bad_fields(void **unused)
{
	size_t		len;
	uint8_t    *s = logistic_state(2, &len);
	uint8_t    *t = malloc(len);
	size_t		off_magic = offsetof(mlc_agg_header, magic),
				off_pass = offsetof(mlc_agg_header, pass),
				off_alg = offsetof(mlc_agg_header, algorithm),
				off_p = offsetof(mlc_agg_header, p),
				off_nbuf = offsetof(mlc_agg_header, nbuf),
				off_result = offsetof(mlc_agg_header, result_len);
	double		bad_holdout = 0.5;

#define MUTATE(off, v) \
	do { memcpy(t, s, len); set_i32(t, (off), (v)); \
		 assert_int_equal(check_state(t, len), MLC_ECORRUPT); } while (0)
	MUTATE(off_magic, 0);
	MUTATE(off_pass, -1);
	MUTATE(off_pass, MLC_PASS_SOFTMAX_W + 1);
	MUTATE(off_pass, MLC_PASS_LOGISTIC_W);	/* no user aggregate runs the weighted passes */
	MUTATE(off_pass, MLC_PASS_SOFTMAX);		/* same rule, other pass */
	MUTATE(off_alg, 0);
	MUTATE(off_alg, 99);
	MUTATE(off_alg, MLC_ALG_SOFTMAX);		/* a user state of another algorithm */
	MUTATE(off_p, -5);
	MUTATE(off_nbuf, -1);
	MUTATE(off_nbuf, 1025);
	MUTATE(off_result, 7);
#undef MUTATE
	memcpy(t, s, len);
	memcpy(t + MLC_AGG_HDR_SIZE, &bad_holdout, sizeof(double));
	assert_int_equal(check_state(t, len), MLC_ECORRUPT);
	assert_int_equal(check_state(NULL, 0), MLC_ECORRUPT);
	free(t);
	free(s);
}

static void
test_agg_huge_counts(void **unused)
{
	/* a k-means state whose cluster count makes the parameters too short */
	double		params[3 + 4] = {-1, 1e9, 1};
	size_t		len;
	uint8_t    *s = make_state(MLC_AGG_RULE_ADD, MLC_ALG_KMEANS, MLC_PASS_KMEANS, 2, 0,
							   1000, -1, params, 7, &len);

	assert_int_equal(check_state(s, len), MLC_ECORRUPT);
	free(s);
	/* softmax with K = 2^31 - 1 */
	{
		double		sp[4] = {-1, 2147483647.0};

		s = make_state(MLC_AGG_RULE_ADD, MLC_ALG_SOFTMAX, MLC_PASS_SOFTMAX, 1, 0, 1000, -1, sp, 4, &len);
		assert_int_equal(check_state(s, len), MLC_ECORRUPT);
		free(s);
	}
	/* naive Bayes class count disagreeing with the header */
	{
		double		np[2] = {-1, 5};

		s = make_state(MLC_AGG_RULE_NB, MLC_ALG_NAIVE_BAYES, MLC_PASS_NB, 1, 2, 1000, -1, np, 2, &len);
		assert_int_equal(check_state(s, len), MLC_ECORRUPT);
		free(s);
	}
}

/* ---------- training plans ---------- */

static void
sample_plan(mlc_plan *pl, mlc_encoder *enc, char **cats, char **classes, double *values,
			int *attnums, uint32_t *typids)
{
	memset(pl, 0, sizeof(*pl));
	memset(enc, 0, 2 * sizeof(mlc_encoder));
	enc[0].column = "x";
	enc[0].kind = MLC_ENC_NUMBER;
	enc[0].width = 1;
	enc[0].impute = NAN;
	enc[1].column = "color";
	enc[1].kind = MLC_ENC_CATEGORY;
	enc[1].n_categories = 3;
	enc[1].categories = cats;
	enc[1].has_other = 1;
	enc[1].drop_first = 1;
	enc[1].width = 3;
	pl->target_kind = 2;
	pl->target_attnum = 3;
	pl->target_typid = 23;
	pl->n_classes = 2;
	pl->classes = classes;
	pl->class_values = values;
	pl->n_inputs = 2;
	pl->attnums = attnums;
	pl->typids = typids;
	pl->enc = enc;
	pl->p = 4;
	pl->folds = 5;
	pl->seed = -7;
}

static void
test_plan_round_trip(void **unused)
{
	char	   *cats[3] = {"blue", "green", "red"};
	char	   *classes[2] = {"0", "1"};
	double		values[2] = {0, 1};
	int			attnums[2] = {1, 2};
	uint32_t	typids[2] = {701, 25};
	mlc_encoder enc[2];
	mlc_plan	pl,
				back;
	mlc_error	err;
	uint8_t    *buf,
			   *buf2;
	size_t		len,
				len2,
				cut;

	sample_plan(&pl, enc, cats, classes, values, attnums, typids);
	assert_int_equal(mlc_plan_encode(&pl, &buf, &len, &err), MLC_OK);
	assert_int_equal(mlc_plan_decode(buf, len, &back, &err), MLC_OK);
	assert_int_equal(back.p, 4);
	assert_int_equal(back.seed, -7);
	assert_string_equal(back.enc[1].categories[2], "red");
	assert_true(back.class_values != NULL && back.class_values[1] == 1);
	assert_int_equal(mlc_plan_encode(&back, &buf2, &len2, &err), MLC_OK);
	assert_true(len2 == len && memcmp(buf, buf2, len) == 0);
	mlc_free(buf2);
	mlc_plan_free(&back);
	/* cut at every byte: never accepted, never a crash */
	for (cut = 0; cut < len; cut++)
	{
		uint8_t    *part = malloc(cut > 0 ? cut : 1);

		memcpy(part, buf, cut);
		assert_int_equal(mlc_plan_decode(part, cut, &back, &err), MLC_ECORRUPT);
		assert_null(back.enc);
		free(part);
	}
	mlc_free(buf);
}

static void
test_plan_inconsistent(void **unused)
{
	char	   *cats[3] = {"blue", "green", "red"};
	char	   *classes[2] = {"0", "1"};
	double		values[2] = {0, 1};
	int			attnums[2] = {1, 2};
	uint32_t	typids[2] = {701, 25};
	mlc_encoder enc[2];
	mlc_plan	pl;
	mlc_error	err;
	uint8_t    *buf;
	size_t		len;

	sample_plan(&pl, enc, cats, classes, values, attnums, typids);
	pl.p = 5;					/* not the sum of the widths */
	assert_int_equal(mlc_plan_encode(&pl, &buf, &len, &err), MLC_ECORRUPT);
	sample_plan(&pl, enc, cats, classes, values, attnums, typids);
	enc[1].width = 7;			/* wider than its categories */
	assert_int_equal(mlc_plan_encode(&pl, &buf, &len, &err), MLC_ECORRUPT);
	sample_plan(&pl, enc, cats, classes, values, attnums, typids);
	attnums[0] = 0;				/* no such column */
	assert_int_equal(mlc_plan_encode(&pl, &buf, &len, &err), MLC_ECORRUPT);
	attnums[0] = 1;
	sample_plan(&pl, enc, cats, classes, values, attnums, typids);
	pl.target_kind = 1;			/* classes for a numeric target */
	assert_int_equal(mlc_plan_encode(&pl, &buf, &len, &err), MLC_ECORRUPT);

	/* a valid encoding with a huge class count in place */
	sample_plan(&pl, enc, cats, classes, values, attnums, typids);
	assert_int_equal(mlc_plan_encode(&pl, &buf, &len, &err), MLC_OK);
	{
		mlc_plan	back;
		uint32_t	huge = 0x7fffffff;

		memcpy(buf + 34, &huge, 4);	/* n_classes follows the 34-byte header */
		assert_int_equal(mlc_plan_decode(buf, len, &back, &err), MLC_ECORRUPT);
		buf[0] = 'X';
		assert_int_equal(mlc_plan_decode(buf, len, &back, &err), MLC_ECORRUPT);
	}
	mlc_free(buf);
}

int
run_wire_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agg_valid_states),
		cmocka_unit_test(test_agg_bad_lengths),
		cmocka_unit_test(test_agg_bad_fields),
		cmocka_unit_test(test_agg_huge_counts),
		cmocka_unit_test(test_plan_round_trip),
		cmocka_unit_test(test_plan_inconsistent),
	};

	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
