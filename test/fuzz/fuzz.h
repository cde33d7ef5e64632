/*
 * fuzz.h: what every libFuzzer harness checks.  check() aborts (a crash
 * libFuzzer records) when a condition fails; check_error() asserts a core
 * error is well formed: its code is the status returned, its message is
 * not empty, and message and detail are NUL-terminated within their buffers.
 */
#ifndef PG_MLOPS_FUZZ_H
#define PG_MLOPS_FUZZ_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"

#define check(cond) \
	do { if (!(cond)) { fprintf(stderr, "check failed at line %d: %s\n", \
								__LINE__, #cond); abort(); } } while (0)

static inline void
check_error(mlc_status st, const mlc_error *err)
{
	check(err->code == st && err->msg[0] != '\0');
	check(memchr(err->msg, '\0', sizeof(err->msg)) != NULL);
	check(memchr(err->detail, '\0', sizeof(err->detail)) != NULL);
}

#endif							/* PG_MLOPS_FUZZ_H */
