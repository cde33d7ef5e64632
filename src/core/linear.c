/*
 * linear.c: linear and ridge regression from chunked QR factors.
 *
 * Pipeline (the engine drives it chunk by chunk, reading each chunk once):
 *   per chunk  n, the column means of [X y] over the chunk (double-double)
 *              and the R factor of the chunk's [X y] centered by those
 *              means, computed while the chunk is in cache
 *              (mlc_linear_chunk_stats)
 *   merge      the chunk statistics along a fixed binary tree
 *              (mlc_linear_stats_tree, mlc_linear_stats_merge): the
 *              centered scatter of the union of two row sets is
 *                S = Sa + Sb + (na nb / n) (ma - mb)(ma - mb)^T,
 *              so R of the union is the R factor of
 *                [Ra; Rb; sqrt(na nb / n) (ma - mb)^T]
 *              (exact, no global means needed first; the means and
 *              ma - mb are double-doubles, so a column's offset from 0
 *              costs no digits)
 *   solve      from the merged R and means (mlc_linear_solve)
 *
 * With R the (p+1) x (p+1) factor of [Xc yc] (Xc, yc centered),
 *   R = [ R_xx  z ]
 *       [  0    s ]
 * least squares is R_xx b = z with residual sum of squares s^2, and for any
 * coefficient vector b, ||Xc b - yc||^2 = ||R [-b; 1]||^2.  The normal
 * equations are never formed, so the conditioning is that of X, not X^T X.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "mlcore.h"

/* Largest feature count accepted anywhere in the core (R is (p+1)^2). */
#define MLC_MAX_FEATURES 100000

/*
 * Rank test: feature j is taken to depend on the intercept and features
 * 0..j-1 when |R_jj| <= RANK_TOL * ||R[0..j, j]||.  The ratio is the sine of
 * the angle between centered column j and the span of the earlier centered
 * columns; exact dependence leaves a few ulps (~1e-15) after rounding.
 * NIST Filip (degree-10 polynomial in x, the hardest StRD linear problem)
 * has its smallest ratio at 6.1e-8 (x^10), measured, so 1e-12 accepts it
 * with a wide margin while staying 1000x above rounding-level dependence.
 * Not tuned: the first value tried.
 */
#define RANK_TOL 1e-12

#define RIX(R, ld, i, j) ((R)[(size_t) (i) + (size_t) (j) * (size_t) (ld)])

/* ---------- double-double helpers (fixed operation order) ---------- */

/* s + e = a + b exactly */
static inline void
two_sum(double a, double b, double *s, double *e)
{
	double		x = a + b;
	double		bb = x - a;

	*e = (a - (x - bb)) + (b - bb);
	*s = x;
}

/*
 * p + e = a * b exactly (barring overflow/underflow).  fma() is IEEE 754's
 * correctly rounded fused multiply-add (libm's when the target has none),
 * so the bits are the same wherever it runs; -ffp-contract=off does not
 * affect an explicit call.
 */
static inline void
two_prod(double a, double b, double *p, double *e)
{
	double		x = a * b;

	*e = fma(a, b, -x);
	*p = x;
}

/* (hi, lo) += (bh, bl) in double-double */
static inline void
dd_add(double *hi, double *lo, double bh, double bl)
{
	double		s,
				e;

	two_sum(*hi, bh, &s, &e);
	e += *lo + bl;
	two_sum(s, e, hi, lo);
}

/* Number of doubles of a stats buffer, or 0 when p1 is out of range. */
static size_t
stats_doubles(int p1)
{
	if (p1 < 1 || p1 > MLC_MAX_FEATURES + 1)
		return 0;
	return MLC_STATS_DOUBLES(p1);
}

/* The error for a stats buffer of an impossible width. */
static mlc_status
stats_size_fail(int p1, mlc_error *err)
{
	return mlc_fail(err, MLC_EINVAL, NULL, "invalid statistics size %d (1 to %d columns)",
					p1, MLC_MAX_FEATURES + 1);
}

/*
 * Report the first non-finite value of column j (p: feature count; j == p
 * is the target), or an overflowing sum when every value is finite.
 */
static mlc_status
column_fail(const double *src, int n, int j, int p, mlc_error *err)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		if (isfinite(src[i]))
			continue;
		if (j < p)
			return mlc_fail(err, MLC_EINVAL,
							"Rows with NaN or infinite values cannot be used for training.",
							"non-finite value in feature %d of row %d of the chunk",
							j, i);
		return mlc_fail(err, MLC_EINVAL,
						"Rows with NaN or infinite values cannot be used for training.",
						"non-finite target value in row %d of the chunk", i);
	}
	if (j < p)
		return mlc_fail(err, MLC_EINVAL,
						"Rescale the column; its values are too large to average or center in double precision.",
						"feature %d overflows when averaged over the chunk", j);
	return mlc_fail(err, MLC_EINVAL,
					"Rescale the target; its values are too large to average or center in double precision.",
					"the target overflows when averaged over the chunk");
}

/*
 * Sum of x[0..n) in four interleaved lanes (lane l takes rows l, l + 4,
 * ...), combined as (l0 + l1) + (l2 + l3), then the tail.  Four independent
 * chains instead of one keep the adder busy (a row-order sum is bound by
 * the add latency, which cost more than the QR's column passes on 960-row
 * chunks); the order is fixed, so the bits depend only on the data.
 */
static double
lane_sum(const double *x, int n)
{
	double		s0 = 0.0,
				s1 = 0.0,
				s2 = 0.0,
				s3 = 0.0;
	int			i;

	for (i = 0; i + 4 <= n; i += 4)
	{
		s0 += x[i];
		s1 += x[i + 1];
		s2 += x[i + 2];
		s3 += x[i + 3];
	}
	for (; i < n; i++)
		s0 += x[i];
	return (s0 + s1) + (s2 + s3);
}

/* The same for x[i] - m. */
static double
lane_sum_shifted(const double *x, int n, double m)
{
	double		s0 = 0.0,
				s1 = 0.0,
				s2 = 0.0,
				s3 = 0.0;
	int			i;

	for (i = 0; i + 4 <= n; i += 4)
	{
		s0 += x[i] - m;
		s1 += x[i + 1] - m;
		s2 += x[i + 2] - m;
		s3 += x[i + 3] - m;
	}
	for (; i < n; i++)
		s0 += x[i] - m;
	return (s0 + s1) + (s2 + s3);
}

/*
 * One LAPACK call cannot be interrupted, so a chunk whose QR would cost
 * more than CHUNK_QR_WORK multiply-adds (n p1^2; about 0.1 s) is factored
 * in equal row blocks of at most half that, each stacked onto the R so far
 * (mlc_qr_stack, about 3.3 p1^3 flops), looking at the interrupt hook
 * between blocks.  Blocks are at least 4 p1 rows tall, which keeps the
 * stacking under about 40% of the work where p1 is so large (over about
 * 300) that the work bound alone would make them shorter; such a block
 * costs about 8 p1^3 flops (1.7e9 at p1 = 600).  The blocks depend only on
 * n and p1, so the result is still a function of the chunk; smaller
 * chunks (all but very large or very wide ones) keep the single QR and
 * its bits.
 */
#define CHUNK_QR_WORK ((size_t) 1 << 28)
#define CHUNK_QR_MAX_ROWS 65536	/* bounds the block's copy */

/* R factor of the n x p1 matrix A (lda = n, destroyed) into R. */
static mlc_status
chunk_qr(int n, int p1, double *A, double *R, mlc_error *err)
{
	size_t		pp = (size_t) p1 * (size_t) p1;
	size_t		rows = CHUNK_QR_WORK / 2 / pp,
				nblocks;
	double	   *B,
			   *Rb;
	int			m,
				i0,
				j;
	mlc_status	st = MLC_OK;

	if ((size_t) n * pp <= CHUNK_QR_WORK)
		return mlc_qr_r(n, p1, A, R, err);
	if (rows < 4 * (size_t) p1)
		rows = 4 * (size_t) p1;
	if (rows > CHUNK_QR_MAX_ROWS)
		rows = CHUNK_QR_MAX_ROWS;
	nblocks = ((size_t) n + rows - 1) / rows;
	m = (int) (((size_t) n + nblocks - 1) / nblocks);
	B = mlc_alloc(sizeof(double) * ((size_t) m * (size_t) p1 + pp));
	if (B == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for chunk statistics");
	Rb = B + (size_t) m * (size_t) p1;
	for (i0 = 0; i0 < n && st == MLC_OK; i0 += m)
	{
		int			mb = n - i0 < m ? n - i0 : m;

		if (mlc_interrupted())
		{
			st = mlc_fail(err, MLC_EINTR, NULL, "chunk statistics interrupted");
			break;
		}
		for (j = 0; j < p1; j++)
			memcpy(B + (size_t) j * mb, A + (size_t) j * n + i0, sizeof(double) * mb);
		st = mlc_qr_r(mb, p1, B, i0 == 0 ? R : Rb, err);
		if (st == MLC_OK && i0 > 0)
			st = mlc_qr_stack(p1, R, Rb, R, err);
	}
	mlc_free(B);
	return st;
}

mlc_status
mlc_linear_chunk_stats(const mlc_block *b, double *stats, mlc_error *err)
{
	double	   *A;
	double	   *means;
	double	   *means_lo;
	mlc_status	st;
	int			p,
				p1,
				n,
				i,
				j;

	if (b == NULL || stats == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"chunk statistics called with a NULL argument");
	p = b->p;
	if (p < 0 || p > MLC_MAX_FEATURES)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"invalid feature count %d (at most %d)", p,
						MLC_MAX_FEATURES);
	p1 = p + 1;
	if (b->n < 0 || b->n > INT_MAX)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"invalid chunk row count %lld", (long long) b->n);
	n = (int) b->n;
	if (n == 0)
	{
		memset(stats, 0, sizeof(double) * stats_doubles(p1));
		return MLC_OK;
	}
	if ((p > 0 && b->X == NULL) || b->y == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"chunk statistics called with NULL data");
	if ((size_t) n > ((size_t) -1) / sizeof(double) / (size_t) p1)
		return mlc_fail(err, MLC_EINVAL, NULL, "chunk too large");

	A = mlc_alloc(sizeof(double) * (size_t) n * (size_t) p1);
	if (A == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL,
						"out of memory for chunk statistics");
	means = stats + 1;
	means_lo = stats + 1 + p1 + (size_t) p1 * (size_t) p1;
	for (j = 0; j < p1; j++)
	{
		const double *src = j < p ? b->X + (size_t) j * (size_t) n : b->y;
		double	   *dst = A + (size_t) j * (size_t) n;
		double		sum,
					corr,
					m,
					hi,
					lo;

		/* three passes over the rows per column: look per column */
		if (mlc_interrupted())
		{
			mlc_free(A);
			return mlc_fail(err, MLC_EINTR, NULL, "chunk statistics interrupted");
		}
		/* a non-finite sum flags non-finite values or overflow */
		sum = lane_sum(src, n);
		if (!isfinite(sum))
		{
			mlc_free(A);
			return column_fail(src, n, j, p, err);
		}
		m = sum / (double) n;
		/* one correction pass: add the mean of x - m */
		corr = lane_sum_shifted(src, n, m);
		if (!isfinite(corr))
		{
			mlc_free(A);
			return column_fail(src, n, j, p, err);
		}
		/*
		 * mean = m + corr / n as a double-double: hi is the rounded sum
		 * (the former double mean, bit for bit), lo its exact remainder.
		 * Centering by hi + lo leaves a mean error of a few eps * spread
		 * instead of eps * |mean|.
		 */
		two_sum(m, corr / (double) n, &hi, &lo);
		for (i = 0; i < n; i++)
			dst[i] = (src[i] - hi) - lo;
		means[j] = hi;
		means_lo[j] = lo;
	}
	st = chunk_qr(n, p1, A, stats + 1 + p1, err);
	mlc_free(A);
	if (st != MLC_OK)
		return st;
	stats[0] = (double) n;
	return MLC_OK;
}

/* 1 when x is a valid row count (a non-negative integer below 2^53) */
static int
count_ok(double x)
{
	return x >= 0.0 && x <= 9007199254740992.0 && x == floor(x);
}

/* sum_i x[i] y[i] in four interleaved lanes, like lane_sum */
static double
lane_dot(const double *x, const double *y, int n)
{
	double		s0 = 0.0,
				s1 = 0.0,
				s2 = 0.0,
				s3 = 0.0;
	int			i;

	for (i = 0; i + 4 <= n; i += 4)
	{
		s0 += x[i] * y[i];
		s1 += x[i + 1] * y[i + 1];
		s2 += x[i + 2] * y[i + 2];
		s3 += x[i + 3] * y[i + 3];
	}
	for (; i < n; i++)
		s0 += x[i] * y[i];
	return (s0 + s1) + (s2 + s3);
}

/*
 * R factor of [Ra; d^T; Rb] (Ra, Rb p1 x p1 upper, d a row) into R, by
 * Householder reflections that touch only the nonzeros: the part below
 * Ra's diagonal is the (p1 + 1) x p1 matrix B = [d^T; Rb], whose column k
 * is nonzero in rows 0..k+1 only, before and after the reflections of
 * columns 0..k-1 (the LAPACK "triangular-pentagonal" shape of dtpqrt).
 * Reflection k maps (Ra[k,k], B[0..k+1, k]) to (beta, 0...) with
 * beta = -sign(Ra[k,k]) * norm and is skipped when B[0..k+1, k] is zero,
 * as dlarfg does.  About (2/3) p1^3 flops against about 3.3 p1^3 for
 * dgeqrf on the stacked (2 p1 + 1) x p1 matrix.  Measured per merge in a
 * tree over 800 chunks (sequential OpenBLAS, 2-core x86-64 VM), against
 * the former dgeqrf stack of two factors: 0.25 us vs 0.75 us (p1 6),
 * 3.8 us vs 5.3 us (p1 22), 30 us vs 28 us (p1 51), 162 us vs 174 us
 * (p1 101).  Reference LAPACK's dtpqrt, made for this shape, was slower
 * than dgeqrf here (5.4 us at p1 22).  W: p1 * p1 + (p1 + 1) * p1 +
 * (p1 + 2) doubles.  The accuracy is that of Householder QR (backward
 * stable with respect to the column norms of the stacked matrix): on NIST
 * Filip over 24 row orders x 21 chunkings the coefficient LREs matched a
 * dgeqrf merge of the stacked matrix (mean 7.36 vs 7.34).
 */
static void
merge_factor(int p1, const double *Ra, const double *d, const double *Rb,
			 double *W, double *R)
{
	int			mb = p1 + 1;
	double	   *A = W;
	double	   *B = W + (size_t) p1 * (size_t) p1;
	double	   *v = B + (size_t) mb * (size_t) p1;
	int			i,
				j,
				k;

	for (j = 0; j < p1; j++)
	{
		double	   *bc = B + (size_t) j * mb;

		for (i = 0; i < p1; i++)
			A[i + (size_t) j * p1] = i <= j ? Ra[i + (size_t) j * p1] : 0.0;
		bc[0] = d[j];
		for (i = 0; i < p1; i++)
			bc[1 + i] = i <= j ? Rb[i + (size_t) j * p1] : 0.0;
	}
	for (k = 0; k < p1; k++)
	{
		double	   *bk = B + (size_t) k * mb;
		double		x0 = A[k + (size_t) k * p1],
					scale = 0.0,
					ssq = 0.0,
					t,
					nrm,
					beta,
					tau,
					den;
		int			len = k + 2;	/* rows 0..k+1 of B */

		for (i = 0; i < len; i++)
			if (fabs(bk[i]) > scale)
				scale = fabs(bk[i]);
		if (scale == 0.0)
			continue;			/* nothing below the diagonal: H = I */
		if (fabs(x0) > scale)
			scale = fabs(x0);
		/* scaled sum of squares: no overflow or underflow in the norm */
		for (i = 0; i < len; i++)
		{
			t = bk[i] / scale;
			ssq += t * t;
		}
		t = x0 / scale;
		nrm = scale * sqrt(ssq + t * t);
		beta = x0 >= 0.0 ? -nrm : nrm;
		tau = (beta - x0) / beta;
		den = x0 - beta;
		for (i = 0; i < len; i++)
		{
			v[i] = bk[i] / den;
			bk[i] = 0.0;
		}
		A[k + (size_t) k * p1] = beta;
		for (j = k + 1; j < p1; j++)
		{
			double	   *bj = B + (size_t) j * mb;
			double		w;

			w = (A[k + (size_t) j * p1] + lane_dot(v, bj, len)) * tau;
			A[k + (size_t) j * p1] -= w;
			for (i = 0; i < len; i++)
				bj[i] -= w * v[i];
		}
	}
	for (j = 0; j < p1; j++)
		for (i = 0; i < p1; i++)
			R[i + (size_t) j * p1] = i <= j ? A[i + (size_t) j * p1] : 0.0;
}

mlc_status
mlc_linear_stats_merge(int p1, const double *a, const double *b, double *out,
					   mlc_error *err)
{
	size_t		sz = stats_doubles(p1),
				lo_off;
	double		na,
				nb,
				n,
				w,
				f;
	double	   *W;
	double	   *d;
	double	   *mh;
	double	   *ml;
	int			i,
				j;

	if (sz == 0)
		return stats_size_fail(p1, err);
	if (a == NULL || b == NULL || out == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"statistics merge called with a NULL buffer");
	na = a[0];
	nb = b[0];
	if (!count_ok(na) || !count_ok(nb) || !count_ok(na + nb))
		return mlc_fail(err, MLC_EINVAL, NULL,
						"invalid row counts %g and %g in chunk statistics",
						na, nb);
	lo_off = 1 + (size_t) p1 + (size_t) p1 * (size_t) p1;
	for (j = 0; j < p1; j++)
	{
		if (!isfinite(a[1 + j]) || !isfinite(b[1 + j]) ||
			!isfinite(a[lo_off + j]) || !isfinite(b[lo_off + j]))
			return mlc_fail(err, MLC_EINVAL, NULL,
							"non-finite column mean in chunk statistics");
		for (i = 0; i <= j; i++)
			if (!isfinite(RIX(a + 1 + p1, p1, i, j)) ||
				!isfinite(RIX(b + 1 + p1, p1, i, j)))
				return mlc_fail(err, MLC_EINVAL, NULL,
								"non-finite R entry in chunk statistics");
	}

	/* an empty side: the other one, bit for bit */
	if (nb == 0.0)
	{
		if (out != a)
			memmove(out, a, sizeof(double) * sz);
		return MLC_OK;
	}
	if (na == 0.0)
	{
		if (out != b)
			memmove(out, b, sizeof(double) * sz);
		return MLC_OK;
	}

	/*
	 * work: Ra copy, [d; Rb], reflector, then the scaled mean difference d
	 * and the merged means (hi, lo), computed before out is written
	 */
	W = mlc_alloc(sizeof(double) *
				  (2 * (size_t) p1 * (size_t) p1 + 2 * (size_t) p1 + 2 + 3 * (size_t) p1));
	if (W == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL,
						"out of memory for statistics merge");
	d = W + 2 * (size_t) p1 * (size_t) p1 + 2 * (size_t) p1 + 2;
	mh = d + p1;
	ml = mh + p1;
	n = na + nb;
	w = sqrt(na * nb / n);
	f = nb / n;
	for (j = 0; j < p1; j++)
	{
		double		dh = b[1 + j],
					dl = b[lo_off + j],
					q,
					qe;

		/* (dh, dl) = mb - ma in double-double */
		dd_add(&dh, &dl, -a[1 + j], -a[lo_off + j]);
		d[j] = -w * (dh + dl);
		/* merged mean ma + f (mb - ma) in double-double */
		two_prod(f, dh, &q, &qe);
		qe += f * dl;
		mh[j] = a[1 + j];
		ml[j] = a[lo_off + j];
		dd_add(&mh[j], &ml[j], q, qe);
	}
	/* merge_factor copies Ra and Rb before it writes R (out may alias) */
	merge_factor(p1, a + 1 + p1, d, b + 1 + p1, W, out + 1 + p1);
	memcpy(out + 1, mh, sizeof(double) * (size_t) p1);
	memcpy(out + lo_off, ml, sizeof(double) * (size_t) p1);
	mlc_free(W);
	out[0] = n;
	return MLC_OK;
}

mlc_status
mlc_linear_stats_add_row(int p1, double *stats, const double *xy,
						 mlc_error *err)
{
	size_t		sz = stats_doubles(p1),
				lo_off;
	double		n,
				n1,
				w;
	double	   *v;
	double	   *R;
	int			j,
				k;

	if (sz == 0)
		return stats_size_fail(p1, err);
	if (stats == NULL || xy == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"statistics row update called with a NULL buffer");
	n = stats[0];
	if (!count_ok(n) || !count_ok(n + 1.0) || n + 1.0 > 9007199254740992.0)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"invalid row count %g in statistics", n);
	for (j = 0; j < p1; j++)
		if (!isfinite(xy[j]))
			return mlc_fail(err, MLC_EINVAL,
							"Rows with NaN or infinite values cannot be used for training.",
							"non-finite value in column %d of the row", j);
	lo_off = 1 + (size_t) p1 + (size_t) p1 * (size_t) p1;
	R = stats + 1 + p1;
	v = mlc_alloc(sizeof(double) * 3 * (size_t) p1);
	if (v == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL,
						"out of memory for statistics row update");
	n1 = n + 1.0;
	w = sqrt(n / n1);
	/* v: weighted difference; v + p1, v + 2 p1: new means (hi, lo) */
	for (j = 0; j < p1; j++)
	{
		double		dh = xy[j],
					dl = 0.0,
					q,
					qe,
					mh = stats[1 + j],
					ml = stats[lo_off + j];

		/* (dh, dl) = x - m in double-double */
		dd_add(&dh, &dl, -mh, -ml);
		if (!isfinite(dh) || !isfinite(dl))
		{
			mlc_free(v);
			return mlc_fail(err, MLC_EINVAL,
							"Rescale the column; its values are too large to center in double precision.",
							"column %d overflows when centered", j);
		}
		v[j] = w * (dh + dl);
		/* m + (dh + dl) / n1: quotient and its remainder */
		q = dh / n1;
		qe = (fma(-q, n1, dh) + dl) / n1;
		dd_add(&mh, &ml, q, qe);
		v[p1 + j] = mh;
		v[2 * p1 + j] = ml;
	}
	for (j = 0; j < p1; j++)
		if (!isfinite(v[j]))
		{
			mlc_free(v);
			return mlc_fail(err, MLC_EINVAL, NULL,
							"column %d overflows in the statistics update", j);
		}

	/* rotate the row v into R, column by column */
	if (n > 0.0)
		for (k = 0; k < p1; k++)
		{
			double		a = v[k],
						r = RIX(R, p1, k, k),
						h,
						c,
						s;

			if (a == 0.0)
				continue;
			h = hypot(r, a);
			c = r / h;
			s = a / h;
			RIX(R, p1, k, k) = h;
			v[k] = 0.0;
			for (j = k + 1; j < p1; j++)
			{
				double		t = RIX(R, p1, k, j),
							u = v[j];

				RIX(R, p1, k, j) = c * t + s * u;
				v[j] = c * u - s * t;
			}
		}
	memcpy(stats + 1, v + p1, sizeof(double) * (size_t) p1);
	memcpy(stats + lo_off, v + 2 * p1, sizeof(double) * (size_t) p1);
	stats[0] = n1;
	mlc_free(v);
	return MLC_OK;
}

mlc_status
mlc_linear_stats_tree(int p1, int nchunks, double *stats, size_t stride,
					  mlc_error *err)
{
	size_t		sz = stats_doubles(p1);
	int64_t		step,
				i;
	mlc_status	st;

	if (sz == 0 || nchunks < 1 || stats == NULL || stride < sz)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"invalid statistics tree arguments (%d columns, %d chunks, stride %zu)",
						p1, nchunks, stride);
	if ((size_t) nchunks > ((size_t) -1) / sizeof(double) / stride)
		return mlc_fail(err, MLC_EINVAL, NULL, "too many chunks");
	/* level by level: (0,1),(2,3),... then (0,2),(4,6),... then (0,4),... */
	for (step = 1; step < nchunks; step *= 2)
	{
		for (i = 0; i + step < nchunks; i += 2 * step)
		{
			double	   *left = stats + (size_t) i * stride;

			st = mlc_linear_stats_merge(p1, left,
										stats + (size_t) (i + step) * stride,
										left, err);
			if (st != MLC_OK)
				return st;
		}
	}
	return MLC_OK;
}

/*
 * Solve U x = rhs for upper triangular U (k x k, leading dimension ld),
 * in place in x (which holds rhs).  Returns the first zero pivot or -1.
 */
static int
back_substitute(int k, const double *U, int ld, double *x)
{
	int			i,
				j;

	for (i = k - 1; i >= 0; i--)
	{
		double		s = x[i];

		for (j = i + 1; j < k; j++)
			s -= RIX(U, ld, i, j) * x[j];
		if (RIX(U, ld, i, i) == 0.0)
			return i;
		x[i] = s / RIX(U, ld, i, i);
	}
	return -1;
}

static void
summary_reset(mlc_linear_summary *s, int64_t n, int p)
{
	s->n = n;
	s->p = p;
	s->std_error = NULL;
	s->t_stat = NULL;
	s->p_value = NULL;
	s->rss = NAN;
	s->tss = NAN;
	s->r2 = NAN;
	s->adj_r2 = NAN;
	s->residual_sd = NAN;
	s->condition_number = NAN;
	s->dependent_feature = -1;
	s->dependent_is_constant = 0;
}

/*
 * Ridge: least squares of [R_xx; sqrt(alpha) I] b ~ [z; 0].  R2 (p1 x p1)
 * gets the R factor of [R_xx z; sqrt(alpha) I 0] (2p x p1): its top-left
 * p x p block satisfies R2^T R2 = R_xx^T R_xx + alpha I and its last column
 * holds the transformed right-hand side.
 */
static mlc_status
ridge_factor(int p, const double *R, double alpha, double *R2, mlc_error *err)
{
	int			p1 = p + 1;
	int			m = 2 * p;
	double	   *M;
	double		sa = sqrt(alpha);
	mlc_status	st;
	int			i,
				j;

	M = mlc_alloc0(sizeof(double) * (size_t) m * (size_t) p1);
	if (M == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for ridge solve");
	for (j = 0; j < p1; j++)
		for (i = 0; i < p && i <= j; i++)
			RIX(M, m, i, j) = RIX(R, p1, i, j);
	for (i = 0; i < p; i++)
		RIX(M, m, p + i, i) = sa;
	st = mlc_qr_r(m, p1, M, R2, err);
	mlc_free(M);
	return st;
}

/*
 * The triangular factor F (p1 x p1, leading p x p block used) whose Gram
 * matrix is the normal matrix of the problem: R itself for OLS, the ridge
 * factor for alpha > 0.  Its last column holds the right-hand side.
 */
static mlc_status
normal_factor(int p, const double *R, double alpha, double *F, mlc_error *err)
{
	if (alpha == 0.0)
	{
		memcpy(F, R, sizeof(double) * (size_t) (p + 1) * (size_t) (p + 1));
		return MLC_OK;
	}
	return ridge_factor(p, R, alpha, F, err);
}

/*
 * Standard errors of OLS coefficients: Cov(b) = sigma^2 (R_xx^T R_xx)^-1
 * = sigma^2 Rinv Rinv^T with Rinv = R_xx^-1 (upper triangular), so
 * Var(b_j) = sigma^2 ||row j of Rinv||^2 and, since the mean of y is
 * uncorrelated with b on centered data,
 * Var(intercept) = sigma^2 (1/n + ||Rinv^T mean_x||^2).
 */
static mlc_status
ols_std_errors(int p, const double *R, const double *means, int64_t n,
			   double sigma2, double *se, mlc_error *err)
{
	int			p1 = p + 1;
	double	   *Rinv;
	double		w,
				acc;
	int			i,
				j,
				k;

	Rinv = mlc_alloc0(sizeof(double) * ((size_t) p * (size_t) p + 1));
	if (Rinv == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL,
						"out of memory for standard errors");
	/* column k of Rinv solves R_xx x = e_k; only rows 0..k are nonzero */
	for (k = 0; k < p; k++)
	{
		double	   *x = Rinv + (size_t) k * p;

		x[k] = 1.0;
		(void) back_substitute(k + 1, R, p1, x);
	}
	for (j = 0; j < p; j++)
	{
		acc = 0.0;
		for (k = j; k < p; k++)
			acc += RIX(Rinv, p, j, k) * RIX(Rinv, p, j, k);
		se[j + 1] = sqrt(sigma2 * acc);
	}
	acc = 0.0;
	for (k = 0; k < p; k++)
	{
		w = 0.0;
		for (i = 0; i <= k; i++)
			w += RIX(Rinv, p, i, k) * means[i];
		acc += w * w;
	}
	se[0] = sqrt(sigma2 * (1.0 / (double) n + acc));
	mlc_free(Rinv);
	return MLC_OK;
}

/* Singular values of the leading p x p block of F (ld p1), columns scaled by 1/scale[j] when scale != NULL. */
static mlc_status
block_singular_values(int p, const double *F, const double *scale, double *sv,
					  mlc_error *err)
{
	int			p1 = p + 1;
	double	   *B;
	mlc_status	st;
	int			i,
				j;

	B = mlc_alloc(sizeof(double) * (size_t) p * (size_t) p);
	if (B == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL,
						"out of memory for singular values");
	for (j = 0; j < p; j++)
		for (i = 0; i < p; i++)
			RIX(B, p, i, j) = i <= j ?
				RIX(F, p1, i, j) / (scale != NULL ? scale[j] : 1.0) : 0.0;
	st = mlc_singular_values(p, B, sv, err);
	mlc_free(B);
	return st;
}

/*
 * Fill the summary from R and the model's coefficients: sums of squares,
 * R^2, residual sd, inference (OLS only, when there are residual degrees
 * of freedom and the summary arrays are allocated) and the condition
 * number.
 */
static mlc_status
finish_summary(int p, const double *R, const double *means, int64_t n,
			   double alpha, const mlc_linear_model *model,
			   mlc_linear_summary *s, mlc_error *err)
{
	int			p1 = p + 1;
	double		tss = 0.0,
				rss = 0.0,
				df,
				acc;
	double	   *sv;
	mlc_status	st;
	int			i,
				j;

	for (i = 0; i < p1; i++)
		tss += RIX(R, p1, i, p) * RIX(R, p1, i, p);
	/* rss = ||R [-b; 1]||^2 = ||Xc b - yc||^2 for these coefficients */
	for (i = 0; i < p1; i++)
	{
		acc = RIX(R, p1, i, p);
		for (j = i; j < p; j++)
			acc -= RIX(R, p1, i, j) * model->coef[j];
		rss += acc * acc;
	}

	df = (double) n - (double) p - 1.0;
	s->n = n;
	s->p = p;
	s->rss = rss;
	s->tss = tss;
	s->r2 = tss > 0.0 ? 1.0 - rss / tss : NAN;
	s->adj_r2 = (tss > 0.0 && df > 0.0) ?
		1.0 - (rss / tss) * ((double) n - 1.0) / df : NAN;
	s->residual_sd = df > 0.0 ? sqrt(rss / df) : NAN;

	if (s->std_error != NULL && s->t_stat != NULL && s->p_value != NULL)
	{
		for (i = 0; i < p1; i++)
		{
			s->std_error[i] = NAN;
			s->t_stat[i] = NAN;
			s->p_value[i] = NAN;
		}
		if (alpha == 0.0 && df > 0.0)
		{
			st = ols_std_errors(p, R, means, n, rss / df, s->std_error, err);
			if (st != MLC_OK)
				return st;
			for (i = 0; i < p1; i++)
			{
				s->t_stat[i] = (i == 0 ? model->intercept : model->coef[i - 1]) /
					s->std_error[i];
				s->p_value[i] = mlc_t_pvalue(s->t_stat[i], df);
			}
		}
	}

	/* 2-norm condition number of centered X = that of R_xx */
	s->condition_number = NAN;
	if (p > 0)
	{
		sv = mlc_alloc(sizeof(double) * (size_t) p);
		if (sv == NULL)
			return mlc_fail(err, MLC_ENOMEM, NULL,
							"out of memory for condition number");
		st = block_singular_values(p, R, NULL, sv, err);
		if (st == MLC_OK)
			s->condition_number = sv[p - 1] > 0.0 ? sv[0] / sv[p - 1] : INFINITY;
		mlc_free(sv);
		if (st != MLC_OK)
			return st;
	}
	return MLC_OK;
}

mlc_status
mlc_linear_solve(int p, const double *R, const double *means, int64_t n,
				 double alpha, mlc_linear_model *model,
				 mlc_linear_summary *summary, mlc_error *err)
{
	mlc_linear_summary dummy;
	mlc_linear_summary *s = summary != NULL ? summary : &dummy;
	mlc_status	st = MLC_OK;
	int			p1 = p + 1;
	double	   *coef = NULL;
	double	   *F = NULL;
	double		acc;
	int			i,
				j;

	if (model != NULL)
	{
		model->p = p;
		model->intercept = NAN;
		model->coef = NULL;
	}
	summary_reset(s, n, p);

	if (p < 0 || p > MLC_MAX_FEATURES)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"invalid feature count %d (at most %d)", p,
						MLC_MAX_FEATURES);
	if (R == NULL || means == NULL || model == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "solve called with a NULL argument");
	if (!isfinite(alpha) || alpha < 0.0)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"ridge penalty alpha must be finite and >= 0, got %g", alpha);
	if (n <= 0)
		return mlc_fail(err, MLC_ENODATA, NULL, "no rows to train on");
	if (alpha == 0.0 && n <= p)
		return mlc_fail(err, MLC_ENODATA,
						"Linear regression with an intercept needs more rows than features; use ridge (alpha > 0) for wide data.",
						"not enough rows: %lld rows for %d features",
						(long long) n, p);
	for (j = 0; j < p1; j++)
	{
		if (!isfinite(means[j]))
			return mlc_fail(err, MLC_EINVAL, NULL, "non-finite column mean");
		for (i = 0; i <= j; i++)
			if (!isfinite(RIX(R, p1, i, j)))
				return mlc_fail(err, MLC_EINVAL, NULL,
								"non-finite entry in the R factor");
	}

	if (alpha == 0.0)
	{
		for (j = 0; j < p; j++)
		{
			double		cn = 0.0;

			for (i = 0; i <= j; i++)
				cn += RIX(R, p1, i, j) * RIX(R, p1, i, j);
			cn = sqrt(cn);
			/* Centering leaves a constant column at rounding level of its mean. */
			if (cn == 0.0 || cn <= 1e-10 * fabs(means[j]) * sqrt((double) n))
			{
				s->dependent_feature = j;
				s->dependent_is_constant = 1;
				return mlc_fail(err, MLC_ESINGULAR,
								"A constant column is collinear with the intercept. Remove it, or use ridge (alpha > 0).",
								"feature %d is constant", j);
			}
			if (fabs(RIX(R, p1, j, j)) <= RANK_TOL * cn)
			{
				s->dependent_feature = j;
				return mlc_fail(err, MLC_ESINGULAR,
								"The column is (numerically) a linear combination of the intercept and the columns before it. Remove it, or use ridge (alpha > 0).",
								"feature %d is collinear with earlier features", j);
			}
		}
	}

	coef = mlc_alloc(sizeof(double) * (size_t) (p > 0 ? p : 1));
	F = mlc_alloc(sizeof(double) * (size_t) p1 * (size_t) p1);
	if (summary != NULL)
	{
		s->std_error = mlc_alloc(sizeof(double) * (size_t) p1);
		s->t_stat = mlc_alloc(sizeof(double) * (size_t) p1);
		s->p_value = mlc_alloc(sizeof(double) * (size_t) p1);
	}
	if (coef == NULL || F == NULL ||
		(summary != NULL && (s->std_error == NULL || s->t_stat == NULL ||
							 s->p_value == NULL)))
	{
		st = mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for linear solve");
		goto fail;
	}

	/* coefficients: F b = last column of F */
	if (p > 0)
	{
		st = normal_factor(p, R, alpha, F, err);
		if (st != MLC_OK)
			goto fail;
		for (i = 0; i < p; i++)
			coef[i] = RIX(F, p1, i, p);
		i = back_substitute(p, F, p1, coef);
		if (i >= 0)
		{
			s->dependent_feature = i;
			st = mlc_fail(err, MLC_ESINGULAR, NULL,
						  alpha == 0.0 ?
						  "feature %d is collinear with earlier features" :
						  "ridge system is singular at feature %d (alpha too small)",
						  i);
			goto fail;
		}
	}
	acc = means[p];
	for (j = 0; j < p; j++)
		acc -= means[j] * coef[j];
	model->intercept = acc;
	model->coef = coef;

	st = finish_summary(p, R, means, n, alpha, model, s, err);
	if (st != MLC_OK)
		goto fail;
	mlc_free(F);
	return MLC_OK;

fail:
	mlc_free(coef);
	mlc_free(F);
	model->intercept = NAN;
	model->coef = NULL;
	if (summary != NULL)
	{
		mlc_free(s->std_error);
		mlc_free(s->t_stat);
		mlc_free(s->p_value);
		s->std_error = NULL;
		s->t_stat = NULL;
		s->p_value = NULL;
	}
	return st;
}

/* ---------- optional pass 3: iterative refinement ---------- */

/*
 * Why: a QR factor rounded to double is the exact factor of data perturbed
 * by about eps per column, and with a large residual that moves the
 * coefficients by about eps * kappa^2 * ||r|| / ||X b|| (kappa: condition
 * number of the column-scaled centered X).  On NIST Wampler5 that is 6
 * correct digits out of 16, and no double-precision QR does better.  One
 * refinement step with exactly computed residuals removes it: with
 * r = y - a - X b and g = Xc^T r evaluated in double-double arithmetic,
 *   (F^T F) d = g - alpha b,   b += d,   a += mean(r) - mean_x . d
 * where F^T F = Xc^T Xc + alpha I comes from the R factor.  The step
 * contracts the error by about eps * kappa^2, so it is applied only when
 * that is small (see REFINE_MAX_CONTRACTION); otherwise the QR solution
 * stands.
 *
 * acc layout: acc[k] + acc[p + 1 + k] (high, low parts) for k = 0..p, with
 * k = 0 the sum of residuals and k = j + 1 the sum of x_j * residual
 * (uncentered; the centering is applied in mlc_linear_refine_apply).
 */
#define REFINE_MAX_CONTRACTION 1e-3

mlc_status
mlc_linear_refine_chunk(const mlc_block *b, const mlc_linear_model *m,
						double *acc, mlc_error *err)
{
	int			p,
				p1;
	int64_t		i,
				imask;
	int			j;

	if (b == NULL || m == NULL || acc == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"refinement called with a NULL argument");
	p = b->p;
	if (p < 0 || p > MLC_MAX_FEATURES || m->p != p || b->n < 0)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"refinement chunk does not match the model (%d vs %d features)",
						p, m->p);
	if (b->n == 0)
		return MLC_OK;
	if ((p > 0 && (b->X == NULL || m->coef == NULL)) || b->y == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"refinement called with NULL data");
	p1 = p + 1;

	imask = mlc_interrupt_mask(8 * (int64_t) p1);
	for (i = 0; i < b->n; i++)
	{
		double		s,
					c = 0.0,
					e,
					q,
					qe,
					rh,
					rl;

		if ((i & imask) == 0 && mlc_interrupted())
			return mlc_fail(err, MLC_EINTR, NULL, "refinement interrupted");

		/* r = y - a - sum_j x_j b_j, compensated (Dot2) */
		if (!isfinite(b->y[i]))
			return mlc_fail(err, MLC_EINVAL, NULL,
							"non-finite target value in row %lld of the chunk",
							(long long) i);
		two_sum(b->y[i], -m->intercept, &s, &e);
		c += e;
		for (j = 0; j < p; j++)
		{
			double		x = b->X[(size_t) i + (size_t) j * (size_t) b->n];

			if (!isfinite(x))
				return mlc_fail(err, MLC_EINVAL, NULL,
								"non-finite value in feature %d of row %lld of the chunk",
								j, (long long) i);
			two_prod(x, -m->coef[j], &q, &qe);
			two_sum(s, q, &s, &e);
			c += e + qe;
		}
		two_sum(s, c, &rh, &rl);

		dd_add(&acc[0], &acc[p1], rh, rl);
		for (j = 0; j < p; j++)
		{
			double		x = b->X[(size_t) i + (size_t) j * (size_t) b->n];

			two_prod(x, rh, &q, &qe);
			dd_add(&acc[j + 1], &acc[p1 + j + 1], q, qe + x * rl);
		}
	}
	return MLC_OK;
}

void
mlc_linear_refine_combine(int p, double *into, const double *other)
{
	int			k;

	for (k = 0; k <= p; k++)
		dd_add(&into[k], &into[p + 1 + k], other[k], other[p + 1 + k]);
}

mlc_status
mlc_linear_refine_apply(int p, const double *R, const double *means, int64_t n,
						double alpha, const double *acc,
						mlc_linear_model *model, mlc_linear_summary *summary,
						int *applied, mlc_error *err)
{
	int			p1 = p + 1;
	double	   *F = NULL;
	double	   *d = NULL;
	double	   *sv = NULL;
	double	   *scale = NULL;
	double		g0,
				h0h,
				h0l,
				da,
				kappa;
	mlc_status	st = MLC_OK;
	int			i,
				j;

	if (applied != NULL)
		*applied = 0;
	if (p < 0 || p > MLC_MAX_FEATURES || R == NULL || means == NULL ||
		acc == NULL || model == NULL || model->p != p ||
		(p > 0 && model->coef == NULL))
		return mlc_fail(err, MLC_EINVAL, NULL,
						"refinement apply called with invalid arguments");
	if (n <= 0)
		return mlc_fail(err, MLC_ENODATA, NULL, "no rows to train on");
	if (!isfinite(alpha) || alpha < 0.0)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"ridge penalty alpha must be finite and >= 0, got %g", alpha);
	for (i = 0; i < 2 * p1; i++)
		if (!isfinite(acc[i]))
			return MLC_OK;		/* overflowed residual sums: keep the QR solution */

	h0h = acc[0];
	h0l = acc[p1];
	g0 = h0h + h0l;

	F = mlc_alloc(sizeof(double) * (size_t) p1 * (size_t) p1);
	d = mlc_alloc(sizeof(double) * (size_t) p1);
	sv = mlc_alloc(sizeof(double) * (size_t) p1);
	scale = mlc_alloc(sizeof(double) * (size_t) p1);
	if (F == NULL || d == NULL || sv == NULL || scale == NULL)
	{
		st = mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for refinement");
		goto done;
	}

	if (p > 0)
	{
		st = normal_factor(p, R, alpha, F, err);
		if (st != MLC_OK)
			goto done;

		/* contraction estimate eps * kappa_s^2 of the column-scaled factor */
		for (j = 0; j < p; j++)
		{
			double		cn = 0.0;

			for (i = 0; i <= j; i++)
				cn += RIX(F, p1, i, j) * RIX(F, p1, i, j);
			scale[j] = sqrt(cn);
			if (!(scale[j] > 0.0))
				goto done;
		}
		st = block_singular_values(p, F, scale, sv, err);
		if (st != MLC_OK)
			goto done;
		kappa = sv[p - 1] > 0.0 ? sv[0] / sv[p - 1] : INFINITY;
		if (!(2.220446049250313e-16 * kappa * kappa <= REFINE_MAX_CONTRACTION))
			goto done;

		/* g_j = sum (x_j - m_j) r = h_j - m_j h_0, in double-double; minus alpha b */
		for (j = 0; j < p; j++)
		{
			double		q,
						qe,
						hh = acc[j + 1],
						hl = acc[p1 + j + 1];

			two_prod(means[j], h0h, &q, &qe);
			qe += means[j] * h0l;
			dd_add(&hh, &hl, -q, -qe);
			d[j] = hh + hl - alpha * model->coef[j];
		}
		/* (F^T F) d = g: forward substitution with F^T, then back with F */
		for (i = 0; i < p; i++)
		{
			double		t = d[i];

			for (j = 0; j < i; j++)
				t -= RIX(F, p1, j, i) * d[j];
			d[i] = t / RIX(F, p1, i, i);
		}
		if (back_substitute(p, F, p1, d) >= 0)
			goto done;
		for (j = 0; j < p; j++)
			if (!isfinite(d[j]))
				goto done;
	}

	da = g0 / (double) n;
	for (j = 0; j < p; j++)
		da -= means[j] * d[j];
	if (!isfinite(da))
		goto done;
	for (j = 0; j < p; j++)
		model->coef[j] += d[j];
	model->intercept += da;
	if (applied != NULL)
		*applied = 1;
	if (summary != NULL)
		st = finish_summary(p, R, means, n, alpha, model, summary, err);

done:
	mlc_free(F);
	mlc_free(d);
	mlc_free(sv);
	mlc_free(scale);
	return st;
}

/*
 * intercept + sum_j coef[j] * x[j], accumulated in index order so that the
 * same model and row give the same bits wherever this file is compiled
 * without floating-point contraction (x86-64 without -mfma does not fuse).
 */
double
mlc_linear_predict(const mlc_linear_model *m, const double *x)
{
	double		acc = m->intercept;
	int			j;

	for (j = 0; j < m->p; j++)
		acc += m->coef[j] * x[j];
	return acc;
}

/*
 * The same sums for a block, column by column: yhat[i] starts at the
 * intercept and gets coef[j] * x_ij added for j = 0, 1, ... in turn, which
 * is mlc_linear_predict's order for every row, so the bits are the same.
 * Rows are taken in tiles so that the tile of yhat stays in L1 while the
 * columns stream through; the inner loop has no dependence between rows
 * and vectorizes.
 */
#define PREDICT_TILE 512

/* yhat[0..len) for rows whose column j starts at X + j * ld */
static inline void
predict_rows(const mlc_linear_model *m, const double *X, size_t ld,
			 int64_t len, double *restrict out)
{
	int64_t		i;
	int			j;

	for (i = 0; i < len; i++)
		out[i] = m->intercept;
	for (j = 0; j < m->p; j++)
	{
		const double *restrict x = X + (size_t) j * ld;
		double		c = m->coef[j];

		for (i = 0; i < len; i++)
			out[i] += c * x[i];
	}
}

/*
 * The same with the trip count a compile-time constant: at -O2 gcc's
 * "very cheap" vectorizer only takes loops it needs no scalar epilogue for.
 */
static void
predict_full_tile(const mlc_linear_model *m, const double *X, size_t ld,
				  double *restrict out)
{
	int			i,
				j;

	for (i = 0; i < PREDICT_TILE; i++)
		out[i] = m->intercept;
	for (j = 0; j < m->p; j++)
	{
		const double *restrict x = X + (size_t) j * ld;
		double		c = m->coef[j];

		for (i = 0; i < PREDICT_TILE; i++)
			out[i] += c * x[i];
	}
}

void
mlc_linear_predict_block(const mlc_linear_model *m, const mlc_block *b,
						 double *yhat)
{
	int64_t		n,
				i0,
				i;
	int			p;

	if (m == NULL || b == NULL || yhat == NULL || b->n <= 0)
		return;
	n = b->n;
	p = m->p;
	if (b->p != p || (p > 0 && (b->X == NULL || m->coef == NULL)))
	{
		for (i = 0; i < n; i++)
			yhat[i] = NAN;
		return;
	}
	if (p == 0)
	{
		for (i = 0; i < n; i++)
			yhat[i] = m->intercept;
		return;
	}
	for (i0 = 0; i0 + PREDICT_TILE <= n; i0 += PREDICT_TILE)
		predict_full_tile(m, b->X + i0, (size_t) n, yhat + i0);
	if (i0 < n)
		predict_rows(m, b->X + i0, (size_t) n, n - i0, yhat + i0);
}

/* ---------- regression metrics ---------- */

void
mlc_reg_metrics_add(mlc_reg_metrics *m, double y, double yhat)
{
	double		r = y - yhat;

	m->n += 1.0;
	m->sse += r * r;
	m->sae += fabs(r);
	m->sum_y += y;
	m->sum_y2 += y * y;
	m->sum_res += r;
	m->sum_res2 += r * r;
}

void
mlc_reg_metrics_combine(mlc_reg_metrics *into, const mlc_reg_metrics *other)
{
	into->n += other->n;
	into->sse += other->sse;
	into->sae += other->sae;
	into->sum_y += other->sum_y;
	into->sum_y2 += other->sum_y2;
	into->sum_res += other->sum_res;
	into->sum_res2 += other->sum_res2;
}

/*
 * The variances come from one-pass sums (sum_y2 - sum_y^2 / n), which
 * cancel catastrophically when |mean y| is large against the spread of y
 * (relative error about eps * mean^2 / variance).  That is acceptable for
 * evaluation metrics; the training statistics use the QR factor instead.
 */
void
mlc_reg_metrics_final(const mlc_reg_metrics *m, double *r2, double *rmse,
					  double *mae, double *explained_variance)
{
	double		n = m->n;
	double		tss,
				var_y,
				var_res;

	if (rmse != NULL)
		*rmse = n >= 1.0 ? sqrt(m->sse / n) : NAN;
	if (mae != NULL)
		*mae = n >= 1.0 ? m->sae / n : NAN;
	tss = n >= 1.0 ? m->sum_y2 - m->sum_y * m->sum_y / n : NAN;
	if (r2 != NULL)
		*r2 = (n >= 2.0 && tss > 0.0) ? 1.0 - m->sse / tss : NAN;
	if (explained_variance != NULL)
	{
		var_y = n >= 1.0 ? tss / n : NAN;
		var_res = n >= 1.0 ?
			m->sum_res2 / n - (m->sum_res / n) * (m->sum_res / n) : NAN;
		if (var_res < 0.0)
			var_res = 0.0;		/* rounding */
		*explained_variance = (n >= 2.0 && var_y > 0.0) ?
			1.0 - var_res / var_y : NAN;
	}
}
