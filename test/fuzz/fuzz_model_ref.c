/*
 * fuzz_model_ref.c: libFuzzer harness for mlc_model_ref_parse.
 *
 * Arbitrary bytes (not NUL-terminated: libFuzzer's buffer is exactly size
 * bytes, so ASan catches any read past len).  A successful parse must give
 * a valid name and a consistent kind, and its canonical text must parse back
 * to the same reference; a failure must leave a terminated message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"

static void
check(int cond)
{
	if (!cond)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mlc_model_ref ref,
				again;
	mlc_error	err;
	char		text[128];
	int			n;

	if (mlc_model_ref_parse((const char *) data, size, &ref, &err) != MLC_OK)
	{
		check(err.code == MLC_EINVAL && err.msg[0] != '\0');
		check(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
		check(memchr(err.detail, '\0', sizeof(err.detail)) != NULL);
		return 0;
	}
	check(memchr(ref.name, '\0', sizeof(ref.name)) != NULL);
	check(mlc_model_name_valid(ref.name));
	check(memchr(ref.stage, '\0', sizeof(ref.stage)) != NULL);
	switch (ref.kind)
	{
		case MLC_REF_DEFAULT:
			n = snprintf(text, sizeof(text), "%s", ref.name);
			check((size_t) n == size);
			break;
		case MLC_REF_VERSION:
			check(ref.version > 0);
			n = snprintf(text, sizeof(text), "%s@%d", ref.name, (int) ref.version);
			break;
		case MLC_REF_STAGE:
			check(ref.stage[0] != '\0');
			n = snprintf(text, sizeof(text), "%s@%s", ref.name, ref.stage);
			break;
		default:
			abort();
	}
	check(n > 0 && (size_t) n < sizeof(text));
	check(mlc_model_ref_parse(text, (size_t) n, &again, &err) == MLC_OK);
	check(strcmp(again.name, ref.name) == 0 && again.kind == ref.kind);
	check(again.version == ref.version && strcmp(again.stage, ref.stage) == 0);
	return 0;
}
