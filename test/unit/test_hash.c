/*
 * test_hash.c: SipHash-2-4, row hashing, content hash, split.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/*
 * Reference outputs of SipHash-2-4 with key 00 01 .. 0f on the messages
 * 00 01 .. (len-1), len = 0..15, as little-endian bytes (from the test
 * vectors published with the SipHash paper and reference code).
 */
static const unsigned char sip_vectors[16][8] = {
	{0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72},
	{0xfd, 0x67, 0xdc, 0x93, 0xc5, 0x39, 0xf8, 0x74},
	{0x5a, 0x4f, 0xa9, 0xd9, 0x09, 0x80, 0x6c, 0x0d},
	{0x2d, 0x7e, 0xfb, 0xd7, 0x96, 0x66, 0x67, 0x85},
	{0xb7, 0x87, 0x71, 0x27, 0xe0, 0x94, 0x27, 0xcf},
	{0x8d, 0xa6, 0x99, 0xcd, 0x64, 0x55, 0x76, 0x18},
	{0xce, 0xe3, 0xfe, 0x58, 0x6e, 0x46, 0xc9, 0xcb},
	{0x37, 0xd1, 0x01, 0x8b, 0xf5, 0x00, 0x02, 0xab},
	{0x62, 0x24, 0x93, 0x9a, 0x79, 0xf5, 0xf5, 0x93},
	{0xb0, 0xe4, 0xa9, 0x0b, 0xdf, 0x82, 0x00, 0x9e},
	{0xf3, 0xb9, 0xdd, 0x94, 0xc5, 0xbb, 0x5d, 0x7a},
	{0xa7, 0xad, 0x6b, 0x22, 0x46, 0x2f, 0xb3, 0xf4},
	{0xfb, 0xe5, 0x0e, 0x86, 0xbc, 0x8f, 0x1e, 0x75},
	{0x90, 0x3d, 0x84, 0xc0, 0x27, 0x56, 0xea, 0x14},
	{0xee, 0xf2, 0x7a, 0x8e, 0x90, 0xca, 0x23, 0xf7},
	{0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1},
};

#define KEY0 UINT64_C(0x0706050403020100)
#define KEY1 UINT64_C(0x0f0e0d0c0b0a0908)

static uint64_t
le64(const unsigned char *b)
{
	uint64_t	v = 0;
	int			i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

static void
test_siphash_vectors(void **state)
{
	unsigned char msg[16];
	int			len;

	for (len = 0; len < 16; len++)
		msg[len] = (unsigned char) len;
	assert_true(mlc_siphash(msg, 0, KEY0, KEY1) == UINT64_C(0x726fdb47dd0e0e31));
	assert_true(mlc_siphash(msg, 15, KEY0, KEY1) == UINT64_C(0xa129ca6149be45e5));
	for (len = 0; len < 16; len++)
		assert_true(mlc_siphash(msg, (size_t) len, KEY0, KEY1) == le64(sip_vectors[len]));
	/*
	 * The streaming state fed one byte at a time (a NULL tag is the single
	 * byte 0x00) agrees with one-shot hashing of that many zero bytes.
	 */
	memset(msg, 0, sizeof(msg));
	for (len = 0; len < 16; len++)
	{
		mlc_rowhash h;
		int			i;

		mlc_rowhash_init(&h, KEY0, KEY1);
		for (i = 0; i < len; i++)
			mlc_rowhash_null(&h);
		assert_true(mlc_rowhash_final(&h) == mlc_siphash(msg, (size_t) len, KEY0, KEY1));
	}
}

/* Append the documented encoding of one value / NULL to buf. */
static size_t
encode_value(unsigned char *buf, size_t pos, const void *data, size_t len)
{
	buf[pos++] = 0x01;
	buf[pos++] = (unsigned char) (len & 0xff);
	buf[pos++] = (unsigned char) ((len >> 8) & 0xff);
	buf[pos++] = (unsigned char) ((len >> 16) & 0xff);
	buf[pos++] = (unsigned char) ((len >> 24) & 0xff);
	memcpy(buf + pos, data, len);
	return pos + len;
}

static void
test_rowhash_matches_concatenation(void **state)
{
	unsigned char concat[8192];
	unsigned char value[300];
	uint64_t	rng = 99;
	int			trial;

	for (trial = 0; trial < 500; trial++)
	{
		mlc_rowhash h;
		size_t		pos = 0;
		int			cols = (int) (unit_rand_u64(&rng) % 12);
		int			c;
		uint64_t	k0 = unit_rand_u64(&rng),
					k1 = unit_rand_u64(&rng);

		mlc_rowhash_init(&h, k0, k1);
		for (c = 0; c < cols; c++)
		{
			if (unit_rand_u64(&rng) % 5 == 0)
			{
				mlc_rowhash_null(&h);
				concat[pos++] = 0x00;
			}
			else
			{
				size_t		len = (size_t) (unit_rand_u64(&rng) % 40);
				size_t		i;

				if (unit_rand_u64(&rng) % 10 == 0)
					len = 200 + (size_t) (unit_rand_u64(&rng) % 100);
				for (i = 0; i < len; i++)
					value[i] = (unsigned char) unit_rand_u64(&rng);
				mlc_rowhash_value(&h, value, len);
				pos = encode_value(concat, pos, value, len);
			}
		}
		assert_true(mlc_rowhash_final(&h) == mlc_siphash(concat, pos, k0, k1));
		/* final does not change the state: calling it twice agrees */
		assert_true(mlc_rowhash_final(&h) == mlc_rowhash_final(&h));
	}
}

static uint64_t
hash_row2(const char *a, const char *b)
{
	mlc_rowhash h;

	mlc_rowhash_init(&h, MLC_CONTENT_K0, MLC_CONTENT_K1);
	if (a == NULL)
		mlc_rowhash_null(&h);
	else
		mlc_rowhash_value(&h, a, strlen(a));
	if (b == NULL)
		mlc_rowhash_null(&h);
	else
		mlc_rowhash_value(&h, b, strlen(b));
	return mlc_rowhash_final(&h);
}

static void
test_rowhash_distinctions(void **state)
{
	mlc_rowhash h1,
				h2;

	assert_true(hash_row2("ab", "c") != hash_row2("a", "bc"));
	assert_true(hash_row2("", "x") != hash_row2(NULL, "x"));
	assert_true(hash_row2("a", NULL) != hash_row2(NULL, "a"));
	assert_true(hash_row2("", "") != hash_row2(NULL, NULL));
	assert_true(hash_row2("a", "b") != hash_row2("b", "a"));
	assert_true(hash_row2("a", "b") == hash_row2("a", "b"));

	/* a single NULL column vs a single empty value vs no column */
	mlc_rowhash_init(&h1, 1, 2);
	mlc_rowhash_init(&h2, 1, 2);
	mlc_rowhash_null(&h1);
	mlc_rowhash_value(&h2, "", 0);
	assert_true(mlc_rowhash_final(&h1) != mlc_rowhash_final(&h2));
	mlc_rowhash_init(&h2, 1, 2);
	assert_true(mlc_rowhash_final(&h1) != mlc_rowhash_final(&h2));

	/* the key matters */
	mlc_rowhash_init(&h1, 1, 2);
	mlc_rowhash_init(&h2, 1, 3);
	mlc_rowhash_value(&h1, "abc", 3);
	mlc_rowhash_value(&h2, "abc", 3);
	assert_true(mlc_rowhash_final(&h1) != mlc_rowhash_final(&h2));
}

/* 128-bit row hash as the engine is expected to compute it */
static void
row128(int v, uint64_t *lo, uint64_t *hi)
{
	mlc_rowhash h;
	char		buf[32];
	int			len = snprintf(buf, sizeof(buf), "%d", v);

	mlc_rowhash_init(&h, MLC_CONTENT_K0, MLC_CONTENT_K1);
	mlc_rowhash_value(&h, buf, (size_t) len);
	*lo = mlc_rowhash_final(&h);
	mlc_rowhash_init(&h, MLC_CONTENT_K0, MLC_CONTENT_K2);
	mlc_rowhash_value(&h, buf, (size_t) len);
	*hi = mlc_rowhash_final(&h);
}

static void
test_content_hash(void **state)
{
	mlc_content_hash a,
				b,
				c,
				parts[3];
	uint64_t	lo,
				hi;
	char		ha[64],
				hb[64];
	int			i,
				order[200];
	uint64_t	rng = 5;

	/* order independence: rows 0..199 forward and shuffled */
	mlc_content_hash_init(&a);
	for (i = 0; i < 200; i++)
	{
		row128(i, &lo, &hi);
		mlc_content_hash_add(&a, lo, hi);
		order[i] = i;
	}
	for (i = 199; i > 0; i--)
	{
		int			j = (int) (unit_rand_u64(&rng) % (uint64_t) (i + 1));
		int			t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	mlc_content_hash_init(&b);
	for (i = 0; i < 200; i++)
	{
		row128(order[i], &lo, &hi);
		mlc_content_hash_add(&b, lo, hi);
	}
	assert_true(a.lo == b.lo && a.hi == b.hi && a.rows == 200 && b.rows == 200);
	mlc_content_hash_hex(&a, ha);
	mlc_content_hash_hex(&b, hb);
	assert_string_equal(ha, hb);

	/* a duplicated row changes the hash (sum, not xor) */
	c = a;
	row128(17, &lo, &hi);
	mlc_content_hash_add(&c, lo, hi);
	assert_true(c.lo != a.lo || c.hi != a.hi);
	assert_int_equal(c.rows, 201);
	/* and so does replacing a row by another */
	mlc_content_hash_init(&c);
	for (i = 0; i < 200; i++)
	{
		row128(i == 3 ? 1000 : i, &lo, &hi);
		mlc_content_hash_add(&c, lo, hi);
	}
	assert_true(c.lo != a.lo || c.hi != a.hi);

	/* combine in any grouping equals the sequential hash */
	for (i = 0; i < 3; i++)
		mlc_content_hash_init(&parts[i]);
	for (i = 0; i < 200; i++)
	{
		row128(i, &lo, &hi);
		mlc_content_hash_add(&parts[i % 3], lo, hi);
	}
	mlc_content_hash_init(&c);
	mlc_content_hash_combine(&c, &parts[2]);
	mlc_content_hash_combine(&c, &parts[0]);
	mlc_content_hash_combine(&c, &parts[1]);
	assert_true(c.lo == a.lo && c.hi == a.hi && c.rows == a.rows);
}

static void
test_content_hash_carry_and_hex(void **state)
{
	mlc_content_hash c,
				d;
	char		buf[64];

	mlc_content_hash_init(&c);
	mlc_content_hash_add(&c, UINT64_MAX, 0);
	mlc_content_hash_add(&c, 1, 0);
	assert_true(c.lo == 0 && c.hi == 1 && c.rows == 2);

	/* wraps modulo 2^128 */
	mlc_content_hash_add(&c, UINT64_MAX, UINT64_MAX - 1);
	assert_true(c.lo == UINT64_MAX && c.hi == UINT64_MAX);
	mlc_content_hash_add(&c, 1, 0);
	assert_true(c.lo == 0 && c.hi == 0 && c.rows == 4);

	/* combine carries too */
	mlc_content_hash_init(&c);
	mlc_content_hash_init(&d);
	mlc_content_hash_add(&c, UINT64_C(0x8000000000000000), 5);
	mlc_content_hash_add(&d, UINT64_C(0x8000000000000001), 7);
	mlc_content_hash_combine(&c, &d);
	assert_true(c.lo == 1 && c.hi == 13 && c.rows == 2);

	c.hi = 2;
	c.lo = UINT64_C(0xabcdef0123456789);
	c.rows = 12345;
	mlc_content_hash_hex(&c, buf);
	assert_string_equal(buf, "0000000000000002abcdef0123456789-12345");
	mlc_content_hash_init(&c);
	mlc_content_hash_hex(&c, buf);
	assert_string_equal(buf, "00000000000000000000000000000000-0");
}

static void
test_split(void **state)
{
	uint64_t	a0,
				a1,
				b0,
				b1,
				c0,
				c1;
	double		fractions[] = {0.2, 0.5, 0.9};
	size_t		f;

	mlc_split_keys(42, &a0, &a1);
	mlc_split_keys(42, &b0, &b1);
	mlc_split_keys(43, &c0, &c1);
	assert_true(a0 == b0 && a1 == b1);
	assert_true(a0 != c0 && a1 != c1);
	assert_true(a0 != a1);
	mlc_split_keys(-1, &c0, &c1);
	assert_true(a0 != c0);

	for (f = 0; f < sizeof(fractions) / sizeof(fractions[0]); f++)
	{
		int			i,
					test = 0,
					again = 0;

		for (i = 0; i < 100000; i++)
		{
			mlc_rowhash h;
			char		buf[16];
			int			len = snprintf(buf, sizeof(buf), "%d", i);
			uint64_t	hv;

			mlc_rowhash_init(&h, a0, a1);
			mlc_rowhash_value(&h, buf, (size_t) len);
			hv = mlc_rowhash_final(&h);
			test += mlc_split_is_test(hv, fractions[f]);
			again += mlc_split_is_test(hv, fractions[f]);
		}
		assert_int_equal(test, again);
		assert_true(fabs(test / 100000.0 - fractions[f]) < 0.01);
	}

	/* bounds */
	assert_int_equal(mlc_split_is_test(0, 0.0), 0);
	assert_int_equal(mlc_split_is_test(0, 1e-300), 1);
	assert_int_equal(mlc_split_is_test(UINT64_MAX, 1.0), 1);
	assert_int_equal(mlc_split_is_test(UINT64_MAX, 0.999999), 0);
	assert_int_equal(mlc_split_is_test(UINT64_C(1) << 63, 0.5), 0);
	assert_int_equal(mlc_split_is_test((UINT64_C(1) << 63) - 1, 0.5), 1);
	assert_int_equal(mlc_split_is_test(12345, NAN), 0);
}

int
run_hash_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_rowhash_matches_concatenation),
		cmocka_unit_test(test_rowhash_distinctions),
		cmocka_unit_test(test_content_hash),
		cmocka_unit_test(test_content_hash_carry_and_hex),
		cmocka_unit_test(test_split),
	};

	return cmocka_run_group_tests_name("hash", tests, NULL, NULL);
}
