/*
 * trainplan.c: what a training reads, as every engine reads it: a row's
 * encoding, a train row's fold, and the plan's bytes (see trainplan.h).
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"

#include "pg_mlops.h"
#include "trainplan.h"
#include "wire.h"

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


/* Readers of the plan's inputs and its label, in mcxt. */
void
ml_plan_readers_init(const MLPlan *plan, MemoryContext mcxt, MLInputReader **readers, MLLabel *label)
{
	int			i,
				offset;

	*readers = MemoryContextAlloc(mcxt, sizeof(MLInputReader) * Max(1, plan->n_inputs));
	for (i = 0, offset = 0; i < plan->n_inputs; i++)
	{
		ml_reader_init(&(*readers)[i], &plan->enc[i], plan->typids[i], offset, "training",
					   plan->missing_as_nan, mcxt);
		offset += plan->enc[i].width;
	}
	if (plan->target_kind == ML_TARGET_CLASS)
		ml_label_init(label, plan->target_typid, plan->n_classes, plan->classes,
					  plan->class_values, mcxt);
}
