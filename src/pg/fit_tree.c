/*
 * fit_tree.c: gradient boosting, random forest and decision tree over the
 * engine's chunks (the numerics are the core's, src/core/tree.c).
 *
 * Each chunk keeps a TreeChunk between passes: its rows binned (one byte
 * per cell), the targets, the raw scores of the trees built so far and the
 * current gradients.  A tree grows level by level; a level's histograms
 * are sums over chunks of fixed-point integers, so they are exact and any
 * split of the chunks among workers gives the same trees.  Passes:
 *   PASS_SAMPLE       rows for the quantile bin edges (shared with kmeans)
 *   PASS_TREE_INIT    bin the rows, counts and target sums
 *   PASS_TREE_GRAD    gradients of every output, their bounds, losses
 *   PASS_TREE_HIST    histograms of up to ML_TREE_SLOTS nodes of a level
 *   PASS_TREE_UPDATE  add a finished tree's leaf values to the raw scores
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "fit.h"
#include "pg_mlops.h"

/* Node histograms per HIST pass: bounds a chunk partial. */
#define ML_TREE_SLOTS 8
/* Rows the bin edges are computed from (about; all rows when fewer). */
#define ML_TREE_SAMPLE_ROWS 50000
#define MAX_EDGES (MLC_MAX_BINS - 1)

typedef struct TreeChunk
{
	int			holdout;
	int64		n[2];			/* train, valid */
	uint8	   *bins[2];		/* row-major: row i's F bins at i * F */
	double	   *y[2];
	double	   *raw[2];			/* V columns of n */
	double	   *g;				/* train: G columns of n */
	double	   *h;				/* train: H columns of n */
	uint64	   *key;			/* train: content hash, for row sampling */
	uint32	   *weight;			/* train: row weights of the tree being grown */
	int64	   *qg;				/* train: its gradients in fixed point (G columns) */
	int64	   *qh;				/* train: its hessians in fixed point */

	/*
	 * The tree being grown: its rows of non-zero weight (m of them), grouped
	 * by node: group g holds order[grp_lo[g] .. grp_hi[g]), the rows of node
	 * grp_node[g].  Only non-empty groups are listed, so there are never more
	 * than the chunk's rows, however deep the tree; a level replaces the
	 * group of each node split last by its children's.
	 */
	int32	   *order;
	int32	   *tmp;			/* scratch for mlc_tree_partition */
	int32	   *grp_node;
	int32	   *grp_lo;
	int32	   *grp_hi;
	int			n_grp;
	int			grp_cap;
	int			grp_next;		/* first group the level's next batch can hold */
	int32		m;
	int			tree_key;		/* which tree order[] and weight[] belong to */
	int			level;			/* the level order[] has reached */
} TreeChunk;

static void
check_core(mlc_status st, const mlc_error *err)
{
	if (st != MLC_OK)
		ml_raise_core_error(err);
}

/* Outputs of the trees (V), the gradient columns of one tree (G) */
static int
tree_outputs(mlc_algorithm alg, int K)
{
	if (K == 0)
		return 1;
	if (alg == MLC_ALG_GRADIENT_BOOSTING)
		return K == 2 ? 1 : K;
	return K;					/* forests average class fractions */
}

static int
tree_grad_columns(mlc_algorithm alg, int K)
{
	return alg == MLC_ALG_GRADIENT_BOOSTING ? 1 : tree_outputs(alg, K);
}

static int
max_nodes(const mlc_hparams *hp)
{
	return (1 << ((int) hp->max_depth + 1)) - 1;
}

int
ml_tree_partial_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K)
{
	Size		hist = (Size) ML_TREE_SLOTS * mlc_tree_hist_len(p, tree_grad_columns(alg, K));
	int			V = tree_outputs(alg, K);

	return (int) Max(hist, (Size) 4 * V + 8);
}

int
ml_tree_param_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K)
{
	Size		routing = (Size) max_nodes(hp) * (MLC_ROUTE_WIDTH + tree_outputs(alg, K));
	Size		edges = (Size) p * (MAX_EDGES + 1);

	return (int) (PARAM_FIRST + 32 + Max(routing, edges));
}

/* ---------- per-chunk work ---------- */

static void *
state_alloc(Size size)
{
	return MemoryContextAllocExtended(ml_chunk_state_cxt, Max(size, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}

static TreeChunk *
tree_state(const MLChunk *c, int pass_kind)
{
	if (!c->kept)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("tree training keeps its rows in memory between passes, and they need more than ml.work_mem"),
				 errhint("Raise ml.work_mem (SET ml.work_mem = '2GB'), or train on fewer rows or features.")));
	if (c->state == NULL && pass_kind != PASS_TREE_INIT)
		elog(ERROR, "tree pass %d before the chunk was binned", pass_kind);
	return (TreeChunk *) c->state;
}

/* PASS_TREE_INIT: bin the view's rows and keep what later passes need. */
static void
tree_init(MLChunk *c, const mlc_block *tr, const mlc_block *va, int holdout,
		  const double *prm, double *partial)
{
	int			F = tr->p;
	int			V = (int) prm[0];
	int			forest_classes = (int) prm[1];	/* forests: class targets, 0 = regression */
	const double *n_edges = prm + 2;
	const double *edges = prm + 2 + F;
	TreeChunk  *t = state_alloc(sizeof(TreeChunk));
	double	   *edge_buf = palloc(sizeof(double) * MAX_EDGES);
	int			s,
				j;
	int64		i;
	mlc_error	err;

	t->holdout = holdout;
	for (s = 0; s < 2; s++)
	{
		const mlc_block *b = s == 0 ? tr : va;

		t->n[s] = b->n;
		t->bins[s] = state_alloc((Size) F * b->n);
		t->y[s] = state_alloc(sizeof(double) * b->n);
		t->raw[s] = state_alloc(sizeof(double) * V * b->n);
		memcpy(t->y[s], b->y, sizeof(double) * b->n);
		for (j = 0; j < F; j++)
		{
			int			ne = (int) n_edges[j];

			memcpy(edge_buf, edges + (Size) j * MAX_EDGES, sizeof(double) * ne);
			for (i = 0; i < b->n; i++)
				t->bins[s][(Size) i * F + j] = mlc_bin_value(edge_buf, ne, b->X[(Size) j * b->n + i]);
		}
		CHECK_FOR_INTERRUPTS();
	}
	t->g = state_alloc(sizeof(double) * Max(V, 1) * tr->n);
	t->h = state_alloc(sizeof(double) * Max(V, 1) * tr->n);
	t->key = state_alloc(sizeof(uint64) * tr->n);
	t->weight = state_alloc(sizeof(uint32) * tr->n);
	t->order = state_alloc(sizeof(int32) * tr->n);
	t->tmp = state_alloc(sizeof(int32) * tr->n);
	t->qg = state_alloc(sizeof(int64) * Max(V, 1) * tr->n);
	t->qh = state_alloc(sizeof(int64) * tr->n);
	t->tree_key = -1;
	{
		double	   *x = palloc(sizeof(double) * Max(F, 1));

		for (i = 0; i < tr->n; i++)
		{
			for (j = 0; j < F; j++)
				x[j] = tr->X[(Size) j * tr->n + i];
			t->key[i] = mlc_siphash(x, sizeof(double) * F, MLC_CONTENT_K0, MLC_CONTENT_K1);
		}
	}
	/* forests: the targets are fixed; boosting computes them per round */
	if (prm[2 + F + (Size) F * MAX_EDGES] > 0)
		check_core(mlc_tree_forest_targets(forest_classes, tr->n, t->y[0], t->g, t->h, &err), &err);
	((MLChunk *) c)->state = t;

	partial[0] = tr->n;
	partial[1] = va->n;
	partial[2] = 0;
	partial[3] = 0;
	partial[4] = INFINITY;
	partial[5] = -INFINITY;
	for (i = 0; i < tr->n; i++)
	{
		partial[2] += tr->y[i];
		partial[3] = Max(partial[3], fabs(tr->y[i]));
		partial[4] = Min(partial[4], tr->y[i]);
		partial[5] = Max(partial[5], tr->y[i]);
	}
}

/* Loss of the raw scores for the history: squared error or log loss. */
static double
loss_sum(int objective, int V, int64 n, const double *y, const double *raw, const double *base)
{
	double		sum = 0;
	int64		i;
	int			k;

	for (i = 0; i < n; i++)
	{
		if (objective == MLC_OBJ_SQUARED)
		{
			double		d = y[i] - (base[0] + raw[i]);

			sum += d * d;
		}
		else if (objective == MLC_OBJ_LOGISTIC)
		{
			double		eta = base[0] + raw[i];

			sum += (eta > 0 ? eta + log1p(exp(-eta)) : log1p(exp(eta))) - y[i] * eta;
		}
		else
		{
			double		mx = -INFINITY,
						z = 0;
			int			cls = (int) y[i];

			for (k = 0; k < V; k++)
				mx = Max(mx, base[k] + raw[(Size) k * n + i]);
			for (k = 0; k < V; k++)
				z += exp(base[k] + raw[(Size) k * n + i] - mx);
			sum += log(z) + mx - (base[cls] + raw[(Size) cls * n + i]);
		}
	}
	return sum;
}

/* PASS_TREE_GRAD: gradients of every output at base + raw; bounds; losses. */
static void
tree_grad(TreeChunk *t, const double *prm, double *partial)
{
	int			objective = (int) prm[0];
	int			V = (int) prm[1];
	const double *base = prm + 2;
	int64		n = t->n[0],
				i;
	double	   *full = palloc(sizeof(double) * Max(V, 1) * Max(n, 1));
	int			k,
				s;
	mlc_error	err;

	memset(partial, 0, sizeof(double) * (2 * V + 4));
	for (k = 0; k < V; k++)
		for (i = 0; i < n; i++)
			full[(Size) k * n + i] = base[k] + t->raw[0][(Size) k * n + i];
	if (n > 0)
		check_core(mlc_tree_gradients(objective, V == 1 ? 2 : V, n, t->y[0], full, t->g, t->h, &err), &err);
	for (k = 0; k < V; k++)
		for (i = 0; i < n; i++)
		{
			partial[k] = Max(partial[k], fabs(t->g[(Size) k * n + i]));
			partial[V + k] = Max(partial[V + k], t->h[(Size) k * n + i]);
		}
	for (s = 0; s < 2; s++)
	{
		partial[2 * V + s] = loss_sum(objective, V, t->n[s], t->y[s], t->raw[s], base);
		partial[2 * V + 2 + s] = t->n[s];
	}
}

/* A row's weight in tree t: 1, a subsample draw, or a bootstrap count. */
static void
row_weights(TreeChunk *t, int mode, double rate, uint64 seed, int tree)
{
	int64		i;

	for (i = 0; i < t->n[0]; i++)
	{
		if (mode == 1)
		{
			uint64		key[2] = {t->key[i], (uint64) tree};
			uint64		h = mlc_siphash(key, sizeof(key), seed, MLC_CONTENT_K2);

			t->weight[i] = (double) (h >> 11) * (1.0 / 9007199254740992.0) < rate;
		}
		else
			t->weight[i] = mlc_tree_bootstrap_weight(seed, tree, t->key[i]);
	}
}

/* Room for n groups. */
static void
reserve_groups(TreeChunk *t, int n)
{
	if (n > t->grp_cap)
	{
		int			cap = Max(n, Max(64, 2 * t->grp_cap));

		t->grp_node = t->grp_node ? repalloc(t->grp_node, sizeof(int32) * cap) : state_alloc(sizeof(int32) * cap);
		t->grp_lo = t->grp_lo ? repalloc(t->grp_lo, sizeof(int32) * cap) : state_alloc(sizeof(int32) * cap);
		t->grp_hi = t->grp_hi ? repalloc(t->grp_hi, sizeof(int32) * cap) : state_alloc(sizeof(int32) * cap);
		t->grp_cap = cap;
	}
}

/*
 * One level down: the group of each node split last becomes its children's
 * (empty ones dropped), the rows partitioned between them.  Groups are
 * rewritten in place from the back, where a group's new position is never
 * before its old one.
 */
static void
split_groups(TreeChunk *t, int F, const double *table)
{
	int			g,
				n_new = 0,
				w;

	for (g = 0; g < t->n_grp; g++)
		n_new += table[(Size) t->grp_node[g] * MLC_ROUTE_WIDTH] >= 0 ? 2 : 1;
	reserve_groups(t, n_new);
	w = n_new;
	for (g = t->n_grp - 1; g >= 0; g--)
	{
		int32		node = t->grp_node[g],
					glo = t->grp_lo[g],
					ghi = t->grp_hi[g];
		const double *r = table + (Size) node * MLC_ROUTE_WIDTH;
		int32		split[3] = {(int32) r[0], (int32) r[1], (int32) r[2]},
					nl;

		if (split[0] < 0)
		{
			w--;
			t->grp_node[w] = node;
			t->grp_lo[w] = glo;
			t->grp_hi[w] = ghi;
			continue;
		}
		nl = (int32) mlc_tree_partition(split, F, t->bins[0], t->order + glo, ghi - glo, t->tmp);
		if (glo + nl < ghi)
		{
			w--;
			t->grp_node[w] = (int32) r[4];
			t->grp_lo[w] = glo + nl;
			t->grp_hi[w] = ghi;
		}
		if (nl > 0)
		{
			w--;
			t->grp_node[w] = (int32) r[3];
			t->grp_lo[w] = glo;
			t->grp_hi[w] = glo + nl;
		}
	}
	/* empty children dropped: close the gap at the front */
	if (w > 0)
	{
		memmove(t->grp_node, t->grp_node + w, sizeof(int32) * (n_new - w));
		memmove(t->grp_lo, t->grp_lo + w, sizeof(int32) * (n_new - w));
		memmove(t->grp_hi, t->grp_hi + w, sizeof(int32) * (n_new - w));
	}
	t->n_grp = n_new - w;
}

/* Table entries of the routing table in the pass parameters, as int32. */
static int32 *
routing_table(const double *table_d, int n_nodes)
{
	int32	   *table = palloc(sizeof(int32) * n_nodes * MLC_ROUTE_WIDTH);
	int			i;

	for (i = 0; i < n_nodes * MLC_ROUTE_WIDTH; i++)
		table[i] = (int32) table_d[i];
	return table;
}

/* PASS_TREE_HIST: histograms of the level's slots [lo, lo + count). */
static void
tree_hist(TreeChunk *t, int F, const double *prm, double *partial)
{
	int			tree = (int) prm[0];
	int			column = (int) prm[1];
	int			G = (int) prm[2];
	double		g_scale = prm[3],
				h_scale = prm[4];
	int			lo = (int) prm[5],
				count = (int) prm[6];
	int			mode = (int) prm[7];
	double		rate = prm[8];
	uint64		seed = (uint64) prm[9];
	int			n_nodes = (int) prm[10];
	int			tree_key = (int) prm[11];
	int			level = (int) prm[12];
	const double *table = prm + 13;	/* read where needed: it can be long */
	size_t		hlen = mlc_tree_hist_len(F, G);
	int64		n = t->n[0],
				i;
	int			g;
	mlc_error	err;

	if (t->tree_key != tree_key)
	{
		/* a new tree: its rows at the root, weights and fixed point once */
		t->tree_key = tree_key;
		t->level = level;
		if (mode > 0)
			row_weights(t, mode, rate, seed, tree);
		check_core(mlc_tree_quantize(G * n, t->g + (Size) column * n, g_scale, 0, t->qg, &err), &err);
		check_core(mlc_tree_quantize(n, t->h + (Size) column * n, h_scale, 1, t->qh, &err), &err);
		t->m = 0;
		for (i = 0; i < n; i++)
			if (mode == 0 || t->weight[i] > 0)
				t->order[t->m++] = (int32) i;
		reserve_groups(t, 1);
		t->n_grp = t->m > 0 ? 1 : 0;
		t->grp_node[0] = 0;
		t->grp_lo[0] = 0;
		t->grp_hi[0] = t->m;
	}
	else if (t->level != level)
	{
		split_groups(t, F, table);
		t->level = level;
	}
	/*
	 * The builder numbers a level's slots in node order, and the groups are
	 * in node order, so the batches [lo, lo + count) of a level, asked for
	 * in ascending order, take consecutive runs of groups: each batch starts
	 * where the last stopped, and a level reads each group once however
	 * many batches it takes.
	 */
	if (lo == 0)
		t->grp_next = 0;
	/* accumulating pass: the leader zeroed this participant's slots */
	for (g = t->grp_next; g < t->n_grp; g++)
	{
		int32		s;

		if (t->grp_node[g] >= n_nodes)
			elog(ERROR, "tree row group of node %d beyond the %d nodes of the tree", t->grp_node[g], n_nodes);
		s = (int32) table[(size_t) t->grp_node[g] * MLC_ROUTE_WIDTH + 5];
		if (s >= lo + count)
			break;
		if (s >= lo)
			check_core(mlc_tree_hist_add_index(F, G, n, t->bins[0], t->qg, t->qh,
											   mode > 0 ? t->weight : NULL,
											   t->order + t->grp_lo[g], t->grp_hi[g] - t->grp_lo[g],
											   (int64_t *) partial + (size_t) (s - lo) * hlen, &err), &err);
	}
	t->grp_next = g;
}

/* Leaf of row i (row-major bins) from node down. */
static int32
leaf_of(const int32 *table, const uint8 *bins, int F, int64 i, int32 node)
{
	const uint8 *row = bins + (Size) i * F;

	while (table[(Size) node * MLC_ROUTE_WIDTH] >= 0)
	{
		const int32 *r = table + (Size) node * MLC_ROUTE_WIDTH;
		uint8		v = row[r[0]];

		/* no branch on the direction: the missing bin (255) is above every split bin */
		node = ((v <= r[1]) | ((v == MLC_BIN_MISSING) & (r[2] != 0))) ? r[3] : r[4];
	}
	return node;
}

/* Add a leaf's values times scale to row i of row set s: one output or all V. */
static inline void
add_leaf(TreeChunk *t, int s, int64 i, const double *leaf, int column, int V, double scale)
{
	int64		n = t->n[s];
	int			k;

	if (column >= 0)
		t->raw[s][(Size) column * n + i] += leaf[0] * scale;
	else
		for (k = 0; k < V; k++)
			t->raw[s][(Size) k * n + i] += leaf[k] * scale;
}

/*
 * PASS_TREE_UPDATE: add a finished tree's leaf values times its scale to
 * the raw scores of both row sets: to one output (boosting) or to all V
 * (forests, whose leaves hold V values).
 */
static void
tree_update(TreeChunk *t, int F, const double *prm)
{
	int			V = (int) prm[4];
	int			tree_key = (int) prm[5];
	int			column = (int) prm[0];
	int			W = (int) prm[1];
	double		scale = prm[2];
	int			n_nodes = (int) prm[3];
	int32	   *table = routing_table(prm + 6, n_nodes);
	const double *value = prm + 6 + (Size) n_nodes * MLC_ROUTE_WIDTH;
	int64		i;
	int			s;

	for (s = 0; s < 2; s++)
	{
		if (s == 0 && t->tree_key == tree_key)
		{
			int			g;

			/* train rows: from the node of their group */
			for (g = 0; g < t->n_grp; g++)
			{
				int32		k;

				for (k = t->grp_lo[g]; k < t->grp_hi[g]; k++)
					add_leaf(t, 0, t->order[k], value + (Size) leaf_of(table, t->bins[0], F, t->order[k], t->grp_node[g]) * W, column, V, scale);
			}
			/* and the rows the tree did not sample, from the root */
			if (t->m < t->n[0])
				for (i = 0; i < t->n[0]; i++)
					if (t->weight[i] == 0)
						add_leaf(t, 0, i, value + (Size) leaf_of(table, t->bins[0], F, i, 0) * W, column, V, scale);
			continue;
		}
		for (i = 0; i < t->n[s]; i++)
			add_leaf(t, s, i, value + (Size) leaf_of(table, t->bins[s], F, i, 0) * W, column, V, scale);
	}
}

/*
 * PASS_TREE_EVAL: metrics of both row sets from the raw scores the chunks
 * hold, as PASS_EVAL lays them out (the trees are not scored again).
 */
static void
tree_eval(TreeChunk *t, const double *prm, double *partial)
{
	int			objective = (int) prm[0];
	int			V = (int) prm[1];
	int			K = (int) prm[2];
	const double *base = prm + 3;
	int			E = K > 0 ? 2 + K * K : (int) (sizeof(mlc_reg_metrics) / sizeof(double));
	double	   *proba = palloc(sizeof(double) * Max(K, 1));
	int			s,
				k;
	int64		i;

	memset(partial, 0, sizeof(double) * 2 * E);
	for (s = 0; s < 2; s++)
	{
		int64		n = t->n[s];
		double	   *out = partial + s * E;

		for (i = 0; i < n; i++)
		{
			if (K == 0)
			{
				mlc_reg_metrics_add((mlc_reg_metrics *) out, t->y[s][i], base[0] + t->raw[s][i]);
				continue;
			}
			if (objective == MLC_OBJ_LOGISTIC)
			{
				double		p = 1 / (1 + exp(-(base[0] + t->raw[s][i])));

				proba[0] = 1 - p;
				proba[1] = p;
			}
			else
			{
				double		mx = -INFINITY,
							z = 0;

				for (k = 0; k < V; k++)
					proba[k] = base[k] + t->raw[s][(Size) k * n + i];
				if (objective == MLC_OBJ_SOFTMAX)
				{
					for (k = 0; k < V; k++)
						mx = Max(mx, proba[k]);
					for (k = 0; k < V; k++)
					{
						proba[k] = exp(proba[k] - mx);
						z += proba[k];
					}
					for (k = 0; k < V; k++)
						proba[k] /= z;
				}
			}
			{
				int			cls = (int) t->y[s][i],
							pred = 0;

				for (k = 1; k < K; k++)
					if (proba[k] > proba[pred])
						pred = k;
				out[0] += 1;
				out[1] += mlc_log_loss_term(K, proba, cls);
				out[2 + cls * K + pred] += 1;
			}
		}
	}
}

void
ml_tree_partial(int pass_kind, const MLChunk *c, const mlc_block *tr, const mlc_block *va,
				int holdout, const double *prm, double *partial)
{
	TreeChunk  *t = tree_state(c, pass_kind);

	if (pass_kind == PASS_TREE_INIT)
	{
		tree_init((MLChunk *) c, tr, va, holdout, prm, partial);
		return;
	}
	if (t->holdout != holdout)
		elog(ERROR, "tree pass for fold %d on rows binned for fold %d", holdout, t->holdout);
	switch (pass_kind)
	{
		case PASS_TREE_GRAD:
			tree_grad(t, prm, partial);
			break;
		case PASS_TREE_HIST:
			tree_hist(t, tr->p, prm, partial);
			break;
		case PASS_TREE_UPDATE:
			tree_update(t, tr->p, prm);
			partial[0] = 0;
			break;
		case PASS_TREE_EVAL:
			tree_eval(t, prm, partial);
			break;
		default:
			elog(ERROR, "unknown tree pass %d", pass_kind);
	}
}

/* ---------- leader ---------- */

/* Growable double buffer for the model's node arrays. */
typedef struct DBuf
{
	double	   *v;
	int			n;
	int			cap;
} DBuf;

static void
dbuf_add(DBuf *b, const double *v, int n)
{
	if (b->n + n > b->cap)
	{
		b->cap = Max(b->cap * 2, b->n + n + 64);
		b->v = b->v ? repalloc_huge(b->v, sizeof(double) * b->cap) : palloc_extended(sizeof(double) * b->cap, MCXT_ALLOC_HUGE);
	}
	memcpy(b->v + b->n, v, sizeof(double) * n);
	b->n += n;
}

typedef struct TreeModel
{
	DBuf		nodes,
				output,
				scale;
	DBuf		feature,
				threshold,
				left,
				right,
				default_left,
				value,
				cover,
				gain;
	int			n_trees;
} TreeModel;

/* Quantile bin edges of every feature from a seeded sample of training rows. */
static void
bin_edges(MLFit *fit, double *edges, int *n_edges)
{
	int			F = fit->plan->p;
	int			nchunks = ml_engine_nchunks(fit->engine);
	double	   *params = ml_engine_params(fit->engine) + PARAM_FIRST;
	double	   *partials;
	int64		ns = 0,
				i;
	int			c,
				j;
	double	   *col;
	mlc_error	err;

	params[0] = fit->train_rows_hint > 0 ? Min(1.0, (double) ML_TREE_SAMPLE_ROWS / fit->train_rows_hint) : 1.0;
	params[1] = fit->hp.seed;
	partials = ml_fit_pass(fit, PASS_SAMPLE);
	for (c = 0; c < nchunks; c++)
		ns += (int64) ml_fit_partial(fit, partials, c)[0];
	col = palloc_extended(sizeof(double) * Max(ns, 1), MCXT_ALLOC_HUGE);
	for (j = 0; j < F; j++)
	{
		int64		q = 0;

		for (c = 0; c < nchunks; c++)
		{
			double	   *pp = ml_fit_partial(fit, partials, c);

			for (i = 0; i < (int64) pp[0]; i++)
				col[q++] = pp[1 + i * (F + 1) + 1 + j];
		}
		/* quantiles do not depend on the order of the values */
		check_core(mlc_bin_edges(ns, col, (int) fit->hp.max_bins, edges + (Size) j * MAX_EDGES,
								 &n_edges[j], &err), &err);
		CHECK_FOR_INTERRUPTS();
	}
}


/* Trees grown by this backend: keys chunks use to know a new tree began. */
static int	tree_counter = 0;

/*
 * A level's combined histograms, kept from level to level and tree to tree:
 * a fresh allocation of megabytes per level costs page faults on the
 * leader while the workers wait.
 */
typedef struct LevelHist
{
	int64	   *buf;
	Size		cap;			/* int64s */
} LevelHist;

/* Grow one tree level by level; returns the finished builder. */
static mlc_tree_builder *
grow_tree(MLFit *fit, LevelHist *lh, const mlc_tree_params *tp, double **edge_ptrs,
		  const int *n_edges, int tree, int column, int G, int weight_mode, double rate)
{
	int			F = fit->plan->p;
	double	   *params = ml_engine_params(fit->engine) + PARAM_FIRST;
	size_t		hlen = mlc_tree_hist_len(F, G);
	mlc_tree_builder *b;
	int			nslots;
	int64	   *hist;
	int32	   *table = NULL;
	int			tree_key,
				level;
	mlc_error	err;

	check_core(mlc_tree_builder_create(tp, F, (const double *const *) edge_ptrs, n_edges, &b, &err), &err);
	tree_key = ++tree_counter;
	for (level = 0; (nslots = mlc_tree_builder_begin_level(b)) > 0; level++)
	{
		int			n_nodes = mlc_tree_builder_n_nodes(b);
		int			lo,
					i,
					c,
					nslots_done;

		if (nslots < 0)
			elog(ERROR, "tree builder failed");
		table = table ? repalloc(table, sizeof(int32) * n_nodes * MLC_ROUTE_WIDTH)
			: palloc(sizeof(int32) * n_nodes * MLC_ROUTE_WIDTH);
		mlc_tree_builder_routing(b, table);
		if (lh->cap < hlen * nslots)
		{
			if (lh->buf)
				pfree(lh->buf);
			lh->cap = hlen * nslots;
			lh->buf = palloc_extended(sizeof(int64) * lh->cap, MCXT_ALLOC_HUGE);
		}
		hist = lh->buf;
		memset(hist, 0, sizeof(int64) * hlen * nslots);
		for (lo = 0; lo < nslots; lo += ML_TREE_SLOTS)
		{
			int			count = Min(ML_TREE_SLOTS, nslots - lo);
			double	   *partials;

			params[0] = tree;
			params[1] = column;
			params[2] = G;
			params[3] = tp->g_scale;
			params[4] = tp->h_scale;
			params[5] = lo;
			params[6] = count;
			params[7] = weight_mode;
			params[8] = rate;
			params[9] = fit->hp.seed;
			params[10] = n_nodes;
			params[11] = tree_key;
			params[12] = level;
			/* the table is the level's: the later batches find it in place */
			if (lo == 0)
				for (i = 0; i < n_nodes * MLC_ROUTE_WIDTH; i++)
					params[13 + i] = table[i];
			ml_engine_params(fit->engine)[PARAM_HOLDOUT] = fit->holdout;
			/* int64 histograms in double-sized slots: count * hlen of them */
			partials = ml_engine_run_pass_accumulate(fit->engine, PASS_TREE_HIST, hlen * count, &nslots_done);
			for (c = 0; c < nslots_done; c++)
				mlc_tree_hist_combine(hlen * count, hist + hlen * lo, (const int64_t *) ml_fit_partial(fit, partials, c));
		}
		check_core(mlc_tree_builder_apply_level(b, hist, &err), &err);
		CHECK_FOR_INTERRUPTS();
	}
	if (nslots < 0)
		elog(ERROR, "tree builder failed");
	return b;
}

/* Append a finished tree to the model. */
static void
append_tree(TreeModel *tm, mlc_tree_builder *b, int W, double output, double scale,
			double *imp_gain, double *imp_cover, double *imp_count, int F)
{
	int			N = mlc_tree_builder_n_nodes(b);
	double	   *f = palloc(sizeof(double) * N),
			   *th = palloc(sizeof(double) * N),
			   *l = palloc(sizeof(double) * N),
			   *r = palloc(sizeof(double) * N),
			   *dl = palloc(sizeof(double) * N),
			   *v = palloc(sizeof(double) * N * W),
			   *cv = palloc(sizeof(double) * N),
			   *gn = palloc(sizeof(double) * N),
			   *ig = palloc0(sizeof(double) * F),
			   *ic = palloc0(sizeof(double) * F),
			   *in = palloc0(sizeof(double) * F);
	double		nn = N;
	mlc_error	err;
	int			j;

	check_core(mlc_tree_builder_export(b, f, th, l, r, dl, v, cv, gn, &err), &err);
	dbuf_add(&tm->nodes, &nn, 1);
	dbuf_add(&tm->output, &output, 1);
	dbuf_add(&tm->scale, &scale, 1);
	dbuf_add(&tm->feature, f, N);
	dbuf_add(&tm->threshold, th, N);
	dbuf_add(&tm->left, l, N);
	dbuf_add(&tm->right, r, N);
	dbuf_add(&tm->default_left, dl, N);
	dbuf_add(&tm->value, v, N * W);
	dbuf_add(&tm->cover, cv, N);
	dbuf_add(&tm->gain, gn, N);
	tm->n_trees++;
	mlc_tree_builder_importance(b, ig, ic, in);
	for (j = 0; j < F; j++)
	{
		imp_gain[j] += ig[j];
		imp_cover[j] += ic[j];
		imp_count[j] += in[j];
	}
}

/*
 * Publish a finished tree so every chunk adds its leaf values (times scale)
 * to raw[column], or to all V outputs when column is -1.
 */
static void
update_raw(MLFit *fit, mlc_tree_builder *b, int column, int W, int V, double scale)
{
	double	   *params = ml_engine_params(fit->engine) + PARAM_FIRST;
	int			N = mlc_tree_builder_n_nodes(b);
	int32	   *table = palloc(sizeof(int32) * N * MLC_ROUTE_WIDTH);
	double	   *f = palloc(sizeof(double) * N),
			   *th = palloc(sizeof(double) * N),
			   *l = palloc(sizeof(double) * N),
			   *r = palloc(sizeof(double) * N),
			   *dl = palloc(sizeof(double) * N),
			   *cv = palloc(sizeof(double) * N),
			   *gn = palloc(sizeof(double) * N);
	double	   *values = params + 6 + (Size) N * MLC_ROUTE_WIDTH;
	mlc_error	err;
	int			i;

	mlc_tree_builder_routing(b, table);
	params[0] = column;
	params[1] = W;
	params[2] = scale;
	params[3] = N;
	params[4] = V;
	params[5] = tree_counter;	/* the tree just grown: chunks' nodes belong to it */
	for (i = 0; i < N * MLC_ROUTE_WIDTH; i++)
		params[6 + i] = table[i];
	check_core(mlc_tree_builder_export(b, f, th, l, r, dl, values, cv, gn, &err), &err);
	ml_fit_pass(fit, PASS_TREE_UPDATE);
}

/* Metrics of both row sets from the chunks' raw scores (layout of PASS_EVAL). */
double *
ml_tree_evaluate(MLFit *fit)
{
	const MLPlan *plan = fit->plan;
	mlc_algorithm alg = fit->alg;
	int			K = plan->n_classes;
	int			V = tree_outputs(alg, K);
	double	   *params = ml_engine_params(fit->engine) + PARAM_FIRST;
	const mlc_array *info = NULL,
			   *base = NULL;
	int			i;

	for (i = 0; i < fit->n_arrays; i++)
	{
		if (strcmp(fit->arrays[i].name, "tree_info") == 0)
			info = &fit->arrays[i];
		if (strcmp(fit->arrays[i].name, "base_score") == 0)
			base = &fit->arrays[i];
	}
	if (info == NULL || base == NULL)
		elog(ERROR, "tree model without tree_info or base_score");
	params[0] = info->data[0];
	params[1] = V;
	params[2] = K;
	memcpy(params + 3, base->data, sizeof(double) * V);
	return ml_fit_pass(fit, PASS_TREE_EVAL);
}

void
ml_fit_trees(MLFit *fit)
{
	const MLPlan *plan = fit->plan;
	mlc_algorithm alg = fit->alg;
	bool		boosting = alg == MLC_ALG_GRADIENT_BOOSTING;
	int			F = plan->p,
				K = plan->n_classes;
	int			V = tree_outputs(alg, K),
				G = tree_grad_columns(alg, K);
	int			objective = !boosting ? MLC_OBJ_AVERAGE
		: K == 0 ? MLC_OBJ_SQUARED : K == 2 ? MLC_OBJ_LOGISTIC : MLC_OBJ_SOFTMAX;
	int			nchunks = ml_engine_nchunks(fit->engine);
	double	   *params = ml_engine_params(fit->engine) + PARAM_FIRST;
	double	   *edges = palloc0(sizeof(double) * F * MAX_EDGES);
	double	  **edge_ptrs = palloc(sizeof(double *) * F);
	int		   *n_edges = palloc0(sizeof(int) * F);
	double	   *base = palloc0(sizeof(double) * V);
	double	   *imp_gain = palloc0(sizeof(double) * F),
			   *imp_cover = palloc0(sizeof(double) * F),
			   *imp_count = palloc0(sizeof(double) * F);
	double	   *partials;
	TreeModel	tm;
	LevelHist	lh = {NULL, 0};
	mlc_tree_params tp;
	double		sum_y = 0,
				max_y = 0,
				min_y = INFINITY,
				top_y = -INFINITY;
	int			c,
				j,
				k,
				constant = 0;
	int			n_trees = alg == MLC_ALG_DECISION_TREE ? 1 : (int) fit->hp.n_trees;
	TimestampTz t0 = GetCurrentTimestamp();
	int			best_round = 0;
	double		best_loss = INFINITY;
	StringInfo	buf = &fit->summary;

	memset(&tm, 0, sizeof(tm));
	if (plan->use_aggregates)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot train through SQL aggregates", mlc_algorithm_name(alg)),
				 errdetail("Trees keep per-row state (bins, scores, gradients) between passes, which only the parallel engine holds."),
				 errhint("Train on a local table (take a snapshot of the remote source into one) with \"engine\": \"parallel\".")));
	if (boosting && K > 2 && (Size) K * fit->hp.n_trees > 100000)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("%d classes x %d rounds is more than 100000 trees", K, (int) fit->hp.n_trees)));

	/* 1. bin edges from a sample; 2. bin every chunk */
	bin_edges(fit, edges, n_edges);
	for (j = 0; j < F; j++)
	{
		edge_ptrs[j] = edges + (Size) j * MAX_EDGES;
		constant += n_edges[j] == 0;
	}
	params[0] = V;
	params[1] = boosting ? 0 : K;
	for (j = 0; j < F; j++)
		params[2 + j] = n_edges[j];
	memcpy(params + 2 + F, edges, sizeof(double) * F * MAX_EDGES);
	params[2 + F + (Size) F * MAX_EDGES] = boosting ? 0 : 1;
	partials = ml_fit_pass(fit, PASS_TREE_INIT);
	fit->n_train = fit->n_valid = 0;
	for (c = 0; c < nchunks; c++)
	{
		double	   *pp = ml_fit_partial(fit, partials, c);

		fit->n_train += (int64) pp[0];
		fit->n_valid += (int64) pp[1];
		sum_y += pp[2];
		max_y = Max(max_y, pp[3]);
		min_y = Min(min_y, pp[4]);
		top_y = Max(top_y, pp[5]);
	}
	if (fit->n_train == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("no usable training rows"),
				 errhint("Filter NULL targets in the snapshot query.")));
	if (K == 0 && min_y == top_y)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the target is constant in the training rows: every value is %g", min_y),
				 errhint("There is nothing to learn; check the target column and the snapshot query.")));
	if (boosting)
		base[0] = mlc_tree_base_score(objective, sum_y / fit->n_train);
	for (k = 1; k < V; k++)
		base[k] = boosting ? mlc_tree_base_score(objective, 0) : 0;

	mlc_tree_params_defaults(&tp);
	tp.max_depth = (int) fit->hp.max_depth;
	tp.n_outputs = G;
	tp.colsample = boosting || alg == MLC_ALG_RANDOM_FOREST ? fit->hp.colsample : 1;
	if (boosting)
	{
		tp.lambda = fit->hp.lambda;
		tp.gamma = fit->hp.gamma;
		tp.min_child_weight = fit->hp.min_child_weight;
		tp.learning_rate = fit->hp.learning_rate;
		tp.min_samples_leaf = 0;
	}
	else
	{
		/* forests: h is the row weight, g = -y: leaves are means / class fractions */
		tp.lambda = 0;
		tp.gamma = 0;
		tp.min_child_weight = 0;
		tp.learning_rate = 1;
		tp.min_samples_leaf = fit->hp.min_samples_leaf;
		tp.g_scale = mlc_tree_fixed_scale(K > 0 ? 1.0 : max_y);
		tp.h_scale = mlc_tree_fixed_scale(1.0);
	}

	if (boosting)
	{
		int			round;

		for (round = 0;; round++)
		{
			double		train = 0,
						valid = 0,
						nt = 0,
						nv = 0;
			double	   *gmax = palloc0(sizeof(double) * V),
					   *hmax = palloc0(sizeof(double) * V);

			/* gradients of every output at the current scores, and the losses */
			params[0] = objective;
			params[1] = V;
			memcpy(params + 2, base, sizeof(double) * V);
			partials = ml_fit_pass(fit, PASS_TREE_GRAD);
			for (c = 0; c < nchunks; c++)
			{
				double	   *pp = ml_fit_partial(fit, partials, c);

				for (k = 0; k < V; k++)
				{
					gmax[k] = Max(gmax[k], pp[k]);
					hmax[k] = Max(hmax[k], pp[V + k]);
				}
				train += pp[2 * V];
				valid += pp[2 * V + 1];
				nt += pp[2 * V + 2];
				nv += pp[2 * V + 3];
			}
			train /= nt;
			valid = nv > 0 ? valid / nv : NAN;
			if (objective == MLC_OBJ_SQUARED)
			{
				train = sqrt(train);
				valid = sqrt(valid);
			}
			ml_fit_history(fit, round, train, valid, NAN, t0);
			fit->objective = train;
			if (nv > 0 && valid < best_loss)
			{
				best_loss = valid;
				best_round = round;
			}
			if (round == n_trees)
				break;
			if (fit->hp.early_stopping_rounds > 0 && nv > 0 &&
				round - best_round >= (int) fit->hp.early_stopping_rounds)
				break;
			for (k = 0; k < V; k++)
			{
				mlc_tree_builder *b;

				tp.g_scale = mlc_tree_fixed_scale(gmax[k]);
				tp.h_scale = mlc_tree_fixed_scale(hmax[k]);
				tp.seed = (uint64) fit->hp.seed * 1000003 + (uint64) round * V + k;
				b = grow_tree(fit, &lh, &tp, edge_ptrs, n_edges, round, k, 1,
							  fit->hp.subsample < 1 ? 1 : 0, fit->hp.subsample);
				append_tree(&tm, b, 1, k, 1.0, imp_gain, imp_cover, imp_count, F);
				update_raw(fit, b, k, 1, V, 1.0);
				mlc_tree_builder_free(b);
			}
		}
		/* early stopping keeps the rounds up to the best validation loss */
		if (fit->hp.early_stopping_rounds > 0 && fit->n_valid > 0 && best_round * V < tm.n_trees)
		{
			int			keep = best_round * V,
						nodes = 0,
						t;

			for (t = 0; t < keep; t++)
				nodes += (int) tm.nodes.v[t];
			tm.n_trees = keep;
			tm.nodes.n = tm.output.n = tm.scale.n = keep;
			tm.feature.n = tm.threshold.n = tm.left.n = tm.right.n = tm.default_left.n =
				tm.cover.n = tm.gain.n = tm.value.n = nodes;
		}
		fit->iterations = tm.n_trees / V;
		fit->converged = true;
	}
	else
	{
		int			t;

		for (t = 0; t < n_trees; t++)
		{
			mlc_tree_builder *b;

			tp.seed = (uint64) fit->hp.seed * 1000003 + t;
			b = grow_tree(fit, &lh, &tp, edge_ptrs, n_edges, t, 0, G,
						  alg == MLC_ALG_RANDOM_FOREST ? 2 : 0, 1.0);
			append_tree(&tm, b, V, -1, 1.0 / n_trees, imp_gain, imp_cover, imp_count, F);
			update_raw(fit, b, -1, V, V, 1.0 / n_trees);
			mlc_tree_builder_free(b);
			if (t % 10 == 9 || t == n_trees - 1)
				ml_fit_history(fit, t + 1, NAN, NAN, NAN, t0);
		}
		fit->iterations = n_trees;
		fit->converged = true;
	}
	if (tm.n_trees == 0)
	{
		/* early stopping before the first tree: keep one leaf at the base score */
		mlc_tree_builder *b;

		tp.max_depth = 0;
		tp.g_scale = tp.h_scale = 1;
		b = grow_tree(fit, &lh, &tp, edge_ptrs, n_edges, 0, 0, 1, 0, 1.0);
		append_tree(&tm, b, 1, 0, 0.0, imp_gain, imp_cover, imp_count, F);
		mlc_tree_builder_free(b);
	}

	/* the model's arrays (tree.h) */
	{
		double	   *info = palloc(sizeof(double) * 3);
		int			W = boosting ? 1 : V;

		info[0] = objective;
		info[1] = V;
		info[2] = W;
		ml_fit_add_array(fit, "tree_info", 1, 3, info);
		ml_fit_add_array(fit, "base_score", 1, V, base);
		ml_fit_add_array(fit, "tree_nodes", 1, tm.n_trees, tm.nodes.v);
		ml_fit_add_array(fit, "tree_output", 1, tm.n_trees, tm.output.v);
		ml_fit_add_array(fit, "tree_scale", 1, tm.n_trees, tm.scale.v);
		ml_fit_add_array(fit, "node_feature", tm.feature.n, 1, tm.feature.v);
		ml_fit_add_array(fit, "node_threshold", tm.threshold.n, 1, tm.threshold.v);
		ml_fit_add_array(fit, "node_left", tm.left.n, 1, tm.left.v);
		ml_fit_add_array(fit, "node_right", tm.right.n, 1, tm.right.v);
		ml_fit_add_array(fit, "node_default_left", tm.default_left.n, 1, tm.default_left.v);
		ml_fit_add_array(fit, "node_value", tm.feature.n, W, tm.value.v);
		ml_fit_add_array(fit, "node_cover", tm.cover.n, 1, tm.cover.v);
		ml_fit_add_array(fit, "node_gain", tm.gain.n, 1, tm.gain.v);
	}

	/* summary: sizes and per-feature importance */
	ml_json_key_number(buf, "trees", tm.n_trees, false);
	ml_json_key_number(buf, "nodes", tm.feature.n, true);
	if (boosting)
	{
		ml_json_key_number(buf, "rounds", tm.n_trees / V, true);
		ml_json_key_number(buf, "best_round", best_round, true);
		ml_json_key_number(buf, "train_loss", fit->objective, true);
	}
	appendStringInfo(buf, ", \"objective\": \"%s\"",
					 objective == MLC_OBJ_SQUARED ? "squared_error" : objective == MLC_OBJ_LOGISTIC ? "logistic"
					 : objective == MLC_OBJ_SOFTMAX ? "softmax" : K > 0 ? "class_fractions" : "mean");
	appendStringInfoString(buf, ", \"base_score\": [");
	for (k = 0; k < V; k++)
	{
		if (k)
			appendStringInfoString(buf, ", ");
		ml_json_number(buf, base[k]);
	}
	appendStringInfoString(buf, "], \"importance\": [");
	for (j = 0; j < F; j++)
	{
		appendStringInfoString(buf, j ? ", {" : "{");
		escape_json(buf, "feature");
		appendStringInfoString(buf, ": ");
		escape_json(buf, fit->feature_names[j]);
		ml_json_key_number(buf, "gain", imp_gain[j], true);
		ml_json_key_number(buf, "cover", imp_cover[j], true);
		ml_json_key_number(buf, "splits", imp_count[j], true);
		appendStringInfo(buf, ", \"bins\": %d}", n_edges[j] + 1);
	}
	appendStringInfoChar(buf, ']');
	appendStringInfoString(buf, ", \"single_valued_features\": [");
	for (j = 0, k = 0; j < F; j++)
		if (n_edges[j] == 0)
		{
			if (k++)
				appendStringInfoString(buf, ", ");
			escape_json(buf, fit->feature_names[j]);
		}
	appendStringInfoChar(buf, ']');
	if (constant > 0)
		ereport(NOTICE,
				(errmsg("%d feature(s) with a single value in the training rows cannot split and were ignored", constant),
				 errdetail("See summary->'single_valued_features'.")));
}
