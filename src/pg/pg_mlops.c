/*
 * pg_mlops.c: module initialization, settings, and small SQL helpers.
 */
#include "postgres.h"

#include <stdio.h>

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "pg_mlops.h"

PG_MODULE_MAGIC;

int			ml_max_parallel_workers = 4;
int			ml_work_mem_kb = 256 * 1024;
bool		ml_progress = true;

/*
 * The core's allocator: NULL on failure, never an ERROR, so the core frees
 * what it holds and returns MLC_ENOMEM (a longjmp out of it would leak or
 * leave its state half-made).  palloc_extended would still raise for a
 * size beyond MaxAllocHugeSize, so that is refused here first.
 */
static void *
core_alloc(size_t size)
{
	if (!AllocHugeSizeIsValid(size))
		return NULL;
	return palloc_extended(size, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

static void
core_free(void *ptr)
{
	if (ptr)
		pfree(ptr);
}

/* Drift thresholds: read by ml.check_drift through current_setting(). */
typedef struct DriftSetting
{
	const char *name;
	const char *description;
	double		boot;
	double		min;
	double		max;
	double		value;
} DriftSetting;

static DriftSetting drift_settings[] = {
	{"ml.drift_psi_warn", "PSI at or above which a feature's distribution is a warning.", 0.1, 0, 100},
	{"ml.drift_psi_alert", "PSI at or above which a feature's distribution is an alert.", 0.25, 0, 100},
	{"ml.drift_psi_epsilon", "Floor of a bin's share in PSI, so that empty bins stay finite.", 1e-4, 1e-12, 0.1},
	{"ml.drift_ks_pvalue_warn", "Kolmogorov-Smirnov p-value below which a numeric feature is a warning.", 0.05, 0, 1},
	{"ml.drift_ks_pvalue_alert", "Kolmogorov-Smirnov p-value below which a numeric feature is an alert.", 0.01, 0, 1},
	{"ml.drift_js_warn", "Jensen-Shannon distance at or above which a categorical feature is a warning.", 0.1, 0, 1},
	{"ml.drift_js_alert", "Jensen-Shannon distance at or above which a categorical feature is an alert.", 0.2, 0, 1},
	{"ml.drift_null_rate_warn", "Change in a feature's NULL rate at or above which it is a warning.", 0.05, 0, 1},
	{"ml.drift_null_rate_alert", "Change in a feature's NULL rate at or above which it is an alert.", 0.1, 0, 1},
	{"ml.drift_mean_shift_warn", "Mean shift, in reference standard deviations, at or above which a feature is a warning.", 0.5, 0, 1e6},
	{"ml.drift_mean_shift_alert", "Mean shift, in reference standard deviations, at or above which a feature is an alert.", 1.0, 0, 1e6},
	{"ml.drift_performance_warn", "Relative worsening of a test metric at or above which performance is a warning.", 0.1, 0, 1e6},
	{"ml.drift_performance_alert", "Relative worsening of a test metric at or above which performance is an alert.", 0.25, 0, 1e6},
	{"ml.drift_dataset_share", "Share of drifted features at or above which the dataset verdict is drift.", 0.5, 0, 1},
};

static void
define_drift_settings(void)
{
	int			i;

	for (i = 0; i < lengthof(drift_settings); i++)
	{
		DriftSetting *d = &drift_settings[i];

		DefineCustomRealVariable(d->name, d->description, NULL, &d->value, d->boot, d->min, d->max,
								 PGC_USERSET, 0, NULL, NULL, NULL);
	}
}

/* The core's interrupt hook: a cancel or termination is pending. */
static int
core_interrupted(void)
{
	return InterruptPending && (QueryCancelPending || ProcDiePending);
}

void		_PG_init(void);

void
_PG_init(void)
{
	mlc_set_allocator(core_alloc, core_free);
	mlc_set_interrupt(core_interrupted);

	DefineCustomIntVariable("ml.max_parallel_workers",
							"Maximum number of parallel workers one training may use.",
							"Also capped by max_parallel_workers and max_worker_processes. "
							"0 trains in the leader alone; the model is identical either way.",
							&ml_max_parallel_workers, 4, 0, 1024,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ml.work_mem",
							"Memory each training participant may use to keep rows between passes.",
							"Chunks beyond it are read again from the table in each pass.",
							&ml_work_mem_kb, 256 * 1024, 1024, MAX_KILOBYTES,
							PGC_USERSET, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomBoolVariable("ml.progress",
							 "Report the phases of long operations as NOTICE messages.",
							 NULL, &ml_progress, true, PGC_USERSET, 0, NULL, NULL, NULL);
	define_drift_settings();
	ml_model_cache_init();
	MarkGUCPrefixReserved("ml");
}

/*
 * ml_raise_core_error maps a core status to an SQLSTATE and throws.
 */
void
ml_raise_core_error(const mlc_error *err)
{
	int			code;

	switch (err->code)
	{
		case MLC_ENOMEM:
			code = ERRCODE_OUT_OF_MEMORY;
			break;
		case MLC_EINVAL:
			code = ERRCODE_INVALID_PARAMETER_VALUE;
			break;
		case MLC_ESINGULAR:
			code = ERRCODE_DATA_EXCEPTION;
			break;
		case MLC_ECORRUPT:
			code = ERRCODE_DATA_CORRUPTED;
			break;
		case MLC_ENODATA:
			code = ERRCODE_DATA_EXCEPTION;
			break;
		case MLC_EINTR:
			/* the pending cancel or termination raises its own error */
			CHECK_FOR_INTERRUPTS();
			code = ERRCODE_QUERY_CANCELED;
			break;
		default:
			code = ERRCODE_INTERNAL_ERROR;
			break;
	}
	ereport(ERROR,
			(errcode(code),
			 errmsg_internal("%s", err->msg),
			 err->detail[0] ? errdetail_internal("%s", err->detail) : 0));
	pg_unreachable();
}

/* ml_progress_notice reports a phase when ml.progress is on. */
void
ml_progress_notice(const char *fmt,...)
{
	char		buf[1024];
	va_list		ap;

	if (!ml_progress)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ereport(NOTICE, (errmsg_internal("%s", buf)));
}

double
ml_elapsed_seconds(TimestampTz since)
{
	return (double) (GetCurrentTimestamp() - since) / 1000000.0;
}

PG_FUNCTION_INFO_V1(ml_notice);
Datum
ml_notice(PG_FUNCTION_ARGS)
{
	ml_progress_notice("%s", text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(ml_check_model_name);
Datum
ml_check_model_name(PG_FUNCTION_ARGS)
{
	char	   *name;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("name must not be NULL")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!mlc_model_name_valid(name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid name \"%s\"", name),
				 errdetail("Names are 1 to 63 letters, digits, '_', '.' or '-', and do not start with '.' or '-'."),
				 errhint("A version or stage is given separately, e.g. 'house_price@3'.")));
	PG_RETURN_TEXT_P(PG_GETARG_TEXT_PP(0));
}

PG_FUNCTION_INFO_V1(ml_parse_model_ref);
Datum
ml_parse_model_ref(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	mlc_model_ref ref;
	mlc_error	err;
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (mlc_model_ref_parse(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &ref, &err) != MLC_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("%s", err.msg),
				 errhint("Refer to a model as 'name', 'name@3' (a version) or 'name@production' (a stage).")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = CStringGetTextDatum(ref.name);
	values[1] = Int32GetDatum(ref.version);
	nulls[1] = ref.kind != MLC_REF_VERSION;
	values[2] = CStringGetTextDatum(ref.stage);
	nulls[2] = ref.kind != MLC_REF_STAGE;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/*
 * ml_blas_info reports which OpenBLAS build this backend loaded and how many
 * threads the backend process has (from /proc/self/status).
 */
PG_FUNCTION_INFO_V1(ml_blas_info);
Datum
ml_blas_info(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	FILE	   *f;
	char		line[256];
	int			threads = -1;

	f = AllocateFile("/proc/self/status", "r");
	if (f)
	{
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "Threads: %d", &threads) == 1)
				break;
		FreeFile(f);
	}
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = Int32GetDatum(mlc_blas_threads());
	values[1] = BoolGetDatum(mlc_blas_is_sequential());
	values[2] = Int32GetDatum(threads);
	nulls[2] = threads < 0;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
