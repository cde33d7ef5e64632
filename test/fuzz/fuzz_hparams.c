/*
 * fuzz_hparams.c: libFuzzer harness for mlc_hparams_parse, for both
 * algorithms.  The input is the JSON text as it is (exactly size bytes, so
 * ASan catches a read past len).  Accepted values must be finite and in
 * range, and print-and-reparse must give the same value; a failure must be
 * MLC_EINVAL (or ENOMEM) with a message and leave the output untouched.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"
#include "fuzz.h"

static void
parse_one(mlc_algorithm alg, const char *text, size_t size)
{
	mlc_hparams hp,
				again;
	mlc_error	err;
	mlc_status	st;
	char		buf[64];
	int			n;

	hp.alpha = -7.0;
	st = mlc_hparams_parse(alg, text, size, &hp, &err);
	if (st != MLC_OK)
	{
		check(st == MLC_EINVAL || st == MLC_ENOMEM);
		check_error(st, &err);
		check(hp.alpha == -7.0);
		return;
	}
	check(isfinite(hp.alpha));
	if (alg == MLC_ALG_LINEAR)
	{
		check(hp.alpha == 0.0);
		return;
	}
	check(hp.alpha >= 0.0 && hp.alpha <= 1e300);
	n = snprintf(buf, sizeof(buf), "{\"alpha\": %.17g}", hp.alpha);
	check(n > 0 && (size_t) n < sizeof(buf));
	check(mlc_hparams_parse(alg, buf, (size_t) n, &again, &err) == MLC_OK);
	check(again.alpha == hp.alpha);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse_one(MLC_ALG_LINEAR, (const char *) data, size);
	parse_one(MLC_ALG_RIDGE, (const char *) data, size);
	return 0;
}
