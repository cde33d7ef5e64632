/*
 * jsondoc.c: the JSON documents SQL hands to the C code, decoded and
 * checked in the core (fields in wire.h): the training plan of ml._fit and
 * the drift spec of ml._drift_profile.
 *
 * Any role can call those functions with any jsonb, so nothing is trusted:
 * the whole text is first checked as JSON by the bounded scanner (json.c,
 * no recursion), then every field is looked up, type checked and range
 * checked before it is used, and every array is counted and capped before
 * anything is allocated for it.  The checks run in the order the glue ran
 * them on the jsonb, so the first problem reported is the same.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "wire.h"

static const char plan_msg[] = "malformed training plan";
static const char spec_msg[] = "malformed drift spec";

/* The whole text is one JSON value (with white space around it). */
static mlc_status
check_document(mlc_json *j)
{
	mlc_status	st;

	if (j->len > 0 && memchr(j->s, '\0', j->len) != NULL)
		return mlc_fail(j->err, MLC_EINVAL, "The JSON text contains a NUL byte.", "%s", j->msg);
	mlc_json_skip_ws(j);
	if ((st = mlc_json_skip(j)) != MLC_OK)
		return st;
	mlc_json_skip_ws(j);
	if (j->pos < j->len)
		return mlc_json_syntax(j, "unexpected characters after the value");
	j->pos = 0;
	mlc_json_skip_ws(j);
	return MLC_OK;
}

/* The string at pos (type checked by the caller) into a new allocation. */
static mlc_status
read_string(mlc_json *j, char **out, int *has_nul)
{
	size_t		start = j->pos;
	size_t		n;
	mlc_status	st;

	*out = NULL;
	if ((st = mlc_json_string(j, NULL, 0, &n, has_nul)) != MLC_OK)
		return st;
	*out = mlc_alloc(n + 1);
	if (*out == NULL)
		return mlc_fail(j->err, MLC_ENOMEM, NULL, "out of memory reading a JSON string");
	j->pos = start;
	return mlc_json_string(j, *out, n + 1, &n, has_nul);
}

static int
cmp_cstring(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* ---------- the training plan ---------- */

static mlc_status
bad_plan(mlc_json *j, const char *detail)
{
	return mlc_fail(j->err, MLC_EINVAL, detail, "%s", plan_msg);
}

/* The string at at into *out ("A string was expected." otherwise). */
static mlc_status
plan_string(mlc_json *j, size_t at, char **out)
{
	int			nul;
	mlc_status	st;

	j->pos = at;
	if (at == MLC_JSON_ABSENT || mlc_json_type_at(j) != MLC_JSON_STRING)
		return bad_plan(j, "A string was expected.");
	if ((st = read_string(j, out, &nul)) != MLC_OK)
		return st;
	if (nul)
		return bad_plan(j, "A string holds a \\u0000 escape.");
	return MLC_OK;
}

static mlc_status
plan_number(mlc_json *j, size_t at, double *out)
{
	int			range;
	mlc_status	st;

	j->pos = at;
	if (at == MLC_JSON_ABSENT || mlc_json_type_at(j) != MLC_JSON_NUMBER)
		return bad_plan(j, "A number was expected.");
	if ((st = mlc_json_number(j, out, &range)) != MLC_OK)
		return st;
	if (range)
		return bad_plan(j, "A number is out of range for a double.");
	return MLC_OK;
}

/* The array at at: its item count, capped; pos left at '['. */
static mlc_status
plan_array(mlc_json *j, size_t at, int *n)
{
	int64_t		count;
	char		detail[96];
	mlc_status	st;

	j->pos = at;
	if (at == MLC_JSON_ABSENT || mlc_json_type_at(j) != MLC_JSON_ARRAY)
		return bad_plan(j, "An array was expected.");
	if ((st = mlc_json_array_count(j, MLC_JSON_PLAN_MAX_ITEMS, &count)) != MLC_OK)
		return st;
	if (count > MLC_JSON_PLAN_MAX_ITEMS)
	{
		snprintf(detail, sizeof(detail), "An array has more than %d items.",
				 MLC_JSON_PLAN_MAX_ITEMS);
		return bad_plan(j, detail);
	}
	*n = (int) count;
	return MLC_OK;
}

/* An array of n strings at at (counted by plan_array) into out[0..n). */
static mlc_status
plan_strings(mlc_json *j, size_t at, int n, char **out)
{
	int			more,
				i;
	mlc_status	st;

	j->pos = at;
	if ((st = mlc_json_array_first(j, &more)) != MLC_OK)
		return st;
	for (i = 0; i < n && more; i++)
	{
		if ((st = plan_string(j, j->pos, &out[i])) != MLC_OK)
			return st;
		if ((st = mlc_json_array_next(j, &more)) != MLC_OK)
			return st;
	}
	return MLC_OK;
}

static int
is_true(mlc_json *j, size_t at)
{
	if (at == MLC_JSON_ABSENT)
		return 0;
	j->pos = at;
	return mlc_json_type_at(j) == MLC_JSON_TRUE;
}

enum
{
	INPUT_COLUMN, INPUT_KIND, INPUT_IMPUTE, INPUT_CATEGORIES, INPUT_HAS_OTHER,
	INPUT_DROP_FIRST, N_INPUT_KEYS
};
static const char *const input_keys[N_INPUT_KEYS] = {
	"column", "kind", "impute", "categories", "has_other", "drop_first"
};

/* One input object at at into enc. */
static mlc_status
plan_input(mlc_json *j, size_t at, mlc_encoder *enc)
{
	size_t		f[N_INPUT_KEYS];
	char	   *kind = NULL;
	char		detail[512];
	mlc_status	st;

	j->pos = at;
	if (mlc_json_type_at(j) != MLC_JSON_OBJECT)
		return bad_plan(j, "An object was expected.");
	if ((st = mlc_json_object_fields(j, input_keys, N_INPUT_KEYS, f)) != MLC_OK)
		return st;
	if (f[INPUT_COLUMN] == MLC_JSON_ABSENT)
		return bad_plan(j, "An input has no \"column\".");
	if ((st = plan_string(j, f[INPUT_COLUMN], &enc->column)) != MLC_OK)
		return st;
	if (f[INPUT_KIND] == MLC_JSON_ABSENT)
		return bad_plan(j, "An input has no \"kind\".");
	if ((st = plan_string(j, f[INPUT_KIND], &kind)) != MLC_OK)
	{
		mlc_free(kind);
		return st;
	}
	if (strcmp(kind, "number") == 0)
		enc->kind = MLC_ENC_NUMBER;
	else if (strcmp(kind, "bool") == 0)
		enc->kind = MLC_ENC_BOOL;
	else if (strcmp(kind, "time") == 0)
		enc->kind = MLC_ENC_TIME;
	else if (strcmp(kind, "category") == 0)
		enc->kind = MLC_ENC_CATEGORY;
	else
	{
		snprintf(detail, sizeof(detail), "Unknown encoder kind \"%s\".", kind);
		mlc_free(kind);
		return bad_plan(j, detail);
	}
	mlc_free(kind);
	enc->impute = NAN;
	if (f[INPUT_IMPUTE] != MLC_JSON_ABSENT &&
		(st = plan_number(j, f[INPUT_IMPUTE], &enc->impute)) != MLC_OK)
		return st;
	enc->width = 1;
	if (enc->kind == MLC_ENC_CATEGORY)
	{
		if (f[INPUT_CATEGORIES] == MLC_JSON_ABSENT)
			return bad_plan(j, "A category input has no \"categories\".");
		if ((st = plan_array(j, f[INPUT_CATEGORIES], &enc->n_categories)) != MLC_OK)
			return st;
		enc->categories = mlc_alloc0(sizeof(char *) * (enc->n_categories > 0 ? enc->n_categories : 1));
		if (enc->categories == NULL)
		{
			enc->n_categories = 0;
			return mlc_fail(j->err, MLC_ENOMEM, NULL, "out of memory reading the training plan");
		}
		if ((st = plan_strings(j, f[INPUT_CATEGORIES], enc->n_categories, enc->categories)) != MLC_OK)
			return st;
		/* the encoder's binary search needs strcmp order */
		qsort(enc->categories, enc->n_categories, sizeof(char *), cmp_cstring);
		enc->has_other = is_true(j, f[INPUT_HAS_OTHER]);
		enc->drop_first = is_true(j, f[INPUT_DROP_FIRST]) && enc->n_categories > 0;
		enc->width = enc->n_categories - enc->drop_first + enc->has_other;
		enc->impute = NAN;
	}
	return MLC_OK;
}

enum
{
	PLAN_TARGET_KIND, PLAN_TARGET, PLAN_CLASSES, PLAN_CLASS_VALUES, PLAN_TRAIN_ROWS,
	PLAN_ENGINE, PLAN_MISSING_AS_NAN, PLAN_SEED, PLAN_INPUTS, N_PLAN_KEYS
};
static const char *const plan_keys[N_PLAN_KEYS] = {
	"target_kind", "target", "classes", "class_values", "train_rows", "engine",
	"missing_as_nan", "seed", "inputs"
};

static mlc_status
plan_parse(mlc_json *j, mlc_json_plan *pl)
{
	size_t		f[N_PLAN_KEYS];
	char	   *s = NULL;
	char		detail[128];
	double		d;
	int			n,
				more,
				i;
	mlc_status	st;

	if ((st = check_document(j)) != MLC_OK)
		return st;
	if (mlc_json_type_at(j) != MLC_JSON_OBJECT)
		return bad_plan(j, "The plan must be an object.");
	if ((st = mlc_json_object_fields(j, plan_keys, N_PLAN_KEYS, f)) != MLC_OK)
		return st;

	if (f[PLAN_TARGET_KIND] == MLC_JSON_ABSENT)
		return bad_plan(j, "The plan has no \"target_kind\".");
	if ((st = plan_string(j, f[PLAN_TARGET_KIND], &s)) != MLC_OK)
	{
		mlc_free(s);
		return st;
	}
	pl->target_kind = strcmp(s, "number") == 0 ? 1 : strcmp(s, "class") == 0 ? 2 : 0;
	mlc_free(s);
	if (pl->target_kind != 0)
	{
		if (f[PLAN_TARGET] == MLC_JSON_ABSENT)
			return bad_plan(j, "The plan has no \"target\".");
		if ((st = plan_string(j, f[PLAN_TARGET], &pl->target)) != MLC_OK)
			return st;
	}
	if (pl->target_kind == 2)
	{
		if (f[PLAN_CLASSES] == MLC_JSON_ABSENT)
			return bad_plan(j, "The plan has no \"classes\".");
		if ((st = plan_array(j, f[PLAN_CLASSES], &n)) != MLC_OK)
			return st;
		pl->classes = mlc_alloc0(sizeof(char *) * (n > 0 ? n : 1));
		if (pl->classes == NULL)
			goto nomem;
		pl->n_classes = n;
		if ((st = plan_strings(j, f[PLAN_CLASSES], n, pl->classes)) != MLC_OK)
			return st;
		if (f[PLAN_CLASS_VALUES] != MLC_JSON_ABSENT)
		{
			if ((st = plan_array(j, f[PLAN_CLASS_VALUES], &n)) != MLC_OK)
				return st;
			if (n != pl->n_classes)
			{
				snprintf(detail, sizeof(detail), "\"class_values\" has %d values for %d classes.",
						 n, pl->n_classes);
				return bad_plan(j, detail);
			}
			pl->class_values = mlc_alloc(sizeof(double) * (n > 0 ? n : 1));
			if (pl->class_values == NULL)
				goto nomem;
			j->pos = f[PLAN_CLASS_VALUES];
			if ((st = mlc_json_array_first(j, &more)) != MLC_OK)
				return st;
			for (i = 0; i < n && more; i++)
			{
				if ((st = plan_number(j, j->pos, &pl->class_values[i])) != MLC_OK)
					return st;
				if ((st = mlc_json_array_next(j, &more)) != MLC_OK)
					return st;
			}
		}
	}
	if (f[PLAN_TRAIN_ROWS] != MLC_JSON_ABSENT)
	{
		if ((st = plan_number(j, f[PLAN_TRAIN_ROWS], &d)) != MLC_OK)
			return st;
		if (!(d >= 0 && d <= 9.0e18))
			return bad_plan(j, "\"train_rows\" is out of range.");
		pl->train_rows = (int64_t) d;
	}
	if (f[PLAN_ENGINE] != MLC_JSON_ABSENT)
	{
		s = NULL;
		if ((st = plan_string(j, f[PLAN_ENGINE], &s)) != MLC_OK)
		{
			mlc_free(s);
			return st;
		}
		pl->use_aggregates = strcmp(s, "aggregate") == 0;
		mlc_free(s);
	}
	pl->missing_as_nan = is_true(j, f[PLAN_MISSING_AS_NAN]);
	if (f[PLAN_SEED] != MLC_JSON_ABSENT)
	{
		if ((st = plan_number(j, f[PLAN_SEED], &d)) != MLC_OK)
			return st;
		if (!(d >= (double) INT32_MIN && d <= (double) INT32_MAX))
			return bad_plan(j, "\"seed\" is out of range.");
		pl->seed = (int32_t) d;
	}

	if (f[PLAN_INPUTS] == MLC_JSON_ABSENT)
		return bad_plan(j, "The plan has no \"inputs\".");
	if ((st = plan_array(j, f[PLAN_INPUTS], &n)) != MLC_OK)
		return st;
	pl->enc = mlc_alloc0(sizeof(mlc_encoder) * (n > 0 ? n : 1));
	if (pl->enc == NULL)
		goto nomem;
	pl->n_inputs = n;
	j->pos = f[PLAN_INPUTS];
	if ((st = mlc_json_array_first(j, &more)) != MLC_OK)
		return st;
	for (i = 0; i < n && more; i++)
	{
		size_t		item = j->pos;

		/* past the item first: plan_input moves about inside it */
		if ((st = mlc_json_skip(j)) != MLC_OK)
			return st;
		if ((st = mlc_json_array_next(j, &more)) != MLC_OK)
			return st;
		{
			size_t		next = j->pos;

			if ((st = plan_input(j, item, &pl->enc[i])) != MLC_OK)
				return st;
			pl->p += pl->enc[i].width;
			j->pos = next;
		}
	}
	return MLC_OK;

nomem:
	return mlc_fail(j->err, MLC_ENOMEM, NULL, "out of memory reading the training plan");
}

mlc_status
mlc_json_plan_parse(const char *text, size_t len, mlc_json_plan *plan, mlc_error *err)
{
	mlc_json	j;
	mlc_status	st;

	memset(plan, 0, sizeof(*plan));
	mlc_json_init(&j, text, len, err, "training plan", plan_msg);
	st = plan_parse(&j, plan);
	if (st != MLC_OK)
		mlc_json_plan_free(plan);
	return st;
}

void
mlc_json_plan_free(mlc_json_plan *pl)
{
	mlc_free(pl->target);
	mlc_strings_free(pl->classes, pl->n_classes);
	mlc_free(pl->class_values);
	mlc_encoders_free(pl->enc, pl->n_inputs);
	memset(pl, 0, sizeof(*pl));
}

/* ---------- the drift spec ---------- */

static mlc_status
bad_spec(mlc_json *j, const char *fmt, const char *what)
{
	char		detail[256];

	snprintf(detail, sizeof(detail), fmt, what);
	return mlc_fail(j->err, MLC_EINVAL, detail, "%s", spec_msg);
}

/* The array at at, counted and capped; errors name what. */
static mlc_status
spec_array(mlc_json *j, size_t at, int cap, const char *what, int *n)
{
	int64_t		count;
	char		detail[256];
	mlc_status	st;

	j->pos = at;
	if (at == MLC_JSON_ABSENT || mlc_json_type_at(j) != MLC_JSON_ARRAY)
		return bad_spec(j, "%s must be an array.", what);
	if ((st = mlc_json_array_count(j, cap, &count)) != MLC_OK)
		return st;
	if (count > cap)
	{
		snprintf(detail, sizeof(detail), "%s has more than %d items.", what, cap);
		return mlc_fail(j->err, MLC_EINVAL, detail, "%s", spec_msg);
	}
	*n = (int) count;
	return MLC_OK;
}

/* A number (0 when absent). */
static mlc_status
spec_number(mlc_json *j, size_t at, const char *what, double *out)
{
	int			range;
	mlc_status	st;

	*out = 0.0;
	if (at == MLC_JSON_ABSENT)
		return MLC_OK;
	j->pos = at;
	if (mlc_json_type_at(j) != MLC_JSON_NUMBER)
		return bad_spec(j, "%s must be a number.", what);
	if ((st = mlc_json_number(j, out, &range)) != MLC_OK)
		return st;
	if (range)
		return bad_spec(j, "%s is out of range for a double.", what);
	return MLC_OK;
}

/* An optional array of numbers (absent: none). */
static mlc_status
spec_doubles(mlc_json *j, size_t at, const char *what, double **out, int *n)
{
	int			more,
				range,
				i;
	mlc_status	st;

	*n = 0;
	if (at == MLC_JSON_ABSENT)
		return MLC_OK;
	if ((st = spec_array(j, at, MLC_DRIFT_MAX_ITEMS, what, n)) != MLC_OK)
		return st;
	*out = mlc_alloc(sizeof(double) * (*n > 0 ? *n : 1));
	if (*out == NULL)
	{
		*n = 0;
		return mlc_fail(j->err, MLC_ENOMEM, NULL, "out of memory reading the drift spec");
	}
	j->pos = at;
	if ((st = mlc_json_array_first(j, &more)) != MLC_OK)
		return st;
	for (i = 0; i < *n && more; i++)
	{
		if (mlc_json_type_at(j) != MLC_JSON_NUMBER)
			return bad_spec(j, "%s must hold only numbers.", what);
		if ((st = mlc_json_number(j, &(*out)[i], &range)) != MLC_OK)
			return st;
		if (range)
			return bad_spec(j, "%s holds a number out of range for a double.", what);
		if ((st = mlc_json_array_next(j, &more)) != MLC_OK)
			return st;
	}
	return MLC_OK;
}

/* A string into *out; errors name what. */
static mlc_status
spec_string(mlc_json *j, size_t at, const char *what, char **out)
{
	int			nul;
	mlc_status	st;

	j->pos = at;
	if (at == MLC_JSON_ABSENT || mlc_json_type_at(j) != MLC_JSON_STRING)
		return bad_spec(j, "%s must be a string.", what);
	if ((st = read_string(j, out, &nul)) != MLC_OK)
		return st;
	if (nul)
		return bad_spec(j, "%s holds a \\u0000 escape.", what);
	return MLC_OK;
}

enum
{
	FEAT_NAME, FEAT_KIND, FEAT_VALUES, FEAT_EDGES, FEAT_MEAN, N_FEAT_KEYS
};
static const char *const feat_keys[N_FEAT_KEYS] = {"name", "kind", "values", "edges", "mean"};

static mlc_status
spec_feature(mlc_json *j, size_t at, mlc_drift_feature *d)
{
	size_t		f[N_FEAT_KEYS];
	mlc_status	st;

	j->pos = at;
	if (mlc_json_type_at(j) != MLC_JSON_OBJECT)
		return bad_spec(j, "%s must be an object.", "Each item of \"features\"");
	if ((st = mlc_json_object_fields(j, feat_keys, N_FEAT_KEYS, f)) != MLC_OK)
		return st;
	if ((st = spec_string(j, f[FEAT_NAME], "A feature's \"name\"", &d->name)) != MLC_OK)
		return st;
	if (f[FEAT_KIND] != MLC_JSON_ABSENT)
	{
		char		kind[16];
		size_t		klen;
		int			nul;

		j->pos = f[FEAT_KIND];
		if (mlc_json_type_at(j) != MLC_JSON_STRING)
			return bad_spec(j, "%s must be a string.", "A feature's \"kind\"");
		if ((st = mlc_json_string(j, kind, sizeof(kind), &klen, &nul)) != MLC_OK)
			return st;
		d->categorical = !nul && klen == 11 && strcmp(kind, "categorical") == 0;
	}
	if (d->categorical)
	{
		int			more,
					i;

		if (f[FEAT_VALUES] != MLC_JSON_ABSENT)
		{
			if ((st = spec_array(j, f[FEAT_VALUES], MLC_DRIFT_MAX_ITEMS,
								 "A feature's \"values\"", &d->nvalues)) != MLC_OK)
				return st;
		}
		d->values = mlc_alloc0(sizeof(char *) * (d->nvalues > 0 ? d->nvalues : 1));
		if (d->values == NULL)
		{
			d->nvalues = 0;
			return mlc_fail(j->err, MLC_ENOMEM, NULL, "out of memory reading the drift spec");
		}
		if (d->nvalues > 0)
		{
			j->pos = f[FEAT_VALUES];
			if ((st = mlc_json_array_first(j, &more)) != MLC_OK)
				return st;
			for (i = 0; i < d->nvalues && more; i++)
			{
				if ((st = spec_string(j, j->pos, "Each item of a feature's \"values\"",
									  &d->values[i])) != MLC_OK)
					return st;
				if ((st = mlc_json_array_next(j, &more)) != MLC_OK)
					return st;
			}
		}
		d->nbins = d->nvalues + 1;
	}
	else
	{
		if ((st = spec_doubles(j, f[FEAT_EDGES], "A feature's \"edges\"", &d->edges,
							   &d->nedges)) != MLC_OK)
			return st;
		if ((st = spec_number(j, f[FEAT_MEAN], "A feature's \"mean\"", &d->shift)) != MLC_OK)
			return st;
		d->nbins = d->nedges + 1;
	}
	return MLC_OK;
}

enum
{
	SPEC_FEATURES, SPEC_PRED_EDGES, SPEC_PRED_MEAN, N_SPEC_KEYS
};
static const char *const spec_keys[N_SPEC_KEYS] = {"features", "prediction_edges", "prediction_mean"};

/*
 * The doubles the features' blocks need, from the counts alone: the cap on
 * the state is checked before any feature is decoded.  Items of the wrong
 * type count as empty here; the decoding reports them.
 */
static mlc_status
spec_bins(mlc_json *j, size_t at, int nfeat, int64_t *offset)
{
	size_t		f[N_FEAT_KEYS];
	int64_t		n;
	int			more,
				i;
	mlc_status	st;

	*offset = 1;
	j->pos = at;
	if ((st = mlc_json_array_first(j, &more)) != MLC_OK)
		return st;
	for (i = 0; i < nfeat && more; i++)
	{
		size_t		next,
					list;
		int			categorical = 0;

		if (mlc_json_type_at(j) != MLC_JSON_OBJECT)
		{
			if ((st = mlc_json_skip(j)) != MLC_OK)
				return st;
			if ((st = mlc_json_array_next(j, &more)) != MLC_OK)
				return st;
			continue;
		}
		if ((st = mlc_json_object_fields(j, feat_keys, N_FEAT_KEYS, f)) != MLC_OK)
			return st;
		if ((st = mlc_json_array_next(j, &more)) != MLC_OK)
			return st;
		next = j->pos;
		if (f[FEAT_KIND] != MLC_JSON_ABSENT)
		{
			char		kind[16];
			size_t		klen;
			int			nul;

			j->pos = f[FEAT_KIND];
			if (mlc_json_type_at(j) == MLC_JSON_STRING &&
				(st = mlc_json_string(j, kind, sizeof(kind), &klen, &nul)) == MLC_OK)
				categorical = !nul && klen == 11 && strcmp(kind, "categorical") == 0;
		}
		list = f[categorical ? FEAT_VALUES : FEAT_EDGES];
		n = 0;
		j->pos = list;
		if (list != MLC_JSON_ABSENT && mlc_json_type_at(j) == MLC_JSON_ARRAY &&
			(st = mlc_json_array_count(j, MLC_DRIFT_MAX_ITEMS, &n)) != MLC_OK)
			return st;
		*offset += MLC_DRIFT_BLOCK_HEAD + n + 1;
		if (*offset > MLC_DRIFT_MAX_VALS)
			return bad_spec(j, "%s", "The spec has too many bins.");
		j->pos = next;
	}
	return MLC_OK;
}

static mlc_status
spec_parse(mlc_json *j, mlc_drift_spec *sp)
{
	size_t		f[N_SPEC_KEYS];
	int64_t		offset = 1;
	int			n,
				more,
				i;
	mlc_status	st;

	if ((st = check_document(j)) != MLC_OK)
		return st;
	if (mlc_json_type_at(j) != MLC_JSON_OBJECT)
		return bad_spec(j, "%s", "The spec must be an object.");
	if ((st = mlc_json_object_fields(j, spec_keys, N_SPEC_KEYS, f)) != MLC_OK)
		return st;
	if ((st = spec_array(j, f[SPEC_FEATURES], MLC_DRIFT_MAX_FEATURES, "\"features\"", &n)) != MLC_OK)
		return st;
	if ((st = spec_bins(j, f[SPEC_FEATURES], n, &offset)) != MLC_OK)
		return st;
	offset = 1;
	sp->feat = mlc_alloc0(sizeof(mlc_drift_feature) * (n > 0 ? n : 1));
	if (sp->feat == NULL)
		return mlc_fail(j->err, MLC_ENOMEM, NULL, "out of memory reading the drift spec");
	sp->nfeat = n;
	j->pos = f[SPEC_FEATURES];
	if ((st = mlc_json_array_first(j, &more)) != MLC_OK)
		return st;
	for (i = 0; i < n && more; i++)
	{
		size_t		item = j->pos,
					next;
		mlc_drift_feature *d = &sp->feat[i];

		if ((st = mlc_json_skip(j)) != MLC_OK)
			return st;
		if ((st = mlc_json_array_next(j, &more)) != MLC_OK)
			return st;
		next = j->pos;
		if ((st = spec_feature(j, item, d)) != MLC_OK)
			return st;
		d->offset = (int) offset;
		offset += MLC_DRIFT_BLOCK_HEAD + d->nbins;
		if (offset > MLC_DRIFT_MAX_VALS)
			return bad_spec(j, "%s", "The spec has too many bins.");
		j->pos = next;
	}
	if ((st = spec_doubles(j, f[SPEC_PRED_EDGES], "\"prediction_edges\"", &sp->pred_edges,
						   &sp->pred_nedges)) != MLC_OK)
		return st;
	if ((st = spec_number(j, f[SPEC_PRED_MEAN], "\"prediction_mean\"", &sp->pred_shift)) != MLC_OK)
		return st;
	sp->pred_offset = (int) offset;
	offset += MLC_DRIFT_BLOCK_HEAD + sp->pred_nedges + 1;
	sp->nvals = (int) offset;
	return MLC_OK;
}

mlc_status
mlc_drift_spec_parse(const char *text, size_t len, mlc_drift_spec *spec, mlc_error *err)
{
	mlc_json	j;
	mlc_status	st;

	memset(spec, 0, sizeof(*spec));
	mlc_json_init(&j, text, len, err, "drift spec", spec_msg);
	st = spec_parse(&j, spec);
	if (st != MLC_OK)
		mlc_drift_spec_free(spec);
	return st;
}

void
mlc_drift_spec_free(mlc_drift_spec *sp)
{
	int			i;

	if (sp->feat != NULL)
		for (i = 0; i < sp->nfeat; i++)
		{
			mlc_free(sp->feat[i].name);
			mlc_free(sp->feat[i].edges);
			mlc_strings_free(sp->feat[i].values, sp->feat[i].nvalues);
		}
	mlc_free(sp->feat);
	mlc_free(sp->pred_edges);
	memset(sp, 0, sizeof(*sp));
}
