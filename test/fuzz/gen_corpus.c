/*
 * gen_corpus.c: writes the seed corpus of fuzz_model_decode (a valid encoded
 * model of every algorithm, and one of each damage) into the directory given
 * as argv[1].  `make fuzz-corpus` builds and runs it; the committed files
 * under corpus/fuzz_model_decode came from it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"

static void
write_file(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
	char		path[512];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
	{
		perror(path);
		exit(1);
	}
}

/*
 * Inputs of every seed: x1 (number, impute 0.5), color (blue | red, with
 * "(other)"), flag (bool): 5 features.
 */
#define D 5
static char *colors[] = {"blue", "red"};
static char *fnames[D] = {"x1", "color=blue", "color=red", "color=(other)", "flag"};
static char *noyes[] = {"no", "yes"};
static char *k3[] = {"a", "b", "c"};
static double k3v[] = {-1, 0, 1};

static mlc_encoder inputs[3] = {
	{"x1", MLC_ENC_NUMBER, 1, 0.5, 0, NULL, 0, 0},
	{"color", MLC_ENC_CATEGORY, 3, 0.0, 2, colors, 1, 0},
	{"flag", MLC_ENC_BOOL, 1, 0.0, 0, NULL, 0, 0},
};

static void
base(mlc_model *m, mlc_algorithm alg, mlc_task task)
{
	memset(m, 0, sizeof(*m));
	m->algorithm = alg;
	m->task = task;
	m->n_inputs = 3;
	m->inputs = inputs;
	inputs[1].impute = NAN;
	inputs[2].impute = NAN;
	m->n_features = D;
	m->feature_names = fnames;
}

static void
arr(mlc_array *a, const char *name, int rows, int cols, double *data)
{
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->rows = rows;
	a->cols = cols;
	a->data = data;
}

static void
emit(const char *dir, const char *name, const mlc_model *m)
{
	mlc_error	err;
	uint8_t    *buf;
	size_t		len;

	if (mlc_model_encode(m, &buf, &len, &err) != MLC_OK)
	{
		fprintf(stderr, "%s: %s\n", name, err.msg);
		exit(1);
	}
	write_file(dir, name, buf, len);
	mlc_free(buf);
}

int
main(int argc, char **argv)
{
	static double coef[D + 1] = {36.46, -0.108, 3.81, -0.0, 5e-324, -0.525};
	static double soft[3 * (D + 1)] = {0.5, 0.1, 1, -1, 0, 0.3, -0.2, 0.2, -0.5, 2, 1, -0.3,
	0, -0.3, 0.25, 0.5, -1, 0.1};
	static double cent[2 * D] = {0, 1, 0, 0, 1, 5, 0, 1, 0, 0};
	static double mean[D] = {2, 0.5, 0.3, 0.2, 0.4};
	static double comp[2 * D] = {1, 0, 0, 0, 0, 0, 0.6, 0.8, 0, 0};
	static double ev[2] = {3.5, 0.2};
	static double prior[2] = {-0.6931471805599453, -0.6931471805599453};
	static double theta[2 * D] = {1, 0, 0, 0, 0.2, 3, 0, 0, 0, 0.7};
	static double var[2 * D] = {1, 0, 0, 0, 0.16, 2, 0, 0, 0, 0.21};
	static double flp[2 * D] = {0, -0.4, -1.2, -2, 0, 0, -1.1, -0.4, -2.5, 0};
	static double nodes[6] = {0, 1, 2, 0.5, -1, 3};
	const char *dir;
	mlc_array	a[4];
	mlc_model	m;
	mlc_error	err;
	uint8_t    *buf;
	size_t		len;
	int			alg;
	char		name[64];

	if (argc != 2)
	{
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	for (alg = MLC_ALG_LINEAR; alg <= MLC_ALG_ELASTIC_NET; alg++)
	{
		base(&m, (mlc_algorithm) alg, MLC_TASK_REGRESSION);
		arr(&a[0], "coef", 1, D + 1, coef);
		m.n_arrays = 1;
		m.arrays = a;
		snprintf(name, sizeof(name), "%02d_%s", alg, mlc_algorithm_name((mlc_algorithm) alg));
		emit(dir, name, &m);
	}
	base(&m, MLC_ALG_LOGISTIC, MLC_TASK_CLASSIFICATION);
	m.n_classes = 2;
	m.classes = noyes;
	arr(&a[0], "coef", 1, D + 1, coef);
	m.n_arrays = 1;
	m.arrays = a;
	emit(dir, "05_logistic_regression", &m);

	base(&m, MLC_ALG_SOFTMAX, MLC_TASK_CLASSIFICATION);
	m.n_classes = 3;
	m.classes = k3;
	m.labels_numeric = 1;
	m.class_values = k3v;
	arr(&a[0], "coef", 3, D + 1, soft);
	m.n_arrays = 1;
	m.arrays = a;
	emit(dir, "06_softmax_regression", &m);

	base(&m, MLC_ALG_KMEANS, MLC_TASK_CLUSTERING);
	arr(&a[0], "centroids", 2, D, cent);
	m.n_arrays = 1;
	m.arrays = a;
	emit(dir, "07_kmeans", &m);

	base(&m, MLC_ALG_PCA, MLC_TASK_DECOMPOSITION);
	arr(&a[0], "mean", 1, D, mean);
	arr(&a[1], "components", 2, D, comp);
	arr(&a[2], "explained_variance", 1, 2, ev);
	m.n_arrays = 3;
	m.arrays = a;
	emit(dir, "08_pca", &m);

	base(&m, MLC_ALG_NAIVE_BAYES, MLC_TASK_CLASSIFICATION);
	m.n_classes = 2;
	m.classes = noyes;
	arr(&a[0], "class_log_prior", 1, 2, prior);
	arr(&a[1], "theta", 2, D, theta);
	arr(&a[2], "var", 2, D, var);
	arr(&a[3], "feature_log_prob", 2, D, flp);
	m.n_arrays = 4;
	m.arrays = a;
	emit(dir, "09_naive_bayes", &m);

	for (alg = MLC_ALG_GRADIENT_BOOSTING; alg <= MLC_ALG_DECISION_TREE; alg++)
	{
		int			cls = alg == MLC_ALG_RANDOM_FOREST;

		base(&m, (mlc_algorithm) alg, cls ? MLC_TASK_CLASSIFICATION : MLC_TASK_REGRESSION);
		if (cls)
		{
			m.n_classes = 2;
			m.classes = noyes;
		}
		arr(&a[0], "nodes", 2, 3, nodes);
		m.n_arrays = 1;
		m.arrays = a;
		snprintf(name, sizeof(name), "%02d_%s", alg,
				 alg == MLC_ALG_GRADIENT_BOOSTING ? "gradient_boosting" :
				 cls ? "random_forest" : "decision_tree");
		emit(dir, name, &m);
	}

	/* the smallest model: linear regression without inputs */
	base(&m, MLC_ALG_LINEAR, MLC_TASK_REGRESSION);
	m.n_inputs = 0;
	m.n_features = 0;
	arr(&a[0], "coef", 1, 1, coef);
	m.n_arrays = 1;
	m.arrays = a;
	emit(dir, "linear_p0", &m);

	/* damaged copies of naive_bayes: bad CRC, truncated, bad version */
	base(&m, MLC_ALG_NAIVE_BAYES, MLC_TASK_CLASSIFICATION);
	m.n_classes = 2;
	m.classes = noyes;
	m.n_arrays = 4;
	m.arrays = a;
	arr(&a[0], "class_log_prior", 1, 2, prior);
	arr(&a[1], "theta", 2, D, theta);
	arr(&a[2], "var", 2, D, var);
	arr(&a[3], "feature_log_prob", 2, D, flp);
	if (mlc_model_encode(&m, &buf, &len, &err) != MLC_OK)
	{
		fprintf(stderr, "damaged: %s\n", err.msg);
		return 1;
	}
	buf[len - 1] ^= 0x40;
	write_file(dir, "bad_crc", buf, len);
	buf[len - 1] ^= 0x40;
	write_file(dir, "truncated", buf, len - 5);
	buf[4] = 1;
	write_file(dir, "bad_version", buf, len);
	write_file(dir, "header_only", buf, MLC_HEADER_SIZE);
	mlc_free(buf);
	return 0;
}
