/*
 * fuzz_model_decode.c: libFuzzer harness for mlc_model_decode.
 *
 * Arbitrary bytes are decoded twice: as they are (which exercises the header
 * checks: magic, version, algorithm, length, CRC) and as a copy whose header
 * is repaired (magic, version, payload length and CRC made right), so that
 * the payload parser sees the mutated bytes instead of a checksum mismatch.
 * Every successful decode must re-encode to exactly the bytes decoded, decode
 * again to an identical model (bit for bit), and score a zero vector
 * (predict, predict_proba, transform).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"
#include "fuzz.h"

/* abort naming the failed condition, so the crash report says which */

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
	p[3] = (uint8_t) (v >> 24);
}

static void
same_bits(const double *a, const double *b, size_t n)
{
	check(n == 0 || memcmp(a, b, n * sizeof(double)) == 0);
}

static void
same_model(const mlc_model *a, const mlc_model *b)
{
	int			i,
				j;

	check(a->algorithm == b->algorithm && a->task == b->task);
	check(a->n_inputs == b->n_inputs);
	for (i = 0; i < a->n_inputs; i++)
	{
		const mlc_encoder *x = &a->inputs[i],
				   *y = &b->inputs[i];

		check(strcmp(x->column, y->column) == 0);
		check(x->kind == y->kind && x->width == y->width);
		same_bits(&x->impute, &y->impute, 1);
		check(x->n_categories == y->n_categories);
		for (j = 0; j < x->n_categories; j++)
			check(strcmp(x->categories[j], y->categories[j]) == 0);
		check(x->has_other == y->has_other && x->drop_first == y->drop_first);
	}
	check(a->n_features == b->n_features);
	for (j = 0; j < a->n_features; j++)
		check(strcmp(a->feature_names[j], b->feature_names[j]) == 0);
	check(a->n_classes == b->n_classes && a->labels_numeric == b->labels_numeric);
	for (j = 0; j < a->n_classes; j++)
		check(strcmp(a->classes[j], b->classes[j]) == 0);
	if (a->labels_numeric)
		same_bits(a->class_values, b->class_values, (size_t) a->n_classes);
	check(a->n_arrays == b->n_arrays);
	for (i = 0; i < a->n_arrays; i++)
	{
		check(strcmp(a->arrays[i].name, b->arrays[i].name) == 0);
		check(a->arrays[i].rows == b->arrays[i].rows && a->arrays[i].cols == b->arrays[i].cols);
		same_bits(a->arrays[i].data, b->arrays[i].data,
				  (size_t) a->arrays[i].rows * (size_t) a->arrays[i].cols);
	}
}

static void
score_zero(const mlc_model *m)
{
	double	   *x,
			   *out;
	int			w = mlc_model_output_width(m),
				n = m->n_classes > w ? m->n_classes : w;
	double		y;

	x = calloc((size_t) m->n_features + 1, sizeof(double));
	out = calloc((size_t) n + 1, sizeof(double));
	check(x != NULL && out != NULL);
	y = mlc_model_predict(m, x);
	if (m->task == MLC_TASK_CLASSIFICATION && !isnan(y))
		check(y >= 0 && y < m->n_classes && y == (int) y);
	if (mlc_model_predict_proba(m, x, out) == 0)
	{
		double		s = 0;
		int			c;

		check(m->task == MLC_TASK_CLASSIFICATION);
		for (c = 0; c < m->n_classes; c++)
		{
			check(out[c] >= 0 && out[c] <= 1);
			s += out[c];
		}
		check(fabs(s - 1) < 1e-9);
	}
	check(mlc_model_transform(m, x, out) == (w > 0 ? w : -1));
	free(out);
	free(x);
}

static void
decode_one(const uint8_t *data, size_t size)
{
	mlc_model	m,
				m2;
	mlc_error	err;
	uint8_t    *enc = NULL;
	size_t		enc_len = 0;
	mlc_status	st;

	st = mlc_model_decode(data, size, &m, &err);
	if (st != MLC_OK)
	{
		check(st == MLC_ECORRUPT || st == MLC_ENOMEM);
		check(err.code == st && err.msg[0] != '\0');
		check(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
		check(m.inputs == NULL && m.feature_names == NULL && m.arrays == NULL &&
			  m.classes == NULL && m.class_values == NULL);
		return;
	}
	check(mlc_model_validate(&m, &err) == MLC_OK);

	/* round trip: the encoding is canonical */
	check(mlc_model_encode(&m, &enc, &enc_len, &err) == MLC_OK);
	check(enc_len == size && memcmp(enc, data, size) == 0);
	check(mlc_model_decode(enc, enc_len, &m2, &err) == MLC_OK);
	same_model(&m, &m2);

	/* scoring a zero vector must not crash (the value may be NaN) */
	score_zero(&m);

	mlc_free(enc);
	mlc_model_free(&m2);
	mlc_model_free(&m);
	check(m.feature_names == NULL && m.n_features == 0 && m.arrays == NULL);
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
