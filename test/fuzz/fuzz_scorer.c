/*
 * fuzz_scorer.c: libFuzzer harness for the embeddable scorer's API
 * (src/scorer/scorer.c, the code of pg_mlops_scorer.h).
 *
 * The input is model bytes (its header repaired, as fuzz_model_decode does,
 * so the payload parser sees the mutations) followed by nothing else: the
 * rows are made from the input's bytes too, so every mutation also changes
 * what is scored.  pgml_open must either fail with a message or give a
 * scorer; each row (NULLs, non-finite numbers, numbers far out, the model's
 * own categories, unseen and empty text) then scores through every entry
 * point of the model's task, and each call returns PGML_OK, PGML_NULL or
 * PGML_ERROR with a message; class ids are in range and probabilities sum
 * to one.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"
#include "scorer.h"
#include "fuzz.h"

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
	p[3] = (uint8_t) (v >> 24);
}

static void
check_rc(pgml_scorer *s, int rc)
{
	check(rc == PGML_OK || rc == PGML_NULL || rc == PGML_ERROR);
	if (rc == PGML_ERROR)
	{
		const char *e = pgml_error(s);

		check(e != NULL && e[0] != '\0');
	}
}

/* Value k of a row from one byte of the input. */
static void
make_value(const mlc_encoder *e, uint8_t b, pgml_value *v)
{
	static const double numbers[] = {0, 1, -1, 0.5, 40, 1e300, -1e300, 1e-310,
	1700000000, -86400};

	memset(v, 0, sizeof(*v));
	switch (b % 8)
	{
		case 0:
			v->isnull = 1;
			break;
		case 1:
			v->number = NAN;
			break;
		case 2:
			v->number = (b & 8) ? INFINITY : -INFINITY;
			break;
		default:
			v->number = numbers[(b >> 3) % 10];
			break;
	}
	if (e->kind == MLC_ENC_CATEGORY && !v->isnull)
	{
		if (e->n_categories > 0 && (b & 1))
			v->text = e->categories[(b >> 1) % e->n_categories];
		else
			v->text = (b & 2) ? "" : ((b & 4) ? NULL : "no such value");
	}
}

static void
score(pgml_scorer *s, const uint8_t *data, size_t size)
{
	const mlc_model *m = &s->model;
	int			n = m->n_inputs,
				w = pgml_output_width(s),
				r,
				i,
				c;
	pgml_value *row = calloc((size_t) n + 1, sizeof(pgml_value));
	double	   *out = calloc((size_t) (m->n_classes > w ? m->n_classes : w) + 1, sizeof(double));
	double		v;

	check(row != NULL && out != NULL);
	for (r = 0; r < 4; r++)
	{
		int			rc;

		for (i = 0; i < n; i++)
			make_value(&m->inputs[i], size > 0 ? data[(size_t) (r * 31 + i * 7) % size] ^ (uint8_t) (r * 37) : 0,
					   &row[i]);
		rc = pgml_predict(s, row, &v);
		check_rc(s, rc);
		if (m->task == MLC_TASK_CLASSIFICATION)
		{
			rc = pgml_predict_class(s, row, &c);
			check_rc(s, rc);
			if (rc == PGML_OK)
				check(c >= 0 && c < m->n_classes);
			rc = pgml_predict_proba(s, row, out);
			check_rc(s, rc);
			if (rc == PGML_OK)
			{
				double		sum = 0;

				for (c = 0; c < m->n_classes; c++)
				{
					check(out[c] >= 0 && out[c] <= 1);
					sum += out[c];
				}
				check(fabs(sum - 1) < 1e-9);
			}
		}
		rc = pgml_transform(s, row, out);
		check_rc(s, rc);
		check(rc != PGML_OK || w > 0);
	}
	free(out);
	free(row);
}

static void
open_one(const uint8_t *data, size_t size)
{
	pgml_scorer s;
	int			rc = pgml_open(&s, data, size);

	if (rc != PGML_OK)
	{
		check(rc == PGML_ERROR);
		check(pgml_error(&s)[0] != '\0');
		pgml_close(&s);
		return;
	}
	score(&s, data, size);
	pgml_close(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t    *fixed;

	open_one(data, size);
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
		open_one(fixed, size);
		free(fixed);
	}
	return 0;
}
