/*
 * engine.h: the training engines behind one interface.
 *
 * An engine runs a training's passes (passes.h) over a relation's rows:
 * begin, then any number of passes, each returning its partials, then end.
 * Two engines implement it:
 *   parallel.c   the leader and parallel workers over fixed chunks of heap
 *                blocks; one partial per chunk, folded in chunk order
 *   aggengine.c  each pass one SQL aggregate query (ml._pass, aggpass.c),
 *                so PostgreSQL's parallel aggregation, postgres_fdw and
 *                Citus compute it where the rows are; one combined partial
 * The plan says which (plan->use_aggregates): train.c decides it once.
 */
#ifndef ML_ENGINE_H
#define ML_ENGINE_H

#include "postgres.h"
#include "storage/dsm.h"
#include "storage/shm_toc.h"
#include "utils/rel.h"

#include "trainplan.h"

typedef struct MLEngine MLEngine;

typedef struct MLEngineOps
{
	const char *name;
	/* the parameters the next pass reads (params[PARAM_HOLDOUT] first) */
	double	   *(*params) (MLEngine *e);

	/*
	 * Runs one pass and returns its partial, combined over every row by the
	 * pass's combine function (valid until the next pass); a pass without
	 * one (a sample) returns nchunks partials of partial_doubles each.
	 */
	double	   *(*run_pass) (MLEngine *e, int pass);
	int			(*nchunks) (MLEngine *e);
	int			(*workers) (MLEngine *e);
	void		(*end) (MLEngine *e);	/* or NULL */
} MLEngineOps;

struct MLEngine
{
	const MLEngineOps *ops;
};

/* The engine the plan names (engine.c). */
extern MLEngine *ml_engine_begin(Relation rel, const MLPlan *plan, AttrNumber split_attnum,
								 int algorithm, int partial_doubles, int param_doubles);

static inline double *
ml_engine_params(MLEngine *e)
{
	return e->ops->params(e);
}

static inline double *
ml_engine_run_pass(MLEngine *e, int pass)
{
	return e->ops->run_pass(e, pass);
}

static inline int
ml_engine_nchunks(MLEngine *e)
{
	return e->ops->nchunks(e);
}

static inline int
ml_engine_workers(MLEngine *e)
{
	return e->ops->workers(e);
}

static inline void
ml_engine_end(MLEngine *e)
{
	if (e->ops->end != NULL)
		e->ops->end(e);
}

/* parallel.c */
extern MLEngine *ml_parallel_engine_begin(Relation rel, const MLPlan *plan, AttrNumber split_attnum,
										  int partial_doubles, int param_doubles);
extern PGDLLEXPORT void ml_engine_worker_main(dsm_segment *seg, shm_toc *toc);

/* aggengine.c (the aggregate states record the algorithm) */
extern MLEngine *ml_agg_engine_begin(Relation rel, const MLPlan *plan, AttrNumber split_attnum,
									 int algorithm, int partial_doubles, int param_doubles);
/* Whether the parallel engine cannot scan rel block by block. */
extern bool ml_relation_needs_aggregates(Relation rel);

#endif							/* ML_ENGINE_H */
