/*
 * trainplan.h: what a training reads (trainplan.c).
 *
 * The plan names the target and the model's inputs, each encoded into its
 * slice of the expanded feature vector (imputation and one-hot as the model
 * will score).  Both engines read rows through the same encoding, and both
 * carry the plan as the core's bounds-checked bytes (src/core/plan.c): to
 * parallel workers in shared memory, to ml._pass as an argument.
 */
#ifndef ML_TRAINPLAN_H
#define ML_TRAINPLAN_H

#include "postgres.h"
#include "access/attnum.h"
#include "lib/stringinfo.h"

#include "encode.h"
#include "mlcore.h"

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

/*
 * A row's encoding into row[0 .. p] (y first, then the p features), from
 * its attributes (values/isnull indexed by attribute number - 1); false
 * when the row cannot be used.
 */
extern bool ml_encode_row(const MLPlan *plan, MLInputReader *readers, MLLabel *label,
						  const Datum *values, const bool *isnull, double *row);
/* A train row's cross-validation fold: a hash of its encoding and the seed. */
extern uint8 ml_row_fold(const MLPlan *plan, const double *row, int width);
/* Readers of the plan's inputs and label, allocated in mcxt. */
extern void ml_plan_readers_init(const MLPlan *plan, MemoryContext mcxt, MLInputReader **readers,
								 MLLabel *label);
/* The plan as bytes; decoding checks every length (ERROR otherwise). */
extern void ml_plan_serialize(const MLPlan *plan, StringInfo buf);
extern MLPlan *ml_plan_deserialize(const char *pos, Size len);

/* ml._pass's plan argument: this header, then the plan's bytes. */
typedef struct MLPassPlanHeader
{
	int32		algorithm;
	int32		partial_len;
} MLPassPlanHeader;

#endif							/* ML_TRAINPLAN_H */
