/*
 * fit.h: the algorithms' leader side: each fit runs passes (passes.h) on an
 * engine (engine.h) and combines their partials into a model (fit.c for
 * the linear family, logistic, softmax, k-means, PCA and naive Bayes;
 * fit_tree.c for trees; fit_common.c for what they share).
 */
#ifndef ML_FIT_H
#define ML_FIT_H

#include "postgres.h"
#include "datatype/timestamp.h"
#include "lib/stringinfo.h"

#include "engine.h"
#include "passes.h"

typedef struct MLFit
{
	/* set by the caller */
	MLEngine   *engine;
	const MLPlan *plan;
	mlc_algorithm alg;
	mlc_hparams hp;
	int			holdout;		/* fold held out, or -1 */
	int64		train_rows_hint;	/* for the sampling rate */
	char	  **feature_names;	/* plan->p expanded names */
	int			partial_doubles;
	/* results */
	int64		n_train;
	int64		n_valid;
	int64		n_skipped;
	int			n_arrays;
	mlc_array	arrays[16];
	StringInfoData summary;		/* JSON members, no braces */
	StringInfoData history;		/* JSON array elements, no brackets */
	int			iterations;
	bool		converged;
	double		objective;		/* final training loss, for messages */
} MLFit;

/* Doubles a chunk partial needs for every pass the algorithm runs. */
extern int	ml_fit_partial_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K);
extern int	ml_fit_param_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K);
/* What a model predicts: fixed by the algorithm, for trees by the target (K classes, 0 = a number). */
extern mlc_task ml_algorithm_task(mlc_algorithm alg, int K);

/* fit_tree.c */
extern void ml_fit_trees(MLFit *fit);
extern double *ml_tree_evaluate(MLFit *fit);

/* Fit on the engine's rows; fills the results. */
extern void ml_fit_run(MLFit *fit);

/*
 * Metrics of an encoded model (built from fit's arrays by the caller) on
 * the fit's training rows and validation rows: appends two JSON objects,
 * "train" and "valid" (named as given) to buf, and returns the score used
 * by hyperparameter search on the validation rows (higher is better).
 */
extern double ml_fit_evaluate(MLFit *fit, const mlc_model *model, const uint8 *enc, size_t enc_len,
							  StringInfo buf, const char *train_name, const char *valid_name);
extern const char *ml_search_score_name(mlc_task task);

/* The steps every algorithm takes (fit_common.c). */
extern double *ml_fit_pass(MLFit *fit, int pass_kind);	/* params[PARAM_HOLDOUT] set */
extern double *ml_fit_partial(MLFit *fit, double *partials, int chunk);
extern void ml_fit_add_array(MLFit *fit, const char *name, int rows, int cols, double *data);
extern void ml_fit_history(MLFit *fit, int iteration, double train_loss, double valid_loss,
						   double step, TimestampTz t0);
/* Every train row whose seeded content hash is under rate: n records (hash, row), by hash. */
extern double *ml_fit_sample(MLFit *fit, double rate, double seed, int64 *n);

/* JSON helpers shared with train.c */
extern void ml_json_number(StringInfo buf, double v);
extern void ml_json_key_number(StringInfo buf, const char *key, double v, bool comma);

#endif							/* ML_FIT_H */
