/*
 * document.c: ml._model_document(model bytea) RETURNS jsonb, the whole of
 * an encoded model (format 2, see src/core/codec.c) as JSON, so that SQL
 * (export, import, inspection) never parses the binary format itself.
 *
 * {"format": 2, "algorithm": "ridge", "task": "regression",
 *  "inputs": [{"column": "x", "kind": "number", "width": 1, "impute": 0.5,
 *              "categories": [], "has_other": false, "drop_first": false}],
 *  "features": ["x"], "classes": [], "class_values": null,
 *  "arrays": {"coef": {"rows": 1, "cols": 2, "data": [1.5, -2]}}}
 *
 * Doubles are the shortest decimals that read back to the same bits
 * (non-finite ones, which validation refuses in parameters, are null).
 */
#include "postgres.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "mb/pg_wchar.h"
#include "storage/fd.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "pg_mlops.h"

/*
 * Not float8out_internal: its precision follows extra_float_digits, and this
 * function is IMMUTABLE, so it always prints the shortest exact decimal
 * (what float8out_internal prints with extra_float_digits > 0).
 */
static void
doc_number(StringInfo buf, double v)
{
	char		s[DOUBLE_SHORTEST_DECIMAL_LEN];

	if (!isfinite(v))
	{
		appendStringInfoString(buf, "null");
		return;
	}
	double_to_shortest_decimal_buf(v, s);
	appendStringInfoString(buf, s);
}

static const char *
task_name(mlc_task t)
{
	switch (t)
	{
		case MLC_TASK_REGRESSION:
			return "regression";
		case MLC_TASK_CLASSIFICATION:
			return "classification";
		case MLC_TASK_CLUSTERING:
			return "clustering";
		case MLC_TASK_DECOMPOSITION:
			return "decomposition";
	}
	return "unknown";
}

static const char *
kind_name(mlc_encoder_kind k)
{
	switch (k)
	{
		case MLC_ENC_NUMBER:
			return "number";
		case MLC_ENC_BOOL:
			return "bool";
		case MLC_ENC_TIME:
			return "time";
		case MLC_ENC_CATEGORY:
			return "category";
	}
	return "unknown";
}

static void
doc_strings(StringInfo buf, char **s, int n)
{
	int			i;

	appendStringInfoChar(buf, '[');
	for (i = 0; i < n; i++)
	{
		if (i)
			appendStringInfoString(buf, ", ");
		escape_json(buf, s[i]);
	}
	appendStringInfoChar(buf, ']');
}

PG_FUNCTION_INFO_V1(ml_model_document);
Datum
ml_model_document(PG_FUNCTION_ARGS)
{
	bytea	   *blob = PG_GETARG_BYTEA_PP(0);
	const uint8 *bytes = (const uint8 *) VARDATA_ANY(blob);
	size_t		len = VARSIZE_ANY_EXHDR(blob);
	mlc_model	m;
	mlc_error	err;
	StringInfoData buf;
	int			i;

	memset(&m, 0, sizeof(m));
	/* the core allocates with palloc here: an error below frees nothing by hand */
	if (mlc_model_decode(bytes, len, &m, &err) != MLC_OK)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("model bytes cannot be decoded"),
				 errdetail_internal("The decoder reported: %s.", err.msg),
				 errhint("Encoded models start with \"PGML\" and format version %d; the bytes were altered or are not a pg_mlops model.",
						 MLC_MODEL_FORMAT)));

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"format\": %d, \"algorithm\": ", MLC_MODEL_FORMAT);
	escape_json(&buf, mlc_algorithm_name(m.algorithm));
	appendStringInfo(&buf, ", \"task\": \"%s\", \"inputs\": [", task_name(m.task));
	for (i = 0; i < m.n_inputs; i++)
	{
		const mlc_encoder *e = &m.inputs[i];

		if (i)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, "{\"column\": ");
		escape_json(&buf, e->column);
		appendStringInfo(&buf, ", \"kind\": \"%s\", \"width\": %d, \"impute\": ",
						 kind_name(e->kind), e->width);
		doc_number(&buf, e->impute);	/* NAN (NULL is an error): null */
		appendStringInfoString(&buf, ", \"categories\": ");
		doc_strings(&buf, e->categories, e->n_categories);
		appendStringInfo(&buf, ", \"has_other\": %s, \"drop_first\": %s}",
						 e->has_other ? "true" : "false", e->drop_first ? "true" : "false");
	}
	appendStringInfoString(&buf, "], \"features\": ");
	doc_strings(&buf, m.feature_names, m.n_features);
	appendStringInfoString(&buf, ", \"classes\": ");
	doc_strings(&buf, m.classes, m.n_classes);
	appendStringInfoString(&buf, ", \"class_values\": ");
	if (m.labels_numeric && m.class_values != NULL)
	{
		appendStringInfoChar(&buf, '[');
		for (i = 0; i < m.n_classes; i++)
		{
			if (i)
				appendStringInfoString(&buf, ", ");
			doc_number(&buf, m.class_values[i]);
		}
		appendStringInfoChar(&buf, ']');
	}
	else
		appendStringInfoString(&buf, "null");
	appendStringInfoString(&buf, ", \"arrays\": {");
	for (i = 0; i < m.n_arrays; i++)
	{
		const mlc_array *a = &m.arrays[i];
		size_t		n = (size_t) a->rows * (size_t) a->cols;
		size_t		k;

		if (i)
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, a->name);
		appendStringInfo(&buf, ": {\"rows\": %d, \"cols\": %d, \"data\": [", a->rows, a->cols);
		for (k = 0; k < n; k++)
		{
			if (k)
				appendStringInfoString(&buf, ", ");
			doc_number(&buf, a->data[k]);
			if ((k & 4095) == 4095)
				CHECK_FOR_INTERRUPTS();
		}
		appendStringInfoString(&buf, "]}");
	}
	appendStringInfoString(&buf, "}}");
	mlc_model_free(&m);

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/*
 * ml.scorer_header(): pg_mlops_scorer.h, the header that compiles the C
 * exports (docs/export.md), as installed with this build of the extension,
 * so that a client gets the scorer matching the server's model format.
 */
PG_FUNCTION_INFO_V1(ml_scorer_header);
Datum
ml_scorer_header(PG_FUNCTION_ARGS)
{
	char		sharepath[MAXPGPATH];
	char		path[MAXPGPATH];
	FILE	   *f;
	StringInfoData buf;
	char		chunk[8192];
	size_t		n;

	get_share_path(my_exec_path, sharepath);
	snprintf(path, sizeof(path), "%s/extension/pg_mlops_scorer.h", sharepath);
	if ((f = AllocateFile(path, PG_BINARY_R)) == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open the scorer header \"%s\": %m", path),
				 errhint("Install the extension with make install, which installs pg_mlops_scorer.h with its scripts.")));
	initStringInfo(&buf);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
	{
		appendBinaryStringInfo(&buf, chunk, (int) n);
		CHECK_FOR_INTERRUPTS();
	}
	if (ferror(f))
	{
		int			save = errno;

		FreeFile(f);
		errno = save;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read the scorer header \"%s\": %m", path)));
	}
	FreeFile(f);
	pg_verify_mbstr(GetDatabaseEncoding(), buf.data, buf.len, false);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
