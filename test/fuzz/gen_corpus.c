/*
 * gen_corpus.c: writes the seed corpus of fuzz_model_decode (valid encoded
 * models, and one of each damage) into the directory given as argv[1].
 * `make fuzz-corpus` builds and runs it; the committed files under
 * corpus/fuzz_model_decode came from it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlcore.h"

static void
write_file(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
	char		path[512];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
	{
		perror(path);
		exit(1);
	}
}

static void
encode(const char *dir, const char *name, mlc_algorithm alg, int p,
	   const char *const *names, double intercept, const double *coef,
	   uint8_t **out, size_t *out_len)
{
	mlc_model	m;
	mlc_error	err;

	m.algorithm = alg;
	m.n_features = p;
	m.feature_names = (char **) names;
	m.linear.p = p;
	m.linear.intercept = intercept;
	m.linear.coef = (double *) coef;
	if (mlc_model_encode(&m, out, out_len, &err) != MLC_OK)
	{
		fprintf(stderr, "%s: %s\n", name, err.msg);
		exit(1);
	}
	write_file(dir, name, *out, *out_len);
}

int
main(int argc, char **argv)
{
	static const char *const names3[] = {"crim", "rm", "lstat"};
	static const char *const names1[] = {"x"};
	static const char *const names13[] = {"crim", "zn", "indus", "chas", "nox", "rm",
		"age", "dis", "rad", "tax", "ptratio", "b", "lstat"};
	static const char *const odd[] = {"a b", "\xc3\xa9t\xc3\xa9", "x-1.y_2", "\x01\x7f\xff"};
	double		coef3[] = {-0.108, 3.81, -0.525};
	double		coef1[] = {2.0};
	double		coef13[13];
	double		oddc[] = {NAN, INFINITY, -0.0, 5e-324};
	uint8_t    *buf;
	size_t		len;
	int			j;

	if (argc != 2)
	{
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (j = 0; j < 13; j++)
		coef13[j] = (j - 6) * 0.75;

	encode(argv[1], "linear_p0", MLC_ALG_LINEAR, 0, NULL, 22.5, NULL, &buf, &len);
	mlc_free(buf);
	encode(argv[1], "linear_p1", MLC_ALG_LINEAR, 1, names1, 1.0, coef1, &buf, &len);
	mlc_free(buf);
	encode(argv[1], "ridge_p3", MLC_ALG_RIDGE, 3, names3, 36.46, coef3, &buf, &len);
	mlc_free(buf);
	encode(argv[1], "linear_p13_boston", MLC_ALG_LINEAR, 13, names13, 36.46, coef13, &buf, &len);
	mlc_free(buf);
	encode(argv[1], "ridge_odd_names_values", MLC_ALG_RIDGE, 4, odd, -1e308, oddc, &buf, &len);
	mlc_free(buf);

	/* damaged copies of ridge_p3: bad CRC, truncated, bad version */
	encode(argv[1], "ridge_p3", MLC_ALG_RIDGE, 3, names3, 36.46, coef3, &buf, &len);
	buf[len - 1] ^= 0x40;
	write_file(argv[1], "bad_crc", buf, len);
	buf[len - 1] ^= 0x40;
	write_file(argv[1], "truncated", buf, len - 5);
	buf[4] = 2;
	write_file(argv[1], "bad_version", buf, len);
	write_file(argv[1], "header_only", buf, MLC_HEADER_SIZE);
	mlc_free(buf);
	return 0;
}
