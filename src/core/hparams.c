/*
 * hparams.c: algorithm names and hyperparameter validation.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"

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
 * A flat JSON object of numbers: {"key": number, ...}.  The scanner keeps an
 * index into json[0, len) and never reads at or past len; it does not recurse
 * (a nested value is rejected where it starts).  Keys are decoded into a
 * fixed buffer: a key longer than that cannot be a known hyperparameter, and
 * error messages print at most its first 64 bytes, so the decoded prefix is
 * all that is kept.  Numbers are checked against the JSON grammar first and
 * only then converted (strtod on a NUL-terminated copy of the token).
 */

#define HP_KEY_MAX 256			/* decoded key bytes kept, NUL included */
#define HP_NUM_STACK 128		/* number tokens up to this long need no allocation */

typedef struct hp_scan
{
	const char *s;
	size_t		len;
	size_t		pos;
	mlc_error  *err;
} hp_scan;

static int
hp_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
hp_skip_ws(hp_scan *sc)
{
	while (sc->pos < sc->len && hp_is_ws(sc->s[sc->pos]))
		sc->pos++;
}

/* The next byte, or -1 at the end. */
static int
hp_peek(const hp_scan *sc)
{
	return sc->pos < sc->len ? (unsigned char) sc->s[sc->pos] : -1;
}

static mlc_status
hp_syntax(hp_scan *sc, const char *what)
{
	char		detail[128];

	if (sc->pos >= sc->len)
		return mlc_fail(sc->err, MLC_EINVAL, "The input ended unexpectedly.",
						"invalid hyperparams JSON: %s", what);
	snprintf(detail, sizeof(detail), "At byte offset %zu.", sc->pos);
	return mlc_fail(sc->err, MLC_EINVAL, detail,
					"invalid hyperparams JSON: %s", what);
}

static int
hp_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at sc->pos into *cp; advances past them. */
static int
hp_read_u4(hp_scan *sc, unsigned *cp)
{
	unsigned	v = 0;
	int			i,
				h;

	if (sc->len - sc->pos < 4)
		return 0;
	for (i = 0; i < 4; i++)
	{
		h = hp_hex((unsigned char) sc->s[sc->pos + i]);
		if (h < 0)
			return 0;
		v = (v << 4) | (unsigned) h;
	}
	sc->pos += 4;
	*cp = v;
	return 1;
}

/* Append bytes to the key buffer, dropping what does not fit. */
static void
hp_key_put(char *key, size_t *klen, const char *bytes, size_t n)
{
	size_t		room = HP_KEY_MAX - 1 - *klen;

	if (n > room)
		n = room;
	memcpy(key + *klen, bytes, n);
	*klen += n;
	key[*klen] = '\0';
}

/*
 * A JSON string at sc->pos (which holds '"'), decoded into key (UTF-8 for
 * \u escapes, other bytes copied as they are: the text is in the database
 * encoding).  Rejects control characters, bad escapes, lone surrogates and
 * \u0000 (a key could not carry it).
 */
static mlc_status
hp_parse_key(hp_scan *sc, char *key)
{
	size_t		klen = 0;
	char		utf8[4];
	size_t		n;
	unsigned	cp,
				lo;
	int			c;

	key[0] = '\0';
	sc->pos++;					/* opening quote */
	for (;;)
	{
		c = hp_peek(sc);
		if (c < 0)
			return hp_syntax(sc, "unterminated string");
		if (c == '"')
		{
			sc->pos++;
			return MLC_OK;
		}
		if (c < 0x20)
			return hp_syntax(sc, "control character in a string");
		if (c != '\\')
		{
			size_t		start = sc->pos;

			/* copy the run of plain bytes in one go */
			while (sc->pos < sc->len)
			{
				c = (unsigned char) sc->s[sc->pos];
				if (c == '"' || c == '\\' || c < 0x20)
					break;
				sc->pos++;
			}
			hp_key_put(key, &klen, sc->s + start, sc->pos - start);
			continue;
		}
		sc->pos++;				/* backslash */
		c = hp_peek(sc);
		if (c < 0)
			return hp_syntax(sc, "unterminated string");
		sc->pos++;
		switch (c)
		{
			case '"':
			case '\\':
			case '/':
				utf8[0] = (char) c;
				hp_key_put(key, &klen, utf8, 1);
				continue;
			case 'b':
				hp_key_put(key, &klen, "\b", 1);
				continue;
			case 'f':
				hp_key_put(key, &klen, "\f", 1);
				continue;
			case 'n':
				hp_key_put(key, &klen, "\n", 1);
				continue;
			case 'r':
				hp_key_put(key, &klen, "\r", 1);
				continue;
			case 't':
				hp_key_put(key, &klen, "\t", 1);
				continue;
			case 'u':
				break;
			default:
				sc->pos--;
				return hp_syntax(sc, "invalid escape in a string");
		}
		if (!hp_read_u4(sc, &cp))
			return hp_syntax(sc, "invalid \\u escape in a string");
		if (cp >= 0xDC00 && cp <= 0xDFFF)
			return hp_syntax(sc, "lone low surrogate in a string");
		if (cp >= 0xD800 && cp <= 0xDBFF)
		{
			if (sc->len - sc->pos < 2 || sc->s[sc->pos] != '\\' ||
				sc->s[sc->pos + 1] != 'u')
				return hp_syntax(sc, "lone high surrogate in a string");
			sc->pos += 2;
			if (!hp_read_u4(sc, &lo))
				return hp_syntax(sc, "invalid \\u escape in a string");
			if (lo < 0xDC00 || lo > 0xDFFF)
				return hp_syntax(sc, "lone high surrogate in a string");
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		}
		if (cp == 0)
			return mlc_fail(sc->err, MLC_EINVAL, NULL,
							"hyperparameter name contains \\u0000");
		if (cp < 0x80)
		{
			utf8[0] = (char) cp;
			n = 1;
		}
		else if (cp < 0x800)
		{
			utf8[0] = (char) (0xC0 | (cp >> 6));
			utf8[1] = (char) (0x80 | (cp & 0x3F));
			n = 2;
		}
		else if (cp < 0x10000)
		{
			utf8[0] = (char) (0xE0 | (cp >> 12));
			utf8[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
			utf8[2] = (char) (0x80 | (cp & 0x3F));
			n = 3;
		}
		else
		{
			utf8[0] = (char) (0xF0 | (cp >> 18));
			utf8[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
			utf8[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
			utf8[3] = (char) (0x80 | (cp & 0x3F));
			n = 4;
		}
		hp_key_put(key, &klen, utf8, n);
	}
}

static int
hp_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/*
 * The value of key at sc->pos: a JSON number, converted to a finite double.
 * Any other JSON value (string, object, array, literal) is "not a number".
 */
static mlc_status
hp_parse_number(hp_scan *sc, const char *key, double *value)
{
	size_t		start = sc->pos;
	size_t		n;
	char		stackbuf[HP_NUM_STACK];
	char	   *tok;
	double		d;
	int			c = hp_peek(sc);

	if (c == '-')
	{
		sc->pos++;
		c = hp_peek(sc);
	}
	if (!hp_is_digit(c))
	{
		if (sc->pos == start && c != -1 &&
			(c == '"' || c == '{' || c == '[' || c == 't' || c == 'f' || c == 'n'))
			return mlc_fail(sc->err, MLC_EINVAL, NULL,
							"hyperparameter \"%.64s\" must be a number", key);
		return hp_syntax(sc, "expected a number");
	}
	if (c == '0')
		sc->pos++;
	else
		while (hp_is_digit(hp_peek(sc)))
			sc->pos++;
	if (hp_peek(sc) == '.')
	{
		sc->pos++;
		if (!hp_is_digit(hp_peek(sc)))
			return hp_syntax(sc, "expected a digit after the decimal point");
		while (hp_is_digit(hp_peek(sc)))
			sc->pos++;
	}
	c = hp_peek(sc);
	if (c == 'e' || c == 'E')
	{
		sc->pos++;
		c = hp_peek(sc);
		if (c == '+' || c == '-')
			sc->pos++;
		if (!hp_is_digit(hp_peek(sc)))
			return hp_syntax(sc, "expected a digit in the exponent");
		while (hp_is_digit(hp_peek(sc)))
			sc->pos++;
	}

	n = sc->pos - start;
	tok = stackbuf;
	if (n >= sizeof(stackbuf))
	{
		tok = mlc_alloc(n + 1);
		if (tok == NULL)
			return mlc_fail(sc->err, MLC_ENOMEM, NULL,
							"out of memory parsing hyperparams");
	}
	memcpy(tok, sc->s + start, n);
	tok[n] = '\0';
	/* The grammar was checked above, so strtod consumes the whole token. */
	d = strtod(tok, NULL);
	if (tok != stackbuf)
		mlc_free(tok);
	if (!isfinite(d))
	{
		char		detail[96];

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
	hp_scan		sc;
	mlc_hparams work;
	const mlc_hparam_spec *specs;
	char		key[HP_KEY_MAX];
	unsigned char seen[32];		/* one flag per spec (there are fewer than 32) */
	double		value = 0.0;
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

	sc.s = json;
	sc.len = len;
	sc.pos = 0;
	sc.err = err;

	hp_skip_ws(&sc);
	if (hp_peek(&sc) != '{')
		return mlc_fail(err, MLC_EINVAL, NULL, "hyperparams must be a JSON object");
	sc.pos++;
	hp_skip_ws(&sc);
	if (hp_peek(&sc) == '}')
		sc.pos++;
	else
	{
		for (;;)
		{
			hp_skip_ws(&sc);
			if (hp_peek(&sc) != '"')
				return hp_syntax(&sc, "expected a string key");
			if ((st = hp_parse_key(&sc, key)) != MLC_OK)
				return st;
			for (i = 0; i < nspecs; i++)
				if (seen[i] && strcmp(specs[i].name, key) == 0)
					return mlc_fail(err, MLC_EINVAL, NULL,
									"duplicate hyperparameter \"%.64s\"", key);
			hp_skip_ws(&sc);
			if (hp_peek(&sc) != ':')
				return hp_syntax(&sc, "expected ':' after a key");
			sc.pos++;
			hp_skip_ws(&sc);
			if ((st = hp_parse_number(&sc, key, &value)) != MLC_OK)
				return st;
			if ((st = mlc_hparams_set(alg, &work, key, value, err)) != MLC_OK)
				return st;
			for (i = 0; i < nspecs; i++)
				if (strcmp(specs[i].name, key) == 0)
					seen[i] = 1;
			hp_skip_ws(&sc);
			c = hp_peek(&sc);
			if (c != '}' && c != ',')
				return hp_syntax(&sc, "expected ',' or '}'");
			sc.pos++;
			if (c == '}')
				break;
		}
	}
	hp_skip_ws(&sc);
	if (sc.pos < sc.len)
		return hp_syntax(&sc, "unexpected characters after the object");
	*hp = work;
	return MLC_OK;
}
