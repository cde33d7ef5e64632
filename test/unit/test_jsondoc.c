/*
 * test_jsondoc.c: the JSON documents from SQL decoded in the core (wire.h):
 * the jsonb training plan of ml._fit (mlc_json_plan_parse), the drift spec
 * of ml._drift_profile (mlc_drift_spec_parse), and the bounded scanner they
 * share with the hyperparameters (json.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "json.h"
#include "wire.h"

/* ---------- training plans ---------- */

static void
test_plan_valid(void **state)
{
	const char *text =
		"{\"seed\": -7, \"engine\": \"aggregate\", \"target\": \"label\", \"classes\": [\"b\", \"a\"], "
		"\"train_rows\": 1000, \"class_values\": [2, 1.5], \"missing_as_nan\": true, "
		"\"inputs\": [{\"kind\": \"number\", \"column\": \"x\", \"impute\": 0.25}, "
		"{\"kind\": \"category\", \"column\": \"c\\u00e9\", \"has_other\": true, \"drop_first\": true, "
		"\"categories\": [\"red\", \"blue\", \"green\"], \"impute\": 3}, "
		"{\"kind\": \"bool\", \"column\": \"f\", \"impute\": null}, {\"kind\": \"time\", \"column\": \"t\"}], "
		"\"target_kind\": \"class\", \"unknown\": {\"deep\": [[1, {\"x\": null}]]}}";
	mlc_json_plan pl;
	mlc_error	err;

	assert_int_equal(mlc_json_plan_parse(text, strlen(text), &pl, &err), MLC_OK);
	assert_int_equal(pl.target_kind, 2);
	assert_string_equal(pl.target, "label");
	assert_int_equal(pl.n_classes, 2);
	assert_string_equal(pl.classes[0], "b");	/* classes keep their order */
	assert_string_equal(pl.classes[1], "a");
	assert_non_null(pl.class_values);
	assert_true(pl.class_values[0] == 2.0 && pl.class_values[1] == 1.5);
	assert_int_equal(pl.train_rows, 1000);
	assert_int_equal(pl.seed, -7);
	assert_int_equal(pl.use_aggregates, 1);
	assert_int_equal(pl.missing_as_nan, 1);
	assert_int_equal(pl.n_inputs, 4);
	assert_string_equal(pl.enc[0].column, "x");
	assert_int_equal(pl.enc[0].kind, MLC_ENC_NUMBER);
	assert_true(pl.enc[0].impute == 0.25);
	assert_int_equal(pl.enc[0].width, 1);
	assert_string_equal(pl.enc[1].column, "c\xc3\xa9");
	assert_int_equal(pl.enc[1].kind, MLC_ENC_CATEGORY);
	assert_int_equal(pl.enc[1].n_categories, 3);
	assert_string_equal(pl.enc[1].categories[0], "blue");	/* sorted */
	assert_string_equal(pl.enc[1].categories[1], "green");
	assert_string_equal(pl.enc[1].categories[2], "red");
	assert_int_equal(pl.enc[1].has_other, 1);
	assert_int_equal(pl.enc[1].drop_first, 1);
	assert_int_equal(pl.enc[1].width, 3);
	assert_true(isnan(pl.enc[1].impute));
	assert_int_equal(pl.enc[2].kind, MLC_ENC_BOOL);
	assert_true(isnan(pl.enc[2].impute));	/* null reads as absent */
	assert_int_equal(pl.enc[3].kind, MLC_ENC_TIME);
	assert_int_equal(pl.p, 6);
	mlc_json_plan_free(&pl);
	assert_null(pl.enc);
}

static void
test_plan_defaults(void **state)
{
	/* no target, flags not true, duplicate keys: the last one wins (jsonb) */
	const char *text =
		"{\"target_kind\": \"class\", \"target_kind\": \"none\", \"engine\": \"parallel\", "
		"\"missing_as_nan\": 1, \"classes\": 5, \"inputs\": [{\"column\": \"a\", \"kind\": \"category\", "
		"\"categories\": [], \"drop_first\": true, \"has_other\": \"yes\"}]}";
	mlc_json_plan pl;
	mlc_error	err;

	assert_int_equal(mlc_json_plan_parse(text, strlen(text), &pl, &err), MLC_OK);
	assert_int_equal(pl.target_kind, 0);
	assert_null(pl.target);
	assert_null(pl.classes);
	assert_int_equal(pl.use_aggregates, 0);
	assert_int_equal(pl.missing_as_nan, 0);
	assert_int_equal(pl.seed, 0);
	assert_int_equal(pl.train_rows, 0);
	assert_int_equal(pl.enc[0].drop_first, 0);	/* only with categories */
	assert_int_equal(pl.enc[0].has_other, 0);
	assert_int_equal(pl.enc[0].width, 0);
	assert_int_equal(pl.p, 0);		/* "no features" is the glue's error */
	mlc_json_plan_free(&pl);

	text = "{\"target_kind\": \"number\", \"target\": \"y\", \"inputs\": []}";
	assert_int_equal(mlc_json_plan_parse(text, strlen(text), &pl, &err), MLC_OK);
	assert_int_equal(pl.target_kind, 1);
	assert_int_equal(pl.n_inputs, 0);
	mlc_json_plan_free(&pl);
}

typedef struct doc_case
{
	const char *text;
	const char *detail;			/* expected detail, or its start when it ends in '*' */
} doc_case;

static void
expect_detail(const mlc_error *err, const char *msg, const char *detail, const char *text)
{
	size_t		n = strlen(detail);

	if (strcmp(err->msg, msg) != 0)
		fail_msg("%s: message \"%s\"", text, err->msg);
	if (n > 0 && detail[n - 1] == '*' ? strncmp(err->detail, detail, n - 1) != 0
		: strcmp(err->detail, detail) != 0)
		fail_msg("%s: detail \"%s\", expected \"%s\"", text, err->detail, detail);
}

#define CLASS_HEAD "{\"target_kind\":\"class\",\"target\":\"y\",\"classes\":[\"0\",\"1\"]"
#define X_NUMBER "\"inputs\":[{\"column\":\"x\",\"kind\":\"number\"}]"

static void
test_plan_errors(void **state)
{
	/* the jsonb plans of test/sql/15_hostile_inputs.sql, with the same details */
	static const doc_case cases[] = {
		{CLASS_HEAD ",\"class_values\":[0]," X_NUMBER "}", "\"class_values\" has 1 values for 2 classes."},
		{CLASS_HEAD ",\"class_values\":[0,1,2]," X_NUMBER "}", "\"class_values\" has 3 values for 2 classes."},
		{CLASS_HEAD ",\"class_values\":[\"a\",\"b\"]," X_NUMBER "}", "A number was expected."},
		{CLASS_HEAD ",\"class_values\":{\"a\":1}," X_NUMBER "}", "An array was expected."},
		{"{\"target_kind\":\"class\",\"target\":\"y\",\"classes\":\"01\"," X_NUMBER "}", "An array was expected."},
		{"{\"target_kind\":\"class\",\"target\":\"y\",\"classes\":[0,1]," X_NUMBER "}", "A string was expected."},
		{"{\"target_kind\":\"class\",\"target\":\"y\"," X_NUMBER "}", "The plan has no \"classes\"."},
		{"{\"target_kind\":\"class\",\"target\":5,\"classes\":[\"0\",\"1\"]," X_NUMBER "}", "A string was expected."},
		{CLASS_HEAD "}", "The plan has no \"inputs\"."},
		{CLASS_HEAD ",\"inputs\":{}}", "An array was expected."},
		{CLASS_HEAD ",\"inputs\":[5]}", "An object was expected."},
		{CLASS_HEAD ",\"inputs\":[{\"kind\":\"number\"}]}", "An input has no \"column\"."},
		{CLASS_HEAD ",\"inputs\":[{\"column\":\"x\",\"kind\":\"vector\"}]}", "Unknown encoder kind \"vector\"."},
		{CLASS_HEAD ",\"inputs\":[{\"column\":\"x\",\"kind\":\"category\"}]}", "A category input has no \"categories\"."},
		{CLASS_HEAD ",\"inputs\":[{\"column\":\"x\",\"kind\":\"category\",\"categories\":\"a\"}]}", "An array was expected."},
		{CLASS_HEAD ",\"inputs\":[{\"column\":\"x\",\"kind\":\"category\",\"categories\":[1]}]}", "A string was expected."},
		{CLASS_HEAD ",\"inputs\":[{\"column\":\"x\",\"kind\":\"number\",\"impute\":\"a\"}]}", "A number was expected."},
		{CLASS_HEAD ",\"seed\":1e20," X_NUMBER "}", "\"seed\" is out of range."},
		{CLASS_HEAD ",\"train_rows\":-1," X_NUMBER "}", "\"train_rows\" is out of range."},
		{"[]", "The plan must be an object."},
		{"{}", "The plan has no \"target_kind\"."},
		/* beyond the SQL file */
		{"5", "The plan must be an object."},
		{"{\"target_kind\":null," X_NUMBER "}", "The plan has no \"target_kind\"."},
		{"{\"target_kind\":\"number\"," X_NUMBER "}", "The plan has no \"target\"."},
		{CLASS_HEAD ",\"inputs\":[{\"column\":\"x\"}]}", "An input has no \"kind\"."},
		{CLASS_HEAD ",\"engine\":1," X_NUMBER "}", "A string was expected."},
		{CLASS_HEAD ",\"seed\":\"1\"," X_NUMBER "}", "A number was expected."},
		{CLASS_HEAD ",\"train_rows\":1e19," X_NUMBER "}", "\"train_rows\" is out of range."},
		{CLASS_HEAD ",\"seed\":2147483648," X_NUMBER "}", "\"seed\" is out of range."},
		{CLASS_HEAD ",\"class_values\":[1e400,0]," X_NUMBER "}", "A number is out of range for a double."},
		{CLASS_HEAD ",\"inputs\":[{\"column\":\"x\",\"kind\":\"number\",\"impute\":-1e-400}]}", "A number is out of range for a double."},
		{CLASS_HEAD ",\"inputs\":[{\"column\":\"x\\u0000\",\"kind\":\"number\"}]}", "A string holds a \\u0000 escape."},
		/* not JSON: the scanner's errors, under the plan's message */
		{"", "The JSON text is invalid: expected a value at its end."},
		{"{\"target_kind\":\"number\"", "The JSON text is invalid: expected ',' or '}' at its end."},
		{"{\"target_kind\":\"number\"} x", "The JSON text is invalid: unexpected characters after the value at byte offset 25."},
		{"{\"a\":[1,]}", "The JSON text is invalid: expected a value at byte offset 8."},
		{"{\"a\":01}", "The JSON text is invalid: expected ',' or '}' at byte offset 6."},
		{"{\"a\":tru}", "The JSON text is invalid: expected a value*"},
		{"{\"a\":\"\\x\"}", "The JSON text is invalid: invalid escape in a string*"},
		{"{\"a\":\"\\ud800\"}", "The JSON text is invalid: lone high surrogate in a string*"},
		{"{\"a\":\"\t\"}", "The JSON text is invalid: control character in a string*"},
		{"{'a':1}", "The JSON text is invalid: expected a string key*"},
		{"{\"a\" 1}", "The JSON text is invalid: expected ':' after a key*"},
		{"[1 2]", "The JSON text is invalid: expected ',' or ']'*"},
	};
	mlc_json_plan pl;
	mlc_error	err;
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		if (mlc_json_plan_parse(cases[i].text, strlen(cases[i].text), &pl, &err) != MLC_EINVAL)
			fail_msg("%s: accepted", cases[i].text);
		expect_detail(&err, "malformed training plan", cases[i].detail, cases[i].text);
		assert_null(pl.enc);
		assert_null(pl.classes);
		assert_null(pl.target);
	}
	/* a NUL byte inside the length */
	assert_int_equal(mlc_json_plan_parse("{}\0{}", 5, &pl, &err), MLC_EINVAL);
	assert_string_equal(err.detail, "The JSON text contains a NUL byte.");
}

/* Every proper prefix of a valid plan is rejected, never read past. */
static void
test_plan_truncated(void **state)
{
	const char *text =
		"{\"target_kind\": \"class\", \"target\": \"y\", \"classes\": [\"a\", \"b\\n\"], "
		"\"class_values\": [0, 1e2], \"inputs\": [{\"column\": \"c\", \"kind\": \"category\", "
		"\"categories\": [\"x\", \"\\ud83d\\ude00\"], \"has_other\": true}]}";
	size_t		len = strlen(text),
				n;
	mlc_json_plan pl;
	mlc_error	err;

	for (n = 0; n < len; n++)
	{
		char	   *copy = malloc(n + 1);

		assert_non_null(copy);
		memcpy(copy, text, n);
		assert_int_equal(mlc_json_plan_parse(copy, n, &pl, &err), MLC_EINVAL);
		free(copy);
	}
	assert_int_equal(mlc_json_plan_parse(text, len, &pl, &err), MLC_OK);
	assert_string_equal(pl.classes[1], "b\n");
	assert_string_equal(pl.enc[0].categories[1], "\xf0\x9f\x98\x80");
	assert_int_equal(pl.p, 3);
	mlc_json_plan_free(&pl);
}

/* Arrays are capped before anything is allocated for them. */
static void
test_plan_caps(void **state)
{
	size_t		n = MLC_JSON_PLAN_MAX_ITEMS + 1;
	const char	head[] = "{\"target_kind\":\"class\",\"target\":\"y\",\"classes\":[";
	size_t		len = sizeof(head) - 1 + 4 * n + 64;
	char	   *text = malloc(len);
	size_t		used,
				i;
	mlc_json_plan pl;
	mlc_error	err;

	assert_non_null(text);
	memcpy(text, head, sizeof(head) - 1);
	used = sizeof(head) - 1;
	for (i = 0; i < n; i++)
	{
		memcpy(text + used, i ? ",\"a\"" : "\"a\"", i ? 4 : 3);
		used += i ? 4 : 3;
	}
	used += (size_t) snprintf(text + used, len - used, "]," X_NUMBER "}");
	assert_int_equal(mlc_json_plan_parse(text, used, &pl, &err), MLC_EINVAL);
	assert_string_equal(err.detail, "An array has more than 1000000 items.");
	free(text);
}

/* ---------- drift specs ---------- */

static void
test_spec_valid(void **state)
{
	const char *text =
		"{\"features\": [{\"kind\": \"numeric\", \"mean\": 2.5, \"name\": \"x\", \"edges\": [1, 2, 3]}, "
		"{\"kind\": \"categorical\", \"name\": \"c\", \"values\": [\"b\", \"a\"], \"edges\": \"ignored\"}, "
		"{\"name\": \"z\", \"kind\": null, \"mean\": null}], "
		"\"prediction_mean\": -0.5, \"prediction_edges\": [0.1, 0.9]}";
	mlc_drift_spec sp;
	mlc_error	err;

	assert_int_equal(mlc_drift_spec_parse(text, strlen(text), &sp, &err), MLC_OK);
	assert_int_equal(sp.nfeat, 3);
	assert_string_equal(sp.feat[0].name, "x");
	assert_int_equal(sp.feat[0].categorical, 0);
	assert_true(sp.feat[0].shift == 2.5);
	assert_int_equal(sp.feat[0].nedges, 3);
	assert_true(sp.feat[0].edges[2] == 3.0);
	assert_int_equal(sp.feat[0].offset, 1);
	assert_int_equal(sp.feat[0].nbins, 4);
	assert_int_equal(sp.feat[1].categorical, 1);
	assert_int_equal(sp.feat[1].nvalues, 2);
	assert_string_equal(sp.feat[1].values[0], "b");	/* values keep their order */
	assert_int_equal(sp.feat[1].offset, 1 + MLC_DRIFT_BLOCK_HEAD + 4);
	assert_int_equal(sp.feat[1].nbins, 3);
	assert_int_equal(sp.feat[2].categorical, 0);
	assert_true(sp.feat[2].shift == 0.0);
	assert_int_equal(sp.feat[2].nbins, 1);
	assert_int_equal(sp.feat[2].offset, sp.feat[1].offset + MLC_DRIFT_BLOCK_HEAD + 3);
	assert_int_equal(sp.pred_offset, sp.feat[2].offset + MLC_DRIFT_BLOCK_HEAD + 1);
	assert_int_equal(sp.pred_nedges, 2);
	assert_true(sp.pred_shift == -0.5);
	assert_int_equal(sp.nvals, sp.pred_offset + MLC_DRIFT_BLOCK_HEAD + 3);
	mlc_drift_spec_free(&sp);
	assert_null(sp.feat);

	text = "{\"features\": []}";
	assert_int_equal(mlc_drift_spec_parse(text, strlen(text), &sp, &err), MLC_OK);
	assert_int_equal(sp.nfeat, 0);
	assert_int_equal(sp.pred_offset, 1);
	assert_int_equal(sp.nvals, 1 + MLC_DRIFT_BLOCK_HEAD + 1);
	mlc_drift_spec_free(&sp);
}

static void
test_spec_errors(void **state)
{
	/* the drift specs of test/sql/15_hostile_inputs.sql, with the same details */
	static const doc_case cases[] = {
		{"{\"features\":[{}]}", "A feature's \"name\" must be a string."},
		{"{}", "\"features\" must be an array."},
		{"[]", "The spec must be an object."},
		{"\"features\"", "The spec must be an object."},
		{"{\"features\":{}}", "\"features\" must be an array."},
		{"{\"features\":5}", "\"features\" must be an array."},
		{"{\"features\":[5]}", "Each item of \"features\" must be an object."},
		{"{\"features\":[{\"name\":5}]}", "A feature's \"name\" must be a string."},
		{"{\"features\":[{\"name\":null}]}", "A feature's \"name\" must be a string."},
		{"{\"features\":[{\"name\":\"x\",\"kind\":7}]}", "A feature's \"kind\" must be a string."},
		{"{\"features\":[{\"name\":\"x\",\"kind\":\"categorical\",\"values\":[1,2]}]}", "Each item of a feature's \"values\" must be a string."},
		{"{\"features\":[{\"name\":\"x\",\"kind\":\"categorical\",\"values\":\"ab\"}]}", "A feature's \"values\" must be an array."},
		{"{\"features\":[{\"name\":\"x\",\"edges\":[1,\"a\"]}]}", "A feature's \"edges\" must hold only numbers."},
		{"{\"features\":[{\"name\":\"x\",\"edges\":{\"a\":1}}]}", "A feature's \"edges\" must be an array."},
		{"{\"features\":[{\"name\":\"x\",\"mean\":\"high\"}]}", "A feature's \"mean\" must be a number."},
		{"{\"features\":[{\"name\":\"x\"}],\"prediction_edges\":{}}", "\"prediction_edges\" must be an array."},
		{"{\"features\":[{\"name\":\"x\"}],\"prediction_mean\":[1]}", "\"prediction_mean\" must be a number."},
		/* beyond the SQL file */
		{"{\"features\":[{\"name\":\"x\",\"edges\":[1,null]}]}", "A feature's \"edges\" must hold only numbers."},
		{"{\"features\":[{\"name\":\"x\",\"mean\":1e999}]}", "A feature's \"mean\" is out of range for a double."},
		{"{\"features\":[{\"name\":\"x\",\"edges\":[-1e999]}]}", "A feature's \"edges\" holds a number out of range for a double."},
		{"{\"features\":[{\"name\":\"x\\u0000y\"}]}", "A feature's \"name\" holds a \\u0000 escape."},
		{"{\"features\":[{\"name\":\"x\"}", "The JSON text is invalid: expected ',' or ']' at its end."},
	};
	mlc_drift_spec sp;
	mlc_error	err;
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		if (mlc_drift_spec_parse(cases[i].text, strlen(cases[i].text), &sp, &err) != MLC_EINVAL)
			fail_msg("%s: accepted", cases[i].text);
		expect_detail(&err, "malformed drift spec", cases[i].detail, cases[i].text);
		assert_null(sp.feat);
		assert_null(sp.pred_edges);
	}
}

/*
 * Too many bins: the 64 Mi doubles cap, checked from the counts before any
 * feature is decoded (68 features of 1,000,000 edges need 68e6 doubles; at
 * two bytes an edge the text is 136 MB, the decoded edges would be 544).
 */
static void
test_spec_too_many_bins(void **state)
{
	const int	nfeat = 68,
				nedge = MLC_DRIFT_MAX_ITEMS;
	size_t		len = (size_t) nfeat * (nedge * 2 + 64) + 64;
	char	   *text = malloc(len);
	size_t		used = 0;
	int			f,
				v;
	mlc_drift_spec sp;
	mlc_error	err;

	assert_non_null(text);
	used += (size_t) snprintf(text + used, len - used, "{\"features\":[");
	for (f = 0; f < nfeat; f++)
	{
		used += (size_t) snprintf(text + used, len - used, "%s{\"name\":\"f\",\"edges\":[0",
								  f ? "," : "");
		for (v = 1; v < nedge; v++)
		{
			memcpy(text + used, ",0", 2);
			used += 2;
		}
		used += (size_t) snprintf(text + used, len - used, "]}");
	}
	used += (size_t) snprintf(text + used, len - used, "]}");
	assert_int_equal(mlc_drift_spec_parse(text, used, &sp, &err), MLC_EINVAL);
	assert_string_equal(err.detail, "The spec has too many bins.");
	assert_null(sp.feat);

	/* three such features fit */
	used = 0;
	used += (size_t) snprintf(text + used, len - used, "{\"features\":[");
	for (f = 0; f < 3; f++)
	{
		used += (size_t) snprintf(text + used, len - used, "%s{\"name\":\"f\",\"edges\":[0",
								  f ? "," : "");
		for (v = 1; v < nedge; v++)
		{
			memcpy(text + used, ",0", 2);
			used += 2;
		}
		used += (size_t) snprintf(text + used, len - used, "]}");
	}
	used += (size_t) snprintf(text + used, len - used, "]}");
	assert_int_equal(mlc_drift_spec_parse(text, used, &sp, &err), MLC_OK);
	assert_int_equal(sp.nvals, 1 + 3 * (MLC_DRIFT_BLOCK_HEAD + nedge + 1) + MLC_DRIFT_BLOCK_HEAD + 1);
	mlc_drift_spec_free(&sp);
	free(text);
}

/* ---------- the scanner ---------- */

static void
test_json_depth(void **state)
{
	size_t		depth = MLC_JSON_MAX_DEPTH;
	char	   *text = malloc(2 * (depth + 1) + 1);
	mlc_json	j;
	mlc_error	err;
	size_t		i;

	assert_non_null(text);
	for (i = 0; i < depth; i++)
	{
		text[i] = '[';
		text[2 * depth - 1 - i] = ']';
	}
	mlc_json_init(&j, text, 2 * depth, &err, "test", NULL);
	assert_int_equal(mlc_json_skip(&j), MLC_OK);
	assert_int_equal(j.pos, 2 * depth);

	/* one level more fails where the level opens */
	memmove(text + 1, text, 2 * depth);
	text[0] = '[';
	text[2 * depth + 1] = ']';
	mlc_json_init(&j, text, 2 * depth + 2, &err, "test", NULL);
	assert_int_equal(mlc_json_skip(&j), MLC_EINVAL);
	assert_string_equal(err.msg, "invalid test JSON: nesting too deep");
	free(text);
}

static void
test_json_fields_and_arrays(void **state)
{
	static const char *const keys[] = {"a", "b", "c", "long"};
	const char *text = "{\"a\": 1, \"b\": null, \"\\u0061\": [1, 2, 3], \"longer than the buffer of keys"
		" kept while they are compared, which is sixty four bytes\": 5, \"c\": {}}";
	size_t		at[4];
	int64_t		n;
	double		d;
	int			range,
				more;
	mlc_json	j;
	mlc_error	err;

	mlc_json_init(&j, text, strlen(text), &err, "test", NULL);
	assert_int_equal(mlc_json_object_fields(&j, keys, 4, at), MLC_OK);
	assert_int_equal(j.pos, strlen(text));
	assert_true(at[1] == MLC_JSON_ABSENT);
	assert_true(at[3] == MLC_JSON_ABSENT);
	assert_int_equal(text[at[2]], '{');
	j.pos = at[0];				/* "\u0061" is "a": the last one wins */
	assert_int_equal(mlc_json_type_at(&j), MLC_JSON_ARRAY);
	assert_int_equal(mlc_json_array_count(&j, 10, &n), MLC_OK);
	assert_int_equal(n, 3);
	assert_int_equal(j.pos, at[0]);
	assert_int_equal(mlc_json_array_count(&j, 1, &n), MLC_OK);
	assert_int_equal(n, 2);		/* cap + 1: more than the cap */
	assert_int_equal(mlc_json_array_first(&j, &more), MLC_OK);
	assert_int_equal(more, 1);
	assert_int_equal(mlc_json_number(&j, &d, &range), MLC_OK);
	assert_true(d == 1.0 && !range);

	/* numbers: range flags as float8in reports them */
	mlc_json_init(&j, "1e-400", 6, &err, "test", NULL);
	assert_int_equal(mlc_json_number(&j, &d, &range), MLC_OK);
	assert_true(range && d == 0.0);
	mlc_json_init(&j, "4e-320", 6, &err, "test", NULL);
	assert_int_equal(mlc_json_number(&j, &d, &range), MLC_OK);
	assert_true(!range && d > 0.0);		/* a subnormal is a value */
}

int
run_jsondoc_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_valid),
		cmocka_unit_test(test_plan_defaults),
		cmocka_unit_test(test_plan_errors),
		cmocka_unit_test(test_plan_truncated),
		cmocka_unit_test(test_plan_caps),
		cmocka_unit_test(test_spec_valid),
		cmocka_unit_test(test_spec_errors),
		cmocka_unit_test(test_spec_too_many_bins),
		cmocka_unit_test(test_json_depth),
		cmocka_unit_test(test_json_fields_and_arrays),
	};

	return cmocka_run_group_tests_name("jsondoc", tests, NULL, NULL);
}
