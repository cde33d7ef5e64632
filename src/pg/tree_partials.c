/*
 * tree_partials.c: the per-chunk work of gradient boosting, random forest
 * and decision tree (the leader's side is fit_tree.c; the numerics are the
 * core's, src/core/tree.c).
 *
 * Each chunk keeps a TreeChunk between passes: its rows binned (one byte
 * per cell), the targets, the raw scores of the trees built so far and the
 * current gradients.  A tree grows level by level; a level's histograms
 * are sums over chunks of fixed-point integers, so they are exact and any
 * split of the chunks among workers gives the same trees.  Passes:
 *   PASS_TREE_INIT    bin the rows, counts and target sums
 *   PASS_TREE_GRAD    gradients of every output, their bounds, losses
 *   PASS_TREE_HIST    histograms of up to ML_TREE_SLOTS nodes of a level
 *   PASS_TREE_UPDATE  add a finished tree's leaf values to the raw scores
 *   PASS_TREE_EVAL    metrics of the raw scores
 *   PASS_TREE_KEEP    keep the raw scores of the best round, or go back to them
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "passes.h"
#include "pg_mlops.h"

typedef struct TreeChunk
{
	int			holdout;
	int64		n[2];			/* train, valid */
	uint8	   *bins[2];		/* row-major: row i's F bins at i * F */
	double	   *y[2];
	double	   *raw[2];			/* V columns of n */
	double	   *best_raw[2];	/* early stopping: raw at the best round so far */
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

/* Outputs of the trees (V), the gradient columns of one tree (G) */
int
ml_tree_outputs(mlc_algorithm alg, int K)
{
	if (K == 0)
		return 1;
	if (alg == MLC_ALG_GRADIENT_BOOSTING)
		return K == 2 ? 1 : K;
	return K;					/* forests average class fractions */
}

int
ml_tree_grad_columns(mlc_algorithm alg, int K)
{
	return alg == MLC_ALG_GRADIENT_BOOSTING ? 1 : ml_tree_outputs(alg, K);
}

int
ml_tree_max_nodes(const mlc_hparams *hp)
{
	return (1 << ((int) hp->max_depth + 1)) - 1;
}

int
ml_tree_partial_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K)
{
	Size		hist = (Size) ML_TREE_SLOTS * mlc_tree_hist_len(p, ml_tree_grad_columns(alg, K));
	int			V = ml_tree_outputs(alg, K);

	return (int) Max(hist, (Size) 4 * V + 8);
}

int
ml_tree_param_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K)
{
	Size		routing = (Size) ml_tree_max_nodes(hp) * (MLC_ROUTE_WIDTH + ml_tree_outputs(alg, K));
	Size		edges = (Size) p * (ML_TREE_MAX_EDGES + 1);

	return (int) (PARAM_FIRST + 32 + Max(routing, edges));
}

/* ---------- per-chunk work ---------- */

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
	TreeChunk  *t = ml_chunk_state_alloc(sizeof(TreeChunk));
	double	   *edge_buf = palloc(sizeof(double) * ML_TREE_MAX_EDGES);
	int			s,
				j;
	int64		i;
	mlc_error	err;

	t->holdout = holdout;
	for (s = 0; s < 2; s++)
	{
		const mlc_block *b = s == 0 ? tr : va;

		t->n[s] = b->n;
		t->bins[s] = ml_chunk_state_alloc((Size) F * b->n);
		t->y[s] = ml_chunk_state_alloc(sizeof(double) * b->n);
		t->raw[s] = ml_chunk_state_alloc(sizeof(double) * V * b->n);
		memcpy(t->y[s], b->y, sizeof(double) * b->n);
		for (j = 0; j < F; j++)
		{
			int			ne = (int) n_edges[j];

			memcpy(edge_buf, edges + (Size) j * ML_TREE_MAX_EDGES, sizeof(double) * ne);
			for (i = 0; i < b->n; i++)
				t->bins[s][(Size) i * F + j] = mlc_bin_value(edge_buf, ne, b->X[(Size) j * b->n + i]);
		}
		CHECK_FOR_INTERRUPTS();
	}
	t->g = ml_chunk_state_alloc(sizeof(double) * Max(V, 1) * tr->n);
	t->h = ml_chunk_state_alloc(sizeof(double) * Max(V, 1) * tr->n);
	t->key = ml_chunk_state_alloc(sizeof(uint64) * tr->n);
	t->weight = ml_chunk_state_alloc(sizeof(uint32) * tr->n);
	t->order = ml_chunk_state_alloc(sizeof(int32) * tr->n);
	t->tmp = ml_chunk_state_alloc(sizeof(int32) * tr->n);
	t->qg = ml_chunk_state_alloc(sizeof(int64) * Max(V, 1) * tr->n);
	t->qh = ml_chunk_state_alloc(sizeof(int64) * tr->n);
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
	if (prm[2 + F + (Size) F * ML_TREE_MAX_EDGES] > 0)
		ml_check_core(mlc_tree_forest_targets(forest_classes, tr->n, t->y[0], t->g, t->h, &err), &err);
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
		ml_check_core(mlc_tree_gradients(objective, V == 1 ? 2 : V, n, t->y[0], full, t->g, t->h, &err), &err);
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

		t->grp_node = t->grp_node ? repalloc(t->grp_node, sizeof(int32) * cap) : ml_chunk_state_alloc(sizeof(int32) * cap);
		t->grp_lo = t->grp_lo ? repalloc(t->grp_lo, sizeof(int32) * cap) : ml_chunk_state_alloc(sizeof(int32) * cap);
		t->grp_hi = t->grp_hi ? repalloc(t->grp_hi, sizeof(int32) * cap) : ml_chunk_state_alloc(sizeof(int32) * cap);
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
		ml_check_core(mlc_tree_quantize(G * n, t->g + (Size) column * n, g_scale, 0, t->qg, &err), &err);
		ml_check_core(mlc_tree_quantize(n, t->h + (Size) column * n, h_scale, 1, t->qh, &err), &err);
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
			ml_check_core(mlc_tree_hist_add_index(F, G, n, t->bins[0], t->qg, t->qh,
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

/*
 * PASS_TREE_KEEP: early stopping keeps the raw scores of the best round so
 * far (mode 1) and, when rounds past it were grown, goes back to them
 * (mode 2), so the model is evaluated with the trees it keeps.  Copies, not
 * a subtraction of the dropped trees: the scores are exactly those of a
 * training that stopped at the best round.
 */
static void
tree_keep(TreeChunk *t, const double *prm)
{
	int			mode = (int) prm[0];
	int			V = (int) prm[1];
	int			s;

	for (s = 0; s < 2; s++)
	{
		Size		bytes = sizeof(double) * V * t->n[s];

		if (mode == 1)
		{
			if (t->best_raw[s] == NULL)
				t->best_raw[s] = ml_chunk_state_alloc(Max(bytes, 1));
			memcpy(t->best_raw[s], t->raw[s], bytes);
		}
		else
		{
			if (t->best_raw[s] == NULL)
				elog(ERROR, "tree scores restored before they were kept");
			memcpy(t->raw[s], t->best_raw[s], bytes);
		}
	}
}

void
ml_tree_partial(int pass_kind, const MLChunk *c, const double *params, double *partial)
{
	TreeChunk  *t = tree_state(c, pass_kind);
	int			holdout = (int) params[PARAM_HOLDOUT];
	const double *prm = params + PARAM_FIRST;

	if (pass_kind == PASS_TREE_INIT)
	{
		mlc_block	tr,
					va;

		/* later passes read the binned copy the state keeps */
		ml_chunk_views(c, holdout, &tr, &va);
		tree_init((MLChunk *) c, &tr, &va, holdout, prm, partial);
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
			tree_hist(t, c->p, prm, partial);
			break;
		case PASS_TREE_UPDATE:
			tree_update(t, c->p, prm);
			partial[0] = 0;
			break;
		case PASS_TREE_EVAL:
			tree_eval(t, prm, partial);
			break;
		case PASS_TREE_KEEP:
			tree_keep(t, prm);
			partial[0] = 0;
			break;
		default:
			elog(ERROR, "unknown tree pass %d", pass_kind);
	}
}

