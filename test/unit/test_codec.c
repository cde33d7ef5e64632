/*
 * test_codec.c: CRC-32C and the model encoding (format 2): bit-identical
 * round trips of a model of every algorithm, every single-byte corruption,
 * every bit flip and every truncation detected, crafted bad payloads.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* test_model.c */
void		test_model_build(mlc_algorithm alg, mlc_model *m);

static void
test_crc32c(void **state)
{
	const char *s = "123456789";
	unsigned char zeros[32];
	unsigned char ones[32];

	assert_true(mlc_crc32c(0, s, 9) == UINT32_C(0xE3069283));
	assert_true(mlc_crc32c(0, s, 0) == 0);
	/* chaining equals one call */
	assert_true(mlc_crc32c(mlc_crc32c(0, s, 4), s + 4, 5) == UINT32_C(0xE3069283));
	/* RFC 3720 (iSCSI) test patterns */
	memset(zeros, 0, sizeof(zeros));
	memset(ones, 0xff, sizeof(ones));
	assert_true(mlc_crc32c(0, zeros, 32) == UINT32_C(0x8A9136AA));
	assert_true(mlc_crc32c(0, ones, 32) == UINT32_C(0x62A8AB43));
}

static void
same_bits(const double *a, const double *b, size_t n)
{
	if (n > 0)
		assert_memory_equal(a, b, n * sizeof(double));
}

/* a and b equal field by field, doubles bit for bit */
static void
same_model(const mlc_model *a, const mlc_model *b)
{
	int			i,
				j;

	assert_int_equal(a->algorithm, b->algorithm);
	assert_int_equal(a->task, b->task);
	assert_int_equal(a->n_inputs, b->n_inputs);
	for (i = 0; i < a->n_inputs; i++)
	{
		const mlc_encoder *x = &a->inputs[i],
				   *y = &b->inputs[i];

		assert_string_equal(x->column, y->column);
		assert_int_equal(x->kind, y->kind);
		assert_int_equal(x->width, y->width);
		same_bits(&x->impute, &y->impute, 1);
		assert_int_equal(x->n_categories, y->n_categories);
		for (j = 0; j < x->n_categories; j++)
			assert_string_equal(x->categories[j], y->categories[j]);
		assert_int_equal(x->has_other, y->has_other);
		assert_int_equal(x->drop_first, y->drop_first);
	}
	assert_int_equal(a->n_features, b->n_features);
	for (j = 0; j < a->n_features; j++)
		assert_string_equal(a->feature_names[j], b->feature_names[j]);
	assert_int_equal(a->n_classes, b->n_classes);
	for (j = 0; j < a->n_classes; j++)
		assert_string_equal(a->classes[j], b->classes[j]);
	assert_int_equal(a->labels_numeric, b->labels_numeric);
	if (a->labels_numeric)
		same_bits(a->class_values, b->class_values, (size_t) a->n_classes);
	assert_int_equal(a->n_arrays, b->n_arrays);
	for (i = 0; i < a->n_arrays; i++)
	{
		assert_string_equal(a->arrays[i].name, b->arrays[i].name);
		assert_int_equal(a->arrays[i].rows, b->arrays[i].rows);
		assert_int_equal(a->arrays[i].cols, b->arrays[i].cols);
		same_bits(a->arrays[i].data, b->arrays[i].data,
				  (size_t) a->arrays[i].rows * (size_t) a->arrays[i].cols);
	}
}

static void
encode_ok(const mlc_model *m, uint8_t **buf, size_t *len)
{
	mlc_error	err;

	if (mlc_model_encode(m, buf, len, &err) != MLC_OK)
		fail_msg("encode: %s", err.msg);
}

static void
test_round_trip(void **state)
{
	static const double x[5] = {33, 0, 1, 0, 1};
	mlc_model	m,
				d;
	uint8_t    *buf,
			   *buf2;
	size_t		len,
				len2;
	mlc_error	err;
	int			alg;

	for (alg = MLC_ALG_LINEAR; alg <= MLC_ALG_DECISION_TREE; alg++)
	{
		double		p1[3],
					p2[3];

		test_model_build((mlc_algorithm) alg, &m);
		encode_ok(&m, &buf, &len);
		assert_memory_equal(buf, "PGML", 4);
		assert_int_equal(buf[4], MLC_MODEL_FORMAT);
		assert_int_equal(buf[5], 0);
		assert_int_equal(buf[6], alg);
		assert_int_equal(buf[7], 0);
		assert_int_equal(buf[8] | (buf[9] << 8) | (buf[10] << 16) | ((uint32_t) buf[11] << 24),
						 len - MLC_HEADER_SIZE);
		if (mlc_model_decode(buf, len, &d, &err) != MLC_OK)
			fail_msg("algorithm %d: %s", alg, err.msg);
		same_model(&m, &d);
		/* same scores, bit for bit */
		assert_memory_equal(&(double) {mlc_model_predict(&m, x)},
							&(double) {mlc_model_predict(&d, x)}, sizeof(double));
		assert_int_equal(mlc_model_predict_proba(&m, x, p1), mlc_model_predict_proba(&d, x, p2));
		if (mlc_model_predict_proba(&m, x, p1) == 0)
			assert_memory_equal(p1, p2, sizeof(double) * (size_t) m.n_classes);
		assert_int_equal(mlc_model_transform(&m, x, p1), mlc_model_transform(&d, x, p2));
		if (mlc_model_transform(&m, x, p1) > 0)
			assert_memory_equal(p1, p2, sizeof(double) * (size_t) mlc_model_output_width(&m));
		/* the encoding is canonical */
		encode_ok(&d, &buf2, &len2);
		assert_int_equal(len, len2);
		assert_memory_equal(buf, buf2, len);
		mlc_free(buf2);
		mlc_model_free(&d);
		assert_null(d.inputs);
		assert_null(d.arrays);
		mlc_model_free(&d);		/* idempotent */
		mlc_model_free(&m);
		mlc_free(buf);
	}
}

static void
test_every_byte_corruption(void **state)
{
	static const mlc_algorithm algs[] = {MLC_ALG_NAIVE_BAYES, MLC_ALG_SOFTMAX};
	mlc_model	m,
				d;
	uint8_t    *buf;
	size_t		len,
				pos;
	mlc_error	err;
	int			v,
				a;

	for (a = 0; a < 2; a++)
	{
		test_model_build(algs[a], &m);
		encode_ok(&m, &buf, &len);
		mlc_model_free(&m);
		/* CRC-32C sees every error burst up to 32 bits, so every byte value */
		for (pos = 0; pos < len; pos++)
		{
			uint8_t		orig = buf[pos];

			for (v = 0; v < 256; v++)
			{
				if (v == orig)
					continue;
				buf[pos] = (uint8_t) v;
				assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_ECORRUPT);
				assert_int_equal(err.code, MLC_ECORRUPT);
				assert_null(d.inputs);
				assert_null(d.feature_names);
				assert_null(d.arrays);
			}
			buf[pos] = orig;
		}
		mlc_free(buf);
	}
}

static void
test_every_bit_flip_and_truncation(void **state)
{
	mlc_model	m,
				d;
	uint8_t    *buf,
			   *copy;
	size_t		len,
				pos,
				cut;
	mlc_error	err;
	int			alg,
				b;

	for (alg = MLC_ALG_LINEAR; alg <= MLC_ALG_DECISION_TREE; alg++)
	{
		test_model_build((mlc_algorithm) alg, &m);
		encode_ok(&m, &buf, &len);
		mlc_model_free(&m);
		for (pos = 0; pos < len; pos++)
			for (b = 0; b < 8; b++)
			{
				buf[pos] ^= (uint8_t) (1 << b);
				assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_ECORRUPT);
				buf[pos] ^= (uint8_t) (1 << b);
			}
		for (cut = 0; cut < len; cut++)
		{
			/* exact-size copy so that reading past the end would be caught by ASan */
			copy = malloc(cut > 0 ? cut : 1);
			memcpy(copy, buf, cut);
			assert_int_equal(mlc_model_decode(copy, cut, &d, &err), MLC_ECORRUPT);
			assert_null(d.inputs);
			free(copy);
		}
		/* one trailing byte too many */
		copy = malloc(len + 1);
		memcpy(copy, buf, len);
		copy[len] = 0;
		assert_int_equal(mlc_model_decode(copy, len + 1, &d, &err), MLC_ECORRUPT);
		free(copy);
		assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_OK);
		mlc_model_free(&d);
		mlc_free(buf);
	}
	assert_int_equal(mlc_model_decode(NULL, 0, &d, &err), MLC_ECORRUPT);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
	p[3] = (uint8_t) (v >> 24);
}

/* Build header + payload with a correct CRC and length. */
static size_t
wrap(uint8_t *out, const uint8_t *payload, size_t plen, int version, int alg)
{
	memcpy(out, "PGML", 4);
	out[4] = (uint8_t) version;
	out[5] = (uint8_t) (version >> 8);
	out[6] = (uint8_t) alg;
	out[7] = 0;
	put32(out + 8, (uint32_t) plen);
	put32(out + 12, mlc_crc32c(mlc_crc32c(0, out, 12), payload, plen));
	memcpy(out + 16, payload, plen);
	return 16 + plen;
}

static void
test_version_message(void **state)
{
	mlc_model	m,
				d;
	uint8_t    *buf,
			   *buf2;
	size_t		len;
	mlc_error	err;

	test_model_build(MLC_ALG_LINEAR, &m);
	encode_ok(&m, &buf, &len);
	mlc_model_free(&m);
	buf2 = malloc(len);
	/* a correct CRC, so only the version is wrong */
	wrap(buf2, buf + 16, len - 16, 1, MLC_ALG_LINEAR);
	assert_int_equal(mlc_model_decode(buf2, len, &d, &err), MLC_ECORRUPT);
	assert_string_equal(err.msg, "unsupported model format version 1 (supported: 2)");
	assert_non_null(strstr(err.detail, "version 2"));
	wrap(buf2, buf + 16, len - 16, 0x0103, MLC_ALG_LINEAR);
	assert_int_equal(mlc_model_decode(buf2, len, &d, &err), MLC_ECORRUPT);
	assert_string_equal(err.msg, "unsupported model format version 259 (supported: 2)");
	wrap(buf2, buf + 16, len - 16, 2, MLC_ALG_LINEAR);
	assert_int_equal(mlc_model_decode(buf2, len, &d, &err), MLC_OK);
	mlc_model_free(&d);
	/* the algorithm of the header must be known and fit the payload */
	wrap(buf2, buf + 16, len - 16, 2, 13);
	assert_int_equal(mlc_model_decode(buf2, len, &d, &err), MLC_ECORRUPT);
	assert_non_null(strstr(err.msg, "algorithm"));
	wrap(buf2, buf + 16, len - 16, 2, MLC_ALG_KMEANS);
	assert_int_equal(mlc_model_decode(buf2, len, &d, &err), MLC_ECORRUPT);
	assert_non_null(strstr(err.msg, "task"));
	buf[0] = 'X';
	assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_ECORRUPT);
	assert_non_null(strstr(err.msg, "bad magic"));
	free(buf2);
	mlc_free(buf);
}

/* payload writer for crafted inputs */
typedef struct pw
{
	uint8_t		b[512];
	size_t		n;
} pw;

static void
pw_u32(pw *w, uint32_t v)
{
	put32(w->b + w->n, v);
	w->n += 4;
}

static void
pw_u8(pw *w, int v)
{
	w->b[w->n++] = (uint8_t) v;
}

static void
pw_bytes(pw *w, const void *s, size_t l)
{
	pw_u32(w, (uint32_t) l);
	memcpy(w->b + w->n, s, l);
	w->n += l;
}

static void
pw_f64(pw *w, double d)
{
	memcpy(w->b + w->n, &d, 8);	/* little-endian host (x86-64, arm64) */
	w->n += 8;
}

/*
 * A linear model with one input "x" and the given tail: variants of the
 * field values select one damage each.
 */
enum damage
{
	OK, NUL_NAME, EMPTY_NAME, LONG_NAME, INPUT_COUNT, HUGE_COUNT, FEATURE_COUNT,
	CATEGORY_COUNT, ARRAY_NAME_32, ARRAY_OVERFLOW, ARRAY_SHORT, TRAILING,
	BAD_TASK, BAD_KIND, NO_COEF, NAN_COEF, FLAG_2
};

static size_t
crafted(uint8_t *out, enum damage dmg)
{
	pw			w;
	double		coef[2] = {1.5, -2.0};

	w.n = 0;
	pw_u32(&w, dmg == BAD_TASK ? 7 : MLC_TASK_REGRESSION);
	pw_u32(&w, dmg == INPUT_COUNT ? 2 : dmg == HUGE_COUNT ? UINT32_MAX : 1);
	if (dmg == NUL_NAME)
		pw_bytes(&w, "x\0y", 3);
	else if (dmg == EMPTY_NAME)
		pw_bytes(&w, "", 0);
	else if (dmg == LONG_NAME)
		pw_u32(&w, 100000);
	else
		pw_bytes(&w, "x", 1);
	pw_u32(&w, dmg == BAD_KIND ? 5 : MLC_ENC_NUMBER);
	pw_u32(&w, 1);
	pw_f64(&w, NAN);
	pw_u32(&w, dmg == CATEGORY_COUNT ? 1000 : 0);
	pw_u8(&w, dmg == FLAG_2 ? 2 : 0);
	pw_u8(&w, 0);
	pw_u32(&w, dmg == FEATURE_COUNT ? 100001 : 1);
	pw_bytes(&w, "x", 1);
	pw_u32(&w, 0);				/* classes */
	pw_u8(&w, 0);
	pw_u32(&w, dmg == NO_COEF ? 0 : 1);
	if (dmg != NO_COEF)
	{
		if (dmg == ARRAY_NAME_32)
			pw_bytes(&w, "coef_with_a_name_of_32_bytes____", 32);
		else
			pw_bytes(&w, "coef", 4);
		pw_u32(&w, dmg == ARRAY_OVERFLOW ? 0x7fffffff : 1);
		pw_u32(&w, dmg == ARRAY_OVERFLOW ? 0x7fffffff : 2);
		pw_f64(&w, coef[0]);
		if (dmg != ARRAY_SHORT)
			pw_f64(&w, dmg == NAN_COEF ? NAN : coef[1]);
	}
	if (dmg == TRAILING)
		pw_u8(&w, 0);
	return wrap(out, w.b, w.n, 2, MLC_ALG_LINEAR);
}

static void
test_crafted_payloads(void **state)
{
	static const struct
	{
		enum damage dmg;
		const char *needle;
	}			cases[] = {
		{NUL_NAME, "NUL"}, {EMPTY_NAME, "column name length"},
		{LONG_NAME, "column name"}, {INPUT_COUNT, "corrupted"},
		{HUGE_COUNT, "input count"}, {FEATURE_COUNT, "feature count"},
		{CATEGORY_COUNT, "category count"}, {ARRAY_NAME_32, "array name length"},
		{ARRAY_OVERFLOW, "array larger"}, {ARRAY_SHORT, "array larger"},
		{TRAILING, "trailing"}, {BAD_TASK, "task"}, {BAD_KIND, "kind"},
		{NO_COEF, "coef"}, {NAN_COEF, "non-finite"}, {FLAG_2, "has_other"},
	};
	uint8_t		buf[600];
	size_t		len,
				i;
	mlc_model	d;
	mlc_error	err;
	double		x[1] = {2.0};

	len = crafted(buf, OK);
	if (mlc_model_decode(buf, len, &d, &err) != MLC_OK)
		fail_msg("%s", err.msg);
	assert_string_equal(d.inputs[0].column, "x");
	assert_true(isnan(d.inputs[0].impute));
	assert_true(mlc_model_predict(&d, x) == 1.5 - 4.0);
	mlc_model_free(&d);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		len = crafted(buf, cases[i].dmg);
		assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_ECORRUPT);
		assert_null(d.inputs);
		assert_non_null(strstr(err.msg, "corrupted model: "));
		if (strstr(err.msg, cases[i].needle) == NULL)
			fail_msg("case %d: \"%s\" lacks \"%s\"", (int) i, err.msg, cases[i].needle);
	}
}

/* Random damage to the payload of a valid model with the CRC made right:
 * decode never crashes, and whatever decodes re-encodes to the same bytes. */
static void
test_random_payloads(void **state)
{
	mlc_model	m,
				d;
	uint8_t    *enc,
			   *buf,
			   *buf2;
	size_t		len,
				len2;
	uint64_t	rng = 2024;
	int			trial,
				ok = 0;
	mlc_error	err;
	double		x[5] = {0};

	test_model_build(MLC_ALG_NAIVE_BAYES, &m);
	encode_ok(&m, &enc, &len);
	mlc_model_free(&m);
	buf = malloc(len);
	for (trial = 0; trial < 20000; trial++)
	{
		int			k,
					nflips = 1 + (int) (unit_rand_u64(&rng) % 3);
		size_t		plen = len - 16;

		memcpy(buf, enc, len);
		for (k = 0; k < nflips; k++)
		{
			size_t		pos = 16 + (size_t) (unit_rand_u64(&rng) % plen);

			/* small values where counts live, random bytes elsewhere */
			buf[pos] = (uint8_t) (unit_rand_u64(&rng) % (k == 0 ? 4 : 256));
		}
		if (trial % 3 == 0)
			plen -= (size_t) (unit_rand_u64(&rng) % 9);
		wrap(buf, buf + 16, plen, 2, MLC_ALG_NAIVE_BAYES);
		if (mlc_model_decode(buf, 16 + plen, &d, &err) == MLC_OK)
		{
			ok++;
			encode_ok(&d, &buf2, &len2);
			assert_int_equal(len2, 16 + plen);
			assert_memory_equal(buf2, buf, len2);
			mlc_free(buf2);
			(void) mlc_model_predict(&d, x);
			mlc_model_free(&d);
		}
		else
			assert_null(d.arrays);
	}
	assert_true(ok > 0);
	free(buf);
	mlc_free(enc);
}

static void
test_encode_validation(void **state)
{
	mlc_model	m;
	uint8_t    *buf = (uint8_t *) 1;
	size_t		len = 99;
	mlc_error	err;
	char	   *longname,
			   *saved;

	test_model_build(MLC_ALG_SOFTMAX, &m);
	m.arrays[0].data[4] = NAN;
	assert_int_equal(mlc_model_encode(&m, &buf, &len, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "non-finite"));
	assert_null(buf);
	assert_int_equal(len, 0);
	m.arrays[0].data[4] = 0;
	m.inputs[1].width = 2;
	assert_int_equal(mlc_model_encode(&m, &buf, &len, &err), MLC_EINVAL);
	m.inputs[1].width = 3;
	/* a feature name longer than the format allows */
	longname = malloc(65537);
	memset(longname, 'a', 65536);
	longname[65536] = '\0';
	saved = m.feature_names[0];
	m.feature_names[0] = longname;
	assert_int_equal(mlc_model_encode(&m, &buf, &len, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "too long"));
	longname[65535] = '\0';		/* 65535 bytes is fine */
	encode_ok(&m, &buf, &len);
	mlc_free(buf);
	m.feature_names[0] = saved;
	free(longname);
	assert_int_equal(mlc_model_encode(NULL, &buf, &len, &err), MLC_EINVAL);
	assert_int_equal(mlc_model_encode(&m, NULL, &len, &err), MLC_EINVAL);
	assert_int_equal(mlc_model_decode((const uint8_t *) "PGML", 4, NULL, &err), MLC_EINVAL);
	mlc_model_free(&m);
}

int
run_codec_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_every_byte_corruption),
		cmocka_unit_test(test_every_bit_flip_and_truncation),
		cmocka_unit_test(test_version_message),
		cmocka_unit_test(test_crafted_payloads),
		cmocka_unit_test(test_random_payloads),
		cmocka_unit_test(test_encode_validation),
	};

	return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
