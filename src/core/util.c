/*
 * util.c: error reporting and the pluggable allocator of the numeric core.
 *
 * The allocator hooks are the only process-wide mutable state of the core
 * (together with the lazily built CRC table in codec.c).  The backend sets
 * them once at load time; they are not meant to be switched while another
 * thread is inside the core.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"

static mlc_alloc_fn alloc_hook = NULL;	/* NULL means malloc */
static mlc_free_fn free_hook = NULL;	/* NULL means free */

mlc_status
mlc_fail(mlc_error *err, mlc_status code, const char *detail,
		 const char *fmt,...)
{
	va_list		ap;

	if (err == NULL)
		return code;
	err->code = code;
	err->msg[0] = '\0';
	err->detail[0] = '\0';
	if (fmt != NULL)
	{
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	if (detail != NULL)
		snprintf(err->detail, sizeof(err->detail), "%s", detail);
	return code;
}

static mlc_interrupt_fn interrupt_hook = NULL;

void
mlc_set_interrupt(mlc_interrupt_fn fn)
{
	interrupt_hook = fn;
}

int
mlc_interrupted(void)
{
	return interrupt_hook != NULL && interrupt_hook();
}

void
mlc_set_allocator(mlc_alloc_fn alloc_fn, mlc_free_fn free_fn)
{
	/* Either hook NULL restores both defaults: they must come in pairs. */
	if (alloc_fn == NULL || free_fn == NULL)
	{
		alloc_hook = NULL;
		free_hook = NULL;
		return;
	}
	alloc_hook = alloc_fn;
	free_hook = free_fn;
}

void *
mlc_alloc(size_t size)
{
	/* Never ask for 0 bytes: malloc(0) may legitimately return NULL. */
	if (size == 0)
		size = 1;
	if (alloc_hook != NULL)
		return alloc_hook(size);
	return malloc(size);
}

void *
mlc_alloc0(size_t size)
{
	void	   *p = mlc_alloc(size);

	if (p != NULL)
		memset(p, 0, size == 0 ? 1 : size);
	return p;
}

void
mlc_free(void *ptr)
{
	if (ptr == NULL)
		return;
	if (free_hook != NULL)
		free_hook(ptr);
	else
		free(ptr);
}
