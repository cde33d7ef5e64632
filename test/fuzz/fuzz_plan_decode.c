/*
 * fuzz_plan_decode.c: libFuzzer harness for mlc_plan_decode.
 *
 * Arbitrary bytes are decoded as they are and with the magic number and
 * version made right.  A decoded plan must be consistent (p is the sum of
 * the encoders' widths, every pointer it holds readable), re-encode to
 * exactly the bytes decoded (the encoding is canonical) and free cleanly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"
#include "fuzz.h"
#include "wire.h"


static void
decode_one(const uint8_t *data, size_t size)
{
	mlc_plan	pl;
	mlc_error	err;
	mlc_status	st;
	uint8_t    *enc = NULL;
	size_t		enc_len = 0;
	int			i,
				k,
				p = 0;

	st = mlc_plan_decode(data, size, &pl, &err);
	if (st != MLC_OK)
	{
		check(st == MLC_ECORRUPT || st == MLC_ENOMEM);
		check(err.code == st && err.msg[0] != '\0');
		check(pl.classes == NULL && pl.enc == NULL && pl.attnums == NULL);
		return;
	}
	check(pl.target_kind >= 0 && pl.target_kind <= 2);
	for (i = 0; i < pl.n_classes; i++)
		check(strlen(pl.classes[i]) < size);
	for (i = 0; i < pl.n_inputs; i++)
	{
		check(pl.attnums[i] >= 1 && pl.attnums[i] <= MLC_PLAN_MAX_ATTNUM);
		check(pl.enc[i].column[0] != '\0');
		for (k = 0; k < pl.enc[i].n_categories; k++)
			check(strlen(pl.enc[i].categories[k]) < size);
		p += pl.enc[i].width;
	}
	check(p == pl.p);
	check(mlc_plan_encode(&pl, &enc, &enc_len, &err) == MLC_OK);
	check(enc_len == size && memcmp(enc, data, size) == 0);
	mlc_free(enc);
	mlc_plan_free(&pl);
	check(pl.classes == NULL && pl.n_inputs == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t    *copy = malloc(size > 0 ? size : 1);

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	decode_one(copy, size);
	if (size >= 8)
	{
		memcpy(copy, MLC_PLAN_MAGIC, 4);
		copy[4] = MLC_PLAN_VERSION;
		copy[5] = copy[6] = copy[7] = 0;
		decode_one(copy, size);
	}
	free(copy);
	return 0;
}
