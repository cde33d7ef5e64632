/*
 * model.c: the algorithm-independent model representation of mlcore.h:
 * input encoders, named parameter arrays, validation and scoring.
 *
 * Scoring assumes a model that passed mlc_model_validate (every decoded
 * model has), but still looks its arrays up by name and shape, so an
 * incomplete hand-built model scores as NAN instead of crashing.  Sums over
 * features run in index order and nothing allocates.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mlcore.h"

/* ---------- encoders ---------- */

/* strcmp order of the C string a and the len bytes of b (any bytes). */
static int
cmp_text(const char *a, const char *b, size_t len)
{
	size_t		la = strlen(a);
	int			c = memcmp(a, b, la < len ? la : len);

	if (c != 0)
		return c;
	/* memcmp compares as unsigned char, like strcmp; a prefix sorts first */
	return la < len ? -1 : (la > len ? 1 : 0);
}

int
mlc_category_index(const mlc_encoder *enc, const char *text, size_t len)
{
	int			lo = 0,
				hi;

	if (enc == NULL || enc->categories == NULL || (text == NULL && len > 0))
		return -1;
	if (text == NULL)
		text = "";
	hi = enc->n_categories - 1;
	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			c;

		if (enc->categories[mid] == NULL)
			return -1;
		c = cmp_text(enc->categories[mid], text, len);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

mlc_status
mlc_encode_number(const mlc_encoder *enc, double value, int isnull,
				  double *out, mlc_error *err)
{
	const char *col;

	if (enc == NULL || out == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "encode called with a NULL argument");
	col = enc->column != NULL ? enc->column : "?";
	if (enc->kind == MLC_ENC_CATEGORY || enc->width != 1)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"column \"%s\" is not encoded as a single number", col);
	if (isnull)
	{
		if (isnan(enc->impute))
			return mlc_fail(err, MLC_EINVAL,
							"The model was trained without NULLs in this column, so it has no value to impute.",
							"null value in column \"%s\"", col);
		out[0] = enc->impute;
		return MLC_OK;
	}
	if (!isfinite(value))
		return mlc_fail(err, MLC_EINVAL, NULL,
						"non-finite value in column \"%s\"", col);
	if (enc->kind == MLC_ENC_BOOL && value != 0.0 && value != 1.0)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"boolean column \"%s\" got %g instead of 0 or 1", col, value);
	out[0] = value;
	return MLC_OK;
}

/*
 * NULL and unknown values (without has_other) are all zeros, as is the
 * dropped reference category.  NULL text is a NULL value even when
 * has_other: "(other)" stands for values that were capped, not for NULL.
 */
void
mlc_encode_category(const mlc_encoder *enc, const char *text, size_t len,
					double *out)
{
	int			j,
				idx;

	if (enc == NULL || out == NULL || enc->width <= 0)
		return;
	for (j = 0; j < enc->width; j++)
		out[j] = 0.0;
	if (text == NULL)
		return;
	idx = mlc_category_index(enc, text, len);
	if (idx >= 0)
		j = idx - (enc->drop_first ? 1 : 0);
	else
		j = enc->has_other ? enc->width - 1 : -1;
	if (j >= 0 && j < enc->width)
		out[j] = 1.0;
}

/* ---------- arrays ---------- */

/* The array called name whatever its shape, or NULL. */
static const mlc_array *
find_array(const mlc_model *m, const char *name)
{
	int			i;

	if (m == NULL || name == NULL || m->arrays == NULL)
		return NULL;
	for (i = 0; i < m->n_arrays; i++)
		if (strncmp(m->arrays[i].name, name, sizeof(m->arrays[i].name)) == 0)
			return &m->arrays[i];
	return NULL;
}

const mlc_array *
mlc_model_array(const mlc_model *m, const char *name, int rows, int cols)
{
	const mlc_array *a = find_array(m, name);

	if (a == NULL || a->rows != rows || a->cols != cols)
		return NULL;
	if ((size_t) rows * (size_t) cols > 0 && a->data == NULL)
		return NULL;
	return a;
}

/* ---------- validation ---------- */

mlc_task
mlc_algorithm_task(mlc_algorithm alg)
{
	switch (alg)
	{
		case MLC_ALG_LINEAR:
		case MLC_ALG_RIDGE:
		case MLC_ALG_LASSO:
		case MLC_ALG_ELASTIC_NET:
			return MLC_TASK_REGRESSION;
		case MLC_ALG_LOGISTIC:
		case MLC_ALG_SOFTMAX:
		case MLC_ALG_NAIVE_BAYES:
			return MLC_TASK_CLASSIFICATION;
		case MLC_ALG_KMEANS:
			return MLC_TASK_CLUSTERING;
		case MLC_ALG_PCA:
			return MLC_TASK_DECOMPOSITION;
		default:
			return (mlc_task) 0;	/* trees: regression or classification */
	}
}

int
mlc_algorithm_is_tree(mlc_algorithm alg)
{
	return alg == MLC_ALG_GRADIENT_BOOSTING || alg == MLC_ALG_RANDOM_FOREST ||
		alg == MLC_ALG_DECISION_TREE;
}

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
	const mlc_array *a = find_array(m, name);

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
			a = find_array(m, "centroids");
			if (a == NULL || a->rows < 1 || a->cols != d)
				return invalid(err, "kmeans needs an array \"%s\" of k >= 1 rows and %ld columns",
							   "centroids", d);
			return MLC_OK;
		case MLC_ALG_PCA:
			a = find_array(m, "components");
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

/* ---------- scoring ---------- */

/* row[0] + sum_j row[1 + j] x[j], in index order (mlc_linear_predict's order) */
static double
affine(const double *row, int d, const double *x)
{
	double		acc = row[0];
	int			j;

	for (j = 0; j < d; j++)
		acc += row[1 + j] * x[j];
	return acc;
}

/* Naive Bayes joint log likelihood of class c (see mlcore.h). */
static double
nb_jll(const mlc_model *m, const double *prior, const double *theta,
	   const double *var, const double *flp, int c, const double *x)
{
	size_t		off = (size_t) c * (size_t) m->n_features;
	double		acc = prior[c];
	int			i,
				w,
				j = 0;

	for (i = 0; i < m->n_inputs; i++)
	{
		const mlc_encoder *e = &m->inputs[i];

		if (e->width < 0 || e->width > m->n_features - j)
			return NAN;
		for (w = 0; w < e->width; w++, j++)
		{
			if (e->kind == MLC_ENC_CATEGORY)
				acc += x[j] * flp[off + j];
			else
			{
				double		v = var[off + j];
				double		r = x[j] - theta[off + j];

				acc += -0.5 * log(2.0 * M_PI * v) - 0.5 * (r * r) / v;
			}
		}
	}
	return j == m->n_features ? acc : NAN;
}

/*
 * Per-class scores whose softmax gives the probabilities (logistic: 0 and
 * eta).  Writes K scores to s when s is not NULL; returns the argmax (lowest
 * id on ties) or -1 when the model cannot be scored or the scores overflow
 * (a NaN, or an infinite maximum, which finite parameters can still give
 * for extreme inputs); logistic regression takes an infinite eta.
 */
static int
class_scores(const mlc_model *m, const double *x, double *s)
{
	int			d = m->n_features,
				K = m->n_classes,
				c,
				best = -1;
	double		bestv = 0.0;
	const mlc_array *a = NULL,
			   *prior = NULL,
			   *theta = NULL,
			   *var = NULL,
			   *flp = NULL;

	if (m->task != MLC_TASK_CLASSIFICATION || K < 2)
		return -1;
	if (m->algorithm == MLC_ALG_LOGISTIC)
	{
		double		eta;

		if (K != 2 || (a = mlc_model_array(m, "coef", 1, d + 1)) == NULL)
			return -1;
		eta = affine(a->data, d, x);
		if (isnan(eta))
			return -1;
		if (s != NULL)
		{
			s[0] = 0.0;
			s[1] = eta;
		}
		return eta > 0.0 ? 1 : 0;
	}
	/* softmax and naive Bayes: one score per class */
	if (m->algorithm == MLC_ALG_SOFTMAX)
	{
		if ((a = mlc_model_array(m, "coef", K, d + 1)) == NULL)
			return -1;
	}
	else if (m->algorithm == MLC_ALG_NAIVE_BAYES)
	{
		prior = mlc_model_array(m, "class_log_prior", 1, K);
		theta = mlc_model_array(m, "theta", K, d);
		var = mlc_model_array(m, "var", K, d);
		flp = mlc_model_array(m, "feature_log_prob", K, d);
		if (prior == NULL || theta == NULL || var == NULL || flp == NULL ||
			(m->n_inputs > 0 && m->inputs == NULL))
			return -1;
	}
	else
		return -1;				/* trees are scored by tree.c */
	for (c = 0; c < K; c++)
	{
		double		v = a != NULL ? affine(a->data + (size_t) c * (size_t) (d + 1), d, x)
			: nb_jll(m, prior->data, theta->data, var->data, flp->data, c, x);

		if (isnan(v))
			return -1;
		if (s != NULL)
			s[c] = v;
		if (best < 0 || v > bestv)
		{
			best = c;
			bestv = v;
		}
	}
	/* overflowed scores (extreme x or parameters): no probabilities */
	return isfinite(bestv) ? best : -1;
}

/* Squared distance of x to centroid row r (sum in index order). */
static double
sqdist(const double *row, int d, const double *x)
{
	double		acc = 0.0;
	int			j;

	for (j = 0; j < d; j++)
	{
		double		t = x[j] - row[j];

		acc += t * t;
	}
	return acc;
}

double
mlc_model_predict(const mlc_model *m, const double *x)
{
	const mlc_array *a;
	int			d,
				c;

	if (m == NULL || x == NULL)
		return NAN;
	d = m->n_features;
	if (mlc_algorithm_is_tree(m->algorithm))
	{
		mlc_forest	f;

		if (m->forest != NULL)
			return mlc_trees_predict(m->forest, x, NULL);
		if (mlc_forest_view(m, &f, NULL) != MLC_OK)
			return NAN;
		return mlc_trees_predict(&f, x, NULL);
	}
	switch (m->algorithm)
	{
		case MLC_ALG_LINEAR:
		case MLC_ALG_RIDGE:
		case MLC_ALG_LASSO:
		case MLC_ALG_ELASTIC_NET:
			if ((a = mlc_model_array(m, "coef", 1, d + 1)) == NULL)
				return NAN;
			return affine(a->data, d, x);
		case MLC_ALG_LOGISTIC:
		case MLC_ALG_SOFTMAX:
		case MLC_ALG_NAIVE_BAYES:
			/* the argmax of the scores: rounding cannot make classes tie */
			c = class_scores(m, x, NULL);
			return c < 0 ? NAN : (double) c;
		case MLC_ALG_KMEANS:
			{
				double		best = 0.0;
				int			k,
							bi = -1;

				a = find_array(m, "centroids");
				if (a == NULL || a->cols != d || a->rows < 1 || a->data == NULL)
					return NAN;
				for (k = 0; k < a->rows; k++)
				{
					double		v = sqdist(a->data + (size_t) k * (size_t) d, d, x);

					if (isnan(v))
						return NAN;
					if (bi < 0 || v < best)
					{
						bi = k;
						best = v;
					}
				}
				return (double) bi;
			}
		default:
			return NAN;			/* pca, trees (tree.c), unknown */
	}
}

/*
 * Softmax of the class scores with the max subtracted first (the logistic
 * case is the stable sigmoid: one exp of -|eta|, never overflowing).
 */
int
mlc_model_predict_proba(const mlc_model *m, const double *x, double *proba)
{
	int			K,
				c,
				best;
	double		sum = 0.0,
				mx;

	if (m == NULL || x == NULL || proba == NULL)
		return -1;
	if (mlc_algorithm_is_tree(m->algorithm))
	{
		mlc_forest	f;

		if (m->task != MLC_TASK_CLASSIFICATION)
			return -1;
		if (m->forest != NULL)
			f = *m->forest;
		else if (mlc_forest_view(m, &f, NULL) != MLC_OK)
			return -1;
		mlc_trees_predict(&f, x, proba);
		return 0;
	}
	best = class_scores(m, x, proba);
	if (best < 0)
		return -1;
	K = m->n_classes;
	if (m->algorithm == MLC_ALG_LOGISTIC)
	{
		double		eta = proba[1],
					e = exp(-fabs(eta)),
					big = 1.0 / (1.0 + e),
					small = e / (1.0 + e);

		proba[1] = eta >= 0.0 ? big : small;
		proba[0] = eta >= 0.0 ? small : big;
		return 0;
	}
	mx = proba[best];
	for (c = 0; c < K; c++)
	{
		proba[c] = exp(proba[c] - mx);
		sum += proba[c];
	}
	for (c = 0; c < K; c++)
		proba[c] /= sum;
	return 0;
}

int
mlc_model_output_width(const mlc_model *m)
{
	const mlc_array *a;

	if (m == NULL)
		return 0;
	if (m->algorithm == MLC_ALG_KMEANS)
		a = find_array(m, "centroids");
	else if (m->algorithm == MLC_ALG_PCA)
		a = find_array(m, "components");
	else
		return 0;
	if (a == NULL || a->cols != m->n_features || a->rows < 0 || a->data == NULL)
		return 0;
	return a->rows;
}

int
mlc_model_transform(const mlc_model *m, const double *x, double *out)
{
	const mlc_array *a,
			   *mean;
	int			d,
				k,
				j,
				n = mlc_model_output_width(m);

	if (m == NULL || x == NULL || out == NULL)
		return -1;
	if (m->algorithm != MLC_ALG_KMEANS && m->algorithm != MLC_ALG_PCA)
		return -1;
	if (n < 1)
		return -1;
	d = m->n_features;
	if (m->algorithm == MLC_ALG_KMEANS)
	{
		a = find_array(m, "centroids");
		for (k = 0; k < n; k++)
			out[k] = sqrt(sqdist(a->data + (size_t) k * (size_t) d, d, x));
		return n;
	}
	a = find_array(m, "components");
	if ((mean = mlc_model_array(m, "mean", 1, d)) == NULL)
		return -1;
	for (k = 0; k < n; k++)
	{
		const double *row = a->data + (size_t) k * (size_t) d;
		double		acc = 0.0;

		for (j = 0; j < d; j++)
			acc += row[j] * (x[j] - mean->data[j]);
		out[k] = acc;
	}
	return n;
}

int
mlc_model_linear_view(const mlc_model *m, mlc_linear_model *view)
{
	const mlc_array *a;

	if (m == NULL || view == NULL)
		return -1;
	switch (m->algorithm)
	{
		case MLC_ALG_LINEAR:
		case MLC_ALG_RIDGE:
		case MLC_ALG_LASSO:
		case MLC_ALG_ELASTIC_NET:
		case MLC_ALG_LOGISTIC:
			break;
		default:
			return -1;
	}
	if ((a = mlc_model_array(m, "coef", 1, m->n_features + 1)) == NULL)
		return -1;
	view->p = m->n_features;
	view->intercept = a->data[0];
	view->coef = a->data + 1;
	return 0;
}

/* ---------- freeing ---------- */

static void
free_strings(char **s, int n)
{
	int			i;

	if (s == NULL)
		return;
	for (i = 0; i < n; i++)
		mlc_free(s[i]);
	mlc_free(s);
}

/*
 * Frees a model whose every pointer came from mlc_alloc (as decoded);
 * pointers may be NULL (a partly built model); counts bound the loops.
 * Leaves the model cleared (zeros, NULLs); safe to call twice.
 */
void
mlc_model_free(mlc_model *m)
{
	int			i;

	if (m == NULL)
		return;
	if (m->inputs != NULL)
	{
		for (i = 0; i < m->n_inputs; i++)
		{
			mlc_free(m->inputs[i].column);
			free_strings(m->inputs[i].categories, m->inputs[i].n_categories);
		}
		mlc_free(m->inputs);
	}
	free_strings(m->feature_names, m->n_features);
	free_strings(m->classes, m->n_classes);
	mlc_free(m->class_values);
	mlc_free(m->forest);
	if (m->arrays != NULL)
	{
		for (i = 0; i < m->n_arrays; i++)
			mlc_free(m->arrays[i].data);
		mlc_free(m->arrays);
	}
	memset(m, 0, sizeof(*m));
}
