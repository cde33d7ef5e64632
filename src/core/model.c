/*
 * model.c: the algorithm-independent model representation of mlcore.h:
 * input encoders, named parameter arrays and freeing.  Validation
 * (validate.c) and scoring (score.c) sit above it and above the tree
 * scoring of forest.c, which reads the arrays kept here.
 */
#include <math.h>
#include <string.h>

#include "mlcore.h"
#include "tree.h"

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

const mlc_array *
mlc_model_find_array(const mlc_model *m, const char *name)
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
	const mlc_array *a = mlc_model_find_array(m, name);

	if (a == NULL || a->rows != rows || a->cols != cols)
		return NULL;
	if ((size_t) rows * (size_t) cols > 0 && a->data == NULL)
		return NULL;
	return a;
}

/* ---------- algorithms ---------- */

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
/* Here, with the rest of the freeing, so that model.c needs nothing of forest.c. */
void
mlc_forest_free_nodes(mlc_forest *f)
{
	mlc_free(f->nodes);
	f->nodes = NULL;
}

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
	if (m->forest != NULL)
		mlc_forest_free_nodes(m->forest);
	mlc_free(m->forest);
	if (m->arrays != NULL)
	{
		for (i = 0; i < m->n_arrays; i++)
			mlc_free(m->arrays[i].data);
		mlc_free(m->arrays);
	}
	memset(m, 0, sizeof(*m));
}
