/*
 * parallel.c: the parallel engine (see engine.h), which runs a training's
 * passes in the leader and parallel workers over fixed chunks of heap
 * blocks.
 *
 * The relation is cut into chunks of heap blocks, a function of its size
 * alone; every chunk yields one partial per pass, and the leader's caller
 * combines them in chunk order, so results never depend on which
 * participant did what.
 *
 * Protocol: the leader publishes a pass (kind and parameters) by bumping a
 * generation number under a spinlock and broadcasting a condition variable.
 * Every participant (the leader included) first processes the chunks it
 * kept in memory from an earlier pass, then claims unkept chunks from a
 * shared counter and reads them from the table.  When the last chunk of a
 * pass is done the leader wakes, combines, and publishes the next pass.
 * A chunk kept by a participant is only ever processed by it again, so the
 * rows never move between processes.
 */
#include "postgres.h"

#include <math.h>
#include <sys/mman.h>

#include "access/parallel.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/condition_variable.h"
#include "storage/bufmgr.h"
#include "storage/shm_toc.h"
#include "storage/spin.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "common/hashfn.h"
#include "utils/lsyscache.h"

#include "engine.h"
#include "passes.h"
#include "pg_mlops.h"
#include "trainplan.h"

/* The shared library workers load (a test build may install it under another name). */
#ifndef ML_LIBRARY_NAME
#define ML_LIBRARY_NAME "pg_mlops"
#endif

/* Fixed chunking: never fewer blocks than this per chunk ... */
#define ML_CHUNK_MIN_BLOCKS 32
/* ... and never more chunks than this, or than the partials budget allows. */
#define ML_MAX_CHUNKS 1024
#define ML_PARTIALS_BUDGET (64 * 1024 * 1024)

#define ML_KEY_SHARED	UINT64CONST(0x4D4C000000000001)
#define ML_KEY_COLUMNS	UINT64CONST(0x4D4C000000000002)
#define ML_KEY_OWNERS	UINT64CONST(0x4D4C000000000003)
#define ML_KEY_PARAMS	UINT64CONST(0x4D4C000000000004)
#define ML_KEY_PARTIALS UINT64CONST(0x4D4C000000000005)

#define ML_GENERATION_DONE (-1)

typedef struct MLShared
{
	/* set by the leader before launch, then read-only */
	Oid			relid;
	BlockNumber nblocks;
	int			chunk_blocks;
	int			nchunks;
	int			p;
	AttrNumber	split_attnum;
	int			partial_doubles;
	int			param_doubles;
	Size		keep_budget;	/* bytes of rows a participant may keep */

	/* protected by mutex */
	slock_t		mutex;
	int			generation;		/* current pass number, or ML_GENERATION_DONE */
	int			pass_kind;
	bool		accumulate;		/* partials per participant, not per chunk */
	int			next_chunk;		/* claim counter of the current pass */
	int			chunks_done;	/* chunks finished in the current pass */

	ConditionVariable work_cv;	/* leader -> participants: new pass */
	ConditionVariable done_cv;	/* participants -> leader: chunk done */
} MLShared;

/* The plan travels to workers serialized (plan_serialize). */
typedef struct MLPlanBlob
{
	Size		len;
	char		data[FLEXIBLE_ARRAY_MEMBER];
} MLPlanBlob;

/* A participant's local state. */
typedef struct MLParticipant
{
	MLShared   *shared;
	MLPlan	   *plan;
	MLInputReader *readers;		/* per input */
	MLLabel		label;			/* class targets */
	bool		fast_float8;	/* float8 number inputs (and target): fast path */
	int		   *owners;			/* per chunk: participant keeping it, or -1 */
	double	   *params;
	double	   *partials;
	int			me;				/* 0 = leader, k = worker k - 1 */
	Relation	rel;
	MemoryContext keep_cxt;		/* chunks kept across passes */
	MemoryContext state_cxt;	/* their per-chunk state, emptied by a new_state pass */
	Size		state_bytes;	/* held in state_cxt, counted against the budget */
	MemoryContext chunk_cxt;	/* reset after each chunk */
	MLChunk   **kept;			/* per chunk, kept by me, or NULL */
	Size		kept_bytes;
	double	   *rows[2];		/* row-major read buffers: [0] train, [1] test */
	int64		rows_cap[2];
	char	   *slab;			/* bump allocator for kept rows */
	Size		slab_left;
} MLParticipant;

typedef struct MLParallelEngine
{
	MLEngine	base;
	ParallelContext *pcxt;
	MLParticipant part;
	int			workers;
	double	   *combined;		/* a pass's folded partial */
} MLParallelEngine;

/* ---------- reading ---------- */

static inline void
grow_rows(double **buf, int64 *cap, int64 need, int width)
{
	if (need <= *cap)
		return;
	*cap = Max(need, *cap * 2);
	*buf = repalloc_huge(*buf, (Size) (*cap) * width * sizeof(double));
}

#define ML_SLAB_SIZE ((Size) 64 * 1024 * 1024)
#define ML_HUGE_PAGE ((Size) 2 * 1024 * 1024)

/*
 * keep_alloc carves memory for kept rows from large slabs.  Slabs are
 * offered to the kernel for transparent huge pages: rows kept for later
 * passes are touched once per page, and 2 MB pages make that far cheaper.
 */
static double *
keep_alloc(MLParticipant *pt, Size size)
{
	char	   *p;

	size = TYPEALIGN(64, Max(size, 1));
	if (size > pt->slab_left)
	{
		Size		len = Max(size, ML_SLAB_SIZE);
		char	   *raw = MemoryContextAllocExtended(pt->keep_cxt, len + ML_HUGE_PAGE, MCXT_ALLOC_HUGE);

		pt->slab = (char *) TYPEALIGN(ML_HUGE_PAGE, raw);
		pt->slab_left = len;
#ifdef MADV_HUGEPAGE
		(void) madvise(pt->slab, len, MADV_HUGEPAGE);
#endif
	}
	p = pt->slab;
	pt->slab += size;
	pt->slab_left -= size;
	return (double *) p;
}

/*
 * read_chunk reads the chunk's blocks in physical order and returns its
 * usable rows as dense train and test columns.  They are kept for later
 * passes while the participant's budget allows, else allocated in the
 * per-chunk context.
 */
static MLChunk *
read_chunk(MLParticipant *pt, int chunk)
{
	MLShared   *sh = pt->shared;
	MLPlan	   *plan = pt->plan;
	int			width = sh->p + 1;
	BlockNumber start = (BlockNumber) chunk * sh->chunk_blocks;
	BlockNumber nblk = Min((BlockNumber) sh->chunk_blocks, sh->nblocks - start);
	ItemPointerData mintid,
				maxtid;
	TableScanDesc scan;
	TupleTableSlot *slot;
	AttrNumber	maxatt = Max(sh->split_attnum, plan->target_attnum);
	MemoryContext old;
	MLChunk    *c;
	Size		bytes;
	bool		keep;
	double	  **rows = pt->rows;	/* reused across chunks */
	int64	   *cap = pt->rows_cap;
	int64		n[2] = {0, 0};
	int64		seen = 0;
	uint8	   *folds = NULL;
	int64		folds_cap = 0;
	int			j,
				s;

	for (j = 0; j < plan->n_inputs; j++)
		maxatt = Max(maxatt, plan->attnums[j]);

	old = MemoryContextSwitchTo(pt->chunk_cxt);
	c = palloc0(sizeof(MLChunk));
	c->p = sh->p;

	ItemPointerSet(&mintid, start, FirstOffsetNumber);
	ItemPointerSet(&maxtid, start + nblk - 1, MaxOffsetNumber);
	scan = table_beginscan_tidrange(pt->rel, GetActiveSnapshot(), &mintid, &maxtid);
	slot = table_slot_create(pt->rel, NULL);
	while (table_scan_getnextslot_tidrange(scan, ForwardScanDirection, slot))
	{
		double	   *row;
		bool		usable = false;

		if ((++seen & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		slot_getsomeattrs(slot, maxatt);
		s = DatumGetBool(slot->tts_values[sh->split_attnum - 1]) ? 1 : 0;
		grow_rows(&rows[s], &cap[s], n[s] + 1, width);
		row = rows[s] + n[s] * width;
		if (pt->fast_float8)
		{
			/* Branch-free: x * 0 is NaN exactly when x is NaN or infinite. */
			bool		anynull = false;
			double		probe = 0.0;
			int			a = plan->target_attnum - 1;

			anynull = slot->tts_isnull[a];
			row[0] = DatumGetFloat8(slot->tts_values[a]);
			probe = row[0] * 0.0;
			for (j = 0; j < plan->n_inputs; j++)
			{
				a = plan->attnums[j] - 1;
				anynull |= slot->tts_isnull[a];
				row[j + 1] = DatumGetFloat8(slot->tts_values[a]);
				probe += row[j + 1] * 0.0;
			}
			usable = !anynull && probe == 0.0;
			/* NULLs and non-finite values: imputed, missing or refused by the general path */
			if (!usable)
				usable = ml_encode_row(plan, pt->readers, &pt->label, slot->tts_values, slot->tts_isnull, row);
		}
		else
			usable = ml_encode_row(plan, pt->readers, &pt->label, slot->tts_values, slot->tts_isnull, row);
		if (!usable)
		{
			c->n_skipped++;
			continue;
		}
		if (s == 0 && plan->folds > 0)
		{
			if (n[0] >= folds_cap)
			{
				folds_cap = Max(1024, folds_cap * 2);
				folds = folds ? repalloc_huge(folds, folds_cap) : palloc_extended(folds_cap, MCXT_ALLOC_HUGE);
			}
			folds[n[0]] = ml_row_fold(plan, row, width);
		}
		n[s]++;
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);

	bytes = (Size) (n[0] + n[1]) * width * sizeof(double) + (folds ? n[0] : 0);
	keep = pt->kept_bytes + bytes <= sh->keep_budget;
	if (keep)
	{
		MLChunk    *kept = MemoryContextAlloc(pt->keep_cxt, sizeof(MLChunk));

		memcpy(kept, c, sizeof(MLChunk));
		c = kept;
		c->kept = true;
		pt->kept[chunk] = c;
		pt->kept_bytes += bytes;
		pt->owners[chunk] = pt->me;
	}
	if (folds)
	{
		c->fold = keep ? (uint8 *) keep_alloc(pt, n[0]) : folds;
		if (keep)
			memcpy(c->fold, folds, n[0]);
	}

	/* Transpose to column-major: X columns, then y. */
	for (s = 0; s < 2; s++)
	{
		Size		xbytes = (Size) n[s] * sh->p * sizeof(double);
		Size		ybytes = (Size) n[s] * sizeof(double);
		double	   *X = keep ? keep_alloc(pt, xbytes)
			: MemoryContextAllocExtended(pt->chunk_cxt, Max(xbytes, 1), MCXT_ALLOC_HUGE);
		double	   *y = keep ? keep_alloc(pt, ybytes)
			: MemoryContextAllocExtended(pt->chunk_cxt, Max(ybytes, 1), MCXT_ALLOC_HUGE);
		int64		i;

		for (i = 0; i < n[s]; i++)
		{
			const double *row = rows[s] + i * width;

			y[i] = row[0];
			for (j = 0; j < sh->p; j++)
				X[j * n[s] + i] = row[j + 1];
		}
		if (s == 0)
		{
			c->n_train = n[0];
			c->Xtr = X;
			c->ytr = y;
		}
		else
		{
			c->n_test = n[1];
			c->Xte = X;
			c->yte = y;
		}
	}
	MemoryContextSwitchTo(old);
	return c;
}

/* ---------- participating ---------- */

static void
process_chunk(MLParticipant *pt, int chunk, int pass_kind)
{
	MLShared   *sh = pt->shared;
	MLChunk    *c = pt->kept[chunk];
	MemoryContext old;

	if (c == NULL)
		c = read_chunk(pt, chunk);
	ml_chunk_state_cxt = pt->state_cxt;
	ml_chunk_state_bytes = 0;
	old = MemoryContextSwitchTo(pt->chunk_cxt);
	/* an accumulating pass adds every chunk into the participant's own slot */
	ml_pass(pass_kind)->partial(pass_kind, c, pt->params,
								pt->partials + (Size) (sh->accumulate ? pt->me : chunk) * sh->partial_doubles);
	MemoryContextSwitchTo(old);
	MemoryContextReset(pt->chunk_cxt);
	pt->state_bytes += ml_chunk_state_bytes;
	if (pt->kept_bytes + pt->state_bytes > sh->keep_budget)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the training's rows and per-row state need more than ml.work_mem (%zu kB)",
						sh->keep_budget / 1024),
				 errhint("Raise ml.work_mem (SET ml.work_mem = '2GB'), use more parallel workers, or train on fewer rows or features.")));

	SpinLockAcquire(&sh->mutex);
	sh->chunks_done++;
	if (sh->chunks_done == sh->nchunks)
	{
		SpinLockRelease(&sh->mutex);
		ConditionVariableBroadcast(&sh->done_cv);
	}
	else
		SpinLockRelease(&sh->mutex);
}

/* Claim the next chunk nobody keeps; -1 when the pass has none left. */
static int
claim_chunk(MLParticipant *pt, int generation)
{
	MLShared   *sh = pt->shared;
	int			chunk = -1;

	SpinLockAcquire(&sh->mutex);
	if (sh->generation == generation)
	{
		while (sh->next_chunk < sh->nchunks && pt->owners[sh->next_chunk] >= 0)
			sh->next_chunk++;
		if (sh->next_chunk < sh->nchunks)
			chunk = sh->next_chunk++;
	}
	SpinLockRelease(&sh->mutex);
	return chunk;
}

/* Do this participant's share of one pass. */
static void
participate(MLParticipant *pt, int generation, int pass_kind)
{
	int			chunk;

	/* a new fit: the state of the last one (trees of a trial) goes */
	if (ml_pass(pass_kind)->new_state)
	{
		MemoryContextReset(pt->state_cxt);
		pt->state_bytes = 0;
		for (chunk = 0; chunk < pt->shared->nchunks; chunk++)
			if (pt->kept[chunk] != NULL)
				pt->kept[chunk]->state = NULL;
	}
	for (chunk = 0; chunk < pt->shared->nchunks; chunk++)
	{
		if (pt->kept[chunk] != NULL)
		{
			CHECK_FOR_INTERRUPTS();
			process_chunk(pt, chunk, pass_kind);
		}
	}
	while ((chunk = claim_chunk(pt, generation)) >= 0)
	{
		CHECK_FOR_INTERRUPTS();
		process_chunk(pt, chunk, pass_kind);
	}
}

static void
participant_init(MLParticipant *pt, shm_toc *toc, int me, bool noerror)
{
	MLPlanBlob *blob;
	MLPlan	   *plan;
	int			i;

	pt->shared = shm_toc_lookup(toc, ML_KEY_SHARED, noerror);
	blob = shm_toc_lookup(toc, ML_KEY_COLUMNS, noerror);
	pt->plan = plan = ml_plan_deserialize(blob->data, blob->len);
	pt->owners = shm_toc_lookup(toc, ML_KEY_OWNERS, noerror);
	pt->params = shm_toc_lookup(toc, ML_KEY_PARAMS, noerror);
	pt->partials = shm_toc_lookup(toc, ML_KEY_PARTIALS, noerror);
	pt->me = me;
	ml_plan_readers_init(plan, CurrentMemoryContext, &pt->readers, &pt->label);
	pt->fast_float8 = plan->target_kind == ML_TARGET_NUMBER &&
		getBaseType(plan->target_typid) == FLOAT8OID;
	for (i = 0; i < plan->n_inputs; i++)
		pt->fast_float8 &= plan->enc[i].kind == MLC_ENC_NUMBER &&
			getBaseType(plan->typids[i]) == FLOAT8OID;
	pt->keep_cxt = AllocSetContextCreate(CurrentMemoryContext, "pg_mlops kept chunks",
										 ALLOCSET_DEFAULT_SIZES);
	pt->state_cxt = AllocSetContextCreate(CurrentMemoryContext, "pg_mlops chunk state",
										  ALLOCSET_DEFAULT_SIZES);
	pt->chunk_cxt = AllocSetContextCreate(CurrentMemoryContext, "pg_mlops chunk",
										  ALLOCSET_DEFAULT_SIZES);
	pt->kept = palloc0(sizeof(MLChunk *) * pt->shared->nchunks);
	pt->kept_bytes = 0;
	for (i = 0; i < 2; i++)
	{
		pt->rows_cap[i] = 1024;
		pt->rows[i] = palloc_extended(pt->rows_cap[i] * (pt->shared->p + 1) * sizeof(double),
									  MCXT_ALLOC_HUGE);
	}
}

/* Entry point of a parallel worker. */
void
ml_engine_worker_main(dsm_segment *seg, shm_toc *toc)
{
	MLParticipant pt;
	int			seen = 0;

	memset(&pt, 0, sizeof(pt));
	participant_init(&pt, toc, ParallelWorkerNumber + 1, false);
	pt.rel = table_open(pt.shared->relid, AccessShareLock);

	for (;;)
	{
		int			generation;
		int			pass_kind;

		ConditionVariablePrepareToSleep(&pt.shared->work_cv);
		for (;;)
		{
			SpinLockAcquire(&pt.shared->mutex);
			generation = pt.shared->generation;
			pass_kind = pt.shared->pass_kind;
			SpinLockRelease(&pt.shared->mutex);
			if (generation == ML_GENERATION_DONE || generation > seen)
				break;
			ConditionVariableSleep(&pt.shared->work_cv, PG_WAIT_EXTENSION);
		}
		ConditionVariableCancelSleep();
		if (generation == ML_GENERATION_DONE)
			break;
		participate(&pt, generation, pass_kind);
		seen = generation;
	}
	table_close(pt.rel, AccessShareLock);
}

/* ---------- leader ---------- */

static const MLEngineOps parallel_ops;

MLEngine *
ml_parallel_engine_begin(Relation rel, const MLPlan *plan, AttrNumber split_attnum,
						 int partial_doubles, int param_doubles)
{
	MLParallelEngine *e = palloc0(sizeof(MLParallelEngine));
	BlockNumber nblocks = RelationGetNumberOfBlocks(rel);
	int			max_chunks;
	int			chunk_blocks;
	int			nchunks;
	int			nworkers;
	Size		partial_bytes = (Size) partial_doubles * sizeof(double);
	StringInfoData planbuf;
	Size		cols_bytes;
	int			p = plan->p;
	ParallelContext *pcxt;
	MLShared   *sh;
	MLPlanBlob *cols;
	int		   *owners;
	int			i;

	initStringInfo(&planbuf);
	ml_plan_serialize(plan, &planbuf);
	cols_bytes = offsetof(MLPlanBlob, data) + planbuf.len;

	/* Fixed chunking, a function of the relation size and partial size only. */
	max_chunks = (int) Min((Size) ML_MAX_CHUNKS, Max((Size) 1, ML_PARTIALS_BUDGET / partial_bytes));
	chunk_blocks = Max(ML_CHUNK_MIN_BLOCKS, (int) ((nblocks + max_chunks - 1) / max_chunks));
	nchunks = Max(1, (int) ((nblocks + chunk_blocks - 1) / chunk_blocks));

	nworkers = Min(ml_max_parallel_workers, nchunks - 1);
	if (IsInParallelMode() || !IsUnderPostmaster)
		nworkers = 0;
	nworkers = Max(nworkers, 0);

	EnterParallelMode();
	pcxt = CreateParallelContext(ML_LIBRARY_NAME, "ml_engine_worker_main", nworkers);
	shm_toc_estimate_chunk(&pcxt->estimator, sizeof(MLShared));
	shm_toc_estimate_chunk(&pcxt->estimator, cols_bytes);
	shm_toc_estimate_chunk(&pcxt->estimator, sizeof(int) * nchunks);
	shm_toc_estimate_chunk(&pcxt->estimator, sizeof(double) * Max(1, param_doubles));
	shm_toc_estimate_chunk(&pcxt->estimator, partial_bytes * nchunks);
	shm_toc_estimate_keys(&pcxt->estimator, 5);
	InitializeParallelDSM(pcxt);

	sh = shm_toc_allocate(pcxt->toc, sizeof(MLShared));
	memset(sh, 0, sizeof(MLShared));
	sh->relid = RelationGetRelid(rel);
	sh->nblocks = nblocks;
	sh->chunk_blocks = chunk_blocks;
	sh->nchunks = nchunks;
	sh->p = p;
	sh->split_attnum = split_attnum;
	sh->partial_doubles = partial_doubles;
	sh->param_doubles = param_doubles;
	sh->keep_budget = (Size) ml_work_mem_kb * 1024;
	SpinLockInit(&sh->mutex);
	sh->generation = 0;
	ConditionVariableInit(&sh->work_cv);
	ConditionVariableInit(&sh->done_cv);
	shm_toc_insert(pcxt->toc, ML_KEY_SHARED, sh);

	cols = shm_toc_allocate(pcxt->toc, cols_bytes);
	cols->len = planbuf.len;
	memcpy(cols->data, planbuf.data, planbuf.len);
	shm_toc_insert(pcxt->toc, ML_KEY_COLUMNS, cols);

	owners = shm_toc_allocate(pcxt->toc, sizeof(int) * nchunks);
	for (i = 0; i < nchunks; i++)
		owners[i] = -1;
	shm_toc_insert(pcxt->toc, ML_KEY_OWNERS, owners);
	shm_toc_insert(pcxt->toc, ML_KEY_PARAMS,
				   shm_toc_allocate(pcxt->toc, sizeof(double) * Max(1, param_doubles)));
	shm_toc_insert(pcxt->toc, ML_KEY_PARTIALS,
				   shm_toc_allocate(pcxt->toc, partial_bytes * nchunks));

	if (nworkers > 0)
		LaunchParallelWorkers(pcxt);

	e->base.ops = &parallel_ops;
	e->pcxt = pcxt;
	e->workers = pcxt->nworkers_launched;
	participant_init(&e->part, pcxt->toc, 0, false);
	e->part.rel = rel;
	e->combined = palloc_extended(partial_bytes, MCXT_ALLOC_HUGE);
	return &e->base;
}

static double *
parallel_params(MLEngine *base)
{
	return ((MLParallelEngine *) base)->part.params;
}

static int
parallel_nchunks(MLEngine *base)
{
	return ((MLParallelEngine *) base)->part.shared->nchunks;
}

static int
parallel_workers(MLEngine *base)
{
	return ((MLParallelEngine *) base)->workers;
}

/*
 * One pass: every chunk's partial into its slot, or, for an accumulating
 * pass (exact integer sums), every participant's chunks added into the
 * participant's slot, zeroed first (which chunks a participant takes
 * varies from run to run).  The slots are then folded in order with the
 * pass's combine function, so the result never depends on who did what.
 */
static double *
parallel_run_pass(MLEngine *base, int pass_kind)
{
	MLParallelEngine *e = (MLParallelEngine *) base;
	MLShared   *sh = e->part.shared;
	const MLPassDef *def = ml_pass(pass_kind);
	Size		n = sh->partial_doubles;
	int			nslots = def->accumulate ? e->workers + 1 : sh->nchunks;
	int			k = def->k_param >= 0 ? (int) e->part.params[def->k_param] : 0;
	int			generation,
				i;

	/* workers are waiting for the next generation: the slots are ours */
	if (def->accumulate)
		memset(e->part.partials, 0, sizeof(double) * n * nslots);

	SpinLockAcquire(&sh->mutex);
	sh->pass_kind = pass_kind;
	sh->accumulate = def->accumulate;
	sh->next_chunk = 0;
	sh->chunks_done = 0;
	generation = ++sh->generation;
	SpinLockRelease(&sh->mutex);
	ConditionVariableBroadcast(&sh->work_cv);

	participate(&e->part, generation, pass_kind);

	/* Wait for the chunks kept or claimed by workers. */
	ConditionVariablePrepareToSleep(&sh->done_cv);
	for (;;)
	{
		bool		done;

		SpinLockAcquire(&sh->mutex);
		done = sh->chunks_done == sh->nchunks;
		SpinLockRelease(&sh->mutex);
		if (done)
			break;
		ConditionVariableSleep(&sh->done_cv, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();

	if (def->combine == NULL)
		return e->part.partials;
	memcpy(e->combined, e->part.partials, sizeof(double) * n);
	for (i = 1; i < nslots; i++)
		def->combine(e->combined, e->part.partials + (Size) i * n, n, sh->p, k);
	return e->combined;
}

static void
parallel_end(MLEngine *base)
{
	MLParallelEngine *e = (MLParallelEngine *) base;
	MLShared   *sh = e->part.shared;

	SpinLockAcquire(&sh->mutex);
	sh->generation = ML_GENERATION_DONE;
	SpinLockRelease(&sh->mutex);
	ConditionVariableBroadcast(&sh->work_cv);

	if (e->workers > 0)
		WaitForParallelWorkersToFinish(e->pcxt);
	MemoryContextDelete(e->part.keep_cxt);
	MemoryContextDelete(e->part.state_cxt);
	MemoryContextDelete(e->part.chunk_cxt);
	DestroyParallelContext(e->pcxt);
	ExitParallelMode();
}

static const MLEngineOps parallel_ops = {
	.name = "parallel",
	.params = parallel_params,
	.run_pass = parallel_run_pass,
	.nchunks = parallel_nchunks,
	.workers = parallel_workers,
	.end = parallel_end,
};
