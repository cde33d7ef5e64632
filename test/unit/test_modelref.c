/*
 * test_modelref.c: model reference parsing and model name validation.
 */
#include <string.h>

#include "unit.h"

static mlc_status
parse(const char *s, mlc_model_ref *ref, mlc_error *err)
{
	return mlc_model_ref_parse(s, strlen(s), ref, err);
}

static void
test_valid_refs(void **state)
{
	mlc_model_ref r;
	mlc_error	err;
	char		name63[64];

	assert_int_equal(parse("churn", &r, &err), MLC_OK);
	assert_string_equal(r.name, "churn");
	assert_int_equal(r.kind, MLC_REF_DEFAULT);

	assert_int_equal(parse("churn@3", &r, &err), MLC_OK);
	assert_string_equal(r.name, "churn");
	assert_int_equal(r.kind, MLC_REF_VERSION);
	assert_int_equal(r.version, 3);

	assert_int_equal(parse("churn@2147483647", &r, &err), MLC_OK);
	assert_int_equal(r.version, 2147483647);

	assert_int_equal(parse("a.b-c_D9@production", &r, &err), MLC_OK);
	assert_string_equal(r.name, "a.b-c_D9");
	assert_int_equal(r.kind, MLC_REF_STAGE);
	assert_string_equal(r.stage, "production");
	assert_int_equal(parse("m@staging", &r, &err), MLC_OK);
	assert_string_equal(r.stage, "staging");
	assert_int_equal(parse("m@archived", &r, &err), MLC_OK);
	assert_string_equal(r.stage, "archived");
	assert_int_equal(parse("m@none", &r, &err), MLC_OK);
	assert_string_equal(r.stage, "none");
	assert_int_equal(parse("_x", &r, &err), MLC_OK);
	assert_int_equal(parse("9lives", &r, &err), MLC_OK);

	memset(name63, 'n', 63);
	name63[63] = '\0';
	assert_int_equal(parse(name63, &r, &err), MLC_OK);
	assert_string_equal(r.name, name63);

	/* the text is length-delimited, not NUL-terminated */
	assert_int_equal(mlc_model_ref_parse("churn@3XYZ", 7, &r, &err), MLC_OK);
	assert_int_equal(r.version, 3);
	assert_int_equal(mlc_model_ref_parse("churn@production!!", 16, &r, &err), MLC_OK);
	assert_string_equal(r.stage, "production");
	assert_int_equal(mlc_model_ref_parse("abc@1", 3, &r, &err), MLC_OK);
	assert_string_equal(r.name, "abc");
	assert_int_equal(r.kind, MLC_REF_DEFAULT);
}

static void
test_invalid_refs(void **state)
{
	static const char *bad[] = {
		"", "@1", "@production", "churn@", "churn@0", "churn@01", "churn@+1",
		"churn@-1", "churn@ 1", "churn@1 ", "churn@1x", "churn@2147483648",
		"churn@99999999999999999999", "churn@Production", "churn@prod",
		"churn@1@2", "churn@@1", ".hidden", "-x", "a b", "a/b", "na\xc3\xafve",
		"churn @1", " churn",
	};
	mlc_model_ref r;
	mlc_error	err;
	size_t		i;
	char		name64[65];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		memset(&err, 0, sizeof(err));
		assert_int_equal(parse(bad[i], &r, &err), MLC_EINVAL);
		assert_int_equal(err.code, MLC_EINVAL);
		assert_true(err.msg[0] != '\0');
		assert_true(err.detail[0] != '\0');
	}
	memset(name64, 'n', 64);
	name64[64] = '\0';
	assert_int_equal(parse(name64, &r, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "too long"));

	assert_int_equal(parse("churn@prod", &r, &err), MLC_EINVAL);
	assert_string_equal(err.msg,
						"invalid model reference \"churn@prod\": unknown version or stage after \"@\"");
	assert_non_null(strstr(err.detail, "staging, production, archived or none"));
	assert_int_equal(parse("churn@0", &r, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "invalid model version"));
	assert_int_equal(parse("churn@", &r, &err), MLC_EINVAL);
	assert_non_null(strstr(err.msg, "nothing after"));

	/* embedded NUL and non-ASCII are rejected; the message stays ASCII */
	assert_int_equal(mlc_model_ref_parse("ab\0c", 4, &r, &err), MLC_EINVAL);
	assert_int_equal(parse("na\xc3\xafve", &r, &err), MLC_EINVAL);
	for (i = 0; err.msg[i] != '\0'; i++)
		assert_true((unsigned char) err.msg[i] < 0x80);
	assert_int_equal(mlc_model_ref_parse(NULL, 3, &r, &err), MLC_EINVAL);
	assert_int_equal(mlc_model_ref_parse("x", 1, NULL, &err), MLC_EINVAL);
}

static void
test_name_valid(void **state)
{
	char		name63[64],
				name64[65];

	memset(name63, 'a', 63);
	name63[63] = '\0';
	memset(name64, 'a', 64);
	name64[64] = '\0';
	assert_int_equal(mlc_model_name_valid("churn"), 1);
	assert_int_equal(mlc_model_name_valid("Churn_v2.final-1"), 1);
	assert_int_equal(mlc_model_name_valid(name63), 1);
	assert_int_equal(mlc_model_name_valid(name64), 0);
	assert_int_equal(mlc_model_name_valid(""), 0);
	assert_int_equal(mlc_model_name_valid(NULL), 0);
	assert_int_equal(mlc_model_name_valid(".x"), 0);
	assert_int_equal(mlc_model_name_valid("-x"), 0);
	assert_int_equal(mlc_model_name_valid("x@1"), 0);
	assert_int_equal(mlc_model_name_valid("x y"), 0);
	assert_int_equal(mlc_model_name_valid("x.-_"), 1);
}

int
run_modelref_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_refs),
		cmocka_unit_test(test_invalid_refs),
		cmocka_unit_test(test_name_valid),
	};

	return cmocka_run_group_tests_name("modelref", tests, NULL, NULL);
}
