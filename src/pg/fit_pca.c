/*
 * fit_pca.c: principal components from the linear family's chunk
 * statistics (ml_linear_stats_pass): one pass, the SVD of the R factor.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "fit.h"
#include "pg_mlops.h"

static void
fit_pca(MLFit *fit)
{
	int			p = fit->plan->p,
				p1 = p + 1;
	double	   *stats = ml_linear_stats_pass(fit);
	int			m = fit->hp.n_components > 0 ? (int) fit->hp.n_components : p;
	double	   *mean = palloc(sizeof(double) * p);
	double	   *components,
			   *ev,
			   *ratio;
	mlc_error	err;

	if (m > p)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_components is %d, but there are only %d features", m, p),
				 errhint("Use n_components between 1 and %d, or 0 for all.", p)));
	if (fit->n_train < 2)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("pca needs at least 2 training rows, got %lld", (long long) fit->n_train)));
	components = palloc(sizeof(double) * m * p);
	ev = palloc(sizeof(double) * m);
	ratio = palloc(sizeof(double) * m);
	memcpy(mean, stats + 1, sizeof(double) * p);
	ml_check_core(mlc_pca_from_r(p, stats + 1 + p1, p1, fit->n_train, m, components, ev, ratio, &err), &err);
	ml_fit_add_array(fit, "mean", 1, p, mean);
	ml_fit_add_array(fit, "components", m, p, components);
	ml_fit_add_array(fit, "explained_variance", 1, m, ev);
	fit->iterations = 1;
	fit->converged = true;
	ml_json_key_array(&fit->summary, "explained_variance", ev, m, false);
	ml_json_key_array(&fit->summary, "explained_variance_ratio", ratio, m, true);
	ml_json_key_array(&fit->summary, "mean", mean, p, true);
	{
		int			c;

		appendStringInfoString(&fit->summary, ", \"components\": [");
		for (c = 0; c < m; c++)
		{
			int			j;

			appendStringInfoString(&fit->summary, c ? ", [" : "[");
			for (j = 0; j < p; j++)
			{
				if (j)
					appendStringInfoString(&fit->summary, ", ");
				ml_json_number(&fit->summary, components[(Size) c * p + j]);
			}
			appendStringInfoChar(&fit->summary, ']');
		}
		appendStringInfoChar(&fit->summary, ']');
	}
}

static Size
pca_partial_doubles(mlc_algorithm alg, const mlc_hparams *hp, int p, int K)
{
	return STATS_FIRST + MLC_STATS_DOUBLES((Size) p + 1);
}

const MLAlgorithmFamily ml_pca_family = {"pca", fit_pca, pca_partial_doubles, NULL};
