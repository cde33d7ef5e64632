/*
 * hparams.c: algorithm names and hyperparameter validation.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/*
 * Spec tables: name, default, minimum, maximum, integer.  Every algorithm
 * also takes max_categories (the one-hot cap per text column), last.
 */
#define MAX_CATEGORIES_SPEC {"max_categories", 100, 1, 10000, 1}
#define MAX_CLASSES_SPEC {"max_classes", 100, 2, 10000, 1}

static const mlc_hparam_spec linear_specs[] = {
	MAX_CATEGORIES_SPEC,
};
static const mlc_hparam_spec ridge_specs[] = {
	{"alpha", 1.0, 0.0, 1e300, 0},
	MAX_CATEGORIES_SPEC,
};
static const mlc_hparam_spec lasso_specs[] = {
	{"alpha", 1.0, 0.0, 1e300, 0},
	{"max_iter", 10000, 1, 1e7, 1},
	{"tol", 1e-10, 0.0, 1.0, 0},
	MAX_CATEGORIES_SPEC,
};
static const mlc_hparam_spec elastic_net_specs[] = {
	{"alpha", 1.0, 0.0, 1e300, 0},
	{"l1_ratio", 0.5, 0.0, 1.0, 0},
	{"max_iter", 10000, 1, 1e7, 1},
	{"tol", 1e-10, 0.0, 1.0, 0},
	MAX_CATEGORIES_SPEC,
};
static const mlc_hparam_spec logistic_specs[] = {
	{"alpha", 0.0, 0.0, 1e300, 0},
	{"max_iter", 100, 1, 10000, 1},
	{"tol", 1e-10, 0.0, 1.0, 0},
	MAX_CATEGORIES_SPEC,
};
static const mlc_hparam_spec softmax_specs[] = {
	{"alpha", 1.0, 0.0, 1e300, 0},
	{"max_iter", 1000, 1, 100000, 1},
	{"tol", 1e-8, 0.0, 1.0, 0},
	MAX_CLASSES_SPEC,
	MAX_CATEGORIES_SPEC,
};
static const mlc_hparam_spec kmeans_specs[] = {
	{"k", 8, 1, 10000, 1},
	{"n_init", 10, 1, 1000, 1},
	{"max_iter", 300, 1, 100000, 1},
	{"tol", 1e-4, 0.0, 1.0, 0},
	{"seed", 0, 0, 2147483647, 1},
	{"silhouette_sample", 2000, 0, 20000, 1},
	MAX_CATEGORIES_SPEC,
};
static const mlc_hparam_spec pca_specs[] = {
	{"n_components", 0, 0, 1000, 1},
	MAX_CATEGORIES_SPEC,
};
static const mlc_hparam_spec naive_bayes_specs[] = {
	{"var_smoothing", 1e-9, 0.0, 1.0, 0},
	{"smoothing", 1.0, 0.0, 1e300, 0},
	MAX_CLASSES_SPEC,
	MAX_CATEGORIES_SPEC,
};

/* Trees: XGBoost's names and defaults for boosting (max_bins at most 255). */
static const mlc_hparam_spec gradient_boosting_specs[] = {
	{"n_trees", 100, 1, 10000, 1},
	{"max_depth", 6, 1, 20, 1},
	{"learning_rate", 0.3, 1e-12, 1, 0},
	{"min_child_weight", 1, 0, 1e300, 0},
	{"lambda", 1, 0, 1e300, 0},
	{"gamma", 0, 0, 1e300, 0},
	{"subsample", 1, 1e-12, 1, 0},
	{"colsample", 1, 1e-12, 1, 0},
	{"max_bins", 255, 2, 255, 1},
	{"early_stopping_rounds", 0, 0, 10000, 1},
	{"seed", 0, 0, 2147483647, 1},
	MAX_CLASSES_SPEC,
	MAX_CATEGORIES_SPEC,
};
static const mlc_hparam_spec random_forest_specs[] = {
	{"n_trees", 100, 1, 10000, 1},
	{"max_depth", 12, 1, 20, 1},
	{"min_samples_leaf", 1, 1, 1e9, 1},
	{"colsample", 1, 1e-12, 1, 0},
	{"max_bins", 255, 2, 255, 1},
	{"seed", 0, 0, 2147483647, 1},
	MAX_CLASSES_SPEC,
	MAX_CATEGORIES_SPEC,
};
static const mlc_hparam_spec decision_tree_specs[] = {
	{"max_depth", 8, 1, 20, 1},
	{"min_samples_leaf", 1, 1, 1e9, 1},
	{"max_bins", 255, 2, 255, 1},
	MAX_CLASSES_SPEC,
	MAX_CATEGORIES_SPEC,
};

#define SPECS(a) a, (int) (sizeof(a) / sizeof(a[0]))

static const struct
{
	mlc_algorithm alg;
	const char *name;
	const mlc_hparam_spec *specs;
	int			nspecs;
}			algorithms[] = {
	{MLC_ALG_LINEAR, "linear_regression", SPECS(linear_specs)},
	{MLC_ALG_RIDGE, "ridge", SPECS(ridge_specs)},
	{MLC_ALG_LASSO, "lasso", SPECS(lasso_specs)},
	{MLC_ALG_ELASTIC_NET, "elastic_net", SPECS(elastic_net_specs)},
	{MLC_ALG_LOGISTIC, "logistic_regression", SPECS(logistic_specs)},
	{MLC_ALG_SOFTMAX, "softmax_regression", SPECS(softmax_specs)},
	{MLC_ALG_KMEANS, "kmeans", SPECS(kmeans_specs)},
	{MLC_ALG_PCA, "pca", SPECS(pca_specs)},
	{MLC_ALG_NAIVE_BAYES, "naive_bayes", SPECS(naive_bayes_specs)},
	{MLC_ALG_GRADIENT_BOOSTING, "gradient_boosting", SPECS(gradient_boosting_specs)},
	{MLC_ALG_RANDOM_FOREST, "random_forest", SPECS(random_forest_specs)},
	{MLC_ALG_DECISION_TREE, "decision_tree", SPECS(decision_tree_specs)},
};

#define N_ALGORITHMS ((int) (sizeof(algorithms) / sizeof(algorithms[0])))

static int
algorithm_index(mlc_algorithm alg)
{
	int			i;

	for (i = 0; i < N_ALGORITHMS; i++)
		if (algorithms[i].alg == alg)
			return i;
	return -1;
}

mlc_algorithm
mlc_algorithm_from_name(const char *name)
{
	int			i;

	if (name == NULL)
		return (mlc_algorithm) 0;
	for (i = 0; i < N_ALGORITHMS; i++)
		if (strcmp(name, algorithms[i].name) == 0)
			return algorithms[i].alg;
	return (mlc_algorithm) 0;
}

/* "unknown" (never NULL) for an id that is not an algorithm. */
const char *
mlc_algorithm_name(mlc_algorithm alg)
{
	int			i = algorithm_index(alg);

	return i < 0 ? "unknown" : algorithms[i].name;
}

const char *
mlc_algorithm_names(void)
{
	static char names[512];

	if (names[0] == '\0')
	{
		size_t		used = 0;
		int			i;

		for (i = 0; i < N_ALGORITHMS && used < sizeof(names); i++)
			used += (size_t) snprintf(names + used, sizeof(names) - used, "%s%s",
									  i ? ", " : "", algorithms[i].name);
	}
	return names;
}

const mlc_hparam_spec *
mlc_hparam_specs(mlc_algorithm alg, int *n)
{
	int			i = algorithm_index(alg);

	if (n != NULL)
		*n = i < 0 ? 0 : algorithms[i].nspecs;
	return i < 0 ? NULL : algorithms[i].specs;
}

static double *
hparam_slot(mlc_hparams *hp, const char *key)
{
#define SLOT(f) if (strcmp(key, #f) == 0) return &hp->f
	SLOT(alpha);
	SLOT(l1_ratio);
	SLOT(max_iter);
	SLOT(tol);
	SLOT(k);
	SLOT(n_init);
	SLOT(seed);
	SLOT(n_components);
	SLOT(var_smoothing);
	SLOT(smoothing);
	SLOT(max_categories);
	SLOT(max_classes);
	SLOT(silhouette_sample);
	SLOT(n_trees);
	SLOT(max_depth);
	SLOT(learning_rate);
	SLOT(min_child_weight);
	SLOT(lambda);
	SLOT(gamma);
	SLOT(subsample);
	SLOT(colsample);
	SLOT(max_bins);
	SLOT(early_stopping_rounds);
	SLOT(min_samples_leaf);
#undef SLOT
	return NULL;
}

/* Every field zero (alpha 0 keeps linear_regression unpenalized), then the
 * algorithm's defaults. */
void
mlc_hparams_defaults(mlc_algorithm alg, mlc_hparams *hp)
{
	const mlc_hparam_spec *specs;
	int			n,
				i;

	memset(hp, 0, sizeof(*hp));
	specs = mlc_hparam_specs(alg, &n);
	for (i = 0; i < n; i++)
	{
		double	   *slot = hparam_slot(hp, specs[i].name);

		if (slot != NULL)
			*slot = specs[i].default_value;
	}
}

mlc_status
mlc_hparams_set(mlc_algorithm alg, mlc_hparams *hp, const char *key,
				double value, mlc_error *err)
{
	const mlc_hparam_spec *specs;
	const mlc_hparam_spec *spec = NULL;
	char		detail[512];
	size_t		used;
	double	   *slot;
	int			n;
	int			i;

	if (algorithm_index(alg) < 0)
		return mlc_fail(err, MLC_EINVAL, NULL, "unknown algorithm id %d",
						(int) alg);
	if (hp == NULL || key == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"hyperparameter call with a NULL argument");

	specs = mlc_hparam_specs(alg, &n);
	for (i = 0; i < n; i++)
		if (strcmp(specs[i].name, key) == 0)
			spec = &specs[i];

	if (spec == NULL)
	{
		if (n == 0)
			snprintf(detail, sizeof(detail),
					 "Algorithm %s takes no hyperparameters.",
					 mlc_algorithm_name(alg));
		else
		{
			used = (size_t) snprintf(detail, sizeof(detail),
									 "Accepted hyperparameters for %s:",
									 mlc_algorithm_name(alg));
			for (i = 0; i < n && used < sizeof(detail); i++)
				used += (size_t) snprintf(detail + used, sizeof(detail) - used,
										  "%s %s", i == 0 ? "" : ",",
										  specs[i].name);
			if (used < sizeof(detail))
				snprintf(detail + used, sizeof(detail) - used, ".");
		}
		return mlc_fail(err, MLC_EINVAL, detail,
						"unknown hyperparameter \"%.64s\" for algorithm %s",
						key, mlc_algorithm_name(alg));
	}

	if (isnan(value) || value < spec->min_value || value > spec->max_value)
	{
		snprintf(detail, sizeof(detail), "Got %.15g.", value);
		return mlc_fail(err, MLC_EINVAL, detail,
						"hyperparameter \"%s\" for algorithm %s must be between %g and %g",
						spec->name, mlc_algorithm_name(alg),
						spec->min_value, spec->max_value);
	}
	if (spec->is_integer && value != floor(value))
	{
		snprintf(detail, sizeof(detail), "Got %.15g.", value);
		return mlc_fail(err, MLC_EINVAL, detail,
						"hyperparameter \"%s\" for algorithm %s must be an integer",
						spec->name, mlc_algorithm_name(alg));
	}

	slot = hparam_slot(hp, spec->name);
	if (slot == NULL)			/* a spec without a field: a bug here */
		return mlc_fail(err, MLC_EINVAL, NULL,
						"hyperparameter \"%s\" has no storage", spec->name);
	*slot = value;
	return MLC_OK;
}

/* NAN for a key the algorithm does not accept. */
double
mlc_hparams_get(mlc_algorithm alg, const mlc_hparams *hp, const char *key)
{
	const mlc_hparam_spec *specs;
	int			n;
	int			i;

	if (hp == NULL || key == NULL)
		return NAN;
	specs = mlc_hparam_specs(alg, &n);
	for (i = 0; i < n; i++)
		if (strcmp(specs[i].name, key) == 0)
		{
			double	   *slot = hparam_slot((mlc_hparams *) hp, key);

			return slot == NULL ? NAN : *slot;
		}
	return NAN;
}

/* ---------- hyperparameters from JSON text ---------- */

/*
 * A flat JSON object of numbers: {"key": number, ...}, read with the core's
 * JSON scanner (json.c), which never reads past len.  Keys are decoded into
 * a fixed buffer: a key longer than that cannot be a known hyperparameter,
 * and error messages print at most its first 64 bytes, so the decoded
 * prefix is all that is kept.  A nested value is rejected where it starts.
 */

#define HP_KEY_MAX 256			/* decoded key bytes kept, NUL included */

/*
 * The value of key at the scanner's position: a JSON number, converted to
 * a finite double.  Any other JSON value is "not a number".
 */
static mlc_status
hp_parse_number(mlc_json *sc, const char *key, double *value)
{
	size_t		start = sc->pos;
	size_t		n;
	double		d;
	mlc_status	st;
	int			c;

	c = mlc_json_peek(sc);
	if (c == '"' || c == '{' || c == '[' || c == 't' || c == 'f' || c == 'n')
		return mlc_fail(sc->err, MLC_EINVAL, NULL,
						"hyperparameter \"%.64s\" must be a number", key);
	if ((st = mlc_json_number(sc, &d, NULL)) != MLC_OK)
		return st;
	if (!isfinite(d))
	{
		char		detail[96];

		n = sc->pos - start;
		if (n > 40)
			snprintf(detail, sizeof(detail), "Got %.40s... (%zu characters).",
					 sc->s + start, n);
		else
			snprintf(detail, sizeof(detail), "Got %.*s.", (int) n, sc->s + start);
		return mlc_fail(sc->err, MLC_EINVAL, detail,
						"hyperparameter \"%.64s\" must be a finite number", key);
	}
	*value = d;
	return MLC_OK;
}

mlc_status
mlc_hparams_parse(mlc_algorithm alg, const char *json, size_t len,
				  mlc_hparams *hp, mlc_error *err)
{
	mlc_json	sc;
	mlc_hparams work;
	const mlc_hparam_spec *specs;
	char		key[HP_KEY_MAX];
	unsigned char seen[32];		/* one flag per spec (there are fewer than 32) */
	double		value = 0.0;
	size_t		klen;
	int			has_nul;
	mlc_status	st;
	int			nspecs,
				i,
				c;

	if (algorithm_index(alg) < 0)
		return mlc_fail(err, MLC_EINVAL, NULL, "unknown algorithm id %d",
						(int) alg);
	if (hp == NULL || (json == NULL && len > 0))
		return mlc_fail(err, MLC_EINVAL, NULL,
						"hyperparameter call with a NULL argument");
	if (len > 0 && memchr(json, '\0', len) != NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "hyperparams contain a NUL byte");

	specs = mlc_hparam_specs(alg, &nspecs);
	if (nspecs > (int) sizeof(seen))
		return mlc_fail(err, MLC_EINVAL, NULL, "too many hyperparameter specs");
	memset(seen, 0, sizeof(seen));
	mlc_hparams_defaults(alg, &work);

	mlc_json_init(&sc, json, len, err, "hyperparams", NULL);

	mlc_json_skip_ws(&sc);
	if (mlc_json_peek(&sc) != '{')
		return mlc_fail(err, MLC_EINVAL, NULL, "hyperparams must be a JSON object");
	sc.pos++;
	mlc_json_skip_ws(&sc);
	if (mlc_json_peek(&sc) == '}')
		sc.pos++;
	else
	{
		for (;;)
		{
			mlc_json_skip_ws(&sc);
			if (mlc_json_peek(&sc) != '"')
				return mlc_json_syntax(&sc, "expected a string key");
			if ((st = mlc_json_string(&sc, key, sizeof(key), &klen, &has_nul)) != MLC_OK)
				return st;
			if (has_nul)
				return mlc_fail(err, MLC_EINVAL, NULL,
								"hyperparameter name contains \\u0000");
			for (i = 0; i < nspecs; i++)
				if (seen[i] && strcmp(specs[i].name, key) == 0)
					return mlc_fail(err, MLC_EINVAL, NULL,
									"duplicate hyperparameter \"%.64s\"", key);
			mlc_json_skip_ws(&sc);
			if (mlc_json_peek(&sc) != ':')
				return mlc_json_syntax(&sc, "expected ':' after a key");
			sc.pos++;
			mlc_json_skip_ws(&sc);
			if ((st = hp_parse_number(&sc, key, &value)) != MLC_OK)
				return st;
			if ((st = mlc_hparams_set(alg, &work, key, value, err)) != MLC_OK)
				return st;
			for (i = 0; i < nspecs; i++)
				if (strcmp(specs[i].name, key) == 0)
					seen[i] = 1;
			mlc_json_skip_ws(&sc);
			c = mlc_json_peek(&sc);
			if (c != '}' && c != ',')
				return mlc_json_syntax(&sc, "expected ',' or '}'");
			sc.pos++;
			if (c == '}')
				break;
		}
	}
	mlc_json_skip_ws(&sc);
	if (sc.pos < sc.len)
		return mlc_json_syntax(&sc, "unexpected characters after the object");
	*hp = work;
	return MLC_OK;
}
