/*
 * json.c: the core's bounded JSON scanner (interface in json.h).
 *
 * Used for the JSON text that reaches the core from SQL: hyperparameters,
 * jsonb training plans and drift specs (the glue prints the jsonb with
 * JsonbToCString).  Every read is checked against len, numbers are checked
 * against the JSON grammar before strtod sees a NUL-terminated copy, and
 * nesting is walked with an explicit, bounded stack.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define NUM_STACK 128			/* number tokens up to this long need no allocation */
#define KEY_MAX 64				/* decoded key bytes compared (longer keys match nothing) */

void
mlc_json_init(mlc_json *j, const char *s, size_t len, mlc_error *err,
			  const char *what, const char *msg)
{
	j->s = s;
	j->len = s == NULL ? 0 : len;
	j->pos = 0;
	j->err = err;
	j->what = what;
	j->msg = msg;
}

static int
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

void
mlc_json_skip_ws(mlc_json *j)
{
	while (j->pos < j->len && is_ws((unsigned char) j->s[j->pos]))
		j->pos++;
}

int
mlc_json_peek(const mlc_json *j)
{
	return j->pos < j->len ? (unsigned char) j->s[j->pos] : -1;
}

mlc_status
mlc_json_syntax(mlc_json *j, const char *reason)
{
	char		detail[160];

	if (j->msg != NULL)
	{
		if (j->pos >= j->len)
			snprintf(detail, sizeof(detail),
					 "The JSON text is invalid: %s at its end.", reason);
		else
			snprintf(detail, sizeof(detail),
					 "The JSON text is invalid: %s at byte offset %zu.", reason, j->pos);
		return mlc_fail(j->err, MLC_EINVAL, detail, "%s", j->msg);
	}
	if (j->pos >= j->len)
		return mlc_fail(j->err, MLC_EINVAL, "The input ended unexpectedly.",
						"invalid %s JSON: %s", j->what, reason);
	snprintf(detail, sizeof(detail), "At byte offset %zu.", j->pos);
	return mlc_fail(j->err, MLC_EINVAL, detail, "invalid %s JSON: %s", j->what, reason);
}

/* 1 when the literal word is at pos. */
static int
literal_at(const mlc_json *j, const char *word)
{
	size_t		n = strlen(word);

	return j->len - j->pos >= n && memcmp(j->s + j->pos, word, n) == 0;
}

mlc_json_type
mlc_json_type_at(const mlc_json *j)
{
	int			c = mlc_json_peek(j);

	switch (c)
	{
		case '{':
			return MLC_JSON_OBJECT;
		case '[':
			return MLC_JSON_ARRAY;
		case '"':
			return MLC_JSON_STRING;
		case 't':
			return literal_at(j, "true") ? MLC_JSON_TRUE : MLC_JSON_BAD;
		case 'f':
			return literal_at(j, "false") ? MLC_JSON_FALSE : MLC_JSON_BAD;
		case 'n':
			return literal_at(j, "null") ? MLC_JSON_NULL : MLC_JSON_BAD;
		default:
			return c == '-' || is_digit(c) ? MLC_JSON_NUMBER : MLC_JSON_BAD;
	}
}

static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at pos into *cp; advances past them. */
static int
read_u4(mlc_json *j, unsigned *cp)
{
	unsigned	v = 0;
	int			i,
				h;

	if (j->len - j->pos < 4)
		return 0;
	for (i = 0; i < 4; i++)
	{
		h = hex_value((unsigned char) j->s[j->pos + i]);
		if (h < 0)
			return 0;
		v = (v << 4) | (unsigned) h;
	}
	j->pos += 4;
	*cp = v;
	return 1;
}

/* Append bytes to buf (cap bytes, NUL included), dropping what does not fit. */
static void
put_bytes(char *buf, size_t cap, size_t *used, const char *bytes, size_t n)
{
	if (buf != NULL && cap > 0 && *used < cap - 1)
	{
		size_t		room = cap - 1 - *used;

		memcpy(buf + *used, bytes, n < room ? n : room);
		buf[*used + (n < room ? n : room)] = '\0';
	}
	*used += n;
}

mlc_status
mlc_json_string(mlc_json *j, char *buf, size_t cap, size_t *decoded, int *has_nul)
{
	size_t		used = 0;
	char		utf8[4];
	size_t		n;
	unsigned	cp,
				lo;
	int			c;

	if (buf != NULL && cap > 0)
		buf[0] = '\0';
	*decoded = 0;
	*has_nul = 0;
	if (mlc_json_peek(j) != '"')
		return mlc_json_syntax(j, "expected a string");
	j->pos++;
	for (;;)
	{
		c = mlc_json_peek(j);
		if (c < 0)
			return mlc_json_syntax(j, "unterminated string");
		if (c == '"')
		{
			j->pos++;
			*decoded = used;
			return MLC_OK;
		}
		if (c < 0x20)
			return mlc_json_syntax(j, "control character in a string");
		if (c != '\\')
		{
			size_t		start = j->pos;

			/* the run of plain bytes in one go */
			while (j->pos < j->len)
			{
				c = (unsigned char) j->s[j->pos];
				if (c == '"' || c == '\\' || c < 0x20)
					break;
				j->pos++;
			}
			put_bytes(buf, cap, &used, j->s + start, j->pos - start);
			continue;
		}
		j->pos++;				/* backslash */
		c = mlc_json_peek(j);
		if (c < 0)
			return mlc_json_syntax(j, "unterminated string");
		j->pos++;
		switch (c)
		{
			case '"':
			case '\\':
			case '/':
				utf8[0] = (char) c;
				put_bytes(buf, cap, &used, utf8, 1);
				continue;
			case 'b':
				put_bytes(buf, cap, &used, "\b", 1);
				continue;
			case 'f':
				put_bytes(buf, cap, &used, "\f", 1);
				continue;
			case 'n':
				put_bytes(buf, cap, &used, "\n", 1);
				continue;
			case 'r':
				put_bytes(buf, cap, &used, "\r", 1);
				continue;
			case 't':
				put_bytes(buf, cap, &used, "\t", 1);
				continue;
			case 'u':
				break;
			default:
				j->pos--;
				return mlc_json_syntax(j, "invalid escape in a string");
		}
		if (!read_u4(j, &cp))
			return mlc_json_syntax(j, "invalid \\u escape in a string");
		if (cp >= 0xDC00 && cp <= 0xDFFF)
			return mlc_json_syntax(j, "lone low surrogate in a string");
		if (cp >= 0xD800 && cp <= 0xDBFF)
		{
			if (j->len - j->pos < 2 || j->s[j->pos] != '\\' || j->s[j->pos + 1] != 'u')
				return mlc_json_syntax(j, "lone high surrogate in a string");
			j->pos += 2;
			if (!read_u4(j, &lo))
				return mlc_json_syntax(j, "invalid \\u escape in a string");
			if (lo < 0xDC00 || lo > 0xDFFF)
				return mlc_json_syntax(j, "lone high surrogate in a string");
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		}
		if (cp == 0)
		{
			*has_nul = 1;
			continue;
		}
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
		put_bytes(buf, cap, &used, utf8, n);
	}
}

/* The number token at pos, checked against the grammar; pos moves past it. */
static mlc_status
scan_number(mlc_json *j)
{
	int			c = mlc_json_peek(j);

	if (c == '-')
	{
		j->pos++;
		c = mlc_json_peek(j);
	}
	if (!is_digit(c))
		return mlc_json_syntax(j, "expected a number");
	if (c == '0')
		j->pos++;
	else
		while (is_digit(mlc_json_peek(j)))
			j->pos++;
	if (mlc_json_peek(j) == '.')
	{
		j->pos++;
		if (!is_digit(mlc_json_peek(j)))
			return mlc_json_syntax(j, "expected a digit after the decimal point");
		while (is_digit(mlc_json_peek(j)))
			j->pos++;
	}
	c = mlc_json_peek(j);
	if (c == 'e' || c == 'E')
	{
		j->pos++;
		c = mlc_json_peek(j);
		if (c == '+' || c == '-')
			j->pos++;
		if (!is_digit(mlc_json_peek(j)))
			return mlc_json_syntax(j, "expected a digit in the exponent");
		while (is_digit(mlc_json_peek(j)))
			j->pos++;
	}
	return MLC_OK;
}

mlc_status
mlc_json_number(mlc_json *j, double *value, int *range)
{
	size_t		start = j->pos;
	size_t		n;
	char		stackbuf[NUM_STACK];
	char	   *tok;
	double		d;
	int			overflow;
	mlc_status	st;

	if ((st = scan_number(j)) != MLC_OK)
		return st;
	n = j->pos - start;
	tok = stackbuf;
	if (n >= sizeof(stackbuf))
	{
		tok = mlc_alloc(n + 1);
		if (tok == NULL)
			return mlc_fail(j->err, MLC_ENOMEM, NULL, "out of memory reading a JSON number");
	}
	memcpy(tok, j->s + start, n);
	tok[n] = '\0';
	/* The grammar was checked above, so strtod consumes the whole token. */
	errno = 0;
	d = strtod(tok, NULL);
	overflow = errno == ERANGE && (d == 0.0 || isinf(d));
	if (tok != stackbuf)
		mlc_free(tok);
	*value = d;
	if (range != NULL)
		*range = overflow;
	return MLC_OK;
}

/* Container kinds on the skip stack, one bit per level: 1 object, 0 array. */
static void
stack_set(unsigned char *bits, int depth, int is_object)
{
	if (is_object)
		bits[depth >> 3] |= (unsigned char) (1u << (depth & 7));
	else
		bits[depth >> 3] &= (unsigned char) ~(1u << (depth & 7));
}

static int
stack_is_object(const unsigned char *bits, int depth)
{
	return (bits[depth >> 3] >> (depth & 7)) & 1;
}

mlc_status
mlc_json_skip(mlc_json *j)
{
	unsigned char kinds[MLC_JSON_MAX_DEPTH / 8];
	int			depth = 0;		/* open containers */
	int			want_key = 0;	/* next: a key (in an object) instead of a value */
	size_t		dlen;
	int			nul,
				c;
	mlc_status	st;

	for (;;)
	{
		mlc_json_skip_ws(j);
		if (want_key)
		{
			if (mlc_json_peek(j) != '"')
				return mlc_json_syntax(j, "expected a string key");
			if ((st = mlc_json_string(j, NULL, 0, &dlen, &nul)) != MLC_OK)
				return st;
			mlc_json_skip_ws(j);
			if (mlc_json_peek(j) != ':')
				return mlc_json_syntax(j, "expected ':' after a key");
			j->pos++;
			want_key = 0;
			continue;
		}

		/* a value */
		switch (mlc_json_type_at(j))
		{
			case MLC_JSON_OBJECT:
			case MLC_JSON_ARRAY:
				if (depth >= MLC_JSON_MAX_DEPTH)
					return mlc_json_syntax(j, "nesting too deep");
				c = mlc_json_peek(j);
				stack_set(kinds, depth++, c == '{');
				j->pos++;
				mlc_json_skip_ws(j);
				if (mlc_json_peek(j) == (c == '{' ? '}' : ']'))
				{
					j->pos++;
					depth--;
					break;		/* an empty container: a complete value */
				}
				want_key = c == '{';
				continue;
			case MLC_JSON_STRING:
				if ((st = mlc_json_string(j, NULL, 0, &dlen, &nul)) != MLC_OK)
					return st;
				break;
			case MLC_JSON_NUMBER:
				if ((st = scan_number(j)) != MLC_OK)
					return st;
				break;
			case MLC_JSON_TRUE:
				j->pos += 4;
				break;
			case MLC_JSON_FALSE:
				j->pos += 5;
				break;
			case MLC_JSON_NULL:
				j->pos += 4;
				break;
			default:
				return mlc_json_syntax(j, "expected a value");
		}

		/* after a complete value: close containers or go on to the next item */
		for (;;)
		{
			int			in_object;

			if (depth == 0)
				return MLC_OK;
			in_object = stack_is_object(kinds, depth - 1);
			mlc_json_skip_ws(j);
			c = mlc_json_peek(j);
			if (c == ',')
			{
				j->pos++;
				want_key = in_object;
				break;
			}
			if (c != (in_object ? '}' : ']'))
				return mlc_json_syntax(j, in_object ? "expected ',' or '}'" : "expected ',' or ']'");
			j->pos++;
			depth--;
		}
	}
}

mlc_status
mlc_json_object_fields(mlc_json *j, const char *const *keys, int nkeys, size_t *at)
{
	char		key[KEY_MAX];
	size_t		klen;
	int			nul,
				i,
				c;
	mlc_status	st;

	for (i = 0; i < nkeys; i++)
		at[i] = MLC_JSON_ABSENT;
	if (mlc_json_peek(j) != '{')
		return mlc_json_syntax(j, "expected an object");
	j->pos++;
	mlc_json_skip_ws(j);
	if (mlc_json_peek(j) == '}')
	{
		j->pos++;
		return MLC_OK;
	}
	for (;;)
	{
		int			match = -1;

		mlc_json_skip_ws(j);
		if (mlc_json_peek(j) != '"')
			return mlc_json_syntax(j, "expected a string key");
		if ((st = mlc_json_string(j, key, sizeof(key), &klen, &nul)) != MLC_OK)
			return st;
		if (!nul && klen < sizeof(key))
			for (i = 0; i < nkeys; i++)
				if (strcmp(keys[i], key) == 0)
					match = i;
		mlc_json_skip_ws(j);
		if (mlc_json_peek(j) != ':')
			return mlc_json_syntax(j, "expected ':' after a key");
		j->pos++;
		mlc_json_skip_ws(j);
		if (match >= 0)
			at[match] = mlc_json_type_at(j) == MLC_JSON_NULL ? MLC_JSON_ABSENT : j->pos;
		if ((st = mlc_json_skip(j)) != MLC_OK)
			return st;
		mlc_json_skip_ws(j);
		c = mlc_json_peek(j);
		if (c != '}' && c != ',')
			return mlc_json_syntax(j, "expected ',' or '}'");
		j->pos++;
		if (c == '}')
			return MLC_OK;
	}
}

mlc_status
mlc_json_array_count(mlc_json *j, int64_t cap, int64_t *n)
{
	size_t		start = j->pos;
	int			more;
	mlc_status	st;

	*n = 0;
	if ((st = mlc_json_array_first(j, &more)) != MLC_OK)
		return st;
	while (more)
	{
		if (*n > cap)
			break;
		if ((st = mlc_json_skip(j)) != MLC_OK)
			return st;
		(*n)++;
		if ((st = mlc_json_array_next(j, &more)) != MLC_OK)
			return st;
	}
	j->pos = start;
	return MLC_OK;
}

mlc_status
mlc_json_array_first(mlc_json *j, int *more)
{
	*more = 0;
	if (mlc_json_peek(j) != '[')
		return mlc_json_syntax(j, "expected an array");
	j->pos++;
	mlc_json_skip_ws(j);
	if (mlc_json_peek(j) == ']')
	{
		j->pos++;
		return MLC_OK;
	}
	*more = 1;
	return MLC_OK;
}

mlc_status
mlc_json_array_next(mlc_json *j, int *more)
{
	int			c;

	*more = 0;
	mlc_json_skip_ws(j);
	c = mlc_json_peek(j);
	if (c == ',')
	{
		j->pos++;
		mlc_json_skip_ws(j);
		*more = 1;
		return MLC_OK;
	}
	if (c != ']')
		return mlc_json_syntax(j, "expected ',' or ']'");
	j->pos++;
	return MLC_OK;
}
