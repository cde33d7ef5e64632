/*
 * codec.c: CRC-32C and the binary model encoding.
 *
 * Layout (all little-endian), see mlcore.h:
 *   0  "PGML"
 *   4  u16 format version (MLC_MODEL_FORMAT)
 *   6  u16 algorithm id
 *   8  u32 payload length (must equal buffer length - 16)
 *  12  u32 CRC-32C of bytes 0-11 then the payload (the header is covered too)
 *  16  payload: u32 p | p x (u32 name length, name bytes) | f64 intercept
 *               | p x f64 coef
 *
 * Doubles are stored as their IEEE-754 bit patterns, so a round trip is
 * bit-identical.  The decoder trusts nothing: every length is checked
 * against the bytes that remain before anything is read or allocated.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mlcore.h"

#define MAX_FEATURES 100000
#define MAX_NAME_LEN 65535

/* ---------- CRC-32C (Castagnoli), reflected polynomial 0x82F63B78 ---------- */

/*
 * Table built on first use.  Building is idempotent (every builder writes
 * the same values) and the ready flag is published with release/acquire
 * ordering, so concurrent first calls are harmless; PostgreSQL backends
 * are single-threaded anyway.
 */
static uint32_t crc_table[256];
static int	crc_table_ready = 0;

static void
crc_table_build(void)
{
	uint32_t	i,
				c;
	int			k;

	for (i = 0; i < 256; i++)
	{
		c = i;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ UINT32_C(0x82F63B78) : (c >> 1);
		crc_table[i] = c;
	}
	__atomic_store_n(&crc_table_ready, 1, __ATOMIC_RELEASE);
}

/* Standard CRC-32C: mlc_crc32c(0, "123456789", 9) == 0xE3069283; chainable. */
uint32_t
mlc_crc32c(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t		i;

	if (!__atomic_load_n(&crc_table_ready, __ATOMIC_ACQUIRE))
		crc_table_build();
	crc = ~crc;
	for (i = 0; i < len; i++)
		crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ---------- little-endian helpers ---------- */

static void
put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) (v & 0xff);
	p[1] = (uint8_t) (v >> 8);
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v & 0xff);
	p[1] = (uint8_t) ((v >> 8) & 0xff);
	p[2] = (uint8_t) ((v >> 16) & 0xff);
	p[3] = (uint8_t) (v >> 24);
}

static void
put_f64(uint8_t *p, double d)
{
	uint64_t	v;
	int			i;

	memcpy(&v, &d, sizeof(v));
	for (i = 0; i < 8; i++)
		p[i] = (uint8_t) ((v >> (8 * i)) & 0xff);
}

static uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t) (p[0] | (p[1] << 8));
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t) p[0] | ((uint32_t) p[1] << 8) |
		((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

static double
get_f64(const uint8_t *p)
{
	uint64_t	v = 0;
	double		d;
	int			i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t) p[i] << (8 * i);
	memcpy(&d, &v, sizeof(d));
	return d;
}

/* ---------- encode ---------- */

mlc_status
mlc_model_encode(const mlc_model *m, uint8_t **out, size_t *out_len,
				 mlc_error *err)
{
	uint64_t	payload;
	size_t		total;
	uint8_t    *buf;
	uint8_t    *w;
	int			p,
				j;

	if (out != NULL)
		*out = NULL;
	if (out_len != NULL)
		*out_len = 0;
	if (m == NULL || out == NULL || out_len == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "encode called with a NULL argument");
	if (m->algorithm != MLC_ALG_LINEAR && m->algorithm != MLC_ALG_RIDGE)
		return mlc_fail(err, MLC_EINVAL, NULL, "cannot encode algorithm id %d",
						(int) m->algorithm);
	p = m->n_features;
	if (p < 0 || p > MAX_FEATURES)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"invalid feature count %d (at most %d)", p, MAX_FEATURES);
	if (m->linear.p != p)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"model has %d feature names but %d coefficients",
						p, m->linear.p);
	if (p > 0 && (m->feature_names == NULL || m->linear.coef == NULL))
		return mlc_fail(err, MLC_EINVAL, NULL,
						"model without feature names or coefficients");

	payload = 4 + 8 + 8 * (uint64_t) p;
	for (j = 0; j < p; j++)
	{
		size_t		l;

		if (m->feature_names[j] == NULL)
			return mlc_fail(err, MLC_EINVAL, NULL, "feature name %d is NULL", j);
		l = strlen(m->feature_names[j]);
		if (l == 0 || l > MAX_NAME_LEN)
			return mlc_fail(err, MLC_EINVAL, NULL,
							"feature name %d has invalid length %zu", j, l);
		payload += 4 + (uint64_t) l;
	}
	if (payload > UINT32_MAX)
		return mlc_fail(err, MLC_EINVAL, NULL, "model too large to encode");

	total = MLC_HEADER_SIZE + (size_t) payload;
	buf = mlc_alloc(total);
	if (buf == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory encoding model");

	memcpy(buf, MLC_MODEL_MAGIC, 4);
	put_u16(buf + 4, (uint16_t) MLC_MODEL_FORMAT);
	put_u16(buf + 6, (uint16_t) m->algorithm);
	put_u32(buf + 8, (uint32_t) payload);

	w = buf + MLC_HEADER_SIZE;
	put_u32(w, (uint32_t) p);
	w += 4;
	for (j = 0; j < p; j++)
	{
		size_t		l = strlen(m->feature_names[j]);

		put_u32(w, (uint32_t) l);
		memcpy(w + 4, m->feature_names[j], l);
		w += 4 + l;
	}
	put_f64(w, m->linear.intercept);
	w += 8;
	for (j = 0; j < p; j++)
	{
		put_f64(w, m->linear.coef[j]);
		w += 8;
	}
	put_u32(buf + 12, mlc_crc32c(mlc_crc32c(0, buf, 12), buf + MLC_HEADER_SIZE, (size_t) payload));

	*out = buf;
	*out_len = total;
	return MLC_OK;
}

/* ---------- decode ---------- */

static void
model_clear(mlc_model *m)
{
	m->algorithm = (mlc_algorithm) 0;
	m->n_features = 0;
	m->feature_names = NULL;
	m->linear.p = 0;
	m->linear.intercept = NAN;
	m->linear.coef = NULL;
}

static mlc_status
corrupt(mlc_error *err, const char *what)
{
	return mlc_fail(err, MLC_ECORRUPT,
					"The stored model bytes are damaged or were not written by pg_mlops.",
					"corrupted model: %s", what);
}

mlc_status
mlc_model_decode(const uint8_t *buf, size_t len, mlc_model *m, mlc_error *err)
{
	const uint8_t *r;
	size_t		left;
	uint32_t	version,
				alg,
				plen,
				p,
				l;
	char		detail[128];
	mlc_status	st;
	uint32_t	j;

	if (m == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "decode called with a NULL model");
	model_clear(m);
	if (buf == NULL || len < MLC_HEADER_SIZE)
		return corrupt(err, "too short for a model header");
	if (memcmp(buf, MLC_MODEL_MAGIC, 4) != 0)
		return corrupt(err, "bad magic");
	version = get_u16(buf + 4);
	if (version != MLC_MODEL_FORMAT)
	{
		snprintf(detail, sizeof(detail),
				 "This build of pg_mlops reads model format version %d only.",
				 MLC_MODEL_FORMAT);
		return mlc_fail(err, MLC_ECORRUPT, detail,
						"unsupported model format version %u (supported: %d)",
						(unsigned) version, MLC_MODEL_FORMAT);
	}
	alg = get_u16(buf + 6);
	if (alg != MLC_ALG_LINEAR && alg != MLC_ALG_RIDGE)
		return corrupt(err, "unknown algorithm id");
	plen = get_u32(buf + 8);
	if ((size_t) plen != len - MLC_HEADER_SIZE)
		return corrupt(err, "payload length does not match the data size");
	if (get_u32(buf + 12) != mlc_crc32c(mlc_crc32c(0, buf, 12), buf + MLC_HEADER_SIZE, plen))
		return corrupt(err, "checksum mismatch");

	r = buf + MLC_HEADER_SIZE;
	left = plen;
	if (left < 4)
		return corrupt(err, "payload too short");
	p = get_u32(r);
	r += 4;
	left -= 4;
	/* each feature needs at least 4 + 1 name bytes and 8 coefficient bytes */
	if (p > MAX_FEATURES || (size_t) p * 13 + 8 > left)
		return corrupt(err, "invalid feature count");

	m->algorithm = (mlc_algorithm) alg;
	m->n_features = (int) p;
	m->linear.p = (int) p;
	m->feature_names = mlc_alloc0(sizeof(char *) * (p > 0 ? p : 1));
	if (m->feature_names == NULL)
	{
		model_clear(m);
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory decoding model");
	}
	for (j = 0; j < p; j++)
	{
		if (left < 4)
		{
			st = corrupt(err, "truncated feature name");
			goto fail;
		}
		l = get_u32(r);
		r += 4;
		left -= 4;
		if (l == 0 || l > MAX_NAME_LEN || l > left)
		{
			st = corrupt(err, "invalid feature name length");
			goto fail;
		}
		if (memchr(r, '\0', l) != NULL)
		{
			st = corrupt(err, "NUL byte in feature name");
			goto fail;
		}
		m->feature_names[j] = mlc_alloc((size_t) l + 1);
		if (m->feature_names[j] == NULL)
		{
			st = mlc_fail(err, MLC_ENOMEM, NULL, "out of memory decoding model");
			goto fail;
		}
		memcpy(m->feature_names[j], r, l);
		m->feature_names[j][l] = '\0';
		r += l;
		left -= l;
	}
	if (left != 8 + 8 * (size_t) p)
	{
		st = corrupt(err, "coefficient block has the wrong size");
		goto fail;
	}
	m->linear.intercept = get_f64(r);
	r += 8;
	m->linear.coef = mlc_alloc(sizeof(double) * (p > 0 ? p : 1));
	if (m->linear.coef == NULL)
	{
		st = mlc_fail(err, MLC_ENOMEM, NULL, "out of memory decoding model");
		goto fail;
	}
	for (j = 0; j < p; j++)
		m->linear.coef[j] = get_f64(r + 8 * (size_t) j);
	return MLC_OK;

fail:
	mlc_model_free(m);
	return st;
}

/* Frees what mlc_model_decode allocated; safe on a cleared model. */
void
mlc_model_free(mlc_model *m)
{
	int			j;

	if (m == NULL)
		return;
	if (m->feature_names != NULL)
	{
		for (j = 0; j < m->n_features; j++)
			mlc_free(m->feature_names[j]);
		mlc_free(m->feature_names);
	}
	mlc_free(m->linear.coef);
	model_clear(m);
}

/* NAN for a model of no known algorithm. */
double
mlc_model_predict(const mlc_model *m, const double *x)
{
	if (m->algorithm == MLC_ALG_LINEAR || m->algorithm == MLC_ALG_RIDGE)
		return mlc_linear_predict(&m->linear, x);
	return NAN;
}
