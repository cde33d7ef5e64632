/*
 * driver.c: scores rows with a C export (test/reference/check_export.py).
 * Compiled with the export file and -DOPEN=<ident>_open.  Each input line
 * holds one value per model input, tab-separated: \N for NULL, numbers as
 * the 16 hex digits of float8send (big-endian bits), dates as days since
 * 1970-01-01, booleans 0/1, categories as text.  Each output line: the
 * prediction, the class id, the probabilities and the transform, as
 * big-endian hex bits ("-" where the task has none, NULL for a NULL result).
 */
#define PGML_SCORER_IMPLEMENTATION
#include "pg_mlops_scorer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int			OPEN(pgml_scorer *s);

static double
from_hex(const char *h)
{
	uint64_t	u = strtoull(h, NULL, 16);
	double		d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

static void
put_hex(double d)
{
	uint64_t	u;

	memcpy(&u, &d, sizeof(u));
	printf("%016llx", (unsigned long long) u);
}

static void
put_list(int rc, const double *v, int n, pgml_scorer *s)
{
	int			i;

	if (rc == PGML_NULL)
		printf("NULL");
	else if (rc != PGML_OK)
	{
		printf("ERROR %s", pgml_error(s));
		return;
	}
	else
		for (i = 0; i < n; i++)
		{
			if (i)
				putchar(',');
			put_hex(v[i]);
		}
}

int
main(void)
{
	pgml_scorer s;
	static char line[1 << 16];
	pgml_value *row;
	double	   *out;
	int			n_in,
				width;

	if (OPEN(&s) != PGML_OK)
	{
		fprintf(stderr, "open: %s\n", pgml_error(&s));
		return 2;
	}
	n_in = s.model.n_inputs;
	width = pgml_output_width(&s);
	row = calloc((size_t) n_in + 1, sizeof(pgml_value));
	out = calloc((size_t) (s.model.n_classes > width ? s.model.n_classes : width) + 1, sizeof(double));
	while (fgets(line, sizeof(line), stdin))
	{
		char	   *p = line,
				   *field;
		int			i,
					rc;
		double		v;

		line[strcspn(line, "\n")] = '\0';
		for (i = 0; i < n_in; i++)
		{
			const mlc_encoder *e = &s.model.inputs[i];

			field = p;
			p += strcspn(p, "\t");
			if (*p)
				*p++ = '\0';
			row[i].isnull = strcmp(field, "\\N") == 0;
			row[i].text = field;
			row[i].number = 0.0;
			if (row[i].isnull || e->kind == MLC_ENC_CATEGORY)
				continue;
			if (e->kind == MLC_ENC_TIME)
				row[i].number = pgml_date_seconds(strtoll(field, NULL, 10));
			else if (e->kind == MLC_ENC_BOOL)
				row[i].number = field[0] == '1' ? 1.0 : 0.0;
			else
				row[i].number = from_hex(field);
		}
		/* prediction */
		if (s.model.task == MLC_TASK_DECOMPOSITION ||
			(s.model.task == MLC_TASK_CLASSIFICATION && !s.model.labels_numeric))
			printf("-");
		else
			put_list(pgml_predict(&s, row, &v), &v, 1, &s);
		putchar('\t');
		if (s.model.task == MLC_TASK_CLASSIFICATION)
		{
			int			c = -1;

			rc = pgml_predict_class(&s, row, &c);
			if (rc == PGML_OK)
				printf("%d", c);
			else
				printf(rc == PGML_NULL ? "NULL" : "ERROR");
			putchar('\t');
			put_list(pgml_predict_proba(&s, row, out), out, s.model.n_classes, &s);
		}
		else
			printf("-\t-");
		putchar('\t');
		if (width > 0)
			put_list(pgml_transform(&s, row, out), out, width, &s);
		else
			printf("-");
		putchar('\n');
	}
	pgml_close(&s);
	free(row);
	free(out);
	return 0;
}
