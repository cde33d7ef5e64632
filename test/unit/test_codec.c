/*
 * test_codec.c: CRC-32C and the model encoding: round trips, every
 * single-byte corruption, every truncation, crafted bad payloads.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

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

static char *names3[] = {"age", "income_k", "tenure.months"};

static void
make_model(mlc_model *m, double *coef)
{
	memset(m, 0, sizeof(*m));
	m->algorithm = MLC_ALG_LINEAR;
	m->n_features = 3;
	m->feature_names = names3;
	m->linear.p = 3;
	m->linear.intercept = -0.1;
	coef[0] = 1.0 / 3.0;
	coef[1] = -0.0;
	coef[2] = 4.9e-324;			/* subnormal */
	m->linear.coef = coef;
}

static void
test_round_trip(void **state)
{
	mlc_model	m,
				d;
	double		coef[3];
	uint8_t    *buf,
			   *buf2;
	size_t		len,
				len2;
	mlc_error	err;
	double		x[3] = {30, 55.5, 12};
	int			j;

	make_model(&m, coef);
	assert_int_equal(mlc_model_encode(&m, &buf, &len, &err), MLC_OK);
	assert_int_equal(len, 16 + 4 + (4 + 3) + (4 + 8) + (4 + 13) + 8 + 24);
	assert_memory_equal(buf, "PGML", 4);
	assert_int_equal(buf[4], 1);
	assert_int_equal(buf[5], 0);
	assert_int_equal(buf[6], MLC_ALG_LINEAR);

	assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_OK);
	assert_int_equal(d.algorithm, MLC_ALG_LINEAR);
	assert_int_equal(d.n_features, 3);
	assert_int_equal(d.linear.p, 3);
	for (j = 0; j < 3; j++)
		assert_string_equal(d.feature_names[j], names3[j]);
	assert_memory_equal(&d.linear.intercept, &m.linear.intercept, sizeof(double));
	assert_memory_equal(d.linear.coef, coef, sizeof(coef));
	assert_true(mlc_model_predict(&d, x) == mlc_model_predict(&m, x));

	/* re-encoding gives the same bytes */
	assert_int_equal(mlc_model_encode(&d, &buf2, &len2, &err), MLC_OK);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);
	mlc_free(buf2);
	mlc_model_free(&d);
	assert_null(d.feature_names);
	assert_null(d.linear.coef);
	mlc_model_free(&d);			/* idempotent */
	mlc_free(buf);

	/* ridge and the empty model */
	m.algorithm = MLC_ALG_RIDGE;
	m.n_features = 0;
	m.linear.p = 0;
	m.linear.intercept = NAN;
	assert_int_equal(mlc_model_encode(&m, &buf, &len, &err), MLC_OK);
	assert_int_equal(len, 16 + 4 + 8);
	assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_OK);
	assert_int_equal(d.algorithm, MLC_ALG_RIDGE);
	assert_int_equal(d.n_features, 0);
	assert_true(isnan(d.linear.intercept));
	mlc_model_free(&d);
	mlc_free(buf);
}

static void
test_every_byte_corruption(void **state)
{
	mlc_model	m,
				d;
	double		coef[3];
	uint8_t    *buf;
	size_t		len,
				pos;
	mlc_error	err;
	int			v,
				undetected = 0;

	make_model(&m, coef);
	assert_int_equal(mlc_model_encode(&m, &buf, &len, &err), MLC_OK);
	for (pos = 0; pos < len; pos++)
	{
		uint8_t		orig = buf[pos];

		for (v = 0; v < 256; v++)
		{
			mlc_status	st;

			if (v == orig)
				continue;
			buf[pos] = (uint8_t) v;
			st = mlc_model_decode(buf, len, &d, &err);
			if (st == MLC_OK)
			{
				/*
				 * The only change the format cannot see: the algorithm id
				 * (header, outside the CRC) switched to the other linear
				 * algorithm, whose payload layout is the same.
				 */
				assert_int_equal(pos, 6);
				assert_int_equal(v, MLC_ALG_RIDGE);
				assert_int_equal(d.algorithm, MLC_ALG_RIDGE);
				undetected++;
				mlc_model_free(&d);
			}
			else
			{
				assert_int_equal(st, MLC_ECORRUPT);
				assert_int_equal(err.code, MLC_ECORRUPT);
				assert_null(d.feature_names);
				assert_null(d.linear.coef);
			}
		}
		buf[pos] = orig;
	}
	assert_int_equal(undetected, 0);
	/* every single-bit flip is detected (1 -> 2 takes two bits) */
	for (pos = 0; pos < len; pos++)
		for (v = 0; v < 8; v++)
		{
			buf[pos] ^= (uint8_t) (1 << v);
			assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_ECORRUPT);
			buf[pos] ^= (uint8_t) (1 << v);
		}
	mlc_free(buf);
}

static void
test_every_truncation(void **state)
{
	mlc_model	m,
				d;
	double		coef[3];
	uint8_t    *buf,
			   *copy;
	size_t		len,
				cut;
	mlc_error	err;

	make_model(&m, coef);
	assert_int_equal(mlc_model_encode(&m, &buf, &len, &err), MLC_OK);
	for (cut = 0; cut < len; cut++)
	{
		/* exact-size copy so that reading past the end would be caught by ASan */
		copy = malloc(cut > 0 ? cut : 1);
		memcpy(copy, buf, cut);
		assert_int_equal(mlc_model_decode(copy, cut, &d, &err), MLC_ECORRUPT);
		free(copy);
	}
	assert_int_equal(mlc_model_decode(NULL, 0, &d, &err), MLC_ECORRUPT);
	/* one trailing byte too many */
	copy = malloc(len + 1);
	memcpy(copy, buf, len);
	copy[len] = 0;
	assert_int_equal(mlc_model_decode(copy, len + 1, &d, &err), MLC_ECORRUPT);
	free(copy);
	mlc_free(buf);
}

static void
test_version_message(void **state)
{
	mlc_model	m,
				d;
	double		coef[3];
	uint8_t    *buf;
	size_t		len;
	mlc_error	err;

	make_model(&m, coef);
	assert_int_equal(mlc_model_encode(&m, &buf, &len, &err), MLC_OK);
	buf[4] = 2;
	assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_ECORRUPT);
	assert_string_equal(err.msg, "unsupported model format version 2 (supported: 1)");
	assert_non_null(strstr(err.detail, "version 1"));
	buf[4] = 1;
	buf[0] = 'X';
	assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_ECORRUPT);
	assert_non_null(strstr(err.msg, "bad magic"));
	mlc_free(buf);
}

/* Build header + payload with a correct CRC and length. */
static size_t
wrap(uint8_t *out, const uint8_t *payload, size_t plen, int alg)
{
	uint32_t	crc;

	memcpy(out, "PGML", 4);
	out[4] = 1;
	out[5] = 0;
	out[6] = (uint8_t) alg;
	out[7] = 0;
	out[8] = (uint8_t) plen;
	out[9] = (uint8_t) (plen >> 8);
	out[10] = (uint8_t) (plen >> 16);
	out[11] = (uint8_t) (plen >> 24);
	crc = mlc_crc32c(mlc_crc32c(0, out, 12), payload, plen);
	out[12] = (uint8_t) crc;
	out[13] = (uint8_t) (crc >> 8);
	out[14] = (uint8_t) (crc >> 16);
	out[15] = (uint8_t) (crc >> 24);
	memcpy(out + 16, payload, plen);
	return 16 + plen;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
	p[3] = (uint8_t) (v >> 24);
}

static void
test_crafted_payloads(void **state)
{
	uint8_t		pl[256],
				buf[300];
	size_t		len;
	mlc_model	d;
	mlc_error	err;

	/* valid: p = 1, name "x", intercept, coef */
	memset(pl, 0, sizeof(pl));
	put32(pl, 1);
	put32(pl + 4, 1);
	pl[8] = 'x';
	len = wrap(buf, pl, 9 + 16, MLC_ALG_LINEAR);
	assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_OK);
	assert_string_equal(d.feature_names[0], "x");
	mlc_model_free(&d);

	/* unknown algorithm with a valid CRC */
	len = wrap(buf, pl, 9 + 16, 3);
	assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_ECORRUPT);
	assert_non_null(strstr(err.msg, "algorithm"));

	/* one double missing / one extra */
	len = wrap(buf, pl, 9 + 8, MLC_ALG_LINEAR);
	assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_ECORRUPT);
	len = wrap(buf, pl, 9 + 24, MLC_ALG_LINEAR);
	assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_ECORRUPT);

	/* NUL inside a name */
	put32(pl + 4, 2);
	pl[8] = 'x';
	pl[9] = '\0';
	len = wrap(buf, pl, 10 + 16, MLC_ALG_LINEAR);
	assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_ECORRUPT);
	assert_non_null(strstr(err.msg, "NUL"));

	/* empty name */
	put32(pl + 4, 0);
	len = wrap(buf, pl, 8 + 16, MLC_ALG_LINEAR);
	assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_ECORRUPT);

	/* name length beyond the payload */
	put32(pl + 4, 1000);
	len = wrap(buf, pl, 9 + 16, MLC_ALG_LINEAR);
	assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_ECORRUPT);
	put32(pl + 4, UINT32_MAX);
	len = wrap(buf, pl, 9 + 16, MLC_ALG_LINEAR);
	assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_ECORRUPT);

	/* absurd feature counts */
	put32(pl, 200000);
	put32(pl + 4, 1);
	len = wrap(buf, pl, 9 + 16, MLC_ALG_LINEAR);
	assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_ECORRUPT);
	put32(pl, UINT32_MAX);
	len = wrap(buf, pl, 9 + 16, MLC_ALG_LINEAR);
	assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_ECORRUPT);
	put32(pl, 2);				/* says 2, holds 1 */
	len = wrap(buf, pl, 9 + 16, MLC_ALG_LINEAR);
	assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_ECORRUPT);

	/* payload too short for p */
	len = wrap(buf, pl, 3, MLC_ALG_LINEAR);
	assert_int_equal(mlc_model_decode(buf, len, &d, &err), MLC_ECORRUPT);
}

static void
test_random_payloads(void **state)
{
	/* random payloads with valid CRC: decode never crashes, and succeeds
	 * only with a consistent structure */
	uint8_t		pl[128],
				buf[160];
	uint64_t	rng = 2024;
	int			trial,
				ok = 0;
	mlc_model	d;
	mlc_error	err;

	for (trial = 0; trial < 20000; trial++)
	{
		size_t		plen = (size_t) (unit_rand_u64(&rng) % sizeof(pl));
		size_t		i;

		for (i = 0; i < plen; i++)
			pl[i] = (uint8_t) unit_rand_u64(&rng);
		if (plen >= 4)
			put32(pl, (uint32_t) (unit_rand_u64(&rng) % 4));
		if (plen >= 8)
			put32(pl + 4, (uint32_t) (unit_rand_u64(&rng) % 12));
		if (mlc_model_decode(buf, wrap(buf, pl, plen, MLC_ALG_LINEAR), &d, &err) == MLC_OK)
		{
			ok++;
			assert_true(d.n_features >= 0 && d.n_features <= 3);
			mlc_model_free(&d);
		}
	}
	assert_true(ok > 0);
}

static void
test_encode_validation(void **state)
{
	mlc_model	m;
	double		coef[3];
	uint8_t    *buf = (uint8_t *) 1;
	size_t		len = 99;
	mlc_error	err;
	char	   *bad_names[] = {"a", "", "c"};

	make_model(&m, coef);
	m.algorithm = (mlc_algorithm) 9;
	assert_int_equal(mlc_model_encode(&m, &buf, &len, &err), MLC_EINVAL);
	assert_null(buf);
	assert_int_equal(len, 0);
	make_model(&m, coef);
	m.linear.p = 2;
	assert_int_equal(mlc_model_encode(&m, &buf, &len, &err), MLC_EINVAL);
	make_model(&m, coef);
	m.feature_names = bad_names;
	assert_int_equal(mlc_model_encode(&m, &buf, &len, &err), MLC_EINVAL);
	make_model(&m, coef);
	m.linear.coef = NULL;
	assert_int_equal(mlc_model_encode(&m, &buf, &len, &err), MLC_EINVAL);
	assert_int_equal(mlc_model_encode(NULL, &buf, &len, &err), MLC_EINVAL);
	assert_int_equal(mlc_model_decode(buf, len, NULL, &err), MLC_EINVAL);
}

int
run_codec_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_every_byte_corruption),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_version_message),
		cmocka_unit_test(test_crafted_payloads),
		cmocka_unit_test(test_random_payloads),
		cmocka_unit_test(test_encode_validation),
	};

	return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
