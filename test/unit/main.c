/*
 * main.c: runs every group of the core unit tests; exit status is non-zero
 * when any test failed.
 */
#include <stdio.h>

#include "unit.h"

int
main(void)
{
	int			failed = 0;

	failed += run_linalg_tests();
	failed += run_hash_tests();
	failed += run_stats_tests();
	failed += run_hparams_tests();
	failed += run_linear_tests();
	failed += run_codec_tests();
	failed += run_modelref_tests();
	failed += run_nist_tests();
	failed += run_drift_tests();
	failed += run_model_tests();
	failed += run_classify_tests();
	failed += run_unsupervised_tests();
	failed += run_tree_tests();
	failed += run_wire_tests();
	failed += run_jsondoc_tests();
	failed += run_interrupt_tests();
	failed += run_scorer_tests();

	if (failed != 0)
		fprintf(stderr, "core unit tests: %d failed\n", failed);
	else
		printf("core unit tests: all passed\n");
	return failed != 0 ? 1 : 0;
}
