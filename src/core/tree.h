/*
 * tree.h: see mlcore.h; included at its end.
 *
 * Pure-C core of the tree models: gradient boosting (XGBoost's "hist"
 * method, depth-wise growth), random forest and decision tree.
 *
 * Data flow (the caller owns every pass over the data):
 *
 *   1. Binning.  Per feature, mlc_bin_edges on a sample gives ascending,
 *      distinct, finite cut points edges[0 .. n_edges-1].  A value v goes to
 *      bin b = number of edges <= v (so bin b holds edges[b-1] <= v <
 *      edges[b]); bins 0 .. n_edges are the value bins (n_edges + 1 <= 255),
 *      and NaN (SQL NULL) goes to MLC_BIN_MISSING = 255.  A split "bin <= b
 *      goes left" is the raw-value test x < edges[b], so scoring needs no bins.
 *
 *   2. Chunks.  Rows come in chunks of n rows; the binned features of a
 *      chunk are column-major uint8: bins[f * n + i].
 *
 *   3. Fixed point.  Gradients and hessians are quantized to integers
 *      q = llround(g * scale) with a power-of-two scale from
 *      mlc_tree_fixed_scale(M), M >= max |g| over the round's data (any
 *      bound works; the exact maximum keeps the most precision).  Then
 *      |q| <= 2^30, and with row weights summing to at most 2^32 (2^31 rows,
 *      bootstrap weights averaging 2 at most) no int64 sum can overflow.
 *      Histogram sums are therefore exact, and adding partial histograms is
 *      integer addition: any split of the chunks among participants, in any
 *      order, gives bit-identical histograms and so identical trees.
 *
 *   4. Growth, level by level (reverse communication):
 *        mlc_tree_builder_create(...)
 *        while ((k = mlc_tree_builder_begin_level(b)) > 0) {
 *            zero k * mlc_tree_hist_len(F, K) int64s;
 *            for each chunk (any participant, any order):
 *                mlc_tree_builder_assign(b, n, bins, slot)   -- row -> slot
 *                mlc_tree_hist_add(..., slot, k, ..., partial)
 *            combine partials with mlc_tree_hist_combine (integer +=);
 *            mlc_tree_builder_apply_level(b, hist)           -- splits decided
 *        }
 *        mlc_tree_builder_export / _add_predictions / _importance
 *      Memory: the builder keeps the histograms of the previous level's
 *      split nodes (mlc_tree_hist_len int64s each, 6 KiB per feature for
 *      K = 1) to derive siblings; the caller holds one level's buffer.
 *      Only one child of each split needs a histogram: the builder derives
 *      its sibling as parent minus child (exact in integers), like XGBoost's
 *      subtraction trick; the requested child is the one with fewer rows
 *      (the left one on ties).
 *
 * Gain of a split (K gradient columns sharing one hessian; K = 1 for
 * boosting):  gain = 0.5 sum_k [GL_k^2/(HL+lambda) + GR_k^2/(HR+lambda)
 * - G_k^2/(H+lambda)] - gamma, split only when gain > min_gain, HL, HR >=
 * min_child_weight and both children have at least max(1, min_samples_leaf)
 * rows (weighted counts).  Note XGBoost's code compares its loss change,
 * which lacks the 0.5, with gamma and 1e-6 (kRtEps), so gamma here is
 * worth twice XGBoost's; with gamma = 0 and min_gain = 5e-7 the rules
 * agree.  Missing values: both directions are tried, missing-left first and
 * missing-right kept only when strictly better (XGBoost's order); candidates
 * are scanned by feature, then bin ascending, and only a strictly better
 * gain replaces the best, so ties go to the lowest feature, then lowest bin.
 * Leaf value_k = -G_k / (H + lambda) * learning_rate (0 when H + lambda is 0).
 *
 * Random forest / decision tree use the same machinery with h = w (the
 * row's bootstrap weight, 1 without bootstrap), lambda = 0,
 * learning_rate = 1, gamma = 0:
 *   regression: K = 1, g = -y: gain = half the reduction in the sum of
 *     squared errors, leaf = mean of y;
 *   classification: K = n_classes, g_k = -1[y = k]: the summed gain is
 *     half the decrease of n * Gini impurity (n Gini = n - sum_k c_k^2 / n),
 *     and the leaf values are the class fractions (probabilities).
 * Bootstrap: mlc_tree_bootstrap_weight gives each row a Poisson(1) count
 * from a seeded hash of (seed, tree, row key), independent of chunking.
 * Feature sampling per split (colsample < 1): floor(colsample * F) (at least
 * 1) features drawn without replacement by a splitmix64 generator seeded by
 * (seed, node id), node ids being creation order, so it does not depend on
 * the data split either.
 */
#ifndef MLC_TREE_H
#define MLC_TREE_H

#include <stddef.h>
#include <stdint.h>

#define MLC_BIN_MISSING 255		/* bin of NaN / NULL */
#define MLC_BIN_SLOTS 256		/* histogram slots per feature (bins 0..254, missing) */
#define MLC_MAX_BINS 255		/* value bins at most (so n_edges <= 254) */
#define MLC_TREE_MAX_DEPTH 30	/* builder limit */
#define MLC_TREE_FIXED_MAX (INT64_C(1) << 30)	/* |quantized g or h| bound */
#define MLC_TREE_MAX_OUTPUTS 1024	/* outputs (K, V) of a tree model at most */

/* ---------- binning ---------- */

/*
 * Quantile cut points of one feature from n sample values (NaN = missing,
 * ignored; +-Inf allowed as values, never as edges).  max_bins in
 * [2, 255] is the number of value bins; edges needs max_bins - 1 doubles.
 * When the sample has at most max_bins distinct values every distinct value
 * but the smallest is an edge (each value its own bin).  Otherwise the
 * candidates are the sorted values at ranks floor(k m / max_bins), k = 1 ..
 * max_bins - 1 (m non-missing values), keeping those greater than the
 * previous edge and than the minimum.  *n_edges may be 0 (a constant or
 * all-missing feature: everything in bin 0, never split).  MLC_EINVAL for
 * bad arguments, MLC_ENOMEM when the sort buffer cannot be allocated.
 */
mlc_status	mlc_bin_edges(int64_t n, const double *values, int max_bins,
						  double *edges, int *n_edges, mlc_error *err);
/* Bin of v: NaN -> MLC_BIN_MISSING, else the number of edges <= v. */
uint8_t		mlc_bin_value(const double *edges, int n_edges, double v);

/* ---------- fixed point ---------- */

/*
 * The largest power of two s with s * max_abs <= 2^30 (max_abs finite,
 * >= 0; 2^30 when max_abs is 0 or tiny; clamped to [2^-60, 2^60]).
 * Returns 0 for a negative or non-finite max_abs.
 */
double		mlc_tree_fixed_scale(double max_abs);

/* ---------- histograms ---------- */

/*
 * A node's histogram: n_features * 256 slots of (2 + K) int64 each:
 *   hist[((f * 256 + bin) * (2 + K)) + 0]      weighted row count
 *   hist[((f * 256 + bin) * (2 + K)) + 1]      sum of quantized h
 *   hist[((f * 256 + bin) * (2 + K)) + 2 + k]  sum of quantized g_k
 * Slot 255 of each feature is the missing bin.  A level's buffer is n_slots
 * such histograms back to back.  mlc_tree_hist_len gives the int64 count
 * of one node's histogram (0 for invalid arguments).
 */
size_t		mlc_tree_hist_len(int n_features, int n_outputs);

/*
 * Add the rows of one chunk to a level's histograms (+=, so zero the
 * buffer first).  bins: n_features columns of n (column-major); g: K
 * columns of n (g[k * n + i]); h: n values (>= 0); weight: n row weights
 * (NULL = all 1; 0 skips the row); slot: per row the histogram index in
 * [0, n_slots) or < 0 to skip the row.  Each g, h is quantized with
 * g_scale / h_scale (see above) and multiplied by the weight.  Rows are
 * checked first, so on MLC_EINVAL (non-finite g or h, negative h, a
 * quantized value above 2^30, a slot >= n_slots, a bad argument) hist is
 * unchanged.  Allocation-free.
 */
mlc_status	mlc_tree_hist_add(int n_features, int n_outputs, int64_t n,
							  const uint8_t *bins, const double *g, const double *h,
							  const uint32_t *weight, const int32_t *slot, int n_slots,
							  double g_scale, double h_scale, int64_t *hist,
							  mlc_error *err);
/* into[i] += other[i] for i < len: combining participants' histograms. */
void		mlc_tree_hist_combine(size_t len, int64_t *into, const int64_t *other);
/*
 * For callers that keep rows binned row by row (bins[i * n_features + f])
 * and quantize once per tree: mlc_tree_quantize turns n values into
 * fixed point with a scale from mlc_tree_fixed_scale (MLC_EINVAL for a
 * non-finite value, one beyond the bound, or a negative one when
 * nonnegative).  mlc_tree_hist_add_index adds the rows rows[0 .. m) of a
 * chunk of n rows to one node's histogram (+=), with qg[k * n + i] and
 * qh[i] already quantized and weight as for mlc_tree_hist_add: the same
 * integer sums as mlc_tree_hist_add gives those rows, so any grouping of
 * the rows gives the same histogram.  MLC_EINVAL (hist unchanged) for an
 * index outside [0, n) or a bad argument.
 */
mlc_status	mlc_tree_quantize(int64_t n, const double *v, double scale, int nonnegative,
							  int64_t *q, mlc_error *err);
mlc_status	mlc_tree_hist_add_index(int n_features, int n_outputs, int64_t n, const uint8_t *bins,
									const int64_t *qg, const int64_t *qh, const uint32_t *weight,
									const int32_t *rows, int64_t m, int64_t *hist, mlc_error *err);
/*
 * Rows kept grouped by node, like XGBoost's row partition: rows[0 .. m)
 * (indices into row-major bins) are the rows of a node that split with
 * split = its routing-table entry (feature, bin, default_left, ...; see
 * mlc_tree_builder_routing).  Moves the rows that go left first and those
 * that go right after, each group in its previous order, and returns the
 * number that went left.  tmp: scratch for m indices.
 */
int64_t		mlc_tree_partition(const int32_t *split, int n_features, const uint8_t *bins,
							   int32_t *rows, int64_t m, int32_t *tmp);


/* ---------- split finding ---------- */

typedef struct mlc_tree_params
{
	int			max_depth;		/* 0 .. MLC_TREE_MAX_DEPTH; 0 = one leaf */
	int			n_outputs;		/* K >= 1 gradient columns */
	double		lambda;			/* >= 0 */
	double		gamma;			/* >= 0 */
	double		min_child_weight;	/* >= 0, on the hessian sum */
	double		min_samples_leaf;	/* >= 0, on the weighted count */
	double		min_gain;		/* >= 0; split when gain > min_gain */
	double		learning_rate;	/* > 0 */
	double		colsample;		/* (0, 1]: features sampled per split */
	uint64_t	seed;			/* feature sampling */
	double		g_scale;		/* fixed-point scales used for the histograms */
	double		h_scale;
} mlc_tree_params;

/* Defaults like XGBoost: depth 6, K 1, lambda 1, gamma 0, min_child_weight 1,
 * min_samples_leaf 0, min_gain 5e-7, learning_rate 0.3, colsample 1, seed 0,
 * scales 1. */
void		mlc_tree_params_defaults(mlc_tree_params *p);

typedef struct mlc_split
{
	int			feature;		/* -1 when no valid split */
	int			bin;			/* bin <= bin goes left */
	int			default_left;	/* missing values go left */
	double		gain;			/* including - gamma */
} mlc_split;

/*
 * Best split of one node from its histogram.  n_edges[f] is the number of
 * edges of feature f (value bins 0 .. n_edges[f]; split bins 0 ..
 * n_edges[f] - 1).  mask: NULL = all features, else mask[f] != 0 allows f.
 * Deterministic; allocation-free.
 */
mlc_status	mlc_tree_best_split(const mlc_tree_params *p, int n_features,
								const int *n_edges, const int64_t *node_hist,
								const uint8_t *mask, mlc_split *out, mlc_error *err);

/* ---------- builder ---------- */

typedef struct mlc_tree_builder mlc_tree_builder;

/*
 * edges[f] / n_edges[f] as from mlc_bin_edges; the builder keeps the
 * pointers (they must stay valid until mlc_tree_builder_free).
 */
mlc_status	mlc_tree_builder_create(const mlc_tree_params *p, int n_features,
									const double *const *edges, const int *n_edges,
									mlc_tree_builder **out, mlc_error *err);
void		mlc_tree_builder_free(mlc_tree_builder *b);

/*
 * Start the next level: returns the number of histograms (slots) the caller
 * must compute, 0 when the tree is complete, -1 on misuse (a level begun and
 * not applied).  Nodes that cannot split (depth limit, too few rows or
 * hessian for two children) become leaves here without a histogram.
 */
int			mlc_tree_builder_begin_level(mlc_tree_builder *b);

/*
 * Route a chunk's rows: slot[i] = histogram index of the node row i
 * reaches at this level, or -1 (a leaf, or a node whose histogram is
 * derived).  Read-only on b, so participants may share one builder.
 */
mlc_status	mlc_tree_builder_assign(const mlc_tree_builder *b, int64_t n,
									const uint8_t *bins, int32_t *slot,
									mlc_error *err);

/* Decide the splits of the level from the combined histograms (n_slots x
 * mlc_tree_hist_len).  On error the builder is unusable. */
mlc_status	mlc_tree_builder_apply_level(mlc_tree_builder *b, const int64_t *hist,
										 mlc_error *err);

/* Nodes so far (the final count once begin_level returned 0). */
int			mlc_tree_builder_n_nodes(const mlc_tree_builder *b);
/*
 * The builder's routing table, for participants in other processes that
 * hold no builder: MLC_ROUTE_WIDTH int32 per node (n_nodes of them):
 * split feature (-1: not split), bin (bin <= bin goes left), default_left,
 * left child, right child, and the histogram slot of the level in progress
 * (-1: none requested; always -1 once the tree is done).  Returns n_nodes,
 * or -1 for a failed builder or NULL arguments.  Participants keep each
 * node's rows together with mlc_tree_partition, splitting a node's rows
 * into its children's when the node has split; a node's rows are then
 * exactly those mlc_tree_builder_assign sends to it.
 */
#define MLC_ROUTE_WIDTH 6
int			mlc_tree_builder_routing(const mlc_tree_builder *b, int32_t *table);


/*
 * Write the finished tree in breadth-first order (children after parents,
 * local indices) into caller arrays of n_nodes entries (value: n_nodes x K,
 * row-major), in the model's conventions (see below): feature (-1 leaf),
 * threshold (edges[f][bin]; 0 for leaves), left, right (-1 for leaves),
 * default_left (0/1), value (leaf values; 0 for internal nodes), cover (sum
 * of h of the node, as a double), gain (split gain; 0 for leaves).
 * MLC_EINVAL when the tree is not complete.
 */
mlc_status	mlc_tree_builder_export(const mlc_tree_builder *b, double *feature,
									double *threshold, double *left, double *right,
									double *default_left, double *value,
									double *cover, double *gain, mlc_error *err);

/* raw[k * n + i] += leaf value k of row i (binned rows of a chunk). */
mlc_status	mlc_tree_builder_add_predictions(const mlc_tree_builder *b, int64_t n,
											 const uint8_t *bins, double *raw,
											 mlc_error *err);

/* Feature importance: per split on f, gain[f] += gain, cover[f] += node
 * cover, count[f] += 1 (in node order). */
void		mlc_tree_builder_importance(const mlc_tree_builder *b, double *gain,
										double *cover, double *count);

/* ---------- losses ---------- */

typedef enum mlc_tree_objective
{
	MLC_OBJ_SQUARED = 1,		/* g = pred - y, h = 1 */
	MLC_OBJ_LOGISTIC = 2,		/* p = sigmoid(raw), g = p - y, h = max(p (1 - p), 1e-16) */
	MLC_OBJ_SOFTMAX = 3,		/* p = softmax(raw), g_k = p_k - 1[y = k],
								 * h_k = max(2 p_k (1 - p_k), 1e-16) as XGBoost's
								 * multi:softprob */
	MLC_OBJ_AVERAGE = 4			/* forests: raw = average of trees; for
								 * classification raw is the class
								 * probabilities */
} mlc_tree_objective;

/*
 * Gradients of a chunk of n rows.  raw and g, h have n_classes columns of n
 * for softmax (raw[k * n + i]), one column otherwise; y is the target
 * (0/1 for logistic, a class id 0 .. n_classes - 1 for softmax).  MLC_EINVAL
 * for a non-finite raw or y, or a label out of range.
 */
mlc_status	mlc_tree_gradients(mlc_tree_objective obj, int n_classes, int64_t n,
							   const double *y, const double *raw, double *g,
							   double *h, mlc_error *err);

/*
 * Forest targets: regression (n_classes 0): g = -y, h = 1; classification:
 * g[k * n + i] = -1[y_i = k], h = 1 (weights go through mlc_tree_hist_add).
 */
mlc_status	mlc_tree_forest_targets(int n_classes, int64_t n, const double *y,
									double *g, double *h, mlc_error *err);

/*
 * Base score from the mean of the target (the caller sums y over chunks in
 * a fixed order): squared error: the mean (like XGBoost >= 2.0's
 * boost_from_average; Debian's 1.7 uses 0.5: pass base_score = 0.5 to
 * xgboost to compare); logistic: log(m / (1 - m)), m clamped to
 * [1e-7, 1 - 1e-7]; softmax and average: 0 for every class.
 */
double		mlc_tree_base_score(mlc_tree_objective obj, double mean_y);

/* Poisson(1) bootstrap count (0 .. 20) of a row, from SipHash of
 * (tree, row_key) under a key derived from seed. */
uint32_t	mlc_tree_bootstrap_weight(uint64_t seed, int tree, uint64_t row_key);

/* ---------- model arrays and scoring ---------- */

/*
 * Named arrays of a tree model (T trees, N nodes in all, trees stored one
 * after another, V outputs, W = value width):
 *   "tree_info"  1 x 3: objective (mlc_tree_objective), V, W
 *   "base_score" 1 x V
 *   "tree_nodes" 1 x T: node count of each tree (>= 1)
 *   "tree_output" 1 x T: output index the tree adds to (W = 1), or -1
 *                (W = V: the tree's values add to every output)
 *   "tree_scale" 1 x T: multiplier of the tree's values (1 for boosting,
 *                1/T for forests)
 *   "node_feature" N x 1: feature index, -1 for a leaf
 *   "node_threshold" N x 1: x < threshold goes left; NaN goes to the
 *                default side
 *   "node_left", "node_right" N x 1: child indices local to the tree,
 *                greater than the node's own index (-1 for leaves)
 *   "node_default_left" N x 1: 0/1
 *   "node_value" N x W: leaf values (learning rate included)
 *   "node_cover" N x 1: sum of hessians (count for forests); Tree SHAP's
 *                path-dependent weights
 *   "node_gain" N x 1: split gain, for feature importance
 * raw_k(x) = base_score[k] + sum over trees t adding to k (in order) of
 * tree_scale[t] * leaf value.  Objective 1: prediction raw_0; 2: P(1) =
 * sigmoid(raw_0), V = 1; 3: softmax of raw (V = K); 4: raw (V = 1:
 * regression; V = K: class probabilities).
 */
/*
 * One node of a compiled forest: what a walk reads at a node, in one place
 * (the model keeps each field in its own array).  Children are absolute
 * node indices; feature is -1 at a leaf.
 */
typedef struct mlc_node
{
	double		threshold;
	int32_t		feature;
	int32_t		left;
	int32_t		right;
	int32_t		default_left;
} mlc_node;

typedef struct mlc_forest
{
	int			objective;
	int			n_outputs;		/* V */
	int			value_width;	/* W */
	int			n_trees;
	int			n_nodes;
	int			n_features;
	int			max_depth;		/* set by mlc_forest_validate */
	const double *base_score;
	const double *tree_nodes;
	const double *tree_output;
	const double *tree_scale;
	const double *feature;
	const double *threshold;
	const double *left;
	const double *right;
	const double *default_left;
	const double *value;
	const double *cover;
	const double *gain;
	mlc_node   *nodes;			/* set by mlc_forest_compile, else NULL */
} mlc_forest;

/*
 * Check a forest view (fill every field but max_depth) and set max_depth:
 * shapes, integral indices in range, children after parents within the
 * tree, every non-root node the child of exactly one node, finite
 * thresholds, values, covers (>= 0), scales and base scores, depth <= 64.
 */
mlc_status	mlc_forest_validate(mlc_forest *f, mlc_error *err);
/* Fill a view from a model's arrays (mlc_model_array) and validate it. */
mlc_status	mlc_forest_from_model(const mlc_model *m, mlc_forest *f, mlc_error *err);
/*
 * The same arrays with their shapes checked but not the trees themselves
 * (O(trees), not O(nodes)): for scoring a model that was validated when it
 * was encoded or decoded.  max_depth is left 0.
 */
mlc_status	mlc_forest_view(const mlc_model *m, mlc_forest *f, mlc_error *err);

/*
 * Scoring and Tree SHAP trust the view: call them only on a view that
 * passed mlc_forest_validate (mlc_forest_from_model does), which also sets
 * max_depth, the size of Tree SHAP's path buffer.
 */

/*
 * The nodes of a validated view in one array (f->nodes, freed with
 * mlc_forest_free_nodes), which scoring walks.  MLC_ENOMEM if it cannot.
 */
mlc_status	mlc_forest_compile(mlc_forest *f, mlc_error *err);
void		mlc_forest_free_nodes(mlc_forest *f);

/*
 * raw scores (V values) of x (n_features values, NaN = missing); f must be
 * compiled.
 */
void		mlc_trees_predict_raw(const mlc_forest *f, const double *x, double *raw);
/*
 * Prediction: objective 1 (and 4 with V = 1): the value; 2, 3, 4 with V > 1:
 * the class id of the highest probability (lowest on ties), with proba (2
 * values for logistic, else V) written when not NULL.
 */
double		mlc_trees_predict(const mlc_forest *f, const double *x, double *proba);

/*
 * Exact path-dependent Tree SHAP (Lundberg et al. 2018, Algorithm 2) of x
 * for every output: phi[k * (F + 1) + j] for feature j, and
 * phi[k * (F + 1) + F] the expected value (base score plus the
 * cover-weighted mean of each tree).  Contributions plus expected value sum
 * to raw_k(x).  A node with cover 0 splits its weight evenly between its
 * children.  Allocates the path buffer (O(depth^2)).
 */
mlc_status	mlc_tree_shap(const mlc_forest *f, const double *x, double *phi,
						  mlc_error *err);

/* Feature importance from the arrays: per split on f, gain[f] += node gain,
 * cover[f] += node cover, count[f] += 1 (tree_scale not applied). */
void		mlc_forest_importance(const mlc_forest *f, double *gain, double *cover,
								  double *count);

#endif
