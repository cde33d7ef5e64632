/*
 * validate.c: mlc_model_validate, the check every encoded or decoded model
 * passes: encoders, feature names, classes, arrays and, per algorithm, the
 * parameters it needs (tree arrays through forest.c).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mlcore.h"

/* MLC_EINVAL with "invalid model: " and the formatted reason. */
static mlc_status invalid(mlc_error *err, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

static mlc_status
invalid(mlc_error *err, const char *fmt,...)
{
	char		msg[200];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return mlc_fail(err, MLC_EINVAL, NULL, "invalid model: %s", msg);
}

static mlc_status
validate_encoder(const mlc_encoder *e, int i, mlc_error *err)
{
	int			j;

	if (e->column == NULL || e->column[0] == '\0')
		return invalid(err, "input %d has no column name", i);
	if (!isnan(e->impute) && !isfinite(e->impute))
		return invalid(err, "input \"%s\" has an infinite impute value", e->column);
	switch (e->kind)
	{
		case MLC_ENC_NUMBER:
		case MLC_ENC_BOOL:
		case MLC_ENC_TIME:
			if (e->width != 1 || e->n_categories != 0 || e->has_other != 0 ||
				e->drop_first != 0)
				return invalid(err, "numeric input \"%s\" has width %d, %d categories, has_other %d, drop_first %d (expected 1, 0, 0, 0)",
							   e->column, e->width, e->n_categories,
							   e->has_other, e->drop_first);
			return MLC_OK;
		case MLC_ENC_CATEGORY:
			break;
		default:
			return invalid(err, "input \"%s\" has unknown encoder kind %d",
						   e->column, (int) e->kind);
	}
	if ((e->has_other != 0 && e->has_other != 1) ||
		(e->drop_first != 0 && e->drop_first != 1))
		return invalid(err, "input \"%s\" has has_other %d or drop_first %d not 0 or 1",
					   e->column, e->has_other, e->drop_first);
	if (e->n_categories < 0 || (e->n_categories > 0 && e->categories == NULL))
		return invalid(err, "input \"%s\" has %d categories", e->column,
					   e->n_categories);
	if (e->drop_first && e->n_categories < 1)
		return invalid(err, "input \"%s\" drops the first of %d categories",
					   e->column, e->n_categories);
	if ((long) e->width != (long) e->n_categories - e->drop_first + e->has_other)
		return invalid(err, "input \"%s\" has width %d, its categories give %ld",
					   e->column, e->width,
					   (long) e->n_categories - e->drop_first + e->has_other);
	for (j = 0; j < e->n_categories; j++)
	{
		if (e->categories[j] == NULL)
			return invalid(err, "input \"%s\" has a NULL category %d", e->column, j);
		if (j > 0 && strcmp(e->categories[j - 1], e->categories[j]) >= 0)
			return invalid(err, "categories of input \"%s\" are not sorted and distinct at %d",
						   e->column, j);
	}
	return MLC_OK;
}

/* The array must exist with exactly rows x cols. */
static mlc_status
need(const mlc_model *m, const char *name, long rows, long cols,
	 const mlc_array **out, mlc_error *err)
{
	const mlc_array *a = mlc_model_find_array(m, name);

	*out = NULL;
	if (a == NULL)
		return invalid(err, "array \"%s\" is missing (expected %ld x %ld)", name, rows, cols);
	if ((long) a->rows != rows || (long) a->cols != cols)
	{
		char		msg[200];

		snprintf(msg, sizeof(msg), "array \"%s\" is %d x %d, expected %ld x %ld",
				 name, a->rows, a->cols, rows, cols);
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid model: %s", msg);
	}
	*out = a;
	return MLC_OK;
}

static mlc_status
validate_params(const mlc_model *m, mlc_error *err)
{
	const mlc_array *a,
			   *b;
	long		d = m->n_features,
				K = m->n_classes;
	int			i,
				j,
				c;
	mlc_status	st;

	switch (m->algorithm)
	{
		case MLC_ALG_LINEAR:
		case MLC_ALG_RIDGE:
		case MLC_ALG_LASSO:
		case MLC_ALG_ELASTIC_NET:
		case MLC_ALG_LOGISTIC:
			if (m->algorithm == MLC_ALG_LOGISTIC && K != 2)
				return invalid(err, "logistic regression needs 2 classes, not %ld", K);
			return need(m, "coef", 1, d + 1, &a, err);
		case MLC_ALG_SOFTMAX:
			return need(m, "coef", K, d + 1, &a, err);
		case MLC_ALG_KMEANS:
			a = mlc_model_find_array(m, "centroids");
			if (a == NULL || a->rows < 1 || a->cols != d)
				return invalid(err, "kmeans needs an array \"%s\" of k >= 1 rows and %ld columns",
							   "centroids", d);
			return MLC_OK;
		case MLC_ALG_PCA:
			a = mlc_model_find_array(m, "components");
			if (d < 1 || a == NULL || a->rows < 1 || a->cols != d)
				return invalid(err, "pca needs an array \"%s\" of m >= 1 rows and %ld columns",
							   "components", d);
			if ((st = need(m, "mean", 1, d, &b, err)) != MLC_OK ||
				(st = need(m, "explained_variance", 1, a->rows, &b, err)) != MLC_OK)
				return st;
			for (j = 0; j < a->rows; j++)
				if (b->data[j] < 0.0)
					return invalid(err, "explained variance %d is negative", j);
			for (i = 0; i < a->rows; i++)
			{
				double		s = 0.0;

				for (j = 0; j < d; j++)
					s += a->data[(size_t) i * d + j] * a->data[(size_t) i * d + j];
				/* trained components are orthonormal to rounding */
				if (!(fabs(s - 1.0) <= 1e-6))
					return invalid(err, "pca component %d is not of unit length", i);
			}
			return MLC_OK;
		case MLC_ALG_NAIVE_BAYES:
			if ((st = need(m, "class_log_prior", 1, K, &a, err)) != MLC_OK ||
				(st = need(m, "theta", K, d, &a, err)) != MLC_OK ||
				(st = need(m, "feature_log_prob", K, d, &a, err)) != MLC_OK ||
				(st = need(m, "var", K, d, &a, err)) != MLC_OK)
				return st;
			/* Gaussian features need a positive variance */
			j = 0;
			for (i = 0; i < m->n_inputs; i++)
			{
				const mlc_encoder *e = &m->inputs[i];
				int			w;

				for (w = 0; w < e->width; w++, j++)
					if (e->kind != MLC_ENC_CATEGORY)
						for (c = 0; c < K; c++)
							if (!(a->data[(size_t) c * d + j] > 0.0))
								return invalid(err, "naive bayes variance of class %d feature %d is not positive", c, j);
			}
			return MLC_OK;
		default:
			{
				/* trees: tree.h defines and checks their arrays */
				mlc_forest	f;
				mlc_status	st = mlc_forest_from_model(m, &f, err);

				if (st != MLC_OK)
					return invalid(err, "%s", err ? err->msg : "bad tree arrays");
				if ((m->task == MLC_TASK_CLASSIFICATION) != (f.objective == MLC_OBJ_LOGISTIC ||
															  f.objective == MLC_OBJ_SOFTMAX ||
															  (f.objective == MLC_OBJ_AVERAGE && f.n_outputs > 1)))
					return invalid(err, "tree objective %d does not fit the task", f.objective);
				if (m->task == MLC_TASK_CLASSIFICATION &&
					(f.objective == MLC_OBJ_LOGISTIC ? 2 : f.n_outputs) != m->n_classes)
					return invalid(err, "trees give %d outputs for %d classes", f.n_outputs, m->n_classes);
				return MLC_OK;
			}
	}
}

mlc_status
mlc_model_validate(const mlc_model *m, mlc_error *err)
{
	mlc_task	want;
	int64_t		width_sum = 0;
	int			i,
				j;
	mlc_status	st;

	if (m == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid model: NULL");
	if (m->algorithm < MLC_ALG_LINEAR || m->algorithm > MLC_ALG_DECISION_TREE)
		return invalid(err, "unknown algorithm id %d", (int) m->algorithm);
	want = mlc_algorithm_task(m->algorithm);
	if (want != 0 ? m->task != want
		: (m->task != MLC_TASK_REGRESSION && m->task != MLC_TASK_CLASSIFICATION))
		return invalid(err, "task %d does not fit algorithm %s",
					   (int) m->task, mlc_algorithm_name(m->algorithm));

	/* inputs and their widths */
	if (m->n_inputs < 0 || (m->n_inputs > 0 && m->inputs == NULL))
		return invalid(err, "%d inputs", m->n_inputs);
	for (i = 0; i < m->n_inputs; i++)
	{
		if ((st = validate_encoder(&m->inputs[i], i, err)) != MLC_OK)
			return st;
		width_sum += m->inputs[i].width;
	}
	if (m->n_features < 0 || width_sum != m->n_features)
		return invalid(err, "the inputs' widths sum to %ld, not n_features %d", (long) width_sum, m->n_features);
	if (m->n_features > 0 && m->feature_names == NULL)
		return invalid(err, "%d features without names", m->n_features);
	for (j = 0; j < m->n_features; j++)
		if (m->feature_names[j] == NULL || m->feature_names[j][0] == '\0')
			return invalid(err, "feature %d has no name", j);

	/* classes exactly for classification */
	if (m->task == MLC_TASK_CLASSIFICATION)
	{
		if (m->n_classes < 2 || m->classes == NULL)
			return invalid(err, "classification needs at least 2 classes, has %d", m->n_classes);
		for (j = 0; j < m->n_classes; j++)
			if (m->classes[j] == NULL)
				return invalid(err, "class label %d is NULL", j);
		if (m->labels_numeric != 0 && m->labels_numeric != 1)
			return invalid(err, "labels_numeric is %d", m->labels_numeric);
		if (m->labels_numeric)
		{
			if (m->class_values == NULL)
				return invalid(err, "numeric labels without values");
			for (j = 0; j < m->n_classes; j++)
				if (!isfinite(m->class_values[j]))
					return invalid(err, "class value %d is not finite", j);
		}
	}
	else if (m->n_classes != 0 || m->labels_numeric != 0)
		return invalid(err, "%d classes in a model that does not classify", m->n_classes);

	/* arrays: well-formed, unique names, finite data */
	if (m->n_arrays < 0 || (m->n_arrays > 0 && m->arrays == NULL))
		return invalid(err, "%d arrays", m->n_arrays);
	for (i = 0; i < m->n_arrays; i++)
	{
		const mlc_array *a = &m->arrays[i];
		size_t		n,
					k;

		if (memchr(a->name, '\0', sizeof(a->name)) == NULL || a->name[0] == '\0')
			return invalid(err, "array %d has no valid name", i);
		for (j = 0; j < i; j++)
			if (strcmp(m->arrays[j].name, a->name) == 0)
				return invalid(err, "array \"%s\" appears twice", a->name);
		if (a->rows < 0 || a->cols < 0)
			return invalid(err, "array \"%s\" has shape %d x %d", a->name, a->rows, a->cols);
		n = (size_t) a->rows * (size_t) a->cols;
		if (n > 0 && a->data == NULL)
			return invalid(err, "array \"%s\" has no data", a->name);
		for (k = 0; k < n; k++)
			if (!isfinite(a->data[k]))
				return invalid(err, "array \"%s\" has a non-finite value at %ld",
							   a->name, (long) k);
	}
	return validate_params(m, err);
}
