/*
 * unsupervised.h: see mlcore.h; included at its end.
 *
 * Elastic net / lasso (elasticnet.c), PCA (pca.c), k-means (kmeans.c) and
 * naive Bayes (naive_bayes.c).  Like the linear models, every reduction over
 * rows is a chunk function writing a fixed-layout partial buffer, a combine
 * function (into = into (+) other, called in chunk order) and a
 * finalize/solve step, so results depend only on the chunking, never on who
 * computed the chunks.
 */
#ifndef MLC_UNSUPERVISED_H
#define MLC_UNSUPERVISED_H

/* ---------- deterministic random numbers (splitmix64) ---------- */

/* Next 64-bit value of the splitmix64 sequence; advances *state. */
uint64_t	mlc_rng_next(uint64_t *state);
/* Uniform double in [0, 1) with 53 random bits; advances *state. */
double		mlc_rng_uniform(uint64_t *state);

/* ---------- elastic net / lasso by coordinate descent ---------- */

typedef struct mlc_cd_info
{
	int			iterations;		/* sweeps done */
	int			converged;		/* 0 when max_iter sweeps were reached */
	double		objective;		/* objective after the last sweep */
	double		max_change;		/* largest |w_j change| of the last sweep (standardized) */
} mlc_cd_info;

/* Called after every sweep (iteration counts from 1). */
typedef void (*mlc_cd_history_fn) (int iteration, double objective,
								   double max_change, void *arg);

/*
 * Elastic net from the merged stats of [X y] (R: (p+1) x (p+1) column-major
 * R factor of the centered [X y], means: p + 1, n rows), no data pass.
 * Exactly scikit-learn's Pipeline(StandardScaler(), ElasticNet(alpha,
 * l1_ratio)): features standardized by the population sd sqrt(S_jj / n)
 * (S = R'R), objective on the standardized features
 *   1/(2n) ||y - b0 - Xs w||^2 + alpha l1_ratio ||w||_1
 *     + alpha (1 - l1_ratio) / 2 ||w||^2        (b0 not penalized),
 * minimized by cyclic coordinate descent (j = 0..p-1 each sweep) on the
 * Gram matrix of the standardized features.  Each coordinate's partial
 * residual correlation is recomputed from the Gram row in index order
 * (O(p) per coordinate, no running update that could drift).
 * Stopping rule: after a sweep, converged when
 *   max_j |w_j new - w_j old| <= tol * max_j |w_j|   (or the change is 0),
 * i.e. a relative change in standardized units; an all-zero solution stops
 * after the first sweep that changes nothing.  At most max_iter sweeps;
 * info->converged = 0 when they ran out (the model is still returned).
 * Constant features (S_jj <= (16 eps |mean_j|)^2 n, which includes 0) get
 * coefficient 0.  model: p, coef (allocated with mlc_alloc, original units:
 * w_j / sd_j) and intercept = mean_y - sum_j coef_j mean_j.  info and
 * history may be NULL.  MLC_EINVAL for p < 1, n < 1, NULL pointers,
 * non-finite R or means, alpha < 0, l1_ratio outside [0, 1], tol < 0 or
 * max_iter < 1 (all finite).  MLC_EINTR (model untouched) when the
 * interrupt hook asks, which it does about every 64k multiply-adds of
 * sweeps, so a max_iter of 1e7 still stops at once.
 */
mlc_status	mlc_elastic_net_solve(int p, const double *R, const double *means,
								  int64_t n, double alpha, double l1_ratio,
								  double tol, int max_iter,
								  mlc_linear_model *model, mlc_cd_info *info,
								  mlc_cd_history_fn history, void *history_arg,
								  mlc_error *err);

/* ---------- PCA ---------- */

/*
 * PCA from the R factor of the centered X: R is the p x p upper-left block
 * (column-major, leading dimension ldr >= p, so the stats R of [X y] can be
 * passed with ldr = p + 1; entries below the diagonal are ignored) and n the
 * row count.  The SVD R = U S V' gives the principal axes (rows of V'):
 *   components          n_components x p, row-major, unit rows; each
 *                       row's largest-|.| entry is positive (the first
 *                       such entry on ties);
 *   explained_variance  s_i^2 / (n - 1), descending;
 *   explained_variance_ratio  explained_variance / (trace(R'R) / (n - 1));
 *                       all 0 when the total variance is 0.
 * Any output pointer except components may be NULL.  MLC_EINVAL for n < 2,
 * p < 1, ldr < p, n_components outside 1..p or non-finite R; MLC_ELAPACK
 * when the SVD fails.
 */
mlc_status	mlc_pca_from_r(int p, const double *R, int ldr, int64_t n,
						   int n_components, double *components,
						   double *explained_variance,
						   double *explained_variance_ratio, mlc_error *err);

/* ---------- k-means (Lloyd, k-means++ init, several runs per pass) ---------- */

/*
 * Partial buffer of one chunk for `runs` runs evaluated together, run r at
 * offset r * (k + k*d + 1):
 *   [0 .. k)            rows assigned to each cluster (counts, as doubles)
 *   [k .. k + k*d)      coordinate sums, cluster-major: sum[c * d + j]
 *   [k + k*d]           inertia: sum of squared distances to the nearest centroid
 * Centroid arrays are runs x k x d: centroid c of run r, coordinate j at
 * [(r * k + c) * d + j].
 */
#define MLC_KMEANS_PARTIAL_DOUBLES(k, d, runs) \
	((size_t) (runs) * ((size_t) (k) + (size_t) (k) * (size_t) (d) + 1))

/*
 * One chunk (d = b->p features; b->y is ignored): OVERWRITES partial with
 * the chunk's statistics.  Each row goes to its nearest centroid, squared
 * Euclidean distance summed over j = 0..d-1 in order, lowest index on ties;
 * rows are accumulated in row order.  MLC_EINVAL for k < 1, runs < 1,
 * d < 1, NULL pointers or non-finite X values or centroids.
 */
mlc_status	mlc_kmeans_chunk(const mlc_block *b, int k, int runs,
							 const double *centroids, double *partial,
							 mlc_error *err);

/* into += other, entry by entry (combine chunks in chunk order). */
void		mlc_kmeans_combine(int k, int d, int runs, double *into, const double *other);

/*
 * Lloyd update: centroid = sums / count.  An empty cluster keeps its
 * previous centroid (no re-seeding: deterministic and never moves a
 * centroid without data).  shift[r] (may be NULL) = sum over clusters of
 * the squared move of run r's centroids; 0 means the run has converged.
 * MLC_EINVAL for bad sizes, NULL pointers or negative / non-finite counts.
 */
mlc_status	mlc_kmeans_update(int k, int d, int runs, const double *partial,
							  double *centroids, double *shift, mlc_error *err);

/*
 * Greedy k-means++ (as scikit-learn's): first centroid a uniformly drawn
 * row; then each step draws 2 + floor(ln k) candidates with probability
 * proportional to the squared distance to the nearest chosen centroid and
 * keeps the candidate giving the lowest potential (lowest draw on ties).
 * X is an n x d column-major sample (lda = n).  Deterministic from seed
 * (mlc_rng_uniform on a state starting at seed).  A candidate is the first
 * row whose running sum of squared distances exceeds u * potential; when
 * every row coincides with a chosen centroid the draw is uniform over rows.
 * centroids: k x d row-major (centroid c, coordinate j at [c * d + j]).
 * MLC_EINVAL when k < 1, k > n, d < 1, NULL pointers or non-finite X.
 */
mlc_status	mlc_kmeans_plusplus(int64_t n, int d, const double *X, int k,
								uint64_t seed, double *centroids, mlc_error *err);

/*
 * Mean silhouette (scikit-learn's definition, Euclidean distances computed
 * directly as sqrt of the sum of squared differences) of n rows of the
 * n x d column-major X with labels in 0..k-1: s_i = (b - a) / max(a, b),
 * 0 for rows alone in their cluster (and when a = b = 0).  O(n^2 d): for a
 * sample.  NAN for invalid input (NULL, labels out of range, non-finite X)
 * or fewer than 2 non-empty clusters or n < 2, and when interrupted (the
 * caller asks its own interrupt state).
 */
double		mlc_kmeans_silhouette(int64_t n, int d, const double *X, const int *label, int k);

/* ---------- naive Bayes (Gaussian and one-hot categorical features) ---------- */

/*
 * Partial buffer: per class c at offset c * (1 + 2d):
 *   [0]              rows of the class (count, as double)
 *   [1 .. 1 + d)     class mean of each feature
 *   [1 + d .. 1 + 2d) M2: sum of squared deviations from the class mean
 * A class without rows has all zeros.
 */
#define MLC_NB_PARTIAL_DOUBLES(K, d) ((size_t) (K) * (1 + 2 * (size_t) (d)))

/*
 * One chunk (d = b->p; b->y holds class ids 0..K-1 as integral doubles):
 * OVERWRITES partial with the chunk's statistics, two passes (mean, then
 * M2 about it) in row order.  MLC_EINVAL for K < 1, d < 1, NULL pointers,
 * non-finite X or an invalid class id (naming the row).
 */
mlc_status	mlc_nb_chunk(const mlc_block *b, int K, double *partial, mlc_error *err);

/*
 * into = merge(into, other) per class (Chan et al.): n = na + nb,
 * delta = mb - ma, mean = ma + delta nb / n, M2 = M2a + M2b + delta^2 na nb / n.
 * A side with no rows leaves the other unchanged (bit for bit).
 */
void		mlc_nb_combine(int K, int d, double *into, const double *other);

/*
 * Model arrays from the combined partial (matching the naive_bayes entry of
 * the "Learned parameters" comment in mlcore.h).  feature_group[j] is -1
 * for a Gaussian feature, else the (non-negative) id of the categorical
 * column whose one-hot feature j is.
 *   class_log_prior[c] = log(count_c / n);
 *   Gaussian j: theta = class mean, var = class population variance +
 *     var_smoothing * max over Gaussian features of the overall population
 *     variance (scikit-learn's GaussianNB); when that maximum is 0 the
 *     smoothing is var_smoothing itself; feature_log_prob = 0;
 *   categorical j (scikit-learn's CategoricalNB, alpha = smoothing, raised
 *     to 1e-10 when smaller, as scikit-learn does): count_cj =
 *     round(count_c * mean_cj), feature_log_prob = log((count_cj + alpha) /
 *     (count_c + alpha * m_g)) with m_g the number of features of the group;
 *     theta = 0, var = 1.
 * All outputs are K x d row-major except class_log_prior (K).
 * MLC_ENODATA when a class has no rows (its prior would be -inf);
 * MLC_ESINGULAR when a Gaussian variance is 0 (var_smoothing 0 and a
 * feature constant within a class); MLC_EINVAL for bad sizes, NULL
 * pointers, an invalid partial (negative or non-integral counts,
 * non-finite values), var_smoothing < 0 or smoothing < 0.
 */
mlc_status	mlc_nb_finalize(int K, int d, const double *partial,
							const int *feature_group, double var_smoothing,
							double smoothing, double *class_log_prior,
							double *theta, double *var, double *feature_log_prob,
							mlc_error *err);

#endif
