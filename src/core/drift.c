/*
 * drift.c: drift statistics for model monitoring.
 *
 *   PSI      sum_i (c_i - r_i) ln(c_i / r_i), shares floored at eps
 *   KS       max_b |F_ref(b) - F_cur(b)| over the k bin boundaries
 *   KS p     Kolmogorov Q(lambda) with Stephens' small-sample correction
 *            lambda = (sqrt(ne) + 0.12 + 0.11 / sqrt(ne)) d
 *   JS       sqrt(0.5 KL(p || m) + 0.5 KL(q || m)), m = (p + q) / 2, log2
 *
 * Weights are normalized inside: each weight is first divided by the
 * largest one (so the total cannot overflow), then by the scaled total.
 * Negative, NaN or infinite weights, NULL arrays and k < 1 give NAN.
 */
#include <math.h>
#include <stddef.h>

#include "mlcore.h"

/* M_PI is not part of C99 */
#define DRIFT_PI 3.14159265358979323846

/*
 * Validate k weights and find the scale (largest weight) and the total of
 * the scaled weights; share i is then (w[i] / *scale) / *total.  Returns 0
 * for invalid input or a zero total.
 */
static int
weights_scale(int k, const double *w, double *scale, double *total)
{
	double		mx = 0.0,
				s = 0.0;
	int			i;

	if (k < 1 || w == NULL)
		return 0;
	for (i = 0; i < k; i++)
	{
		if (!isfinite(w[i]) || w[i] < 0.0)
			return 0;
		if (w[i] > mx)
			mx = w[i];
	}
	if (mx <= 0.0)
		return 0;
	for (i = 0; i < k; i++)
		s += w[i] / mx;
	*scale = mx;
	*total = s;
	return 1;
}

static double
share(const double *w, int i, double scale, double total)
{
	return (w[i] / scale) / total;
}

double
mlc_psi(int k, const double *ref, const double *cur, double eps)
{
	double		rs,
				rt,
				cs,
				ct,
				sum = 0.0;
	int			i;

	if (!isfinite(eps) || eps <= 0.0)
		return NAN;
	if (!weights_scale(k, ref, &rs, &rt) || !weights_scale(k, cur, &cs, &ct))
		return NAN;
	for (i = 0; i < k; i++)
	{
		double		r = share(ref, i, rs, rt);
		double		c = share(cur, i, cs, ct);

		if (r < eps)
			r = eps;
		if (c < eps)
			c = eps;
		/* (c - r) and ln(c / r) share their sign: every term is >= 0 */
		sum += (c - r) * log(c / r);
	}
	return sum;
}

double
mlc_ks_binned(int k, const double *ref, const double *cur)
{
	double		rs,
				rt,
				cs,
				ct,
				fr = 0.0,
				fc = 0.0,
				d = 0.0;
	int			i;

	if (!weights_scale(k, ref, &rs, &rt) || !weights_scale(k, cur, &cs, &ct))
		return NAN;
	/* cumulate scaled weights, divide at each boundary; the last gives 0 */
	for (i = 0; i < k - 1; i++)
	{
		double		diff;

		fr += ref[i] / rs;
		fc += cur[i] / cs;
		diff = fabs(fr / rt - fc / ct);
		if (diff > d)
			d = diff;
	}
	return d > 1.0 ? 1.0 : d;
}

/*
 * Kolmogorov survival function Q(lambda) = P(K > lambda).
 *
 * For lambda >= 1 the alternating series 2 sum (-1)^(j-1) exp(-2 j^2 l^2)
 * converges very fast (ratio <= exp(-6)).  Below, the equivalent Jacobi
 * theta form
 *   1 - Q = sqrt(2 pi) / l * sum_{j>=1} exp(-(2j - 1)^2 pi^2 / (8 l^2))
 * converges just as fast and tends to 0 as l -> 0, so Q -> 1 without a
 * divergent series.
 */
static double
kolmogorov_q(double lambda)
{
	double		s = 0.0,
				q;
	int			j;

	if (lambda <= 0.0)
		return 1.0;
	if (lambda < 1.0)
	{
		double		a = DRIFT_PI * DRIFT_PI / (8.0 * lambda * lambda);

		for (j = 1; j <= 100; j++)
		{
			double		m = 2.0 * j - 1.0;
			double		t = exp(-m * m * a);

			s += t;
			if (t <= 1e-17 * s)
				break;
		}
		q = 1.0 - sqrt(2.0 * DRIFT_PI) / lambda * s;
	}
	else
	{
		double		l2 = lambda * lambda;

		for (j = 1; j <= 100; j++)
		{
			double		t = exp(-2.0 * j * j * l2);

			s += (j % 2 == 1) ? t : -t;
			if (t <= 1e-17 * fabs(s))
				break;
		}
		q = 2.0 * s;
	}
	if (q < 0.0)
		q = 0.0;
	if (q > 1.0)
		q = 1.0;
	return q;
}

double
mlc_ks_pvalue(double d, double n1, double n2)
{
	double		ne,
				sne,
				lambda;

	if (!isfinite(d) || d < 0.0 || d > 1.0 ||
		!isfinite(n1) || !isfinite(n2) || n1 <= 0.0 || n2 <= 0.0)
		return NAN;
	/* n1 n2 / (n1 + n2) without overflowing the product */
	ne = n1 >= n2 ? n2 / (1.0 + n2 / n1) : n1 / (1.0 + n1 / n2);
	sne = sqrt(ne);
	lambda = (sne + 0.12 + 0.11 / sne) * d;
	return kolmogorov_q(lambda);
}

double
mlc_js_distance(int k, const double *p, const double *q)
{
	double		ps,
				pt,
				qs,
				qt,
				js = 0.0;
	int			i;

	if (!weights_scale(k, p, &ps, &pt) || !weights_scale(k, q, &qs, &qt))
		return NAN;
	for (i = 0; i < k; i++)
	{
		double		a = share(p, i, ps, pt);
		double		b = share(q, i, qs, qt);
		double		m = 0.5 * a + 0.5 * b;

		if (a > 0.0)
			js += 0.5 * a * log2(a / m);
		if (b > 0.0)
			js += 0.5 * b * log2(b / m);
	}
	if (js < 0.0)
		js = 0.0;
	if (js > 1.0)
		js = 1.0;
	return sqrt(js);
}
