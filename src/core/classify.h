/*
 * classify.h: classification core (see mlcore.h; included at its end).
 *
 * Logistic regression (Newton/IRLS), multinomial softmax regression (with a
 * reverse-communication L-BFGS usable for any smooth objective) and
 * classification metrics.  Data come as mlc_block; for classifiers y holds
 * the class id as a double (0..K-1; binary: 0/1).  Parameter vectors put the
 * intercept first: beta = [b0, b1..bp], d = p + 1.
 *
 * Every sum over rows is a chunk function writing a partial buffer (fixed
 * layout below) + a combine function (into += other, element by element,
 * called in chunk order) + a solve/finalize function.  Within a chunk rows
 * are summed in row order.
 */
#ifndef MLC_CLASSIFY_H
#define MLC_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

/* Largest feature count (p) and class count (K) the classifiers accept. */
#define MLC_CLASSIFY_MAX_FEATURES 65535
#define MLC_CLASSIFY_MAX_CLASSES 65535

/* ---------- binary logistic regression (Newton / IRLS) ---------- */

/*
 * Logistic partial buffer, MLC_LOGISTIC_PARTIAL_DOUBLES(p) doubles, d = p + 1:
 *   [0]                n, the chunk's row count
 *   [1]                log-likelihood sum  sum_i y_i eta_i - log(1 + exp(eta_i))
 *   [2]                count of rows with y = 1
 *   [3 .. 3+d)         gradient of the log-likelihood  sum_i (y_i - mu_i) x~_i
 *   [3+d .. 3+d+d*d)   Hessian of the negative log-likelihood X~' W X~
 *                      (d x d, full symmetric, column-major), W = mu (1 - mu)
 * with x~_i = [1, x_i], eta_i = beta . x~_i, mu_i = 1 / (1 + exp(-eta_i)).
 */
#define MLC_LOGISTIC_PARTIAL_DOUBLES(p) \
	((size_t) 3 + ((size_t) (p) + 1) + ((size_t) (p) + 1) * ((size_t) (p) + 1))

/*
 * Partial of one chunk at beta (d values) into partial (overwritten).
 * MLC_EINVAL (naming the row) for y not 0 or 1 or a non-finite X value;
 * MLC_EINVAL for a non-finite beta or bad shapes.  n == 0 writes zeros.
 */
mlc_status	mlc_logistic_chunk(const mlc_block *b, const double *beta, double *partial,
							   mlc_error *err);
/*
 * The same with each row's log-likelihood, gradient and Hessian terms
 * multiplied by class_weight[y] (2 positive finite values; NULL: all 1,
 * the same bits as mlc_logistic_chunk).  [0] and [2] stay row counts.
 */
mlc_status	mlc_logistic_chunk_weighted(const mlc_block *b, const double *beta,
										const double *class_weight, double *partial,
										mlc_error *err);
/* into += other, element by element (both MLC_LOGISTIC_PARTIAL_DOUBLES(p)). */
void		mlc_logistic_combine(int p, double *into, const double *other);

/*
 * One Newton step on  -loglik(b) + alpha/2 ||b1..bp||^2  (intercept not
 * penalized; alpha = 0 is statsmodels Logit, alpha > 0 scikit-learn
 * LogisticRegression with C = 1/alpha) from the partial evaluated at beta:
 *   beta_new = beta + (H + alpha I')^-1 (grad - alpha beta')
 * (I', beta': intercept entry zeroed), by Cholesky.  *max_step =
 * max |beta_new - beta|.  Plain Newton without step halving: checking a
 * step would need the objective at beta_new, i.e. another data pass (the
 * caller's next pass).  The caller iterates until
 * max_step <= 1e-10 (1 + max |beta|).  MLC_ESINGULAR when H + penalty is
 * not positive definite (collinear features, or a single class with
 * alpha = 0 drifting to infinity); MLC_ENODATA when n == 0; MLC_EINVAL for
 * bad arguments or a non-finite partial.  beta_new may alias beta.
 */
mlc_status	mlc_logistic_newton(int p, const double *partial, double alpha,
								const double *beta, double *beta_new,
								double *max_step, mlc_error *err);

/*
 * Inference at beta, from the partial evaluated at beta.  Arrays have d
 * entries (allocated with mlc_alloc; free with mlc_logistic_summary_free).
 * Standard errors are the square roots of the diagonal of the inverse of
 * H + alpha I' (with alpha > 0 these are the penalized-Hessian standard
 * errors, not those of an unpenalized fit, and the z and p-values built on
 * them are only indicative).  loglik is the unpenalized log-likelihood.
 */
struct mlc_logistic_summary
{
	int64_t		n;
	int64_t		n_positive;		/* rows with y = 1 */
	int			p;
	double	   *std_error;
	double	   *z;				/* beta / std_error */
	double	   *p_value;		/* two-sided normal: erfc(|z| / sqrt(2)) */
	double	   *odds_ratio;		/* exp(beta) */
	double		loglik;
	double		null_loglik;	/* intercept-only model: n1 log(n1/n) + n0 log(n0/n) */
	double		deviance;		/* -2 loglik */
	double		aic;			/* -2 loglik + 2 d */
	double		bic;			/* -2 loglik + d log(n) */
	double		pseudo_r2;		/* McFadden: 1 - loglik / null_loglik; NAN when null_loglik == 0 */
};
typedef struct mlc_logistic_summary mlc_logistic_summary_t;

/*
 * Fill s (arrays allocated here; on error nothing stays allocated).
 * MLC_ESINGULAR when H + alpha I' is not positive definite.
 */
mlc_status	mlc_logistic_summary(int p, const double *partial, double alpha,
								 const double *beta, struct mlc_logistic_summary *s,
								 mlc_error *err);
void		mlc_logistic_summary_free(struct mlc_logistic_summary *s);

/* ---------- multinomial (softmax) regression ---------- */

/*
 * Parameters W: K rows of d (row-major: class c is W[c*d .. c*d + d),
 * intercept first).  Softmax partial, MLC_SOFTMAX_PARTIAL_DOUBLES(p, K):
 *   [0]              n, the chunk's row count
 *   [1]              negative log-likelihood sum (cross-entropy,
 *                    log-sum-exp with the row maximum subtracted)
 *   [2 .. 2+K*d)     its gradient, laid out like W:
 *                    sum_i (P_ic - [y_i = c]) x~_i
 */
#define MLC_SOFTMAX_PARTIAL_DOUBLES(p, K) \
	((size_t) 2 + (size_t) (K) * ((size_t) (p) + 1))

/* Partial of one chunk at W (overwritten); MLC_EINVAL (naming the row) for
 * y not an integer in 0..K-1 or a non-finite X value; K >= 2.  n == 0 writes zeros. */
mlc_status	mlc_softmax_chunk(const mlc_block *b, int K, const double *W, double *partial,
							  mlc_error *err);
/* The same with each row's loss and gradient terms times class_weight[y]
 * (K positive finite values; NULL: all 1).  [0] stays the row count. */
mlc_status	mlc_softmax_chunk_weighted(const mlc_block *b, int K, const double *W,
									   const double *class_weight, double *partial,
									   mlc_error *err);
/* into += other, element by element. */
void		mlc_softmax_combine(int p, int K, double *into, const double *other);

/*
 * f = nll + alpha/2 * sum of squared non-intercept weights, g (K*d) its
 * gradient, from the partial evaluated at W.  Minimized, this is
 * scikit-learn LogisticRegression(multi_class='multinomial', C=1/alpha).
 */
void		mlc_softmax_objective(int p, int K, const double *partial, const double *W,
								  double alpha, double *f, double *g);

/*
 * Class probabilities of one feature vector x (p values) under W: the
 * softmax of W x~ with the maximum subtracted first.  proba gets K values.
 */
void		mlc_softmax_proba(int p, int K, const double *W, const double *x, double *proba);

/* ---------- L-BFGS, reverse communication ---------- */

/*
 * Minimize a smooth f: R^d -> R.  The caller evaluates f and g at x and
 * calls mlc_lbfgs_step(s, x, f, g); on MLC_LBFGS_EVALUATE, x holds the next
 * point to evaluate; on any other return x holds the best accepted point
 * (for CONVERGED, the point last evaluated).  Deterministic: fixed
 * operation order, no randomness.
 *
 * Method: direction by the two-loop recursion over the last m pairs (s, y)
 * with H0 = (s'y / y'y) I from the newest pair (first iteration, or after a
 * reset: steepest descent with a first trial step of min(1, 1 / ||g||_2)).
 * Line search: backtracking from step 1, halving, until the Armijo
 * condition f(x + t d) <= f(x) + 1e-4 t g'd holds with f finite; at most
 * 60 halvings, then the memory is dropped and steepest descent is tried;
 * failing that too gives MLC_LBFGS_FAILED.  A direction that is not a
 * descent direction (g'd >= 0) also drops the memory.  An accepted step
 * stores its pair only when y's > 1e-10 * y'y (curvature check; otherwise
 * the update is skipped), dropping the oldest pair beyond m.
 * Converged (tested at the start point and after each accepted step) when
 * max |g| <= gtol * max(1, |f|), or when the relative change
 * |f_old - f_new| / max(1, |f_new|) < 1e-15 for 3 accepted steps in a row.
 * MLC_LBFGS_MAX_ITER after max_iter accepted steps.
 */
typedef struct mlc_lbfgs mlc_lbfgs;
enum
{
	MLC_LBFGS_EVALUATE = 1,
	MLC_LBFGS_CONVERGED = 2,
	MLC_LBFGS_MAX_ITER = 3,
	MLC_LBFGS_FAILED = 4
};
/* NULL on no memory or invalid arguments (d < 1, m < 1, gtol < 0 or NaN, max_iter < 0). */
mlc_lbfgs  *mlc_lbfgs_create(int d, int m, double gtol, int max_iter);
/* x: the point where f and g were evaluated (see above). A NaN or infinite
 * f or g at the start point gives MLC_LBFGS_FAILED; during the line search
 * a non-finite f counts as not decreasing. */
int			mlc_lbfgs_step(mlc_lbfgs *s, double *x, double f, const double *g);
int			mlc_lbfgs_iterations(const mlc_lbfgs *s);	/* accepted steps */
double		mlc_lbfgs_gradient_norm(const mlc_lbfgs *s);	/* max |g| at the accepted point */
double		mlc_lbfgs_value(const mlc_lbfgs *s);	/* f at the accepted point */
void		mlc_lbfgs_free(mlc_lbfgs *s);

/* ---------- classification metrics ---------- */

typedef struct mlc_class_metrics_out
{
	double		accuracy;		/* trace / total; NAN when total == 0 */
	/* binary only (K == 2, positive class 1); NAN otherwise */
	double		precision;
	double		recall;
	double		f1;
	/* unweighted mean over all K classes of the per-class values */
	double		macro_precision;
	double		macro_recall;
	double		macro_f1;
	/* mean over classes weighted by their true rows (support) */
	double		weighted_precision;
	double		weighted_recall;
	double		weighted_f1;
} mlc_class_metrics_out;

/*
 * Metrics of a K x K confusion matrix (row-major, row = true class, column
 * = predicted).  scikit-learn's definitions with labels = 0..K-1: a class
 * with no predicted rows has precision 0, with no true rows recall 0, and
 * F1 = 2 p r / (p + r) is 0 when p + r == 0.  Invalid K (< 2) or a NULL
 * argument gives all NAN (out untouched when NULL).
 */
void		mlc_class_metrics(int K, const double *confusion, mlc_class_metrics_out *out);

/*
 * Exact ROC AUC (Mann-Whitney U / (n1 n0), ties counted one half) of
 * scores against labels 0/1.  Reorders both arrays (sorted by (score,
 * label)).  NAN when a class is absent, n < 1, a score is NaN or a label is
 * not 0 or 1.
 */
double		mlc_roc_auc(int64_t n, double *score, double *label);

/*
 * Average precision (scikit-learn's average_precision_score): the sum over
 * distinct scores, from the highest, of (R_n - R_{n-1}) P_n, where P_n and
 * R_n are the precision and recall of rows scoring at least the n-th
 * score.  Reorders both arrays.  NAN without positives or for invalid input
 * (as mlc_roc_auc).
 */
double		mlc_average_precision(int64_t n, double *score, double *label);

/*
 * ROC curve: (threshold, fpr, tpr) for the leading (+inf, 0, 0) point and
 * one point per distinct score in descending order (scikit-learn roc_curve
 * with drop_intermediate=False, except its first threshold, which is +inf
 * here).  The caller provides n + 1 slots in each output; returns the
 * number of points written, or -1 for invalid input (as mlc_roc_auc, but
 * a missing class is allowed: its rate is NAN, 0/0, like scikit-learn).
 * Reorders score and label.
 */
int64_t		mlc_roc_curve(int64_t n, double *score, double *label, double *threshold,
						  double *fpr, double *tpr);

/* -log(max(proba[cls], 1e-15)); NAN when cls is not in 0..K-1 or proba[cls] is NaN. */
double		mlc_log_loss_term(int K, const double *proba, int cls);

#endif
