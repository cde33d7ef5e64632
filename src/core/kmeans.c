/*
 * kmeans.c: Lloyd's k-means with several runs evaluated in the same data
 * pass (chunk / combine / update), greedy k-means++ seeding on a sample,
 * the sampled silhouette, and the core's seeded generator (splitmix64).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"

uint64_t
mlc_rng_next(uint64_t *state)
{
	uint64_t	z = (*state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

double
mlc_rng_uniform(uint64_t *state)
{
	return (double) (mlc_rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* Squared distance of row i of X (n x d column-major) to the point c, j in order. */
static double
row_dist2(int64_t n, int d, const double *X, int64_t i, const double *c)
{
	double		s = 0.0;
	int			j;

	for (j = 0; j < d; j++)
	{
		double		t = X[i + (size_t) j * n] - c[j];

		s += t * t;
	}
	return s;
}

static int
all_finite(size_t m, const double *v)
{
	size_t		i;

	for (i = 0; i < m; i++)
		if (!isfinite(v[i]))
			return 0;
	return 1;
}

/*
 * Distances of KM_BLOCK consecutive rows (from row i0 of X, n x d
 * column-major) to the k centroids of one run (k x d): dist[c * KM_BLOCK +
 * q] for row i0 + q.  Every distance is summed over j in order exactly as
 * row_dist2 sums it, so the bits are the same; only the layout differs: the
 * rows of the block are one vector and four centroids are accumulated at
 * once, which keeps the vector units busy.  The vectors are GCC/Clang
 * generic vectors: on x86-64 the function is compiled for AVX-512, AVX2 and
 * the SSE2 baseline and the loader picks one; no clone may fuse the
 * multiply and add (the core is built with -ffp-contract=off), so all three
 * give identical results.
 */
#define KM_BLOCK 8

#if defined(__GNUC__)
typedef double km_vec __attribute__((vector_size(KM_BLOCK * sizeof(double))));

#if defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void
block_dist2(int64_t n, int d, const double *X, int64_t i0, int k,
			const double *cr, double *dist)
{
	int			c = 0,
				j;

	for (; c + 4 <= k; c += 4)
	{
		const double *c0 = cr + (size_t) c * d,
				   *c1 = c0 + d,
				   *c2 = c1 + d,
				   *c3 = c2 + d;
		km_vec		a0 = {0},
					a1 = {0},
					a2 = {0},
					a3 = {0};

		for (j = 0; j < d; j++)
		{
			km_vec		x,
						t;

			memcpy(&x, X + (size_t) j * n + i0, sizeof(x));
			t = x - c0[j];
			a0 += t * t;
			t = x - c1[j];
			a1 += t * t;
			t = x - c2[j];
			a2 += t * t;
			t = x - c3[j];
			a3 += t * t;
		}
		memcpy(dist + (size_t) c * KM_BLOCK, &a0, sizeof(a0));
		memcpy(dist + (size_t) (c + 1) * KM_BLOCK, &a1, sizeof(a1));
		memcpy(dist + (size_t) (c + 2) * KM_BLOCK, &a2, sizeof(a2));
		memcpy(dist + (size_t) (c + 3) * KM_BLOCK, &a3, sizeof(a3));
	}
	for (; c < k; c++)
	{
		const double *c0 = cr + (size_t) c * d;
		km_vec		a0 = {0};

		for (j = 0; j < d; j++)
		{
			km_vec		x,
						t;

			memcpy(&x, X + (size_t) j * n + i0, sizeof(x));
			t = x - c0[j];
			a0 += t * t;
		}
		memcpy(dist + (size_t) c * KM_BLOCK, &a0, sizeof(a0));
	}
}
#else
static void
block_dist2(int64_t n, int d, const double *X, int64_t i0, int k,
			const double *cr, double *dist)
{
	int			c,
				q;

	for (c = 0; c < k; c++)
		for (q = 0; q < KM_BLOCK; q++)
			dist[(size_t) c * KM_BLOCK + q] = row_dist2(n, d, X, i0 + q, cr + (size_t) c * d);
}
#endif

/* Add row i with its distances dist[c * step] to run r's statistics pr. */
static void
assign_row(int64_t n, int d, const double *X, int64_t i, int k,
		   const double *dist, size_t step, double *pr)
{
	double		best = dist[0];
	int			bc = 0,
				c,
				j;

	for (c = 1; c < k; c++)
		if (dist[(size_t) c * step] < best)
		{
			best = dist[(size_t) c * step];
			bc = c;
		}
	pr[bc] += 1.0;
	for (j = 0; j < d; j++)
		pr[k + (size_t) bc * d + j] += X[i + (size_t) j * n];
	pr[k + (size_t) k * d] += best;
}

/* First non-finite value of rows [lo, hi), row-major order: MLC_EINVAL. */
static mlc_status
check_rows(const mlc_block *b, int64_t lo, int64_t hi, mlc_error *err)
{
	int64_t		i;
	int			j;

	for (i = lo; i < hi; i++)
		for (j = 0; j < b->p; j++)
			if (!isfinite(b->X[i + (size_t) j * b->n]))
				return mlc_fail(err, MLC_EINVAL, "Feature values must be finite.",
								"non-finite value in feature %d of row %lld",
								j + 1, (long long) (i + 1));
	return MLC_OK;
}

mlc_status
mlc_kmeans_chunk(const mlc_block *b, int k, int runs, const double *centroids,
				 double *partial, mlc_error *err)
{
	int			d,
				r,
				c;
	int64_t		i,
				bmask;
	size_t		stride;
	double	   *dist;
	mlc_status	st;

	if (b == NULL || centroids == NULL || partial == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "kmeans chunk called with a NULL argument");
	d = b->p;
	if (k < 1 || runs < 1 || d < 1 || b->n < 0 || (b->n > 0 && b->X == NULL))
		return mlc_fail(err, MLC_EINVAL, NULL,
						"invalid kmeans chunk shape (k %d, runs %d, %d features)", k, runs, d);
	if (!all_finite((size_t) runs * k * d, centroids))
		return mlc_fail(err, MLC_EINVAL, NULL, "non-finite kmeans centroid");
	stride = (size_t) k + (size_t) k * d + 1;
	memset(partial, 0, sizeof(double) * stride * runs);
	dist = malloc(sizeof(double) * KM_BLOCK * (size_t) k);
	if (dist == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for kmeans distances");

	/* blocks of KM_BLOCK rows, then the rest one by one; rows ascend per run */
	bmask = mlc_interrupt_mask((int64_t) KM_BLOCK * runs * k * d);
	for (i = 0; i + KM_BLOCK <= b->n; i += KM_BLOCK)
	{
		int			q;

		if (((i / KM_BLOCK) & bmask) == 0 && mlc_interrupted())
		{
			st = mlc_fail(err, MLC_EINTR, NULL, "kmeans interrupted");
			goto done;
		}
		if ((st = check_rows(b, i, i + KM_BLOCK, err)) != MLC_OK)
			goto done;
		for (r = 0; r < runs; r++)
		{
			block_dist2(b->n, d, b->X, i, k, centroids + (size_t) r * k * d, dist);
			for (q = 0; q < KM_BLOCK; q++)
				assign_row(b->n, d, b->X, i + q, k, dist + q, KM_BLOCK, partial + stride * r);
		}
	}
	for (; i < b->n; i++)
	{
		if ((st = check_rows(b, i, i + 1, err)) != MLC_OK)
			goto done;
		for (r = 0; r < runs; r++)
		{
			const double *cr = centroids + (size_t) r * k * d;

			for (c = 0; c < k; c++)
				dist[c] = row_dist2(b->n, d, b->X, i, cr + (size_t) c * d);
			assign_row(b->n, d, b->X, i, k, dist, 1, partial + stride * r);
		}
	}
	st = MLC_OK;
done:
	free(dist);
	return st;
}

void
mlc_kmeans_combine(int k, int d, int runs, double *into, const double *other)
{
	size_t		m,
				i;

	if (into == NULL || other == NULL || k < 1 || d < 1 || runs < 1)
		return;
	m = MLC_KMEANS_PARTIAL_DOUBLES(k, d, runs);
	for (i = 0; i < m; i++)
		into[i] += other[i];
}

mlc_status
mlc_kmeans_update(int k, int d, int runs, const double *partial,
				  double *centroids, double *shift, mlc_error *err)
{
	size_t		stride;
	int			r,
				c,
				j;

	if (partial == NULL || centroids == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "kmeans update called with a NULL argument");
	if (k < 1 || d < 1 || runs < 1)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"invalid kmeans shape (k %d, runs %d, %d features)", k, runs, d);
	stride = (size_t) k + (size_t) k * d + 1;
	if (!all_finite(stride * runs, partial))
		return mlc_fail(err, MLC_EINVAL, NULL, "non-finite kmeans partial");
	for (r = 0; r < runs; r++)
		for (c = 0; c < k; c++)
			if (partial[stride * r + c] < 0.0)
				return mlc_fail(err, MLC_EINVAL, NULL, "negative kmeans cluster count");

	for (r = 0; r < runs; r++)
	{
		const double *pr = partial + stride * r;
		double		sh = 0.0;

		for (c = 0; c < k; c++)
		{
			double	   *cc = centroids + ((size_t) r * k + c) * d;
			double		cnt = pr[c];

			if (cnt <= 0.0)
				continue;		/* empty: keep the previous centroid */
			for (j = 0; j < d; j++)
			{
				double		nv = pr[k + (size_t) c * d + j] / cnt;
				double		t = nv - cc[j];

				sh += t * t;
				cc[j] = nv;
			}
		}
		if (shift != NULL)
			shift[r] = sh;
	}
	return MLC_OK;
}

/* First row whose running sum of w exceeds target; the last positive one if none. */
static int64_t
draw_row(int64_t n, const double *w, double target)
{
	double		cum = 0.0;
	int64_t		i,
				last = n - 1;

	for (i = 0; i < n; i++)
	{
		if (w[i] > 0.0)
		{
			cum += w[i];
			last = i;
			if (cum > target)
				return i;
		}
	}
	return last;
}

mlc_status
mlc_kmeans_plusplus(int64_t n, int d, const double *X, int k, uint64_t seed,
					double *centroids, mlc_error *err)
{
	uint64_t	st = seed;
	double	   *closest,
			   *cand,
			   *best_d;
	double		pot = 0.0;
	int			trials,
				c,
				j,
				t;
	int64_t		i,
				first;

	if (X == NULL || centroids == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "kmeans++ called with a NULL argument");
	if (d < 1 || k < 1 || n < 1)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"invalid kmeans++ shape (k %d, %lld rows, %d features)",
						k, (long long) n, d);
	if (k > n)
		return mlc_fail(err, MLC_EINVAL, "k must not exceed the number of rows.",
						"k (%d) is larger than the number of rows (%lld)", k, (long long) n);
	if (!all_finite((size_t) n * d, X))
		return mlc_fail(err, MLC_EINVAL, "Feature values must be finite.",
						"non-finite value in the kmeans++ sample");

	closest = mlc_alloc(sizeof(double) * (size_t) n * 3);
	if (closest == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for kmeans++");
	cand = closest + n;
	best_d = cand + n;

	first = (int64_t) (mlc_rng_uniform(&st) * (double) n);
	if (first >= n)
		first = n - 1;
	for (j = 0; j < d; j++)
		centroids[j] = X[first + (size_t) j * n];
	for (i = 0; i < n; i++)
	{
		closest[i] = row_dist2(n, d, X, i, centroids);
		pot += closest[i];
	}

	trials = 2 + (int) floor(log((double) k));
	for (c = 1; c < k; c++)
	{
		double		best_pot = 0.0;
		int64_t		best_row = 0;

		/* each centroid costs trials passes over the sample */
		if (mlc_interrupted())
		{
			mlc_free(closest);
			return mlc_fail(err, MLC_EINTR, NULL, "kmeans++ interrupted");
		}

		for (t = 0; t < trials; t++)
		{
			double		u = mlc_rng_uniform(&st);
			double		cpot = 0.0;
			int64_t		row;

			if (pot > 0.0)
				row = draw_row(n, closest, u * pot);
			else
			{
				/* every row sits on a centroid: uniform draw */
				row = (int64_t) (u * (double) n);
				if (row >= n)
					row = n - 1;
			}
			for (j = 0; j < d; j++)
				centroids[(size_t) c * d + j] = X[row + (size_t) j * n];
			for (i = 0; i < n; i++)
			{
				double		dist = row_dist2(n, d, X, i, centroids + (size_t) c * d);

				cand[i] = dist < closest[i] ? dist : closest[i];
				cpot += cand[i];
			}
			if (t == 0 || cpot < best_pot)
			{
				best_pot = cpot;
				best_row = row;
				memcpy(best_d, cand, sizeof(double) * (size_t) n);
			}
		}
		for (j = 0; j < d; j++)
			centroids[(size_t) c * d + j] = X[best_row + (size_t) j * n];
		memcpy(closest, best_d, sizeof(double) * (size_t) n);
		pot = best_pot;
	}
	mlc_free(closest);
	return MLC_OK;
}

double
mlc_kmeans_silhouette(int64_t n, int d, const double *X, const int *label, int k)
{
	double	   *sum;
	int64_t    *cnt;
	int64_t		i,
				m,
				imask;
	int			c,
				nonempty = 0;
	double		total = 0.0;

	if (X == NULL || label == NULL || n < 2 || d < 1 || k < 1)
		return NAN;
	if (!all_finite((size_t) n * d, X))
		return NAN;
	for (i = 0; i < n; i++)
		if (label[i] < 0 || label[i] >= k)
			return NAN;
	sum = mlc_alloc(sizeof(double) * (size_t) k);
	cnt = mlc_alloc(sizeof(int64_t) * (size_t) k);
	if (sum == NULL || cnt == NULL)
	{
		mlc_free(sum);
		mlc_free(cnt);
		return NAN;
	}
	memset(cnt, 0, sizeof(int64_t) * (size_t) k);
	for (i = 0; i < n; i++)
		cnt[label[i]]++;
	for (c = 0; c < k; c++)
		if (cnt[c] > 0)
			nonempty++;
	if (nonempty < 2)
	{
		mlc_free(sum);
		mlc_free(cnt);
		return NAN;
	}

	imask = mlc_interrupt_mask(n * (int64_t) d);
	for (i = 0; i < n; i++)
	{
		double		a,
					b = INFINITY,
					s;
		int			li = label[i];

		/* a row costs a pass over all n */
		if ((i & imask) == 0 && mlc_interrupted())
		{
			total = NAN;
			break;
		}
		memset(sum, 0, sizeof(double) * (size_t) k);
		/* distance sums to every cluster, rows in order */
		for (m = 0; m < n; m++)
		{
			double		q = 0.0;
			int			j;

			if (m == i)
				continue;
			for (j = 0; j < d; j++)
			{
				double		t = X[i + (size_t) j * n] - X[m + (size_t) j * n];

				q += t * t;
			}
			sum[label[m]] += sqrt(q);
		}
		if (cnt[li] <= 1)
			continue;			/* singleton: s = 0 */
		a = sum[li] / (double) (cnt[li] - 1);
		for (c = 0; c < k; c++)
			if (c != li && cnt[c] > 0 && sum[c] / (double) cnt[c] < b)
				b = sum[c] / (double) cnt[c];
		s = (a > b ? a : b) > 0.0 ? (b - a) / (a > b ? a : b) : 0.0;
		total += s;
	}
	mlc_free(sum);
	mlc_free(cnt);
	return total / (double) n;
}
