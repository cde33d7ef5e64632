/*
 * unit.h: shared declarations of the core unit tests (cmocka).
 */
#ifndef MLC_UNIT_H
#define MLC_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "mlcore.h"

/* Group runners: each returns the number of failed tests. */
int			run_linalg_tests(void);
int			run_hash_tests(void);
int			run_stats_tests(void);
int			run_hparams_tests(void);
int			run_linear_tests(void);
int			run_codec_tests(void);
int			run_modelref_tests(void);
int			run_nist_tests(void);
int			run_drift_tests(void);
int			run_model_tests(void);
int			run_classify_tests(void);
int			run_unsupervised_tests(void);
int			run_tree_tests(void);
int			run_wire_tests(void);
int			run_jsondoc_tests(void);
int			run_interrupt_tests(void);
int			run_scorer_tests(void);

/*
 * The whole chunked training pipeline as the engine runs it: per chunk
 * (chunk_rows rows, the last one shorter) the stats of [X y] (n, means, R
 * of the chunk centered by its own means) in one read; the fixed-tree
 * exact merge; solve from the merged R and means; optionally the
 * refinement pass.  X is n x p column-major.  When Rout is not NULL it
 * gets the merged R.
 */
mlc_status	unit_fit_chunked(int n, int p, const double *X, const double *y,
							 int chunk_rows, double alpha,
							 mlc_linear_model *model, mlc_linear_summary *summary,
							 double *Rout, mlc_error *err);
/* The same plus pass 3 (refinement); *applied as from mlc_linear_refine_apply. */
mlc_status	unit_fit_refined(int n, int p, const double *X, const double *y,
							 int chunk_rows, double alpha,
							 mlc_linear_model *model, mlc_linear_summary *summary,
							 int *applied, mlc_error *err);
void		unit_free_fit(mlc_linear_model *model, mlc_linear_summary *summary);

/* Relative difference |a - b| / max(|a|, |b|, tiny). */
double		unit_reldiff(double a, double b);

/* Deterministic pseudo-random numbers for tests (xorshift64*). */
uint64_t	unit_rand_u64(uint64_t *state);
double		unit_rand_uniform(uint64_t *state);	/* [0, 1) */
double		unit_rand_normal(uint64_t *state);

/* helpers.c: rows [i0, i0 + m) of the n x p matrix X and of y, copied into a block */
void		take_rows(int n, int p, const double *X, const double *y, int i0, int m,
					  double *Xc, double *yc, mlc_block *b);

#endif
