/*
 * fit.h: the algorithm families.  Each family's fit runs passes (passes.h)
 * on an engine (engine.h) and combines their partials into a model: one
 * module per family (fit_linear.c, fit_pca.c, fit_glm.c, fit_kmeans.c,
 * fit_naive_bayes.c, fit_tree.c), what they share in fit_common.c, and the
 * family table, sizing and evaluation in fit.c.
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
	const char *score_name;		/* the search's metric; NULL: ml_search_score_name */
	/* class weights (glm): 0 none, 1 given in class_weight, 2 balanced over the fit's train rows */
	int			class_weight_mode;
	const double *class_weight; /* n_classes values, mode 1 */
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

/*
 * An algorithm family: its fit, and the doubles its passes' partials and
 * parameters need (param_doubles NULL: no more than an encoded model).
 * Its per-chunk partials are entries of the pass table (passes.c).
 */
typedef struct MLAlgorithmFamily
{
	const char *name;
	void		(*fit) (MLFit *fit);
	Size		(*partial_doubles) (mlc_algorithm alg, const mlc_hparams *hp, int p, int K);
	Size		(*param_doubles) (mlc_algorithm alg, const mlc_hparams *hp, int p, int K);
} MLAlgorithmFamily;

extern const MLAlgorithmFamily ml_linear_family;	/* fit_linear.c */
extern const MLAlgorithmFamily ml_pca_family;	/* fit_pca.c */
extern const MLAlgorithmFamily ml_glm_family;	/* fit_glm.c */
extern const MLAlgorithmFamily ml_kmeans_family;	/* fit_kmeans.c */
extern const MLAlgorithmFamily ml_naive_bayes_family;	/* fit_naive_bayes.c */
extern const MLAlgorithmFamily ml_tree_family;	/* fit_tree.c */

/* The linear family's chunk statistics, merged (PCA uses them too). */
extern double *ml_linear_stats_pass(MLFit *fit);

/* Doubles a chunk partial needs for every pass the algorithm runs. */
extern int	ml_fit_partial_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K);
extern int	ml_fit_param_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K);
/* What a model predicts: fixed by the algorithm, for trees by the target (K classes, 0 = a number). */
extern mlc_task ml_algorithm_task(mlc_algorithm alg, int K);

/* fit_tree.c */
extern double *ml_tree_evaluate(MLFit *fit);

/* Fit on the engine's rows; fills the results. */
extern void ml_fit_run(MLFit *fit);

/*
 * Metrics of an encoded model (built from fit's arrays by the caller) on
 * the fit's training rows and validation rows: appends two JSON objects,
 * "train" and "valid" (named as given) to buf, and returns the value of
 * the search's metric (fit->score_name) on the validation rows.
 */
extern double ml_fit_evaluate(MLFit *fit, const mlc_model *model, const uint8 *enc, size_t enc_len,
							  StringInfo buf, const char *train_name, const char *valid_name);
extern const char *ml_search_score_name(mlc_task task);
/* Whether higher is better for a search metric; ERROR (22023, valid names listed) for another name. */
extern bool ml_search_score_check(mlc_task task, int K, const char *name);

/* The steps every algorithm takes (fit_common.c). */
/* Runs a pass with params[PARAM_HOLDOUT] set; its combined partial (engine.h). */
extern double *ml_fit_pass(MLFit *fit, int pass_kind);
extern void ml_fit_add_array(MLFit *fit, const char *name, int rows, int cols, double *data);
extern void ml_fit_history(MLFit *fit, int iteration, double train_loss, double valid_loss,
						   double step, TimestampTz t0);
/* Every train row whose seeded content hash is under rate: n records (hash, row), by hash. */
extern double *ml_fit_sample(MLFit *fit, double rate, double seed, int64 *n);

/* The summary's "coefficients": per term its estimate and, where given, inference. */
extern void ml_fit_summary_coefficients(MLFit *fit, const double *beta, const double *se, const double *stat,
										const char *stat_name, const double *pval, const double *odds);
extern void ml_fit_no_rows_error(MLFit *fit);
extern void ml_fit_iteration_warning(MLFit *fit, const char *what);

/* JSON helpers shared with train.c */
extern void ml_json_number(StringInfo buf, double v);
extern void ml_json_key_number(StringInfo buf, const char *key, double v, bool comma);
extern void ml_json_key_array(StringInfo buf, const char *key, const double *v, int n, bool comma);

#endif							/* ML_FIT_H */
