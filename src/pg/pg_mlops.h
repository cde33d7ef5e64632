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

/*
 * modelcache.c: model references resolved once per statement, decoded models
 * cached per backend (ml.model_cache_size).  A model found through
 * ml_resolve_model stays valid while ml_model_cache_generation holds; one
 * from ml_model_by_id until the end of the transaction.
 */
typedef struct MLCachedModel
{
	int64		id;				/* hash key */
	char		hash[80];		/* what was verified: registered hash, */
	char		digest[80];		/* digest, */
	uint64		bytes_id;		/* and identity of the stored bytes */
	char		label[80];		/* name@version, for messages */
	MemoryContext cxt;
	Size		bytes;			/* memory held by cxt */
	uint64		last_used;
	LocalTransactionId pinned_lxid; /* not evicted during this transaction */
	mlc_model	model;
} MLCachedModel;
/* What a statement sees: its transaction, command and snapshot. */
typedef struct MLStamp
{
	LocalTransactionId lxid;
	CommandId	cid;
	TransactionId xmin;
	TransactionId xmax;
	uint32		xcnt;
	int32		subxcnt;
} MLStamp;
static inline bool
ml_stamp_equal(const MLStamp *a, const MLStamp *b)
{
	return a->lxid == b->lxid && a->cid == b->cid && a->xmin == b->xmin && a->xmax == b->xmax &&
		a->xcnt == b->xcnt && a->subxcnt == b->subxcnt;
}
extern bool ml_stamp_now(MLStamp *s);
extern int	ml_model_cache_size_kb;
extern uint64 ml_model_cache_generation;
extern void ml_model_cache_init(void);
extern MLCachedModel *ml_resolve_model(bool by_id, Datum ref);
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
