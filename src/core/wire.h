/*
 * wire.h: byte layouts that cross the SQL boundary and their checks.
 *
 * Two kinds of bytes reach the C code from SQL, where any role can pass
 * any value: the state of the pg_mlops statistics aggregates (a bytea) and
 * the training plan of ml._pass (a bytea).  Both are checked here, in the
 * pure-C core (no PostgreSQL headers), so the checks can be fuzzed: every
 * length, count and field is verified before anything is read through it,
 * and failures are MLC_ECORRUPT (or MLC_ENOMEM) with a message, never a
 * crash.
 */
#ifndef MLC_WIRE_H
#define MLC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "mlcore.h"

/* ---------- aggregate states (aggengine.c) ---------- */

/*
 * Layout, host byte order (states never leave the architecture that made
 * them: Citus ships them between nodes of one cluster):
 *     header (MLC_AGG_HDR_SIZE bytes; the first 4 are the varlena length,
 *             which the check ignores: len is the whole buffer)
 *     params[param_len]                   doubles, the pass's parameters
 *     rows[block_rows * (p + 1)]          doubles, buffered encoded rows, y first
 *     flags[2 * block_rows] padded to 8   is_test and fold per buffered row
 *     acc[acc_len]                        doubles, combined partial
 */
typedef struct mlc_agg_header
{
	int32_t		vl_len_;
	uint32_t	magic;
	int16_t		version;
	int16_t		rule;			/* MLC_AGG_RULE_* */
	int32_t		algorithm;
	int32_t		pass;			/* MLC_PASS_* */
	int32_t		p;
	int32_t		K;				/* classes (naive Bayes), else 0 */
	int32_t		block_rows;
	int32_t		partial_len;	/* doubles of one block's partial */
	int32_t		result_len;		/* doubles the final function returns; -1: acc_len */
	int32_t		param_len;
	int32_t		nbuf;			/* rows buffered */
	int32_t		has_folds;		/* buffered train rows carry folds */
	int32_t		filled;			/* acc holds statistics (else it is empty) */
	int64_t		skipped;		/* unusable rows since the last flush */
	int64_t		acc_len;		/* doubles of acc: partial_len, or the sample's length */
} mlc_agg_header;

#define MLC_AGG_HDR_SIZE ((sizeof(mlc_agg_header) + 7) & ~(size_t) 7)
#define MLC_AGG_MAGIC 0x4D4C4147	/* "MLAG" */
#define MLC_AGG_VERSION 1
/* Caps: params and partials of at most 64 Mi doubles, p at most 10^6. */
#define MLC_AGG_MAX_DOUBLES ((int64_t) 64 * 1024 * 1024)
#define MLC_AGG_MAX_P 1000000

enum
{
	MLC_AGG_RULE_ADD = 1,		/* element by element */
	MLC_AGG_RULE_STATS = 2,		/* 3 counts added, then mlc_linear_stats_merge */
	MLC_AGG_RULE_NB = 3,		/* mlc_nb_combine (Chan) */
	MLC_AGG_RULE_SAMPLE = 4		/* concatenation of (hash, row) records */
};

/* The training passes that have a combine rule (the glue's PASS_* values). */
enum
{
	MLC_PASS_STATS = 0,
	MLC_PASS_REFINE = 1,
	MLC_PASS_EVAL = 2,
	MLC_PASS_LOGISTIC = 3,
	MLC_PASS_SOFTMAX = 4,
	MLC_PASS_SAMPLE = 5,
	MLC_PASS_KMEANS = 6,
	MLC_PASS_NB = 7,
	MLC_PASS_LOGISTIC_W = 8,	/* MLC_PASS_LOGISTIC with a weight per class after beta */
	MLC_PASS_SOFTMAX_W = 9		/* MLC_PASS_SOFTMAX with a weight per class after W */
};

/* The combine rule of a pass, or 0 for a pass without one. */
int			mlc_agg_pass_rule(int pass);

/* Bytes of a state with header h and acc_len doubles of statistics (UINT64_MAX on overflow). */
uint64_t	mlc_agg_state_size(const mlc_agg_header *h, int64_t acc_len);
/* Byte offsets of the regions of a state whose header passed the check. */
size_t		mlc_agg_params_offset(const mlc_agg_header *h);
size_t		mlc_agg_rows_offset(const mlc_agg_header *h);
size_t		mlc_agg_flags_offset(const mlc_agg_header *h);
size_t		mlc_agg_acc_offset(const mlc_agg_header *h);

/*
 * Check a state of len bytes at buf (8-byte aligned not required):
 * header fields in range; the (algorithm, pass, rule) combination known;
 * param_len at least what the pass reads and the parameters it reads as
 * counts integral and bounded; partial_len at least what the pass writes
 * (states of the engine, result_len = -1) or exactly what the user
 * aggregate of that pass implies (result_len >= 0, which also fixes
 * param_len and result_len); acc_len = partial_len (or the sample's
 * 1 + n (p + 1)); len exactly the size the fields imply.
 * max_block_rows: the largest block the glue makes.  deep: also decode the
 * model an evaluation pass carries and check its feature count and the
 * partial its metrics need (done before rows are turned into a partial).
 * MLC_ECORRUPT with a message otherwise.
 */
mlc_status	mlc_agg_state_check(const uint8_t *buf, size_t len, int max_block_rows, int deep,
								mlc_error *err);

/*
 * Doubles the glue's per-block partial function writes for a checked
 * state (at least partial_len): the scratch buffer to allocate for it.
 */
size_t		mlc_agg_partial_scratch(const uint8_t *buf);

/* ---------- training plans (engine.c) ---------- */

/*
 * What the engine reads of a relation, as the glue's MLPlan holds it with
 * PostgreSQL types replaced by plain integers.  Encoded (little-endian):
 *   "MLPL" | u32 version (1) | u32 target_kind | i32 target_attnum
 *   | u32 target_typid | i32 p | i32 folds | u8 use_aggregates
 *   | u8 missing_as_nan | i32 seed
 *   | u32 n_classes | n_classes x str | u8 has_class_values
 *       | when set: n_classes x f64
 *   | u32 n_inputs, then per input: i32 attnum | u32 typid | str column
 *       | u32 kind | u32 width | f64 impute | u32 n_categories
 *       | n_categories x str | u8 has_other | u8 drop_first
 * (str = u32 byte length, the bytes, no NUL), nothing after the last input.
 */
typedef struct mlc_plan
{
	int			target_kind;	/* 0 none, 1 number, 2 class */
	int			target_attnum;
	uint32_t	target_typid;
	int			n_classes;
	char	  **classes;
	double	   *class_values;	/* n_classes values, or NULL */
	int			n_inputs;
	int		   *attnums;
	uint32_t   *typids;
	mlc_encoder *enc;
	int			p;				/* sum of the encoders' widths */
	int			folds;			/* 0..255 */
	int			use_aggregates;
	int			missing_as_nan;
	int32_t		seed;
} mlc_plan;

#define MLC_PLAN_MAGIC "MLPL"
#define MLC_PLAN_VERSION 1
#define MLC_PLAN_MAX_ATTNUM 32767

mlc_status	mlc_plan_encode(const mlc_plan *plan, uint8_t **out, size_t *out_len, mlc_error *err);
/*
 * Decode and validate: every count capped and checked against the bytes
 * left, strings without NUL, target kind and attribute numbers in range
 * (a target's attnum >= 1, inputs' >= 1), encoders consistent (kind known,
 * width implied by kind and categories, categories sorted and distinct),
 * p = sum of widths, class values present only for class targets.
 * Allocates with mlc_alloc; mlc_plan_free releases.  MLC_ECORRUPT otherwise.
 */
mlc_status	mlc_plan_decode(const uint8_t *buf, size_t len, mlc_plan *plan, mlc_error *err);
void		mlc_plan_free(mlc_plan *plan);
/* Free n strings and their array, or n encoders (NULL-safe). */
void		mlc_strings_free(char **s, int n);
void		mlc_encoders_free(mlc_encoder *enc, int n);

/* ---------- JSON documents from SQL (jsondoc.c) ---------- */

/*
 * The jsonb training plan of ml._fit, as JSON text (the glue prints the
 * jsonb with JsonbToCString).  Fields (null reads as absent):
 *   target_kind  string, required: "number", "class"; anything else: none
 *   target       string, required with a target (the column's name)
 *   classes      array of strings, required for "class"
 *   class_values array of numbers as long as classes (optional)
 *   train_rows   number in [0, 9e18] (optional, 0)
 *   engine       string (optional): "aggregate" runs passes as aggregates
 *   missing_as_nan  true sets it; any other value does not
 *   seed         number in the int32 range (optional, 0; truncated)
 *   inputs       array of objects, required: column (string, required),
 *                kind (string, required: number, bool, time, category),
 *                impute (number, optional; NAN when absent), and for
 *                category: categories (array of strings, required; sorted
 *                here by strcmp), has_other and drop_first (true sets them;
 *                drop_first only with categories)
 * Arrays have at most MLC_JSON_PLAN_MAX_ITEMS items and numbers must fit a
 * double.  Errors: MLC_EINVAL "malformed training plan" with a detail
 * naming the first problem (the order of the checks is the order above),
 * or MLC_ENOMEM.  Allocates with mlc_alloc; mlc_json_plan_free releases
 * (also after a failure).  Columns are not resolved here: p is the sum of
 * the encoders' widths, and "no features" / "too many features" are the
 * glue's to report.
 */
#define MLC_JSON_PLAN_MAX_ITEMS 1000000

typedef struct mlc_json_plan
{
	int			target_kind;	/* 0 none, 1 number, 2 class (as mlc_plan) */
	char	   *target;			/* the target column, NULL without a target */
	int			n_classes;
	char	  **classes;
	double	   *class_values;	/* n_classes values, or NULL */
	int			n_inputs;
	mlc_encoder *enc;			/* column, kind, width, impute, categories, flags */
	int64_t		p;				/* sum of the encoders' widths */
	int64_t		train_rows;
	int32_t		seed;
	int			use_aggregates;
	int			missing_as_nan;
} mlc_json_plan;

mlc_status	mlc_json_plan_parse(const char *text, size_t len, mlc_json_plan *plan,
								mlc_error *err);
void		mlc_json_plan_free(mlc_json_plan *plan);

/*
 * The drift spec of ml._drift_profile (made by ml._drift_spec), as JSON
 * text.  Fields (null reads as absent):
 *   features     array of objects, required, at most MLC_DRIFT_MAX_FEATURES:
 *                name (string, required), kind (string, optional:
 *                "categorical" or anything else for numeric), for a
 *                categorical feature values (array of strings, optional),
 *                for a numeric one edges (array of numbers, optional) and
 *                mean (number, optional, 0)
 *   prediction_edges  array of numbers (optional)
 *   prediction_mean   number (optional, 0)
 * Arrays of values or edges have at most MLC_DRIFT_MAX_ITEMS items and the
 * state the spec lays out at most MLC_DRIFT_MAX_VALS doubles before the
 * prediction block.  The layout of the aggregate state: one double of
 * head, then per feature a block of MLC_DRIFT_BLOCK_HEAD statistics and
 * nbins bins (values + 1, or edges + 1), then the prediction block.
 * Errors: MLC_EINVAL "malformed drift spec" with a detail, or MLC_ENOMEM.
 * mlc_drift_spec_free releases (also after a failure).
 */
#define MLC_DRIFT_MAX_FEATURES 100000
#define MLC_DRIFT_MAX_ITEMS 1000000
#define MLC_DRIFT_MAX_VALS (64 * 1024 * 1024)
#define MLC_DRIFT_BLOCK_HEAD 6	/* count, nulls, sum, sum of squares, min, max */

typedef struct mlc_drift_feature
{
	char	   *name;
	int			categorical;
	double		shift;			/* numeric: the reference mean */
	int			nedges;			/* numeric: internal bin edges */
	double	   *edges;
	int			nvalues;		/* categorical: reference values */
	char	  **values;
	int			offset;			/* block start in the state */
	int			nbins;
} mlc_drift_feature;

typedef struct mlc_drift_spec
{
	int			nfeat;
	mlc_drift_feature *feat;
	double		pred_shift;
	int			pred_nedges;
	double	   *pred_edges;
	int			pred_offset;
	int			nvals;			/* doubles of the state */
} mlc_drift_spec;

mlc_status	mlc_drift_spec_parse(const char *text, size_t len, mlc_drift_spec *spec,
								 mlc_error *err);
void		mlc_drift_spec_free(mlc_drift_spec *spec);

#endif							/* MLC_WIRE_H */
