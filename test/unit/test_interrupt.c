/*
 * test_interrupt.c: every looping entry point of the core stops with
 * MLC_EINTR when the interrupt hook says so, wherever in its loop that
 * happens, and succeeds with the same inputs when the hook stays quiet.
 *
 * The hook counts its calls and answers "interrupted" from call trip + 1
 * on.  Each case runs once with a hook that never trips (counting the
 * looks: a loop that never looked would give 0 and fail), then trips it at
 * the first look, in the middle and at the last one.  Under `make sanitize`
 * the interrupted paths are checked for leaks too.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static int64_t hook_calls;
static int64_t hook_trip;		/* calls answered 0 before tripping; -1 never */

static int
counting_hook(void)
{
	hook_calls++;
	return hook_trip >= 0 && hook_calls > hook_trip;
}

/* A case: runs the entry point, frees what a success returned. */
typedef mlc_status (*case_fn) (void *ctx, mlc_error *err);

/* Shared data: n rows, p features, column-major. */
#define N 6000
#define P 6
#define K 4

typedef struct data
{
	double		X[N * P];
	double		y[N];			/* continuous */
	double		ybin[N];		/* 0/1 */
	double		ycls[N];		/* 0 .. K-1 */
	uint8_t		bins[N * P];	/* column-major bins */
	uint8_t		rbins[N * P];	/* row-major bins */
	double		edges[P][15];
	int			n_edges[P];
	mlc_block	b;
	double		stats[1 + 2 * (P + 1) + (P + 1) * (P + 1)];
	double		stats_corr[1 + 2 * (P + 1) + (P + 1) * (P + 1)];	/* nearly collinear X */
} data;

static data *D;

static void
make_data(void)
{
	uint64_t	s = 42;
	int			i,
				j;
	mlc_error	err;

	D = calloc(1, sizeof(data));
	assert_non_null(D);
	for (i = 0; i < N; i++)
	{
		double		eta = 0.0;

		for (j = 0; j < P; j++)
		{
			D->X[j * N + i] = unit_rand_normal(&s);
			eta += (j + 1) * 0.3 * D->X[j * N + i];
		}
		D->y[i] = eta + unit_rand_normal(&s);
		D->ybin[i] = eta + unit_rand_normal(&s) > 0 ? 1 : 0;
		D->ycls[i] = (double) ((int) floor(fabs(eta) * 2) % K);
	}
	for (j = 0; j < P; j++)
	{
		assert_int_equal(mlc_bin_edges(N, D->X + j * N, 16, D->edges[j], &D->n_edges[j], &err),
						 MLC_OK);
		for (i = 0; i < N; i++)
		{
			uint8_t		v = mlc_bin_value(D->edges[j], D->n_edges[j], D->X[j * N + i]);

			D->bins[j * N + i] = v;
			D->rbins[i * P + j] = v;
		}
	}
	D->b.n = N;
	D->b.p = P;
	D->b.X = D->X;
	D->b.y = D->y;
	assert_int_equal(mlc_linear_chunk_stats(&D->b, D->stats, &err), MLC_OK);
	/* features that differ by 1e-3 noise: coordinate descent crawls */
	{
		double	   *Xc = malloc(sizeof(double) * N * P);
		mlc_block	bc = D->b;

		for (i = 0; i < N; i++)
			for (j = 0; j < P; j++)
				Xc[j * N + i] = D->X[i] + 1e-3 * D->X[j * N + i];
		bc.X = Xc;
		assert_int_equal(mlc_linear_chunk_stats(&bc, D->stats_corr, &err), MLC_OK);
		free(Xc);
	}
}

/*
 * Run c with a quiet hook (must succeed and look at least min_looks
 * times), then tripped at the first, a middle and the last look (must
 * give MLC_EINTR with err.code set), then with no hook at all.
 */
static void
check_case(const char *name, case_fn c, void *ctx, int64_t min_looks)
{
	mlc_error	err;
	int64_t		looks,
				trips[3];
	int			t;

	mlc_set_interrupt(counting_hook);
	hook_calls = 0;
	hook_trip = -1;
	memset(&err, 0, sizeof(err));
	if (c(ctx, &err) != MLC_OK)
		fail_msg("%s: quiet hook gave %d (%s)", name, err.code, err.msg);
	looks = hook_calls;
	if (looks < min_looks)
		fail_msg("%s: %lld looks at the hook, expected at least %lld", name,
				 (long long) looks, (long long) min_looks);
	trips[0] = 0;
	trips[1] = looks / 2;
	trips[2] = looks - 1;
	for (t = 0; t < 3; t++)
	{
		mlc_status	st;

		hook_calls = 0;
		hook_trip = trips[t];
		memset(&err, 0, sizeof(err));
		st = c(ctx, &err);
		if (st != MLC_EINTR || err.code != MLC_EINTR)
			fail_msg("%s: tripped at look %lld gave %d (%s), expected MLC_EINTR",
					 name, (long long) trips[t] + 1, st, err.msg);
		/* it stopped at the look that tripped */
		assert_int_equal(hook_calls, trips[t] + 1);
	}
	mlc_set_interrupt(NULL);
	assert_int_equal(c(ctx, &err), MLC_OK);
}

/* ---------- cases ---------- */

static mlc_status
case_elastic_net(void *ctx, mlc_error *err)
{
	mlc_linear_model m;
	mlc_cd_info info;
	mlc_status	st;

	/* tol 0 and a tiny alpha: runs all its sweeps */
	st = mlc_elastic_net_solve(P, D->stats_corr + 1 + (P + 1), D->stats_corr + 1, N, 1e-6,
							   0.5, 0.0, 20000, &m, &info, NULL, NULL, err);
	if (st == MLC_OK)
		mlc_free(m.coef);
	return st;
}

static mlc_status
case_chunk_stats(void *ctx, mlc_error *err)
{
	double		stats[sizeof(D->stats) / sizeof(double)];

	return mlc_linear_chunk_stats(&D->b, stats, err);
}

/*
 * A chunk big enough for the row-blocked QR: 40000 rows of 99 features
 * (n p1^2 = 4e8 > 2^28: three blocks of 13334 rows).
 */
#define BN 40000
#define BP 99
typedef struct big_chunk
{
	double	   *X;
	double	   *y;
} big_chunk;

static void
make_big_chunk(big_chunk *c)
{
	uint64_t	s = 7;
	int			i,
				j;

	c->X = malloc(sizeof(double) * BN * BP);
	c->y = malloc(sizeof(double) * BN);
	assert_non_null(c->X);
	assert_non_null(c->y);
	for (i = 0; i < BN; i++)
	{
		double		eta = 1.0;

		for (j = 0; j < BP; j++)
		{
			c->X[(size_t) j * BN + i] = 100.0 + unit_rand_normal(&s);
			eta += (j % 5 - 2) * c->X[(size_t) j * BN + i];
		}
		c->y[i] = eta + 0.1 * unit_rand_normal(&s);
	}
}

static mlc_status
case_chunk_stats_blocked(void *ctx, mlc_error *err)
{
	big_chunk  *c = ctx;
	mlc_block	b = {BN, BP, c->X, c->y};
	double	   *stats = malloc(sizeof(double) * MLC_STATS_DOUBLES(BP + 1));
	mlc_status	st = mlc_linear_chunk_stats(&b, stats, err);

	free(stats);
	return st;
}

static mlc_status
case_refine(void *ctx, mlc_error *err)
{
	double		coef[P] = {0.3, 0.6, 0.9, 1.2, 1.5, 1.8};
	double		acc[2 * (P + 1)] = {0};
	mlc_linear_model m = {P, 0.0, coef};

	return mlc_linear_refine_chunk(&D->b, &m, acc, err);
}

static mlc_status
case_logistic(void *ctx, mlc_error *err)
{
	double		beta[P + 1] = {0};
	double	   *partial = malloc(sizeof(double) * MLC_LOGISTIC_PARTIAL_DOUBLES(P));
	mlc_block	b = D->b;
	mlc_status	st;

	b.y = D->ybin;
	st = mlc_logistic_chunk(&b, beta, partial, err);
	free(partial);
	return st;
}

static mlc_status
case_softmax(void *ctx, mlc_error *err)
{
	double		W[K * (P + 1)] = {0};
	double	   *partial = malloc(sizeof(double) * MLC_SOFTMAX_PARTIAL_DOUBLES(P, K));
	mlc_block	b = D->b;
	mlc_status	st;

	b.y = D->ycls;
	st = mlc_softmax_chunk(&b, K, W, partial, err);
	free(partial);
	return st;
}

static mlc_status
case_naive_bayes(void *ctx, mlc_error *err)
{
	double	   *partial = malloc(sizeof(double) * MLC_NB_PARTIAL_DOUBLES(K, P));
	mlc_block	b = D->b;
	mlc_status	st;

	b.y = D->ycls;
	st = mlc_nb_chunk(&b, K, partial, err);
	free(partial);
	return st;
}

static mlc_status
case_kmeans_chunk(void *ctx, mlc_error *err)
{
	double		C[2 * K * P];
	double	   *partial = malloc(sizeof(double) * MLC_KMEANS_PARTIAL_DOUBLES(K, P, 2));
	mlc_status	st;
	int			i;

	for (i = 0; i < 2 * K * P; i++)
		C[i] = (i % 7) * 0.25 - 0.75;
	st = mlc_kmeans_chunk(&D->b, K, 2, C, partial, err);
	free(partial);
	return st;
}

static mlc_status
case_kmeans_plusplus(void *ctx, mlc_error *err)
{
	double		C[8 * P];

	return mlc_kmeans_plusplus(N, P, D->X, 8, 7, C, err);
}

/* silhouette answers NAN when interrupted: mapped to a status here */
static mlc_status
case_silhouette(void *ctx, mlc_error *err)
{
	int		   *label = malloc(sizeof(int) * 2000);
	double		s;
	int			i;

	for (i = 0; i < 2000; i++)
		label[i] = (int) D->ycls[i];
	/* the first 2000 rows as a 2000 x P column-major sample: lda is N, so copy */
	{
		double	   *Xs = malloc(sizeof(double) * 2000 * P);
		int			j;

		for (j = 0; j < P; j++)
			memcpy(Xs + j * 2000, D->X + j * N, sizeof(double) * 2000);
		s = mlc_kmeans_silhouette(2000, P, Xs, label, K);
		free(Xs);
	}
	free(label);
	if (isnan(s))
		return mlc_fail(err, MLC_EINTR, NULL, "silhouette gave NAN");
	return MLC_OK;
}

/* A whole tree, level by level, as the engine drives it (depth 8). */
static mlc_status
case_tree_build(void *ctx, mlc_error *err)
{
	mlc_tree_params tp;
	mlc_tree_builder *b = NULL;
	const double *ed[P];
	double	   *g = malloc(sizeof(double) * N),
			   *h = malloc(sizeof(double) * N),
			   *raw = calloc(N, sizeof(double));
	int32_t    *slot = malloc(sizeof(int32_t) * N);
	int64_t    *hist = NULL;
	size_t		hlen = mlc_tree_hist_len(P, 1);
	int			j,
				slots;
	mlc_status	st;

	for (j = 0; j < P; j++)
		ed[j] = D->edges[j];
	mlc_tree_params_defaults(&tp);
	tp.max_depth = 8;
	tp.min_child_weight = 0;
	if ((st = mlc_tree_gradients(MLC_OBJ_SQUARED, 0, N, D->y, raw, g, h, err)) != MLC_OK)
		goto done;
	tp.g_scale = mlc_tree_fixed_scale(20.0);
	tp.h_scale = mlc_tree_fixed_scale(1.0);
	if ((st = mlc_tree_builder_create(&tp, P, ed, D->n_edges, &b, err)) != MLC_OK)
		goto done;
	while ((slots = mlc_tree_builder_begin_level(b)) > 0)
	{
		hist = calloc((size_t) slots * hlen, sizeof(int64_t));
		if ((st = mlc_tree_builder_assign(b, N, D->bins, slot, err)) != MLC_OK ||
			(st = mlc_tree_hist_add(P, 1, N, D->bins, g, h, NULL, slot, slots,
									tp.g_scale, tp.h_scale, hist, err)) != MLC_OK ||
			(st = mlc_tree_builder_apply_level(b, hist, err)) != MLC_OK)
			goto done;
		free(hist);
		hist = NULL;
	}
	if (slots < 0)
	{
		st = mlc_fail(err, MLC_EINVAL, NULL, "builder misuse");
		goto done;
	}
	assert_true(mlc_tree_builder_n_nodes(b) > 100);
	st = mlc_tree_builder_add_predictions(b, N, D->bins, raw, err);
done:
	mlc_tree_builder_free(b);
	free(hist);
	free(g);
	free(h);
	free(raw);
	free(slot);
	return st;
}

/* The row-grouped path: quantize, then add row lists to one histogram. */
static mlc_status
case_tree_rows(void *ctx, mlc_error *err)
{
	int64_t    *qg = malloc(sizeof(int64_t) * N),
			   *qh = malloc(sizeof(int64_t) * N),
			   *hist = calloc(mlc_tree_hist_len(P, 1), sizeof(int64_t));
	int32_t    *rows = malloc(sizeof(int32_t) * N);
	double	   *g = malloc(sizeof(double) * N),
			   *h = malloc(sizeof(double) * N);
	double		s = mlc_tree_fixed_scale(20.0);
	mlc_status	st;
	int			i;

	for (i = 0; i < N; i++)
		rows[i] = N - 1 - i;
	if ((st = mlc_tree_forest_targets(0, N, D->y, g, h, err)) == MLC_OK &&
		(st = mlc_tree_quantize(N, g, s, 0, qg, err)) == MLC_OK &&
		(st = mlc_tree_quantize(N, h, s, 1, qh, err)) == MLC_OK)
		st = mlc_tree_hist_add_index(P, 1, N, D->rbins, qg, qh, NULL, rows, N, hist, err);
	free(qg);
	free(qh);
	free(hist);
	free(rows);
	free(g);
	free(h);
	return st;
}

/* Tree SHAP of one row over a forest of 200 stumps built by hand. */
#define SHAP_TREES 200
static mlc_status
case_tree_shap(void *ctx, mlc_error *err)
{
	static double base[1] = {0.5},
				tn[SHAP_TREES],
				to[SHAP_TREES],
				ts[SHAP_TREES],
				feat[3 * SHAP_TREES],
				thr[3 * SHAP_TREES],
				lft[3 * SHAP_TREES],
				rgt[3 * SHAP_TREES],
				dl[3 * SHAP_TREES],
				val[3 * SHAP_TREES],
				cov[3 * SHAP_TREES],
				gn[3 * SHAP_TREES];
	mlc_forest	f;
	double		x[P] = {0.1, -0.2, 0.3, -0.4, 0.5, -0.6},
				phi[P + 1];
	mlc_status	st;
	int			t;

	for (t = 0; t < SHAP_TREES; t++)
	{
		int			o = 3 * t;

		tn[t] = 3;
		to[t] = -1;
		ts[t] = 1;
		feat[o] = t % P;
		thr[o] = 0.01 * t;
		lft[o] = 1;
		rgt[o] = 2;
		dl[o] = 1;
		val[o] = 0;
		cov[o] = 10;
		gn[o] = 1;
		feat[o + 1] = feat[o + 2] = -1;
		thr[o + 1] = thr[o + 2] = 0;
		lft[o + 1] = lft[o + 2] = rgt[o + 1] = rgt[o + 2] = -1;
		dl[o + 1] = dl[o + 2] = 0;
		val[o + 1] = -0.1;
		val[o + 2] = 0.2;
		cov[o + 1] = 4;
		cov[o + 2] = 6;
		gn[o + 1] = gn[o + 2] = 0;
	}
	memset(&f, 0, sizeof(f));
	f.objective = MLC_OBJ_SQUARED;
	f.n_outputs = 1;
	f.value_width = 1;
	f.n_trees = SHAP_TREES;
	f.n_nodes = 3 * SHAP_TREES;
	f.n_features = P;
	f.base_score = base;
	f.tree_nodes = tn;
	f.tree_output = to;
	f.tree_scale = ts;
	f.feature = feat;
	f.threshold = thr;
	f.left = lft;
	f.right = rgt;
	f.default_left = dl;
	f.value = val;
	f.cover = cov;
	f.gain = gn;
	if ((st = mlc_forest_validate(&f, err)) != MLC_OK)
		return st;
	/* many rows, as ml.explain_predict scores them one by one */
	for (t = 0; t < 400 && st == MLC_OK; t++)
		st = mlc_tree_shap(&f, x, phi, err);
	return st;
}

/* ---------- tests ---------- */

static void
test_interrupt_linear(void **state)
{
	check_case("chunk statistics", case_chunk_stats, NULL, P + 1);
	check_case("refinement", case_refine, NULL, 2);
	check_case("elastic net", case_elastic_net, NULL, 10);
}

/*
 * The blocked QR of one big chunk looks between its blocks and gives the
 * model that 1000-row chunks merged along the tree give.
 */
static void
test_interrupt_blocked_qr(void **state)
{
	big_chunk	c;
	mlc_linear_model one,
				many;
	mlc_linear_summary s1,
				s2;
	mlc_error	err;
	int			j;

	make_big_chunk(&c);
	/* p1 looks of the column passes, then one per block */
	check_case("blocked chunk statistics", case_chunk_stats_blocked, &c, BP + 1 + 3);
	assert_int_equal(unit_fit_chunked(BN, BP, c.X, c.y, BN, 0.0, &one, &s1, NULL, &err), MLC_OK);
	assert_int_equal(unit_fit_chunked(BN, BP, c.X, c.y, 1000, 0.0, &many, &s2, NULL, &err), MLC_OK);
	assert_true(unit_reldiff(one.intercept, many.intercept) < 1e-9);
	for (j = 0; j < BP; j++)
		if (!(fabs(one.coef[j] - many.coef[j]) < 1e-9 * (1.0 + fabs(many.coef[j]))))
			fail_msg("coefficient %d: one chunk %.17g, 1000-row chunks %.17g", j,
					 one.coef[j], many.coef[j]);
	unit_free_fit(&one, &s1);
	unit_free_fit(&many, &s2);
	free(c.X);
	free(c.y);
}

static void
test_interrupt_classify(void **state)
{
	check_case("logistic chunk", case_logistic, NULL, P);
	check_case("softmax chunk", case_softmax, NULL, K * P);
	check_case("naive bayes chunk", case_naive_bayes, NULL, 2);
}

static void
test_interrupt_kmeans(void **state)
{
	check_case("kmeans chunk", case_kmeans_chunk, NULL, 2);
	check_case("kmeans++", case_kmeans_plusplus, NULL, 7);
	check_case("silhouette", case_silhouette, NULL, 2);
}

static void
test_interrupt_trees(void **state)
{
	check_case("tree building", case_tree_build, NULL, 20);
	check_case("tree rows", case_tree_rows, NULL, 4);
	check_case("tree shap", case_tree_shap, NULL, 400);
}

/* The mask spaces looks by work and never below one item. */
static void
test_interrupt_mask(void **state)
{
	assert_int_equal(mlc_interrupt_mask(1), MLC_INTERRUPT_WORK - 1);
	assert_int_equal(mlc_interrupt_mask(0), MLC_INTERRUPT_WORK - 1);
	assert_int_equal(mlc_interrupt_mask(MLC_INTERRUPT_WORK), 0);
	assert_int_equal(mlc_interrupt_mask((int64_t) 1 << 40), 0);
	assert_int_equal(mlc_interrupt_mask(100), 1023);	/* 1024 * 100 >= 65536 */
}

static int
setup(void **state)
{
	make_data();
	return 0;
}

static int
teardown(void **state)
{
	mlc_set_interrupt(NULL);
	free(D);
	return 0;
}

int
run_interrupt_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interrupt_mask),
		cmocka_unit_test(test_interrupt_linear),
		cmocka_unit_test(test_interrupt_blocked_qr),
		cmocka_unit_test(test_interrupt_classify),
		cmocka_unit_test(test_interrupt_kmeans),
		cmocka_unit_test(test_interrupt_trees),
	};

	return cmocka_run_group_tests_name("interrupt", tests, setup, teardown);
}
