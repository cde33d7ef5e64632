/*
 * passes.h: the passes of a training, as one table both engines read
 * (passes.c), and the chunk of rows a pass runs over.  Each algorithm
 * family (fit.h) computes its own passes' partials; evaluation and
 * sampling are shared (partials.c).
 *
 * A training is a sequence of passes.  In a pass every chunk of rows yields
 * a partial (an array of doubles) computed from the chunk's rows and the
 * parameters the leader published; the parallel engine runs the partials
 * in its participants, the aggregate engine in ml._pass's transition, and
 * both combine them by the pass's rule.
 */
#ifndef ML_PASSES_H
#define ML_PASSES_H

#include "postgres.h"

#include "mlcore.h"
#include "wire.h"

typedef enum MLPass
{
	PASS_STATS = MLC_PASS_STATS,	/* linear family, pca: counts, means, R of [X y] */
	PASS_REFINE = MLC_PASS_REFINE,	/* linear: exact residuals */
	PASS_EVAL = MLC_PASS_EVAL,	/* metrics of an encoded model on both row sets */
	PASS_LOGISTIC = MLC_PASS_LOGISTIC,	/* gradient and Hessian at beta */
	PASS_SOFTMAX = MLC_PASS_SOFTMAX,	/* loss and gradient at W */
	PASS_SAMPLE = MLC_PASS_SAMPLE,	/* kmeans, trees: a content-hash sample of rows */
	PASS_KMEANS = MLC_PASS_KMEANS,	/* per-centroid sums of every run */
	PASS_NB = MLC_PASS_NB,		/* per-class moments */
	PASS_LOGISTIC_W = MLC_PASS_LOGISTIC_W,	/* PASS_LOGISTIC with class weights */
	PASS_SOFTMAX_W = MLC_PASS_SOFTMAX_W,	/* PASS_SOFTMAX with class weights */
	PASS_TREE_INIT,				/* trees (tree_partials.c): bin the rows */
	PASS_TREE_GRAD,
	PASS_TREE_HIST,
	PASS_TREE_UPDATE,
	PASS_TREE_EVAL,
	PASS_TREE_KEEP,				/* early stopping: keep / restore the best round's scores */
	ML_N_PASSES
} MLPass;

/* How the partials of two sets of rows combine. */
typedef enum MLCombine
{
	ML_COMBINE_NONE = 0,		/* per-chunk state: the parallel engine only */
	ML_COMBINE_ADD = MLC_AGG_RULE_ADD,	/* element by element */
	ML_COMBINE_STATS = MLC_AGG_RULE_STATS,	/* 3 counts added, then mlc_linear_stats_merge */
	ML_COMBINE_NB = MLC_AGG_RULE_NB,	/* mlc_nb_combine (Chan) */
	ML_COMBINE_SAMPLE = MLC_AGG_RULE_SAMPLE /* concatenation of (hash, row) records */
} MLCombine;

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
	uint8	   *fold;			/* n_train fold ids, when the plan has folds */
	bool		kept;			/* rows stay in memory between passes */
	void	   *state;			/* an algorithm's per-chunk state (kept chunks only) */
} MLChunk;

typedef void (*MLPartialFn) (int pass, const MLChunk *chunk, const double *params, double *partial);

/*
 * Combines the partial of more rows into acc: n doubles (a slot's), p
 * features, k the pass's count (classes, outputs) where it has one.
 */
typedef void (*MLCombineFn) (double *acc, const double *part, Size n, int p, int k);

typedef struct MLPassDef
{
	const char *name;
	MLPartialFn partial;		/* one chunk's partial */
	MLCombineFn combine;		/* NULL: every chunk's partial comes back (samples) */
	int			k_param;		/* params index of the count combine needs, or -1 */
	MLCombine	rule;			/* an aggregate state's rule; NONE: the parallel engine only */
	bool		accumulate;		/* exact integer sums: a participant adds its chunks into one slot */
	bool		new_state;		/* starts the chunks' state afresh (a new fit) */
	/* doubles of params the pass reads (a prefix), given params[PARAM_FIRST..] */
	double		(*params_used) (const double *prm, int p);
} MLPassDef;

extern const MLPassDef ml_passes[ML_N_PASSES];

/* The pass's entry; ERROR for a number that is no pass. */
extern const MLPassDef *ml_pass(int pass);

/*
 * params[0] of every pass is the fold held out for validation, or -1: the
 * fit then trains on the train split and validates on the test split.
 */
#define PARAM_HOLDOUT 0
#define PARAM_FIRST 1

/* Layout of the PASS_STATS partial: counts, then the core's chunk stats. */
#define STATS_N_TRAIN 0
#define STATS_N_VALID 1
#define STATS_N_SKIPPED 2
#define STATS_FIRST 3

#define ML_REG_DOUBLES ((int) (sizeof(mlc_reg_metrics) / sizeof(double)))

/* Rows kept per chunk by PASS_SAMPLE. */
#define ML_SAMPLE_PER_CHUNK 1024
/* Rows k-means++ seeds from (about; all rows when there are fewer). */
#define ML_SAMPLE_ROWS 20000

/* Doubles of one row set's metrics in a PASS_EVAL partial. */
extern int	ml_eval_doubles(mlc_task task, int K);

/*
 * Memory for MLChunk.state: valid inside a partial function.  The engine
 * empties it when a pass with new_state begins and counts what it holds
 * against ml.work_mem (ml_chunk_state_bytes).
 */
extern MemoryContext ml_chunk_state_cxt;
extern Size ml_chunk_state_bytes;
extern void *ml_chunk_state_alloc(Size size);

/* The rows of a cross-validation split: the chunk's own or copies (chunk.c). */
extern void ml_chunk_views(const MLChunk *c, int holdout, mlc_block *tr, mlc_block *va);
/* A partial function's start: the views for params[PARAM_HOLDOUT]; returns the pass's own parameters. */
extern const double *ml_partial_views(const MLChunk *c, const double *params, mlc_block *tr, mlc_block *va);

/* The partials, each of its family's passes (fit_*.c), or shared (partials.c). */
extern void ml_linear_partial(int pass, const MLChunk *chunk, const double *params, double *partial);
extern void ml_glm_partial(int pass, const MLChunk *chunk, const double *params, double *partial);
extern void ml_kmeans_partial(int pass, const MLChunk *chunk, const double *params, double *partial);
extern void ml_naive_bayes_partial(int pass, const MLChunk *chunk, const double *params, double *partial);
extern void ml_common_partial(int pass, const MLChunk *chunk, const double *params, double *partial);
/* qsort_arg order of sample records (hash, row), width in doubles as the argument */
extern int	ml_sample_cmp(const void *a, const void *b, void *width);

/* tree_partials.c */
extern void ml_tree_partial(int pass, const MLChunk *chunk, const double *params, double *partial);
/* Node histograms per HIST pass: bounds a chunk partial. */
#define ML_TREE_SLOTS 8
#define ML_TREE_MAX_EDGES (MLC_MAX_BINS - 1)
/* Outputs of the trees (V), gradient columns of one tree (G), nodes of a tree */
extern int	ml_tree_outputs(mlc_algorithm alg, int K);
extern int	ml_tree_grad_columns(mlc_algorithm alg, int K);
extern int	ml_tree_max_nodes(const mlc_hparams *hp);
extern int	ml_tree_partial_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K);
extern int	ml_tree_param_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K);

#endif							/* ML_PASSES_H */
