/*
 * test_model.c: the model representation (model.c, validate.c, score.c):
 * encoders, validation, scoring formulas against naive long-double
 * computations written here.
 *
 * test_model_build (also used by test_codec.c) builds a small model of any
 * algorithm by hand, every part from mlc_alloc, so mlc_model_free releases
 * it like a decoded one.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

void		test_model_build(mlc_algorithm alg, mlc_model *m);

static char *
dup(const char *s)
{
	size_t		l = strlen(s);
	char	   *r = mlc_alloc(l + 1);

	assert_non_null(r);
	memcpy(r, s, l + 1);
	return r;
}

static char **
dup_list(int n, const char *const *s)
{
	char	  **r = mlc_alloc0(sizeof(char *) * (size_t) (n > 0 ? n : 1));
	int			i;

	assert_non_null(r);
	for (i = 0; i < n; i++)
		r[i] = dup(s[i]);
	return r;
}

static void
add_array(mlc_model *m, const char *name, int rows, int cols, const double *data)
{
	mlc_array  *a;
	size_t		n = (size_t) rows * (size_t) cols;

	assert_true(m->n_arrays < 16);	/* test_model_build makes room for 16 */
	a = &m->arrays[m->n_arrays++];
	memset(a, 0, sizeof(*a));
	strcpy(a->name, name);
	a->rows = rows;
	a->cols = cols;
	a->data = mlc_alloc(sizeof(double) * (n > 0 ? n : 1));
	assert_non_null(a->data);
	memcpy(a->data, data, sizeof(double) * n);
}

/*
 * Inputs shared by every model: age (number, impute 40), city (category,
 * Berlin | Paris | Zürich, reference coding with "(other)"), member (bool,
 * no impute).  Features: age, city=Paris, city=Zürich, city=(other), member.
 */
#define D 5
static const char *const cities[] = {"Berlin", "Paris", "Z\xc3\xbcrich"};
static const char *const fnames[D] = {"age", "city=Paris", "city=Z\xc3\xbcrich",
"city=(other)", "member"};

static void
set_classes(mlc_model *m, int K, const char *const *labels, const double *values)
{
	m->n_classes = K;
	m->classes = dup_list(K, labels);
	if (values != NULL)
	{
		m->labels_numeric = 1;
		m->class_values = mlc_alloc(sizeof(double) * (size_t) K);
		memcpy(m->class_values, values, sizeof(double) * (size_t) K);
	}
}

void
test_model_build(mlc_algorithm alg, mlc_model *m)
{
	static const char *const yn[] = {"no", "yes"};
	static const char *const abc[] = {"1", "2", "3"};
	static const double vals[] = {1, 2, 3};
	/* coefficients with -0.0 and a subnormal: bits must survive the codec */
	static const double coef[D + 1] = {-0.1, 1.0 / 3.0, -0.0, 4.9e-324, 2.5, -1.25};
	static const double logit[D + 1] = {-4.0, 0.05, 1.5, -2.0, 0.25, 0.75};
	static const double soft[3 * (D + 1)] = {
		0.5, 0.01, 1.0, -1.0, 0.0, 0.3,
		-0.2, 0.02, -0.5, 2.0, 1.0, -0.3,
		0.0, -0.03, 0.25, 0.5, -1.0, 0.1};
	static const double cent[3 * D] = {
		30, 1, 0, 0, 1,
		50, 0, 1, 0, 0,
		70, 0, 0, 1, 1};
	static const double mean[D] = {45, 0.3, 0.2, 0.1, 0.5};
	static const double comp[2 * D] = {1, 0, 0, 0, 0, 0, 0.6, 0, 0.8, 0};
	static const double ev[2] = {120.5, 0.25};
	static const double prior[2] = {-1.2039728043259361, -0.35667494393873238};	/* log .3, log .7 */
	static const double theta[2 * D] = {35, 0, 0, 0, 0.2, 55, 0, 0, 0, 0.9};
	static const double var[2 * D] = {80, 0, 0, 0, 0.16, 150, 0, 0, 0, 0.09};
	static const double flp[2 * D] = {0, -0.5, -1.5, -3.0, 0, 0, -1.0, -0.7, -2.0, 0};
	mlc_encoder *e;
	int			j;

	memset(m, 0, sizeof(*m));
	m->algorithm = alg;
	m->n_inputs = 3;
	m->inputs = mlc_alloc0(sizeof(mlc_encoder) * 3);
	assert_non_null(m->inputs);
	e = m->inputs;
	e[0].column = dup("age");
	e[0].kind = MLC_ENC_NUMBER;
	e[0].width = 1;
	e[0].impute = 40.0;
	e[1].column = dup("city");
	e[1].kind = MLC_ENC_CATEGORY;
	e[1].impute = NAN;
	e[1].n_categories = 3;
	e[1].categories = dup_list(3, cities);
	e[1].has_other = 1;
	e[1].drop_first = 1;
	e[1].width = 3;
	e[2].column = dup("member");
	e[2].kind = MLC_ENC_BOOL;
	e[2].width = 1;
	e[2].impute = NAN;
	m->n_features = D;
	m->feature_names = dup_list(D, fnames);
	m->arrays = mlc_alloc0(sizeof(mlc_array) * 16);
	assert_non_null(m->arrays);

	switch (alg)
	{
		case MLC_ALG_LINEAR:
		case MLC_ALG_RIDGE:
		case MLC_ALG_LASSO:
		case MLC_ALG_ELASTIC_NET:
			m->task = MLC_TASK_REGRESSION;
			add_array(m, "coef", 1, D + 1, coef);
			break;
		case MLC_ALG_LOGISTIC:
			m->task = MLC_TASK_CLASSIFICATION;
			set_classes(m, 2, yn, NULL);
			add_array(m, "coef", 1, D + 1, logit);
			break;
		case MLC_ALG_SOFTMAX:
			m->task = MLC_TASK_CLASSIFICATION;
			set_classes(m, 3, abc, vals);
			add_array(m, "coef", 3, D + 1, soft);
			break;
		case MLC_ALG_KMEANS:
			m->task = MLC_TASK_CLUSTERING;
			add_array(m, "centroids", 3, D, cent);
			break;
		case MLC_ALG_PCA:
			m->task = MLC_TASK_DECOMPOSITION;
			add_array(m, "mean", 1, D, mean);
			add_array(m, "components", 2, D, comp);
			add_array(m, "explained_variance", 1, 2, ev);
			break;
		case MLC_ALG_NAIVE_BAYES:
			m->task = MLC_TASK_CLASSIFICATION;
			set_classes(m, 2, yn, NULL);
			add_array(m, "class_log_prior", 1, 2, prior);
			add_array(m, "theta", 2, D, theta);
			add_array(m, "var", 2, D, var);
			add_array(m, "feature_log_prob", 2, D, flp);
			break;
		default:
			/*
			 * One stump on feature 0 (x < 0.5 left, missing left): a
			 * regression tree, or for the forest a classifier averaging
			 * class fractions.
			 */
			m->task = alg == MLC_ALG_RANDOM_FOREST ? MLC_TASK_CLASSIFICATION : MLC_TASK_REGRESSION;
			if (m->task == MLC_TASK_CLASSIFICATION)
			{
				static const double info[3] = {4, 2, 2},
							base[2] = {0, 0},
							out[1] = {-1},
							value[6] = {0, 0, 0.8, 0.2, 0.1, 0.9};

				set_classes(m, 2, yn, NULL);
				add_array(m, "tree_info", 1, 3, info);
				add_array(m, "base_score", 1, 2, base);
				add_array(m, "tree_output", 1, 1, out);
				add_array(m, "node_value", 3, 2, value);
			}
			else
			{
				static const double info[3] = {1, 1, 1},
							base[1] = {0.25},
							out[1] = {0},
							value[3] = {0, -1, 1};

				add_array(m, "tree_info", 1, 3, info);
				add_array(m, "base_score", 1, 1, base);
				add_array(m, "tree_output", 1, 1, out);
				add_array(m, "node_value", 3, 1, value);
			}
			{
				static const double nodes[1] = {3},
							scale[1] = {1},
							feature[3] = {0, -1, -1},
							threshold[3] = {0.5, 0, 0},
							left[3] = {1, -1, -1},
							right[3] = {2, -1, -1},
							dleft[3] = {1, 0, 0},
							cover[3] = {10, 4, 6},
							gain[3] = {3, 0, 0};

				add_array(m, "tree_nodes", 1, 1, nodes);
				add_array(m, "tree_scale", 1, 1, scale);
				add_array(m, "node_feature", 3, 1, feature);
				add_array(m, "node_threshold", 3, 1, threshold);
				add_array(m, "node_left", 3, 1, left);
				add_array(m, "node_right", 3, 1, right);
				add_array(m, "node_default_left", 3, 1, dleft);
				add_array(m, "node_cover", 3, 1, cover);
				add_array(m, "node_gain", 3, 1, gain);
			}
			break;
	}
	for (j = 0; j < m->n_arrays; j++)
		assert_true(memchr(m->arrays[j].name, 0, sizeof(m->arrays[j].name)) != NULL);
}

/* ---------- encoders ---------- */

static void
test_encode_number(void **state)
{
	mlc_model	m;
	mlc_error	err;
	double		out[2] = {7, 7};

	test_model_build(MLC_ALG_LINEAR, &m);
	assert_int_equal(mlc_encode_number(&m.inputs[0], 12.5, 0, out, &err), MLC_OK);
	assert_true(out[0] == 12.5);
	assert_int_equal(mlc_encode_number(&m.inputs[0], NAN, 1, out, &err), MLC_OK);
	assert_true(out[0] == 40.0);	/* imputed, value ignored */
	assert_true(out[1] == 7);	/* width 1: nothing else written */
	/* no impute value: NULL is an error naming the column */
	assert_int_equal(mlc_encode_number(&m.inputs[2], 0, 1, out, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "member"));
	assert_int_equal(mlc_encode_number(&m.inputs[0], INFINITY, 0, out, &err), MLC_EINVAL);
	assert_int_equal(mlc_encode_number(&m.inputs[0], NAN, 0, out, &err), MLC_EINVAL);
	assert_int_equal(mlc_encode_number(&m.inputs[2], 1, 0, out, &err), MLC_OK);
	assert_true(out[0] == 1.0);
	assert_int_equal(mlc_encode_number(&m.inputs[2], 0.5, 0, out, &err), MLC_EINVAL);
	/* a category encoder is not a number */
	assert_int_equal(mlc_encode_number(&m.inputs[1], 1, 0, out, &err), MLC_EINVAL);
	assert_int_equal(mlc_encode_number(NULL, 1, 0, out, &err), MLC_EINVAL);
	assert_int_equal(mlc_encode_number(&m.inputs[0], 1, 0, NULL, &err), MLC_EINVAL);
	mlc_model_free(&m);
}

static void
expect_onehot(const mlc_encoder *e, const char *text, size_t len, int hot)
{
	double		out[8];
	int			j;

	for (j = 0; j < 8; j++)
		out[j] = 99;
	mlc_encode_category(e, text, len, out);
	for (j = 0; j < e->width; j++)
		assert_true(out[j] == (j == hot ? 1.0 : 0.0));
	assert_true(out[e->width] == 99);	/* nothing past the width */
}

static void
test_encode_category(void **state)
{
	mlc_model	m;
	mlc_encoder *e;
	const char	buf[] = "ParisXBerlin";

	test_model_build(MLC_ALG_LINEAR, &m);
	e = &m.inputs[1];
	/* drop_first + has_other: Berlin is the reference (zeros) */
	expect_onehot(e, "Berlin", 6, -1);
	expect_onehot(e, "Paris", 5, 0);
	expect_onehot(e, "Z\xc3\xbcrich", 7, 1);
	expect_onehot(e, "Rome", 4, 2);		/* unseen -> (other) */
	expect_onehot(e, "", 0, 2);
	expect_onehot(e, NULL, 0, -1);	/* NULL -> zeros even with (other) */
	/* text not NUL-terminated: only len bytes count */
	expect_onehot(e, buf, 5, 0);
	expect_onehot(e, buf + 6, 6, -1);
	expect_onehot(e, buf, 4, 2);	/* "Pari" */
	expect_onehot(e, buf, 6, 2);	/* "ParisX" */

	/* no (other), no drop: unseen values are all zeros */
	e->has_other = 0;
	e->drop_first = 0;
	e->width = 3;
	expect_onehot(e, "Berlin", 6, 0);
	expect_onehot(e, "Paris", 5, 1);
	expect_onehot(e, "Z\xc3\xbcrich", 7, 2);
	expect_onehot(e, "Rome", 4, -1);
	expect_onehot(e, "Paris\0", 6, -1);	/* embedded NUL is another value */
	expect_onehot(e, NULL, 0, -1);
	/* (other) without drop */
	e->has_other = 1;
	e->width = 4;
	expect_onehot(e, "Berlin", 6, 0);
	expect_onehot(e, "Wien", 4, 3);
	mlc_model_free(&m);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Binary search against a linear scan: every member, prefixes, extensions,
 * bytes >= 0x80, and inputs copied to exact-size buffers so that reading
 * past len trips ASan. */
static void
test_category_index(void **state)
{
	enum
	{
		N = 300
	};
	char	   *cats[N];
	mlc_encoder e;
	uint64_t	rng = 77;
	int			i,
				n = 0,
				t;

	while (n < N)
	{
		char		tmp[8];
		int			l = 1 + (int) (unit_rand_u64(&rng) % 6),
					k,
					dupl = 0;

		for (k = 0; k < l; k++)
		{
			/* small alphabet with high bytes so prefixes and order matter */
			static const char alpha[] = {'a', 'b', 'Z', '\x7f', '\x80', '\xff'};

			tmp[k] = alpha[unit_rand_u64(&rng) % 6];
		}
		tmp[l] = '\0';
		for (k = 0; k < n; k++)
			dupl |= strcmp(cats[k], tmp) == 0;
		if (!dupl)
			cats[n++] = strdup(tmp);
	}
	qsort(cats, N, sizeof(char *), cmp_str);
	memset(&e, 0, sizeof(e));
	e.kind = MLC_ENC_CATEGORY;
	e.n_categories = N;
	e.categories = cats;
	e.width = N;
	for (i = 0; i < N; i++)
	{
		size_t		l = strlen(cats[i]);
		char	   *exact = malloc(l);

		memcpy(exact, cats[i], l);
		assert_int_equal(mlc_category_index(&e, exact, l), i);
		/* every proper prefix is found exactly when it is a member */
		for (t = 0; t < (int) l; t++)
		{
			int			want = -1,
						k;

			for (k = 0; k < N; k++)
				if (strlen(cats[k]) == (size_t) t && memcmp(cats[k], exact, t) == 0)
					want = k;
			assert_int_equal(mlc_category_index(&e, exact, (size_t) t), want);
		}
		free(exact);
	}
	assert_int_equal(mlc_category_index(&e, "q", 1), -1);
	assert_int_equal(mlc_category_index(&e, "a\0", 2), -1);
	assert_int_equal(mlc_category_index(&e, NULL, 0), -1);
	assert_int_equal(mlc_category_index(NULL, "a", 1), -1);
	e.n_categories = 0;
	assert_int_equal(mlc_category_index(&e, cats[0], strlen(cats[0])), -1);
	for (i = 0; i < N; i++)
		free(cats[i]);
}

/* ---------- arrays and validation ---------- */

static void
test_model_array(void **state)
{
	mlc_model	m;

	test_model_build(MLC_ALG_PCA, &m);
	assert_non_null(mlc_model_array(&m, "mean", 1, D));
	assert_ptr_equal(mlc_model_array(&m, "components", 2, D), &m.arrays[1]);
	assert_null(mlc_model_array(&m, "components", D, 2));
	assert_null(mlc_model_array(&m, "coef", 1, D + 1));
	assert_null(mlc_model_array(NULL, "mean", 1, D));
	mlc_model_free(&m);
	assert_null(m.arrays);
	assert_int_equal(m.n_arrays, 0);
	mlc_model_free(&m);			/* idempotent */
}

static void
expect_invalid(mlc_model *m, const char *needle)
{
	mlc_error	err;

	assert_int_equal(mlc_model_validate(m, &err), MLC_EINVAL);
	assert_int_equal(err.code, MLC_EINVAL);
	if (strstr(err.msg, needle) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
}

static void
test_validate(void **state)
{
	mlc_model	m;
	mlc_error	err;
	int			alg;
	char	   *t;

	for (alg = MLC_ALG_LINEAR; alg <= MLC_ALG_DECISION_TREE; alg++)
	{
		test_model_build((mlc_algorithm) alg, &m);
		if (mlc_model_validate(&m, &err) != MLC_OK)
			fail_msg("algorithm %d: %s", alg, err.msg);
		mlc_model_free(&m);
	}
	assert_int_equal(mlc_model_validate(NULL, &err), MLC_EINVAL);

	/* widths not summing to n_features */
	test_model_build(MLC_ALG_LINEAR, &m);
	m.inputs[1].width = 4;
	expect_invalid(&m, "width");
	m.inputs[1].width = 3;
	m.inputs[1].has_other = 0;	/* width no longer n - drop + other */
	expect_invalid(&m, "width");
	m.inputs[1].has_other = 1;
	m.inputs[0].width = 2;		/* numeric of width 2 */
	expect_invalid(&m, "width");
	m.inputs[0].width = 1;
	assert_int_equal(mlc_model_validate(&m, &err), MLC_OK);
	/* unsorted and duplicate categories */
	t = m.inputs[1].categories[0];
	m.inputs[1].categories[0] = m.inputs[1].categories[1];
	m.inputs[1].categories[1] = t;
	expect_invalid(&m, "sorted");
	m.inputs[1].categories[1] = m.inputs[1].categories[0];	/* Paris, Paris */
	expect_invalid(&m, "distinct");
	m.inputs[1].categories[0] = t;
	assert_int_equal(mlc_model_validate(&m, &err), MLC_OK);
	/* NaN and infinite parameters */
	m.arrays[0].data[3] = NAN;
	expect_invalid(&m, "non-finite");
	m.arrays[0].data[3] = -INFINITY;
	expect_invalid(&m, "non-finite");
	m.arrays[0].data[3] = 0;
	/* wrong shape, missing array, wrong name */
	m.arrays[0].cols = D;
	expect_invalid(&m, "coef");
	m.arrays[0].cols = D + 1;
	strcpy(m.arrays[0].name, "coefs");
	expect_invalid(&m, "missing");
	strcpy(m.arrays[0].name, "coef");
	/* wrong task, classes in a regression */
	m.task = MLC_TASK_CLASSIFICATION;
	expect_invalid(&m, "task");
	m.task = MLC_TASK_REGRESSION;
	m.n_classes = 2;
	expect_invalid(&m, "classes");
	m.n_classes = 0;
	m.algorithm = (mlc_algorithm) 13;
	expect_invalid(&m, "algorithm");
	m.algorithm = MLC_ALG_LINEAR;
	m.inputs[0].impute = INFINITY;
	expect_invalid(&m, "impute");
	m.inputs[0].impute = 40;
	m.inputs[2].kind = (mlc_encoder_kind) 9;
	expect_invalid(&m, "kind");
	m.inputs[2].kind = MLC_ENC_BOOL;
	assert_int_equal(mlc_model_validate(&m, &err), MLC_OK);
	mlc_model_free(&m);

	/* logistic needs exactly 2 classes; softmax K rows */
	test_model_build(MLC_ALG_SOFTMAX, &m);
	m.arrays[0].rows = 2;
	expect_invalid(&m, "coef");
	m.arrays[0].rows = 3;
	m.n_classes = 1;
	expect_invalid(&m, "classes");
	m.n_classes = 3;
	m.class_values[1] = NAN;
	expect_invalid(&m, "class value");
	m.class_values[1] = 2;
	m.algorithm = MLC_ALG_LOGISTIC;
	expect_invalid(&m, "2 classes");
	mlc_model_free(&m);

	/* pca: unit rows, explained variance shape */
	test_model_build(MLC_ALG_PCA, &m);
	m.arrays[1].data[0] = 0.9;
	expect_invalid(&m, "unit length");
	m.arrays[1].data[0] = 1;
	m.arrays[2].cols = 1;
	expect_invalid(&m, "explained_variance");
	m.arrays[2].cols = 2;
	/* duplicate array names */
	strcpy(m.arrays[2].name, "mean");
	expect_invalid(&m, "twice");
	mlc_model_free(&m);

	/* naive bayes: Gaussian variance must be positive, categorical's need not */
	test_model_build(MLC_ALG_NAIVE_BAYES, &m);
	m.arrays[2].data[D + 4] = 0;	/* var, class 1, member */
	expect_invalid(&m, "variance");
	m.arrays[2].data[D + 4] = 0.09;
	m.arrays[3].cols = D - 1;
	expect_invalid(&m, "feature_log_prob");
	mlc_model_free(&m);

	/* kmeans: centroids with the feature count as columns */
	test_model_build(MLC_ALG_KMEANS, &m);
	m.arrays[0].cols = D - 1;
	expect_invalid(&m, "centroids");
	m.arrays[0].cols = D;
	m.feature_names[2][0] = '\0';
	expect_invalid(&m, "name");
	mlc_model_free(&m);

	/* trees: tree.h's arrays, checked by it */
	test_model_build(MLC_ALG_DECISION_TREE, &m);
	m.arrays[3].data[1] = NAN;
	expect_invalid(&m, "non-finite");
	m.arrays[3].data[1] = -1;
	m.task = MLC_TASK_CLUSTERING;
	expect_invalid(&m, "task");
	mlc_model_free(&m);
}

/* ---------- scoring ---------- */

static const double xs[4][D] = {
	{30, 1, 0, 0, 1},
	{52.5, 0, 0, 1, 0},
	{45, 0, 1, 0, 0},
	{-1000, 0, 0, 0, 1},
};

static long double
affine_l(const double *row, const double *x)
{
	long double s = row[0];
	int			j;

	for (j = 0; j < D; j++)
		s += (long double) row[1 + j] * x[j];
	return s;
}

static void
test_predict_linear(void **state)
{
	mlc_model	m;
	mlc_linear_model v;
	double		out[4];
	int			i,
				alg;

	for (alg = MLC_ALG_LINEAR; alg <= MLC_ALG_ELASTIC_NET; alg++)
	{
		test_model_build((mlc_algorithm) alg, &m);
		assert_int_equal(mlc_model_linear_view(&m, &v), 0);
		assert_int_equal(v.p, D);
		assert_ptr_equal(v.coef, m.arrays[0].data + 1);
		for (i = 0; i < 4; i++)
		{
			double		y = mlc_model_predict(&m, xs[i]);

			/* same bits as the linear core's prediction, close to exact */
			assert_true(y == mlc_linear_predict(&v, xs[i]));
			assert_true(fabsl(y - affine_l(m.arrays[0].data, xs[i])) <= 1e-12 * (1 + fabs(y)));
		}
		assert_int_equal(mlc_model_predict_proba(&m, xs[0], out), -1);
		assert_int_equal(mlc_model_transform(&m, xs[0], out), -1);
		assert_int_equal(mlc_model_output_width(&m), 0);
		mlc_model_free(&m);
	}
	assert_true(isnan(mlc_model_predict(NULL, xs[0])));
	/* an incomplete model scores as NaN, no crash */
	memset(&m, 0, sizeof(m));
	m.algorithm = MLC_ALG_RIDGE;
	m.n_features = 3;
	assert_true(isnan(mlc_model_predict(&m, xs[0])));
	m.algorithm = (mlc_algorithm) 0;
	assert_true(isnan(mlc_model_predict(&m, xs[0])));
}

static void
test_predict_logistic(void **state)
{
	mlc_model	m;
	mlc_linear_model v;
	double		p[2];
	int			i;
	double		x[D];

	test_model_build(MLC_ALG_LOGISTIC, &m);
	assert_int_equal(mlc_model_linear_view(&m, &v), 0);
	for (i = 0; i < 60; i++)
	{
		long double eta,
					p1;

		memcpy(x, xs[i % 4], sizeof(x));
		x[0] = -900.37 + 30.0 * i;		/* eta from about -50 to +40 */
		if (i == 59)
			x[0] = 1e5;			/* eta 5000: exp(-eta) would underflow, exp(eta) overflow */
		if (i == 58)
			x[0] = -1e5;
		eta = affine_l(m.arrays[0].data, x);
		p1 = 1.0L / (1.0L + expl(-eta));
		assert_int_equal(mlc_model_predict_proba(&m, x, p), 0);
		assert_true(isfinite(p[0]) && isfinite(p[1]));
		assert_true(fabsl(p[1] - p1) <= 1e-15L + 1e-13L * p1);
		assert_true(fabsl(p[0] - (1.0L - p1)) <= 1e-15L + 1e-13L * (1.0L - p1));
		assert_true(fabs(p[0] + p[1] - 1.0) <= 4.5e-16);
		assert_true(mlc_model_predict(&m, x) == (eta > 0 ? 1.0 : 0.0));
	}
	/* tiny probabilities keep their relative precision (stable sigmoid) */
	x[0] = -1e4;
	assert_int_equal(mlc_model_predict_proba(&m, x, p), 0);
	assert_true(p[1] > 0);
	assert_true(fabsl(p[1] - expl(affine_l(m.arrays[0].data, x))) <= 1e-12L * p[1]);
	mlc_model_free(&m);

	test_model_build(MLC_ALG_SOFTMAX, &m);
	assert_int_equal(mlc_model_linear_view(&m, &v), -1);
	mlc_model_free(&m);
}

static void
test_predict_softmax(void **state)
{
	mlc_model	m;
	double		p[3],
				x[D];
	int			i,
				c;

	test_model_build(MLC_ALG_SOFTMAX, &m);
	for (i = 0; i < 40; i++)
	{
		long double z[3],
					mx,
					s = 0;
		int			best = 0;

		memcpy(x, xs[i % 4], sizeof(x));
		x[0] = -3000.37 + 150.0 * i;	/* logits up to about +-90: naive exp would overflow in double */
		for (c = 0; c < 3; c++)
		{
			z[c] = affine_l(m.arrays[0].data + c * (D + 1), x);
			if (z[c] > z[best])
				best = c;
		}
		mx = z[best];
		for (c = 0; c < 3; c++)
			s += expl(z[c] - mx);
		assert_int_equal(mlc_model_predict_proba(&m, x, p), 0);
		assert_true(fabs(p[0] + p[1] + p[2] - 1.0) <= 4e-16);
		for (c = 0; c < 3; c++)
		{
			long double want = expl(z[c] - mx) / s;

			assert_true(fabsl(p[c] - want) <= 1e-300L + 1e-12L * want);
		}
		assert_true(mlc_model_predict(&m, x) == (double) best);
	}
	/* exact ties go to the lowest class id */
	memcpy(m.arrays[0].data + 2 * (D + 1), m.arrays[0].data + (D + 1), sizeof(double) * (D + 1));
	memcpy(x, xs[1], sizeof(x));
	x[0] = 500;					/* class 1 (== class 2) wins */
	assert_true(mlc_model_predict(&m, x) == 1.0);
	assert_int_equal(mlc_model_predict_proba(&m, x, p), 0);
	assert_true(p[1] == p[2]);
	mlc_model_free(&m);
}

static void
test_kmeans(void **state)
{
	mlc_model	m;
	double		out[3],
				x[D];
	int			i,
				k,
				j;

	test_model_build(MLC_ALG_KMEANS, &m);
	assert_int_equal(mlc_model_output_width(&m), 3);
	for (i = 0; i < 50; i++)
	{
		long double best = 0;
		int			bi = -1;

		memcpy(x, xs[i % 4], sizeof(x));
		x[0] = 20 + 1.3 * i;
		assert_int_equal(mlc_model_transform(&m, x, out), 3);
		for (k = 0; k < 3; k++)
		{
			long double s = 0;

			for (j = 0; j < D; j++)
			{
				long double t = (long double) x[j] - m.arrays[0].data[k * D + j];

				s += t * t;
			}
			assert_true(fabsl(out[k] - sqrtl(s)) <= 1e-14L * (1 + sqrtl(s)));
			if (bi < 0 || s < best)
			{
				bi = k;
				best = s;
			}
		}
		assert_true(mlc_model_predict(&m, x) == (double) bi);
	}
	/* equidistant from centroids 0 and 1 (age 40, the other coordinates tie
	 * too): the lowest id wins; the same point tied with 1 and 2 gives 1 */
	x[0] = 40;
	x[1] = 0.5;
	x[2] = 0.5;
	x[3] = 0;
	x[4] = 0.5;
	assert_int_equal(mlc_model_transform(&m, x, out), 3);
	assert_true(out[0] == out[1]);
	assert_true(mlc_model_predict(&m, x) == 0.0);
	x[0] = 60;
	x[1] = 0;
	x[3] = 0.5;
	assert_int_equal(mlc_model_transform(&m, x, out), 3);
	assert_true(out[1] == out[2]);
	assert_true(mlc_model_predict(&m, x) == 1.0);
	assert_int_equal(mlc_model_predict_proba(&m, x, out), -1);
	mlc_model_free(&m);
}

static void
test_pca(void **state)
{
	mlc_model	m;
	double		out[2];
	int			i,
				k,
				j;

	test_model_build(MLC_ALG_PCA, &m);
	assert_int_equal(mlc_model_output_width(&m), 2);
	for (i = 0; i < 4; i++)
	{
		assert_int_equal(mlc_model_transform(&m, xs[i], out), 2);
		for (k = 0; k < 2; k++)
		{
			long double s = 0;

			for (j = 0; j < D; j++)
				s += (long double) m.arrays[1].data[k * D + j] *
					((long double) xs[i][j] - m.arrays[0].data[j]);
			assert_true(fabsl(out[k] - s) <= 1e-14L * (1 + fabsl(s)));
		}
		assert_true(isnan(mlc_model_predict(&m, xs[i])));
	}
	/* closed form for xs[0]: (30 - 45, 0.6 (1 - 0.3) + 0.8 (0 - 0.1)) */
	assert_int_equal(mlc_model_transform(&m, xs[0], out), 2);
	assert_true(out[0] == -15.0);
	assert_true(fabs(out[1] - 0.34) <= 1e-15);
	assert_int_equal(mlc_model_predict_proba(&m, xs[0], out), -1);
	mlc_model_free(&m);
}

static void
test_naive_bayes(void **state)
{
	mlc_model	m;
	double		p[2];
	int			i,
				c,
				j;
	/* which features are categorical: city's three one-hot columns */
	static const int is_cat[D] = {0, 1, 1, 1, 0};

	test_model_build(MLC_ALG_NAIVE_BAYES, &m);
	for (i = 0; i < 4; i++)
	{
		long double jll[2],
					mx,
					s;
		int			best;

		for (c = 0; c < 2; c++)
		{
			jll[c] = m.arrays[0].data[c];
			for (j = 0; j < D; j++)
			{
				long double th = m.arrays[1].data[c * D + j],
							v = m.arrays[2].data[c * D + j],
							f = m.arrays[3].data[c * D + j],
							x = xs[i][j];

				if (is_cat[j])
					jll[c] += x * f;
				else
					jll[c] += -0.5L * logl(2 * 3.14159265358979323846264338327950288L * v)
						- 0.5L * (x - th) * (x - th) / v;
			}
		}
		best = jll[1] > jll[0] ? 1 : 0;
		mx = jll[best];
		s = expl(jll[0] - mx) + expl(jll[1] - mx);
		assert_int_equal(mlc_model_predict_proba(&m, xs[i], p), 0);
		for (c = 0; c < 2; c++)
		{
			long double want = expl(jll[c] - mx) / s;

			assert_true(fabsl(p[c] - want) <= 1e-300L + 1e-11L * want);
		}
		assert_true(fabs(p[0] + p[1] - 1.0) <= 4e-16);
		assert_true(mlc_model_predict(&m, xs[i]) == (double) best);
	}
	/* age -1000 is far more likely under the wider class-1 Gaussian */
	assert_true(mlc_model_predict(&m, xs[3]) == 1.0);
	assert_int_equal(mlc_model_transform(&m, xs[0], p), -1);
	assert_int_equal(mlc_model_output_width(&m), 0);
	mlc_model_free(&m);
}

static void
test_trees(void **state)
{
	mlc_model	m;
	double		p[2];
	double		x[D];

	/* the stump: x0 < 0.5 goes left */
	memcpy(x, xs[0], sizeof(x));
	x[0] = 0.25;
	test_model_build(MLC_ALG_DECISION_TREE, &m);
	assert_true(mlc_model_predict(&m, x) == 0.25 - 1);
	x[0] = 0.75;
	assert_true(mlc_model_predict(&m, x) == 0.25 + 1);
	x[0] = NAN;					/* missing: default left */
	assert_true(mlc_model_predict(&m, x) == 0.25 - 1);
	assert_int_equal(mlc_model_predict_proba(&m, x, p), -1);
	mlc_model_free(&m);

	test_model_build(MLC_ALG_RANDOM_FOREST, &m);
	x[0] = 0.75;
	assert_int_equal(mlc_model_predict_proba(&m, x, p), 0);
	assert_true(p[0] == 0.1 && p[1] == 0.9);
	assert_true(mlc_model_predict(&m, x) == 1);
	mlc_model_free(&m);
}

int
run_model_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_number),
		cmocka_unit_test(test_encode_category),
		cmocka_unit_test(test_category_index),
		cmocka_unit_test(test_model_array),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_predict_linear),
		cmocka_unit_test(test_predict_logistic),
		cmocka_unit_test(test_predict_softmax),
		cmocka_unit_test(test_kmeans),
		cmocka_unit_test(test_pca),
		cmocka_unit_test(test_naive_bayes),
		cmocka_unit_test(test_trees),
	};

	return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
