/*
 * hparams.c: algorithm names and hyperparameter validation.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mlcore.h"

static const mlc_hparam_spec ridge_specs[] = {
	{"alpha", 1.0, 0.0, 1e300, 0},
};

mlc_algorithm
mlc_algorithm_from_name(const char *name)
{
	if (name == NULL)
		return (mlc_algorithm) 0;
	if (strcmp(name, "linear_regression") == 0)
		return MLC_ALG_LINEAR;
	if (strcmp(name, "ridge") == 0)
		return MLC_ALG_RIDGE;
	return (mlc_algorithm) 0;
}

/* "unknown" (never NULL) for an id that is not an algorithm. */
const char *
mlc_algorithm_name(mlc_algorithm alg)
{
	switch (alg)
	{
		case MLC_ALG_LINEAR:
			return "linear_regression";
		case MLC_ALG_RIDGE:
			return "ridge";
	}
	return "unknown";
}

const char *
mlc_algorithm_names(void)
{
	return "linear_regression, ridge";
}

const mlc_hparam_spec *
mlc_hparam_specs(mlc_algorithm alg, int *n)
{
	int			count = 0;
	const mlc_hparam_spec *specs = NULL;

	if (alg == MLC_ALG_RIDGE)
	{
		specs = ridge_specs;
		count = (int) (sizeof(ridge_specs) / sizeof(ridge_specs[0]));
	}
	if (n != NULL)
		*n = count;
	return specs;
}

void
mlc_hparams_defaults(mlc_algorithm alg, mlc_hparams *hp)
{
	hp->alpha = 0.0;
	if (alg == MLC_ALG_RIDGE)
		hp->alpha = ridge_specs[0].default_value;
}

static double *
hparam_slot(mlc_hparams *hp, const char *key)
{
	if (strcmp(key, "alpha") == 0)
		return &hp->alpha;
	return NULL;
}

mlc_status
mlc_hparams_set(mlc_algorithm alg, mlc_hparams *hp, const char *key,
				double value, mlc_error *err)
{
	const mlc_hparam_spec *specs;
	const mlc_hparam_spec *spec = NULL;
	char		detail[512];
	size_t		used;
	double	   *slot;
	int			n;
	int			i;

	if (alg != MLC_ALG_LINEAR && alg != MLC_ALG_RIDGE)
		return mlc_fail(err, MLC_EINVAL, NULL, "unknown algorithm id %d",
						(int) alg);
	if (hp == NULL || key == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"hyperparameter call with a NULL argument");

	specs = mlc_hparam_specs(alg, &n);
	for (i = 0; i < n; i++)
		if (strcmp(specs[i].name, key) == 0)
			spec = &specs[i];

	if (spec == NULL)
	{
		if (n == 0)
			snprintf(detail, sizeof(detail),
					 "Algorithm %s takes no hyperparameters.",
					 mlc_algorithm_name(alg));
		else
		{
			used = (size_t) snprintf(detail, sizeof(detail),
									 "Accepted hyperparameters for %s:",
									 mlc_algorithm_name(alg));
			for (i = 0; i < n && used < sizeof(detail); i++)
				used += (size_t) snprintf(detail + used, sizeof(detail) - used,
										  "%s %s", i == 0 ? "" : ",",
										  specs[i].name);
			if (used < sizeof(detail))
				snprintf(detail + used, sizeof(detail) - used, ".");
		}
		return mlc_fail(err, MLC_EINVAL, detail,
						"unknown hyperparameter \"%.64s\" for algorithm %s",
						key, mlc_algorithm_name(alg));
	}

	if (isnan(value) || value < spec->min_value || value > spec->max_value)
	{
		snprintf(detail, sizeof(detail), "Got %.15g.", value);
		return mlc_fail(err, MLC_EINVAL, detail,
						"hyperparameter \"%s\" for algorithm %s must be between %g and %g",
						spec->name, mlc_algorithm_name(alg),
						spec->min_value, spec->max_value);
	}
	if (spec->is_integer && value != floor(value))
	{
		snprintf(detail, sizeof(detail), "Got %.15g.", value);
		return mlc_fail(err, MLC_EINVAL, detail,
						"hyperparameter \"%s\" for algorithm %s must be an integer",
						spec->name, mlc_algorithm_name(alg));
	}

	slot = hparam_slot(hp, spec->name);
	if (slot == NULL)			/* a spec without a field: a bug here */
		return mlc_fail(err, MLC_EINVAL, NULL,
						"hyperparameter \"%s\" has no storage", spec->name);
	*slot = value;
	return MLC_OK;
}

/* NAN for a key the algorithm does not accept. */
double
mlc_hparams_get(mlc_algorithm alg, const mlc_hparams *hp, const char *key)
{
	const mlc_hparam_spec *specs;
	int			n;
	int			i;

	if (hp == NULL || key == NULL)
		return NAN;
	specs = mlc_hparam_specs(alg, &n);
	for (i = 0; i < n; i++)
		if (strcmp(specs[i].name, key) == 0 && strcmp(key, "alpha") == 0)
			return hp->alpha;
	return NAN;
}
