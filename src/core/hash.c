/*
 * hash.c: SipHash-2-4, incremental row hashing, the order-independent
 * content hash and the deterministic train/test split.
 *
 * SipHash-2-4 is implemented from the algorithm description in
 * J.-P. Aumasson and D. J. Bernstein, "SipHash: a fast short-input PRF"
 * (2012): four 64-bit state words initialised from the key and the
 * constants "somepseudorandomlygeneratedbytes", two SipRounds per 8-byte
 * little-endian message word, a final word holding the message length
 * (mod 256) in its top byte, then 0xff xored into v2 and four SipRounds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mlcore.h"

#define SIP_C0 UINT64_C(0x736f6d6570736575)	/* "somepseu" */
#define SIP_C1 UINT64_C(0x646f72616e646f6d)	/* "dorandom" */
#define SIP_C2 UINT64_C(0x6c7967656e657261)	/* "lygenera" */
#define SIP_C3 UINT64_C(0x7465646279746573)	/* "tedbytes" */

/* Fixed keys that turn a split seed into the split's SipHash key. */
#define SPLIT_K0 UINT64_C(0x70676d6c73706c30)	/* "pgmlspl0" */
#define SPLIT_K1 UINT64_C(0x70676d6c73706c31)	/* "pgmlspl1" */

static inline uint64_t
rotl64(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void
sip_round(uint64_t *v)
{
	v[0] += v[1];
	v[1] = rotl64(v[1], 13);
	v[1] ^= v[0];
	v[0] = rotl64(v[0], 32);
	v[2] += v[3];
	v[3] = rotl64(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = rotl64(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = rotl64(v[1], 17);
	v[1] ^= v[2];
	v[2] = rotl64(v[2], 32);
}

static inline void
sip_init(uint64_t *v, uint64_t k0, uint64_t k1)
{
	v[0] = k0 ^ SIP_C0;
	v[1] = k1 ^ SIP_C1;
	v[2] = k0 ^ SIP_C2;
	v[3] = k1 ^ SIP_C3;
}

/* Absorb one 64-bit message word (c = 2 rounds). */
static inline void
sip_word(uint64_t *v, uint64_t m)
{
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
}

/* Absorb the last word and finalise (d = 4 rounds). */
static inline uint64_t
sip_finish(uint64_t *v, uint64_t last)
{
	sip_word(v, last);
	v[2] ^= 0xff;
	sip_round(v);
	sip_round(v);
	sip_round(v);
	sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static inline uint64_t
load_le64(const unsigned char *p)
{
	return (uint64_t) p[0] | ((uint64_t) p[1] << 8) |
		((uint64_t) p[2] << 16) | ((uint64_t) p[3] << 24) |
		((uint64_t) p[4] << 32) | ((uint64_t) p[5] << 40) |
		((uint64_t) p[6] << 48) | ((uint64_t) p[7] << 56);
}

uint64_t
mlc_siphash(const void *data, size_t len, uint64_t k0, uint64_t k1)
{
	const unsigned char *p = data;
	uint64_t	v[4];
	uint64_t	last;
	size_t		full = len & ~(size_t) 7;
	size_t		i;

	sip_init(v, k0, k1);
	for (i = 0; i < full; i += 8)
		sip_word(v, load_le64(p + i));
	last = (uint64_t) (len & 0xff) << 56;
	for (i = full; i < len; i++)
		last |= (uint64_t) p[i] << (8 * (i - full));
	return sip_finish(v, last);
}

/* ---------- incremental row hashing ---------- */

/*
 * Feed bytes into the streaming state.  h->tail holds the h->len % 8
 * pending bytes of the current word in little-endian position.
 */
static void
rowhash_feed(mlc_rowhash *h, const unsigned char *p, size_t n)
{
	unsigned	fill = (unsigned) (h->len & 7);

	if (fill != 0)
	{
		while (n > 0 && fill < 8)
		{
			h->tail |= (uint64_t) *p++ << (8 * fill);
			fill++;
			h->len++;
			n--;
		}
		if (fill < 8)
			return;
		sip_word(h->v, h->tail);
		h->tail = 0;
	}
	while (n >= 8)
	{
		sip_word(h->v, load_le64(p));
		p += 8;
		h->len += 8;
		n -= 8;
	}
	for (fill = 0; fill < n; fill++)
		h->tail |= (uint64_t) p[fill] << (8 * fill);
	h->len += n;
}

void
mlc_rowhash_init(mlc_rowhash *h, uint64_t k0, uint64_t k1)
{
	sip_init(h->v, k0, k1);
	h->tail = 0;
	h->len = 0;
}

/*
 * A value is encoded as tag 0x01, its length as 4 little-endian bytes and
 * its bytes; so ('ab','c') and ('a','bc') hash differently.  Values longer
 * than 4 GiB cannot occur in PostgreSQL (1 GB varlena limit); their length
 * would be recorded modulo 2^32.
 */
void
mlc_rowhash_value(mlc_rowhash *h, const void *data, size_t len)
{
	unsigned char hdr[5];
	uint32_t	l32 = (uint32_t) len;

	hdr[0] = 0x01;
	hdr[1] = (unsigned char) (l32 & 0xff);
	hdr[2] = (unsigned char) ((l32 >> 8) & 0xff);
	hdr[3] = (unsigned char) ((l32 >> 16) & 0xff);
	hdr[4] = (unsigned char) ((l32 >> 24) & 0xff);
	rowhash_feed(h, hdr, sizeof(hdr));
	if (len > 0)
		rowhash_feed(h, data, len);
}

/* A NULL is the single tag byte 0x00, distinct from every value encoding. */
void
mlc_rowhash_null(mlc_rowhash *h)
{
	static const unsigned char tag = 0x00;

	rowhash_feed(h, &tag, 1);
}

uint64_t
mlc_rowhash_final(const mlc_rowhash *h)
{
	uint64_t	v[4];

	memcpy(v, h->v, sizeof(v));
	return sip_finish(v, h->tail | ((uint64_t) (h->len & 0xff) << 56));
}

/* ---------- content hash ---------- */

void
mlc_content_hash_init(mlc_content_hash *c)
{
	c->lo = 0;
	c->hi = 0;
	c->rows = 0;
}

/* 128-bit addition modulo 2^128. */
static inline void
add128(uint64_t *lo, uint64_t *hi, uint64_t add_lo, uint64_t add_hi)
{
	uint64_t	l = *lo + add_lo;

	*hi += add_hi + (l < add_lo ? 1 : 0);
	*lo = l;
}

void
mlc_content_hash_add(mlc_content_hash *c, uint64_t row_lo, uint64_t row_hi)
{
	add128(&c->lo, &c->hi, row_lo, row_hi);
	c->rows++;
}

void
mlc_content_hash_combine(mlc_content_hash *into, const mlc_content_hash *other)
{
	add128(&into->lo, &into->hi, other->lo, other->hi);
	into->rows += other->rows;
}

void
mlc_content_hash_hex(const mlc_content_hash *c, char *buf)
{
	snprintf(buf, 64, "%016" PRIx64 "%016" PRIx64 "-%" PRId64,
			 c->hi, c->lo, c->rows);
}

/* ---------- split ---------- */

int
mlc_split_is_test(uint64_t h, double test_fraction)
{
	/* Top 53 bits as a uniform double in [0, 1); exact conversion. */
	double		u = (double) (h >> 11) * (1.0 / 9007199254740992.0);

	/* NaN fraction: nothing goes to test. */
	return u < test_fraction ? 1 : 0;
}

void
mlc_split_keys(int32_t seed, uint64_t *k0, uint64_t *k1)
{
	unsigned char b[4];
	uint32_t	s = (uint32_t) seed;

	b[0] = (unsigned char) (s & 0xff);
	b[1] = (unsigned char) ((s >> 8) & 0xff);
	b[2] = (unsigned char) ((s >> 16) & 0xff);
	b[3] = (unsigned char) ((s >> 24) & 0xff);
	*k0 = mlc_siphash(b, sizeof(b), SPLIT_K0, SPLIT_K1);
	*k1 = mlc_siphash(b, sizeof(b), SPLIT_K1, SPLIT_K0);
}
