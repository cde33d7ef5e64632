/*
 * modelref.c: parsing of model references 'name', 'name@<version>' and
 * 'name@<stage>'.  The input is a length-delimited byte string (a text
 * datum), not NUL-terminated.
 */
#include <stdio.h>
#include <string.h>

#include "mlcore.h"

#define MAX_NAME 63

static const char *const stages[] = {"staging", "production", "archived", "none"};

static int
name_char_ok(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* 0 when valid, else a static reason. */
static const char *
name_problem(const char *s, size_t len)
{
	size_t		i;

	if (len == 0)
		return "model name is empty";
	if (len > MAX_NAME)
		return "model name is too long";
	if (s[0] == '.' || s[0] == '-')
		return "model name must not start with \".\" or \"-\"";
	for (i = 0; i < len; i++)
		if (!name_char_ok((unsigned char) s[i]))
			return "model name contains an invalid character";
	return NULL;
}

int
mlc_model_name_valid(const char *name)
{
	size_t		len = 0;

	if (name == NULL)
		return 0;
	while (len <= MAX_NAME && name[len] != '\0')
		len++;
	return name_problem(name, len) == NULL;
}

/*
 * Copy user text into dst for an error message: printable ASCII only
 * (other bytes become '?', so a message never carries broken multibyte
 * sequences), at most 64 bytes, then "...".
 */
static void
quote_safe(char *dst, size_t dstsize, const char *s, size_t len)
{
	size_t		i,
				o = 0;

	for (i = 0; i < len && i < 64 && o + 4 < dstsize; i++)
	{
		unsigned char c = (unsigned char) s[i];

		dst[o++] = (c >= 0x20 && c < 0x7f) ? (char) c : '?';
	}
	if (i < len && o + 4 < dstsize)
	{
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

mlc_status
mlc_model_ref_parse(const char *text, size_t len, mlc_model_ref *ref,
					mlc_error *err)
{
	const char *at;
	const char *suffix;
	const char *why;
	size_t		name_len,
				slen,
				i;
	char		shown[80];
	char		detail[256];
	int64_t		v;

	if (ref == NULL || (text == NULL && len > 0))
		return mlc_fail(err, MLC_EINVAL, NULL,
						"model reference parse called with a NULL argument");
	memset(ref, 0, sizeof(*ref));
	ref->kind = MLC_REF_DEFAULT;

	at = len > 0 ? memchr(text, '@', len) : NULL;
	name_len = at != NULL ? (size_t) (at - text) : len;
	quote_safe(shown, sizeof(shown), text, len);

	why = name_problem(text, name_len);
	if (why != NULL)
	{
		snprintf(detail, sizeof(detail),
				 "A model name has 1 to %d characters from A-Z, a-z, 0-9, \"_\", \".\" and \"-\", and does not start with \".\" or \"-\".",
				 MAX_NAME);
		return mlc_fail(err, MLC_EINVAL, detail,
						"invalid model reference \"%s\": %s", shown, why);
	}
	memcpy(ref->name, text, name_len);
	ref->name[name_len] = '\0';
	if (at == NULL)
		return MLC_OK;

	suffix = at + 1;
	slen = len - name_len - 1;
	if (slen == 0)
		return mlc_fail(err, MLC_EINVAL,
						"Write name@<version> (a positive integer) or name@<stage> (staging, production, archived, none).",
						"invalid model reference \"%s\": nothing after \"@\"",
						shown);

	if (suffix[0] >= '0' && suffix[0] <= '9')
	{
		v = 0;
		for (i = 0; i < slen; i++)
		{
			if (suffix[i] < '0' || suffix[i] > '9')
				break;
			v = v * 10 + (suffix[i] - '0');
			if (v > INT32_MAX)
				break;
		}
		if (i < slen || v > INT32_MAX || v == 0 || suffix[0] == '0')
			return mlc_fail(err, MLC_EINVAL,
							"A version is a positive integer up to 2147483647, written without sign or leading zeros.",
							"invalid model version in reference \"%s\"", shown);
		ref->kind = MLC_REF_VERSION;
		ref->version = (int32_t) v;
		return MLC_OK;
	}

	for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++)
	{
		if (slen == strlen(stages[i]) && memcmp(suffix, stages[i], slen) == 0)
		{
			ref->kind = MLC_REF_STAGE;
			memcpy(ref->stage, stages[i], slen + 1);
			return MLC_OK;
		}
	}
	return mlc_fail(err, MLC_EINVAL,
					"After \"@\" write a version number (1, 2, ...) or a stage: staging, production, archived or none.",
					"invalid model reference \"%s\": unknown version or stage after \"@\"",
					shown);
}
