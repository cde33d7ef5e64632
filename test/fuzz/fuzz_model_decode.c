/*
 * fuzz_model_decode.c: libFuzzer harness for mlc_model_decode.
 *
 * Arbitrary bytes are decoded twice: as they are (which exercises the header
 * checks: magic, version, algorithm, length, CRC) and as a copy whose header
 * is repaired (magic, version, payload length and CRC made right), so that
 * the payload parser sees the mutated bytes instead of a checksum mismatch.
 * Every successful decode must re-encode to exactly the bytes decoded, decode
 * again to an identical model (bit for bit), and predict on a zero vector.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"

static void
check(int cond)
{
	if (!cond)
		abort();
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
	p[3] = (uint8_t) (v >> 24);
}

static void
same_model(const mlc_model *a, const mlc_model *b)
{
	int			j;

	check(a->algorithm == b->algorithm);
	check(a->n_features == b->n_features);
	check(a->linear.p == b->linear.p);
	check(memcmp(&a->linear.intercept, &b->linear.intercept, sizeof(double)) == 0);
	for (j = 0; j < a->n_features; j++)
	{
		check(strcmp(a->feature_names[j], b->feature_names[j]) == 0);
		check(memcmp(&a->linear.coef[j], &b->linear.coef[j], sizeof(double)) == 0);
	}
}

static void
decode_one(const uint8_t *data, size_t size)
{
	mlc_model	m,
				m2;
	mlc_error	err;
	uint8_t    *enc = NULL;
	size_t		enc_len = 0;
	double	   *x;
	mlc_status	st;
	int			j;

	st = mlc_model_decode(data, size, &m, &err);
	if (st != MLC_OK)
	{
		check(st == MLC_ECORRUPT || st == MLC_ENOMEM);
		check(err.code == st && err.msg[0] != '\0');
		check(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
		check(m.feature_names == NULL && m.linear.coef == NULL);
		return;
	}
	check(m.algorithm == MLC_ALG_LINEAR || m.algorithm == MLC_ALG_RIDGE);
	check(m.n_features >= 0 && m.n_features == m.linear.p);
	for (j = 0; j < m.n_features; j++)
		check(m.feature_names[j] != NULL && m.feature_names[j][0] != '\0');

	/* round trip: the encoding is canonical */
	check(mlc_model_encode(&m, &enc, &enc_len, &err) == MLC_OK);
	check(enc_len == size && memcmp(enc, data, size) == 0);
	check(mlc_model_decode(enc, enc_len, &m2, &err) == MLC_OK);
	same_model(&m, &m2);

	/* prediction on a zero vector must not crash (the value may be NaN) */
	x = calloc((size_t) m.n_features + 1, sizeof(double));
	check(x != NULL);
	(void) mlc_model_predict(&m, x);
	(void) mlc_model_predict(&m2, x);
	free(x);

	mlc_free(enc);
	mlc_model_free(&m2);
	mlc_model_free(&m);
	check(m.feature_names == NULL && m.n_features == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t    *fixed;

	decode_one(data, size);

	if (size >= MLC_HEADER_SIZE && size - MLC_HEADER_SIZE <= UINT32_MAX)
	{
		fixed = malloc(size);
		if (fixed == NULL)
			return 0;
		memcpy(fixed, data, size);
		memcpy(fixed, MLC_MODEL_MAGIC, 4);
		fixed[4] = MLC_MODEL_FORMAT;
		fixed[5] = 0;
		put_u32(fixed + 8, (uint32_t) (size - MLC_HEADER_SIZE));
		put_u32(fixed + 12, mlc_crc32c(mlc_crc32c(0, fixed, 12), fixed + MLC_HEADER_SIZE,
									   size - MLC_HEADER_SIZE));
		decode_one(fixed, size);
		free(fixed);
	}
	return 0;
}
