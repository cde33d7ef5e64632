/*
 * encode.h: datums to expanded feature vectors and class ids (encode.c).
 */
#ifndef ML_ENCODE_H
#define ML_ENCODE_H

#include "postgres.h"
#include "fmgr.h"
#include "mlcore.h"

/* How one source column is read into its slice of the feature vector. */
typedef struct MLInputReader
{
	const mlc_encoder *enc;
	Oid			typid;			/* base type of the column read */
	int			offset;			/* first expanded feature */
	bool		text_like;		/* category read from the varlena bytes */
	bool		missing_as_nan; /* NULL and non-finite numbers become NaN (trees) */
	FmgrInfo	out;			/* otherwise through the output function */
} MLInputReader;

extern mlc_encoder_kind ml_encoder_kind_for_type(Oid typid);
/* Errors when a column of type typid cannot feed enc. */
extern void ml_reader_init(MLInputReader *r, const mlc_encoder *enc, Oid typid, int offset,
						   const char *model_label, bool missing_as_nan, MemoryContext mcxt);
/*
 * Writes the column's features into x + r->offset; false when the value is
 * a non-finite number (the row cannot be used).  A NULL is imputed, or an
 * error when the model imputes nothing.
 */
extern bool ml_reader_encode(MLInputReader *r, Datum d, bool isnull, double *x,
							 const char *label);

/* Training labels -> class ids. */
typedef struct MLLabelEntry
{
	const char *text;
	int			id;
} MLLabelEntry;

typedef struct MLLabel
{
	Oid			typid;
	int			n;
	bool		numeric;		/* compare as numbers with values */
	const double *values;		/* ascending */
	MLLabelEntry *entries;		/* sorted by strcmp */
	MLInputReader reader;		/* text of non-numeric labels */
} MLLabel;

extern void ml_label_init(MLLabel *l, Oid typid, int n_classes, char **classes,
						  const double *class_values, MemoryContext mcxt);
/* Class id of a (non-NULL) label, or -1 when it is not a known class. */
extern int	ml_label_class(MLLabel *l, Datum d);

#endif							/* ML_ENCODE_H */
