/*
 * test_nist.c: accuracy on the NIST StRD linear regression datasets
 * (Pontius, Filip, Wampler1-5) through the chunked pipeline.
 *
 * Data: test/data/nist_strd/<Name>.csv (header y,x); the directory can be
 * overridden with MLC_NIST_DIR.  The certified values below are copied
 * from test/data/nist_strd/certified.json (NIST StRD, public domain).
 *
 * LRE = -log10(|est - cert| / |cert|) (or -log10(|est|) for cert == 0),
 * capped at 15.  Required, for the pipeline with the refinement pass and
 * chunks of 1, 3, 7, 16 and all rows: every coefficient LRE >= 7 on Filip
 * and >= 9 elsewhere; every non-zero certified standard error LRE >= 6
 * (and residual sd / R^2 >= 6 on Filip).  Without refinement Filip must
 * still reach 7; the other QR-only figures are printed, not required
 * (Wampler4/5 lose digits to their huge residuals, see linear.c).
 *
 * MLC_NIST_VERBOSE=1 prints every chunking and every coefficient.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define NIST_CHUNK_ROWS 7

typedef struct nist_case
{
	const char *name;
	int			degree;
	double		min_coef_lre;
	double		estimate[11];
	double		std_error[11];
	double		residual_sd;	/* 0 = not checked */
	double		r_squared;		/* 0 = not checked */
} nist_case;

static const nist_case cases[] = {
	{"Pontius", 2, 9.0,
		{0.673565789473684E-03, 0.732059160401003E-06, -0.316081871345029E-14},
		{0.107938612033077E-03, 0.157817399981659E-09, 0.486652849992036E-16},
	0, 0},
	{"Filip", 10, 7.0,
		{-1467.48961422980, -2772.17959193342, -2316.37108160893,
			-1127.97394098372, -354.478233703349, -75.1242017393757,
			-10.8753180355343, -1.06221498588947, -0.670191154593408E-01,
		-0.246781078275479E-02, -0.402962525080404E-04},
		{298.084530995537, 559.779865474950, 466.477572127796,
			227.204274477751, 71.6478660875927, 15.2897178747400,
			2.23691159816033, 0.221624321934227, 0.142363763154724E-01,
		0.535617408889821E-03, 0.896632837373868E-05},
	0.334801051324544E-02, 0.996727416185620},
	{"Wampler1", 5, 9.0,
		{1, 1, 1, 1, 1, 1},
		{0, 0, 0, 0, 0, 0},
	0, 0},
	{"Wampler2", 5, 9.0,
		{1, 0.1, 0.01, 0.001, 0.0001, 0.00001},
		{0, 0, 0, 0, 0, 0},
	0, 0},
	{"Wampler3", 5, 9.0,
		{1, 1, 1, 1, 1, 1},
		{2152.32624678170, 2363.55173469681, 779.343524331583,
		101.475507550350, 5.64566512170752, 0.112324854679312},
	0, 0},
	{"Wampler4", 5, 9.0,
		{1, 1, 1, 1, 1, 1},
		{215232.624678170, 236355.173469681, 77934.3524331583,
		10147.5507550350, 564.566512170752, 11.2324854679312},
	0, 0},
	{"Wampler5", 5, 9.0,
		{1, 1, 1, 1, 1, 1},
		{21523262.4678170, 23635517.3469681, 7793435.24331583,
		1014755.07550350, 56456.6512170752, 1123.24854679312},
	0, 0},
};

static double
lre(double est, double cert)
{
	double		v;

	if (isnan(est))
		return 0.0;
	if (est == cert)
		return 15.0;
	v = cert == 0.0 ? -log10(fabs(est)) : -log10(fabs(est - cert) / fabs(cert));
	if (v > 15.0)
		v = 15.0;
	if (v < 0.0 || isnan(v))
		v = 0.0;
	return v;
}

/* Read "y,x" rows after a header line; returns the row count or -1. */
static int
read_csv(const char *name, double **xs, double **ys)
{
	const char *dir = getenv("MLC_NIST_DIR");
	char		path[1024];
	char		line[256];
	FILE	   *f;
	int			n = 0,
				cap = 64;

	snprintf(path, sizeof(path), "%s/%s.csv",
			 dir != NULL ? dir : "test/data/nist_strd", name);
	f = fopen(path, "r");
	if (f == NULL)
	{
		fprintf(stderr, "cannot open %s (run from the repository root or set MLC_NIST_DIR)\n", path);
		return -1;
	}
	*xs = malloc(sizeof(double) * cap);
	*ys = malloc(sizeof(double) * cap);
	if (fgets(line, sizeof(line), f) == NULL || strncmp(line, "y,x", 3) != 0)
	{
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL)
	{
		char	   *end;
		double		yv,
					xv;

		if (line[0] == '\n' || line[0] == '\0')
			continue;
		yv = strtod(line, &end);
		if (*end != ',')
		{
			fclose(f);
			return -1;
		}
		xv = strtod(end + 1, NULL);
		if (n == cap)
		{
			cap *= 2;
			*xs = realloc(*xs, sizeof(double) * cap);
			*ys = realloc(*ys, sizeof(double) * cap);
		}
		(*xs)[n] = xv;
		(*ys)[n] = yv;
		n++;
	}
	fclose(f);
	return n;
}

/* Fit one case; fills the minimal LREs.  Returns 0 on success. */
static int
fit_case(const nist_case *c, int chunk_rows, int refine, double *min_coef,
		 double *min_se, double *sd_lre, double *r2_lre, int *applied)
{
	double	   *xs = NULL,
			   *ys = NULL,
			   *X;
	int			n,
				d = c->degree,
				i,
				k;
	mlc_linear_model model;
	mlc_linear_summary summary;
	mlc_error	err;
	mlc_status	st;

	n = read_csv(c->name, &xs, &ys);
	if (n <= 0)
	{
		free(xs);
		free(ys);
		return -1;
	}
	X = malloc(sizeof(double) * (size_t) n * d);
	for (i = 0; i < n; i++)
	{
		double		v = xs[i];

		X[i] = v;
		for (k = 1; k < d; k++)
		{
			v = v * xs[i];		/* x^(k+1) by repeated multiplication */
			X[i + (size_t) k * n] = v;
		}
	}
	*applied = 0;
	if (refine)
		st = unit_fit_refined(n, d, X, ys, chunk_rows, 0.0, &model, &summary,
							  applied, &err);
	else
		st = unit_fit_chunked(n, d, X, ys, chunk_rows, 0.0, &model, &summary,
							  NULL, &err);
	free(X);
	free(xs);
	free(ys);
	if (st != MLC_OK)
	{
		fprintf(stderr, "%s: fit failed: %s (%s)\n", c->name, err.msg, err.detail);
		return -1;
	}
	*min_coef = 15.0;
	*min_se = 15.0;
	for (k = 0; k <= d; k++)
	{
		double		est = k == 0 ? model.intercept : model.coef[k - 1];
		double		l = lre(est, c->estimate[k]);

		if (l < *min_coef)
			*min_coef = l;
		if (getenv("MLC_NIST_VERBOSE") != NULL && chunk_rows == NIST_CHUNK_ROWS)
			printf("  %s %s b%d = %.15g  LRE %5.2f  se LRE %5.2f\n", c->name,
				   refine ? "refined" : "QR", k, est, l,
				   lre(summary.std_error[k], c->std_error[k]));
		if (c->std_error[k] != 0.0)
		{
			l = lre(summary.std_error[k], c->std_error[k]);
			if (l < *min_se)
				*min_se = l;
		}
	}
	if (getenv("MLC_NIST_VERBOSE") != NULL && chunk_rows == NIST_CHUNK_ROWS)
		printf("  %s condition number %.3g\n", c->name, summary.condition_number);
	*sd_lre = c->residual_sd != 0.0 ? lre(summary.residual_sd, c->residual_sd) : 15.0;
	*r2_lre = c->r_squared != 0.0 ? lre(summary.r2, c->r_squared) : 15.0;
	unit_free_fit(&model, &summary);
	return 0;
}

/*
 * Fit with several chunkings, QR only and with the refinement pass.  The
 * requirements apply to the refined pipeline; the QR-only figures are
 * printed for the record (Filip must reach 7 digits either way).
 */
static void
check_case(const nist_case *c)
{
	static const int chunkings[] = {NIST_CHUNK_ROWS, 1, 3, 16, 1000};
	int			verbose = getenv("MLC_NIST_VERBOSE") != NULL;
	double		mc,
				ms,
				sd,
				r2,
				worst = 15.0;
	int			applied;
	size_t		t;
	int			refine;

	for (refine = 0; refine <= 1; refine++)
	{
		worst = 15.0;
		for (t = 0; t < sizeof(chunkings) / sizeof(chunkings[0]); t++)
		{
			assert_int_equal(fit_case(c, chunkings[t], refine, &mc, &ms, &sd,
									  &r2, &applied), 0);
			if (mc < worst)
				worst = mc;
			if (verbose || t == 0)
			{
				printf("NIST %-8s %-7s chunk %4d: min LRE coef %5.2f  std error %5.2f",
					   c->name, refine ? (applied ? "refined" : "(skip)") : "QR",
					   chunkings[t], mc, ms);
				if (c->residual_sd != 0.0)
					printf("  residual sd %5.2f  R2 %5.2f", sd, r2);
				printf("\n");
			}
			if (refine)
			{
				assert_true(mc >= c->min_coef_lre);
				assert_true(ms >= 6.0);
				if (c->residual_sd != 0.0)
				{
					assert_true(sd >= 6.0);
					assert_true(r2 >= 6.0);
				}
			}
			else if (c->min_coef_lre <= 7.0)
				assert_true(mc >= c->min_coef_lre);
		}
		printf("NIST %-8s %-7s min coefficient LRE over chunkings 1, 3, 7, 16, all: %5.2f\n",
			   c->name, refine ? "refined" : "QR", worst);
	}
}

static void
test_pontius(void **state)
{
	check_case(&cases[0]);
}

static void
test_filip(void **state)
{
	check_case(&cases[1]);
}

static void
test_wampler1(void **state)
{
	check_case(&cases[2]);
}

static void
test_wampler2(void **state)
{
	check_case(&cases[3]);
}

static void
test_wampler3(void **state)
{
	check_case(&cases[4]);
}

static void
test_wampler4(void **state)
{
	check_case(&cases[5]);
}

static void
test_wampler5(void **state)
{
	check_case(&cases[6]);
}

int
run_nist_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pontius),
		cmocka_unit_test(test_filip),
		cmocka_unit_test(test_wampler1),
		cmocka_unit_test(test_wampler2),
		cmocka_unit_test(test_wampler3),
		cmocka_unit_test(test_wampler4),
		cmocka_unit_test(test_wampler5),
	};

	return cmocka_run_group_tests_name("nist_strd", tests, NULL, NULL);
}
