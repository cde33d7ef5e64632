/*
 * tree.c: building trees: binning, fixed-point histograms, split finding,
 * level-wise growth, losses and bootstrap weights (see tree.h).  Scoring a
 * finished forest and Tree SHAP are in forest.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"

#define MAX_OUTPUTS MLC_TREE_MAX_OUTPUTS

/* ---------- binning ---------- */

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

mlc_status
mlc_bin_edges(int64_t n, const double *values, int max_bins, double *edges,
			  int *n_edges, mlc_error *err)
{
	double	   *s;
	int64_t		m = 0,
				i,
				distinct;
	int			ne = 0,
				k;

	if (n < 0 || (n > 0 && values == NULL) || edges == NULL || n_edges == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid binning arguments");
	if (max_bins < 2 || max_bins > MLC_MAX_BINS)
		return mlc_fail(err, MLC_EINVAL, "max_bins must be between 2 and 255.",
						"invalid number of bins %d", max_bins);
	if ((uint64_t) n > SIZE_MAX / sizeof(double) || n > (INT64_C(1) << 52))
		return mlc_fail(err, MLC_EINVAL, NULL, "binning sample too large");
	*n_edges = 0;
	if (n == 0)
		return MLC_OK;
	s = mlc_alloc((size_t) n * sizeof(double));
	if (s == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for the binning sample");
	for (i = 0; i < n; i++)
		if (!isnan(values[i]))
			s[m++] = values[i];
	if (m == 0)
	{
		mlc_free(s);
		return MLC_OK;
	}
	qsort(s, (size_t) m, sizeof(double), cmp_double);
	distinct = 1;
	for (i = 1; i < m; i++)
		if (s[i] > s[i - 1])
			distinct++;
	if (distinct <= max_bins)
	{
		/* few values: each its own bin, like XGBoost's exact cuts */
		for (i = 1; i < m; i++)
			if (s[i] > s[i - 1] && isfinite(s[i]))
				edges[ne++] = s[i];
	}
	else
	{
		for (k = 1; k < max_bins; k++)
		{
			double		v = s[(int64_t) k * m / max_bins];

			if (v > s[0] && isfinite(v) && (ne == 0 || v > edges[ne - 1]))
				edges[ne++] = v;
		}
	}
	mlc_free(s);
	*n_edges = ne;
	return MLC_OK;
}

uint8_t
mlc_bin_value(const double *edges, int n_edges, double v)
{
	int			lo = 0,
				hi = n_edges;

	if (isnan(v))
		return MLC_BIN_MISSING;
	if (edges == NULL || n_edges <= 0)
		return 0;
	if (n_edges > MLC_MAX_BINS - 1)
		hi = MLC_MAX_BINS - 1;
	/*
	 * Number of edges <= v, by halving [lo, lo + hi) with a select instead
	 * of a branch: random values would mispredict half the branches.
	 */
	while (hi > 1)
	{
		int			half = hi / 2;

		lo = edges[lo + half - 1] <= v ? lo + half : lo;
		hi -= half;
	}
	return (uint8_t) (lo + (edges[lo] <= v));
}

/* ---------- fixed point ---------- */

double
mlc_tree_fixed_scale(double max_abs)
{
	int			e;
	double		frac;

	if (!(max_abs >= 0) || !isfinite(max_abs))
		return 0;
	if (max_abs < ldexp(1.0, -30))
		return ldexp(1.0, 60);
	/*
	 * max_abs = f 2^e with f in [0.5, 1): 2^(30 - e) max_abs < 2^30, and
	 * one more doubling fits exactly when max_abs is a power of two
	 */
	frac = frexp(max_abs, &e);
	e = frac == 0.5 ? 31 - e : 30 - e;
	if (e > 60)
		e = 60;
	if (e < -60)
		e = -60;
	return ldexp(1.0, e);
}

static int
quantize(double v, double scale, int64_t *q)
{
	double		s,
				r;
	int64_t		t;

	if (!isfinite(v))
		return 0;
	s = v * scale;
	if (!(fabs(s) <= (double) MLC_TREE_FIXED_MAX))
		return 0;
	/* llround without the library call: |s| <= 2^30, so t and r are exact */
	t = (int64_t) s;
	r = s - (double) t;
	*q = t + (r >= 0.5) - (r <= -0.5);
	return 1;
}

/* ---------- histograms ---------- */

/* Rows between looks at the interrupt hook in the per-row loops of a few
 * operations (quantizing, gradients, targets). */
#define QUANTIZE_MASK (MLC_INTERRUPT_WORK / 8 - 1)

static mlc_status
tree_interrupted(mlc_error *err)
{
	return mlc_fail(err, MLC_EINTR, NULL, "tree building interrupted");
}

size_t
mlc_tree_hist_len(int n_features, int n_outputs)
{
	if (n_features < 1 || n_outputs < 1 || n_outputs > MAX_OUTPUTS ||
		n_features > (1 << 20))
		return 0;
	return (size_t) n_features * MLC_BIN_SLOTS * (size_t) (2 + n_outputs);
}

mlc_status
mlc_tree_hist_add(int n_features, int n_outputs, int64_t n, const uint8_t *bins,
				  const double *g, const double *h, const uint32_t *weight,
				  const int32_t *slot, int n_slots, double g_scale, double h_scale,
				  int64_t *hist, mlc_error *err)
{
	size_t		hlen = mlc_tree_hist_len(n_features, n_outputs);
	int			K = n_outputs,
				f,
				k;
	int64_t		i,
				imask;
	size_t		un = (size_t) n;

	if (hlen == 0 || n < 0 || n_slots < 0 || hist == NULL || slot == NULL ||
		(n > 0 && (bins == NULL || g == NULL || h == NULL)))
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid histogram arguments");
	if (!(g_scale > 0) || !isfinite(g_scale) || !(h_scale > 0) || !isfinite(h_scale))
		return mlc_fail(err, MLC_EINVAL, "Use mlc_tree_fixed_scale.",
						"invalid fixed-point scale");
	/* check every row first so that hist is unchanged on MLC_EINVAL */
	imask = mlc_interrupt_mask((int64_t) n_features * (2 + K));
	for (i = 0; i < n; i++)
	{
		int64_t		q;

		if ((i & imask) == 0 && mlc_interrupted())
			return tree_interrupted(err);
		if (slot[i] < 0 || (weight != NULL && weight[i] == 0))
			continue;
		if (slot[i] >= n_slots)
			return mlc_fail(err, MLC_EINVAL, NULL,
							"row %lld has slot %d of %d", (long long) i,
							(int) slot[i], n_slots);
		if (!quantize(h[i], h_scale, &q) || q < 0 || h[i] < 0)
			return mlc_fail(err, MLC_EINVAL,
							"Hessians must be finite, non-negative and within the fixed-point bound.",
							"invalid hessian at row %lld", (long long) i);
		for (k = 0; k < K; k++)
			if (!quantize(g[(size_t) k * un + i], g_scale, &q))
				return mlc_fail(err, MLC_EINVAL,
								"Gradients must be finite and within the fixed-point bound.",
								"invalid gradient at row %lld", (long long) i);
	}
	for (i = 0; i < n; i++)
	{
		int64_t		w = weight != NULL ? (int64_t) weight[i] : 1,
					qh = 0;
		int64_t		qg[MAX_OUTPUTS];

		if ((i & imask) == 0 && mlc_interrupted())
			return tree_interrupted(err);
		if (slot[i] < 0 || w == 0)
			continue;
		(void) quantize(h[i], h_scale, &qh);
		for (k = 0; k < K; k++)
			(void) quantize(g[(size_t) k * un + i], g_scale, &qg[k]);
		for (f = 0; f < n_features; f++)
		{
			int64_t    *c = hist + (size_t) slot[i] * hlen +
				((size_t) f * MLC_BIN_SLOTS + bins[(size_t) f * un + i]) * (size_t) (2 + K);

			c[0] += w;
			c[1] += w * qh;
			for (k = 0; k < K; k++)
				c[2 + k] += w * qg[k];
		}
	}
	return MLC_OK;
}

mlc_status
mlc_tree_quantize(int64_t n, const double *v, double scale, int nonnegative, int64_t *q,
				  mlc_error *err)
{
	int64_t		i;

	if (n < 0 || (n > 0 && (v == NULL || q == NULL)) || !(scale > 0) || !isfinite(scale))
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid quantize arguments");
	for (i = 0; i < n; i++)
	{
		if ((i & QUANTIZE_MASK) == 0 && mlc_interrupted())
			return tree_interrupted(err);
		if (!quantize(v[i], scale, &q[i]) || (nonnegative && q[i] < 0))
			return mlc_fail(err, MLC_EINVAL,
							"Gradients and hessians must be finite and within the fixed-point bound; hessians non-negative.",
							"invalid value to quantize at row %lld", (long long) i);
	}
	return MLC_OK;
}

mlc_status
mlc_tree_hist_add_index(int n_features, int n_outputs, int64_t n, const uint8_t *bins,
						const int64_t *qg, const int64_t *qh, const uint32_t *weight,
						const int32_t *rows, int64_t m, int64_t *hist, mlc_error *err)
{
	int			K = n_outputs,
				F = n_features,
				f,
				k;
	int64_t		j,
				jmask;

	if (mlc_tree_hist_len(n_features, n_outputs) == 0 || n < 0 || m < 0 || hist == NULL ||
		(m > 0 && (rows == NULL || bins == NULL || qg == NULL || qh == NULL)))
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid histogram arguments");
	for (j = 0; j < m; j++)
		if (rows[j] < 0 || rows[j] >= n)
			return mlc_fail(err, MLC_EINVAL, NULL, "row index %lld of %lld rows",
							(long long) rows[j], (long long) n);
	jmask = mlc_interrupt_mask((int64_t) F * (2 + K));
	if (K == 1 && weight == NULL)
	{
		/* boosting without row sampling: the common case, kept tight */
		for (j = 0; j < m; j++)
		{
			int32_t		i = rows[j];
			const uint8_t *row = bins + (size_t) i * F;
			int64_t		g = qg[i],
						h = qh[i];

			if ((j & jmask) == 0 && mlc_interrupted())
				return tree_interrupted(err);

			for (f = 0; f < F; f++)
			{
				int64_t    *c = hist + ((size_t) f * MLC_BIN_SLOTS + row[f]) * 3;

				c[0] += 1;
				c[1] += h;
				c[2] += g;
			}
		}
		return MLC_OK;
	}
	for (j = 0; j < m; j++)
	{
		int32_t		i = rows[j];
		int64_t		w = weight != NULL ? (int64_t) weight[i] : 1;
		const uint8_t *row = bins + (size_t) i * F;

		if ((j & jmask) == 0 && mlc_interrupted())
			return tree_interrupted(err);

		for (f = 0; f < F; f++)
		{
			int64_t    *c = hist + ((size_t) f * MLC_BIN_SLOTS + row[f]) * (size_t) (2 + K);

			c[0] += w;
			c[1] += w * qh[i];
			for (k = 0; k < K; k++)
				c[2 + k] += w * qg[(size_t) k * n + i];
		}
	}
	return MLC_OK;
}

int64_t
mlc_tree_partition(const int32_t *split, int n_features, const uint8_t *bins,
				   int32_t *rows, int64_t m, int32_t *tmp)
{
	int64_t		j,
				left = 0,
				right = 0;

	/*
	 * Both stores and a counted step, no branch: the direction is random.
	 * The missing bin (255) is above every split bin, so it goes left only
	 * by default_left.
	 */
	for (j = 0; j < m; j++)
	{
		int32_t		i = rows[j];
		uint8_t		v = bins[(size_t) i * n_features + split[0]];
		int			go_left = (v <= split[1]) | ((v == MLC_BIN_MISSING) & (split[2] != 0));

		rows[left] = i;			/* left <= j: never overwrites an unread row */
		tmp[right] = i;
		left += go_left;
		right += !go_left;
	}
	memcpy(rows + left, tmp, sizeof(int32_t) * (size_t) right);
	return left;
}

void
mlc_tree_hist_combine(size_t len, int64_t *into, const int64_t *other)
{
	size_t		i;

	for (i = 0; i < len; i++)
		into[i] += other[i];
}

/* ---------- split finding ---------- */

void
mlc_tree_params_defaults(mlc_tree_params *p)
{
	memset(p, 0, sizeof(*p));
	p->max_depth = 6;
	p->n_outputs = 1;
	p->lambda = 1;
	p->gamma = 0;
	p->min_child_weight = 1;
	p->min_samples_leaf = 0;
	p->min_gain = 5e-7;
	p->learning_rate = 0.3;
	p->colsample = 1;
	p->seed = 0;
	p->g_scale = 1;
	p->h_scale = 1;
}

static mlc_status
check_params(const mlc_tree_params *p, mlc_error *err)
{
	if (p == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "missing tree parameters");
	if (p->max_depth < 0 || p->max_depth > MLC_TREE_MAX_DEPTH ||
		p->n_outputs < 1 || p->n_outputs > MAX_OUTPUTS ||
		!(p->lambda >= 0) || !isfinite(p->lambda) ||
		!(p->gamma >= 0) || !isfinite(p->gamma) ||
		!(p->min_child_weight >= 0) || !isfinite(p->min_child_weight) ||
		!(p->min_samples_leaf >= 0) || !isfinite(p->min_samples_leaf) ||
		!(p->min_gain >= 0) || !isfinite(p->min_gain) ||
		!(p->learning_rate > 0) || !isfinite(p->learning_rate) ||
		!(p->colsample > 0) || !(p->colsample <= 1) ||
		!(p->g_scale > 0) || !isfinite(p->g_scale) ||
		!(p->h_scale > 0) || !isfinite(p->h_scale))
		return mlc_fail(err, MLC_EINVAL,
						"Check max_depth (0 to 30), n_outputs, the penalties, learning_rate, colsample and the scales.",
						"invalid tree parameters");
	return MLC_OK;
}

/* sum_k G_k^2 / (H + lambda) of one side (count, h, g_0 .. g_K-1) */
static double
side_score(const mlc_tree_params *p, const int64_t *s)
{
	double		den = (double) s[1] / p->h_scale + p->lambda,
				sum = 0;
	int			k;

	if (!(den > 0))
		return 0;
	for (k = 0; k < p->n_outputs; k++)
	{
		double		G = (double) s[2 + k] / p->g_scale;

		sum += G * G / den;
	}
	return sum;
}

/* totals of a node: all slots of feature 0 (every row is in one of them) */
static void
node_totals(int K, const int64_t *hist, int64_t *tot)
{
	int			b,
				k;

	for (k = 0; k < K + 2; k++)
		tot[k] = 0;
	for (b = 0; b < MLC_BIN_SLOTS; b++)
		for (k = 0; k < K + 2; k++)
			tot[k] += hist[(size_t) b * (2 + K) + k];
}

mlc_status
mlc_tree_best_split(const mlc_tree_params *p, int n_features, const int *n_edges,
					const int64_t *node_hist, const uint8_t *mask, mlc_split *out,
					mlc_error *err)
{
	int			K,
				f,
				b,
				k,
				d;
	int64_t		tot[MAX_OUTPUTS + 2],
				L[MAX_OUTPUTS + 2],
				R[MAX_OUTPUTS + 2],
				LM[MAX_OUTPUTS + 2];
	double		parent,
				minc;
	mlc_status	st;

	if ((st = check_params(p, err)) != MLC_OK)
		return st;
	if (n_features < 1 || n_edges == NULL || node_hist == NULL || out == NULL ||
		mlc_tree_hist_len(n_features, p->n_outputs) == 0)
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid split arguments");
	K = p->n_outputs;
	out->feature = -1;
	out->bin = -1;
	out->default_left = 0;
	out->gain = -INFINITY;
	node_totals(K, node_hist, tot);
	parent = side_score(p, tot);
	minc = p->min_samples_leaf > 1 ? p->min_samples_leaf : 1;
	for (f = 0; f < n_features; f++)
	{
		const int64_t *fh = node_hist + (size_t) f * MLC_BIN_SLOTS * (2 + K);
		const int64_t *miss = fh + (size_t) MLC_BIN_MISSING * (2 + K);
		int			ne = n_edges[f];

		if (ne < 0 || ne > MLC_MAX_BINS - 1)
			return mlc_fail(err, MLC_EINVAL, NULL, "invalid edge count %d of feature %d",
							ne, f);
		if (mask != NULL && mask[f] == 0)
			continue;
		for (k = 0; k < K + 2; k++)
			L[k] = 0;
		for (b = 0; b < ne; b++)
		{
			for (k = 0; k < K + 2; k++)
				L[k] += fh[(size_t) b * (2 + K) + k];
			/*
			 * d = 0: missing left (tried first), d = 1: missing right, which
			 * without missing rows is the same split and can never be
			 * strictly better.
			 */
			for (d = 0; d < (miss[0] != 0 ? 2 : 1); d++)
			{
				double		gain;

				for (k = 0; k < K + 2; k++)
				{
					LM[k] = d == 0 ? L[k] + miss[k] : L[k];
					R[k] = tot[k] - LM[k];
				}
				if ((double) LM[0] < minc || (double) R[0] < minc ||
					(double) LM[1] / p->h_scale < p->min_child_weight ||
					(double) R[1] / p->h_scale < p->min_child_weight)
					continue;
				gain = 0.5 * (side_score(p, LM) + side_score(p, R) - parent) - p->gamma;
				if (gain > p->min_gain && gain > out->gain)
				{
					out->feature = f;
					out->bin = b;
					out->default_left = d == 0;
					out->gain = gain;
				}
			}
		}
	}
	if (out->feature < 0)
		out->gain = 0;
	return MLC_OK;
}

/* ---------- builder ---------- */

enum
{
	NODE_OPEN = 0, NODE_SPLIT = 1, NODE_LEAF = 2
};

typedef struct tnode
{
	int			state;
	int			depth;
	int			feature;
	int			bin;
	int			default_left;
	int			left;
	int			right;
	int			need;			/* may split at this level */
	int			slot;			/* histogram requested from the caller, or -1 */
	int			from_slot;		/* derived: parent minus this slot's histogram */
	int			parent_hist;	/* index in parent_hist of this node's parent */
	int			own_hist;		/* index in parent_hist once split */
	double		gain;
	int64_t		count;
	int64_t		h;
} tnode;

struct mlc_tree_builder
{
	mlc_tree_params p;
	int			F;
	int			K;
	const double *const *edges;
	const int  *n_edges;
	size_t		hlen;
	int			n_nodes;
	int			cap;
	tnode	   *nodes;
	int64_t    *g;				/* cap x K node gradient totals */
	int		   *level;			/* nodes of the current level */
	int			n_level;
	int			n_slots;
	int64_t    *parent_hist;	/* histograms of the previous level's split nodes */
	int64_t    *spare_hist;		/* the next level's, swapped in by apply_level */
	size_t		parent_cap;		/* histograms each can hold */
	size_t		spare_cap;
	int			begun;
	int			done;
	int			failed;
	uint8_t    *mask;
	int		   *perm;
	int64_t    *tmp;
};

void
mlc_tree_builder_free(mlc_tree_builder *b)
{
	if (b == NULL)
		return;
	mlc_free(b->nodes);
	mlc_free(b->g);
	mlc_free(b->level);
	mlc_free(b->parent_hist);
	mlc_free(b->spare_hist);
	mlc_free(b->mask);
	mlc_free(b->perm);
	mlc_free(b->tmp);
	mlc_free(b);
}

static int
grow_nodes(mlc_tree_builder *b, int need)
{
	tnode	   *nn;
	int64_t    *ng;
	int			cap = b->cap;

	if (need <= b->cap)
		return 1;
	while (cap < need)
		cap *= 2;
	nn = mlc_alloc((size_t) cap * sizeof(tnode));
	ng = mlc_alloc((size_t) cap * (size_t) b->K * sizeof(int64_t));
	if (nn == NULL || ng == NULL)
	{
		mlc_free(nn);
		mlc_free(ng);
		return 0;
	}
	memcpy(nn, b->nodes, (size_t) b->n_nodes * sizeof(tnode));
	memcpy(ng, b->g, (size_t) b->n_nodes * (size_t) b->K * sizeof(int64_t));
	mlc_free(b->nodes);
	mlc_free(b->g);
	b->nodes = nn;
	b->g = ng;
	b->cap = cap;
	return 1;
}

static void
init_node(tnode *t, int depth)
{
	memset(t, 0, sizeof(*t));
	t->state = NODE_OPEN;
	t->depth = depth;
	t->feature = -1;
	t->bin = -1;
	t->left = -1;
	t->right = -1;
	t->slot = -1;
	t->from_slot = -1;
	t->parent_hist = -1;
	t->own_hist = -1;
}

mlc_status
mlc_tree_builder_create(const mlc_tree_params *p, int n_features,
						const double *const *edges, const int *n_edges,
						mlc_tree_builder **out, mlc_error *err)
{
	mlc_tree_builder *b;
	mlc_status	st;
	int			f,
				j;

	if (out == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "missing builder output");
	*out = NULL;
	if ((st = check_params(p, err)) != MLC_OK)
		return st;
	if (n_features < 1 || edges == NULL || n_edges == NULL ||
		mlc_tree_hist_len(n_features, p->n_outputs) == 0)
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid builder arguments");
	for (f = 0; f < n_features; f++)
	{
		if (n_edges[f] < 0 || n_edges[f] > MLC_MAX_BINS - 1 ||
			(n_edges[f] > 0 && edges[f] == NULL))
			return mlc_fail(err, MLC_EINVAL, NULL, "invalid edges of feature %d", f);
		for (j = 0; j < n_edges[f]; j++)
			if (!isfinite(edges[f][j]) || (j > 0 && !(edges[f][j] > edges[f][j - 1])))
				return mlc_fail(err, MLC_EINVAL, "Edges must be finite and strictly ascending.",
								"invalid edges of feature %d", f);
	}
	b = mlc_alloc0(sizeof(*b));
	if (b == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for the tree builder");
	b->p = *p;
	b->F = n_features;
	b->K = p->n_outputs;
	b->edges = edges;
	b->n_edges = n_edges;
	b->hlen = mlc_tree_hist_len(n_features, p->n_outputs);
	b->cap = 16;
	b->nodes = mlc_alloc((size_t) b->cap * sizeof(tnode));
	b->g = mlc_alloc((size_t) b->cap * (size_t) b->K * sizeof(int64_t));
	b->level = mlc_alloc(sizeof(int));
	b->mask = mlc_alloc((size_t) n_features);
	b->perm = mlc_alloc((size_t) n_features * sizeof(int));
	b->tmp = mlc_alloc(b->hlen * sizeof(int64_t));
	if (b->nodes == NULL || b->g == NULL || b->level == NULL || b->mask == NULL ||
		b->perm == NULL || b->tmp == NULL)
	{
		mlc_tree_builder_free(b);
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for the tree builder");
	}
	init_node(&b->nodes[0], 0);
	memset(b->g, 0, (size_t) b->K * sizeof(int64_t));
	b->n_nodes = 1;
	b->level[0] = 0;
	b->n_level = 1;
	*out = b;
	return MLC_OK;
}

int
mlc_tree_builder_begin_level(mlc_tree_builder *b)
{
	int			i,
				slots = 0;
	double		minc;

	if (b == NULL || b->failed || b->begun)
		return -1;
	if (b->done)
		return 0;
	minc = b->p.min_samples_leaf > 1 ? b->p.min_samples_leaf : 1;
	for (i = 0; i < b->n_level; i++)
	{
		tnode	   *t = &b->nodes[b->level[i]];

		t->slot = -1;
		t->from_slot = -1;
		/* the root's totals come from its histogram, so it is always asked */
		t->need = t->depth < b->p.max_depth &&
			(b->level[i] == 0 || (double) t->count >= 2 * minc);
	}
	if (b->n_level == 1 && b->level[0] == 0)
		b->nodes[0].slot = slots++;
	else
	{
		/* the level is sibling pairs (left, right) in parent order */
		for (i = 0; i + 1 < b->n_level; i += 2)
		{
			tnode	   *l = &b->nodes[b->level[i]],
					   *r = &b->nodes[b->level[i + 1]];

			if (!l->need && !r->need)
				continue;
			if (l->count <= r->count)
			{
				l->slot = slots++;
				r->from_slot = l->slot;
			}
			else
			{
				r->slot = slots++;
				l->from_slot = r->slot;
			}
		}
	}
	for (i = 0; i < b->n_level; i++)
	{
		tnode	   *t = &b->nodes[b->level[i]];

		if (t->slot < 0 && t->from_slot < 0)
			t->state = NODE_LEAF;
	}
	if (slots == 0)
	{
		b->done = 1;
		b->n_level = 0;
		return 0;
	}
	b->n_slots = slots;
	b->begun = 1;
	return slots;
}

/* the node a binned row reaches (stops at the first node not split) */
static int
route_binned(const mlc_tree_builder *b, const uint8_t *bins, size_t n, size_t i)
{
	int			node = 0;

	while (b->nodes[node].state == NODE_SPLIT)
	{
		const tnode *t = &b->nodes[node];
		uint8_t		v = bins[(size_t) t->feature * n + i];
		int			go_left = v == MLC_BIN_MISSING ? t->default_left : v <= t->bin;

		node = go_left ? t->left : t->right;
	}
	return node;
}

int
mlc_tree_builder_routing(const mlc_tree_builder *b, int32_t *table)
{
	int			i;

	if (b == NULL || table == NULL || b->failed)
		return -1;
	for (i = 0; i < b->n_nodes; i++)
	{
		const tnode *t = &b->nodes[i];
		int32_t    *row = table + (size_t) i * MLC_ROUTE_WIDTH;
		int			split = t->state == NODE_SPLIT;

		row[0] = split ? t->feature : -1;
		row[1] = split ? t->bin : 0;
		row[2] = split ? t->default_left : 0;
		row[3] = split ? t->left : -1;
		row[4] = split ? t->right : -1;
		row[5] = b->begun && !b->done ? t->slot : -1;
	}
	return b->n_nodes;
}

mlc_status
mlc_tree_builder_assign(const mlc_tree_builder *b, int64_t n, const uint8_t *bins,
						int32_t *slot, mlc_error *err)
{
	int64_t		i,
				imask;

	if (b == NULL || n < 0 || (n > 0 && (bins == NULL || slot == NULL)))
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid assign arguments");
	if (!b->begun)
		return mlc_fail(err, MLC_EINVAL, "Call mlc_tree_builder_begin_level first.",
						"no level in progress");
	/* a row walks at most depth nodes */
	imask = mlc_interrupt_mask(4 * (int64_t) (b->p.max_depth + 1));
	for (i = 0; i < n; i++)
	{
		if ((i & imask) == 0 && mlc_interrupted())
			return tree_interrupted(err);
		slot[i] = b->nodes[route_binned(b, bins, (size_t) n, (size_t) i)].slot;
	}
	return MLC_OK;
}

static void
feature_mask(mlc_tree_builder *b, int node)
{
	int			F = b->F,
				m,
				j;
	uint64_t	s;

	if (b->p.colsample >= 1)
	{
		memset(b->mask, 1, (size_t) F);
		return;
	}
	m = (int) floor(b->p.colsample * F);
	if (m < 1)
		m = 1;
	s = b->p.seed ^ (UINT64_C(0xd1b54a32d192ed03) * (uint64_t) (node + 1));
	for (j = 0; j < F; j++)
		b->perm[j] = j;
	memset(b->mask, 0, (size_t) F);
	/* partial Fisher-Yates; the modulo bias is irrelevant for F << 2^64 */
	for (j = 0; j < m; j++)
	{
		int			r = j + (int) (mlc_rng_next(&s) % (uint64_t) (F - j));
		int			t = b->perm[j];

		b->perm[j] = b->perm[r];
		b->perm[r] = t;
		b->mask[b->perm[j]] = 1;
	}
}

mlc_status
mlc_tree_builder_apply_level(mlc_tree_builder *b, const int64_t *hist, mlc_error *err)
{
	int			i,
				k,
				n_need = 0,
				n_split = 0,
				n_next = 0,
				K,
				imask;
	int64_t    *new_parent = NULL;
	int		   *next = NULL;
	size_t		j;
	mlc_status	st;

	if (b == NULL || hist == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid apply arguments");
	if (!b->begun || b->failed)
		return mlc_fail(err, MLC_EINVAL, "Call mlc_tree_builder_begin_level first.",
						"no level in progress");
	K = b->K;
	for (i = 0; i < b->n_level; i++)
		if (b->nodes[b->level[i]].need)
			n_need++;
	if (n_need > 0)
	{
		/* the spare buffer is reused level to level: fresh pages cost faults */
		if (b->spare_cap < (size_t) n_need)
		{
			mlc_free(b->spare_hist);
			b->spare_hist = mlc_alloc((size_t) n_need * b->hlen * sizeof(int64_t));
			b->spare_cap = b->spare_hist != NULL ? (size_t) n_need : 0;
		}
		new_parent = b->spare_hist;
		next = mlc_alloc((size_t) 2 * n_need * sizeof(int));
		if (new_parent == NULL || next == NULL ||
			!grow_nodes(b, b->n_nodes + 2 * n_need))
		{
			mlc_free(next);
			b->failed = 1;
			return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for tree growth");
		}
	}
	/* a node costs a few passes over its histogram */
	imask = (int) mlc_interrupt_mask(2 * (int64_t) b->hlen);
	for (i = 0; i < b->n_level; i++)
	{
		int			id = b->level[i];
		tnode	   *t = &b->nodes[id];
		const int64_t *H;
		int64_t		tot[MAX_OUTPUTS + 2];
		mlc_split	sp;

		if ((i & imask) == 0 && mlc_interrupted())
		{
			mlc_free(next);
			b->failed = 1;
			return tree_interrupted(err);
		}
		if (t->slot >= 0)
			H = hist + (size_t) t->slot * b->hlen;
		else if (t->from_slot >= 0)
		{
			const int64_t *par = b->parent_hist + (size_t) t->parent_hist * b->hlen;
			const int64_t *sib = hist + (size_t) t->from_slot * b->hlen;

			for (j = 0; j < b->hlen; j++)
				b->tmp[j] = par[j] - sib[j];
			H = b->tmp;
		}
		else
			continue;
		node_totals(K, H, tot);
		t->count = tot[0];
		t->h = tot[1];
		for (k = 0; k < K; k++)
			b->g[(size_t) id * K + k] = tot[2 + k];
		if (tot[0] < 0 || tot[1] < 0)
		{
			mlc_free(next);
			b->failed = 1;
			return mlc_fail(err, MLC_EINVAL, "Histograms must come from mlc_tree_hist_add for the requested slots.",
							"inconsistent histogram for node %d", id);
		}
		t->state = NODE_LEAF;
		if (!t->need)
			continue;
		feature_mask(b, id);
		st = mlc_tree_best_split(&b->p, b->F, b->n_edges, H, b->mask, &sp, err);
		if (st != MLC_OK)
		{
			mlc_free(next);
			b->failed = 1;
			return st;
		}
		if (sp.feature < 0)
			continue;
		{
			const int64_t *fh = H + (size_t) sp.feature * MLC_BIN_SLOTS * (2 + K);
			int64_t		L[MAX_OUTPUTS + 2];
			int			bb,
						l = b->n_nodes,
						r = b->n_nodes + 1;

			for (k = 0; k < K + 2; k++)
			{
				L[k] = 0;
				for (bb = 0; bb <= sp.bin; bb++)
					L[k] += fh[(size_t) bb * (2 + K) + k];
				if (sp.default_left)
					L[k] += fh[(size_t) MLC_BIN_MISSING * (2 + K) + k];
			}
			init_node(&b->nodes[l], t->depth + 1);
			init_node(&b->nodes[r], t->depth + 1);
			b->nodes[l].count = L[0];
			b->nodes[l].h = L[1];
			b->nodes[r].count = tot[0] - L[0];
			b->nodes[r].h = tot[1] - L[1];
			for (k = 0; k < K; k++)
			{
				b->g[(size_t) l * K + k] = L[2 + k];
				b->g[(size_t) r * K + k] = tot[2 + k] - L[2 + k];
			}
			b->nodes[l].parent_hist = n_split;
			b->nodes[r].parent_hist = n_split;
			memcpy(new_parent + (size_t) n_split * b->hlen, H, b->hlen * sizeof(int64_t));
			t->own_hist = n_split++;
			t->state = NODE_SPLIT;
			t->feature = sp.feature;
			t->bin = sp.bin;
			t->default_left = sp.default_left;
			t->gain = sp.gain;
			t->left = l;
			t->right = r;
			b->n_nodes += 2;
			next[n_next++] = l;
			next[n_next++] = r;
		}
	}
	if (new_parent != NULL)
	{
		/* new_parent is the spare: swap the two buffers */
		int64_t    *old = b->parent_hist;
		size_t		old_cap = b->parent_cap;

		b->parent_hist = b->spare_hist;
		b->parent_cap = b->spare_cap;
		b->spare_hist = old;
		b->spare_cap = old_cap;
	}
	for (i = 0; i < b->n_level; i++)
		b->nodes[b->level[i]].slot = -1;
	mlc_free(b->level);
	b->level = next;
	b->n_level = n_next;
	b->begun = 0;
	if (n_next == 0)
		b->done = 1;
	return MLC_OK;
}

int
mlc_tree_builder_n_nodes(const mlc_tree_builder *b)
{
	return b != NULL ? b->n_nodes : 0;
}

static double
leaf_value(const mlc_tree_builder *b, int id, int k)
{
	double		G = (double) b->g[(size_t) id * b->K + k] / b->p.g_scale,
				den = (double) b->nodes[id].h / b->p.h_scale + b->p.lambda;

	if (!(den > 0))
		return 0;
	return (-G / den) * b->p.learning_rate;
}

mlc_status
mlc_tree_builder_export(const mlc_tree_builder *b, double *feature, double *threshold,
						double *left, double *right, double *default_left,
						double *value, double *cover, double *gain, mlc_error *err)
{
	int			i,
				k;

	if (b == NULL || feature == NULL || threshold == NULL || left == NULL ||
		right == NULL || default_left == NULL || value == NULL || cover == NULL ||
		gain == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid export arguments");
	if (!b->done || b->failed)
		return mlc_fail(err, MLC_EINVAL, "Grow the tree until mlc_tree_builder_begin_level returns 0.",
						"tree not complete");
	for (i = 0; i < b->n_nodes; i++)
	{
		const tnode *t = &b->nodes[i];
		int			split = t->state == NODE_SPLIT;

		feature[i] = split ? t->feature : -1;
		threshold[i] = split ? b->edges[t->feature][t->bin] : 0;
		left[i] = split ? t->left : -1;
		right[i] = split ? t->right : -1;
		default_left[i] = split ? t->default_left : 0;
		for (k = 0; k < b->K; k++)
			value[(size_t) i * b->K + k] = split ? 0 : leaf_value(b, i, k);
		cover[i] = (double) t->h / b->p.h_scale;
		gain[i] = split ? t->gain : 0;
	}
	return MLC_OK;
}

mlc_status
mlc_tree_builder_add_predictions(const mlc_tree_builder *b, int64_t n,
								 const uint8_t *bins, double *raw, mlc_error *err)
{
	int64_t		i,
				imask;
	int			k;

	if (b == NULL || n < 0 || (n > 0 && (bins == NULL || raw == NULL)))
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid prediction arguments");
	if (!b->done || b->failed)
		return mlc_fail(err, MLC_EINVAL, NULL, "tree not complete");
	imask = mlc_interrupt_mask(4 * (int64_t) (b->p.max_depth + 1) + b->K);
	for (i = 0; i < n; i++)
	{
		int			leaf;

		if ((i & imask) == 0 && mlc_interrupted())
			return tree_interrupted(err);
		leaf = route_binned(b, bins, (size_t) n, (size_t) i);
		for (k = 0; k < b->K; k++)
			raw[(size_t) k * (size_t) n + i] += leaf_value(b, leaf, k);
	}
	return MLC_OK;
}

void
mlc_tree_builder_importance(const mlc_tree_builder *b, double *gain, double *cover,
							double *count)
{
	int			i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n_nodes; i++)
	{
		const tnode *t = &b->nodes[i];

		if (t->state != NODE_SPLIT)
			continue;
		if (gain != NULL)
			gain[t->feature] += t->gain;
		if (cover != NULL)
			cover[t->feature] += (double) t->h / b->p.h_scale;
		if (count != NULL)
			count[t->feature] += 1;
	}
}

/* ---------- losses ---------- */

mlc_status
mlc_tree_gradients(mlc_tree_objective obj, int n_classes, int64_t n, const double *y,
				   const double *raw, double *g, double *h, mlc_error *err)
{
	int64_t		i;
	int			k;
	size_t		un = (size_t) n;

	if (n < 0 || (n > 0 && (y == NULL || raw == NULL || g == NULL || h == NULL)))
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid gradient arguments");
	if (obj == MLC_OBJ_SOFTMAX && (n_classes < 2 || n_classes > MAX_OUTPUTS))
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid number of classes %d", n_classes);
	if (obj != MLC_OBJ_SQUARED && obj != MLC_OBJ_LOGISTIC && obj != MLC_OBJ_SOFTMAX)
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid objective %d", (int) obj);
	for (i = 0; i < n; i++)
	{
		if ((i & QUANTIZE_MASK) == 0 && mlc_interrupted())
			return tree_interrupted(err);
		if (!isfinite(y[i]))
			return mlc_fail(err, MLC_EINVAL, NULL, "non-finite target at row %lld",
							(long long) i);
		if (obj == MLC_OBJ_SQUARED)
		{
			if (!isfinite(raw[i]))
				return mlc_fail(err, MLC_EINVAL, NULL, "non-finite score at row %lld",
								(long long) i);
			g[i] = raw[i] - y[i];
			h[i] = 1;
		}
		else if (obj == MLC_OBJ_LOGISTIC)
		{
			double		p;

			if (!isfinite(raw[i]) || y[i] < 0 || y[i] > 1)
				return mlc_fail(err, MLC_EINVAL, "Labels must be in [0, 1].",
								"invalid score or label at row %lld", (long long) i);
			p = 1 / (1 + exp(-raw[i]));
			g[i] = p - y[i];
			h[i] = fmax(p * (1 - p), 1e-16);
		}
		else
		{
			double		mx = -INFINITY,
						s = 0;

			if (y[i] < 0 || y[i] >= n_classes || y[i] != floor(y[i]))
				return mlc_fail(err, MLC_EINVAL, NULL, "invalid class at row %lld",
								(long long) i);
			for (k = 0; k < n_classes; k++)
			{
				double		r = raw[(size_t) k * un + i];

				if (!isfinite(r))
					return mlc_fail(err, MLC_EINVAL, NULL, "non-finite score at row %lld",
									(long long) i);
				if (r > mx)
					mx = r;
			}
			for (k = 0; k < n_classes; k++)
				s += exp(raw[(size_t) k * un + i] - mx);
			for (k = 0; k < n_classes; k++)
			{
				double		p = exp(raw[(size_t) k * un + i] - mx) / s;

				g[(size_t) k * un + i] = p - (k == (int) y[i] ? 1.0 : 0.0);
				h[(size_t) k * un + i] = fmax(2 * p * (1 - p), 1e-16);
			}
		}
	}
	return MLC_OK;
}

mlc_status
mlc_tree_forest_targets(int n_classes, int64_t n, const double *y, double *g,
						double *h, mlc_error *err)
{
	int64_t		i;
	int			k;

	if (n < 0 || n_classes < 0 || n_classes == 1 || n_classes > MAX_OUTPUTS ||
		(n > 0 && (y == NULL || g == NULL || h == NULL)))
		return mlc_fail(err, MLC_EINVAL, NULL, "invalid forest target arguments");
	for (i = 0; i < n; i++)
	{
		if ((i & QUANTIZE_MASK) == 0 && mlc_interrupted())
			return tree_interrupted(err);
		if (!isfinite(y[i]) ||
			(n_classes > 0 && (y[i] < 0 || y[i] >= n_classes || y[i] != floor(y[i]))))
			return mlc_fail(err, MLC_EINVAL, NULL, "invalid target at row %lld",
							(long long) i);
		h[i] = 1;
		if (n_classes == 0)
			g[i] = -y[i];
		else
			for (k = 0; k < n_classes; k++)
				g[(size_t) k * (size_t) n + i] = k == (int) y[i] ? -1.0 : 0.0;
	}
	return MLC_OK;
}

double
mlc_tree_base_score(mlc_tree_objective obj, double mean_y)
{
	if (obj == MLC_OBJ_SQUARED)
		return isfinite(mean_y) ? mean_y : 0;
	if (obj == MLC_OBJ_LOGISTIC)
	{
		double		m = isfinite(mean_y) ? mean_y : 0.5;

		if (m < 1e-7)
			m = 1e-7;
		if (m > 1 - 1e-7)
			m = 1 - 1e-7;
		return log(m / (1 - m));
	}
	return 0;
}

uint32_t
mlc_tree_bootstrap_weight(uint64_t seed, int tree, uint64_t row_key)
{
	uint64_t	buf[2],
				hv;
	double		u,
				p,
				cdf;
	uint32_t	k = 0;

	buf[0] = (uint64_t) (int64_t) tree;
	buf[1] = row_key;
	hv = mlc_siphash(buf, sizeof(buf), seed, UINT64_C(0x626f6f7473747270));
	u = (double) (hv >> 11) * ldexp(1.0, -53);
	/* inverse CDF of Poisson(1) */
	p = exp(-1.0);
	cdf = p;
	while (u >= cdf && k < 20)
	{
		k++;
		p /= k;
		cdf += p;
	}
	return k;
}
