/*
 * plan.c: the training plan's byte encoding (layout in wire.h).
 *
 * The engine hands the plan to its parallel workers and, as the plan
 * argument of ml._pass, to SQL, where any role can pass other bytes; so
 * the decoder trusts nothing: every count is capped and checked against
 * the bytes left before anything is allocated, strings with NUL bytes are
 * rejected, and the decoded plan must be consistent (encoder widths, p,
 * attribute numbers, class values) before it is returned.
 */
#include <stdio.h>
#include <string.h>

#include "wire.h"

#define PLAN_MAX_CLASSES 1000000
#define PLAN_MAX_INPUTS 100000
#define PLAN_MAX_CATEGORIES 1000000
#define PLAN_MAX_P 1000000
#define PLAN_MAX_STR 0x3fffffff

/* ---------- encode ---------- */

typedef struct pwriter
{
	uint8_t    *p;				/* NULL: count only */
	uint64_t	n;
} pwriter;

static void
w_bytes(pwriter *w, const void *src, size_t len)
{
	if (w->p != NULL && len > 0)
		memcpy(w->p + w->n, src, len);
	w->n += len;
}

static void
w_u32(pwriter *w, uint32_t v)
{
	uint8_t		b[4] = {(uint8_t) v, (uint8_t) (v >> 8), (uint8_t) (v >> 16), (uint8_t) (v >> 24)};

	w_bytes(w, b, 4);
}

static void
w_u8(pwriter *w, int v)
{
	uint8_t		b = (uint8_t) v;

	w_bytes(w, &b, 1);
}

static void
w_f64(pwriter *w, double d)
{
	uint64_t	v;
	uint8_t		b[8];
	int			i;

	memcpy(&v, &d, sizeof(v));
	for (i = 0; i < 8; i++)
		b[i] = (uint8_t) (v >> (8 * i));
	w_bytes(w, b, 8);
}

static void
w_str(pwriter *w, const char *s)
{
	size_t		l = strlen(s);

	w_u32(w, (uint32_t) l);
	w_bytes(w, s, l);
}

static void
write_plan(const mlc_plan *pl, pwriter *w)
{
	int			i,
				k;

	w_bytes(w, MLC_PLAN_MAGIC, 4);
	w_u32(w, MLC_PLAN_VERSION);
	w_u32(w, (uint32_t) pl->target_kind);
	w_u32(w, (uint32_t) pl->target_attnum);
	w_u32(w, pl->target_typid);
	w_u32(w, (uint32_t) pl->p);
	w_u32(w, (uint32_t) pl->folds);
	w_u8(w, pl->use_aggregates ? 1 : 0);
	w_u8(w, pl->missing_as_nan ? 1 : 0);
	w_u32(w, (uint32_t) pl->seed);
	w_u32(w, (uint32_t) pl->n_classes);
	for (i = 0; i < pl->n_classes; i++)
		w_str(w, pl->classes[i]);
	w_u8(w, pl->class_values != NULL);
	if (pl->class_values != NULL)
		for (i = 0; i < pl->n_classes; i++)
			w_f64(w, pl->class_values[i]);
	w_u32(w, (uint32_t) pl->n_inputs);
	for (i = 0; i < pl->n_inputs; i++)
	{
		const mlc_encoder *e = &pl->enc[i];

		w_u32(w, (uint32_t) pl->attnums[i]);
		w_u32(w, pl->typids[i]);
		w_str(w, e->column);
		w_u32(w, (uint32_t) e->kind);
		w_u32(w, (uint32_t) e->width);
		w_f64(w, e->impute);
		w_u32(w, (uint32_t) e->n_categories);
		for (k = 0; k < e->n_categories; k++)
			w_str(w, e->categories[k]);
		w_u8(w, e->has_other ? 1 : 0);
		w_u8(w, e->drop_first ? 1 : 0);
	}
}

static mlc_status plan_validate(const mlc_plan *pl, mlc_error *err);

mlc_status
mlc_plan_encode(const mlc_plan *plan, uint8_t **out, size_t *out_len, mlc_error *err)
{
	pwriter		w = {NULL, 0};
	mlc_status	st;

	*out = NULL;
	*out_len = 0;
	if ((st = plan_validate(plan, err)) != MLC_OK)
		return st;
	write_plan(plan, &w);
	if (w.n > (uint64_t) SIZE_MAX / 2)
		return mlc_fail(err, MLC_EINVAL, NULL, "training plan too large to encode");
	w.p = mlc_alloc((size_t) w.n);
	if (w.p == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory encoding the training plan");
	w.n = 0;
	write_plan(plan, &w);
	*out = w.p;
	*out_len = (size_t) w.n;
	return MLC_OK;
}

/* ---------- decode ---------- */

static const char plan_detail[] =
"The bytes are not a training plan written by pg_mlops of this version.";

static mlc_status
corrupt(mlc_error *err, const char *what)
{
	return mlc_fail(err, MLC_ECORRUPT, plan_detail, "malformed training plan: %s", what);
}

typedef struct preader
{
	const uint8_t *p;
	size_t		left;
} preader;

static int
r_u8(preader *r, uint32_t *v)
{
	if (r->left < 1)
		return 0;
	*v = r->p[0];
	r->p++;
	r->left--;
	return 1;
}

static int
r_u32(preader *r, uint32_t *v)
{
	if (r->left < 4)
		return 0;
	*v = (uint32_t) r->p[0] | ((uint32_t) r->p[1] << 8) | ((uint32_t) r->p[2] << 16) |
		((uint32_t) r->p[3] << 24);
	r->p += 4;
	r->left -= 4;
	return 1;
}

static int
r_f64(preader *r, double *d)
{
	uint64_t	v = 0;
	int			i;

	if (r->left < 8)
		return 0;
	for (i = 0; i < 8; i++)
		v |= (uint64_t) r->p[i] << (8 * i);
	memcpy(d, &v, sizeof(v));
	r->p += 8;
	r->left -= 8;
	return 1;
}

/* A count of items of at least min_bytes each that the bytes left can hold. */
static int
r_count(preader *r, uint32_t cap, size_t min_bytes, uint32_t *n)
{
	return r_u32(r, n) && *n <= cap && (uint64_t) *n * min_bytes <= r->left;
}

/* A string of at least min_len bytes without NUL, as a fresh C string; 0 when not there. */
static int
r_str(preader *r, uint32_t min_len, char **out)
{
	uint32_t	l;

	*out = NULL;
	if (!r_u32(r, &l) || l > r->left || l < min_len || l > PLAN_MAX_STR)
		return 0;
	if (l > 0 && memchr(r->p, '\0', l) != NULL)
		return 0;
	*out = mlc_alloc((size_t) l + 1);
	if (*out == NULL)
		return 0;
	if (l > 0)
		memcpy(*out, r->p, l);
	(*out)[l] = '\0';
	r->p += l;
	r->left -= l;
	return 1;
}

static void *
alloc0(uint32_t n, size_t size)
{
	return mlc_alloc0((size_t) (n > 0 ? n : 1) * size);
}

void
mlc_strings_free(char **s, int n)
{
	int			i;

	if (s == NULL)
		return;
	for (i = 0; i < n; i++)
		mlc_free(s[i]);
	mlc_free(s);
}

void
mlc_encoders_free(mlc_encoder *enc, int n)
{
	int			i;

	if (enc == NULL)
		return;
	for (i = 0; i < n; i++)
	{
		mlc_free(enc[i].column);
		mlc_strings_free(enc[i].categories, enc[i].n_categories);
	}
	mlc_free(enc);
}

void
mlc_plan_free(mlc_plan *pl)
{
	mlc_strings_free(pl->classes, pl->n_classes);
	mlc_free(pl->class_values);
	mlc_encoders_free(pl->enc, pl->n_inputs);
	mlc_free(pl->attnums);
	mlc_free(pl->typids);
	memset(pl, 0, sizeof(*pl));
}

/* Consistency of a plan, decoded or about to be encoded. */
static mlc_status
plan_validate(const mlc_plan *pl, mlc_error *err)
{
	int64_t		p = 0;
	int			i;

	if (pl->target_kind < 0 || pl->target_kind > 2)
		return corrupt(err, "unknown target kind");
	if (pl->target_kind != 0 &&
		(pl->target_attnum < 1 || pl->target_attnum > MLC_PLAN_MAX_ATTNUM))
		return corrupt(err, "target column number out of range");
	if (pl->n_classes < 0 || pl->n_classes > PLAN_MAX_CLASSES ||
		pl->n_inputs < 0 || pl->n_inputs > PLAN_MAX_INPUTS)
		return corrupt(err, "class or input count out of range");
	if (pl->target_kind == 2 ? pl->n_classes < 1 : (pl->n_classes != 0 || pl->class_values != NULL))
		return corrupt(err, "the classes disagree with the target kind");
	if (pl->folds < 0 || pl->folds > 255)
		return corrupt(err, "fold count out of range");
	for (i = 0; i < pl->n_inputs; i++)
	{
		const mlc_encoder *e = &pl->enc[i];

		if (pl->attnums[i] < 1 || pl->attnums[i] > MLC_PLAN_MAX_ATTNUM)
			return corrupt(err, "input column number out of range");
		if (e->column == NULL || e->column[0] == '\0')
			return corrupt(err, "input without a column name");
		if ((e->has_other != 0 && e->has_other != 1) || (e->drop_first != 0 && e->drop_first != 1))
			return corrupt(err, "encoder flag out of range");
		if (e->n_categories < 0 || e->n_categories > PLAN_MAX_CATEGORIES)
			return corrupt(err, "category count out of range");
		switch (e->kind)
		{
			case MLC_ENC_NUMBER:
			case MLC_ENC_BOOL:
			case MLC_ENC_TIME:
				if (e->width != 1 || e->n_categories != 0 || e->has_other || e->drop_first)
					return corrupt(err, "numeric encoder with categories or a width other than 1");
				break;
			case MLC_ENC_CATEGORY:
				if (e->width < 0 || e->drop_first > e->n_categories ||
					e->width != e->n_categories - e->drop_first + e->has_other)
					return corrupt(err, "category encoder width disagrees with its categories");
				break;
			default:
				return corrupt(err, "unknown encoder kind");
		}
		p += e->width;
	}
	if (p != pl->p || p > PLAN_MAX_P)
		return corrupt(err, "feature count disagrees with the encoders' widths");
	return MLC_OK;
}

#define NEED(cond, what) \
	do { if (!(cond)) { st = corrupt(err, what); goto fail; } } while (0)

mlc_status
mlc_plan_decode(const uint8_t *buf, size_t len, mlc_plan *pl, mlc_error *err)
{
	preader		r = {buf, len};
	uint32_t	v,
				n,
				i,
				k;
	mlc_status	st;

	memset(pl, 0, sizeof(*pl));
	NEED(buf != NULL && len >= 8 && memcmp(buf, MLC_PLAN_MAGIC, 4) == 0, "wrong magic number");
	r.p += 4;
	r.left -= 4;
	NEED(r_u32(&r, &v) && v == MLC_PLAN_VERSION, "unknown version");
	NEED(r_u32(&r, &v) && v <= 2, "unknown target kind");
	pl->target_kind = (int) v;
	NEED(r_u32(&r, &v) && v <= MLC_PLAN_MAX_ATTNUM, "target column number out of range");
	pl->target_attnum = (int) v;
	NEED(r_u32(&r, &pl->target_typid), "truncated header");
	NEED(r_u32(&r, &v) && v <= PLAN_MAX_P, "feature count out of range");
	pl->p = (int) v;
	NEED(r_u32(&r, &v) && v <= 255, "fold count out of range");
	pl->folds = (int) v;
	NEED(r_u8(&r, &v) && v <= 1, "truncated or invalid flags");
	pl->use_aggregates = (int) v;
	NEED(r_u8(&r, &v) && v <= 1, "truncated or invalid flags");
	pl->missing_as_nan = (int) v;
	NEED(r_u32(&r, &v), "truncated header");
	pl->seed = (int32_t) v;

	NEED(r_count(&r, PLAN_MAX_CLASSES, 4, &n), "truncated or invalid class count");
	pl->classes = alloc0(n, sizeof(char *));
	if (pl->classes == NULL)
		goto nomem;
	pl->n_classes = (int) n;
	for (i = 0; i < n; i++)
		NEED(r_str(&r, 0, &pl->classes[i]), "truncated or invalid class label");
	NEED(r_u8(&r, &v) && v <= 1, "truncated or invalid class values flag");
	if (v)
	{
		NEED((uint64_t) n * 8 <= r.left, "truncated class values");
		pl->class_values = alloc0(n, sizeof(double));
		if (pl->class_values == NULL)
			goto nomem;
		for (i = 0; i < n; i++)
			NEED(r_f64(&r, &pl->class_values[i]), "truncated class values");
	}

	/* an input takes at least 34 bytes */
	NEED(r_count(&r, PLAN_MAX_INPUTS, 34, &n), "truncated or invalid input count");
	pl->attnums = alloc0(n, sizeof(int));
	pl->typids = alloc0(n, sizeof(uint32_t));
	pl->enc = alloc0(n, sizeof(mlc_encoder));
	if (pl->attnums == NULL || pl->typids == NULL || pl->enc == NULL)
		goto nomem;
	pl->n_inputs = (int) n;
	for (i = 0; i < n; i++)
	{
		mlc_encoder *e = &pl->enc[i];

		NEED(r_u32(&r, &v) && v >= 1 && v <= MLC_PLAN_MAX_ATTNUM, "input column number out of range");
		pl->attnums[i] = (int) v;
		NEED(r_u32(&r, &pl->typids[i]), "truncated input");
		NEED(r_str(&r, 1, &e->column), "truncated or invalid column name");
		NEED(r_u32(&r, &v) && v >= MLC_ENC_NUMBER && v <= MLC_ENC_CATEGORY, "unknown encoder kind");
		e->kind = (mlc_encoder_kind) v;
		NEED(r_u32(&r, &v) && v <= PLAN_MAX_P, "encoder width out of range");
		e->width = (int) v;
		NEED(r_f64(&r, &e->impute), "truncated input");
		NEED(r_count(&r, PLAN_MAX_CATEGORIES, 4, &v), "truncated or invalid category count");
		e->categories = alloc0(v, sizeof(char *));
		if (e->categories == NULL)
			goto nomem;
		e->n_categories = (int) v;
		for (k = 0; k < v; k++)
			NEED(r_str(&r, 0, &e->categories[k]), "truncated or invalid category");
		NEED(r_u8(&r, &v) && v <= 1, "truncated or invalid encoder flags");
		e->has_other = (int) v;
		NEED(r_u8(&r, &v) && v <= 1, "truncated or invalid encoder flags");
		e->drop_first = (int) v;
	}
	NEED(r.left == 0, "bytes after the last input");
	if ((st = plan_validate(pl, err)) != MLC_OK)
		goto fail;
	return MLC_OK;

nomem:
	st = mlc_fail(err, MLC_ENOMEM, NULL, "out of memory decoding the training plan");
fail:
	mlc_plan_free(pl);
	return st;
}
