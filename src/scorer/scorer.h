/*
 * scorer.h: the embeddable scorer's API (pg_mlops_scorer.h, see
 * docs/export.md).  A program scores a model exported with
 * ml.export_model(model, 'c') from raw column values, with the model's own
 * preprocessing (imputation, one-hot categories, dates as seconds) and the
 * core's scoring code, so that its results are the bits ml.predict,
 * ml.predict_class, ml.predict_proba and ml.transform return.
 *
 * Every function returns PGML_OK, PGML_NULL (the SQL function would return
 * NULL: a non-finite number in a numeric column) or PGML_ERROR (the SQL
 * function would raise an error; pgml_error says why).
 */
#ifndef PGML_SCORER_API_H
#define PGML_SCORER_API_H

#include <stddef.h>
#include <stdint.h>

#define PGML_OK 0
#define PGML_NULL 1
#define PGML_ERROR (-1)

/*
 * One column's value.  Numbers (any numeric type) as a double, booleans as
 * 0 or 1, dates and timestamps as seconds since 1970-01-01 00:00 UTC
 * (pgml_date_seconds, pgml_timestamp_seconds); category columns (text and
 * every other type) as text, NUL-terminated, as the value's ::text gives it.
 */
typedef struct pgml_value
{
	int			isnull;			/* nonzero: SQL NULL (number and text are not read) */
	double		number;
	const char *text;
} pgml_value;

/*
 * A decoded model and its feature buffer.  One scorer per thread: scoring
 * writes the buffer.  The model's fields are readable: model.n_inputs and
 * model.inputs[i].column (the order of a row), model.n_classes and
 * model.classes[c] (labels, the order of pgml_predict_proba).
 */
typedef struct pgml_scorer
{
	mlc_model	model;
	double	   *x;				/* model.n_features expanded features */
	mlc_error	err;
	char		message[800];	/* pgml_error's text */
} pgml_scorer;

/* Decode model bytes (checked: header, CRC-32C, lengths, validation). */
int			pgml_open(pgml_scorer *s, const unsigned char *bytes, size_t len);
void		pgml_close(pgml_scorer *s);
/* The last error's message (and detail, when there is one). */
const char *pgml_error(pgml_scorer *s);

/* row holds model.n_inputs values, in the order of model.inputs. */
/* ml.predict: the regression value, the class label (numeric labels), the cluster id */
int			pgml_predict(pgml_scorer *s, const pgml_value *row, double *value);
/* ml.predict_class: the class id, an index into model.classes */
int			pgml_predict_class(pgml_scorer *s, const pgml_value *row, int *class_id);
/* ml.predict_proba: model.n_classes probabilities */
int			pgml_predict_proba(pgml_scorer *s, const pgml_value *row, double *proba);
/* ml.transform: pgml_output_width(s) values (pca components, kmeans distances) */
int			pgml_transform(pgml_scorer *s, const pgml_value *row, double *out);
int			pgml_output_width(const pgml_scorer *s);

/* ml.predict's seconds for a date, from days since 1970-01-01 (the server
 * counts from 2000-01-01 and adds 10957 days in double, as here). */
static inline double
pgml_date_seconds(int64_t days_since_1970)
{
	return ((double) (days_since_1970 - 10957) + 10957.0) * 86400.0;
}

/* ml.predict's seconds for a timestamp, from microseconds since 1970-01-01 00:00 (UTC for timestamptz). */
static inline double
pgml_timestamp_seconds(int64_t usec_since_1970)
{
	return (double) (usec_since_1970 - INT64_C(946684800000000)) / 1000000.0 + 946684800.0;
}

#endif							/* PGML_SCORER_API_H */
