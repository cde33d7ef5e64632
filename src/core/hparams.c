/*
 * hparams.c: algorithm names and hyperparameter validation.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"

static const mlc_hparam_spec ridge_specs[] = {
	{"alpha", 1.0, 0.0, 1e300, 0},
};

mlc_algorithm
mlc_algorithm_from_name(const char *name)
{
	if (name == NULL)
		return (mlc_algorithm) 0;
	if (strcmp(name, "linear_regression") == 0)
		return MLC_ALG_LINEAR;
	if (strcmp(name, "ridge") == 0)
		return MLC_ALG_RIDGE;
	return (mlc_algorithm) 0;
}

/* "unknown" (never NULL) for an id that is not an algorithm. */
const char *
mlc_algorithm_name(mlc_algorithm alg)
{
	switch (alg)
	{
		case MLC_ALG_LINEAR:
			return "linear_regression";
		case MLC_ALG_RIDGE:
			return "ridge";
	}
	return "unknown";
}

const char *
mlc_algorithm_names(void)
{
	return "linear_regression, ridge";
}

const mlc_hparam_spec *
mlc_hparam_specs(mlc_algorithm alg, int *n)
{
	int			count = 0;
	const mlc_hparam_spec *specs = NULL;

	if (alg == MLC_ALG_RIDGE)
	{
		specs = ridge_specs;
		count = (int) (sizeof(ridge_specs) / sizeof(ridge_specs[0]));
	}
	if (n != NULL)
		*n = count;
	return specs;
}

void
mlc_hparams_defaults(mlc_algorithm alg, mlc_hparams *hp)
{
	hp->alpha = 0.0;
	if (alg == MLC_ALG_RIDGE)
		hp->alpha = ridge_specs[0].default_value;
}

static double *
hparam_slot(mlc_hparams *hp, const char *key)
{
	if (strcmp(key, "alpha") == 0)
		return &hp->alpha;
	return NULL;
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

	if (alg != MLC_ALG_LINEAR && alg != MLC_ALG_RIDGE)
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
		if (strcmp(specs[i].name, key) == 0 && strcmp(key, "alpha") == 0)
			return hp->alpha;
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
	unsigned char seen[8];		/* one flag per spec (there are fewer than 8) */
	double		value = 0.0;
	mlc_status	st;
	int			nspecs,
				i,
				c;

	if (alg != MLC_ALG_LINEAR && alg != MLC_ALG_RIDGE)
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
