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
} MLChunk;

typedef struct MLEngine MLEngine;

/* Columns read: attnums[0] is the target, attnums[1..p] the features. */
extern MLEngine *ml_engine_begin(Relation rel, int p, const AttrNumber *attnums,
								 const Oid *typids, AttrNumber split_attnum,
								 int algorithm, int partial_doubles, int param_doubles);
extern double *ml_engine_params(MLEngine *e);
/* Runs one pass; returns nchunks x partial_doubles partials, valid until the next pass. */
extern double *ml_engine_run_pass(MLEngine *e, int pass_kind);
extern int	ml_engine_nchunks(MLEngine *e);
extern int	ml_engine_workers(MLEngine *e);
extern void ml_engine_end(MLEngine *e);

/*
 * Implemented by the algorithms (train.c): compute the partial of one chunk
 * for one pass.  Runs in the leader and in workers.
 */
extern void ml_chunk_partial(int algorithm, int pass_kind, int p, const MLChunk *chunk,
							 const double *params, double *partial);

extern PGDLLEXPORT void ml_engine_worker_main(dsm_segment *seg, shm_toc *toc);

#endif							/* ML_ENGINE_H */
