/*
 * rowhash.c: canonical row encoding for the content hash and the train/test
 * split, conversion of numeric values to double, and the relations a query
 * reads.
 *
 * A value's canonical bytes are its binary send form (the text output for the
 * few types without one), so the hash does not depend on DateStyle,
 * extra_float_digits or the physical order of rows.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "parser/parse_coerce.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/date.h"
#include "utils/timestamp.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/plancache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "pg_mlops.h"

bool
ml_type_is_numeric(Oid typid)
{
	switch (getBaseType(typid))
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			return true;
		default:
			return false;
	}
}

/* ml_datum_to_double converts a value of a numeric type, boolean (0/1),
 * date or timestamp (seconds since 1970-01-01 00:00 UTC, the UTC instant for
 * timestamptz, the wall-clock reading for timestamp). */
double
ml_datum_to_double(Datum d, Oid typid)
{
	switch (typid)
	{
		case INT2OID:
			return (double) DatumGetInt16(d);
		case INT4OID:
			return (double) DatumGetInt32(d);
		case INT8OID:
			return (double) DatumGetInt64(d);
		case FLOAT4OID:
			return (double) DatumGetFloat4(d);
		case FLOAT8OID:
			return DatumGetFloat8(d);
		case NUMERICOID:
			return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, d));
		case BOOLOID:
			return DatumGetBool(d) ? 1.0 : 0.0;
		case DATEOID:
			/* days since 2000-01-01 -> seconds since 1970-01-01 */
			if (DATE_NOT_FINITE(DatumGetDateADT(d)))
				return DATE_IS_NOBEGIN(DatumGetDateADT(d)) ? -INFINITY : INFINITY;
			return ((double) DatumGetDateADT(d) + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE)) * SECS_PER_DAY;
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			if (TIMESTAMP_NOT_FINITE(DatumGetTimestamp(d)))
				return TIMESTAMP_IS_NOBEGIN(DatumGetTimestamp(d)) ? -INFINITY : INFINITY;
			return (double) DatumGetTimestamp(d) / USECS_PER_SEC +
				(double) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
		default:
			{
				Oid			base = getBaseType(typid);

				if (base == typid)
					elog(ERROR, "type %s cannot be converted to a number", format_type_be(typid));
				return ml_datum_to_double(d, base);
			}
	}
}

/* Per-call-site cache of how to encode each column of a row type. */
typedef struct RowCodec
{
	Oid			tupType;
	int32		tupTypmod;
	int			natts;
	Oid		   *typid;			/* InvalidOid for dropped columns */
	bool	   *binary;
	FmgrInfo   *out;
} RowCodec;

static RowCodec *
row_codec(FmgrInfo *flinfo, HeapTupleHeader rec, MemoryContext mcxt)
{
	RowCodec   *codec = (RowCodec *) flinfo->fn_extra;
	Oid			tupType = HeapTupleHeaderGetTypeId(rec);
	int32		tupTypmod = HeapTupleHeaderGetTypMod(rec);
	TupleDesc	tupdesc;
	int			i;

	if (codec && codec->tupType == tupType && codec->tupTypmod == tupTypmod)
		return codec;

	tupdesc = lookup_rowtype_tupdesc(tupType, tupTypmod);
	codec = MemoryContextAllocZero(mcxt, sizeof(RowCodec));
	codec->tupType = tupType;
	codec->tupTypmod = tupTypmod;
	codec->natts = tupdesc->natts;
	codec->typid = MemoryContextAllocZero(mcxt, sizeof(Oid) * Max(1, tupdesc->natts));
	codec->binary = MemoryContextAllocZero(mcxt, sizeof(bool) * Max(1, tupdesc->natts));
	codec->out = MemoryContextAllocZero(mcxt, sizeof(FmgrInfo) * Max(1, tupdesc->natts));
	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		Oid			func;
		bool		varlena;
		HeapTuple	tp;

		if (att->attisdropped)
			continue;
		codec->typid[i] = att->atttypid;
		tp = SearchSysCache1(TYPEOID, ObjectIdGetDatum(att->atttypid));
		if (!HeapTupleIsValid(tp))
			elog(ERROR, "cache lookup failed for type %u", att->atttypid);
		codec->binary[i] = OidIsValid(((Form_pg_type) GETSTRUCT(tp))->typsend);
		ReleaseSysCache(tp);
		if (codec->binary[i])
			getTypeBinaryOutputInfo(att->atttypid, &func, &varlena);
		else
			getTypeOutputInfo(att->atttypid, &func, &varlena);
		fmgr_info_cxt(func, &codec->out[i], mcxt);
	}
	ReleaseTupleDesc(tupdesc);
	flinfo->fn_extra = codec;
	return codec;
}

/* Feed every column of rec to each of the nh hashers. */
static void
hash_row(RowCodec *codec, HeapTupleHeader rec, mlc_rowhash *h, int nh)
{
	HeapTupleData tuple;
	TupleDesc	tupdesc;
	Datum	   *values;
	bool	   *isnull;
	int			i,
				k;

	tupdesc = lookup_rowtype_tupdesc(codec->tupType, codec->tupTypmod);
	tuple.t_len = HeapTupleHeaderGetDatumLength(rec);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = rec;
	values = palloc(sizeof(Datum) * Max(1, codec->natts));
	isnull = palloc(sizeof(bool) * Max(1, codec->natts));
	heap_deform_tuple(&tuple, tupdesc, values, isnull);
	ReleaseTupleDesc(tupdesc);

	for (i = 0; i < codec->natts; i++)
	{
		const void *data;
		size_t		len;
		bytea	   *sent = NULL;
		char	   *txt = NULL;

		if (!OidIsValid(codec->typid[i]))
			continue;
		if (isnull[i])
		{
			for (k = 0; k < nh; k++)
				mlc_rowhash_null(&h[k]);
			continue;
		}
		if (codec->binary[i])
		{
			sent = SendFunctionCall(&codec->out[i], values[i]);
			data = VARDATA(sent);
			len = VARSIZE(sent) - VARHDRSZ;
		}
		else
		{
			txt = OutputFunctionCall(&codec->out[i], values[i]);
			data = txt;
			len = strlen(txt);
		}
		for (k = 0; k < nh; k++)
			mlc_rowhash_value(&h[k], data, len);
		if (sent)
			pfree(sent);
		if (txt)
			pfree(txt);
	}
	pfree(values);
	pfree(isnull);
}

/* The split hash of argument 0 (a row) under the key of seed argument 1. */
static uint64_t
split_hash(FunctionCallInfo fcinfo)
{
	HeapTupleHeader rec = PG_GETARG_HEAPTUPLEHEADER(0);
	RowCodec   *codec = row_codec(fcinfo->flinfo, rec, fcinfo->flinfo->fn_mcxt);
	mlc_rowhash h;
	uint64_t	k0,
				k1;

	mlc_split_keys(PG_GETARG_INT32(1), &k0, &k1);
	mlc_rowhash_init(&h, k0, k1);
	hash_row(codec, rec, &h, 1);
	return mlc_rowhash_final(&h);
}

PG_FUNCTION_INFO_V1(ml_row_is_test);
Datum
ml_row_is_test(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(mlc_split_is_test(split_hash(fcinfo), PG_GETARG_FLOAT8(2)));
}

/*
 * ml_row_split_unit is the number the hash split compares with test_fraction:
 * the row's split hash under the seed's key as a double in [0, 1).  The
 * stratified split ranks the rows of each class by it, cross-validation
 * cuts it into folds.
 */
PG_FUNCTION_INFO_V1(ml_row_split_unit);
Datum
ml_row_split_unit(PG_FUNCTION_ARGS)
{
	/* top 53 bits, as mlc_split_is_test reads them */
	PG_RETURN_FLOAT8((double) (split_hash(fcinfo) >> 11) * (1.0 / 9007199254740992.0));
}

PG_FUNCTION_INFO_V1(ml_content_hash_accum);
Datum
ml_content_hash_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	mlc_content_hash *state;
	HeapTupleHeader rec;
	RowCodec   *codec;
	mlc_rowhash h[2];

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "ml._content_hash_accum called in non-aggregate context");
	if (PG_ARGISNULL(0))
	{
		state = MemoryContextAlloc(aggcxt, sizeof(mlc_content_hash));
		mlc_content_hash_init(state);
	}
	else
		state = (mlc_content_hash *) PG_GETARG_POINTER(0);
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(state);

	rec = PG_GETARG_HEAPTUPLEHEADER(1);
	codec = row_codec(fcinfo->flinfo, rec, fcinfo->flinfo->fn_mcxt);
	mlc_rowhash_init(&h[0], MLC_CONTENT_K0, MLC_CONTENT_K1);
	mlc_rowhash_init(&h[1], MLC_CONTENT_K0, MLC_CONTENT_K2);
	hash_row(codec, rec, h, 2);
	mlc_content_hash_add(state, mlc_rowhash_final(&h[0]), mlc_rowhash_final(&h[1]));
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(ml_content_hash_final);
Datum
ml_content_hash_final(PG_FUNCTION_ARGS)
{
	mlc_content_hash empty;
	mlc_content_hash *state;
	char		buf[64];

	if (PG_ARGISNULL(0))
	{
		mlc_content_hash_init(&empty);
		state = &empty;
	}
	else
		state = (mlc_content_hash *) PG_GETARG_POINTER(0);
	mlc_content_hash_hex(state, buf);
	PG_RETURN_TEXT_P(cstring_to_text(buf));
}

static int
cmp_text_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * ml_query_relations lists the relations (tables, views, ...) a query reads,
 * as the planner's dependency list records them, schema-qualified, sorted.
 */
PG_FUNCTION_INFO_V1(ml_query_relations);
Datum
ml_query_relations(PG_FUNCTION_ARGS)
{
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(0));
	CachedPlanSource *ps;
	ListCell   *lc;
	Datum	   *names;
	char	  **strs;
	int			n = 0,
				i;
	MemoryContext outer = CurrentMemoryContext;
	MLCallerSwitch sw;

	/* the query's names mean what they mean to the caller */
	ml_enter_caller(&sw, true);
	SPI_connect();
	ps = ml_prepare_source(query);
	strs = MemoryContextAlloc(outer, sizeof(char *) * Max(1, list_length(ps->relationOids)));
	foreach(lc, ps->relationOids)
	{
		Oid			relid = lfirst_oid(lc);
		char	   *relname = get_rel_name(relid);

		/* the caller's temporary views of a source are not lineage */
		if (relname == NULL || isAnyTempNamespace(get_rel_namespace(relid)))
			continue;
		strs[n++] = MemoryContextStrdup(outer,
										quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
																   relname));
	}
	SPI_finish();
	ml_leave_caller(&sw);

	qsort(strs, n, sizeof(char *), cmp_text_ptr);
	/* the planner may list a relation twice */
	for (i = 1; i < n; i++)
		if (strcmp(strs[i], strs[i - 1]) == 0)
		{
			memmove(&strs[i], &strs[i + 1], sizeof(char *) * (n - i - 1));
			n--;
			i--;
		}
	names = palloc(sizeof(Datum) * Max(1, n));
	for (i = 0; i < n; i++)
		names[i] = CStringGetTextDatum(strs[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * The type a snapshot keeps a column in: built-in types as they are, a
 * domain as its base type, and any other type a role made (enum, composite,
 * range, arrays of them) as text written by its output function.  So a
 * snapshot depends on no object another role owns: none of its casts,
 * domain checks or renamed labels runs in or changes the snapshot.
 */
static Oid
type_namespace(Oid typid)
{
	HeapTuple	tp = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	Oid			nsp;

	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for type %u", typid);
	nsp = ((Form_pg_type) GETSTRUCT(tp))->typnamespace;
	ReleaseSysCache(tp);
	return nsp;
}

static void
snapshot_type(Oid typid, int32 typmod, Oid *stype, int32 *stypmod)
{
	Oid			base = getBaseTypeAndTypmod(typid, &typmod);
	Oid			elem = get_element_type(base);
	int32		elem_typmod = -1;
	Oid			check = OidIsValid(elem) ? getBaseTypeAndTypmod(elem, &elem_typmod) : base;

	if (type_namespace(check) == PG_CATALOG_NAMESPACE && OidIsValid(OidIsValid(elem) ? get_array_type(check) : check))
	{
		*stype = OidIsValid(elem) ? get_array_type(check) : base;
		*stypmod = OidIsValid(elem) && check != elem ? -1 : typmod;
		return;
	}
	*stype = TEXTOID;
	*stypmod = -1;
}

/*
 * ml._text(value): a value as text, as ::text gives it for built-in types
 * (their casts only a superuser could have made), and by the output
 * function for every other type: never a cast another role defined.
 */
PG_FUNCTION_INFO_V1(ml_text);
Datum
ml_text(PG_FUNCTION_ARGS)
{
	Oid			typid = getBaseType(get_fn_expr_argtype(fcinfo->flinfo, 0));
	Datum		value = PG_GETARG_DATUM(0);
	Oid			func = InvalidOid;
	bool		varlena;

	if (typid == TEXTOID)
		PG_RETURN_DATUM(value);
	if (type_namespace(typid) == PG_CATALOG_NAMESPACE)
	{
		CoercionPathType path = find_coercion_pathway(TEXTOID, typid, COERCION_EXPLICIT, &func);

		if (path == COERCION_PATH_FUNC)
			PG_RETURN_DATUM(OidFunctionCall1(func, value));
		if (path == COERCION_PATH_RELABELTYPE)
			PG_RETURN_DATUM(value);
	}
	getTypeOutputInfo(typid, &func, &varlena);
	PG_RETURN_TEXT_P(cstring_to_text(OidOutputFunctionCall(func, value)));
}

/* ml_query_columns returns the columns of a query: [{"name": ..., "type": ...}]. */
PG_FUNCTION_INFO_V1(ml_query_columns);
Datum
ml_query_columns(PG_FUNCTION_ARGS)
{
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(0));
	CachedPlanSource *ps;
	StringInfoData buf;
	MemoryContext outer = CurrentMemoryContext;
	TupleDesc	desc = NULL;
	char	   *json;
	int			i;
	MLCallerSwitch sw;
	Oid			stype;
	int32		stypmod;

	/* parsed as the caller; the types named as the calling function sees them */
	ml_enter_caller(&sw, true);
	SPI_connect();
	ps = ml_prepare_source(query);
	if (ps->resultDesc)
	{
		MemoryContext old = MemoryContextSwitchTo(outer);

		desc = CreateTupleDescCopy(ps->resultDesc);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	ml_leave_caller(&sw);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (i = 0; desc && i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, "{\"name\": ");
		escape_json(&buf, NameStr(att->attname));
		appendStringInfoString(&buf, ", \"type\": ");
		escape_json(&buf, format_type_with_typemod(att->atttypid, att->atttypmod));
		snapshot_type(att->atttypid, att->atttypmod, &stype, &stypmod);
		appendStringInfoString(&buf, ", \"snapshot_type\": ");
		escape_json(&buf, format_type_with_typemod(stype, stypmod));
		appendStringInfo(&buf, ", \"as_text\": %s}", stype == TEXTOID && att->atttypid != TEXTOID ? "true" : "false");
	}
	appendStringInfoChar(&buf, ']');
	json = buf.data;
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

/*
 * Parallel and distributed aggregation of ml.content_hash: combine two
 * partial states, and move a state between processes as 24 bytes (lo, hi,
 * rows, each 8 bytes little-endian).
 */
PG_FUNCTION_INFO_V1(ml_content_hash_combine);
Datum
ml_content_hash_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	mlc_content_hash *state;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "ml._content_hash_combine called in non-aggregate context");
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	if (PG_ARGISNULL(0))
	{
		state = MemoryContextAlloc(aggcxt, sizeof(mlc_content_hash));
		*state = *(const mlc_content_hash *) PG_GETARG_POINTER(1);
		PG_RETURN_POINTER(state);
	}
	state = (mlc_content_hash *) PG_GETARG_POINTER(0);
	mlc_content_hash_combine(state, (const mlc_content_hash *) PG_GETARG_POINTER(1));
	PG_RETURN_POINTER(state);
}

static void
put_le64(unsigned char *p, uint64_t v)
{
	int			i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char) (v >> (8 * i));
}

static uint64_t
get_le64(const unsigned char *p)
{
	uint64_t	v = 0;
	int			i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t) p[i] << (8 * i);
	return v;
}

PG_FUNCTION_INFO_V1(ml_content_hash_serialize);
Datum
ml_content_hash_serialize(PG_FUNCTION_ARGS)
{
	const mlc_content_hash *state;
	bytea	   *out;
	unsigned char *p;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "ml._content_hash_serialize called in non-aggregate context");
	state = (const mlc_content_hash *) PG_GETARG_POINTER(0);
	out = palloc(VARHDRSZ + 24);
	SET_VARSIZE(out, VARHDRSZ + 24);
	p = (unsigned char *) VARDATA(out);
	put_le64(p, state->lo);
	put_le64(p + 8, state->hi);
	put_le64(p + 16, (uint64_t) state->rows);
	PG_RETURN_BYTEA_P(out);
}

PG_FUNCTION_INFO_V1(ml_content_hash_deserialize);
Datum
ml_content_hash_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *in;
	const unsigned char *p;
	mlc_content_hash *state;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "ml._content_hash_deserialize called in non-aggregate context");
	in = PG_GETARG_BYTEA_PP(0);
	if (VARSIZE_ANY_EXHDR(in) != 24)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid content hash state: %d bytes, expected 24",
						(int) VARSIZE_ANY_EXHDR(in))));
	p = (const unsigned char *) VARDATA_ANY(in);
	state = palloc(sizeof(mlc_content_hash));
	state->lo = get_le64(p);
	state->hi = get_le64(p + 8);
	state->rows = (int64_t) get_le64(p + 16);
	PG_RETURN_POINTER(state);
}
