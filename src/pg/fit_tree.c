/*
 * fit_tree.c: gradient boosting, random forest and decision tree, the
 * leader's side: bin edges from a sample, then trees grown level by level
 * from the histograms the chunks return (tree_partials.c).
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

/* Rows the bin edges are computed from (about; all rows when fewer). */
#define ML_TREE_SAMPLE_ROWS 50000

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
	double	   *recs;
	int64		ns = 0,
				i;
	int			j;
	double	   *col;
	mlc_error	err;

	recs = ml_fit_sample(fit, fit->train_rows_hint > 0
						 ? Min(1.0, (double) ML_TREE_SAMPLE_ROWS / fit->train_rows_hint) : 1.0,
						 fit->hp.seed, &ns);
	col = palloc_extended(sizeof(double) * Max(ns, 1), MCXT_ALLOC_HUGE);
	for (j = 0; j < F; j++)
	{
		for (i = 0; i < ns; i++)
			col[i] = recs[i * (F + 1) + 1 + j];
		/* quantiles do not depend on the order of the values */
		ml_check_core(mlc_bin_edges(ns, col, (int) fit->hp.max_bins, edges + (Size) j * ML_TREE_MAX_EDGES,
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

	ml_check_core(mlc_tree_builder_create(tp, F, (const double *const *) edge_ptrs, n_edges, &b, &err), &err);
	tree_key = ++tree_counter;
	for (level = 0; (nslots = mlc_tree_builder_begin_level(b)) > 0; level++)
	{
		int			n_nodes = mlc_tree_builder_n_nodes(b);
		int			lo,
					i;

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
		for (lo = 0; lo < nslots; lo += ML_TREE_SLOTS)
		{
			int			count = Min(ML_TREE_SLOTS, nslots - lo);

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
			/* int64 histograms in double-sized slots: count * hlen of them */
			memcpy(hist + hlen * lo, ml_fit_pass(fit, PASS_TREE_HIST), sizeof(int64) * hlen * count);
		}
		ml_check_core(mlc_tree_builder_apply_level(b, hist, &err), &err);
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

	ml_check_core(mlc_tree_builder_export(b, f, th, l, r, dl, v, cv, gn, &err), &err);
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
	ml_check_core(mlc_tree_builder_export(b, f, th, l, r, dl, values, cv, gn, &err), &err);
	ml_fit_pass(fit, PASS_TREE_UPDATE);
}

/* Early stopping: every chunk keeps (1) or goes back to (2) the raw scores of the best round. */
static void
keep_scores(MLFit *fit, int mode, int V)
{
	double	   *params = ml_engine_params(fit->engine) + PARAM_FIRST;

	params[0] = mode;
	params[1] = V;
	ml_fit_pass(fit, PASS_TREE_KEEP);
}

/* Metrics of both row sets from the chunks' raw scores (layout of PASS_EVAL). */
double *
ml_tree_evaluate(MLFit *fit)
{
	const MLPlan *plan = fit->plan;
	mlc_algorithm alg = fit->alg;
	int			K = plan->n_classes;
	int			V = ml_tree_outputs(alg, K);
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

static void
fit_trees(MLFit *fit)
{
	const MLPlan *plan = fit->plan;
	mlc_algorithm alg = fit->alg;
	bool		boosting = alg == MLC_ALG_GRADIENT_BOOSTING;
	int			F = plan->p,
				K = plan->n_classes;
	int			V = ml_tree_outputs(alg, K),
				G = ml_tree_grad_columns(alg, K);
	int			objective = !boosting ? MLC_OBJ_AVERAGE
		: K == 0 ? MLC_OBJ_SQUARED : K == 2 ? MLC_OBJ_LOGISTIC : MLC_OBJ_SOFTMAX;
	double	   *params = ml_engine_params(fit->engine) + PARAM_FIRST;
	double	   *edges = palloc0(sizeof(double) * F * ML_TREE_MAX_EDGES);
	double	  **edge_ptrs = palloc(sizeof(double *) * F);
	int		   *n_edges = palloc0(sizeof(int) * F);
	double	   *base = palloc0(sizeof(double) * V);
	double	   *imp_gain = palloc0(sizeof(double) * F),
			   *imp_cover = palloc0(sizeof(double) * F),
			   *imp_count = palloc0(sizeof(double) * F);
	TreeModel	tm;
	LevelHist	lh = {NULL, 0};
	mlc_tree_params tp;
	double		sum_y = 0,
				max_y = 0,
				min_y = INFINITY,
				top_y = -INFINITY;
	int			j,
				k,
				constant = 0;
	int			n_trees = alg == MLC_ALG_DECISION_TREE ? 1 : (int) fit->hp.n_trees;
	TimestampTz t0 = GetCurrentTimestamp();
	int			best_round = 0;
	double		best_loss = INFINITY,
				best_train = NAN;
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
		edge_ptrs[j] = edges + (Size) j * ML_TREE_MAX_EDGES;
		constant += n_edges[j] == 0;
	}
	params[0] = V;
	params[1] = boosting ? 0 : K;
	for (j = 0; j < F; j++)
		params[2 + j] = n_edges[j];
	memcpy(params + 2 + F, edges, sizeof(double) * F * ML_TREE_MAX_EDGES);
	params[2 + F + (Size) F * ML_TREE_MAX_EDGES] = boosting ? 0 : 1;
	{
		double	   *pp = ml_fit_pass(fit, PASS_TREE_INIT);

		fit->n_train = (int64) pp[0];
		fit->n_valid = (int64) pp[1];
		sum_y = pp[2];
		max_y = pp[3];
		min_y = pp[4];
		top_y = pp[5];
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
			{
				double	   *pp = ml_fit_pass(fit, PASS_TREE_GRAD);

				for (k = 0; k < V; k++)
				{
					gmax[k] = Max(gmax[k], pp[k]);
					hmax[k] = Max(hmax[k], pp[V + k]);
				}
				train = pp[2 * V];
				valid = pp[2 * V + 1];
				nt = pp[2 * V + 2];
				nv = pp[2 * V + 3];
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
				best_train = train;
				/* rounds past this one may be dropped: keep its scores to evaluate with */
				if (fit->hp.early_stopping_rounds > 0 && round < n_trees)
					keep_scores(fit, 1, V);
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
		/*
		 * Early stopping keeps the rounds up to the best validation loss, and
		 * the chunks go back to that round's scores, so the metrics stored
		 * with the model (PASS_TREE_EVAL) are those of the trees it keeps.
		 */
		if (fit->hp.early_stopping_rounds > 0 && fit->n_valid > 0 && best_round * V < tm.n_trees)
		{
			int			keep = best_round * V,
						nodes = 0,
						t;

			keep_scores(fit, 2, V);
			fit->objective = best_train;

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

static Size
tree_partial_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K)
{
	return Max((Size) ml_tree_partial_doubles(alg, hp, p, K), 1 + (Size) ML_SAMPLE_PER_CHUNK * (p + 1));
}

static Size
tree_param_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K)
{
	return (Size) ml_tree_param_doubles(alg, hp, p, K);
}

const MLAlgorithmFamily ml_tree_family = {"trees", fit_trees, tree_partial_doubles, tree_param_doubles};
