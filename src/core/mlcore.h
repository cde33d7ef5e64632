/*
 * mlcore.h: the pure-C numeric core of pg_mlops.
 *
 * No PostgreSQL headers here: the same code is linked into the backend
 * module, the unit tests, the fuzzers and exported edge scorers.  Memory
 * comes from a pluggable allocator (the backend plugs in palloc); errors are
 * returned as status codes with a message in an mlc_error, never thrown.
 */
#ifndef MLCORE_H
#define MLCORE_H

#include <stddef.h>
#include <stdint.h>

/* ---------- status codes, errors, memory ---------- */

typedef enum mlc_status
{
	MLC_OK = 0,
	MLC_ENOMEM,					/* allocation failed */
	MLC_EINVAL,					/* bad argument (shape, range, name) */
	MLC_ESINGULAR,				/* rank-deficient or singular system */
	MLC_ECORRUPT,				/* encoded model failed validation */
	MLC_ELAPACK,				/* LAPACK reported an error */
	MLC_ENODATA,				/* not enough rows */
	MLC_EINTR					/* the interrupt hook asked to stop */
} mlc_status;

typedef struct mlc_error
{
	mlc_status	code;
	char		msg[256];		/* lower case, no trailing period */
	char		detail[512];	/* full sentence(s), may be empty */
} mlc_error;

/* mlc_fail fills err (when not NULL) and returns code. */
mlc_status	mlc_fail(mlc_error *err, mlc_status code, const char *detail,
					 const char *fmt,...) __attribute__((format(printf, 4, 5)));

/*
 * Allocator hooks.  Defaults are malloc/free.  The backend installs palloc
 * wrappers so that core memory lives in the caller's memory context.
 */
typedef void *(*mlc_alloc_fn) (size_t size);
typedef void (*mlc_free_fn) (void *ptr);
void		mlc_set_allocator(mlc_alloc_fn alloc_fn, mlc_free_fn free_fn);
void	   *mlc_alloc(size_t size); /* may return NULL with default hooks */

/*
 * Interrupt hook: long loops call mlc_interrupted() and, when it returns
 * nonzero, free what they hold and return MLC_EINTR.  The hook only looks
 * (the backend's reads its cancel flags); it never jumps out of the core.
 * Every entry point that loops over rows, sweeps, tree nodes or trees
 * looks (test/unit/test_interrupt.c trips each at its first, a middle and
 * its last look); single LAPACK calls cannot be interrupted.
 */
typedef int (*mlc_interrupt_fn) (void);
void		mlc_set_interrupt(mlc_interrupt_fn fn);
int			mlc_interrupted(void);

/*
 * How often loops look: about every MLC_INTERRUPT_WORK units of work (a
 * unit is about one multiply-add), i.e. tens of microseconds apart, so a
 * cancel is seen well within a millisecond while the look (an indirect
 * call reading two flags) is lost in the work between.  A loop over items
 * of per_item units looks when (i & mlc_interrupt_mask(per_item)) == 0,
 * which includes its first item.  On MLC_EINTR, outputs a function was
 * filling are unspecified (partial sums, a half-updated model).
 */
#define MLC_INTERRUPT_WORK 65536
static inline int64_t
mlc_interrupt_mask(int64_t per_item)
{
	int64_t		every = 1;

	while (every < MLC_INTERRUPT_WORK && every * (per_item > 1 ? per_item : 1) < MLC_INTERRUPT_WORK)
		every <<= 1;
	return every - 1;
}
void	   *mlc_alloc0(size_t size);
void		mlc_free(void *ptr);

/* ---------- dense linear algebra (column-major, validated shapes) ---------- */

/*
 * mlc_qr_r: R factor of the m x n matrix A (column-major, lda = m, destroyed).
 * R (n x n, column-major, strictly lower part zeroed) is written to R.  When
 * m < n the missing rows of R are zero, which is still a valid R for stacking.
 * Tall-skinny blocks (n >= 10, m n^2 >= 131072) use the blocked dgeqrt
 * (block size 8), the others dgeqrf; the choice depends only on the shape.
 */
mlc_status	mlc_qr_r(int m, int n, double *A, double *R, mlc_error *err);

/* mlc_qr_stack: R factor of [R1; R2] (both n x n upper) into Rout (may alias R1). */
mlc_status	mlc_qr_stack(int n, const double *R1, const double *R2, double *Rout,
						 mlc_error *err);

/* mlc_singular_values: singular values (descending) of the n x n matrix A. */
mlc_status	mlc_singular_values(int n, const double *A, double *sv, mlc_error *err);

/* mlc_threads: threads OpenBLAS would use, and whether the loaded build is
 * the sequential one (1) or a threaded one (0). */
int			mlc_blas_threads(void);
int			mlc_blas_is_sequential(void);

/* ---------- hashing (content hash and split) ---------- */

/* SipHash-2-4 of data under a 128-bit key. */
uint64_t	mlc_siphash(const void *data, size_t len, uint64_t k0, uint64_t k1);

/*
 * Row hashing: feed each column of a row in order.  A NULL column is fed
 * with mlc_rowhash_null, which hashes differently from any value.
 */
typedef struct mlc_rowhash
{
	uint64_t	v[4];			/* SipHash state */
	uint64_t	tail;
	size_t		len;
} mlc_rowhash;
void		mlc_rowhash_init(mlc_rowhash *h, uint64_t k0, uint64_t k1);
void		mlc_rowhash_value(mlc_rowhash *h, const void *data, size_t len);
void		mlc_rowhash_null(mlc_rowhash *h);
uint64_t	mlc_rowhash_final(const mlc_rowhash *h);

/*
 * Order-independent content hash: the sum modulo 2^128 of a 128-bit hash of
 * every row (two row hashes under fixed keys), plus the row count.  Summing,
 * not XOR, so that duplicated rows still change the hash.  Combinable.
 */
typedef struct mlc_content_hash
{
	uint64_t	lo;
	uint64_t	hi;
	int64_t		rows;
} mlc_content_hash;
void		mlc_content_hash_init(mlc_content_hash *c);
void		mlc_content_hash_add(mlc_content_hash *c, uint64_t row_lo, uint64_t row_hi);
void		mlc_content_hash_combine(mlc_content_hash *into, const mlc_content_hash *other);
/* 32 hex digits of (hi, lo) then '-' and the row count in decimal; buf >= 64 */
void		mlc_content_hash_hex(const mlc_content_hash *c, char *buf);

/* Keys used for row hashes: the content hash keys and the split key of a seed. */
#define MLC_CONTENT_K0 UINT64_C(0x70676d6c6f707331)
#define MLC_CONTENT_K1 UINT64_C(0x636f6e74656e7431)
#define MLC_CONTENT_K2 UINT64_C(0x636f6e74656e7432)
/* mlc_split_is_test: 1 when a row whose split hash (key = seed) is h goes to test. */
int			mlc_split_is_test(uint64_t h, double test_fraction);
void		mlc_split_keys(int32_t seed, uint64_t *k0, uint64_t *k1);

/* ---------- statistics ---------- */

/* Two-sided p-value of a t statistic with df degrees of freedom. */
double		mlc_t_pvalue(double t, double df);
/* Regularized incomplete beta I_x(a, b). */
double		mlc_betainc(double a, double b, double x);
/* Upper tail P(F >= f) of the F distribution with d1 and d2 degrees of freedom. */
double		mlc_f_pvalue(double f, double d1, double d2);

/*
 * An ordinary least squares fit's likelihood and overall F test, as
 * statsmodels' OLS defines them (Gaussian errors, variance rss / n; the
 * intercept counted in AIC and BIC; F tests every slope against zero).
 * n rows, p slopes, rss and tss (centered) of the training rows.
 */
typedef struct mlc_ols_tests
{
	double		llf;
	double		aic;
	double		bic;
	double		fvalue;
	double		f_pvalue;
} mlc_ols_tests;
void		mlc_ols_tests_compute(int64_t n, int p, double rss, double tss, mlc_ols_tests *out);

/* ---------- hyperparameters ---------- */

typedef enum mlc_algorithm
{
	MLC_ALG_LINEAR = 1,
	MLC_ALG_RIDGE = 2,
	MLC_ALG_LASSO = 3,
	MLC_ALG_ELASTIC_NET = 4,
	MLC_ALG_LOGISTIC = 5,
	MLC_ALG_SOFTMAX = 6,
	MLC_ALG_KMEANS = 7,
	MLC_ALG_PCA = 8,
	MLC_ALG_NAIVE_BAYES = 9,
	MLC_ALG_GRADIENT_BOOSTING = 10,
	MLC_ALG_RANDOM_FOREST = 11,
	MLC_ALG_DECISION_TREE = 12
} mlc_algorithm;

/* What a model predicts; fixed by the algorithm (and for trees by the target). */
typedef enum mlc_task
{
	MLC_TASK_REGRESSION = 1,
	MLC_TASK_CLASSIFICATION = 2,
	MLC_TASK_CLUSTERING = 3,
	MLC_TASK_DECOMPOSITION = 4
} mlc_task;

/* Name <-> id; returns 0 for an unknown name. */
mlc_algorithm mlc_algorithm_from_name(const char *name);
const char *mlc_algorithm_name(mlc_algorithm alg);
/* Comma separated list of all algorithm names, for hints. */
const char *mlc_algorithm_names(void);

typedef struct mlc_hparam_spec
{
	const char *name;
	double		default_value;
	double		min_value;
	double		max_value;
	int			is_integer;
} mlc_hparam_spec;

/* The hyperparameters an algorithm accepts; *n gets the count. */
const mlc_hparam_spec *mlc_hparam_specs(mlc_algorithm alg, int *n);

/*
 * Every numeric hyperparameter of every algorithm; each algorithm reads the
 * ones its spec table lists (mlc_hparam_specs) and the others keep their
 * defaults.  Integers are stored as doubles holding integral values.
 */
typedef struct mlc_hparams
{
	double		alpha;			/* L2 (ridge, logistic, softmax) or total (lasso, elastic net) penalty */
	double		l1_ratio;		/* elastic net mixing, 1 = lasso */
	double		max_iter;
	double		tol;
	double		k;				/* kmeans clusters */
	double		n_init;			/* kmeans restarts */
	double		seed;
	double		n_components;	/* pca; 0 = all */
	double		var_smoothing;	/* naive bayes, as scikit-learn's */
	double		smoothing;		/* naive bayes categorical (Laplace) */
	double		max_categories; /* one-hot cap per text column */
	double		max_classes;	/* classification cap */
	double		silhouette_sample;	/* kmeans sampled silhouette rows */
	/* trees (issue 4) */
	double		n_trees;
	double		max_depth;
	double		learning_rate;
	double		min_child_weight;
	double		lambda;
	double		gamma;
	double		subsample;
	double		colsample;
	double		max_bins;
	double		early_stopping_rounds;
	double		min_samples_leaf;
} mlc_hparams;

/* Set defaults for alg. */
void		mlc_hparams_defaults(mlc_algorithm alg, mlc_hparams *hp);
/* Set one key; MLC_EINVAL with a message for unknown key or out of range. */
mlc_status	mlc_hparams_set(mlc_algorithm alg, mlc_hparams *hp, const char *key,
							double value, mlc_error *err);
/*
 * Parse a flat JSON object of numbers, {"key": number, ...}, of len bytes
 * (no NUL needed, none allowed): start from the defaults and apply
 * mlc_hparams_set per key in text order.  MLC_EINVAL with a message for
 * anything else (not an object, nested or non-number values, duplicate keys,
 * trailing characters, NUL bytes, numbers that overflow a double) and for
 * what mlc_hparams_set rejects; *hp is written only on success.  Never reads
 * past len; no recursion.
 */
mlc_status	mlc_hparams_parse(mlc_algorithm alg, const char *json, size_t len,
							  mlc_hparams *hp, mlc_error *err);
/* Value of a key as set (for reporting effective hyperparameters). */
double		mlc_hparams_get(mlc_algorithm alg, const mlc_hparams *hp, const char *key);

/* ---------- linear models: partial statistics, solve, predict ---------- */

/*
 * A chunk of rows as dense columns: X is n x p column-major (lda = n), y has
 * n values.  Rows with NULLs have already been dropped by the caller.
 */
typedef struct mlc_block
{
	int64_t		n;
	int			p;
	const double *X;
	const double *y;
} mlc_block;

/*
 * Per-chunk statistics of [X y] (p1 = p + 1 columns): layout of a stats
 * buffer of MLC_STATS_DOUBLES(p1) doubles:
 *   [0]                  n (row count, as double)
 *   [1 .. p1]            column means of [X y] over the chunk's rows, high
 *                        parts (each the mean rounded to double)
 *   [1 + p1 ..]          R factor (p1 x p1, column-major, upper) of the
 *                        chunk's [X y] centered by the chunk's own means
 *   [1 + p1 + p1*p1 ..]  low parts of the means (p1): mean_j is the
 *                        double-double high + low, |low| <= ulp(high) / 2
 * A chunk with n == 0 has all zeros.  The low parts come last so that n,
 * the means and R keep their offsets; consumers that need only doubles
 * read the high parts.
 *
 * The engine reads each chunk once: mlc_linear_chunk_stats computes the
 * chunk's means and the QR factor of the chunk centered by them while the
 * chunk is in cache; the buffers are then merged exactly along a fixed
 * tree (mlc_linear_stats_tree) and the merged R and means go to
 * mlc_linear_solve (and to the refinement pass) unchanged:
 *   mlc_linear_solve(p, stats + 1 + p1, stats + 1, (int64_t) stats[0], ...)
 * MLC_STATS_DOUBLES is a size_t expression (no int overflow for large p1).
 */
#define MLC_STATS_DOUBLES(p1) \
	((size_t) 1 + 2 * (size_t) (p1) + (size_t) (p1) * (size_t) (p1))

/*
 * Statistics of one chunk into stats (MLC_STATS_DOUBLES(b->p + 1) doubles).
 * Means are a sum in a fixed order (four interleaved lanes) over n plus one
 * correction pass (the mean c of x - m, m the first estimate), kept as the
 * double-double m + c: high part fl(m + c), low part its exact remainder.
 * Its error is a few eps * spread of the column, not eps * |mean|, and the
 * chunk is centered by high + low.  The QR factor is
 * mlc_qr_r's, so a 960-row chunk of 22 columns uses dgeqrt; a chunk with
 * n (p + 1)^2 > 2^28 is factored in equal row blocks stacked
 * with mlc_qr_stack, so that a cancel is seen between blocks.
 * MLC_EINVAL for a non-finite value (naming feature/target and row) or a
 * column whose sum or centered values overflow; MLC_EINTR when the
 * interrupt hook asks.  On error the buffer's contents are unspecified.
 */
mlc_status	mlc_linear_chunk_stats(const mlc_block *b, double *stats, mlc_error *err);

/*
 * Merge two stats buffers into out (may alias a or b): n = na + nb,
 * mean = (na ma + nb mb)/n (computed as ma + (nb/n)(mb - ma)),
 * R = R factor of [Ra; Rb; sqrt(na nb / n) (ma - mb)^T]  (exact merge of
 * centered scatter: S = Sa + Sb + (na nb / n) (ma - mb)(ma - mb)^T), by
 * Householder reflections on the nonzeros only.  When one side has n == 0
 * the other is copied bit for bit.  MLC_EINVAL for a negative or
 * non-integral count or a non-finite mean (high or low part) or R entry.
 *
 * Precision: the means are double-doubles and both the merged mean and
 * ma - mb are computed in double-double arithmetic (two-sum, two-product;
 * fixed operation order), so the (ma - mb) row carries an error of a few
 * eps * spread, whatever |mean| / spread: columns offset by 1e6 or 1e9
 * against spreads of 1 to 21 merge to the one-chunk result within 7.2e-14
 * in the coefficients, as without an offset (measured, p up to 21, two
 * parts and trees of 1 to 333 rows per chunk; doubles for the means gave
 * 1.3e-10 at offset 1e6 and 6e-8 at 1e9, losing log10(|mean| / spread)
 * digits).
 */
mlc_status	mlc_linear_stats_merge(int p1, const double *a, const double *b, double *out, mlc_error *err);

/*
 * Add one row xy = [x y] (p1 values) to a stats buffer in place: n + 1,
 * the double-double means moved by d / (n + 1) (d = row - old mean, taken
 * in double-double), and R updated for the centered scatter
 *   S' = S + (n / (n + 1)) d d^T
 * by Givens rotations of the row sqrt(n / (n + 1)) d^T into R (O(p1^2), no
 * QR of a block).  A buffer of all zeros is the empty set.  MLC_EINVAL for
 * an invalid p1, a NULL pointer, an invalid or too large count, or a
 * non-finite value in xy or in the difference from the mean.  On error the
 * buffer is unchanged.
 */
mlc_status	mlc_linear_stats_add_row(int p1, double *stats, const double *xy, mlc_error *err);

/*
 * Merge nchunks buffers (at stats + c * stride doubles, stride >=
 * MLC_STATS_DOUBLES(p1)) along a fixed binary tree over chunk indices:
 * pairs (0,1),(2,3),..., then pairs of results, ...; result in chunk 0's
 * buffer.  The result depends only on the buffers, never on who computed
 * them.  Other chunks' buffers may be overwritten with intermediate
 * results.  Stops at the first failing merge and returns its status.
 */
mlc_status	mlc_linear_stats_tree(int p1, int nchunks, double *stats, size_t stride, mlc_error *err);

typedef struct mlc_linear_model
{
	int			p;
	double		intercept;
	double	   *coef;			/* p */
} mlc_linear_model;

/* Inference statistics, MADlib style.  Arrays have p + 1 entries, intercept first. */
typedef struct mlc_linear_summary
{
	int64_t		n;
	int			p;
	double	   *std_error;		/* NAN where not defined (ridge) */
	double	   *t_stat;
	double	   *p_value;
	double		rss;			/* residual sum of squares, train */
	double		tss;			/* total sum of squares, train */
	double		r2;
	double		adj_r2;
	double		residual_sd;
	double		condition_number;	/* 2-norm condition number of centered X */
	int			dependent_feature;	/* first feature found collinear, or -1 */
	int			dependent_is_constant;	/* 1 when that feature is constant */
} mlc_linear_summary;

/*
 * Solve from the combined R ((p+1)^2, centered [X y]), the means (p + 1) and
 * the number of rows (the merged stats buffer's R, means and n).  alpha > 0 gives ridge (intercept not penalized).
 * MLC_ESINGULAR when a feature is a linear combination of earlier ones
 * (summary->dependent_feature names it) and alpha == 0.  Allocates
 * model->coef and the summary arrays with mlc_alloc.
 */
mlc_status	mlc_linear_solve(int p, const double *R, const double *means, int64_t n,
							 double alpha, mlc_linear_model *model,
							 mlc_linear_summary *summary, mlc_error *err);

/*
 * Optional pass 3: one step of iterative refinement (added by the core).
 * A double-precision QR solution loses about eps * kappa^2 * ||r|| / ||X b||
 * relatively (kappa: condition number of the column-scaled centered X), so
 * fits with large residuals keep few digits (NIST Wampler5: 6).  Refinement
 * recomputes the residuals of the solved model exactly (double-double):
 *   acc: 2 * (p + 1) doubles, zeroed by the caller, one per chunk;
 *   mlc_linear_refine_chunk adds the chunk's rows (same rows as training);
 *   mlc_linear_refine_combine adds chunk partials (combine in chunk order);
 *   mlc_linear_refine_apply updates model (and summary, when not NULL: the
 *   one mlc_linear_solve filled, whose arrays it reuses) in place from the
 *   combined acc and the same R, means, n and alpha as the solve.
 *   *applied (may be NULL) is 0 when the step was skipped because it would
 *   not contract (eps * kappa^2 > 1e-3, e.g. NIST Filip); the model and
 *   summary are then kept as they were.  Deterministic like the rest.
 */
mlc_status	mlc_linear_refine_chunk(const mlc_block *b, const mlc_linear_model *m,
									double *acc, mlc_error *err);
void		mlc_linear_refine_combine(int p, double *into, const double *other);
mlc_status	mlc_linear_refine_apply(int p, const double *R, const double *means,
									int64_t n, double alpha, const double *acc,
									mlc_linear_model *model,
									mlc_linear_summary *summary, int *applied,
									mlc_error *err);

/* Prediction: intercept + sum_j coef[j] * x[j] in index order (bit-stable). */
double		mlc_linear_predict(const mlc_linear_model *m, const double *x);

/*
 * Column-oriented prediction of a block: yhat[i] = intercept + sum_j coef[j] *
 * X[j*n + i], accumulated in the same order as mlc_linear_predict, so results
 * are bit-identical to it (compiled with -ffp-contract=off), but
 * vectorizable.  b->y is not read; yhat (b->n values) must not overlap b->X.  b->p must equal m->p; when it does not
 * (or b->X is NULL with p > 0), every yhat[i] is NaN.
 */
void		mlc_linear_predict_block(const mlc_linear_model *m, const mlc_block *b, double *yhat);

/* Regression metrics partial: sums over rows, combinable by addition. */
typedef struct mlc_reg_metrics
{
	double		n;
	double		sse;
	double		sae;
	double		sum_y;
	double		sum_y2;
	double		sum_res;		/* for explained variance */
	double		sum_res2;
} mlc_reg_metrics;
void		mlc_reg_metrics_add(mlc_reg_metrics *m, double y, double yhat);
void		mlc_reg_metrics_combine(mlc_reg_metrics *into, const mlc_reg_metrics *other);
/* r2, rmse, mae, explained_variance; NAN where undefined (n < 2 or tss 0). */
void		mlc_reg_metrics_final(const mlc_reg_metrics *m, double *r2, double *rmse,
								  double *mae, double *explained_variance);

/* ---------- models: preprocessing, parameters, encoding, scoring ---------- */

/*
 * Preprocessing stored in the model.  Each input (source column, in the
 * order the model was trained with) has an encoder that turns the column's
 * value into `width` consecutive expanded features.  The glue turns a
 * datum into a double (numbers, booleans 0/1, dates and timestamps as
 * seconds since 1970-01-01 00:00 UTC) or into the text of a category.
 */
typedef enum mlc_encoder_kind
{
	MLC_ENC_NUMBER = 1,			/* width 1 */
	MLC_ENC_BOOL = 2,			/* width 1, 0 or 1 */
	MLC_ENC_TIME = 3,			/* width 1, seconds since the epoch */
	MLC_ENC_CATEGORY = 4		/* one-hot */
} mlc_encoder_kind;

typedef struct mlc_encoder
{
	char	   *column;			/* source column name */
	mlc_encoder_kind kind;
	int			width;			/* expanded features produced */
	double		impute;			/* value for NULL; NAN: a NULL is an error */
	/*
	 * Categories: the kept categories, sorted by strcmp (binary search).
	 * One-hot feature j (0-based, within the encoder) is categories[j +
	 * drop_first]; when has_other, the last feature is "(other)" and takes
	 * every value not kept (capped columns); otherwise a value not kept,
	 * and NULL, encode as all zeros.  drop_first (reference coding, for
	 * unpenalized linear and logistic regression) gives categories[0] no
	 * feature.  width = n_categories - drop_first + has_other.
	 */
	int			n_categories;
	char	  **categories;
	int			has_other;
	int			drop_first;
} mlc_encoder;

/*
 * Encode one input into out[0 .. enc->width).  Numeric kinds: value is the
 * converted datum, isnull says NULL (then enc->impute is used; MLC_EINVAL
 * when it is NAN).  Non-finite values are MLC_EINVAL.  Categories: text of
 * len bytes (need not be NUL-terminated), NULL text = NULL value.
 */
mlc_status	mlc_encode_number(const mlc_encoder *enc, double value, int isnull,
							  double *out, mlc_error *err);
void		mlc_encode_category(const mlc_encoder *enc, const char *text, size_t len,
								double *out);
/* Index of text among enc->categories, or -1. */
int			mlc_category_index(const mlc_encoder *enc, const char *text, size_t len);

/*
 * Learned parameters are named dense arrays (row-major rows x cols).  Per
 * algorithm (d = n_features, K = n_classes):
 *   linear_regression, ridge, lasso, elastic_net:
 *       "coef" 1 x (d + 1): intercept, then one coefficient per feature
 *   logistic_regression (K = 2): "coef" 1 x (d + 1); P(class 1) = 1 / (1 + exp(-eta))
 *   softmax_regression: "coef" K x (d + 1), one row (intercept first) per class
 *   kmeans: "centroids" k x d
 *   pca: "mean" 1 x d, "components" m x d (rows unit length),
 *        "explained_variance" 1 x m; transform = components (x - mean)
 *   naive_bayes: "class_log_prior" 1 x K, "theta" K x d and "var" K x d
 *        (Gaussian features; var includes the smoothing), "feature_log_prob"
 *        K x d (category features: log P(category | class)); which features
 *        are categorical follows from the encoders (MLC_ENC_CATEGORY).
 *        Joint log likelihood of class c: class_log_prior[c]
 *          + sum over Gaussian j of -0.5 log(2 pi var[c][j]) - 0.5 (x_j - theta[c][j])^2 / var[c][j]
 *          + sum over categorical j of x_j * feature_log_prob[c][j]
 *        and probabilities are its softmax (max subtracted first).
 *   trees (issue 4): arrays defined in tree.h.
 */
#define MLC_ARRAY_NAME_MAX 31
typedef struct mlc_array
{
	char		name[MLC_ARRAY_NAME_MAX + 1];
	int			rows;
	int			cols;
	double	   *data;			/* rows * cols */
} mlc_array;

typedef struct mlc_model
{
	mlc_algorithm algorithm;
	mlc_task	task;
	int			n_inputs;
	mlc_encoder *inputs;
	int			n_features;		/* sum of the encoders' widths */
	char	  **feature_names;	/* expanded: "col", or "col=category", "col=(other)" */
	/*
	 * Classification: class labels as text, in the label type's order
	 * (index = class id).  labels_numeric: the labels are numbers or
	 * booleans and class_values holds them (true = 1), so ml.predict can
	 * return them; otherwise class_values is NULL.
	 */
	int			n_classes;
	char	  **classes;
	int			labels_numeric;
	double	   *class_values;
	int			n_arrays;
	mlc_array  *arrays;
	/*
	 * Trees: the view of the arrays (tree.h), made once by mlc_model_decode
	 * so that scoring a row does not look the arrays up by name; NULL for
	 * other models and for models built in memory (then made per call).
	 */
	struct mlc_forest *forest;
} mlc_model;

/* 1 for gradient_boosting, random_forest and decision_tree. */
int			mlc_algorithm_is_tree(mlc_algorithm alg);

/* The task an algorithm's models have; 0 for trees (regression or
 * classification by the target). */
mlc_task	mlc_algorithm_task(mlc_algorithm alg);

/* The array called name whatever its shape, or NULL. */
const mlc_array *mlc_model_find_array(const mlc_model *m, const char *name);
/* The array called name with exactly rows x cols entries, or NULL. */
const mlc_array *mlc_model_array(const mlc_model *m, const char *name, int rows, int cols);
/*
 * Check that m is complete and consistent for its algorithm: encoders'
 * widths sum to n_features, categories sorted and distinct, every array the
 * algorithm needs present with the right shape, finite parameters, classes
 * present exactly for classification (K >= 2).  Encoding and decoding call
 * it, so a decoded model is always safe to score.
 */
mlc_status	mlc_model_validate(const mlc_model *m, mlc_error *err);

/*
 * Encoded model layout (all little-endian):
 *   magic "PGML" | u16 format version | u16 algorithm | u32 payload length
 *   | u32 CRC-32C of the 12 bytes before it and the payload | payload
 * Payload: task, encoders, feature names, classes, arrays (see codec.c).
 * Decoding checks every length against the buffer and then validates the
 * model, so corrupted or truncated bytes give MLC_ECORRUPT, never a crash.
 */
#define MLC_MODEL_MAGIC "PGML"
#define MLC_MODEL_FORMAT 2
#define MLC_HEADER_SIZE 16

uint32_t	mlc_crc32c(uint32_t crc, const void *data, size_t len);

/* Encode into a freshly allocated buffer (*out, *out_len). */
mlc_status	mlc_model_encode(const mlc_model *m, uint8_t **out, size_t *out_len,
							 mlc_error *err);
/* Decode; allocates everything with mlc_alloc; mlc_model_free releases it. */
mlc_status	mlc_model_decode(const uint8_t *buf, size_t len, mlc_model *m,
							 mlc_error *err);
void		mlc_model_free(mlc_model *m);

/*
 * Scoring one expanded feature vector x (n_features values).  All are
 * deterministic and allocation-free.
 *   mlc_model_predict: regression value; classification: class id (as
 *     double) of the highest probability (lowest id on ties); clustering:
 *     nearest centroid id (lowest on ties); decomposition: NAN.
 *   mlc_model_predict_proba: classification only, writes n_classes
 *     probabilities summing to 1; returns 0, or -1 for other tasks.
 *   mlc_model_transform: pca: n_components values; kmeans: distances to
 *     each centroid; returns the number written, or -1 for other tasks.
 *   mlc_model_output_width: what mlc_model_transform writes (0 if none).
 */
double		mlc_model_predict(const mlc_model *m, const double *x);
int			mlc_model_predict_proba(const mlc_model *m, const double *x, double *proba);
int			mlc_model_transform(const mlc_model *m, const double *x, double *out);
int			mlc_model_output_width(const mlc_model *m);
/* The linear family's coefficients as an mlc_linear_model view (no copy);
 * 0 on success, -1 when the model is not linear_regression/ridge/lasso/elastic_net/logistic. */
int			mlc_model_linear_view(const mlc_model *m, mlc_linear_model *view);

/* ---------- model references ---------- */

/*
 * A model reference is 'name', 'name@<version>' or 'name@<stage>'.
 * Names: 1..63 bytes of [A-Za-z0-9_.-], not starting with '.' or '-'.
 */
typedef enum mlc_ref_kind
{
	MLC_REF_DEFAULT,			/* production, else latest */
	MLC_REF_VERSION,
	MLC_REF_STAGE
} mlc_ref_kind;

typedef struct mlc_model_ref
{
	char		name[64];
	mlc_ref_kind kind;
	int32_t		version;
	char		stage[16];		/* staging, production, archived, none */
} mlc_model_ref;

mlc_status	mlc_model_ref_parse(const char *text, size_t len, mlc_model_ref *ref,
								mlc_error *err);
/* 1 when name is a valid model name. */
int			mlc_model_name_valid(const char *name);

/* ---------- drift statistics ---------- */

/*
 * Weights are non-negative and finite; each side is normalized to shares
 * summing to 1 inside.  NULL arrays, k < 1, a negative, NaN or infinite
 * weight, or a zero total give NAN.
 */

/*
 * Population stability index over k bins: sum (c_i - r_i) ln(c_i / r_i)
 * of the reference and current shares, each floored at eps (> 0, finite,
 * else NAN) so empty bins stay finite.  Symmetric in ref and cur.
 */
double		mlc_psi(int k, const double *ref, const double *cur, double eps);
/* Two-sample Kolmogorov-Smirnov D over k bins: max over bin boundaries of
 * |F_ref - F_cur| of the cumulative shares; in [0, 1]. */
double		mlc_ks_binned(int k, const double *ref, const double *cur);
/*
 * Asymptotic two-sided p-value of a two-sample KS statistic d in [0, 1]
 * with sample sizes n1, n2 > 0: Kolmogorov Q(lambda) with Stephens'
 * lambda = (sqrt(ne) + 0.12 + 0.11 / sqrt(ne)) d, ne = n1 n2 / (n1 + n2).
 * In [0, 1]; NAN for invalid input.
 */
double		mlc_ks_pvalue(double d, double n1, double n2);
/* Jensen-Shannon distance (sqrt of the base-2 JS divergence, in [0, 1])
 * between two weight vectors over k categories. */
double		mlc_js_distance(int k, const double *p, const double *q);

/* Algorithm families, each in its own header. */
#include "classify.h"
#include "unsupervised.h"
#include "tree.h"

#endif							/* MLCORE_H */
