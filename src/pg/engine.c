/*
 * engine.c: the parallel training engine (see engine.h).
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

#include "encode.h"
#include "engine.h"
#include "pg_mlops.h"
#include "wire.h"

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

MemoryContext ml_chunk_state_cxt = NULL;

typedef struct MLShared
{
	/* set by the leader before launch, then read-only */
	Oid			relid;
	BlockNumber nblocks;
	int			chunk_blocks;
	int			nchunks;
	int			p;
	AttrNumber	split_attnum;
	int			algorithm;
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
	MemoryContext chunk_cxt;	/* reset after each chunk */
	MLChunk   **kept;			/* per chunk, kept by me, or NULL */
	Size		kept_bytes;
	double	   *rows[2];		/* row-major read buffers: [0] train, [1] test */
	int64		rows_cap[2];
	char	   *slab;			/* bump allocator for kept rows */
	Size		slab_left;
} MLParticipant;

struct MLEngine
{
	MLAggEngine *agg;			/* the aggregate engine runs the passes, or NULL */
	ParallelContext *pcxt;
	MLParticipant part;
	int			workers;
};

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
 * Encode one row (its attributes as values/isnull, by attribute number - 1)
 * into row[0 .. p] (y first); false when it cannot be used.  Shared by the
 * parallel engine's reader and the aggregate engine's transition function,
 * so both see exactly the same rows.
 */
bool
ml_encode_row(const MLPlan *plan, MLInputReader *readers, MLLabel *label,
			  const Datum *values, const bool *isnull, double *row)
{
	int			a = plan->target_attnum - 1;
	int			i;

	switch (plan->target_kind)
	{
		case ML_TARGET_NONE:
			row[0] = 0.0;
			break;
		case ML_TARGET_NUMBER:
			if (isnull[a])
				return false;
			row[0] = ml_datum_to_double(values[a], plan->target_typid);
			if (!isfinite(row[0]))
				return false;
			break;
		case ML_TARGET_CLASS:
			{
				int			id;

				if (isnull[a])
					return false;
				id = ml_label_class(label, values[a]);
				if (id < 0)
					return false;
				row[0] = id;
			}
			break;
	}
	for (i = 0; i < plan->n_inputs; i++)
	{
		int			att = plan->attnums[i] - 1;

		if (!ml_reader_encode(&readers[i], values[att], isnull[att], row + 1, "training"))
			return false;
	}
	return true;
}

static inline bool
encode_row(MLParticipant *pt, TupleTableSlot *slot, double *row)
{
	return ml_encode_row(pt->plan, pt->readers, &pt->label, slot->tts_values, slot->tts_isnull, row);
}

/*
 * Cross-validation fold of a train row: a hash of its encoded values and
 * the seed, so folds do not depend on where rows sit in the table (or on
 * which engine reads them).
 */
uint8
ml_row_fold(const MLPlan *plan, const double *row, int width)
{
	return (uint8) (mlc_siphash(row, sizeof(double) * width, MLC_CONTENT_K0 ^ (uint64) plan->seed,
								MLC_CONTENT_K2) % (uint64) plan->folds);
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
				usable = encode_row(pt, slot, row);
		}
		else
			usable = encode_row(pt, slot, row);
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

/* ---------- the plan in shared memory ---------- */

/*
 * The plan as bytes: the core's encoding (wire.h), so the same checked
 * decoder reads the plan a worker gets and the plan SQL passes to ml._pass.
 */
void
ml_plan_serialize(const MLPlan *plan, StringInfo buf)
{
	mlc_plan	pl;
	mlc_error	err;
	uint8_t    *out;
	size_t		out_len;
	int			i;

	memset(&pl, 0, sizeof(pl));
	pl.target_kind = (int) plan->target_kind;
	pl.target_attnum = plan->target_attnum;
	pl.target_typid = plan->target_typid;
	pl.n_classes = plan->n_classes;
	pl.classes = plan->classes;
	pl.class_values = plan->class_values;
	pl.n_inputs = plan->n_inputs;
	pl.attnums = palloc(sizeof(int) * Max(1, plan->n_inputs));
	pl.typids = palloc(sizeof(uint32_t) * Max(1, plan->n_inputs));
	for (i = 0; i < plan->n_inputs; i++)
	{
		pl.attnums[i] = plan->attnums[i];
		pl.typids[i] = plan->typids[i];
	}
	pl.enc = plan->enc;
	pl.p = plan->p;
	pl.folds = plan->folds;
	pl.use_aggregates = plan->use_aggregates;
	pl.missing_as_nan = plan->missing_as_nan;
	pl.seed = plan->seed;
	if (mlc_plan_encode(&pl, &out, &out_len, &err) != MLC_OK)
		ml_raise_core_error(&err);
	appendBinaryStringInfo(buf, (const char *) out, (int) out_len);
	mlc_free(out);
	pfree(pl.attnums);
	pfree(pl.typids);
}

/* Decode len bytes at pos (checked: ERROR for bytes that are not a plan). */
MLPlan *
ml_plan_deserialize(const char *pos, Size len)
{
	MLPlan	   *plan = palloc0(sizeof(MLPlan));
	mlc_plan	pl;
	mlc_error	err;
	int			i,
				k;

	if (mlc_plan_decode((const uint8_t *) pos, len, &pl, &err) != MLC_OK)
		ereport(ERROR,
				(errcode(err.code == MLC_ENOMEM ? ERRCODE_OUT_OF_MEMORY : ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("%s", err.msg),
				 err.detail[0] ? errdetail("%s", err.detail) : 0));
	plan->target_kind = (MLTargetKind) pl.target_kind;
	plan->target_attnum = (AttrNumber) pl.target_attnum;
	plan->target_typid = pl.target_typid;
	plan->n_classes = pl.n_classes;
	plan->classes = palloc(sizeof(char *) * Max(1, pl.n_classes));
	for (i = 0; i < pl.n_classes; i++)
		plan->classes[i] = pstrdup(pl.classes[i]);
	if (pl.class_values != NULL)
	{
		plan->class_values = palloc(sizeof(double) * Max(1, pl.n_classes));
		memcpy(plan->class_values, pl.class_values, sizeof(double) * pl.n_classes);
	}
	plan->n_inputs = pl.n_inputs;
	plan->attnums = palloc(sizeof(AttrNumber) * Max(1, pl.n_inputs));
	plan->typids = palloc(sizeof(Oid) * Max(1, pl.n_inputs));
	plan->enc = palloc0(sizeof(mlc_encoder) * Max(1, pl.n_inputs));
	for (i = 0; i < pl.n_inputs; i++)
	{
		plan->attnums[i] = (AttrNumber) pl.attnums[i];
		plan->typids[i] = pl.typids[i];
		plan->enc[i] = pl.enc[i];
		plan->enc[i].column = pstrdup(pl.enc[i].column);
		plan->enc[i].categories = palloc(sizeof(char *) * Max(1, pl.enc[i].n_categories));
		for (k = 0; k < pl.enc[i].n_categories; k++)
			plan->enc[i].categories[k] = pstrdup(pl.enc[i].categories[k]);
	}
	plan->p = pl.p;
	plan->folds = pl.folds;
	plan->use_aggregates = pl.use_aggregates != 0;
	plan->missing_as_nan = pl.missing_as_nan != 0;
	plan->seed = pl.seed;
	mlc_plan_free(&pl);
	return plan;
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
	ml_chunk_state_cxt = pt->keep_cxt;
	old = MemoryContextSwitchTo(pt->chunk_cxt);
	/* an accumulating pass adds every chunk into the participant's own slot */
	ml_chunk_partial(sh->algorithm, pass_kind, sh->p, c, pt->params,
					 pt->partials + (Size) (sh->accumulate ? pt->me : chunk) * sh->partial_doubles);
	MemoryContextSwitchTo(old);
	MemoryContextReset(pt->chunk_cxt);

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
	int			i,
				offset;

	pt->shared = shm_toc_lookup(toc, ML_KEY_SHARED, noerror);
	blob = shm_toc_lookup(toc, ML_KEY_COLUMNS, noerror);
	pt->plan = plan = ml_plan_deserialize(blob->data, blob->len);
	pt->owners = shm_toc_lookup(toc, ML_KEY_OWNERS, noerror);
	pt->params = shm_toc_lookup(toc, ML_KEY_PARAMS, noerror);
	pt->partials = shm_toc_lookup(toc, ML_KEY_PARTIALS, noerror);
	pt->me = me;
	pt->readers = palloc(sizeof(MLInputReader) * Max(1, plan->n_inputs));
	pt->fast_float8 = plan->target_kind == ML_TARGET_NUMBER &&
		getBaseType(plan->target_typid) == FLOAT8OID;
	for (i = 0, offset = 0; i < plan->n_inputs; i++)
	{
		ml_reader_init(&pt->readers[i], &plan->enc[i], plan->typids[i], offset, "training",
					   plan->missing_as_nan, CurrentMemoryContext);
		offset += plan->enc[i].width;
		pt->fast_float8 &= plan->enc[i].kind == MLC_ENC_NUMBER &&
			getBaseType(plan->typids[i]) == FLOAT8OID;
	}
	if (plan->target_kind == ML_TARGET_CLASS)
		ml_label_init(&pt->label, plan->target_typid, plan->n_classes, plan->classes,
					  plan->class_values, CurrentMemoryContext);
	pt->keep_cxt = AllocSetContextCreate(CurrentMemoryContext, "pg_mlops kept chunks",
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

MLEngine *
ml_engine_begin(Relation rel, const MLPlan *plan, AttrNumber split_attnum,
				int algorithm, int partial_doubles, int param_doubles)
{
	MLEngine   *e = palloc0(sizeof(MLEngine));
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

	/*
	 * Sources this engine cannot scan block by block (foreign, partitioned,
	 * distributed tables and views over them) train through aggregates.
	 * The plan records the path, so the model says which one trained it.
	 */
	if (!plan->use_aggregates && ml_relation_needs_aggregates(rel))
		((MLPlan *) plan)->use_aggregates = true;
	if (plan->use_aggregates)
	{
		e->agg = ml_agg_engine_begin(rel, plan, split_attnum, algorithm, partial_doubles, param_doubles);
		return e;
	}

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
	sh->algorithm = algorithm;
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

	e->pcxt = pcxt;
	e->workers = pcxt->nworkers_launched;
	participant_init(&e->part, pcxt->toc, 0, false);
	e->part.rel = rel;
	return e;
}

double *
ml_engine_params(MLEngine *e)
{
	if (e->agg)
		return ml_agg_engine_params(e->agg);
	return e->part.params;
}

int
ml_engine_nchunks(MLEngine *e)
{
	if (e->agg)
		return 1;
	return e->part.shared->nchunks;
}

int
ml_engine_workers(MLEngine *e)
{
	if (e->agg)
		return 0;
	return e->workers;
}

/*
 * An accumulating pass: ml_chunk_partial adds (+=) each chunk into the
 * slot of the participant that processes it, so the pass returns one slot
 * per participant (*nslots of them), zeroed here first up to used doubles
 * (the part the pass writes; 0 = all).  Only for partials whose sums are
 * exact in any order (integer histograms): which chunks a participant
 * takes varies from run to run.
 */
double *
ml_engine_run_pass_accumulate(MLEngine *e, int pass_kind, Size used, int *nslots)
{
	int			i;

	MLShared   *sh;
	double	   *partials;

	if (e->agg)
	{
		*nslots = 1;
		return ml_agg_engine_run_pass(e->agg, pass_kind);
	}
	sh = e->part.shared;
	*nslots = e->workers + 1;
	/* workers are waiting for the next generation: the slots are ours */
	if (used == 0 || used > (Size) sh->partial_doubles)
		used = sh->partial_doubles;
	for (i = 0; i < *nslots; i++)
		memset(e->part.partials + (Size) i * sh->partial_doubles, 0, sizeof(double) * used);
	sh->accumulate = true;
	partials = ml_engine_run_pass(e, pass_kind);
	sh->accumulate = false;
	return partials;
}

double *
ml_engine_run_pass(MLEngine *e, int pass_kind)
{
	MLShared   *sh;
	int			generation;

	if (e->agg)
		return ml_agg_engine_run_pass(e->agg, pass_kind);
	sh = e->part.shared;

	SpinLockAcquire(&sh->mutex);
	sh->pass_kind = pass_kind;
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
	return e->part.partials;
}

void
ml_engine_end(MLEngine *e)
{
	MLShared   *sh;

	if (e->agg)
	{
		ml_agg_engine_end(e->agg);
		return;
	}
	sh = e->part.shared;

	SpinLockAcquire(&sh->mutex);
	sh->generation = ML_GENERATION_DONE;
	SpinLockRelease(&sh->mutex);
	ConditionVariableBroadcast(&sh->work_cv);

	if (e->workers > 0)
		WaitForParallelWorkersToFinish(e->pcxt);
	MemoryContextDelete(e->part.keep_cxt);
	MemoryContextDelete(e->part.chunk_cxt);
	DestroyParallelContext(e->pcxt);
	ExitParallelMode();
}
