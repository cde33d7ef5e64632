/*
 * fit.c: every algorithm as a sequence of passes over the engine's chunks.
 *
 * A pass computes one partial per chunk from the chunk's rows and the
 * parameters the leader published; the leader combines the partials in
 * chunk order and decides the next pass.  All numerics are the core's
 * (src/core); this file only moves rows and parameters around, so a model
 * is bit-identical for any number of workers.
 *
 * Cross-validation: params[PARAM_HOLDOUT] >= 0 trains on the train split's
 * rows outside that fold and validates on the fold; -1 trains on the train
 * split and validates on the test split.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "fit.h"
#include "pg_mlops.h"

/* Layout of the PASS_STATS partial: counts, then the core's chunk stats. */
#define STATS_N_TRAIN 0
#define STATS_N_VALID 1
#define STATS_N_SKIPPED 2
#define STATS_FIRST 3

#define REG_DOUBLES ((int) (sizeof(mlc_reg_metrics) / sizeof(double)))

static void
check_core(mlc_status st, const mlc_error *err)
{
	if (st != MLC_OK)
		ml_raise_core_error(err);
}

/* ---------- JSON ---------- */

void
ml_json_number(StringInfo buf, double v)
{
	if (isfinite(v))
		appendStringInfoString(buf, float8out_internal(v));
	else
		appendStringInfoString(buf, "null");
}

void
ml_json_key_number(StringInfo buf, const char *key, double v, bool comma)
{
	if (comma)
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
	ml_json_number(buf, v);
}

static void
json_key_array(StringInfo buf, const char *key, const double *v, int n, bool comma)
{
	int			i;

	if (comma)
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": [");
	for (i = 0; i < n; i++)
	{
		if (i)
			appendStringInfoString(buf, ", ");
		ml_json_number(buf, v[i]);
	}
	appendStringInfoChar(buf, ']');
}

/* ---------- tasks and sizes ---------- */

mlc_task
ml_algorithm_task(mlc_algorithm alg, int K)
{
	if (mlc_algorithm_is_tree(alg))
		return K > 0 ? MLC_TASK_CLASSIFICATION : MLC_TASK_REGRESSION;
	return mlc_algorithm_task(alg);
}

/* Doubles of one row set's metrics in a PASS_EVAL partial. */
static int
eval_doubles(mlc_task task, int K)
{
	switch (task)
	{
		case MLC_TASK_REGRESSION:
			return REG_DOUBLES;
		case MLC_TASK_CLASSIFICATION:
			return 2 + K * K;	/* n, log loss sum, confusion */
		default:
			return 2;			/* n, inertia */
	}
}

int
ml_fit_partial_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K)
{
	Size		n = 2 * eval_doubles(ml_algorithm_task(alg, K), K);

	switch (alg)
	{
		case MLC_ALG_LINEAR:
		case MLC_ALG_RIDGE:
		case MLC_ALG_LASSO:
		case MLC_ALG_ELASTIC_NET:
		case MLC_ALG_PCA:
			n = Max(n, STATS_FIRST + MLC_STATS_DOUBLES(p + 1));
			n = Max(n, 2 * (Size) (p + 1));
			break;
		case MLC_ALG_LOGISTIC:
			n = Max(n, MLC_LOGISTIC_PARTIAL_DOUBLES(p) + 2 + p);
			break;
		case MLC_ALG_SOFTMAX:
			n = Max(n, MLC_SOFTMAX_PARTIAL_DOUBLES(p, K) + 2 + p);
			break;
		case MLC_ALG_KMEANS:
			n = Max(n, MLC_KMEANS_PARTIAL_DOUBLES((int) hp->k, p, (int) hp->n_init) + (Size) hp->n_init + 1);
			n = Max(n, 1 + (Size) ML_SAMPLE_PER_CHUNK * (p + 1));
			break;
		case MLC_ALG_NAIVE_BAYES:
			n = Max(n, MLC_NB_PARTIAL_DOUBLES(K, p) + 1);
			break;
		case MLC_ALG_GRADIENT_BOOSTING:
		case MLC_ALG_RANDOM_FOREST:
		case MLC_ALG_DECISION_TREE:
			n = Max(n, (Size) ml_tree_partial_doubles(alg, hp, p, K));
			n = Max(n, 1 + (Size) ML_SAMPLE_PER_CHUNK * (p + 1));
			break;
		default:
			elog(ERROR, "algorithm %d has no passes", (int) alg);
	}
	if (n > (Size) 64 * 1024 * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the model is too large to train: %zu statistics per chunk", n),
				 errhint("Use fewer features, categories, classes or clusters.")));
	return (int) n;
}

/* Parameters: the largest of the algorithm's own and an encoded model for PASS_EVAL. */
int
ml_fit_param_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K)
{
	Size		n = 256 * 1024;	/* 2 MB: encoded models of any algorithm here */

	if (alg == MLC_ALG_KMEANS)
		n = Max(n, PARAM_FIRST + 2 + (Size) hp->n_init * hp->k * p);
	if (alg == MLC_ALG_SOFTMAX)
		n = Max(n, PARAM_FIRST + 1 + (Size) K * (p + 1));
	if (mlc_algorithm_is_tree(alg))
		n = Max(n, (Size) ml_tree_param_doubles(alg, hp, p, K));
	return (int) n;
}

/* ---------- per-chunk partials (leader and workers) ---------- */

/* The chunk's training and validation rows for a holdout fold. */
static void
chunk_views(const MLChunk *c, int holdout, int p, mlc_block *tr, mlc_block *va)
{
	int64		i,
				nv = 0,
				nt = 0,
				it = 0,
				iv = 0;
	double	   *Xt,
			   *yt,
			   *Xv,
			   *yv;
	int			j;

	if (holdout < 0 || c->fold == NULL)
	{
		*tr = (mlc_block) {c->n_train, p, c->Xtr, c->ytr};
		*va = (mlc_block) {c->n_test, p, c->Xte, c->yte};
		return;
	}
	for (i = 0; i < c->n_train; i++)
		nv += c->fold[i] == holdout;
	nt = c->n_train - nv;
	Xt = palloc_extended(sizeof(double) * Max(1, nt * p), MCXT_ALLOC_HUGE);
	yt = palloc_extended(sizeof(double) * Max(1, nt), MCXT_ALLOC_HUGE);
	Xv = palloc_extended(sizeof(double) * Max(1, nv * p), MCXT_ALLOC_HUGE);
	yv = palloc_extended(sizeof(double) * Max(1, nv), MCXT_ALLOC_HUGE);
	for (i = 0; i < c->n_train; i++)
	{
		if (c->fold[i] == holdout)
		{
			for (j = 0; j < p; j++)
				Xv[j * nv + iv] = c->Xtr[j * c->n_train + i];
			yv[iv++] = c->ytr[i];
		}
		else
		{
			for (j = 0; j < p; j++)
				Xt[j * nt + it] = c->Xtr[j * c->n_train + i];
			yt[it++] = c->ytr[i];
		}
	}
	*tr = (mlc_block) {nt, p, Xt, yt};
	*va = (mlc_block) {nv, p, Xv, yv};
}

/* Row i of a column-major block into x. */
static inline void
block_row(const mlc_block *b, int64 i, double *x)
{
	int			j;

	for (j = 0; j < b->p; j++)
		x[j] = b->X[j * b->n + i];
}

/*
 * Rows between cancel checks when scoring row by row: one row of a wide
 * naive Bayes or a large forest costs up to a millisecond.
 */
#define EVAL_CHECK_MASK 63

/* Metrics of one row set under a decoded model, into out (eval_doubles). */
static void
eval_block(const mlc_model *m, const mlc_block *b, double *out)
{
	int64		i;
	int			K = m->n_classes;
	double	   *x = palloc(sizeof(double) * Max(1, b->p));

	switch (m->task)
	{
		case MLC_TASK_REGRESSION:
			{
				mlc_reg_metrics *rm = (mlc_reg_metrics *) out;
				mlc_linear_model lin;

				if (mlc_model_linear_view(m, &lin) == 0)
				{
					double	   *yhat = palloc(sizeof(double) * Max(1, b->n));

					mlc_linear_predict_block(&lin, b, yhat);
					for (i = 0; i < b->n; i++)
						mlc_reg_metrics_add(rm, b->y[i], yhat[i]);
				}
				else
					for (i = 0; i < b->n; i++)
					{
						if ((i & EVAL_CHECK_MASK) == 0)
							CHECK_FOR_INTERRUPTS();
						block_row(b, i, x);
						mlc_reg_metrics_add(rm, b->y[i], mlc_model_predict(m, x));
					}
			}
			break;
		case MLC_TASK_CLASSIFICATION:
			{
				double	   *proba = palloc(sizeof(double) * K);

				for (i = 0; i < b->n; i++)
				{
					int			cls;
					int			pred = 0,
								c;

					if ((i & EVAL_CHECK_MASK) == 0)
						CHECK_FOR_INTERRUPTS();
					/* rows from an aggregate state are bytes from SQL */
					if (!(b->y[i] >= 0 && b->y[i] < K) || b->y[i] != floor(b->y[i]))
						ereport(ERROR,
								(errcode(ERRCODE_DATA_EXCEPTION),
								 errmsg("class id %g of an evaluated row is not between 0 and %d", b->y[i], K - 1)));
					cls = (int) b->y[i];
					block_row(b, i, x);
					mlc_model_predict_proba(m, x, proba);
					for (c = 1; c < K; c++)
						if (proba[c] > proba[pred])
							pred = c;
					out[0] += 1;
					out[1] += mlc_log_loss_term(K, proba, cls);
					out[2 + cls * K + pred] += 1;
				}
			}
			break;
		case MLC_TASK_CLUSTERING:
			{
				int			k = mlc_model_output_width(m);
				double	   *dist = palloc(sizeof(double) * Max(1, k));

				for (i = 0; i < b->n; i++)
				{
					double		best = INFINITY;
					int			c;

					if ((i & EVAL_CHECK_MASK) == 0)
						CHECK_FOR_INTERRUPTS();
					block_row(b, i, x);
					mlc_model_transform(m, x, dist);
					for (c = 0; c < k; c++)
						best = Min(best, dist[c] * dist[c]);
					out[0] += 1;
					out[1] += best;
				}
			}
			break;
		default:
			break;
	}
}

/* Column sums of a block, in row order (for the training means). */
static void
column_sums(const mlc_block *b, double *sums)
{
	int64		i;
	int			j;

	for (j = 0; j < b->p; j++)
	{
		double		sum = 0;

		for (i = 0; i < b->n; i++)
			sum += b->X[(Size) j * b->n + i];
		sums[j] = sum;
	}
}

/* Validation loss of a linear predictor under the logistic loss. */
static double
logistic_loss_sum(const mlc_block *b, const double *beta)
{
	double		sum = 0;
	int64		i;
	int			j;

	for (i = 0; i < b->n; i++)
	{
		double		eta = beta[0];

		for (j = 0; j < b->p; j++)
			eta += beta[j + 1] * b->X[j * b->n + i];
		/* log(1 + exp(eta)) - y eta, stably */
		sum += (eta > 0 ? eta + log1p(exp(-eta)) : log1p(exp(eta))) - b->y[i] * eta;
	}
	return sum;
}

void
ml_chunk_partial(int algorithm, int pass_kind, int p, const MLChunk *c,
				 const double *params, double *partial)
{
	mlc_error	err;
	mlc_block	tr,
				va;
	int			holdout = (int) params[PARAM_HOLDOUT];
	const double *prm = params + PARAM_FIRST;

	chunk_views(c, holdout, p, &tr, &va);
	switch (pass_kind)
	{
		case PASS_STATS:
			partial[STATS_N_TRAIN] = (double) tr.n;
			partial[STATS_N_VALID] = (double) va.n;
			partial[STATS_N_SKIPPED] = (double) c->n_skipped;
			check_core(mlc_linear_chunk_stats(&tr, partial + STATS_FIRST, &err), &err);
			break;
		case PASS_REFINE:
			{
				mlc_linear_model m = {p, prm[0], (double *) prm + 1};

				memset(partial, 0, sizeof(double) * 2 * (p + 1));
				check_core(mlc_linear_refine_chunk(&tr, &m, partial, &err), &err);
			}
			break;
		case PASS_EVAL:
			{
				mlc_model	m;
				size_t		len = (size_t) prm[0];
				int			E;

				if (mlc_model_decode((const uint8_t *) (prm + 1), len, &m, &err) != MLC_OK)
					ml_raise_core_error(&err);
				E = eval_doubles(m.task, m.n_classes);
				memset(partial, 0, sizeof(double) * 2 * E);
				eval_block(&m, &tr, partial);
				eval_block(&m, &va, partial + E);
				mlc_model_free(&m);
			}
			break;
		case PASS_LOGISTIC:
			{
				Size		L = MLC_LOGISTIC_PARTIAL_DOUBLES(p);

				check_core(mlc_logistic_chunk(&tr, prm, partial, &err), &err);
				partial[L] = logistic_loss_sum(&va, prm);
				partial[L + 1] = (double) va.n;
				column_sums(&tr, partial + L + 2);
			}
			break;
		case PASS_SOFTMAX:
			{
				int			K = (int) prm[0];
				Size		S = MLC_SOFTMAX_PARTIAL_DOUBLES(p, K);
				double	   *tmp = palloc(sizeof(double) * S);

				check_core(mlc_softmax_chunk(&tr, K, prm + 1, partial, &err), &err);
				check_core(mlc_softmax_chunk(&va, K, prm + 1, tmp, &err), &err);
				partial[S] = tmp[1];
				partial[S + 1] = (double) va.n;
				column_sums(&tr, partial + S + 2);
			}
			break;
		case PASS_SAMPLE:
			{
				/*
				 * Rows whose content hash falls under the rate, each with its
				 * hash: the leader orders the sample by hash, so it depends
				 * on the rows only, not on chunks or engines.
				 */
				double		rate = prm[0];
				uint64		seed = (uint64) prm[1];
				double	   *x = palloc(sizeof(double) * p);
				int64		i,
							kept = 0;

				for (i = 0; i < tr.n && kept < ML_SAMPLE_PER_CHUNK; i++)
				{
					uint64		h;
					double		u;

					block_row(&tr, i, x);
					h = mlc_siphash(x, sizeof(double) * p, seed, MLC_CONTENT_K1);
					u = (double) (h >> 11) * (1.0 / 9007199254740992.0);
					if (u < rate)
					{
						double	   *slot = partial + 1 + kept++ * (p + 1);

						slot[0] = u;
						memcpy(slot + 1, x, sizeof(double) * p);
					}
				}
				partial[0] = (double) kept;
			}
			break;
		case PASS_KMEANS:
			{
				int			k = (int) prm[0];
				int			runs = (int) prm[1];
				Size		KM = MLC_KMEANS_PARTIAL_DOUBLES(k, p, runs);
				double	   *tmp = palloc(sizeof(double) * KM);
				int			r;

				check_core(mlc_kmeans_chunk(&tr, k, runs, prm + 2, partial, &err), &err);
				if (va.n > 0)
					check_core(mlc_kmeans_chunk(&va, k, runs, prm + 2, tmp, &err), &err);
				for (r = 0; r < runs; r++)
					partial[KM + r] = va.n > 0 ? tmp[r * (k + k * p + 1) + k + k * p] : 0;
				partial[KM + runs] = (double) va.n;
			}
			break;
		case PASS_NB:
			check_core(mlc_nb_chunk(&tr, (int) prm[0], partial, &err), &err);
			partial[MLC_NB_PARTIAL_DOUBLES((int) prm[0], p)] = (double) va.n;
			break;
		case PASS_TREE_INIT:
		case PASS_TREE_GRAD:
		case PASS_TREE_HIST:
		case PASS_TREE_UPDATE:
		case PASS_TREE_EVAL:
			ml_tree_partial(pass_kind, c, &tr, &va, holdout, prm, partial);
			break;
		default:
			elog(ERROR, "unknown pass %d for algorithm %d", pass_kind, algorithm);
	}
}

/* ---------- leader side ---------- */

double *
ml_fit_pass(MLFit *fit, int pass_kind)
{
	ml_engine_params(fit->engine)[PARAM_HOLDOUT] = fit->holdout;
	return ml_engine_run_pass(fit->engine, pass_kind);
}

double *
ml_fit_partial(MLFit *fit, double *partials, int c)
{
	return partials + (Size) c * fit->partial_doubles;
}

void
ml_fit_add_array(MLFit *fit, const char *name, int rows, int cols, double *data)
{
	mlc_array  *a = &fit->arrays[fit->n_arrays++];

	if (fit->n_arrays > lengthof(fit->arrays))
		elog(ERROR, "too many model arrays");
	strlcpy(a->name, name, sizeof(a->name));
	a->rows = rows;
	a->cols = cols;
	a->data = data;
}

void
ml_fit_history(MLFit *fit, int iteration, double train_loss, double valid_loss, double step,
			   TimestampTz t0)
{
	StringInfo	h = &fit->history;

	if (h->len > 0)
		appendStringInfoString(h, ", ");
	appendStringInfo(h, "{\"iteration\": %d", iteration);
	ml_json_key_number(h, "train_loss", train_loss, true);
	ml_json_key_number(h, "valid_loss", valid_loss, true);
	ml_json_key_number(h, "step", step, true);
	ml_json_key_number(h, "elapsed_s", ml_elapsed_seconds(t0), true);
	appendStringInfoChar(h, '}');
}

static void
no_rows_error(MLFit *fit)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("no usable training rows"),
			 errdetail("%lld rows were skipped because the target is NULL or a value is not finite; %lld rows are in the validation set.",
					   (long long) fit->n_skipped, (long long) fit->n_valid),
			 errhint("Filter NULL targets and non-finite values in the snapshot query.")));
}

/*
 * The tail the logistic and softmax partials carry after their statistics
 * (at offset off): validation loss sum, validation rows and, on the first
 * pass, the feature sums for the means.  Sums it over the chunks in order,
 * sets the row counts (n_train from the combined statistics) and returns
 * the mean validation loss (NaN without validation rows).
 */
static double
combine_loss_tail(MLFit *fit, double *partials, Size off, double n_train,
				  double *means, bool first)
{
	int			nchunks = ml_engine_nchunks(fit->engine),
				p = fit->plan->p,
				c,
				j;
	double		valid_sum = 0,
				valid_n = 0;

	for (c = 0; c < nchunks; c++)
	{
		double	   *part = ml_fit_partial(fit, partials, c);

		valid_sum += part[off];
		valid_n += part[off + 1];
		if (first)
			for (j = 0; j < p; j++)
				means[j] += part[off + 2 + j];
	}
	if (first)
		for (j = 0; j < p; j++)
			means[j] /= Max(n_train, 1);
	fit->n_train = (int64) n_train;
	fit->n_valid = (int64) valid_n;
	if (fit->n_train == 0)
		no_rows_error(fit);
	return valid_n > 0 ? valid_sum / valid_n : NAN;
}

/* PASS_STATS: counts into fit, merged stats (fixed tree) returned in chunk 0's partial. */
static double *
stats_pass(MLFit *fit)
{
	int			nchunks = ml_engine_nchunks(fit->engine);
	int			p1 = fit->plan->p + 1;
	double	   *partials = ml_fit_pass(fit, PASS_STATS);
	mlc_error	err;
	int			c;

	fit->n_train = fit->n_valid = fit->n_skipped = 0;
	for (c = 0; c < nchunks; c++)
	{
		const double *part = ml_fit_partial(fit, partials, c);

		fit->n_train += (int64) part[STATS_N_TRAIN];
		fit->n_valid += (int64) part[STATS_N_VALID];
		fit->n_skipped += (int64) part[STATS_N_SKIPPED];
	}
	check_core(mlc_linear_stats_tree(p1, nchunks, partials + STATS_FIRST, fit->partial_doubles, &err), &err);
	if (fit->n_train == 0)
		no_rows_error(fit);
	return partials + STATS_FIRST;
}

/* Whether the QR solution's error bound leaves fewer than 13 correct digits. */
static bool
needs_refinement(const mlc_linear_summary *s)
{
	double		kappa = s->condition_number;
	double		fitted = s->tss - s->rss;

	if (!isfinite(kappa) || fitted <= 0)
		return true;
	return DBL_EPSILON * kappa * kappa * sqrt(s->rss / fitted) > 1e-13;
}

static void
publish_linear(MLFit *fit, const mlc_linear_model *lm)
{
	double	   *params = ml_engine_params(fit->engine) + PARAM_FIRST;

	params[0] = lm->intercept;
	memcpy(params + 1, lm->coef, sizeof(double) * lm->p);
}

static void
singular_error(MLFit *fit, const mlc_linear_summary *summary, const char *hint)
{
	char	  **names = fit->feature_names;
	int			f = summary->dependent_feature;
	StringInfoData others;
	int			j;

	if (summary->dependent_is_constant)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("feature \"%s\" is constant in the training rows", names[f]),
				 errdetail("A constant column cannot be told apart from the intercept."),
				 errhint("%s", hint)));
	initStringInfo(&others);
	for (j = 0; j < f; j++)
		appendStringInfo(&others, "%s%s", j ? ", " : "", names[j]);
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("feature \"%s\" is a linear combination of other features", names[f]),
			 errdetail("It is collinear with features listed before it: %s.", others.data),
			 errhint("%s", hint)));
}

static void
summary_coefficients(MLFit *fit, const double *beta, const double *se, const double *stat,
					 const char *stat_name, const double *pval, const double *odds)
{
	StringInfo	buf = &fit->summary;
	int			p = fit->plan->p,
				j;

	appendStringInfoString(buf, "\"coefficients\": [");
	for (j = 0; j <= p; j++)
	{
		appendStringInfoString(buf, j ? ", {" : "{");
		escape_json(buf, "feature");
		appendStringInfoString(buf, ": ");
		escape_json(buf, j == 0 ? "intercept" : fit->feature_names[j - 1]);
		ml_json_key_number(buf, "coefficient", beta[j], true);
		if (se)
		{
			ml_json_key_number(buf, "std_error", se[j], true);
			ml_json_key_number(buf, stat_name, stat[j], true);
			ml_json_key_number(buf, "p_value", pval[j], true);
		}
		if (odds)
			ml_json_key_number(buf, "odds_ratio", odds[j], true);
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoChar(buf, ']');
}

static void
cd_history(int iteration, double objective, double max_change, void *arg)
{
	MLFit	   *fit = arg;

	if (iteration <= 1000 || iteration % 100 == 0)
		ml_fit_history(fit, iteration, objective, NAN, max_change, GetCurrentTimestamp());
}

/* linear_regression, ridge, lasso, elastic_net */
static void
fit_linear(MLFit *fit)
{
	int			p = fit->plan->p,
				p1 = p + 1;
	double	   *stats = stats_pass(fit);
	double	   *means = palloc(sizeof(double) * p1);
	double	   *R = palloc(sizeof(double) * p1 * p1);
	double	   *beta = palloc(sizeof(double) * p1);
	mlc_linear_model lm;
	mlc_linear_summary summary;
	mlc_error	err;
	mlc_status	st;
	int			refined = 0;

	memcpy(means, stats + 1, sizeof(double) * p1);
	memcpy(R, stats + 1 + p1, sizeof(double) * p1 * p1);
	memset(&summary, 0, sizeof(summary));
	if (fit->alg == MLC_ALG_LINEAR || fit->alg == MLC_ALG_RIDGE)
	{
		if (fit->hp.alpha == 0 && fit->n_train < p1)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("not enough training rows: %lld rows for %d features", (long long) fit->n_train, p),
					 errdetail("Linear regression needs at least as many rows as features plus one."),
					 errhint("Use fewer features, more data, or algorithm => 'ridge'.")));
		st = mlc_linear_solve(p, R, means, fit->n_train, fit->hp.alpha, &lm, &summary, &err);
		if (st == MLC_ESINGULAR && summary.dependent_feature >= 0)
			singular_error(fit, &summary, "Leave it out of features, or use algorithm => 'ridge'.");
		check_core(st, &err);
		if (needs_refinement(&summary))
		{
			double	   *acc = palloc0(sizeof(double) * 2 * p1);
			double	   *partials;
			int			c;

			publish_linear(fit, &lm);
			partials = ml_fit_pass(fit, PASS_REFINE);
			for (c = 0; c < ml_engine_nchunks(fit->engine); c++)
				mlc_linear_refine_combine(p, acc, ml_fit_partial(fit, partials, c));
			check_core(mlc_linear_refine_apply(p, R, means, fit->n_train, fit->hp.alpha, acc, &lm,
											   &summary, &refined, &err), &err);
		}
		fit->iterations = 1;
		fit->converged = true;
	}
	else
	{
		mlc_cd_info info;
		double		l1 = fit->alg == MLC_ALG_LASSO ? 1.0 : fit->hp.l1_ratio;

		check_core(mlc_elastic_net_solve(p, R, means, fit->n_train, fit->hp.alpha, l1, fit->hp.tol,
										 (int) fit->hp.max_iter, &lm, &info, cd_history, fit, &err), &err);
		fit->iterations = info.iterations;
		fit->converged = info.converged;
		fit->objective = info.objective;
	}
	beta[0] = lm.intercept;
	memcpy(beta + 1, lm.coef, sizeof(double) * p);
	/* training means first (ml.explain_predict centers by them); coef last */
	ml_fit_add_array(fit, "feature_mean", 1, p, means);
	ml_fit_add_array(fit, "coef", 1, p1, beta);

	if (fit->alg == MLC_ALG_LINEAR || fit->alg == MLC_ALG_RIDGE)
	{
		summary_coefficients(fit, beta, summary.std_error, summary.t_stat, "t_stat", summary.p_value, NULL);
		ml_json_key_number(&fit->summary, "r2", summary.r2, true);
		ml_json_key_number(&fit->summary, "adj_r2", summary.adj_r2, true);
		ml_json_key_number(&fit->summary, "residual_sd", summary.residual_sd, true);
		ml_json_key_number(&fit->summary, "rss", summary.rss, true);
		ml_json_key_number(&fit->summary, "condition_number", summary.condition_number, true);
		ml_json_key_number(&fit->summary, "df_residual", (double) (fit->n_train - p - 1), true);
		appendStringInfo(&fit->summary, ", \"refined\": %s", refined ? "true" : "false");
	}
	else
	{
		int			nonzero = 0,
					j;

		for (j = 0; j < p; j++)
			nonzero += lm.coef[j] != 0;
		summary_coefficients(fit, beta, NULL, NULL, NULL, NULL, NULL);
		ml_json_key_number(&fit->summary, "nonzero_coefficients", nonzero, true);
		ml_json_key_number(&fit->summary, "objective", fit->objective, true);
	}
}

static void
fit_pca(MLFit *fit)
{
	int			p = fit->plan->p,
				p1 = p + 1;
	double	   *stats = stats_pass(fit);
	int			m = fit->hp.n_components > 0 ? (int) fit->hp.n_components : p;
	double	   *mean = palloc(sizeof(double) * p);
	double	   *components,
			   *ev,
			   *ratio;
	mlc_error	err;

	if (m > p)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_components is %d, but there are only %d features", m, p),
				 errhint("Use n_components between 1 and %d, or 0 for all.", p)));
	if (fit->n_train < 2)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("pca needs at least 2 training rows, got %lld", (long long) fit->n_train)));
	components = palloc(sizeof(double) * m * p);
	ev = palloc(sizeof(double) * m);
	ratio = palloc(sizeof(double) * m);
	memcpy(mean, stats + 1, sizeof(double) * p);
	check_core(mlc_pca_from_r(p, stats + 1 + p1, p1, fit->n_train, m, components, ev, ratio, &err), &err);
	ml_fit_add_array(fit, "mean", 1, p, mean);
	ml_fit_add_array(fit, "components", m, p, components);
	ml_fit_add_array(fit, "explained_variance", 1, m, ev);
	fit->iterations = 1;
	fit->converged = true;
	json_key_array(&fit->summary, "explained_variance", ev, m, false);
	json_key_array(&fit->summary, "explained_variance_ratio", ratio, m, true);
	json_key_array(&fit->summary, "mean", mean, p, true);
	{
		int			c;

		appendStringInfoString(&fit->summary, ", \"components\": [");
		for (c = 0; c < m; c++)
		{
			int			j;

			appendStringInfoString(&fit->summary, c ? ", [" : "[");
			for (j = 0; j < p; j++)
			{
				if (j)
					appendStringInfoString(&fit->summary, ", ");
				ml_json_number(&fit->summary, components[(Size) c * p + j]);
			}
			appendStringInfoChar(&fit->summary, ']');
		}
		appendStringInfoChar(&fit->summary, ']');
	}
}

static void
iteration_limit_warning(MLFit *fit, const char *what)
{
	ereport(WARNING,
			(errmsg("%s did not converge in %d iterations", what, fit->iterations),
			 errdetail("The model is registered as it stands; its training_info shows the last steps."),
			 errhint("Raise \"max_iter\", scale the features, or add regularization (\"alpha\").")));
}

static void
fit_logistic(MLFit *fit)
{
	int			p = fit->plan->p,
				d = p + 1;
	int			nchunks = ml_engine_nchunks(fit->engine);
	Size		L = MLC_LOGISTIC_PARTIAL_DOUBLES(p);
	double	   *beta = palloc0(sizeof(double) * d);
	double	   *next = palloc0(sizeof(double) * d);
	double	   *acc = palloc(sizeof(double) * L);
	double	   *means = palloc0(sizeof(double) * Max(p, 1));
	mlc_logistic_summary_t s;
	mlc_error	err;
	mlc_status	st;
	TimestampTz t0 = GetCurrentTimestamp();
	int			it;

	fit->converged = false;
	for (it = 1; it <= (int) fit->hp.max_iter; it++)
	{
		double	   *partials;
		double		valid_loss,
					max_step,
					scale = 0;
		int			c,
					j;

		memcpy(ml_engine_params(fit->engine) + PARAM_FIRST, beta, sizeof(double) * d);
		partials = ml_fit_pass(fit, PASS_LOGISTIC);
		memset(acc, 0, sizeof(double) * L);
		for (c = 0; c < nchunks; c++)
			mlc_logistic_combine(p, acc, ml_fit_partial(fit, partials, c));
		valid_loss = combine_loss_tail(fit, partials, L, acc[0], means, it == 1);
		if (acc[2] == 0 || acc[2] == acc[0])
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("the training rows have a single class"),
					 errdetail("All %lld training rows have the same label.", (long long) fit->n_train),
					 errhint("Classification needs at least two classes in the training split.")));
		st = mlc_logistic_newton(p, acc, fit->hp.alpha, beta, next, &max_step, &err);
		if (st == MLC_ESINGULAR)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("logistic regression failed: the Hessian is singular after %d iterations", it),
					 errdetail("Features are collinear, or the classes are perfectly separated so the coefficients grow without bound."),
					 errhint("Add regularization, e.g. hyperparams => '{\"alpha\": 1}', or drop collinear features.")));
		check_core(st, &err);
		fit->iterations = it;
		fit->objective = -acc[1] / acc[0];
		ml_fit_history(fit, it, -acc[1] / acc[0], valid_loss, max_step, t0);
		for (j = 0; j < d; j++)
			scale = Max(scale, fabs(beta[j]));
		if (max_step <= fit->hp.tol * (1 + scale))
		{
			fit->converged = true;
			break;
		}
		memcpy(beta, next, sizeof(double) * d);
	}
	if (!fit->converged)
	{
		fit->iterations = (int) fit->hp.max_iter;
		iteration_limit_warning(fit, "logistic regression");
	}
	/* beta is the point the last partial was computed at: consistent inference */
	check_core(mlc_logistic_summary(p, acc, fit->hp.alpha, beta, &s, &err), &err);
	ml_fit_add_array(fit, "feature_mean", 1, p, means);
	ml_fit_add_array(fit, "coef", 1, d, beta);
	summary_coefficients(fit, beta, s.std_error, s.z, "z", s.p_value, s.odds_ratio);
	ml_json_key_number(&fit->summary, "log_likelihood", s.loglik, true);
	ml_json_key_number(&fit->summary, "null_log_likelihood", s.null_loglik, true);
	ml_json_key_number(&fit->summary, "deviance", s.deviance, true);
	ml_json_key_number(&fit->summary, "aic", s.aic, true);
	ml_json_key_number(&fit->summary, "bic", s.bic, true);
	ml_json_key_number(&fit->summary, "pseudo_r2", s.pseudo_r2, true);
	mlc_logistic_summary_free(&s);
}

static void
fit_softmax(MLFit *fit)
{
	int			p = fit->plan->p,
				d = p + 1,
				K = fit->plan->n_classes;
	int			nchunks = ml_engine_nchunks(fit->engine);
	Size		S = MLC_SOFTMAX_PARTIAL_DOUBLES(p, K);
	Size		nw = (Size) K * d;
	double	   *W = palloc0(sizeof(double) * nw);
	double	   *g = palloc(sizeof(double) * nw);
	double	   *acc = palloc(sizeof(double) * S);
	double	   *params = ml_engine_params(fit->engine) + PARAM_FIRST;
	double	   *means = palloc0(sizeof(double) * Max(p, 1));
	mlc_lbfgs  *opt = mlc_lbfgs_create((int) nw, 10, fit->hp.tol, (int) fit->hp.max_iter);
	TimestampTz t0 = GetCurrentTimestamp();
	int			status = MLC_LBFGS_EVALUATE,
				evals = 0,
				last_iter = -1,
				c;
	StringInfo	buf = &fit->summary;

	if (opt == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	while (status == MLC_LBFGS_EVALUATE)
	{
		double	   *partials;
		double		f,
					valid_loss;

		params[0] = K;
		memcpy(params + 1, W, sizeof(double) * nw);
		partials = ml_fit_pass(fit, PASS_SOFTMAX);
		memset(acc, 0, sizeof(double) * S);
		for (c = 0; c < nchunks; c++)
			mlc_softmax_combine(p, K, acc, ml_fit_partial(fit, partials, c));
		valid_loss = combine_loss_tail(fit, partials, S, acc[0], means, evals == 0);
		mlc_softmax_objective(p, K, acc, W, fit->hp.alpha, &f, g);
		evals++;
		status = mlc_lbfgs_step(opt, W, f, g);
		if (mlc_lbfgs_iterations(opt) != last_iter)
		{
			last_iter = mlc_lbfgs_iterations(opt);
			ml_fit_history(fit, last_iter, acc[1] / acc[0], valid_loss, mlc_lbfgs_gradient_norm(opt), t0);
		}
	}
	fit->iterations = mlc_lbfgs_iterations(opt);
	fit->converged = status == MLC_LBFGS_CONVERGED;
	fit->objective = mlc_lbfgs_value(opt);
	if (status == MLC_LBFGS_FAILED)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("softmax regression failed: the line search found no descent after %d iterations",
						fit->iterations),
				 errhint("Scale the features or add regularization (\"alpha\").")));
	mlc_lbfgs_free(opt);
	if (!fit->converged)
		iteration_limit_warning(fit, "softmax regression");
	ml_fit_add_array(fit, "feature_mean", 1, p, means);
	ml_fit_add_array(fit, "coef", K, d, W);

	appendStringInfoString(buf, "\"coefficients\": [");
	for (c = 0; c < K; c++)
	{
		int			j;

		for (j = 0; j <= p; j++)
		{
			appendStringInfoString(buf, c || j ? ", {" : "{");
			escape_json(buf, "class");
			appendStringInfoString(buf, ": ");
			escape_json(buf, fit->plan->classes[c]);
			appendStringInfoString(buf, ", ");
			escape_json(buf, "feature");
			appendStringInfoString(buf, ": ");
			escape_json(buf, j == 0 ? "intercept" : fit->feature_names[j - 1]);
			ml_json_key_number(buf, "coefficient", W[c * d + j], true);
			appendStringInfoChar(buf, '}');
		}
	}
	appendStringInfoChar(buf, ']');
	ml_json_key_number(buf, "objective", fit->objective, true);
	ml_json_key_number(buf, "function_evaluations", evals, true);
}

/* Sample records are (hash, row) of *width doubles: by hash, then by the values. */
static int
cmp_sample(const void *a, const void *b, void *width)
{
	const double *x = a,
			   *y = b;
	int			j;

	for (j = 0; j < *(int *) width; j++)
		if (x[j] != y[j])
			return x[j] < y[j] ? -1 : 1;
	return 0;
}

static void
fit_kmeans(MLFit *fit)
{
	int			p = fit->plan->p;
	int			k = (int) fit->hp.k,
				runs = (int) fit->hp.n_init;
	int			nchunks = ml_engine_nchunks(fit->engine);
	double	   *params = ml_engine_params(fit->engine) + PARAM_FIRST;
	Size		KM = MLC_KMEANS_PARTIAL_DOUBLES(k, p, runs);
	Size		run_doubles = (Size) k + (Size) k * p + 1;
	enum
	{
		RUN_MOVING = 0, RUN_FINISHING = 1, RUN_DONE = 2
	};
	double	   *partials;
	double	   *acc = palloc(sizeof(double) * (KM + runs + 1));
	double	   *centroids = palloc(sizeof(double) * runs * k * p);
	double	   *shift = palloc(sizeof(double) * runs);
	double	   *inertia = palloc(sizeof(double) * runs);
	double	   *valid_inertia = palloc(sizeof(double) * runs);
	double	   *sizes = palloc0(sizeof(double) * runs * k);
	int		   *state = palloc0(sizeof(int) * runs);
	int		   *listed = palloc(sizeof(int) * runs);
	double	   *sample,
				var_mean = 0;
	int64		ns = 0,
				i;
	double		tol_abs = 0;
	int			r,
				c,
				j,
				it,
				best = 0;
	mlc_error	err;
	TimestampTz t0 = GetCurrentTimestamp();
	int		   *labels;
	int			nsil;
	double		silhouette;

	/* 1. a seeded sample of the training rows for k-means++ */
	params[0] = fit->train_rows_hint > 0 ? Min(1.0, (double) ML_SAMPLE_ROWS / fit->train_rows_hint) : 1.0;
	params[1] = fit->hp.seed;
	partials = ml_fit_pass(fit, PASS_SAMPLE);
	for (c = 0; c < nchunks; c++)
		ns += (int64) ml_fit_partial(fit, partials, c)[0];
	if (ns < k)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("k is %d, but only %lld training rows were sampled", k, (long long) ns),
				 errhint("Use a k no larger than the number of training rows.")));
	{
		/* gather (hash, row) records and order them by hash, then values */
		int			width = p + 1;
		double	   *recs = palloc_extended(sizeof(double) * ns * width, MCXT_ALLOC_HUGE);

		i = 0;
		for (c = 0; c < nchunks; c++)
		{
			double	   *part = ml_fit_partial(fit, partials, c);
			int64		n = (int64) part[0];

			memcpy(recs + i * (p + 1), part + 1, sizeof(double) * n * (p + 1));
			i += n;
		}
		qsort_arg(recs, ns, sizeof(double) * width, cmp_sample, &width);
		sample = palloc_extended(sizeof(double) * ns * p, MCXT_ALLOC_HUGE);
		for (i = 0; i < ns; i++)
			for (j = 0; j < p; j++)
				sample[j * ns + i] = recs[i * (p + 1) + 1 + j];
	}
	/* scikit-learn's tolerance: tol times the mean feature variance */
	for (j = 0; j < p; j++)
	{
		double		m = 0,
					v = 0;

		for (i = 0; i < ns; i++)
			m += sample[j * ns + i];
		m /= ns;
		for (i = 0; i < ns; i++)
			v += (sample[j * ns + i] - m) * (sample[j * ns + i] - m);
		var_mean += v / ns / p;
	}
	tol_abs = fit->hp.tol * var_mean;
	for (r = 0; r < runs; r++)
	{
		CHECK_FOR_INTERRUPTS();
		check_core(mlc_kmeans_plusplus(ns, p, sample, k, (uint64) fit->hp.seed * 1000003 + r,
									   centroids + (Size) r * k * p, &err), &err);
	}

	/*
	 * 2. Lloyd iterations of the runs together: each pass assigns the rows
	 * for every run still moving, plus once more for each run that just
	 * converged (to score its final centroids), so a run costs its own
	 * iterations only.
	 */
	fit->converged = true;
	for (it = 1;; it++)
	{
		int			nl = 0,
					q,
					r_best = -1;
		double		valid_n,
					pass_best = INFINITY;

		for (r = 0; r < runs; r++)
			if (state[r] != RUN_DONE)
			{
				memcpy(params + 2 + (Size) nl * k * p, centroids + (Size) r * k * p, sizeof(double) * k * p);
				listed[nl++] = r;
			}
		if (nl == 0)
			break;
		params[0] = k;
		params[1] = nl;
		partials = ml_fit_pass(fit, PASS_KMEANS);
		KM = MLC_KMEANS_PARTIAL_DOUBLES(k, p, nl);
		memset(acc, 0, sizeof(double) * (KM + nl + 1));
		for (c = 0; c < nchunks; c++)
		{
			double	   *part = ml_fit_partial(fit, partials, c);

			mlc_kmeans_combine(k, p, nl, acc, part);
			for (q = 0; q <= nl; q++)
				acc[KM + q] += part[KM + q];
		}
		valid_n = acc[KM + nl];
		fit->n_valid = (int64) valid_n;
		for (q = 0; q < nl; q++)
		{
			double	   *run_acc = acc + (Size) q * run_doubles;

			r = listed[q];
			inertia[r] = run_acc[k + k * p];
			valid_inertia[r] = valid_n > 0 ? acc[KM + q] / valid_n : NAN;
			memcpy(sizes + (Size) r * k, run_acc, sizeof(double) * k);
			if (inertia[r] < pass_best)
			{
				pass_best = inertia[r];
				r_best = r;
			}
			shift[r] = 0;
			if (state[r] == RUN_FINISHING)
			{
				state[r] = RUN_DONE;
				continue;
			}
			check_core(mlc_kmeans_update(k, p, 1, run_acc, centroids + (Size) r * k * p, &shift[r], &err), &err);
			if (shift[r] <= tol_abs)
				state[r] = RUN_FINISHING;
			else if (it >= (int) fit->hp.max_iter)
			{
				state[r] = RUN_FINISHING;
				fit->converged = false;
			}
		}
		fit->n_train = 0;
		for (c = 0; c < k; c++)
			fit->n_train += (int64) sizes[(Size) listed[0] * k + c];
		/* the pass's best run: its loss per row and how far its centroids moved */
		ml_fit_history(fit, it, pass_best / Max(fit->n_train, 1), valid_inertia[r_best], shift[r_best], t0);
		fit->iterations = it;
	}
	best = 0;
	for (r = 1; r < runs; r++)
		if (inertia[r] < inertia[best])
			best = r;
	fit->objective = inertia[best];
	if (!fit->converged)
		iteration_limit_warning(fit, "k-means");
	ml_fit_add_array(fit, "centroids", k, p, centroids + (Size) best * k * p);

	/* sampled silhouette of the best run */
	nsil = (int) Min((int64) fit->hp.silhouette_sample, ns);
	silhouette = NAN;
	if (nsil >= 2 && k >= 2)
	{
		const double *C = centroids + (Size) best * k * p;
		double	   *Xs = palloc(sizeof(double) * nsil * p);

		labels = palloc(sizeof(int) * nsil);
		for (i = 0; i < nsil; i++)
		{
			double		bestd = INFINITY;

			for (c = 0; c < k; c++)
			{
				double		dist = 0;

				for (j = 0; j < p; j++)
				{
					double		diff = sample[j * ns + i] - C[c * p + j];

					dist += diff * diff;
				}
				if (dist < bestd)
				{
					bestd = dist;
					labels[i] = c;
				}
			}
			for (j = 0; j < p; j++)
				Xs[j * nsil + i] = sample[j * ns + i];
		}
		CHECK_FOR_INTERRUPTS();
		silhouette = mlc_kmeans_silhouette(nsil, p, Xs, labels, k);
		/* the core stops early with NAN when a cancel is pending */
		CHECK_FOR_INTERRUPTS();
	}
	{
		StringInfo	buf = &fit->summary;
		const double *best_sizes = sizes + (Size) best * k;

		ml_json_key_number(buf, "inertia", fit->objective, false);
		json_key_array(buf, "cluster_sizes", best_sizes, k, true);
		ml_json_key_number(buf, "best_run", best, true);
		ml_json_key_number(buf, "silhouette", silhouette, true);
		ml_json_key_number(buf, "silhouette_rows", nsil, true);
		ml_json_key_number(buf, "seeding_rows", (double) ns, true);
		appendStringInfoString(buf, ", \"centroids\": [");
		for (c = 0; c < k; c++)
		{
			if (c)
				appendStringInfoString(buf, ", ");
			appendStringInfoChar(buf, '[');
			for (j = 0; j < p; j++)
			{
				if (j)
					appendStringInfoString(buf, ", ");
				ml_json_number(buf, centroids[((Size) best * k + c) * p + j]);
			}
			appendStringInfoChar(buf, ']');
		}
		appendStringInfoChar(buf, ']');
	}
}

static void
fit_naive_bayes(MLFit *fit)
{
	const MLPlan *plan = fit->plan;
	int			p = plan->p,
				K = plan->n_classes;
	int			nchunks = ml_engine_nchunks(fit->engine);
	Size		NB = MLC_NB_PARTIAL_DOUBLES(K, p);
	double	   *acc = palloc0(sizeof(double) * NB);
	int		   *group = palloc(sizeof(int) * Max(1, p));
	double	   *prior = palloc(sizeof(double) * K);
	double	   *theta = palloc(sizeof(double) * K * p);
	double	   *var = palloc(sizeof(double) * K * p);
	double	   *flp = palloc(sizeof(double) * K * p);
	double	   *partials;
	mlc_error	err;
	mlc_status	st;
	int			c,
				i,
				j,
				f = 0;

	for (i = 0; i < plan->n_inputs; i++)
		for (j = 0; j < plan->enc[i].width; j++)
			group[f++] = plan->enc[i].kind == MLC_ENC_CATEGORY ? i : -1;
	ml_engine_params(fit->engine)[PARAM_FIRST] = K;
	partials = ml_fit_pass(fit, PASS_NB);
	fit->n_valid = 0;
	for (c = 0; c < nchunks; c++)
	{
		mlc_nb_combine(K, p, acc, ml_fit_partial(fit, partials, c));
		fit->n_valid += (int64) ml_fit_partial(fit, partials, c)[NB];
	}
	fit->n_train = 0;
	for (c = 0; c < K; c++)
		fit->n_train += (int64) acc[c * (1 + 2 * p)];
	if (fit->n_train == 0)
		no_rows_error(fit);
	st = mlc_nb_finalize(K, p, acc, group, fit->hp.var_smoothing, fit->hp.smoothing,
						 prior, theta, var, flp, &err);
	if (st == MLC_ENODATA)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("a class has no training rows"),
				 errdetail("%s", err.msg),
				 errhint("Every class of the snapshot must appear in its train split; use a larger test_fraction seed or more data.")));
	check_core(st, &err);
	ml_fit_add_array(fit, "class_log_prior", 1, K, prior);
	ml_fit_add_array(fit, "theta", K, p, theta);
	ml_fit_add_array(fit, "var", K, p, var);
	ml_fit_add_array(fit, "feature_log_prob", K, p, flp);
	fit->iterations = 1;
	fit->converged = true;
	{
		double	   *counts = palloc(sizeof(double) * K);

		for (c = 0; c < K; c++)
			counts[c] = acc[c * (1 + 2 * p)];
		json_key_array(&fit->summary, "class_counts", counts, K, false);
		json_key_array(&fit->summary, "class_log_prior", prior, K, true);
	}
}

void
ml_fit_run(MLFit *fit)
{
	initStringInfo(&fit->summary);
	initStringInfo(&fit->history);
	fit->n_arrays = 0;
	switch (fit->alg)
	{
		case MLC_ALG_LINEAR:
		case MLC_ALG_RIDGE:
		case MLC_ALG_LASSO:
		case MLC_ALG_ELASTIC_NET:
			fit_linear(fit);
			break;
		case MLC_ALG_PCA:
			fit_pca(fit);
			break;
		case MLC_ALG_LOGISTIC:
			fit_logistic(fit);
			break;
		case MLC_ALG_SOFTMAX:
			fit_softmax(fit);
			break;
		case MLC_ALG_KMEANS:
			fit_kmeans(fit);
			break;
		case MLC_ALG_NAIVE_BAYES:
			fit_naive_bayes(fit);
			break;
		case MLC_ALG_GRADIENT_BOOSTING:
		case MLC_ALG_RANDOM_FOREST:
		case MLC_ALG_DECISION_TREE:
			ml_fit_trees(fit);
			break;
		default:
			elog(ERROR, "algorithm %d cannot be trained here", (int) fit->alg);
	}
}

/* ---------- evaluation ---------- */

const char *
ml_search_score_name(mlc_task task)
{
	switch (task)
	{
		case MLC_TASK_REGRESSION:
			return "r2";
		case MLC_TASK_CLASSIFICATION:
			return "accuracy";
		case MLC_TASK_CLUSTERING:
			return "negative_mean_inertia";
		default:
			return "none";
	}
}

/* One row set's metrics as a JSON member; returns the search score. */
static double
metrics_json(StringInfo buf, const char *name, const mlc_model *m, const double *e)
{
	double		score = NAN;

	escape_json(buf, name);
	switch (m->task)
	{
		case MLC_TASK_REGRESSION:
			{
				const mlc_reg_metrics *rm = (const mlc_reg_metrics *) e;
				double		r2,
							rmse,
							mae,
							ev;

				if (rm->n == 0)
				{
					appendStringInfoString(buf, ": null");
					return NAN;
				}
				mlc_reg_metrics_final(rm, &r2, &rmse, &mae, &ev);
				appendStringInfoString(buf, ": {");
				ml_json_key_number(buf, "r2", r2, false);
				ml_json_key_number(buf, "rmse", rmse, true);
				ml_json_key_number(buf, "mae", mae, true);
				ml_json_key_number(buf, "explained_variance", ev, true);
				ml_json_key_number(buf, "rows", rm->n, true);
				score = r2;
			}
			break;
		case MLC_TASK_CLASSIFICATION:
			{
				mlc_class_metrics_out cm;

				if (e[0] == 0)
				{
					appendStringInfoString(buf, ": null");
					return NAN;
				}
				mlc_class_metrics(m->n_classes, e + 2, &cm);
				appendStringInfoString(buf, ": {");
				ml_json_key_number(buf, "accuracy", cm.accuracy, false);
				if (m->n_classes == 2)
				{
					ml_json_key_number(buf, "precision", cm.precision, true);
					ml_json_key_number(buf, "recall", cm.recall, true);
					ml_json_key_number(buf, "f1", cm.f1, true);
				}
				ml_json_key_number(buf, "macro_precision", cm.macro_precision, true);
				ml_json_key_number(buf, "macro_recall", cm.macro_recall, true);
				ml_json_key_number(buf, "macro_f1", cm.macro_f1, true);
				ml_json_key_number(buf, "log_loss", e[1] / e[0], true);
				ml_json_key_number(buf, "rows", e[0], true);
				score = cm.accuracy;
			}
			break;
		default:
			if (e[0] == 0)
			{
				appendStringInfoString(buf, ": null");
				return NAN;
			}
			appendStringInfoString(buf, ": {");
			ml_json_key_number(buf, "inertia", e[1], false);
			ml_json_key_number(buf, "mean_inertia", e[1] / e[0], true);
			ml_json_key_number(buf, "rows", e[0], true);
			score = -e[1] / e[0];
			break;
	}
	appendStringInfoChar(buf, '}');
	return score;
}

double
ml_fit_evaluate(MLFit *fit, const mlc_model *model, const uint8 *enc, size_t enc_len,
				StringInfo buf, const char *train_name, const char *valid_name)
{
	double	   *params = ml_engine_params(fit->engine) + PARAM_FIRST;
	int			nchunks = ml_engine_nchunks(fit->engine);
	int			E = eval_doubles(model->task, model->n_classes);
	Size		room = (Size) (ml_fit_param_doubles(fit->alg, &fit->hp, fit->plan->p, fit->plan->n_classes) - PARAM_FIRST - 1) * sizeof(double);
	double	   *acc = palloc0(sizeof(double) * 2 * E);
	double	   *partials;
	double		score;
	int			c,
				i;

	if (model->task == MLC_TASK_DECOMPOSITION)
	{
		appendStringInfo(buf, "\"%s\": null, \"%s\": null", train_name, valid_name);
		return NAN;
	}
	if (mlc_algorithm_is_tree(fit->alg))
		partials = ml_tree_evaluate(fit);	/* from the scores the chunks hold */
	else
	{
		if (enc_len > room)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the encoded model is too large to evaluate in parallel: %zu bytes", enc_len)));
		params[0] = (double) enc_len;
		memcpy(params + 1, enc, enc_len);
		partials = ml_fit_pass(fit, PASS_EVAL);
	}
	for (c = 0; c < nchunks; c++)
	{
		const double *part = ml_fit_partial(fit, partials, c);

		if (model->task == MLC_TASK_REGRESSION)
		{
			mlc_reg_metrics_combine((mlc_reg_metrics *) acc, (const mlc_reg_metrics *) part);
			mlc_reg_metrics_combine((mlc_reg_metrics *) (acc + E), (const mlc_reg_metrics *) (part + E));
		}
		else
			for (i = 0; i < 2 * E; i++)
				acc[i] += part[i];
	}
	metrics_json(buf, train_name, model, acc);
	appendStringInfoString(buf, ", ");
	score = metrics_json(buf, valid_name, model, acc + E);
	return score;
}
