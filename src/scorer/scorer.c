/*
 * scorer.c: the embeddable scorer (scorer.h) over the core's decoder,
 * encoders and scoring.  Each step mirrors the backend: a row is encoded as
 * ml_reader_encode (src/pg/encode.c) encodes it, and results are read as
 * ml_predict, ml_predict_class, ml_predict_proba and ml_transform
 * (src/pg/predict.c) read them, so the same bits come out.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mlcore.h"
#include "scorer.h"

int
pgml_open(pgml_scorer *s, const unsigned char *bytes, size_t len)
{
	if (s == NULL)
		return PGML_ERROR;
	memset(s, 0, sizeof(*s));
	if (bytes == NULL)
	{
		mlc_fail(&s->err, MLC_EINVAL, NULL, "no model bytes");
		return PGML_ERROR;
	}
	if (mlc_model_decode(bytes, len, &s->model, &s->err) != MLC_OK)
		return PGML_ERROR;
	s->x = mlc_alloc0(sizeof(double) * (size_t) (s->model.n_features > 0 ? s->model.n_features : 1));
	if (s->x == NULL)
	{
		mlc_model_free(&s->model);
		mlc_fail(&s->err, MLC_ENOMEM, NULL, "out of memory");
		return PGML_ERROR;
	}
	return PGML_OK;
}

void
pgml_close(pgml_scorer *s)
{
	if (s == NULL)
		return;
	mlc_model_free(&s->model);
	mlc_free(s->x);
	s->x = NULL;
}

const char *
pgml_error(pgml_scorer *s)
{
	if (s == NULL)
		return "no scorer";
	if (s->err.detail[0] == '\0')
		return s->err.msg;
	snprintf(s->message, sizeof(s->message), "%s: %s", s->err.msg, s->err.detail);
	return s->message;
}

static int
fail(pgml_scorer *s, const char *msg)
{
	mlc_fail(&s->err, MLC_EINVAL, NULL, "%s", msg);
	return PGML_ERROR;
}

/* The row's expanded features into s->x, as ml_reader_encode does. */
static int
encode_row(pgml_scorer *s, const pgml_value *row)
{
	const mlc_model *m = &s->model;
	int			trees = mlc_algorithm_is_tree(m->algorithm);
	int			i,
				off = 0;

	if (s->x == NULL)
		return fail(s, "scorer is not open");
	if (row == NULL && m->n_inputs > 0)
		return fail(s, "no row");
	for (i = 0; i < m->n_inputs; i++)
	{
		const mlc_encoder *e = &m->inputs[i];
		const pgml_value *v = &row[i];
		double	   *out = s->x + off;

		off += e->width;
		if (e->kind == MLC_ENC_CATEGORY)
		{
			const char *t = v->isnull ? NULL : (v->text != NULL ? v->text : "");

			mlc_encode_category(e, t, t != NULL ? strlen(t) : 0, out);
			continue;
		}
		/* trees send missing values their default way when they learned one */
		if (trees && isnan(e->impute) && (v->isnull || !isfinite(v->number)))
		{
			*out = NAN;
			continue;
		}
		if (!v->isnull && !isfinite(v->number))
			return PGML_NULL;
		if (v->isnull && isnan(e->impute))
		{
			mlc_fail(&s->err, MLC_EINVAL, "The model was trained with \"impute\": \"error\".",
					 "column \"%s\" is NULL and the model imputes no value for it", e->column);
			return PGML_ERROR;
		}
		if (mlc_encode_number(e, v->number, v->isnull, out, &s->err) != MLC_OK)
			return PGML_ERROR;
	}
	return PGML_OK;
}

static int
task_error(pgml_scorer *s, const char *what)
{
	mlc_fail(&s->err, MLC_EINVAL, NULL, "a %s model %s", mlc_algorithm_name(s->model.algorithm), what);
	return PGML_ERROR;
}

int
pgml_predict(pgml_scorer *s, const pgml_value *row, double *value)
{
	const mlc_model *m;
	int			rc;
	double		v;

	if (s == NULL || value == NULL)
		return PGML_ERROR;
	m = &s->model;
	if (m->task == MLC_TASK_DECOMPOSITION)
		return task_error(s, "predicts nothing (use pgml_transform)");
	if (m->task == MLC_TASK_CLASSIFICATION && !m->labels_numeric)
		return task_error(s, "has text labels (use pgml_predict_class)");
	if ((rc = encode_row(s, row)) != PGML_OK)
		return rc;
	v = mlc_model_predict(m, s->x);
	if (m->task == MLC_TASK_CLASSIFICATION)
	{
		if (isnan(v))
			return task_error(s, "has class scores that overflow for this row");
		v = m->class_values[(int) v];
	}
	*value = v;
	return PGML_OK;
}

int
pgml_predict_class(pgml_scorer *s, const pgml_value *row, int *class_id)
{
	int			rc;
	double		v;

	if (s == NULL || class_id == NULL)
		return PGML_ERROR;
	if (s->model.task != MLC_TASK_CLASSIFICATION)
		return task_error(s, "is not a classifier");
	if ((rc = encode_row(s, row)) != PGML_OK)
		return rc;
	v = mlc_model_predict(&s->model, s->x);
	if (isnan(v))
		return task_error(s, "has class scores that overflow for this row");
	*class_id = (int) v;
	return PGML_OK;
}

int
pgml_predict_proba(pgml_scorer *s, const pgml_value *row, double *proba)
{
	int			rc;

	if (s == NULL || proba == NULL)
		return PGML_ERROR;
	if (s->model.task != MLC_TASK_CLASSIFICATION)
		return task_error(s, "is not a classifier and has no class probabilities");
	if ((rc = encode_row(s, row)) != PGML_OK)
		return rc;
	if (mlc_model_predict_proba(&s->model, s->x, proba) != 0)
		return task_error(s, "has class scores that overflow for this row");
	return PGML_OK;
}

int
pgml_output_width(const pgml_scorer *s)
{
	return s != NULL ? mlc_model_output_width(&s->model) : 0;
}

int
pgml_transform(pgml_scorer *s, const pgml_value *row, double *out)
{
	int			rc;

	if (s == NULL || out == NULL)
		return PGML_ERROR;
	if (s->model.task != MLC_TASK_DECOMPOSITION && s->model.task != MLC_TASK_CLUSTERING)
		return task_error(s, "has no transform");
	if ((rc = encode_row(s, row)) != PGML_OK)
		return rc;
	if (mlc_model_transform(&s->model, s->x, out) < 0)
		return task_error(s, "cannot transform this row");
	return PGML_OK;
}
