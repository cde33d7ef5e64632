/*
 * codec.c: CRC-32C and the binary model encoding, format 2.
 *
 * Layout (all little-endian), see mlcore.h:
 *   0  "PGML"
 *   4  u16 format version (MLC_MODEL_FORMAT = 2)
 *   6  u16 algorithm id
 *   8  u32 payload length (must equal buffer length - 16)
 *  12  u32 CRC-32C of bytes 0-11 then the payload (the header is covered too)
 *  16  payload
 *
 * Payload (str = u32 byte length, then the bytes, no NUL stored):
 *   u32 task
 *   u32 n_inputs, then per input:
 *       str column (1..65535 bytes) | u32 kind | u32 width | f64 impute
 *       | u32 n_categories | n_categories x str (0..65535 bytes)
 *       | u8 has_other | u8 drop_first
 *   u32 n_features | n_features x str name (1..65535 bytes)
 *   u32 n_classes | u8 labels_numeric | n_classes x str label (0..65535)
 *       | when labels_numeric: n_classes x f64 value
 *   u32 n_arrays, then per array:
 *       str name (1..31 bytes) | u32 rows | u32 cols | rows * cols x f64
 *       (row-major)
 * and nothing after the last array.
 *
 * Doubles are stored as their IEEE-754 bit patterns, so a round trip is
 * bit-identical, and the encoding is canonical: a decoded model re-encodes
 * to the same bytes.  The decoder trusts nothing: every count and length is
 * capped and checked against the bytes that remain before anything is read
 * or allocated (a count of n items needs at least n times the items' minimal
 * size), names with NUL bytes are rejected, and the result must pass
 * mlc_model_validate; any failure is MLC_ECORRUPT.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mlcore.h"

/* Caps, far above what training produces (max_categories, max_classes <=
 * 10000), that keep counts and sizes well inside int and size_t. */
#define MAX_FEATURES 100000
#define MAX_INPUTS 100000
#define MAX_CATEGORIES 100001	/* width <= MAX_FEATURES, + a dropped one */
#define MAX_CLASSES 65535
#define MAX_ARRAYS 4096
#define MAX_STR_LEN 65535
#define MAX_DIM 0x7fffffff

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

/*
 * One writer for both passes: with p == NULL it only counts, so the size
 * computation and the bytes written cannot disagree.
 */
typedef struct writer
{
	uint8_t    *p;
	uint64_t	n;
} writer;

static void
w_u8(writer *w, int v)
{
	if (w->p != NULL)
		w->p[w->n] = (uint8_t) v;
	w->n += 1;
}

static void
w_u32(writer *w, uint32_t v)
{
	if (w->p != NULL)
		put_u32(w->p + w->n, v);
	w->n += 4;
}

static void
w_f64(writer *w, double v)
{
	if (w->p != NULL)
		put_f64(w->p + w->n, v);
	w->n += 8;
}

static void
w_str(writer *w, const char *s, size_t len)
{
	w_u32(w, (uint32_t) len);
	if (w->p != NULL && len > 0)
		memcpy(w->p + w->n, s, len);
	w->n += len;
}

static void
write_payload(const mlc_model *m, writer *w)
{
	int			i,
				j;
	size_t		k,
				n;

	w_u32(w, (uint32_t) m->task);
	w_u32(w, (uint32_t) m->n_inputs);
	for (i = 0; i < m->n_inputs; i++)
	{
		const mlc_encoder *e = &m->inputs[i];

		w_str(w, e->column, strlen(e->column));
		w_u32(w, (uint32_t) e->kind);
		w_u32(w, (uint32_t) e->width);
		w_f64(w, e->impute);
		w_u32(w, (uint32_t) e->n_categories);
		for (j = 0; j < e->n_categories; j++)
			w_str(w, e->categories[j], strlen(e->categories[j]));
		w_u8(w, e->has_other);
		w_u8(w, e->drop_first);
	}
	w_u32(w, (uint32_t) m->n_features);
	for (j = 0; j < m->n_features; j++)
		w_str(w, m->feature_names[j], strlen(m->feature_names[j]));
	w_u32(w, (uint32_t) m->n_classes);
	w_u8(w, m->labels_numeric);
	for (j = 0; j < m->n_classes; j++)
		w_str(w, m->classes[j], strlen(m->classes[j]));
	if (m->labels_numeric)
		for (j = 0; j < m->n_classes; j++)
			w_f64(w, m->class_values[j]);
	w_u32(w, (uint32_t) m->n_arrays);
	for (i = 0; i < m->n_arrays; i++)
	{
		const mlc_array *a = &m->arrays[i];

		w_str(w, a->name, strlen(a->name));
		w_u32(w, (uint32_t) a->rows);
		w_u32(w, (uint32_t) a->cols);
		n = (size_t) a->rows * (size_t) a->cols;
		for (k = 0; k < n; k++)
			w_f64(w, a->data[k]);
	}
}

static mlc_status
check_str(const char *s, const char *what, mlc_error *err)
{
	size_t		l = strlen(s);

	if (l > MAX_STR_LEN)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"%s of %zu bytes is too long to encode (at most %d)",
						what, l, MAX_STR_LEN);
	return MLC_OK;
}

/* The format's caps, beyond what mlc_model_validate checks. */
static mlc_status
check_encodable(const mlc_model *m, mlc_error *err)
{
	int			i,
				j;
	mlc_status	st;

	if (m->n_features > MAX_FEATURES || m->n_inputs > MAX_INPUTS ||
		m->n_classes > MAX_CLASSES || m->n_arrays > MAX_ARRAYS)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"model too large to encode: %d inputs, %d features, %d classes, %d arrays (at most %d, %d, %d, %d)",
						m->n_inputs, m->n_features, m->n_classes, m->n_arrays,
						MAX_INPUTS, MAX_FEATURES, MAX_CLASSES, MAX_ARRAYS);
	for (i = 0; i < m->n_inputs; i++)
	{
		if ((st = check_str(m->inputs[i].column, "column name", err)) != MLC_OK)
			return st;
		if (m->inputs[i].n_categories > MAX_CATEGORIES)
			return mlc_fail(err, MLC_EINVAL, NULL,
							"column \"%s\" has too many categories to encode (at most %d)",
							m->inputs[i].column, MAX_CATEGORIES);
		for (j = 0; j < m->inputs[i].n_categories; j++)
			if ((st = check_str(m->inputs[i].categories[j], "category", err)) != MLC_OK)
				return st;
	}
	for (j = 0; j < m->n_features; j++)
		if ((st = check_str(m->feature_names[j], "feature name", err)) != MLC_OK)
			return st;
	for (j = 0; j < m->n_classes; j++)
		if ((st = check_str(m->classes[j], "class label", err)) != MLC_OK)
			return st;
	return MLC_OK;
}

mlc_status
mlc_model_encode(const mlc_model *m, uint8_t **out, size_t *out_len,
				 mlc_error *err)
{
	writer		w = {NULL, 0};
	uint64_t	payload;
	uint8_t    *buf;
	mlc_status	st;

	if (out != NULL)
		*out = NULL;
	if (out_len != NULL)
		*out_len = 0;
	if (m == NULL || out == NULL || out_len == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "encode called with a NULL argument");
	if ((st = mlc_model_validate(m, err)) != MLC_OK)
		return st;
	if ((st = check_encodable(m, err)) != MLC_OK)
		return st;

	write_payload(m, &w);
	payload = w.n;
	if (payload > UINT32_MAX || payload > SIZE_MAX - MLC_HEADER_SIZE)
		return mlc_fail(err, MLC_EINVAL, NULL,
						"model too large to encode (%llu payload bytes)",
						(unsigned long long) payload);
	buf = mlc_alloc(MLC_HEADER_SIZE + (size_t) payload);
	if (buf == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory encoding model");

	memcpy(buf, MLC_MODEL_MAGIC, 4);
	put_u16(buf + 4, (uint16_t) MLC_MODEL_FORMAT);
	put_u16(buf + 6, (uint16_t) m->algorithm);
	put_u32(buf + 8, (uint32_t) payload);
	w.p = buf + MLC_HEADER_SIZE;
	w.n = 0;
	write_payload(m, &w);
	put_u32(buf + 12, mlc_crc32c(mlc_crc32c(0, buf, 12), buf + MLC_HEADER_SIZE,
								 (size_t) payload));
	*out = buf;
	*out_len = MLC_HEADER_SIZE + (size_t) payload;
	return MLC_OK;
}

/* ---------- decode ---------- */

static const char corrupt_detail[] =
"The stored model bytes are damaged or were not written by pg_mlops.";

static mlc_status
corrupt(mlc_error *err, const char *what)
{
	return mlc_fail(err, MLC_ECORRUPT, corrupt_detail, "corrupted model: %s", what);
}

typedef struct reader
{
	const uint8_t *p;
	size_t		left;
} reader;

/* Each returns 0 when the bytes are not there. */
static int
r_u8(reader *r, uint32_t *v)
{
	if (r->left < 1)
		return 0;
	*v = r->p[0];
	r->p += 1;
	r->left -= 1;
	return 1;
}

static int
r_u32(reader *r, uint32_t *v)
{
	if (r->left < 4)
		return 0;
	*v = get_u32(r->p);
	r->p += 4;
	r->left -= 4;
	return 1;
}

static int
r_f64(reader *r, double *v)
{
	if (r->left < 8)
		return 0;
	*v = get_f64(r->p);
	r->p += 8;
	r->left -= 8;
	return 1;
}

/*
 * A count of items of at least min_bytes each: capped and checked against
 * the remaining bytes, so that no allocation exceeds what the buffer can
 * fill.
 */
static mlc_status
r_count(reader *r, uint32_t cap, size_t min_bytes, const char *what,
		uint32_t *n, mlc_error *err)
{
	char		msg[128];

	if (!r_u32(r, n))
	{
		snprintf(msg, sizeof(msg), "truncated %s count", what);
		return corrupt(err, msg);
	}
	if (*n > cap || (uint64_t) *n * min_bytes > r->left)
	{
		snprintf(msg, sizeof(msg), "invalid %s count %u", what, (unsigned) *n);
		return corrupt(err, msg);
	}
	return MLC_OK;
}

/* A string of min_len..max_len bytes without NUL, into a fresh C string. */
static mlc_status
r_str(reader *r, uint32_t min_len, uint32_t max_len, const char *what,
	  char **out, mlc_error *err)
{
	uint32_t	l;
	char		msg[128];

	*out = NULL;
	if (!r_u32(r, &l) || l > r->left)
	{
		snprintf(msg, sizeof(msg), "truncated %s", what);
		return corrupt(err, msg);
	}
	if (l < min_len || l > max_len)
	{
		snprintf(msg, sizeof(msg), "invalid %s length %u", what, (unsigned) l);
		return corrupt(err, msg);
	}
	if (l > 0 && memchr(r->p, '\0', l) != NULL)
	{
		snprintf(msg, sizeof(msg), "NUL byte in %s", what);
		return corrupt(err, msg);
	}
	*out = mlc_alloc((size_t) l + 1);
	if (*out == NULL)
		return mlc_fail(err, MLC_ENOMEM, NULL, "out of memory decoding model");
	if (l > 0)
		memcpy(*out, r->p, l);
	(*out)[l] = '\0';
	r->p += l;
	r->left -= l;
	return MLC_OK;
}

/* n pointers or doubles (n may be 0: NULL then) */
static void *
alloc_items(uint32_t n, size_t size)
{
	return n > 0 ? mlc_alloc0((size_t) n * size) : NULL;
}

#define NEED(cond, what) \
	do { if (!(cond)) { st = corrupt(err, what); goto fail; } } while (0)
#define TRY(expr) \
	do { if ((st = (expr)) != MLC_OK) goto fail; } while (0)
#define ALLOC(ptr, n, size) \
	do { (ptr) = alloc_items((n), (size)); \
		 if ((n) > 0 && (ptr) == NULL) { \
			 st = mlc_fail(err, MLC_ENOMEM, NULL, "out of memory decoding model"); \
			 goto fail; } } while (0)

static mlc_status
read_payload(reader *r, mlc_model *m, mlc_error *err)
{
	uint32_t	n,
				v,
				i,
				j;
	mlc_status	st = MLC_OK;

	NEED(r_u32(r, &v), "truncated task");
	NEED(v >= MLC_TASK_REGRESSION && v <= MLC_TASK_DECOMPOSITION, "unknown task");
	m->task = (mlc_task) v;

	/* an input takes at least 4 + 1 + 4 + 4 + 8 + 4 + 1 + 1 bytes */
	TRY(r_count(r, MAX_INPUTS, 27, "input", &n, err));
	ALLOC(m->inputs, n, sizeof(mlc_encoder));
	m->n_inputs = (int) n;
	for (i = 0; i < n; i++)
	{
		mlc_encoder *e = &m->inputs[i];
		uint32_t	nc;

		e->impute = NAN;
		TRY(r_str(r, 1, MAX_STR_LEN, "column name", &e->column, err));
		NEED(r_u32(r, &v), "truncated encoder");
		NEED(v >= MLC_ENC_NUMBER && v <= MLC_ENC_CATEGORY, "unknown encoder kind");
		e->kind = (mlc_encoder_kind) v;
		NEED(r_u32(r, &v), "truncated encoder");
		NEED(v <= MAX_FEATURES, "invalid encoder width");
		e->width = (int) v;
		NEED(r_f64(r, &e->impute), "truncated encoder");
		TRY(r_count(r, MAX_CATEGORIES, 4, "category", &nc, err));
		ALLOC(e->categories, nc, sizeof(char *));
		e->n_categories = (int) nc;
		for (j = 0; j < nc; j++)
			TRY(r_str(r, 0, MAX_STR_LEN, "category", &e->categories[j], err));
		NEED(r_u8(r, &v), "truncated encoder");
		e->has_other = (int) v;
		NEED(r_u8(r, &v), "truncated encoder");
		e->drop_first = (int) v;
	}

	TRY(r_count(r, MAX_FEATURES, 5, "feature", &n, err));
	ALLOC(m->feature_names, n, sizeof(char *));
	m->n_features = (int) n;
	for (j = 0; j < n; j++)
		TRY(r_str(r, 1, MAX_STR_LEN, "feature name", &m->feature_names[j], err));

	TRY(r_count(r, MAX_CLASSES, 4, "class", &n, err));
	NEED(r_u8(r, &v), "truncated classes");
	m->labels_numeric = (int) v;
	NEED(!m->labels_numeric || (uint64_t) n * 12 <= r->left, "invalid class count");
	ALLOC(m->classes, n, sizeof(char *));
	m->n_classes = (int) n;
	for (j = 0; j < n; j++)
		TRY(r_str(r, 0, MAX_STR_LEN, "class label", &m->classes[j], err));
	if (m->labels_numeric)
	{
		ALLOC(m->class_values, n, sizeof(double));
		for (j = 0; j < n; j++)
			NEED(r_f64(r, &m->class_values[j]), "truncated class values");
	}

	/* an array takes at least 4 + 1 + 4 + 4 bytes */
	TRY(r_count(r, MAX_ARRAYS, 13, "array", &n, err));
	ALLOC(m->arrays, n, sizeof(mlc_array));
	m->n_arrays = (int) n;
	for (i = 0; i < n; i++)
	{
		mlc_array  *a = &m->arrays[i];
		char	   *name;
		uint32_t	rows,
					cols;
		uint64_t	cells;

		TRY(r_str(r, 1, MLC_ARRAY_NAME_MAX, "array name", &name, err));
		memcpy(a->name, name, strlen(name) + 1);
		mlc_free(name);
		NEED(r_u32(r, &rows) && r_u32(r, &cols), "truncated array shape");
		NEED(rows <= MAX_DIM && cols <= MAX_DIM, "invalid array shape");
		cells = (uint64_t) rows * cols;
		/* cells <= left / 8 < 2^61: no overflow in the products below */
		NEED(cells <= r->left / 8, "array larger than the data");
		a->rows = (int) rows;
		a->cols = (int) cols;
		if (cells > 0)
		{
			size_t		k;

			a->data = mlc_alloc((size_t) cells * sizeof(double));
			if (a->data == NULL)
			{
				st = mlc_fail(err, MLC_ENOMEM, NULL, "out of memory decoding model");
				goto fail;
			}
			for (k = 0; k < (size_t) cells; k++)
				a->data[k] = get_f64(r->p + 8 * k);
			r->p += 8 * (size_t) cells;
			r->left -= 8 * (size_t) cells;
		}
	}
	NEED(r->left == 0, "trailing bytes after the last array");
	return MLC_OK;

fail:
	return st;
}

mlc_status
mlc_model_decode(const uint8_t *buf, size_t len, mlc_model *m, mlc_error *err)
{
	reader		r;
	uint32_t	version,
				alg,
				plen;
	char		detail[128];
	mlc_status	st;
	mlc_error	verr;

	if (m == NULL)
		return mlc_fail(err, MLC_EINVAL, NULL, "decode called with a NULL model");
	memset(m, 0, sizeof(*m));
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
	plen = get_u32(buf + 8);
	if ((uint64_t) plen != (uint64_t) (len - MLC_HEADER_SIZE))
		return corrupt(err, "payload length does not match the data size");
	if (get_u32(buf + 12) != mlc_crc32c(mlc_crc32c(0, buf, 12), buf + MLC_HEADER_SIZE, plen))
		return corrupt(err, "checksum mismatch");
	alg = get_u16(buf + 6);
	if (alg < MLC_ALG_LINEAR || alg > MLC_ALG_DECISION_TREE)
		return corrupt(err, "unknown algorithm id");

	m->algorithm = (mlc_algorithm) alg;
	r.p = buf + MLC_HEADER_SIZE;
	r.left = plen;
	st = read_payload(&r, m, err);
	if (st == MLC_OK && mlc_model_validate(m, &verr) != MLC_OK)
	{
		const char *why = verr.msg;

		/* "invalid model: why" becomes "corrupted model: why" */
		if (strncmp(why, "invalid model: ", 15) == 0)
			why += 15;
		st = mlc_fail(err, MLC_ECORRUPT, corrupt_detail, "corrupted model: %s", why);
	}
	if (st == MLC_OK && mlc_algorithm_is_tree(m->algorithm))
	{
		m->forest = mlc_alloc(sizeof(mlc_forest));
		if (m->forest == NULL)
			st = mlc_fail(err, MLC_ENOMEM, NULL, "out of memory for the trees' view");
		else if (mlc_forest_from_model(m, m->forest, &verr) != MLC_OK)
		{
			m->forest->nodes = NULL;
			st = mlc_fail(err, MLC_ECORRUPT, corrupt_detail, "corrupted model: bad trees");
		}
		else
			st = mlc_forest_compile(m->forest, err);
	}
	if (st != MLC_OK)
		mlc_model_free(m);
	return st;
}
