/*
 * fuzz_json_plan.c: libFuzzer harness for mlc_json_plan_parse, the decoder
 * of the jsonb training plan of ml._fit (as the JSON text the glue prints).
 *
 * The input is the text as it is (exactly size bytes, so ASan catches a
 * read past len).  A failure must be MLC_EINVAL "malformed training plan"
 * (or MLC_ENOMEM) with a message and leave the plan empty; an accepted plan
 * must hold what the glue relies on: a target name exactly when there is a
 * target, class values only for classes, known encoder kinds, widths that
 * follow from the categories and flags, categories in strcmp order, p the
 * sum of the widths, seed and train_rows in range.  Freeing must release
 * everything (LeakSanitizer).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"
#include "fuzz.h"
#include "wire.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mlc_json_plan pl;
	mlc_error	err;
	mlc_status	st;
	int64_t		p = 0;
	int			i,
				k;

	st = mlc_json_plan_parse((const char *) data, size, &pl, &err);
	if (st != MLC_OK)
	{
		check(st == MLC_EINVAL || st == MLC_ENOMEM);
		check_error(st, &err);
		if (st == MLC_EINVAL)
			check(strcmp(err.msg, "malformed training plan") == 0 && err.detail[0] != '\0');
		check(pl.target == NULL && pl.classes == NULL && pl.class_values == NULL &&
			  pl.enc == NULL && pl.n_inputs == 0 && pl.n_classes == 0);
		return 0;
	}
	check(pl.target_kind >= 0 && pl.target_kind <= 2);
	check((pl.target != NULL) == (pl.target_kind != 0));
	if (pl.target != NULL)
		check(strlen(pl.target) <= size);
	check(pl.target_kind == 2 || (pl.classes == NULL && pl.n_classes == 0 && pl.class_values == NULL));
	check(pl.n_classes >= 0 && pl.n_classes <= MLC_JSON_PLAN_MAX_ITEMS);
	for (i = 0; i < pl.n_classes; i++)
		check(pl.classes[i] != NULL && strlen(pl.classes[i]) <= size);
	if (pl.class_values != NULL)
		for (i = 0; i < pl.n_classes; i++)
			check(isfinite(pl.class_values[i]));
	check(pl.train_rows >= 0 && pl.train_rows <= (int64_t) 9000000000000000000LL);
	check(pl.use_aggregates == 0 || pl.use_aggregates == 1);
	check(pl.missing_as_nan == 0 || pl.missing_as_nan == 1);
	check(pl.n_inputs >= 0 && pl.n_inputs <= MLC_JSON_PLAN_MAX_ITEMS);
	check(pl.enc != NULL);
	for (i = 0; i < pl.n_inputs; i++)
	{
		const mlc_encoder *e = &pl.enc[i];

		check(e->column != NULL && strlen(e->column) <= size);
		check(e->kind >= MLC_ENC_NUMBER && e->kind <= MLC_ENC_CATEGORY);
		if (e->kind == MLC_ENC_CATEGORY)
		{
			check(e->categories != NULL && isnan(e->impute));
			check(e->has_other == 0 || e->has_other == 1);
			check(e->drop_first == 0 || (e->drop_first == 1 && e->n_categories > 0));
			check(e->width == e->n_categories - e->drop_first + e->has_other);
			for (k = 0; k < e->n_categories; k++)
			{
				check(e->categories[k] != NULL && strlen(e->categories[k]) <= size);
				if (k > 0)
					check(strcmp(e->categories[k - 1], e->categories[k]) <= 0);
			}
		}
		else
		{
			check(e->width == 1 && e->n_categories == 0 && e->categories == NULL);
			check(isnan(e->impute) || isfinite(e->impute));
		}
		p += e->width;
	}
	check(p == pl.p);
	mlc_json_plan_free(&pl);
	check(pl.enc == NULL && pl.n_inputs == 0);
	return 0;
}
