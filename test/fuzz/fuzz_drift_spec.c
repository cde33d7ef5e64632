/*
 * fuzz_drift_spec.c: libFuzzer harness for mlc_drift_spec_parse, the
 * decoder of the drift spec of ml._drift_profile (as the JSON text the glue
 * prints from the jsonb).
 *
 * The input is the text as it is (exactly size bytes).  A failure must be
 * MLC_EINVAL "malformed drift spec" (or MLC_ENOMEM) with a message and
 * leave the spec empty; an accepted spec must lay out the aggregate state
 * the way the glue indexes it: blocks back to back from offset 1, each
 * MLC_DRIFT_BLOCK_HEAD + nbins long, nbins = values + 1 (categorical) or
 * edges + 1 (numeric), the prediction block last and nvals its end, within
 * the caps; every number finite.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"
#include "fuzz.h"
#include "wire.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mlc_drift_spec sp;
	mlc_error	err;
	mlc_status	st;
	int64_t		offset = 1;
	int			f,
				k;

	st = mlc_drift_spec_parse((const char *) data, size, &sp, &err);
	if (st != MLC_OK)
	{
		check(st == MLC_EINVAL || st == MLC_ENOMEM);
		check_error(st, &err);
		if (st == MLC_EINVAL)
			check(strcmp(err.msg, "malformed drift spec") == 0 && err.detail[0] != '\0');
		check(sp.feat == NULL && sp.nfeat == 0 && sp.pred_edges == NULL);
		return 0;
	}
	check(sp.nfeat >= 0 && sp.nfeat <= MLC_DRIFT_MAX_FEATURES && sp.feat != NULL);
	for (f = 0; f < sp.nfeat; f++)
	{
		const mlc_drift_feature *d = &sp.feat[f];

		check(d->name != NULL && strlen(d->name) <= size);
		check(d->offset == offset);
		if (d->categorical)
		{
			check(d->nvalues >= 0 && d->nvalues <= MLC_DRIFT_MAX_ITEMS && d->values != NULL);
			check(d->nbins == d->nvalues + 1 && d->nedges == 0 && d->edges == NULL);
			for (k = 0; k < d->nvalues; k++)
				check(d->values[k] != NULL && strlen(d->values[k]) <= size);
		}
		else
		{
			check(d->nedges >= 0 && d->nedges <= MLC_DRIFT_MAX_ITEMS);
			check(d->nbins == d->nedges + 1 && d->nvalues == 0 && d->values == NULL);
			check(d->nedges == 0 || d->edges != NULL);
			for (k = 0; k < d->nedges; k++)
				check(isfinite(d->edges[k]));
			check(isfinite(d->shift));
		}
		offset += MLC_DRIFT_BLOCK_HEAD + d->nbins;
		check(offset <= MLC_DRIFT_MAX_VALS);
	}
	check(sp.pred_offset == offset && isfinite(sp.pred_shift));
	check(sp.pred_nedges >= 0 && sp.pred_nedges <= MLC_DRIFT_MAX_ITEMS);
	for (k = 0; k < sp.pred_nedges; k++)
		check(isfinite(sp.pred_edges[k]));
	check(sp.nvals == offset + MLC_DRIFT_BLOCK_HEAD + sp.pred_nedges + 1);
	mlc_drift_spec_free(&sp);
	check(sp.feat == NULL && sp.nfeat == 0);
	return 0;
}
