/*
 * pg_mlops.h: shared declarations of the PostgreSQL glue.
 */
#ifndef PG_MLOPS_H
#define PG_MLOPS_H

#include "postgres.h"
#include "datatype/timestamp.h"
#include "mlcore.h"

/* GUCs */
extern int	ml_max_parallel_workers;
extern int	ml_work_mem_kb;
extern bool ml_progress;

/* pg_mlops.c */
extern void ml_raise_core_error(const mlc_error *err) pg_attribute_noreturn();
/* A core call's status: ERROR unless MLC_OK. */
static inline void
ml_check_core(mlc_status st, const mlc_error *err)
{
	if (st != MLC_OK)
		ml_raise_core_error(err);
}
extern void ml_progress_notice(const char *fmt,...) pg_attribute_printf(1, 2);
extern double ml_elapsed_seconds(TimestampTz since);

/* rowhash.c: value to double for numeric types; false for unsupported types */
extern bool ml_type_is_numeric(Oid typid);
extern double ml_datum_to_double(Datum d, Oid typid);

/* rowhash.c: plan a source query (inside SPI): one statement returning rows */
struct CachedPlanSource;
extern struct CachedPlanSource *ml_prepare_source(const char *query);

/* predict.c: the decoded model with this id (cached per backend) */
extern const mlc_model *ml_model_by_id(int64 id, const char **label);

/*
 * privilege.c: inside an entry, code running as the extension's owner acts
 * for the entry's caller; ml_enter_caller switches to the caller's rights
 * (and search_path) until ml_leave_caller, and does nothing elsewhere.
 */
typedef struct MLCallerSwitch
{
	bool		active;
	Oid			save_uid;
	int			save_sec;
	int			guc_level;
} MLCallerSwitch;
extern Oid	ml_caller_id(void);
extern Oid	ml_registry_owner(void);
struct RelationData;
extern void ml_check_snapshot_relation(struct RelationData *rel);
extern void ml_enter_caller(MLCallerSwitch *sw, bool with_path);
extern void ml_leave_caller(MLCallerSwitch *sw);

#endif							/* PG_MLOPS_H */
