/*
 * score.c: scoring one expanded feature vector with any model (mlcore.h):
 * the per-algorithm dispatch of mlc_model_predict, _predict_proba and
 * _transform; trees go to forest.c.
 *
 * Scoring assumes a model that passed mlc_model_validate (every decoded
 * model has), but still looks its arrays up by name and shape, so an
 * incomplete hand-built model scores as NAN instead of crashing.  Sums over
 * features run in index order and nothing allocates.
 */
#include <math.h>
#include <string.h>

#include "mlcore.h"

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
		return -1;				/* trees are scored by forest.c */
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
		double		y;

		if (m->forest != NULL)
			return mlc_trees_predict(m->forest, x, NULL);
		if (mlc_forest_view(m, &f, NULL) != MLC_OK || mlc_forest_compile(&f, NULL) != MLC_OK)
			return NAN;
		y = mlc_trees_predict(&f, x, NULL);
		mlc_forest_free_nodes(&f);
		return y;
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

				a = mlc_model_find_array(m, "centroids");
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
			return NAN;			/* pca, trees (forest.c), unknown */
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
		{
			mlc_trees_predict(m->forest, x, proba);
			return 0;
		}
		if (mlc_forest_view(m, &f, NULL) != MLC_OK || mlc_forest_compile(&f, NULL) != MLC_OK)
			return -1;
		mlc_trees_predict(&f, x, proba);
		mlc_forest_free_nodes(&f);
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
		a = mlc_model_find_array(m, "centroids");
	else if (m->algorithm == MLC_ALG_PCA)
		a = mlc_model_find_array(m, "components");
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
		a = mlc_model_find_array(m, "centroids");
		for (k = 0; k < n; k++)
			out[k] = sqrt(sqdist(a->data + (size_t) k * (size_t) d, d, x));
		return n;
	}
	a = mlc_model_find_array(m, "components");
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
