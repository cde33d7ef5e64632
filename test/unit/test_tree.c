/*
 * test_tree.c: tree models: binning, fixed-point histograms, split finding
 * against naive enumeration, chunk-split independence, boosting against
 * xgboost's train RMSE, forests, scoring arrays and Tree SHAP against brute
 * force Shapley values.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* ---------- a small ensemble container in the model-array layout ---------- */

#define ENS_MAX_TREES 64
#define ENS_MAX_NODES 8192
#define ENS_MAX_W 4

typedef struct ens
{
	int			objective,
				V,
				W,
				F,
				T,
				N;
	double		base[ENS_MAX_W];
	double		tree_nodes[ENS_MAX_TREES],
				tree_output[ENS_MAX_TREES],
				tree_scale[ENS_MAX_TREES];
	double		feature[ENS_MAX_NODES],
				threshold[ENS_MAX_NODES],
				left[ENS_MAX_NODES],
				right[ENS_MAX_NODES],
				default_left[ENS_MAX_NODES],
				value[ENS_MAX_NODES * ENS_MAX_W],
				cover[ENS_MAX_NODES],
				gain[ENS_MAX_NODES];
} ens;

static void
ens_view(ens *e, mlc_forest *f)
{
	memset(f, 0, sizeof(*f));
	f->objective = e->objective;
	f->n_outputs = e->V;
	f->value_width = e->W;
	f->n_trees = e->T;
	f->n_nodes = e->N;
	f->n_features = e->F;
	f->base_score = e->base;
	f->tree_nodes = e->tree_nodes;
	f->tree_output = e->tree_output;
	f->tree_scale = e->tree_scale;
	f->feature = e->feature;
	f->threshold = e->threshold;
	f->left = e->left;
	f->right = e->right;
	f->default_left = e->default_left;
	f->value = e->value;
	f->cover = e->cover;
	f->gain = e->gain;
}

/*
 * Check a view and compile its nodes for scoring; the last few compiled
 * node arrays stay reachable here (freed when their slot is reused).
 */
static mlc_status
ready(mlc_forest *f, mlc_error *err)
{
	static mlc_node *kept[4];
	static int	next;
	mlc_status	st = mlc_forest_validate(f, err);

	if (st != MLC_OK)
		return st;
	if ((st = mlc_forest_compile(f, err)) != MLC_OK)
		return st;
	mlc_free(kept[next]);
	kept[next] = f->nodes;
	next = (next + 1) % 4;
	return MLC_OK;
}

/* ---------- the caller's side of training, chunked ---------- */

typedef struct dataset
{
	int			n,
				F;
	double	   *X;				/* column-major n x F */
	double	   *y;
	double	   *edges[8];
	int			n_edges[8];
	uint8_t    *bins;			/* column-major n x F, whole data */
} dataset;

static void
dataset_bin(dataset *d, int max_bins)
{
	mlc_error	err;
	int			f,
				i;

	d->bins = malloc((size_t) d->n * d->F);
	for (f = 0; f < d->F; f++)
	{
		d->edges[f] = malloc(sizeof(double) * 254);
		assert_int_equal(mlc_bin_edges(d->n, d->X + (size_t) f * d->n, max_bins,
									   d->edges[f], &d->n_edges[f], &err), MLC_OK);
		for (i = 0; i < d->n; i++)
			d->bins[(size_t) f * d->n + i] =
				mlc_bin_value(d->edges[f], d->n_edges[f], d->X[(size_t) f * d->n + i]);
	}
}

static void
dataset_free(dataset *d)
{
	int			f;

	for (f = 0; f < d->F; f++)
		free(d->edges[f]);
	free(d->bins);
	free(d->X);
	free(d->y);
}

/* chunk c: rows [start[c], start[c + 1]); order: the combine order */
typedef struct chunking
{
	int			nc;
	int			start[1100];
	int			order[1100];
} chunking;

static void
make_chunks(chunking *ch, int n, int rows, int reverse)
{
	int			c = 0,
				i;

	for (i = 0; i < n; i += rows)
		ch->start[c++] = i;
	ch->start[c] = n;
	ch->nc = c;
	for (i = 0; i < c; i++)
		ch->order[i] = reverse ? c - 1 - i : i;
}

/* the chunk's bins column-major m x F */
static uint8_t *
chunk_bins(const dataset *d, int i0, int m)
{
	uint8_t    *b = malloc((size_t) m * d->F + 1);
	int			f;

	for (f = 0; f < d->F; f++)
		memcpy(b + (size_t) f * m, d->bins + (size_t) f * d->n + i0, (size_t) m);
	return b;
}

/*
 * Grow one tree from per-row g (K columns of n), h (n) and weights, with the
 * histograms built per chunk and combined in ch->order; append it to e.
 */
static void
grow_tree(const dataset *d, const chunking *ch, mlc_tree_params *p,
		  const double *g, const double *h, const uint32_t *w, int out,
		  double scale, ens *e, mlc_tree_builder **keep)
{
	mlc_error	err;
	mlc_tree_builder *b;
	int			K = p->n_outputs,
				c,
				k,
				i,
				slots;
	double		mg = 0,
				mh = 0;
	size_t		hlen = mlc_tree_hist_len(d->F, K);
	const double *ed[8];

	for (i = 0; i < d->F; i++)
		ed[i] = d->edges[i];
	for (i = 0; i < d->n; i++)
	{
		for (k = 0; k < K; k++)
			mg = fmax(mg, fabs(g[(size_t) k * d->n + i]));
		mh = fmax(mh, h[i]);
	}
	p->g_scale = mlc_tree_fixed_scale(mg);
	p->h_scale = mlc_tree_fixed_scale(mh);
	assert_int_equal(mlc_tree_builder_create(p, d->F, ed, d->n_edges, &b, &err), MLC_OK);
	while ((slots = mlc_tree_builder_begin_level(b)) > 0)
	{
		int64_t    *total = calloc((size_t) slots * hlen, sizeof(int64_t));
		int64_t    *part = malloc((size_t) slots * hlen * sizeof(int64_t));

		for (c = 0; c < ch->nc; c++)
		{
			int			cc = ch->order[c],
						i0 = ch->start[cc],
						m = ch->start[cc + 1] - i0;
			uint8_t    *cb = chunk_bins(d, i0, m);
			int32_t    *slot = malloc(sizeof(int32_t) * m);
			double	   *cg = malloc(sizeof(double) * m * K);

			for (k = 0; k < K; k++)
				memcpy(cg + (size_t) k * m, g + (size_t) k * d->n + i0, sizeof(double) * m);
			memset(part, 0, (size_t) slots * hlen * sizeof(int64_t));
			assert_int_equal(mlc_tree_builder_assign(b, m, cb, slot, &err), MLC_OK);
			assert_int_equal(mlc_tree_hist_add(d->F, K, m, cb, cg, h + i0,
											   w != NULL ? w + i0 : NULL, slot, slots,
											   p->g_scale, p->h_scale, part, &err), MLC_OK);
			mlc_tree_hist_combine((size_t) slots * hlen, total, part);
			free(cb);
			free(slot);
			free(cg);
		}
		assert_int_equal(mlc_tree_builder_apply_level(b, total, &err), MLC_OK);
		free(total);
		free(part);
	}
	assert_int_equal(slots, 0);
	{
		int			nn = mlc_tree_builder_n_nodes(b);

		assert_true(e->T < ENS_MAX_TREES && e->N + nn <= ENS_MAX_NODES);
		assert_int_equal(mlc_tree_builder_export(b, e->feature + e->N, e->threshold + e->N,
												 e->left + e->N, e->right + e->N,
												 e->default_left + e->N,
												 e->value + (size_t) e->N * e->W,
												 e->cover + e->N, e->gain + e->N, &err),
						 MLC_OK);
		e->tree_nodes[e->T] = nn;
		e->tree_output[e->T] = out;
		e->tree_scale[e->T] = scale;
		e->T++;
		e->N += nn;
	}
	if (keep != NULL)
		*keep = b;
	else
		mlc_tree_builder_free(b);
}

/* raw[i] += tree predictions through the builder, chunk by chunk */
static void
builder_predict(const dataset *d, const chunking *ch, const mlc_tree_builder *b,
				double *raw)
{
	mlc_error	err;
	int			c;

	for (c = 0; c < ch->nc; c++)
	{
		int			i0 = ch->start[c],
					m = ch->start[c + 1] - i0;
		uint8_t    *cb = chunk_bins(d, i0, m);

		assert_int_equal(mlc_tree_builder_add_predictions(b, m, cb, raw + i0, &err), MLC_OK);
		free(cb);
	}
}

/* Boosting with squared error or logistic loss; raw gets the train scores. */
static void
boost(const dataset *d, const chunking *ch, mlc_tree_objective obj, int rounds,
	  int depth, ens *e, double *raw)
{
	mlc_error	err;
	mlc_tree_params p;
	double	   *g = malloc(sizeof(double) * d->n),
			   *h = malloc(sizeof(double) * d->n);
	long double s = 0;
	int			i,
				r;

	memset(e, 0, sizeof(*e));
	e->objective = obj;
	e->V = e->W = 1;
	e->F = d->F;
	for (i = 0; i < d->n; i++)
		s += d->y[i];
	e->base[0] = mlc_tree_base_score(obj, (double) (s / d->n));
	for (i = 0; i < d->n; i++)
		raw[i] = e->base[0];
	mlc_tree_params_defaults(&p);
	p.max_depth = depth;
	for (r = 0; r < rounds; r++)
	{
		mlc_tree_builder *b;

		assert_int_equal(mlc_tree_gradients(obj, 0, d->n, d->y, raw, g, h, &err), MLC_OK);
		grow_tree(d, ch, &p, g, h, NULL, 0, 1.0, e, &b);
		builder_predict(d, ch, b, raw);
		mlc_tree_builder_free(b);
	}
	free(g);
	free(h);
}

/* The regression data also generated by the python script below. */
static void
make_regression(dataset *d)
{
	int			i;

	memset(d, 0, sizeof(*d));
	d->n = 1000;
	d->F = 4;
	d->X = malloc(sizeof(double) * d->n * d->F);
	d->y = malloc(sizeof(double) * d->n);
	for (i = 0; i < d->n; i++)
	{
		double		x0 = (i * 37 % 101) / 100.0,
					x1 = ((i * 53 + 7) % 89) / 88.0,
					x2 = ((i * 11 + 3) % 97) / 96.0,
					x3 = ((i * 71 + 5) % 83) / 82.0;

		d->X[i] = x0;
		d->X[d->n + i] = x1;
		d->X[2 * d->n + i] = x2;
		d->X[3 * d->n + i] = x3;
		d->y[i] = 3.0 * x0 + 2.0 * sin(6.0 * x1) + 4.0 * x2 * x3 +
			(((i * 7919) % 1000) / 1000.0 - 0.5);
	}
}

/* ---------- binning ---------- */

static void
test_bin_edges(void **state)
{
	mlc_error	err;
	double		v[1000],
				edges[254];
	int			ne,
				i;

	/* 0 .. 999 shuffled, 4 bins: ranks 250, 500, 750 */
	for (i = 0; i < 1000; i++)
		v[i] = (double) ((i * 7) % 1000);
	assert_int_equal(mlc_bin_edges(1000, v, 4, edges, &ne, &err), MLC_OK);
	assert_int_equal(ne, 3);
	assert_true(edges[0] == 250 && edges[1] == 500 && edges[2] == 750);
	assert_int_equal(mlc_bin_value(edges, ne, 249.5), 0);
	assert_int_equal(mlc_bin_value(edges, ne, 250), 1);
	assert_int_equal(mlc_bin_value(edges, ne, 749), 2);
	assert_int_equal(mlc_bin_value(edges, ne, 1e300), 3);
	assert_int_equal(mlc_bin_value(edges, ne, -INFINITY), 0);
	assert_int_equal(mlc_bin_value(edges, ne, NAN), MLC_BIN_MISSING);

	/* few distinct values, NaN ignored: every value but the minimum */
	for (i = 0; i < 100; i++)
		v[i] = i % 5 == 4 ? NAN : (double) (i % 5) * 0.5;
	assert_int_equal(mlc_bin_edges(100, v, 255, edges, &ne, &err), MLC_OK);
	assert_int_equal(ne, 3);
	assert_true(edges[0] == 0.5 && edges[1] == 1.0 && edges[2] == 1.5);
	for (i = 0; i < 100; i++)
		if (!isnan(v[i]))
			assert_int_equal(mlc_bin_value(edges, ne, v[i]), (int) (v[i] * 2));

	/* heavy ties: edges stay distinct and ascending, infinities never edges */
	for (i = 0; i < 1000; i++)
		v[i] = i < 900 ? 1.0 : (i < 990 ? (double) i : INFINITY);
	assert_int_equal(mlc_bin_edges(1000, v, 16, edges, &ne, &err), MLC_OK);
	assert_true(ne >= 1 && ne <= 15);
	for (i = 0; i < ne; i++)
	{
		assert_true(isfinite(edges[i]) && edges[i] > 1.0);
		if (i > 0)
			assert_true(edges[i] > edges[i - 1]);
	}

	/* constant and all-missing features: no edges */
	for (i = 0; i < 10; i++)
		v[i] = 3;
	assert_int_equal(mlc_bin_edges(10, v, 255, edges, &ne, &err), MLC_OK);
	assert_int_equal(ne, 0);
	for (i = 0; i < 10; i++)
		v[i] = NAN;
	assert_int_equal(mlc_bin_edges(10, v, 255, edges, &ne, &err), MLC_OK);
	assert_int_equal(ne, 0);
	assert_int_equal(mlc_bin_value(edges, 0, 5.0), 0);

	assert_int_equal(mlc_bin_edges(10, v, 1, edges, &ne, &err), MLC_EINVAL);
	assert_int_equal(mlc_bin_edges(10, v, 256, edges, &ne, &err), MLC_EINVAL);
	assert_int_equal(mlc_bin_edges(10, NULL, 8, edges, &ne, &err), MLC_EINVAL);
	assert_int_equal(mlc_bin_edges(-1, v, 8, edges, &ne, &err), MLC_EINVAL);
}

static void
test_fixed_scale(void **state)
{
	double		m[] = {1.0, 0.3, 1e-3, 12345.678, 1e9, 0.25};
	int			i;

	for (i = 0; i < 6; i++)
	{
		double		s = mlc_tree_fixed_scale(m[i]);
		int			e;

		assert_true(frexp(s, &e) == 0.5);	/* a power of two */
		assert_true(s * m[i] <= 1073741824.0);
		assert_true(2 * s * m[i] > 1073741824.0);
	}
	assert_true(mlc_tree_fixed_scale(0) > 0);
	assert_true(mlc_tree_fixed_scale(-1) == 0);
	assert_true(mlc_tree_fixed_scale(NAN) == 0);
	assert_true(mlc_tree_fixed_scale(INFINITY) == 0);
}

/* ---------- histograms ---------- */

static void
test_hist_exact(void **state)
{
	enum
	{
	N = 500, F = 3, K = 2, S = 3
	};
	mlc_error	err;
	uint64_t	rs = 7;
	uint8_t		bins[N * F];
	double		g[N * K],
				h[N],
				gs,
				hs;
	uint32_t	w[N];
	int32_t		slot[N];
	size_t		hlen = mlc_tree_hist_len(F, K);
	int64_t    *a = calloc(S * hlen, sizeof(int64_t)),
			   *b = calloc(S * hlen, sizeof(int64_t)),
			   *naive = calloc(S * hlen, sizeof(int64_t)),
			   *part = calloc(S * hlen, sizeof(int64_t));
	int			i,
				f,
				k,
				c;

	assert_int_equal(hlen, (size_t) F * 256 * (2 + K));
	for (i = 0; i < N; i++)
	{
		for (f = 0; f < F; f++)
			bins[f * N + i] = unit_rand_uniform(&rs) < 0.1 ? MLC_BIN_MISSING :
				(uint8_t) (unit_rand_u64(&rs) % 20);
		for (k = 0; k < K; k++)
			g[k * N + i] = unit_rand_normal(&rs) * 3.7;
		h[i] = unit_rand_uniform(&rs);
		w[i] = (uint32_t) (unit_rand_u64(&rs) % 4);
		slot[i] = (int32_t) (unit_rand_u64(&rs) % (S + 1)) - 1;
	}
	gs = mlc_tree_fixed_scale(4 * 3.7 * 2);
	hs = mlc_tree_fixed_scale(1);
	/* naive: quantize each row independently, add weight times */
	for (i = 0; i < N; i++)
	{
		if (slot[i] < 0)
			continue;
		for (f = 0; f < F; f++)
		{
			int64_t    *s = naive + slot[i] * hlen + (f * 256 + bins[f * N + i]) * (2 + K);

			s[0] += w[i];
			s[1] += (int64_t) w[i] * llround(h[i] * hs);
			for (k = 0; k < K; k++)
				s[2 + k] += (int64_t) w[i] * llround(g[k * N + i] * gs);
		}
	}
	/* whole data at once */
	assert_int_equal(mlc_tree_hist_add(F, K, N, bins, g, h, w, slot, S, gs, hs, a, &err),
					 MLC_OK);
	assert_memory_equal(a, naive, S * hlen * sizeof(int64_t));
	/* chunks of 37 rows, combined in reverse order */
	for (c = (N - 1) / 37; c >= 0; c--)
	{
		int			i0 = c * 37,
					m = N - i0 < 37 ? N - i0 : 37;
		uint8_t		cb[37 * F];
		double		cg[37 * K];

		for (f = 0; f < F; f++)
			memcpy(cb + f * m, bins + f * N + i0, m);
		for (k = 0; k < K; k++)
			memcpy(cg + k * m, g + k * N + i0, m * sizeof(double));
		memset(part, 0, S * hlen * sizeof(int64_t));
		assert_int_equal(mlc_tree_hist_add(F, K, m, cb, cg, h + i0, w + i0, slot + i0, S,
										   gs, hs, part, &err), MLC_OK);
		mlc_tree_hist_combine(S * hlen, b, part);
	}
	assert_memory_equal(a, b, S * hlen * sizeof(int64_t));

	/* errors leave the histogram unchanged */
	memcpy(b, a, S * hlen * sizeof(int64_t));
	g[N - 1] = NAN;
	slot[N - 1] = 0;
	w[N - 1] = 1;
	assert_int_equal(mlc_tree_hist_add(F, K, N, bins, g, h, w, slot, S, gs, hs, a, &err),
					 MLC_EINVAL);
	g[N - 1] = 1e6;				/* beyond the fixed-point bound */
	assert_int_equal(mlc_tree_hist_add(F, K, N, bins, g, h, w, slot, S, gs, hs, a, &err),
					 MLC_EINVAL);
	g[N - 1] = 0;
	h[N - 1] = -0.5;
	assert_int_equal(mlc_tree_hist_add(F, K, N, bins, g, h, w, slot, S, gs, hs, a, &err),
					 MLC_EINVAL);
	h[N - 1] = 0.5;
	slot[N - 1] = S;
	assert_int_equal(mlc_tree_hist_add(F, K, N, bins, g, h, w, slot, S, gs, hs, a, &err),
					 MLC_EINVAL);
	assert_int_equal(mlc_tree_hist_add(F, K, N, bins, g, h, w, slot, S, 0.0, hs, a, &err),
					 MLC_EINVAL);
	assert_memory_equal(a, b, S * hlen * sizeof(int64_t));
	free(a);
	free(b);
	free(naive);
	free(part);
}

/* ---------- split finding against naive enumeration ---------- */

static void
test_split_naive(void **state)
{
	enum
	{
	N = 300, F = 3
	};
	mlc_error	err;
	mlc_tree_params p;
	uint64_t	rs = 99;
	uint8_t		bins[N * F];
	double		g[N],
				h[N];
	int32_t		slot[N];
	int			n_edges[F] = {9, 15, 4};
	size_t		hlen = mlc_tree_hist_len(F, 1);
	int64_t    *hist = calloc(hlen, sizeof(int64_t));
	int			i,
				f,
				b,
				d,
				trial;

	for (trial = 0; trial < 4; trial++)
	{
		long double best = -1e300L;
		int			bf = -1,
					bb = -1,
					bd = -1;
		mlc_split	sp;

		mlc_tree_params_defaults(&p);
		p.lambda = trial * 0.7;
		p.gamma = trial == 3 ? 2.0 : 0.0;
		p.min_child_weight = trial == 2 ? 20.0 : 1.0;
		p.min_samples_leaf = trial == 1 ? 40 : 0;
		for (i = 0; i < N; i++)
		{
			for (f = 0; f < F; f++)
				bins[f * N + i] = unit_rand_uniform(&rs) < 0.15 ? MLC_BIN_MISSING :
					(uint8_t) (unit_rand_u64(&rs) % (n_edges[f] + 1));
			g[i] = unit_rand_normal(&rs) + (bins[i] < 4 ? 1.0 : 0.0) +
				(bins[N + i] == MLC_BIN_MISSING ? -0.8 : 0.0);
			h[i] = 0.2 + unit_rand_uniform(&rs);
			slot[i] = 0;
		}
		p.g_scale = mlc_tree_fixed_scale(8);
		p.h_scale = mlc_tree_fixed_scale(1.2);
		memset(hist, 0, hlen * sizeof(int64_t));
		assert_int_equal(mlc_tree_hist_add(F, 1, N, bins, g, h, NULL, slot, 1, p.g_scale,
										   p.h_scale, hist, &err), MLC_OK);
		assert_int_equal(mlc_tree_best_split(&p, F, n_edges, hist, NULL, &sp, &err), MLC_OK);

		/* naive: partition the rows for every candidate, sums in long double */
		for (f = 0; f < F; f++)
			for (b = 0; b < n_edges[f]; b++)
				for (d = 0; d < 2; d++)
				{
					long double GL = 0,
								HL = 0,
								GR = 0,
								HR = 0,
								gain;
					int			nl = 0,
								nr = 0;

					for (i = 0; i < N; i++)
					{
						int			v = bins[f * N + i];
						int			left = v == MLC_BIN_MISSING ? d == 0 : v <= b;
						long double gq = llround(g[i] * p.g_scale) / (long double) p.g_scale;
						long double hq = llround(h[i] * p.h_scale) / (long double) p.h_scale;

						if (left)
						{
							GL += gq;
							HL += hq;
							nl++;
						}
						else
						{
							GR += gq;
							HR += hq;
							nr++;
						}
					}
					if (nl < fmax(1, p.min_samples_leaf) || nr < fmax(1, p.min_samples_leaf) ||
						HL < p.min_child_weight || HR < p.min_child_weight)
						continue;
					gain = 0.5L * (GL * GL / (HL + p.lambda) + GR * GR / (HR + p.lambda) -
								   (GL + GR) * (GL + GR) / (HL + HR + p.lambda)) - p.gamma;
					if (gain > best + 1e-12L)
					{
						best = gain;
						bf = f;
						bb = b;
						bd = d == 0;
					}
				}
		if (best > p.min_gain)
		{
			assert_int_equal(sp.feature, bf);
			assert_int_equal(sp.bin, bb);
			assert_int_equal(sp.default_left, bd);
			assert_true(fabs(sp.gain - (double) best) <= 1e-9 * fmax(1, fabs((double) best)));
		}
		else
			assert_int_equal(sp.feature, -1);
	}

	/* mask: only feature 2 allowed */
	{
		uint8_t		mask[F] = {0, 0, 1};
		mlc_split	sp;

		mlc_tree_params_defaults(&p);
		p.g_scale = mlc_tree_fixed_scale(8);
		p.h_scale = mlc_tree_fixed_scale(1.2);
		assert_int_equal(mlc_tree_best_split(&p, F, n_edges, hist, mask, &sp, &err), MLC_OK);
		assert_true(sp.feature == 2 || sp.feature == -1);
	}

	/* ties: two identical features, the lowest wins; a gain of 0 never splits */
	{
		uint8_t		tb[8 * 2];
		double		tg[8],
					th[8];
		int32_t		ts[8];
		int			ne2[2] = {1, 1};
		size_t		hl2 = mlc_tree_hist_len(2, 1);
		int64_t    *h2 = calloc(hl2, sizeof(int64_t));
		mlc_split	sp;

		for (i = 0; i < 8; i++)
		{
			tb[i] = tb[8 + i] = (uint8_t) (i < 4 ? 0 : 1);
			tg[i] = i < 4 ? -1 : 1;
			th[i] = 1;
			ts[i] = 0;
		}
		mlc_tree_params_defaults(&p);
		p.g_scale = mlc_tree_fixed_scale(1);
		p.h_scale = mlc_tree_fixed_scale(1);
		assert_int_equal(mlc_tree_hist_add(2, 1, 8, tb, tg, th, NULL, ts, 1, p.g_scale,
										   p.h_scale, h2, &err), MLC_OK);
		assert_int_equal(mlc_tree_best_split(&p, 2, ne2, h2, NULL, &sp, &err), MLC_OK);
		assert_int_equal(sp.feature, 0);
		assert_int_equal(sp.bin, 0);
		assert_int_equal(sp.default_left, 1);	/* no missing: missing-left first */
		/* 0.5 (16/5 + 16/5 - 0) */
		assert_true(fabs(sp.gain - 3.2) < 1e-12);
		for (i = 0; i < 8; i++)
			tg[i] = 0.5;
		memset(h2, 0, hl2 * sizeof(int64_t));
		assert_int_equal(mlc_tree_hist_add(2, 1, 8, tb, tg, th, NULL, ts, 1, p.g_scale,
										   p.h_scale, h2, &err), MLC_OK);
		p.lambda = 0;
		assert_int_equal(mlc_tree_best_split(&p, 2, ne2, h2, NULL, &sp, &err), MLC_OK);
		assert_int_equal(sp.feature, -1);
		free(h2);
	}
	free(hist);
}

/* ---------- whole trees: chunk independence, boosting vs xgboost ---------- */

static double
rmse(int n, const double *a, const double *y)
{
	long double s = 0;
	int			i;

	for (i = 0; i < n; i++)
		s += (long double) (a[i] - y[i]) * (a[i] - y[i]);
	return sqrt((double) (s / n));
}

static void
test_chunk_independence(void **state)
{
	dataset		d;
	chunking	ch;
	ens		   *e1 = malloc(sizeof(ens)),
			   *e2 = malloc(sizeof(ens)),
			   *e3 = malloc(sizeof(ens));
	double	   *r1,
			   *r2,
			   *r3;
	int			i;

	make_regression(&d);
	/* a missing-value pattern so default directions matter */
	for (i = 0; i < d.n; i += 7)
		d.X[2 * d.n + i] = NAN;
	dataset_bin(&d, 32);		/* fewer bins than values: quantile edges */
	r1 = malloc(sizeof(double) * d.n);
	r2 = malloc(sizeof(double) * d.n);
	r3 = malloc(sizeof(double) * d.n);
	make_chunks(&ch, d.n, d.n, 0);
	boost(&d, &ch, MLC_OBJ_SQUARED, 5, 4, e1, r1);
	make_chunks(&ch, d.n, 97, 1);
	boost(&d, &ch, MLC_OBJ_SQUARED, 5, 4, e2, r2);
	make_chunks(&ch, d.n, 1, 0);
	for (i = 0; i + 1 < ch.nc; i += 2)
	{							/* pairwise swapped combine order */
		ch.order[i] = i + 1;
		ch.order[i + 1] = i;
	}
	boost(&d, &ch, MLC_OBJ_SQUARED, 5, 4, e3, r3);
	assert_true(e1->N > 5 * 7);
	assert_memory_equal(e1, e2, sizeof(ens));
	assert_memory_equal(e1, e3, sizeof(ens));
	assert_memory_equal(r1, r2, sizeof(double) * d.n);
	assert_memory_equal(r1, r3, sizeof(double) * d.n);

	/* forest trees too: bootstrap weights and per-split feature sampling */
	{
		mlc_tree_params p;
		mlc_error	err;
		double	   *g = malloc(sizeof(double) * d.n),
				   *h = malloc(sizeof(double) * d.n);
		uint32_t   *w = malloc(sizeof(uint32_t) * d.n);
		int			rep;

		assert_int_equal(mlc_tree_forest_targets(0, d.n, d.y, g, h, &err), MLC_OK);
		for (i = 0; i < d.n; i++)
			w[i] = mlc_tree_bootstrap_weight(11, 0, (uint64_t) i);
		for (rep = 0; rep < 2; rep++)
		{
			ens		   *e = rep == 0 ? e1 : e2;

			memset(e, 0, sizeof(*e));
			e->objective = MLC_OBJ_AVERAGE;
			e->V = e->W = 1;
			e->F = d.F;
			mlc_tree_params_defaults(&p);
			p.lambda = 0;
			p.learning_rate = 1;
			p.min_child_weight = 0;
			p.min_samples_leaf = 3;
			p.max_depth = 7;
			p.colsample = 0.5;
			p.seed = 99;
			make_chunks(&ch, d.n, rep == 0 ? d.n : 33, rep);
			grow_tree(&d, &ch, &p, g, h, w, 0, 1.0, e, NULL);
		}
		assert_true(e1->N > 31);
		assert_memory_equal(e1, e2, sizeof(ens));
		free(g);
		free(h);
		free(w);
	}
	free(e1);
	free(e2);
	free(e3);
	free(r1);
	free(r2);
	free(r3);
	dataset_free(&d);
}

static void
test_boost_vs_xgboost(void **state)
{
	/*
	 * Train RMSE of xgboost 1.7.4 (Debian's python3-xgboost):
	 *   XGBRegressor(tree_method='hist', n_estimators=R, max_depth=D,
	 *     learning_rate=0.3, reg_lambda=1, gamma=0, min_child_weight=1,
	 *     max_bin=256, base_score=y.mean()) on the data of make_regression
	 * (same formulas in python): (20, 4) -> 0.27552739088879347,
	 * (50, 3) -> 0.276336630404812; y has mean 2.5025748168334556 and
	 * standard deviation 1.9279388525909684.
	 */
	const double ref[2] = {0.27552739088879347, 0.276336630404812};
	const int	rounds[2] = {20, 50},
				depth[2] = {4, 3};
	dataset		d;
	chunking	ch;
	ens		   *e = malloc(sizeof(ens));
	double	   *raw,
				x[4],
				phi[5];
	mlc_forest	f;
	mlc_error	err;
	int			c,
				i,
				j;

	make_regression(&d);
	dataset_bin(&d, 255);
	raw = malloc(sizeof(double) * d.n);
	make_chunks(&ch, d.n, 128, 0);
	for (c = 0; c < 2; c++)
	{
		double		r;

		boost(&d, &ch, MLC_OBJ_SQUARED, rounds[c], depth[c], e, raw);
		assert_true(fabs(e->base[0] - 2.5025748168334556) < 1e-12);
		r = rmse(d.n, raw, d.y);
		print_message("tree: %d rounds depth %d: rmse %.9f, xgboost %.9f\n",
					  rounds[c], depth[c], r, ref[c]);
		/* the brief asks for 2%; the match is far closer (float32 inside xgboost) */
		assert_true(fabs(r - ref[c]) <= 1e-3 * ref[c]);
		/* the arrays score like the binned builder: thresholds are the edges */
		ens_view(e, &f);
		assert_int_equal(ready(&f, &err), MLC_OK);
		assert_true(f.max_depth <= depth[c]);
		for (i = 0; i < d.n; i++)
		{
			long double s = 0;

			for (j = 0; j < 4; j++)
				x[j] = d.X[j * d.n + i];
			assert_true(fabs(mlc_trees_predict(&f, x, NULL) - raw[i]) <= 1e-12);
			if (i % 50 == 0)
			{
				assert_int_equal(mlc_tree_shap(&f, x, phi, &err), MLC_OK);
				for (j = 0; j < 5; j++)
					s += phi[j];
				assert_true(fabs((double) s - raw[i]) <= 1e-9);
			}
		}
	}
	/* the same forest through named model arrays */
	{
		mlc_model	m;
		mlc_array	arr[13];
		mlc_forest	f2;
		double		info[3] = {MLC_OBJ_SQUARED, 1, 1};
		const char *names[13] = {"tree_info", "base_score", "tree_nodes", "tree_output",
			"tree_scale", "node_feature", "node_threshold", "node_left", "node_right",
		"node_default_left", "node_value", "node_cover", "node_gain"};
		double	   *data[13] = {info, e->base, e->tree_nodes, e->tree_output, e->tree_scale,
			e->feature, e->threshold, e->left, e->right, e->default_left, e->value,
		e->cover, e->gain};

		memset(&m, 0, sizeof(m));
		m.algorithm = MLC_ALG_GRADIENT_BOOSTING;
		m.task = MLC_TASK_REGRESSION;
		m.n_features = 4;
		m.n_arrays = 13;
		m.arrays = arr;
		for (j = 0; j < 13; j++)
		{
			memset(&arr[j], 0, sizeof(arr[j]));
			strcpy(arr[j].name, names[j]);
			arr[j].rows = j < 5 ? 1 : e->N;
			arr[j].cols = j == 0 ? 3 : (j == 1 ? 1 : (j < 5 ? e->T : 1));
			arr[j].data = data[j];
		}
		assert_int_equal(mlc_forest_from_model(&m, &f2, &err), MLC_OK);
		assert_int_equal(ready(&f2, &err), MLC_OK);
		assert_int_equal(f2.max_depth, f.max_depth);
		for (i = 0; i < d.n; i += 10)
		{
			for (j = 0; j < 4; j++)
				x[j] = d.X[j * d.n + i];
			assert_true(mlc_trees_predict(&f2, x, NULL) == mlc_trees_predict(&f, x, NULL));
		}
		arr[10].cols = 2;		/* misshapen node_value */
		assert_int_equal(mlc_forest_from_model(&m, &f2, &err), MLC_ECORRUPT);
		arr[10].cols = 1;
		info[0] = 7;
		assert_int_equal(mlc_forest_from_model(&m, &f2, &err), MLC_ECORRUPT);
	}
	/* importance: every feature matters here, counts add to the splits */
	{
		double		gi[4] = {0},
					ci[4] = {0},
					ni[4] = {0};
		int			splits = 0;

		mlc_forest_importance(&f, gi, ci, ni);
		for (i = 0; i < f.n_nodes; i++)
			splits += f.feature[i] >= 0;
		assert_true(ni[0] + ni[1] + ni[2] + ni[3] == splits);
		for (j = 0; j < 4; j++)
			assert_true(gi[j] > 0 && ci[j] > 0);
	}
	free(raw);
	free(e);
	dataset_free(&d);
}

static void
test_logistic_and_softmax(void **state)
{
	mlc_error	err;
	dataset		d;
	chunking	ch;
	ens		   *e = malloc(sizeof(ens));
	double	   *raw,
				y[3] = {0, 1, 2},
				r[9] = {0.5, -1, 2, 0.1, 0.2, 0.3, -3, 0, 1},
				g[9],
				h[9];
	int			i,
				k,
				correct = 0;
	long double ll0 = 0,
				ll1 = 0;
	mlc_forest	f;

	/* closed forms */
	assert_int_equal(mlc_tree_gradients(MLC_OBJ_LOGISTIC, 0, 3, (double[]) {0, 1, 1},
										r, g, h, &err), MLC_OK);
	for (i = 0; i < 3; i++)
	{
		double		p = 1 / (1 + exp(-r[i]));

		assert_true(fabs(g[i] - (p - (i == 0 ? 0 : 1))) < 1e-15);
		assert_true(fabs(h[i] - p * (1 - p)) < 1e-15);
	}
	assert_int_equal(mlc_tree_gradients(MLC_OBJ_SOFTMAX, 3, 3, y, r, g, h, &err), MLC_OK);
	for (i = 0; i < 3; i++)
	{
		long double z = expl(r[i]) + expl(r[3 + i]) + expl(r[6 + i]);

		for (k = 0; k < 3; k++)
		{
			double		p = (double) (expl(r[k * 3 + i]) / z);

			assert_true(fabs(g[k * 3 + i] - (p - (k == i))) < 1e-14);
			assert_true(fabs(h[k * 3 + i] - 2 * p * (1 - p)) < 1e-14);
		}
	}
	assert_int_equal(mlc_tree_gradients(MLC_OBJ_SOFTMAX, 3, 1, (double[]) {3}, r, g, h, &err),
					 MLC_EINVAL);
	assert_int_equal(mlc_tree_gradients(MLC_OBJ_LOGISTIC, 0, 1, (double[]) {2}, r, g, h, &err),
					 MLC_EINVAL);
	assert_true(fabs(mlc_tree_base_score(MLC_OBJ_LOGISTIC, 0.25) - log(1.0 / 3)) < 1e-15);
	assert_true(mlc_tree_base_score(MLC_OBJ_SOFTMAX, 0.25) == 0);

	/* binary boosting on y = 1[x0 + x1 > 1] with label noise */
	make_regression(&d);
	for (i = 0; i < d.n; i++)
		d.y[i] = (d.X[i] + d.X[d.n + i] > 1.0) != (i % 17 == 0);
	dataset_bin(&d, 255);
	raw = malloc(sizeof(double) * d.n * 3);
	make_chunks(&ch, d.n, 200, 0);
	boost(&d, &ch, MLC_OBJ_LOGISTIC, 10, 3, e, raw);
	ens_view(e, &f);
	assert_int_equal(ready(&f, &err), MLC_OK);
	for (i = 0; i < d.n; i++)
	{
		double		x[4],
					pr[2],
					p0 = 1 / (1 + exp(-e->base[0]));
		int			j;

		for (j = 0; j < 4; j++)
			x[j] = d.X[j * d.n + i];
		correct += mlc_trees_predict(&f, x, pr) == d.y[i];
		assert_true(fabs(pr[1] - 1 / (1 + exp(-raw[i]))) < 1e-12);
		assert_true(fabs(pr[0] + pr[1] - 1) < 1e-15);
		ll0 -= d.y[i] ? logl(p0) : logl(1 - p0);
		ll1 -= d.y[i] ? logl(pr[1]) : logl(pr[0]);
	}
	assert_true(correct >= 900);	/* 1 in 17 labels flipped */
	assert_true(ll1 < 0.5L * ll0);

	/*
	 * xgboost 1.7.4: XGBClassifier(tree_method='hist', n_estimators=10,
	 * max_depth=3, learning_rate=0.3, reg_lambda=1, min_child_weight=1,
	 * max_bin=256, base_score=y.mean(), objective='binary:logistic'): train
	 * log loss 0.2595339270696969 on these data.
	 */
	print_message("tree: binary log loss %.9f, xgboost 0.259533927\n", (double) (ll1 / d.n));
	assert_true(fabs((double) (ll1 / d.n) - 0.2595339270696969) <= 1e-3 * 0.2595339270696969);

	/*
	 * Softmax: one tree per class per round, all from the round's scores.
	 * xgboost 1.7.4 with objective='multi:softprob' (same settings, default
	 * base_score): train log loss 0.2711973423730627.
	 */
	for (i = 0; i < d.n; i++)
	{
		int			cl = d.X[i] < 0.3 ? 0 : (d.X[d.n + i] < 0.6 ? 1 : 2);

		d.y[i] = i % 13 == 0 ? (cl + 1) % 3 : cl;
	}
	{
		mlc_tree_params p;
		double	   *gg = malloc(sizeof(double) * d.n * 3),
				   *hh = malloc(sizeof(double) * d.n * 3);
		int			rr;
		long double ll = 0;

		memset(e, 0, sizeof(*e));
		e->objective = MLC_OBJ_SOFTMAX;
		e->V = 3;
		e->W = 1;
		e->F = d.F;
		for (i = 0; i < d.n * 3; i++)
			raw[i] = 0;
		mlc_tree_params_defaults(&p);
		p.max_depth = 3;
		for (rr = 0; rr < 10; rr++)
		{
			mlc_tree_builder *bs[3];

			assert_int_equal(mlc_tree_gradients(MLC_OBJ_SOFTMAX, 3, d.n, d.y, raw, gg, hh,
												&err), MLC_OK);
			for (k = 0; k < 3; k++)
				grow_tree(&d, &ch, &p, gg + (size_t) k * d.n, hh + (size_t) k * d.n, NULL,
						  k, 1.0, e, &bs[k]);
			for (k = 0; k < 3; k++)
			{
				builder_predict(&d, &ch, bs[k], raw + (size_t) k * d.n);
				mlc_tree_builder_free(bs[k]);
			}
		}
		ens_view(e, &f);
		assert_int_equal(ready(&f, &err), MLC_OK);
		correct = 0;
		for (i = 0; i < d.n; i++)
		{
			double		x[4],
						pr[3],
						phi[15],
						rw[3];
			int			j;

			for (j = 0; j < 4; j++)
				x[j] = d.X[j * d.n + i];
			correct += mlc_trees_predict(&f, x, pr) == d.y[i];
			assert_true(fabs(pr[0] + pr[1] + pr[2] - 1) < 1e-15);
			ll -= logl(pr[(int) d.y[i]]);
			mlc_trees_predict_raw(&f, x, rw);
			for (k = 0; k < 3; k++)
				assert_true(fabs(rw[k] - raw[(size_t) k * d.n + i]) < 1e-12);
			if (i % 100 == 0)
			{
				assert_int_equal(mlc_tree_shap(&f, x, phi, &err), MLC_OK);
				for (k = 0; k < 3; k++)
					assert_true(fabs(phi[k * 5] + phi[k * 5 + 1] + phi[k * 5 + 2] +
									 phi[k * 5 + 3] + phi[k * 5 + 4] - rw[k]) < 1e-9);
			}
		}
		print_message("tree: softmax log loss %.9f, xgboost 0.271197342\n", (double) (ll / d.n));
		assert_true(fabs((double) (ll / d.n) - 0.2711973423730627) <= 1e-3 * 0.2711973423730627);
		assert_true(correct >= 900);
		free(gg);
		free(hh);
	}
	free(raw);
	free(e);
	dataset_free(&d);
}

/* ---------- forests ---------- */

static void
test_forest(void **state)
{
	mlc_error	err;
	dataset		d;
	chunking	ch;
	ens		   *e = malloc(sizeof(ens));
	mlc_tree_params p;
	double	   *g,
			   *h;
	uint32_t   *w;
	int			i,
				t,
				k,
				correct = 0;
	mlc_forest	f;

	/* bootstrap weights: deterministic, Poisson(1) shares */
	{
		long		zeros = 0,
					sum = 0;

		for (i = 0; i < 100000; i++)
		{
			uint32_t	v = mlc_tree_bootstrap_weight(42, 3, (uint64_t) i);

			assert_true(v == mlc_tree_bootstrap_weight(42, 3, (uint64_t) i));
			zeros += v == 0;
			sum += v;
		}
		/* e^-1 = 0.3679, sd of the share 0.0015; mean 1, sd 0.0032 */
		assert_true(fabs(zeros / 1e5 - exp(-1.0)) < 0.01);
		assert_true(fabs(sum / 1e5 - 1.0) < 0.02);
		assert_true(mlc_tree_bootstrap_weight(42, 3, 5) != mlc_tree_bootstrap_weight(42, 4, 5) ||
					mlc_tree_bootstrap_weight(42, 3, 6) != mlc_tree_bootstrap_weight(42, 4, 6) ||
					mlc_tree_bootstrap_weight(42, 3, 7) != mlc_tree_bootstrap_weight(42, 4, 7));
	}

	/* three classes by region of (x0, x1) */
	make_regression(&d);
	for (i = 0; i < d.n; i++)
		d.y[i] = d.X[i] < 0.3 ? 0 : (d.X[d.n + i] < 0.6 ? 1 : 2);
	dataset_bin(&d, 255);
	g = malloc(sizeof(double) * d.n * 3);
	h = malloc(sizeof(double) * d.n);
	w = malloc(sizeof(uint32_t) * d.n);
	assert_int_equal(mlc_tree_forest_targets(3, d.n, d.y, g, h, &err), MLC_OK);
	make_chunks(&ch, d.n, 100, 0);

	/* Gini: the root split's gain is half the decrease of n * Gini */
	{
		mlc_tree_builder *b;
		long double cnt[2][3] = {{0}},
					ng = 0,
					nl = 0,
					nr = 0,
					gl = 0,
					gr = 0;

		memset(e, 0, sizeof(*e));
		e->objective = MLC_OBJ_AVERAGE;
		e->V = e->W = 3;
		e->F = d.F;
		mlc_tree_params_defaults(&p);
		p.n_outputs = 3;
		p.lambda = 0;
		p.learning_rate = 1;
		p.min_child_weight = 0;
		p.max_depth = 8;
		grow_tree(&d, &ch, &p, g, h, NULL, -1, 1.0, e, &b);
		for (i = 0; i < d.n; i++)
			cnt[d.X[(int) e->feature[0] * d.n + i] < e->threshold[0] ? 0 : 1][(int) d.y[i]]++;
		for (k = 0; k < 3; k++)
		{
			nl += cnt[0][k];
			nr += cnt[1][k];
		}
		for (k = 0; k < 3; k++)
		{
			ng += (cnt[0][k] + cnt[1][k]) * (cnt[0][k] + cnt[1][k]);
			gl += cnt[0][k] * cnt[0][k];
			gr += cnt[1][k] * cnt[1][k];
		}
		/* n Gini = n - sum c^2 / n */
		{
			long double before = (nl + nr) - ng / (nl + nr),
						after = (nl - gl / nl) + (nr - gr / nr);

			assert_true(fabsl(e->gain[0] - 0.5L * (before - after)) < 1e-9L);
		}
		/* a deep decision tree separates the classes: pure leaves */
		ens_view(e, &f);
		assert_int_equal(ready(&f, &err), MLC_OK);
		for (i = 0; i < d.n; i++)
		{
			double		x[4],
						pr[3];
			int			j;

			for (j = 0; j < 4; j++)
				x[j] = d.X[j * d.n + i];
			assert_true(mlc_trees_predict(&f, x, pr) == d.y[i]);
			assert_true(pr[(int) d.y[i]] == 1.0);
		}
		mlc_tree_builder_free(b);
	}

	/* random forest: 10 bootstrapped trees with per-split feature sampling */
	memset(e, 0, sizeof(*e));
	e->objective = MLC_OBJ_AVERAGE;
	e->V = e->W = 3;
	e->F = d.F;
	for (t = 0; t < 10; t++)
	{
		for (i = 0; i < d.n; i++)
			w[i] = mlc_tree_bootstrap_weight(7, t, (uint64_t) i);
		mlc_tree_params_defaults(&p);
		p.n_outputs = 3;
		p.lambda = 0;
		p.learning_rate = 1;
		p.min_child_weight = 0;
		p.min_samples_leaf = 2;
		p.max_depth = 6;
		p.colsample = 0.5;
		p.seed = 1000 + t;
		grow_tree(&d, &ch, &p, g, h, w, -1, 0.1, e, NULL);
	}
	ens_view(e, &f);
	assert_int_equal(ready(&f, &err), MLC_OK);
	for (i = 0; i < d.n; i++)
	{
		double		x[4],
					pr[3],
					phi[3 * 5];
		int			j;

		for (j = 0; j < 4; j++)
			x[j] = d.X[j * d.n + i];
		correct += mlc_trees_predict(&f, x, pr) == d.y[i];
		assert_true(fabs(pr[0] + pr[1] + pr[2] - 1) < 1e-12);
		if (i % 100 == 0)
		{
			assert_int_equal(mlc_tree_shap(&f, x, phi, &err), MLC_OK);
			for (k = 0; k < 3; k++)
				assert_true(fabs(phi[k * 5] + phi[k * 5 + 1] + phi[k * 5 + 2] +
								 phi[k * 5 + 3] + phi[k * 5 + 4] - pr[k]) < 1e-9);
		}
	}
	assert_true(correct >= 950);
	free(g);
	free(h);
	free(w);
	free(e);
	dataset_free(&d);
}

/* ---------- Tree SHAP against brute force ---------- */

/* random tree of depth <= 3 over 4 features, in BFS order */
static void
random_tree(uint64_t *rs, ens *e, int out, int W)
{
	int			start = e->N,
				n = 1,
				i,
				k;
	int			depth[15] = {0};

	for (i = 0; i < n; i++)
	{
		int			g = start + i;

		if (depth[i] < 3 && (i == 0 || unit_rand_uniform(rs) < 0.7))
		{
			e->feature[g] = (double) (unit_rand_u64(rs) % 4);
			e->threshold[g] = unit_rand_uniform(rs);
			e->default_left[g] = (double) (unit_rand_u64(rs) % 2);
			e->left[g] = n;
			e->right[g] = n + 1;
			depth[n] = depth[n + 1] = depth[i] + 1;
			n += 2;
			for (k = 0; k < W; k++)
				e->value[(size_t) g * W + k] = 0;
		}
		else
		{
			e->feature[g] = -1;
			e->threshold[g] = 0;
			e->default_left[g] = 0;
			e->left[g] = e->right[g] = -1;
			for (k = 0; k < W; k++)
				e->value[(size_t) g * W + k] = unit_rand_normal(rs);
		}
		e->gain[g] = 0;
	}
	/* covers: leaves random (some zero), internal nodes the sum */
	for (i = n - 1; i >= 0; i--)
	{
		int			g = start + i;

		if (e->feature[g] < 0)
			e->cover[g] = unit_rand_uniform(rs) < 0.1 ? 0 : 1 + floor(unit_rand_uniform(rs) * 50);
		else
			e->cover[g] = e->cover[start + (int) e->left[g]] + e->cover[start + (int) e->right[g]];
	}
	e->tree_nodes[e->T] = n;
	e->tree_output[e->T] = out;
	e->tree_scale[e->T] = 1;
	e->T++;
	e->N += n;
}

/* path-dependent conditional expectation of tree (start) given subset S */
static long double
cond_expect(const ens *e, int start, int node, const double *x, unsigned S, int k)
{
	int			g = start + node;
	long double fl,
				fr;

	if (e->feature[g] < 0)
		return e->value[(size_t) g * e->W + k];
	if (S & (1u << (int) e->feature[g]))
	{
		double		v = x[(int) e->feature[g]];
		int			go_left = isnan(v) ? e->default_left[g] != 0 : v < e->threshold[g];

		return cond_expect(e, start, (int) (go_left ? e->left[g] : e->right[g]), x, S, k);
	}
	fl = cond_expect(e, start, (int) e->left[g], x, S, k);
	fr = cond_expect(e, start, (int) e->right[g], x, S, k);
	if (e->cover[g] > 0)
		return (e->cover[start + (int) e->left[g]] * fl +
				e->cover[start + (int) e->right[g]] * fr) / e->cover[g];
	return 0.5L * fl + 0.5L * fr;
}

static void
test_tree_shap_brute(void **state)
{
	mlc_error	err;
	uint64_t	rs = 2024;
	ens		   *e = malloc(sizeof(ens));
	int			trial,
				i,
				j,
				k,
				t;
	static const double fact[5] = {1, 1, 2, 6, 24};

	for (trial = 0; trial < 60; trial++)
	{
		mlc_forest	f;
		int			W = trial % 3 == 0 ? 2 : 1;
		int			ntrees = 1 + trial % 3;
		double		x[4],
					phi[2 * 5],
					raw[2];

		memset(e, 0, sizeof(*e));
		e->objective = W == 2 ? MLC_OBJ_AVERAGE : MLC_OBJ_SQUARED;
		e->V = e->W = W;
		e->F = 4;
		for (k = 0; k < W; k++)
			e->base[k] = unit_rand_normal(&rs);
		for (t = 0; t < ntrees; t++)
			random_tree(&rs, e, W == 2 ? -1 : 0, W);
		for (t = 0; t < ntrees; t++)
			e->tree_scale[t] = 0.5 + t;
		for (j = 0; j < 4; j++)
			x[j] = unit_rand_uniform(&rs) < 0.15 ? NAN : unit_rand_uniform(&rs);
		ens_view(e, &f);
		assert_int_equal(ready(&f, &err), MLC_OK);
		assert_int_equal(mlc_tree_shap(&f, x, phi, &err), MLC_OK);
		mlc_trees_predict_raw(&f, x, raw);
		for (k = 0; k < W; k++)
		{
			long double sum = 0,
						ev = e->base[k];
			int			start = 0;

			for (t = 0; t < ntrees; t++)
			{
				ev += e->tree_scale[t] * cond_expect(e, start, 0, x, 0, k);
				start += (int) e->tree_nodes[t];
			}
			assert_true(fabsl(phi[k * 5 + 4] - ev) < 1e-12L);
			for (i = 0; i < 4; i++)
			{
				long double s = 0;
				unsigned	S;

				for (S = 0; S < 16; S++)
				{
					int			sz = __builtin_popcount(S);
					long double diff = 0;

					if (S & (1u << i))
						continue;
					start = 0;
					for (t = 0; t < ntrees; t++)
					{
						diff += e->tree_scale[t] *
							(cond_expect(e, start, 0, x, S | (1u << i), k) -
							 cond_expect(e, start, 0, x, S, k));
						start += (int) e->tree_nodes[t];
					}
					s += fact[sz] * fact[4 - sz - 1] / fact[4] * diff;
				}
				assert_true(fabsl(phi[k * 5 + i] - s) < 1e-12L);
				sum += phi[k * 5 + i];
			}
			sum += phi[k * 5 + 4];
			assert_true(fabsl(sum - raw[k]) < 1e-9L);
		}
	}
	free(e);
}

/* ---------- validation, builder misuse ---------- */

static void
test_validate_and_misuse(void **state)
{
	mlc_error	err;
	uint64_t	rs = 5;
	ens		   *e = malloc(sizeof(ens));
	mlc_forest	f;
	mlc_tree_params p;
	mlc_tree_builder *b;
	double		e0[2] = {0.5, 1.5};
	const double *ed[1] = {e0};
	int			ne[1] = {2};
	int			base_ok;

	memset(e, 0, sizeof(*e));
	e->objective = MLC_OBJ_SQUARED;
	e->V = e->W = 1;
	e->F = 4;
	random_tree(&rs, e, 0, 1);
	ens_view(e, &f);
	base_ok = mlc_forest_validate(&f, &err) == MLC_OK;
	assert_true(base_ok);
	e->left[0] = 0;				/* a cycle */
	assert_int_equal(mlc_forest_validate(&f, &err), MLC_ECORRUPT);
	e->left[0] = 1;
	e->feature[0] = 4;			/* out of range */
	assert_int_equal(mlc_forest_validate(&f, &err), MLC_ECORRUPT);
	e->feature[0] = 0;
	e->threshold[0] = NAN;
	assert_int_equal(mlc_forest_validate(&f, &err), MLC_ECORRUPT);
	e->threshold[0] = 0.5;
	e->right[0] = 1;			/* both children the same node */
	assert_int_equal(mlc_forest_validate(&f, &err), MLC_ECORRUPT);
	e->right[0] = 2;
	e->tree_nodes[0] += 1;		/* count mismatch */
	assert_int_equal(mlc_forest_validate(&f, &err), MLC_ECORRUPT);
	e->tree_nodes[0] -= 1;
	e->tree_output[0] = 1;
	assert_int_equal(mlc_forest_validate(&f, &err), MLC_ECORRUPT);
	e->tree_output[0] = 0;
	e->cover[0] = -1;
	assert_int_equal(mlc_forest_validate(&f, &err), MLC_ECORRUPT);
	e->cover[0] = 1;
	assert_int_equal(ready(&f, &err), MLC_OK);

	/* builder argument checks and call order */
	mlc_tree_params_defaults(&p);
	p.max_depth = 31;
	assert_int_equal(mlc_tree_builder_create(&p, 1, ed, ne, &b, &err), MLC_EINVAL);
	mlc_tree_params_defaults(&p);
	e0[1] = 0.5;				/* not ascending */
	assert_int_equal(mlc_tree_builder_create(&p, 1, ed, ne, &b, &err), MLC_EINVAL);
	e0[1] = 1.5;
	assert_int_equal(mlc_tree_builder_create(&p, 1, ed, ne, &b, &err), MLC_OK);
	{
		int64_t    *hist = calloc(mlc_tree_hist_len(1, 1), sizeof(int64_t));
		double		fe[1],
					th[1],
					l[1],
					r[1],
					dl[1],
					v[1],
					c[1],
					gn[1];

		assert_int_equal(mlc_tree_builder_export(b, fe, th, l, r, dl, v, c, gn, &err),
						 MLC_EINVAL);
		assert_int_equal(mlc_tree_builder_apply_level(b, hist, &err), MLC_EINVAL);
		assert_int_equal(mlc_tree_builder_begin_level(b), 1);
		assert_int_equal(mlc_tree_builder_begin_level(b), -1);
		/* an empty histogram: the root is a leaf of value 0 */
		assert_int_equal(mlc_tree_builder_apply_level(b, hist, &err), MLC_OK);
		assert_int_equal(mlc_tree_builder_begin_level(b), 0);
		assert_int_equal(mlc_tree_builder_n_nodes(b), 1);
		assert_int_equal(mlc_tree_builder_export(b, fe, th, l, r, dl, v, c, gn, &err), MLC_OK);
		assert_true(fe[0] == -1 && v[0] == 0 && c[0] == 0);
		free(hist);
	}
	mlc_tree_builder_free(b);
	free(e);
}

/*
 * Row-major, pre-quantized histograms from row lists equal
 * mlc_tree_hist_add's, whatever the order of the rows in a list.
 */
static void
test_hist_index_equal(void **state)
{
	enum
	{
		N = 997, F = 5, SLOTS = 3
	};
	uint8_t		cols[N * F],
				rows[N * F];
	double		g[2 * N],
				h[N];
	int64_t		qg[2 * N],
				qh[N];
	uint32_t	w[N];
	int32_t		slot[N],
				list[N];
	double		gs = mlc_tree_fixed_scale(3.0),
				hs = mlc_tree_fixed_scale(2.0);
	uint64_t	s = 12345;
	mlc_error	err;
	int			i,
				f,
				k,
				K,
				weighted;

	for (i = 0; i < N; i++)
	{
		for (f = 0; f < F; f++)
		{
			uint8_t		v = (uint8_t) (mlc_rng_next(&s) % 256);

			cols[f * N + i] = v;
			rows[i * F + f] = v;
		}
		for (k = 0; k < 2; k++)
			g[k * N + i] = 6.0 * mlc_rng_uniform(&s) - 3.0;
		h[i] = 2.0 * mlc_rng_uniform(&s);
		w[i] = (uint32_t) (mlc_rng_next(&s) % 4);
		slot[i] = (int32_t) (mlc_rng_next(&s) % (SLOTS + 1)) - 1;
	}
	assert_int_equal(mlc_tree_quantize(N, h, hs, 1, qh, &err), MLC_OK);
	/* K = 1 unweighted (the tight loop), K = 1 and K = 2 weighted */
	for (K = 1; K <= 2; K++)
		for (weighted = K == 1 ? 0 : 1; weighted <= 1; weighted++)
		{
			size_t		hlen = mlc_tree_hist_len(F, K);
			int64_t    *a = calloc(hlen * SLOTS, sizeof(int64_t)),
					   *b = calloc(hlen * SLOTS, sizeof(int64_t));
			const uint32_t *wt = weighted ? w : NULL;
			int			sl;

			assert_int_equal(mlc_tree_quantize(K * N, g, gs, 0, qg, &err), MLC_OK);
			assert_int_equal(mlc_tree_hist_add(F, K, N, cols, g, h, wt, slot, SLOTS, gs, hs, a, &err), MLC_OK);
			for (sl = 0; sl < SLOTS; sl++)
			{
				int			m = 0;

				for (i = N - 1; i >= 0; i--)	/* descending: order does not matter */
					if (slot[i] == sl)
						list[m++] = i;
				assert_int_equal(mlc_tree_hist_add_index(F, K, N, rows, qg, qh, wt, list, m,
														 b + hlen * sl, &err), MLC_OK);
			}
			assert_memory_equal(a, b, sizeof(int64_t) * hlen * SLOTS);
			/* an index outside the chunk is refused and adds nothing */
			list[0] = 5;
			list[1] = N;
			assert_int_equal(mlc_tree_hist_add_index(F, K, N, rows, qg, qh, wt, list, 2, b, &err), MLC_EINVAL);
			assert_memory_equal(a, b, sizeof(int64_t) * hlen * SLOTS);
			free(a);
			free(b);
		}
	/* a negative hessian, or a value beyond the bound, is refused */
	h[7] = -1;
	assert_int_equal(mlc_tree_quantize(N, h, hs, 1, qh, &err), MLC_EINVAL);
	g[3] = 1e300;
	assert_int_equal(mlc_tree_quantize(2 * N, g, gs, 0, qg, &err), MLC_EINVAL);
}

/*
 * Rows partitioned with the routing table, level by level, sit in the node
 * mlc_tree_builder_assign gives them, each group in ascending order.
 */
static void
test_routing_table(void **state)
{
	enum
	{
		N = 400, F = 3
	};
	double		x[N * F],
				y[N],
				g[N],
				h[N],
				edges_buf[F][MLC_MAX_BINS - 1];
	const double *edges[F];
	int			n_edges[F];
	uint8_t		bins[N * F],
				rbins[N * F];
	int32_t		slot[N],
				order[N],
				tmp[N],
				lo[64],
				hi[64];
	mlc_tree_params p;
	mlc_tree_builder *b;
	mlc_error	err;
	uint64_t	s = 99;
	int			i,
				f,
				k;

	for (i = 0; i < N; i++)
	{
		for (f = 0; f < F; f++)
			x[f * N + i] = mlc_rng_uniform(&s);
		y[i] = x[i] > 0.5 ? 2.0 : x[N + i];
		g[i] = -y[i];
		h[i] = 1.0;
	}
	for (f = 0; f < F; f++)
	{
		assert_int_equal(mlc_bin_edges(N, x + f * N, 16, edges_buf[f], &n_edges[f], &err), MLC_OK);
		edges[f] = edges_buf[f];
		for (i = 0; i < N; i++)
			rbins[i * F + f] = bins[f * N + i] = mlc_bin_value(edges[f], n_edges[f], x[f * N + i]);
	}
	for (i = 0; i < N; i++)
		order[i] = i;
	for (i = 0; i < 64; i++)
		lo[i] = hi[i] = -1;
	lo[0] = 0;
	hi[0] = N;
	mlc_tree_params_defaults(&p);
	p.max_depth = 4;
	p.n_outputs = 1;
	p.lambda = 0;
	p.learning_rate = 1;
	p.g_scale = mlc_tree_fixed_scale(2.0);
	p.h_scale = mlc_tree_fixed_scale(1.0);
	assert_int_equal(mlc_tree_builder_create(&p, F, edges, n_edges, &b, &err), MLC_OK);
	while ((k = mlc_tree_builder_begin_level(b)) > 0)
	{
		int			nn = mlc_tree_builder_n_nodes(b);
		int32_t    *table = malloc(sizeof(int32_t) * MLC_ROUTE_WIDTH * nn);
		int64_t    *hist = calloc(mlc_tree_hist_len(F, 1) * k, sizeof(int64_t));

		int			node;

		assert_true(nn <= 64);
		assert_int_equal(mlc_tree_builder_routing(b, table), nn);
		assert_int_equal(mlc_tree_builder_assign(b, N, bins, slot, &err), MLC_OK);
		for (node = 0; node < nn; node++)
		{
			const int32_t *r = table + node * MLC_ROUTE_WIDTH;

			if (lo[node] >= 0 && r[0] >= 0 && lo[r[3]] < 0)
			{
				int			nl = (int) mlc_tree_partition(r, F, rbins, order + lo[node],
														  hi[node] - lo[node], tmp);

				lo[r[3]] = lo[node];
				hi[r[3]] = lo[node] + nl;
				lo[r[4]] = lo[node] + nl;
				hi[r[4]] = hi[node];
			}
		}
		for (node = 0; node < nn; node++)
		{
			if (lo[node] < 0 || table[node * MLC_ROUTE_WIDTH] >= 0)
				continue;		/* split nodes: their rows are in the children */
			for (i = lo[node]; i < hi[node]; i++)
			{
				assert_int_equal(table[node * MLC_ROUTE_WIDTH + 5], slot[order[i]]);
				if (i > lo[node])
					assert_true(order[i] > order[i - 1]);
			}
		}
		assert_int_equal(mlc_tree_hist_add(F, 1, N, bins, g, h, NULL, slot, k, p.g_scale, p.h_scale, hist, &err), MLC_OK);
		assert_int_equal(mlc_tree_builder_apply_level(b, hist, &err), MLC_OK);
		free(table);
		free(hist);
	}
	assert_true(mlc_tree_builder_n_nodes(b) > 3);
	mlc_tree_builder_free(b);
}

int
run_tree_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bin_edges),
		cmocka_unit_test(test_fixed_scale),
		cmocka_unit_test(test_hist_exact),
		cmocka_unit_test(test_split_naive),
		cmocka_unit_test(test_chunk_independence),
		cmocka_unit_test(test_boost_vs_xgboost),
		cmocka_unit_test(test_logistic_and_softmax),
		cmocka_unit_test(test_forest),
		cmocka_unit_test(test_tree_shap_brute),
		cmocka_unit_test(test_validate_and_misuse),
		cmocka_unit_test(test_hist_index_equal),
		cmocka_unit_test(test_routing_table),
	};

	return cmocka_run_group_tests_name("tree", tests, NULL, NULL);
}
