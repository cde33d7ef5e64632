/*
 * engine.c: the engine a training plan names (see engine.h).
 */
#include "postgres.h"

#include "engine.h"

MLEngine *
ml_engine_begin(Relation rel, const MLPlan *plan, AttrNumber split_attnum,
				int algorithm, int partial_doubles, int param_doubles)
{
	if (plan->use_aggregates)
		return ml_agg_engine_begin(rel, plan, split_attnum, algorithm, partial_doubles, param_doubles);
	return ml_parallel_engine_begin(rel, plan, split_attnum, partial_doubles, param_doubles);
}
