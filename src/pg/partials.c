/*
 * partials.c: one chunk's partial for every pass that is not a tree's
 * (tree_partials.c).  Runs in the leader, in parallel workers and in
 * ml._pass's transition; all numerics are the core's.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "passes.h"
#include "pg_mlops.h"

/* Doubles of one row set's metrics in a PASS_EVAL partial. */
int
ml_eval_doubles(mlc_task task, int K)
{
	switch (task)
	{
		case MLC_TASK_REGRESSION:
			return ML_REG_DOUBLES;
		case MLC_TASK_CLASSIFICATION:
			return 2 + K * K;	/* n, log loss sum, confusion */
		default:
			return 2;			/* n, inertia */
	}
}

/* Sample records (u, row): by u, then by the values. */
int
ml_sample_cmp(const void *a, const void *b, void *width)
{
	const double *x = a,
			   *y = b;
	int			w = *(int *) width,
				j;

	for (j = 0; j < w; j++)
		if (x[j] != y[j])
			return x[j] < y[j] ? -1 : 1;
	return 0;
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

/* PASS_EVAL and PASS_SAMPLE of one chunk. */
void
ml_common_partial(int pass_kind, const MLChunk *c, const double *params, double *partial)
{
	mlc_block	tr,
				va;
	const double *prm = ml_partial_views(c, params, &tr, &va);
	int			p = c->p;
	mlc_error	err;

	switch (pass_kind)
	{
		case PASS_EVAL:
			{
				mlc_model	m;
				size_t		len = (size_t) prm[0];
				int			E;

				if (mlc_model_decode((const uint8_t *) (prm + 1), len, &m, &err) != MLC_OK)
					ml_raise_core_error(&err);
				E = ml_eval_doubles(m.task, m.n_classes);
				memset(partial, 0, sizeof(double) * 2 * E);
				eval_block(&m, &tr, partial);
				eval_block(&m, &va, partial + E);
				mlc_model_free(&m);
			}
			break;
		case PASS_SAMPLE:
			{
				/*
				 * Rows whose content hash u falls in [lo, hi), each with its
				 * hash: the smallest ML_SAMPLE_PER_CHUNK by (u, values) when
				 * there are more (ml_fit_sample asks again above the largest
				 * kept), so what is kept depends on the rows alone.
				 */
				double		lo = prm[0],
							hi = prm[1];
				uint64		seed = (uint64) prm[2];
				int			w = p + 1;
				double	   *recs = palloc_extended(sizeof(double) * Max(1, tr.n) * w, MCXT_ALLOC_HUGE);
				int64		i,
							n = 0;

				for (i = 0; i < tr.n; i++)
				{
					double	   *rec = recs + n * w;
					uint64		h;
					double		u;

					block_row(&tr, i, rec + 1);
					h = mlc_siphash(rec + 1, sizeof(double) * p, seed, MLC_CONTENT_K1);
					u = (double) (h >> 11) * (1.0 / 9007199254740992.0);
					if (u >= lo && u < hi)
					{
						rec[0] = u;
						n++;
					}
				}
				if (n > ML_SAMPLE_PER_CHUNK)
				{
					qsort_arg(recs, n, sizeof(double) * w, ml_sample_cmp, &w);
					n = ML_SAMPLE_PER_CHUNK;
				}
				memcpy(partial + 1, recs, sizeof(double) * n * w);
				partial[0] = (double) n;
			}
			break;
		default:
			elog(ERROR, "pass %d is not one of common's", pass_kind);
	}
}
