/*
 * fit_common.c: what every algorithm's leader side uses (fit.h): running a
 * pass with the fit's holdout, the model's arrays, the history, JSON.
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "fit.h"
#include "pg_mlops.h"

void
ml_json_number(StringInfo buf, double v)
{
	if (isfinite(v))
		appendStringInfoString(buf, float8out_internal(v));
	else
		appendStringInfoString(buf, "null");
}

void
ml_json_key_number(StringInfo buf, const char *key, double v, bool comma)
{
	if (comma)
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
	ml_json_number(buf, v);
}

double *
ml_fit_pass(MLFit *fit, int pass_kind)
{
	ml_engine_params(fit->engine)[PARAM_HOLDOUT] = fit->holdout;
	return ml_engine_run_pass(fit->engine, pass_kind);
}

double *
ml_fit_partial(MLFit *fit, double *partials, int c)
{
	return partials + (Size) c * fit->partial_doubles;
}

void
ml_fit_add_array(MLFit *fit, const char *name, int rows, int cols, double *data)
{
	mlc_array  *a = &fit->arrays[fit->n_arrays++];

	if (fit->n_arrays > lengthof(fit->arrays))
		elog(ERROR, "too many model arrays");
	strlcpy(a->name, name, sizeof(a->name));
	a->rows = rows;
	a->cols = cols;
	a->data = data;
}

void
ml_fit_history(MLFit *fit, int iteration, double train_loss, double valid_loss, double step,
			   TimestampTz t0)
{
	StringInfo	h = &fit->history;

	if (h->len > 0)
		appendStringInfoString(h, ", ");
	appendStringInfo(h, "{\"iteration\": %d", iteration);
	ml_json_key_number(h, "train_loss", train_loss, true);
	ml_json_key_number(h, "valid_loss", valid_loss, true);
	ml_json_key_number(h, "step", step, true);
	ml_json_key_number(h, "elapsed_s", ml_elapsed_seconds(t0), true);
	appendStringInfoChar(h, '}');
}

