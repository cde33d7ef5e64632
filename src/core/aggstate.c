/*
 * aggstate.c: the check of pg_mlops aggregate states (layout in wire.h).
 *
 * A state is a bytea any role can pass to the aggregates' support
 * functions, so nothing in it is trusted: the header's fields are range
 * checked, the lengths the pass implies are recomputed from (pass, p, K,
 * parameters) and compared with the stored ones, and the buffer's length
 * must be exactly the one the fields imply.  Sizes are computed in 64 bits
 * with every factor capped first, so no product overflows.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mlcore.h"
#include "classify.h"
#include "unsupervised.h"
#include "wire.h"

static const char agg_detail[] =
"The bytes are not a state produced by the pg_mlops aggregates of this version.";

static mlc_status
bad(mlc_error *err, const char *what)
{
	return mlc_fail(err, MLC_ECORRUPT, agg_detail, "malformed aggregate state: %s", what);
}

int
mlc_agg_pass_rule(int pass)
{
	switch (pass)
	{
		case MLC_PASS_STATS:
			return MLC_AGG_RULE_STATS;
		case MLC_PASS_NB:
			return MLC_AGG_RULE_NB;
		case MLC_PASS_SAMPLE:
			return MLC_AGG_RULE_SAMPLE;
		case MLC_PASS_REFINE:
		case MLC_PASS_EVAL:
		case MLC_PASS_LOGISTIC:
		case MLC_PASS_SOFTMAX:
		case MLC_PASS_LOGISTIC_W:
		case MLC_PASS_SOFTMAX_W:
		case MLC_PASS_KMEANS:
			return MLC_AGG_RULE_ADD;
		default:
			return 0;
	}
}

static uint64_t
flags_bytes(const mlc_agg_header *h)
{
	return ((uint64_t) 2 * (uint64_t) h->block_rows + 7) & ~(uint64_t) 7;
}

uint64_t
mlc_agg_state_size(const mlc_agg_header *h, int64_t acc_len)
{
	if (h->param_len < 0 || h->block_rows < 0 || h->p < 0 || acc_len < 0 ||
		h->param_len > MLC_AGG_MAX_DOUBLES || h->p > MLC_AGG_MAX_P ||
		acc_len > ((int64_t) 1 << 40))
		return UINT64_MAX;
	/* each term < 2^45, so the sum cannot overflow */
	return (uint64_t) MLC_AGG_HDR_SIZE + 8 * (uint64_t) h->param_len +
		8 * (uint64_t) h->block_rows * ((uint64_t) h->p + 1) + flags_bytes(h) +
		8 * (uint64_t) acc_len;
}

size_t
mlc_agg_params_offset(const mlc_agg_header *h)
{
	return MLC_AGG_HDR_SIZE;
}

size_t
mlc_agg_rows_offset(const mlc_agg_header *h)
{
	return mlc_agg_params_offset(h) + 8 * (size_t) h->param_len;
}

size_t
mlc_agg_flags_offset(const mlc_agg_header *h)
{
	return mlc_agg_rows_offset(h) + 8 * (size_t) h->block_rows * ((size_t) h->p + 1);
}

size_t
mlc_agg_acc_offset(const mlc_agg_header *h)
{
	return mlc_agg_flags_offset(h) + (size_t) flags_bytes(h);
}

static double
param_at(const uint8_t *buf, const mlc_agg_header *h, int i)
{
	double		v;

	memcpy(&v, buf + mlc_agg_params_offset(h) + 8 * (size_t) i, sizeof(v));
	return v;
}

/* An integral parameter in [lo, hi], else -1 (lo >= 0). */
static int64_t
int_param(const uint8_t *buf, const mlc_agg_header *h, int i, int64_t lo, int64_t hi)
{
	double		v;

	if (i >= h->param_len)
		return -1;
	v = param_at(buf, h, i);
	if (!(v >= (double) lo && v <= (double) hi) || v != floor(v))
		return -1;
	return (int64_t) v;
}

/*
 * What a pass reads and writes: *params_need doubles of parameters, and
 * *partial_need doubles its per-block partial function writes (the
 * evaluation pass: 0 here, its model decides).  *user_partial and
 * *user_result: the lengths the user aggregate of this pass has (0: none).
 * The caller has checked the header's p, K, block_rows and param_len >= 1.
 */
static mlc_status
pass_needs(const uint8_t *buf, const mlc_agg_header *h, uint64_t *params_need,
		   uint64_t *partial_need, uint64_t *user_partial, uint64_t *user_result,
		   uint64_t *user_params, mlc_error *err)
{
	uint64_t	p = (uint64_t) h->p,
				d = p + 1;
	int64_t		k,
				runs;

	*user_partial = *user_result = *user_params = 0;
	switch (h->pass)
	{
		case MLC_PASS_STATS:
			*params_need = 1;
			*partial_need = 3 + MLC_STATS_DOUBLES(d);
			break;
		case MLC_PASS_REFINE:
			*params_need = 1 + d;
			*partial_need = 2 * d;
			break;
		case MLC_PASS_EVAL:
			{
				double		bytes;

				if (h->param_len < 2)
					return bad(err, "the evaluation pass has no model length");
				bytes = param_at(buf, h, 1);
				if (!(bytes >= 0) || bytes != floor(bytes) ||
					bytes > 8.0 * (double) (h->param_len - 2))
					return bad(err, "the evaluation pass's model length disagrees with its parameters");
				*params_need = 2 + (uint64_t) ceil(bytes / 8);
				*partial_need = 0;
			}
			break;
		case MLC_PASS_LOGISTIC:
			*params_need = 1 + d;
			*partial_need = MLC_LOGISTIC_PARTIAL_DOUBLES(p) + 2 + p;
			*user_partial = MLC_LOGISTIC_PARTIAL_DOUBLES(p) + 2;
			*user_result = MLC_LOGISTIC_PARTIAL_DOUBLES(p);
			*user_params = 1 + d;
			break;
		case MLC_PASS_SOFTMAX:
			k = int_param(buf, h, 1, 2, 1000000);
			if (k < 0)
				return bad(err, "the softmax pass's class count is not an integer between 2 and 1000000");
			*params_need = 2 + (uint64_t) k * d;
			*partial_need = MLC_SOFTMAX_PARTIAL_DOUBLES(p, k) + 2 + p;
			*user_partial = MLC_SOFTMAX_PARTIAL_DOUBLES(p, k) + 2;
			*user_result = MLC_SOFTMAX_PARTIAL_DOUBLES(p, k);
			*user_params = *params_need;
			break;
		case MLC_PASS_LOGISTIC_W:
			*params_need = 1 + d + 2;	/* beta, then the two classes' weights */
			*partial_need = MLC_LOGISTIC_PARTIAL_DOUBLES(p) + 2 + p;
			break;
		case MLC_PASS_SOFTMAX_W:
			k = int_param(buf, h, 1, 2, 1000000);
			if (k < 0)
				return bad(err, "the softmax pass's class count is not an integer between 2 and 1000000");
			*params_need = 2 + (uint64_t) k * d + (uint64_t) k;	/* K, W, a weight per class */
			*partial_need = MLC_SOFTMAX_PARTIAL_DOUBLES(p, k) + 2 + p;
			break;
		case MLC_PASS_SAMPLE:
			{
				double		seed;

				if (h->param_len < 4)
					return bad(err, "the sample pass has no hash range and seed");
				seed = param_at(buf, h, 3);
				if (!(seed >= 0 && seed < 18446744073709551616.0))
					return bad(err, "the sample pass's seed is out of range");
				*params_need = 4;
				*partial_need = 1 + (uint64_t) h->block_rows * d;
			}
			break;
		case MLC_PASS_KMEANS:
			k = int_param(buf, h, 1, 1, 1000000);
			runs = int_param(buf, h, 2, 1, 10000);
			if (k < 0 || runs < 0)
				return bad(err, "the k-means pass's cluster or run count is out of range");
			*params_need = 3 + (uint64_t) runs * (uint64_t) k * p;
			*partial_need = MLC_KMEANS_PARTIAL_DOUBLES(k, p, runs) + (uint64_t) runs + 1;
			if (runs == 1)
			{
				*user_partial = MLC_KMEANS_PARTIAL_DOUBLES(k, p, 1) + 2;
				*user_result = MLC_KMEANS_PARTIAL_DOUBLES(k, p, 1);
				*user_params = *params_need;
			}
			break;
		case MLC_PASS_NB:
			k = int_param(buf, h, 1, 1, 100000);
			if (k < 0 || k != h->K)
				return bad(err, "the naive Bayes pass's class count disagrees with the state's");
			*params_need = 2;
			*partial_need = MLC_NB_PARTIAL_DOUBLES(k, p) + 1;
			*user_partial = MLC_NB_PARTIAL_DOUBLES(k, p);
			*user_result = MLC_NB_PARTIAL_DOUBLES(k, p);
			*user_params = 2;
			break;
		default:
			return bad(err, "unknown pass");
	}
	return MLC_OK;
}

/* The user aggregates: (pass, algorithm) of ml.logistic_stats, softmax_stats, kmeans_stats, nb_stats. */
static int
user_algorithm(int pass)
{
	switch (pass)
	{
		case MLC_PASS_LOGISTIC:
			return MLC_ALG_LOGISTIC;
		case MLC_PASS_SOFTMAX:
			return MLC_ALG_SOFTMAX;
		case MLC_PASS_KMEANS:
			return MLC_ALG_KMEANS;
		case MLC_PASS_NB:
			return MLC_ALG_NAIVE_BAYES;
		default:
			return 0;
	}
}

/* Doubles an evaluation pass's metrics take for a model (two row sets). */
static mlc_status
eval_needs(const uint8_t *buf, const mlc_agg_header *h, uint64_t *need, mlc_error *err)
{
	mlc_model	m;
	mlc_error	merr;
	size_t		bytes = (size_t) param_at(buf, h, 1);
	uint64_t	E;

	if (mlc_model_decode(buf + mlc_agg_params_offset(h) + 16, bytes, &m, &merr) != MLC_OK)
		return bad(err, "the evaluation pass's model does not decode");
	if (m.n_features != h->p)
	{
		mlc_model_free(&m);
		return bad(err, "the evaluation pass's model has a different feature count");
	}
	switch (m.task)
	{
		case MLC_TASK_REGRESSION:
			E = sizeof(mlc_reg_metrics) / sizeof(double);
			break;
		case MLC_TASK_CLASSIFICATION:
			E = 2 + (uint64_t) m.n_classes * (uint64_t) m.n_classes;
			break;
		default:
			E = 2;
			break;
	}
	mlc_model_free(&m);
	*need = 2 * E;
	return MLC_OK;
}

mlc_status
mlc_agg_state_check(const uint8_t *buf, size_t len, int max_block_rows, int deep,
					mlc_error *err)
{
	mlc_agg_header h;
	uint64_t	params_need,
				partial_need,
				user_partial,
				user_result,
				user_params;
	mlc_status	st;

	if (buf == NULL || len < MLC_AGG_HDR_SIZE)
		return bad(err, "the state is shorter than its header");
	memcpy(&h, buf, sizeof(h));
	if (h.magic != MLC_AGG_MAGIC)
		return bad(err, "the state does not start with the pg_mlops aggregate magic number");
	if (h.version != MLC_AGG_VERSION)
		return bad(err, "the state has an unknown version");
	if (h.p < 0 || h.p > MLC_AGG_MAX_P || h.K < 0 || h.K > 100000 ||
		h.block_rows < 1 || h.block_rows > max_block_rows ||
		h.param_len < 1 || h.param_len > MLC_AGG_MAX_DOUBLES ||
		h.partial_len < 1 || h.partial_len > MLC_AGG_MAX_DOUBLES ||
		h.result_len < -1 || h.result_len > MLC_AGG_MAX_DOUBLES ||
		h.nbuf < 0 || h.nbuf > h.block_rows || h.skipped < 0 ||
		h.acc_len < 0 || h.acc_len > ((int64_t) 1 << 40) ||
		(h.has_folds != 0 && h.has_folds != 1) || (h.filled != 0 && h.filled != 1))
		return bad(err, "a field of the state is out of range");
	if (mlc_agg_pass_rule(h.pass) == 0 || mlc_agg_pass_rule(h.pass) != h.rule ||
		h.algorithm < MLC_ALG_LINEAR || h.algorithm > MLC_ALG_DECISION_TREE ||
		(h.rule == MLC_AGG_RULE_NB) != (h.K > 0))
		return bad(err, "the state names an unknown pass, algorithm or combine rule");
	if (h.rule != MLC_AGG_RULE_SAMPLE && h.acc_len != h.partial_len)
		return bad(err, "the statistics have the wrong length");
	if (h.rule == MLC_AGG_RULE_SAMPLE && !h.filled && h.acc_len != 0)
		return bad(err, "the sample has the wrong length");
	if (mlc_agg_state_size(&h, h.acc_len) != (uint64_t) len)
		return bad(err, "the state's length does not match its fields");

	/* the holdout fold: -1 (none) or a fold id */
	{
		double		holdout = param_at(buf, &h, 0);

		if (!(holdout >= -1 && holdout <= 255) || holdout != floor(holdout))
			return bad(err, "the holdout fold is out of range");
	}
	st = pass_needs(buf, &h, &params_need, &partial_need, &user_partial, &user_result,
					&user_params, err);
	if (st != MLC_OK)
		return st;
	if (params_need > (uint64_t) h.param_len)
		return bad(err, "the parameters are shorter than the pass reads");
	if (h.result_len >= 0)
	{
		/* a user aggregate: every length is the one its pass implies */
		if (user_algorithm(h.pass) != h.algorithm || user_partial == 0 || h.has_folds ||
			(uint64_t) h.partial_len != user_partial || (uint64_t) h.result_len != user_result ||
			(uint64_t) h.param_len != user_params)
			return bad(err, "the lengths disagree with the statistics aggregate's");
	}
	else if (partial_need > (uint64_t) h.partial_len)
		return bad(err, "the partial length is shorter than the pass writes");
	if (h.rule == MLC_AGG_RULE_STATS && (uint64_t) h.partial_len < 3 + MLC_STATS_DOUBLES((uint64_t) h.p + 1))
		return bad(err, "the partial length is shorter than the statistics");
	if (h.rule == MLC_AGG_RULE_NB && (uint64_t) h.partial_len < MLC_NB_PARTIAL_DOUBLES(h.K, h.p))
		return bad(err, "the partial length is shorter than the class moments");
	if (h.rule == MLC_AGG_RULE_SAMPLE && h.filled)
	{
		double		n;

		memcpy(&n, buf + mlc_agg_acc_offset(&h), sizeof(n));
		if (!(n >= 0 && n <= (double) ((int64_t) 1 << 40)) || n != floor(n) ||
			(uint64_t) h.acc_len != 1 + (uint64_t) n * ((uint64_t) h.p + 1))
			return bad(err, "the sample has the wrong length");
	}
	if (deep && h.pass == MLC_PASS_EVAL)
	{
		uint64_t	need = 0;

		st = eval_needs(buf, &h, &need, err);
		if (st != MLC_OK)
			return st;
		if (need > (uint64_t) h.partial_len)
			return bad(err, "the partial length is shorter than the evaluation's metrics");
	}
	return MLC_OK;
}

size_t
mlc_agg_partial_scratch(const uint8_t *buf)
{
	mlc_agg_header h;
	uint64_t	params_need = 0,
				partial_need = 0,
				u1,
				u2,
				u3;

	memcpy(&h, buf, sizeof(h));
	if (pass_needs(buf, &h, &params_need, &partial_need, &u1, &u2, &u3, NULL) != MLC_OK)
		partial_need = 0;
	return (size_t) (partial_need > (uint64_t) h.partial_len ? partial_need : (uint64_t) h.partial_len);
}
