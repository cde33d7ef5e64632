/*
 * engine.h: the parallel training engine.
 *
 * The relation is cut into fixed chunks of heap blocks, a function of its
 * size alone.  A training is a sequence of passes; in each pass every chunk
 * yields a partial (an array of doubles) computed from the chunk's rows and
 * the parameters the leader published.  The leader combines the partials in
 * chunk order, so results never depend on which participant did what.
 */
#ifndef ML_ENGINE_H
#define ML_ENGINE_H

#include "postgres.h"
#include "storage/dsm.h"
#include "storage/shm_toc.h"
#include "utils/rel.h"

#include "lib/stringinfo.h"

#include "encode.h"
#include "mlcore.h"

/*
 * What the engine reads: an optional target (a number, or a label mapped to
 * a class id) and the model's inputs, each encoded into its slice of the
 * expanded feature vector (imputation and one-hot as the model will score).
 */
typedef enum MLTargetKind
{
	ML_TARGET_NONE = 0,			/* y is 0 */
	ML_TARGET_NUMBER = 1,
	ML_TARGET_CLASS = 2			/* y is the class id */
} MLTargetKind;

typedef struct MLPlan
{
	MLTargetKind target_kind;
	AttrNumber	target_attnum;
	Oid			target_typid;
	int			n_classes;
	char	  **classes;
	double	   *class_values;	/* numeric labels (ascending), or NULL */
	int			n_inputs;
	AttrNumber *attnums;
	Oid		   *typids;
	mlc_encoder *enc;
	int			p;				/* expanded features: sum of widths */
	int			folds;			/* cross-validation folds of train rows, 0: none */
	bool		use_aggregates; /* run passes as SQL aggregates, not parallel workers */
	bool		missing_as_nan; /* NULL and non-finite inputs read as NaN (trees) */
	int32		seed;			/* fold assignment */
} MLPlan;

/* One chunk's usable rows, split into train and test, as dense columns. */
typedef struct MLChunk
{
	int64		n_train;
	int64		n_test;
	int64		n_skipped;		/* rows with a NULL or non-finite value */
	int			p;				/* features */
	double	   *Xtr;			/* n_train x p, column-major */
	double	   *ytr;
	double	   *Xte;			/* n_test x p, column-major */
	double	   *yte;
	uint8	   *fold;			/* n_train fold ids, when the plan has folds */
	bool		kept;			/* rows stay in memory between passes */
	void	   *state;			/* an algorithm's per-chunk state (kept chunks only) */
} MLChunk;

/*
 * Memory for MLChunk.state: lives as long as the participant's kept rows.
 * Valid inside ml_chunk_partial.
 */
extern MemoryContext ml_chunk_state_cxt;

typedef struct MLEngine MLEngine;

extern MLEngine *ml_engine_begin(Relation rel, const MLPlan *plan, AttrNumber split_attnum,
								 int algorithm, int partial_doubles, int param_doubles);
extern double *ml_engine_params(MLEngine *e);
/* Runs one pass; returns nchunks x partial_doubles partials, valid until the next pass. */
extern double *ml_engine_run_pass(MLEngine *e, int pass_kind);
extern double *ml_engine_run_pass_accumulate(MLEngine *e, int pass_kind, Size used, int *nslots);
extern int	ml_engine_nchunks(MLEngine *e);
extern int	ml_engine_workers(MLEngine *e);
extern void ml_engine_end(MLEngine *e);

/*
 * Implemented by the algorithms (train.c): compute the partial of one chunk
 * for one pass.  Runs in the leader and in workers.
 */
extern void ml_chunk_partial(int algorithm, int pass_kind, int p, const MLChunk *chunk,
							 const double *params, double *partial);

/*
 * Shared by both engines: a row's encoding (y first, then the p features;
 * values/isnull indexed by attribute number - 1), a train row's
 * cross-validation fold, and the plan as bytes (pointers of the
 * deserialized plan point into the bytes).
 */
extern bool ml_encode_row(const MLPlan *plan, MLInputReader *readers, MLLabel *label,
						  const Datum *values, const bool *isnull, double *row);
extern uint8 ml_row_fold(const MLPlan *plan, const double *row, int width);
extern void ml_plan_serialize(const MLPlan *plan, StringInfo buf);
extern MLPlan *ml_plan_deserialize(const char *pos, Size len);

/*
 * The aggregate engine (aggengine.c): each pass is one SQL aggregate query
 * over the relation, so PostgreSQL's parallel aggregation, postgres_fdw
 * and Citus can compute it where the rows are.  The passes' partials come
 * back combined, as a single chunk.
 */
typedef struct MLAggEngine MLAggEngine;

/* Whether the parallel engine cannot scan rel block by block. */
extern bool ml_relation_needs_aggregates(Relation rel);
extern MLAggEngine *ml_agg_engine_begin(Relation rel, const MLPlan *plan, AttrNumber split_attnum,
										int algorithm, int partial_doubles, int param_doubles);
extern double *ml_agg_engine_params(MLAggEngine *a);
extern double *ml_agg_engine_run_pass(MLAggEngine *a, int pass_kind);
extern void ml_agg_engine_end(MLAggEngine *a);

extern PGDLLEXPORT void ml_engine_worker_main(dsm_segment *seg, shm_toc *toc);

#endif							/* ML_ENGINE_H */
