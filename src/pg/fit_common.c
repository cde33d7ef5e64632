/*
 * fit_common.c: what every algorithm's leader side uses (fit.h): running a
 * pass with the fit's holdout, the model's arrays, the history, JSON.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
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


/*
 * The train rows whose seeded content hash u is under rate, as records
 * (u, row) ordered by u, then values: all of them, however the engine cuts
 * the rows into chunks, so the sample depends on the rows alone.  A chunk
 * returns its smallest ML_SAMPLE_PER_CHUNK records; when it may have been
 * cut there, the records under its largest u are complete and the next
 * pass asks for the rows from that u up.  (A chunk of more identical rows
 * than that, all in one window, is the exception: how many of the copies
 * are kept then depends on the chunks.)
 */
double *
ml_fit_sample(MLFit *fit, double rate, double seed, int64 *n_out)
{
	int			nchunks = ml_engine_nchunks(fit->engine);
	int			w = fit->plan->p + 1;
	double	   *params = ml_engine_params(fit->engine) + PARAM_FIRST;
	double		lo = 0;
	double	   *recs = NULL;
	int64		n = 0,
				cap = 0;

	for (;;)
	{
		double	   *partials;
		double		limit = rate;
		int			c;
		int64		i;

		params[0] = lo;
		params[1] = rate;
		params[2] = seed;
		partials = ml_fit_pass(fit, PASS_SAMPLE);
		for (c = 0; c < nchunks; c++)
		{
			const double *part = partials + (Size) c * fit->partial_doubles;
			int64		m = (int64) part[0];
			double		top = -1;

			if (m < ML_SAMPLE_PER_CHUNK)
				continue;
			for (i = 0; i < m; i++)
				top = Max(top, part[1 + i * w]);
			limit = Min(limit, top);
		}
		/* a cut chunk of copies of one row at lo: take the copies it kept */
		if (limit <= lo)
			limit = nextafter(lo, INFINITY);
		for (c = 0; c < nchunks; c++)
		{
			const double *part = partials + (Size) c * fit->partial_doubles;
			int64		m = (int64) part[0];

			for (i = 0; i < m; i++)
			{
				const double *rec = part + 1 + i * w;

				if (rec[0] >= limit)
					continue;
				if (n == cap)
				{
					cap = Max(1024, cap * 2);
					recs = recs ? repalloc_huge(recs, sizeof(double) * cap * w)
						: palloc_extended(sizeof(double) * cap * w, MCXT_ALLOC_HUGE);
				}
				memcpy(recs + n * w, rec, sizeof(double) * w);
				n++;
			}
		}
		if (limit >= rate)
			break;
		lo = limit;
		CHECK_FOR_INTERRUPTS();
	}
	if (n > 1)
		qsort_arg(recs, n, sizeof(double) * w, ml_sample_cmp, &w);
	*n_out = n;
	return recs;
}

void
ml_json_key_array(StringInfo buf, const char *key, const double *v, int n, bool comma)
{
	int			i;

	if (comma)
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": [");
	for (i = 0; i < n; i++)
	{
		if (i)
			appendStringInfoString(buf, ", ");
		ml_json_number(buf, v[i]);
	}
	appendStringInfoChar(buf, ']');
}

void
ml_fit_no_rows_error(MLFit *fit)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("no usable training rows"),
			 errdetail("%lld rows were skipped because the target is NULL or a value is not finite; %lld rows are in the validation set.",
					   (long long) fit->n_skipped, (long long) fit->n_valid),
			 errhint("Filter NULL targets and non-finite values in the snapshot query.")));
}

void
ml_fit_iteration_warning(MLFit *fit, const char *what)
{
	ereport(WARNING,
			(errmsg("%s did not converge in %d iterations", what, fit->iterations),
			 errdetail("The model is registered as it stands; its training_info shows the last steps."),
			 errhint("Raise \"max_iter\", scale the features, or add regularization (\"alpha\").")));
}

void
ml_fit_summary_coefficients(MLFit *fit, const double *beta, const double *se, const double *stat,
							const char *stat_name, const double *pval, const double *odds)
{
	StringInfo	buf = &fit->summary;
	int			p = fit->plan->p,
				j;

	appendStringInfoString(buf, "\"coefficients\": [");
	for (j = 0; j <= p; j++)
	{
		appendStringInfoString(buf, j ? ", {" : "{");
		escape_json(buf, "feature");
		appendStringInfoString(buf, ": ");
		escape_json(buf, j == 0 ? "intercept" : fit->feature_names[j - 1]);
		ml_json_key_number(buf, "coefficient", beta[j], true);
		if (se)
		{
			ml_json_key_number(buf, "std_error", se[j], true);
			ml_json_key_number(buf, stat_name, stat[j], true);
			ml_json_key_number(buf, "p_value", pval[j], true);
		}
		if (odds)
			ml_json_key_number(buf, "odds_ratio", odds[j], true);
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoChar(buf, ']');
}

