/*
 * helpers.c: the chunked training pipeline and small utilities shared by
 * the core unit tests.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* Copy rows [i0, i0 + m) of the n x p matrix X and of y into a block. */
void
take_rows(int n, int p, const double *X, const double *y, int i0, int m,
		  double *Xc, double *yc, mlc_block *b)
{
	int			i,
				j;

	for (j = 0; j < p; j++)
		for (i = 0; i < m; i++)
			Xc[i + (size_t) j * m] = X[i0 + i + (size_t) j * n];
	for (i = 0; i < m; i++)
		yc[i] = y[i0 + i];
	b->n = m;
	b->p = p;
	b->X = Xc;
	b->y = yc;
}

static mlc_status
fit_pipeline(int n, int p, const double *X, const double *y,
			 int chunk_rows, double alpha, mlc_linear_model *model,
			 mlc_linear_summary *summary, double *Rout, int refine,
			 int *applied, mlc_error *err)
{
	int			p1 = p + 1;
	int			nchunks = n > 0 ? (n + chunk_rows - 1) / chunk_rows : 1;
	size_t		stride = MLC_STATS_DOUBLES(p1);
	double	   *stats = calloc(stride * nchunks, sizeof(double));
	double	   *Xc = calloc((size_t) chunk_rows * (p > 0 ? p : 1), sizeof(double));
	double	   *yc = calloc((size_t) chunk_rows, sizeof(double));
	const double *means = stats + 1;
	const double *R = stats + 1 + p1;
	mlc_status	st = MLC_OK;
	int			c;

	/* one pass: per-chunk n, means and R of the chunk centered by its means */
	for (c = 0; c < nchunks && st == MLC_OK; c++)
	{
		int			i0 = c * chunk_rows;
		int			i1 = i0 + chunk_rows < n ? i0 + chunk_rows : n;
		int			m = i1 > i0 ? i1 - i0 : 0;
		mlc_block	b;

		take_rows(n, p, X, y, i0, m, Xc, yc, &b);
		st = mlc_linear_chunk_stats(&b, stats + stride * c, err);
	}
	/* exact merge along the fixed tree; the result is in chunk 0's buffer */
	if (st == MLC_OK)
		st = mlc_linear_stats_tree(p1, nchunks, stats, stride, err);
	if (st == MLC_OK && Rout != NULL)
		memcpy(Rout, R, sizeof(double) * (size_t) p1 * p1);
	if (st == MLC_OK)
		st = mlc_linear_solve(p, R, means, (int64_t) stats[0], alpha, model,
							  summary, err);

	/* pass 3: residual sums per chunk, combined in chunk order */
	if (st == MLC_OK && refine)
	{
		double	   *acc = calloc((size_t) 2 * p1, sizeof(double));
		double	   *cacc = calloc((size_t) 2 * p1, sizeof(double));

		for (c = 0; c < nchunks && st == MLC_OK; c++)
		{
			int			i0 = c * chunk_rows;
			int			i1 = i0 + chunk_rows < n ? i0 + chunk_rows : n;
			int			m = i1 > i0 ? i1 - i0 : 0;
			mlc_block	b;

			take_rows(n, p, X, y, i0, m, Xc, yc, &b);
			memset(cacc, 0, sizeof(double) * 2 * p1);
			st = mlc_linear_refine_chunk(&b, model, cacc, err);
			mlc_linear_refine_combine(p, acc, cacc);
		}
		if (st == MLC_OK)
			st = mlc_linear_refine_apply(p, R, means, (int64_t) stats[0], alpha,
										 acc, model, summary, applied, err);
		free(acc);
		free(cacc);
	}

	free(stats);
	free(Xc);
	free(yc);
	return st;
}

mlc_status
unit_fit_chunked(int n, int p, const double *X, const double *y,
				 int chunk_rows, double alpha, mlc_linear_model *model,
				 mlc_linear_summary *summary, double *Rout, mlc_error *err)
{
	return fit_pipeline(n, p, X, y, chunk_rows, alpha, model, summary, Rout,
						0, NULL, err);
}

mlc_status
unit_fit_refined(int n, int p, const double *X, const double *y,
				 int chunk_rows, double alpha, mlc_linear_model *model,
				 mlc_linear_summary *summary, int *applied, mlc_error *err)
{
	return fit_pipeline(n, p, X, y, chunk_rows, alpha, model, summary, NULL,
						1, applied, err);
}

void
unit_free_fit(mlc_linear_model *model, mlc_linear_summary *summary)
{
	if (model != NULL)
	{
		mlc_free(model->coef);
		model->coef = NULL;
	}
	if (summary != NULL)
	{
		mlc_free(summary->std_error);
		mlc_free(summary->t_stat);
		mlc_free(summary->p_value);
		summary->std_error = summary->t_stat = summary->p_value = NULL;
	}
}

double
unit_reldiff(double a, double b)
{
	double		s = fabs(a) > fabs(b) ? fabs(a) : fabs(b);

	if (a == b)
		return 0.0;
	if (s < 1e-300)
		s = 1e-300;
	return fabs(a - b) / s;
}

uint64_t
unit_rand_u64(uint64_t *state)
{
	uint64_t	x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64_C(0x2545F4914F6CDD1D);
}

double
unit_rand_uniform(uint64_t *state)
{
	return (double) (unit_rand_u64(state) >> 11) * (1.0 / 9007199254740992.0);
}

double
unit_rand_normal(uint64_t *state)
{
	double		u1 = unit_rand_uniform(state);
	double		u2 = unit_rand_uniform(state);

	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
