/*
 * encode.c: turning a row's datums into a model's expanded feature vector,
 * and a training row's label into a class id.  The engine (training) and
 * scoring (predict.c) share this code, so a row encodes the same way in
 * both; the encoding itself (imputation, one-hot) is the core's.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "encode.h"
#include "pg_mlops.h"

static bool
is_time_type(Oid typid)
{
	return typid == DATEOID || typid == TIMESTAMPOID || typid == TIMESTAMPTZOID;
}

/* The encoder kind a column of this type trains with. */
mlc_encoder_kind
ml_encoder_kind_for_type(Oid typid)
{
	typid = getBaseType(typid);
	if (ml_type_is_numeric(typid))
		return MLC_ENC_NUMBER;
	if (typid == BOOLOID)
		return MLC_ENC_BOOL;
	if (is_time_type(typid))
		return MLC_ENC_TIME;
	return MLC_ENC_CATEGORY;
}

static const char *
kind_name(mlc_encoder_kind kind)
{
	switch (kind)
	{
		case MLC_ENC_NUMBER:
			return "a number";
		case MLC_ENC_BOOL:
			return "a boolean";
		case MLC_ENC_TIME:
			return "a date or timestamp";
		case MLC_ENC_CATEGORY:
			return "a category";
	}
	return "unknown";
}

void
ml_reader_init(MLInputReader *r, const mlc_encoder *enc, Oid typid, int offset,
			   const char *model_label, bool missing_as_nan, MemoryContext mcxt)
{
	Oid			base = getBaseType(typid);
	bool		ok;

	memset(r, 0, sizeof(*r));
	r->enc = enc;
	r->typid = base;
	r->offset = offset;
	/* only an input without an imputed value has missing values */
	r->missing_as_nan = missing_as_nan && isnan(enc->impute);
	switch (enc->kind)
	{
		case MLC_ENC_NUMBER:
			ok = ml_type_is_numeric(base) || base == BOOLOID;
			break;
		case MLC_ENC_BOOL:
			ok = base == BOOLOID;
			break;
		case MLC_ENC_TIME:
			ok = is_time_type(base);
			break;
		default:
			ok = true;
			break;
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" has type %s, but model %s reads it as %s",
						enc->column, format_type_be(typid), model_label, kind_name(enc->kind)),
				 errhint("Cast the column to the type it had in the training snapshot.")));
	if (enc->kind == MLC_ENC_CATEGORY)
	{
		r->text_like = base == TEXTOID || base == VARCHAROID || base == BPCHAROID || base == NAMEOID;
		if (!r->text_like)
		{
			Oid			outfn;
			bool		varlena;

			getTypeOutputInfo(base, &outfn, &varlena);
			fmgr_info_cxt(outfn, &r->out, mcxt);
		}
	}
}

/* The text of a category value (as its ::text cast gives it). */
static const char *
category_text(MLInputReader *r, Datum d, size_t *len)
{
	const char *s;

	if (r->typid == NAMEOID)
	{
		s = NameStr(*DatumGetName(d));
		*len = strlen(s);
		return s;
	}
	if (r->text_like)
	{
		text	   *t = DatumGetTextPP(d);

		s = VARDATA_ANY(t);
		*len = VARSIZE_ANY_EXHDR(t);
		/* bpchar::text drops the padding */
		if (r->typid == BPCHAROID)
			while (*len > 0 && s[*len - 1] == ' ')
				(*len)--;
		return s;
	}
	s = OutputFunctionCall(&r->out, d);
	*len = strlen(s);
	return s;
}

bool
ml_reader_encode(MLInputReader *r, Datum d, bool isnull, double *x, const char *label)
{
	const mlc_encoder *enc = r->enc;
	double	   *out = x + r->offset;

	/* the common case first: a float8 number, present and finite */
	if (!isnull && r->typid == FLOAT8OID && enc->kind == MLC_ENC_NUMBER)
	{
		double		v = DatumGetFloat8(d);

		if (isfinite(v))
		{
			*out = v;
			return true;
		}
	}
	if (enc->kind == MLC_ENC_CATEGORY)
	{
		size_t		len = 0;
		const char *s = isnull ? NULL : category_text(r, d, &len);

		mlc_encode_category(enc, s, len, out);
		return true;
	}
	else
	{
		double		v = isnull ? 0.0 : ml_datum_to_double(d, r->typid);
		mlc_error	err;

		if (r->missing_as_nan && (isnull || !isfinite(v)))
		{
			*out = NAN;			/* trees send missing values their default way */
			return true;
		}
		if (!isnull && !isfinite(v))
			return false;
		if (isnull && isnan(enc->impute))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("column \"%s\" is NULL and %s imputes no value for it", enc->column, label),
					 errdetail("The model was trained with \"impute\": \"error\"."),
					 errhint("Filter or fill NULLs, or train with \"impute\": \"mean\", \"median\" or \"zero\".")));
		if (mlc_encode_number(enc, v, isnull, out, &err) != MLC_OK)
			ml_raise_core_error(&err);
		return true;
	}
}

/* ---------- labels ---------- */

static int
cmp_label_text(const void *a, const void *b)
{
	const MLLabelEntry *x = a;
	const MLLabelEntry *y = b;

	return strcmp(x->text, y->text);
}

void
ml_label_init(MLLabel *l, Oid typid, int n_classes, char **classes,
			  const double *class_values, MemoryContext mcxt)
{
	Oid			base = getBaseType(typid);
	int			i;

	memset(l, 0, sizeof(*l));
	l->typid = base;
	l->n = n_classes;
	l->numeric = class_values != NULL;
	l->values = class_values;
	l->entries = MemoryContextAlloc(mcxt, sizeof(MLLabelEntry) * Max(1, n_classes));
	for (i = 0; i < n_classes; i++)
	{
		l->entries[i].text = classes[i];
		l->entries[i].id = i;
	}
	qsort(l->entries, n_classes, sizeof(MLLabelEntry), cmp_label_text);
	if (!l->numeric)
	{
		MLInputReader *r = &l->reader;
		static const mlc_encoder category = {.kind = MLC_ENC_CATEGORY};

		ml_reader_init(r, &category, base, 0, "the training", false, mcxt);
	}
}

int
ml_label_class(MLLabel *l, Datum d)
{
	if (l->numeric)
	{
		double		v = ml_datum_to_double(d, l->typid);
		int			lo = 0,
					hi = l->n - 1;

		/* class values ascend (the label type's order) */
		while (lo <= hi)
		{
			int			mid = (lo + hi) / 2;

			if (l->values[mid] == v)
				return mid;
			if (l->values[mid] < v)
				lo = mid + 1;
			else
				hi = mid - 1;
		}
		return -1;
	}
	else
	{
		size_t		len;
		const char *s = category_text(&l->reader, d, &len);
		int			lo = 0,
					hi = l->n - 1;

		while (lo <= hi)
		{
			int			mid = (lo + hi) / 2;
			const char *t = l->entries[mid].text;
			size_t		tlen = strlen(t);
			int			c = memcmp(t, s, Min(tlen, len));

			if (c == 0)
				c = tlen < len ? -1 : tlen > len ? 1 : 0;
			if (c == 0)
				return l->entries[mid].id;
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid - 1;
		}
		return -1;
	}
}
