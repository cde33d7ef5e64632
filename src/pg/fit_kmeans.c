/*
 * fit_kmeans.c: k-means: k-means++ seeds from a content-hash sample of
 * the training rows (ml_fit_sample), then Lloyd passes of every run
 * together; clusters numbered by their centroids' order.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "fit.h"
#include "pg_mlops.h"

/* PASS_KMEANS of one chunk: per-centroid sums of every run still moving. */
void
ml_kmeans_partial(int pass_kind, const MLChunk *c, const double *params, double *partial)
{
	mlc_block	tr,
				va;
	const double *prm = ml_partial_views(c, params, &tr, &va);
	int			p = c->p,
				k = (int) prm[0],
				runs = (int) prm[1],
				r;
	Size		KM = MLC_KMEANS_PARTIAL_DOUBLES(k, p, runs);
	double	   *tmp = palloc(sizeof(double) * KM);
	mlc_error	err;

	ml_check_core(mlc_kmeans_chunk(&tr, k, runs, prm + 2, partial, &err), &err);
	if (va.n > 0)
		ml_check_core(mlc_kmeans_chunk(&va, k, runs, prm + 2, tmp, &err), &err);
	for (r = 0; r < runs; r++)
		partial[KM + r] = va.n > 0 ? tmp[r * (k + k * p + 1) + k + k * p] : 0;
	partial[KM + runs] = (double) va.n;
}

/* Centroid order: lexicographic by coordinates. */
static int
cmp_centroid(const void *a, const void *b, void *arg)
{
	const double *C = ((const double **) arg)[0];
	int			p = (int) (intptr_t) ((const double **) arg)[1];
	const double *x = C + (Size) *(const int *) a * p,
			   *y = C + (Size) *(const int *) b * p;
	int			j;

	for (j = 0; j < p; j++)
		if (x[j] != y[j])
			return x[j] < y[j] ? -1 : 1;
	return 0;
}

/*
 * Clusters are numbered by their centroids' order, so the labels depend on
 * where the clusters are, not on which seed found which first.
 */
static void
number_clusters(int k, int p, double *centroids, double *sizes)
{
	int		   *order = palloc(sizeof(int) * k);
	double	   *C = palloc(sizeof(double) * k * p);
	double	   *S = palloc(sizeof(double) * k);
	const double *arg[2] = {C, (const double *) (intptr_t) p};
	int			c;

	memcpy(C, centroids, sizeof(double) * k * p);
	memcpy(S, sizes, sizeof(double) * k);
	for (c = 0; c < k; c++)
		order[c] = c;
	qsort_arg(order, k, sizeof(int), cmp_centroid, arg);
	for (c = 0; c < k; c++)
	{
		memcpy(centroids + (Size) c * p, C + (Size) order[c] * p, sizeof(double) * p);
		sizes[c] = S[order[c]];
	}
}

static void
fit_kmeans(MLFit *fit)
{
	int			p = fit->plan->p;
	int			k = (int) fit->hp.k,
				runs = (int) fit->hp.n_init;
	double	   *params = ml_engine_params(fit->engine) + PARAM_FIRST;
	Size		KM = MLC_KMEANS_PARTIAL_DOUBLES(k, p, runs);
	Size		run_doubles = (Size) k + (Size) k * p + 1;
	enum
	{
		RUN_MOVING = 0, RUN_FINISHING = 1, RUN_DONE = 2
	};
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
	{
		double	   *recs = ml_fit_sample(fit, fit->train_rows_hint > 0
										 ? Min(1.0, (double) ML_SAMPLE_ROWS / fit->train_rows_hint) : 1.0,
										 fit->hp.seed, &ns);

		if (ns < k)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("k is %d, but only %lld training rows were sampled", k, (long long) ns),
					 errhint("Use a k no larger than the number of training rows.")));
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
		ml_check_core(mlc_kmeans_plusplus(ns, p, sample, k, (uint64) fit->hp.seed * 1000003 + r,
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
		KM = MLC_KMEANS_PARTIAL_DOUBLES(k, p, nl);
		memcpy(acc, ml_fit_pass(fit, PASS_KMEANS), sizeof(double) * (KM + nl + 1));
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
			ml_check_core(mlc_kmeans_update(k, p, 1, run_acc, centroids + (Size) r * k * p, &shift[r], &err), &err);
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
		ml_fit_iteration_warning(fit, "k-means");
	number_clusters(k, p, centroids + (Size) best * k * p, sizes + (Size) best * k);
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
		ml_json_key_array(buf, "cluster_sizes", best_sizes, k, true);
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

static Size
kmeans_partial_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K)
{
	return Max(MLC_KMEANS_PARTIAL_DOUBLES((int) hp->k, p, (int) hp->n_init) + (Size) hp->n_init + 1,
			   1 + (Size) ML_SAMPLE_PER_CHUNK * (p + 1));
}

static Size
kmeans_param_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K)
{
	return PARAM_FIRST + 2 + (Size) hp->n_init * hp->k * p;
}

const MLAlgorithmFamily ml_kmeans_family = {"kmeans", fit_kmeans, kmeans_partial_doubles, kmeans_param_doubles};
