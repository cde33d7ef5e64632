/*
 * fuzz_agg_state.c: libFuzzer harness for mlc_agg_state_check.
 *
 * Arbitrary bytes are checked twice: as they are, and as a "repaired"
 * state whose magic number and version are made right and whose buffer is
 * resized (zero-filled, at most 4 MiB) to the length the header implies, so
 * that the field and length checks behind the size check see mutated
 * headers.  Whenever the check accepts a state, every region it implies
 * (parameters, rows, flags, statistics) must lie inside the buffer (ASan
 * reports a read past it), the scratch size must cover the partial, and
 * the deep check must agree or fail cleanly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"
#include "fuzz.h"
#include "wire.h"


static volatile uint8_t sink;

static void
touch(const uint8_t *p, size_t n)
{
	size_t		i;
	uint8_t		x = 0;

	for (i = 0; i < n; i++)
		x ^= p[i];
	sink = x;
}

static void
check_one(const uint8_t *buf, size_t len)
{
	mlc_error	err;
	mlc_status	st = mlc_agg_state_check(buf, len, 1024, 0, &err);
	mlc_agg_header h;
	size_t		acc;

	if (st != MLC_OK)
	{
		check(st == MLC_ECORRUPT && err.code == st && err.msg[0] != '\0');
		check(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
		return;
	}
	memcpy(&h, buf, sizeof(h));
	check(h.magic == MLC_AGG_MAGIC && h.version == MLC_AGG_VERSION);
	check(h.nbuf >= 0 && h.nbuf <= h.block_rows && h.block_rows <= 1024);
	check(mlc_agg_state_size(&h, h.acc_len) == (uint64_t) len);
	acc = mlc_agg_acc_offset(&h);
	check(acc + 8 * (size_t) h.acc_len == len);
	check(mlc_agg_rows_offset(&h) <= mlc_agg_flags_offset(&h));
	touch(buf + mlc_agg_params_offset(&h), 8 * (size_t) h.param_len);
	touch(buf + mlc_agg_rows_offset(&h), 8 * (size_t) h.block_rows * ((size_t) h.p + 1));
	touch(buf + mlc_agg_flags_offset(&h), 2 * (size_t) h.block_rows);
	touch(buf + acc, 8 * (size_t) h.acc_len);
	check(mlc_agg_partial_scratch(buf) >= (size_t) h.partial_len);
	if (h.rule != MLC_AGG_RULE_SAMPLE)
		check(h.acc_len == h.partial_len);
	/* the deep check (the evaluation pass's model) accepts or fails cleanly */
	st = mlc_agg_state_check(buf, len, 1024, 1, &err);
	check(st == MLC_OK || (st == MLC_ECORRUPT && err.msg[0] != '\0'));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t    *copy;
	mlc_agg_header h;
	uint64_t	want;

	/* an exact-size heap copy, so ASan sees any read past the end */
	copy = malloc(size > 0 ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	check_one(copy, size);
	free(copy);

	if (size < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	h.magic = MLC_AGG_MAGIC;
	h.version = MLC_AGG_VERSION;
	want = mlc_agg_state_size(&h, h.acc_len);
	if (want == UINT64_MAX || want < sizeof(h) || want > ((uint64_t) 4 << 20))
		return 0;
	copy = calloc(1, (size_t) want);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size < want ? size : (size_t) want);
	memcpy(copy, &h, sizeof(h));
	check_one(copy, (size_t) want);
	free(copy);
	return 0;
}
