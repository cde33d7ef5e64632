/*
 * chunk.c: what every partial function needs of its chunk: the rows of a
 * cross-validation split, and memory for state kept between passes.
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "passes.h"

MemoryContext ml_chunk_state_cxt = NULL;
Size		ml_chunk_state_bytes = 0;

/* Zeroed memory for MLChunk.state, counted against ml.work_mem by the engine. */
void *
ml_chunk_state_alloc(Size size)
{
	size = Max(size, 1);
	ml_chunk_state_bytes += size;
	return MemoryContextAllocExtended(ml_chunk_state_cxt, size, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}

/* The chunk's training and validation rows for a holdout fold. */
void
ml_chunk_views(const MLChunk *c, int holdout, mlc_block *tr, mlc_block *va)
{
	int			p = c->p;
	int64		i,
				nv = 0,
				nt = 0,
				it = 0,
				iv = 0;
	double	   *Xt,
			   *yt,
			   *Xv,
			   *yv;
	int			j;

	if (holdout < 0 || c->fold == NULL)
	{
		*tr = (mlc_block) {c->n_train, p, c->Xtr, c->ytr};
		*va = (mlc_block) {c->n_test, p, c->Xte, c->yte};
		return;
	}
	for (i = 0; i < c->n_train; i++)
		nv += c->fold[i] == holdout;
	nt = c->n_train - nv;
	Xt = palloc_extended(sizeof(double) * Max(1, nt * p), MCXT_ALLOC_HUGE);
	yt = palloc_extended(sizeof(double) * Max(1, nt), MCXT_ALLOC_HUGE);
	Xv = palloc_extended(sizeof(double) * Max(1, nv * p), MCXT_ALLOC_HUGE);
	yv = palloc_extended(sizeof(double) * Max(1, nv), MCXT_ALLOC_HUGE);
	for (i = 0; i < c->n_train; i++)
	{
		if (c->fold[i] == holdout)
		{
			for (j = 0; j < p; j++)
				Xv[j * nv + iv] = c->Xtr[j * c->n_train + i];
			yv[iv++] = c->ytr[i];
		}
		else
		{
			for (j = 0; j < p; j++)
				Xt[j * nt + it] = c->Xtr[j * c->n_train + i];
			yt[it++] = c->ytr[i];
		}
	}
	*tr = (mlc_block) {nt, p, Xt, yt};
	*va = (mlc_block) {nv, p, Xv, yv};
}

const double *
ml_partial_views(const MLChunk *c, const double *params, mlc_block *tr, mlc_block *va)
{
	ml_chunk_views(c, (int) params[PARAM_HOLDOUT], tr, va);
	return params + PARAM_FIRST;
}
