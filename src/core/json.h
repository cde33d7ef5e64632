/*
 * json.h: the core's bounded JSON scanner (used by hparams.c, jsondoc.c).
 *
 * The scanner keeps an index into s[0, len) and never reads at or past len.
 * It builds no tree: a decoder looks at the value at the current position,
 * finds an object's fields by one pass over the object (remembering where
 * each wanted value starts), counts an array before walking it, and skips
 * values it does not want.  Skipping is a loop with an explicit stack of
 * container kinds (MLC_JSON_MAX_DEPTH levels), never recursion.
 */
#ifndef MLC_JSON_H
#define MLC_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "mlcore.h"

#define MLC_JSON_MAX_DEPTH 4096
#define MLC_JSON_ABSENT SIZE_MAX	/* an object field that is missing or null */

typedef struct mlc_json
{
	const char *s;
	size_t		len;
	size_t		pos;
	mlc_error  *err;
	/*
	 * Syntax errors: with msg NULL they read "invalid <what> JSON: <reason>"
	 * with the byte offset as detail; with msg set they read msg, with
	 * "The JSON text is invalid: <reason> ..." as detail.
	 */
	const char *what;
	const char *msg;
} mlc_json;

typedef enum mlc_json_type
{
	MLC_JSON_BAD = 0,			/* no value starts here */
	MLC_JSON_NULL,
	MLC_JSON_TRUE,
	MLC_JSON_FALSE,
	MLC_JSON_NUMBER,
	MLC_JSON_STRING,
	MLC_JSON_ARRAY,
	MLC_JSON_OBJECT
} mlc_json_type;

void		mlc_json_init(mlc_json *j, const char *s, size_t len, mlc_error *err,
						  const char *what, const char *msg);
void		mlc_json_skip_ws(mlc_json *j);
/* The byte at pos, or -1 at the end. */
int			mlc_json_peek(const mlc_json *j);
/* Fill the error for a syntax error at pos; returns MLC_EINVAL. */
mlc_status	mlc_json_syntax(mlc_json *j, const char *reason);

/* The type of the value at pos, from its first byte (literals checked whole). */
mlc_json_type mlc_json_type_at(const mlc_json *j);

/*
 * The string at pos (which holds '"'): checked whole, its decoded bytes
 * (UTF-8 for \u escapes) stored into buf up to cap - 1 bytes and a NUL (buf
 * may be NULL when cap is 0); *decoded gets the whole decoded length and
 * *has_nul whether a \u0000 escape occurred (it is not stored).  Leaves pos
 * after the closing quote.
 */
mlc_status	mlc_json_string(mlc_json *j, char *buf, size_t cap, size_t *decoded, int *has_nul);

/*
 * The number at pos, checked against the JSON grammar, then converted with
 * strtod.  *range (when not NULL) is set when the value overflows or
 * underflows to zero (then *value is infinite or zero).  MLC_EINVAL with
 * "expected a number" when no number starts at pos.
 */
mlc_status	mlc_json_number(mlc_json *j, double *value, int *range);

/* Skip one value of any kind at pos (after white space). */
mlc_status	mlc_json_skip(mlc_json *j);

/*
 * The object at pos: one pass over its fields; at[i] gets the position of
 * the value of keys[i], or MLC_JSON_ABSENT when the key is missing or its
 * value is null (the last of duplicate keys wins, as in jsonb).  Leaves pos
 * after the closing brace.
 */
mlc_status	mlc_json_object_fields(mlc_json *j, const char *const *keys, int nkeys, size_t *at);

/*
 * The array at pos: *n gets its item count, or cap + 1 when it has more
 * than cap items (then the rest is not scanned).  pos does not move.
 */
mlc_status	mlc_json_array_count(mlc_json *j, int64_t cap, int64_t *n);

/*
 * Walking an array that mlc_json_array_count accepted: mlc_json_array_first
 * moves pos from '[' to the first item (*more = 0 for an empty array);
 * after each item mlc_json_array_next moves to the next one.
 */
mlc_status	mlc_json_array_first(mlc_json *j, int *more);
mlc_status	mlc_json_array_next(mlc_json *j, int *more);

#endif							/* MLC_JSON_H */
