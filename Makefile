# pg_mlops: PGXS build.  `make demo` and `make test` work on a fresh Debian 12
# machine (they install what is missing with apt-get first); the other
# targets need postgresql-server-dev-15, libopenblas-dev and liblapacke-dev.

EXTENSION = pg_mlops
EXTVERSION = 0.2.0
MODULE_big = pg_mlops

CORE_OBJS = src/core/util.o src/core/linalg.o src/core/hash.o src/core/stats.o \
	src/core/hparams.o src/core/linear.o src/core/codec.o src/core/modelref.o \
	src/core/drift.o src/core/model.o src/core/validate.o src/core/score.o \
	src/core/classify.o src/core/elasticnet.o src/core/kmeans.o src/core/pca.o \
	src/core/naive_bayes.o src/core/tree.o src/core/forest.o \
	src/core/aggstate.o src/core/plan.o \
	src/core/json.o src/core/jsondoc.o
PG_OBJS = src/pg/pg_mlops.o src/pg/privilege.o src/pg/rowhash.o src/pg/encode.o \
	src/pg/trainplan.o src/pg/chunk.o src/pg/partials.o src/pg/tree_partials.o src/pg/passes.o \
	src/pg/engine.o src/pg/parallel.o src/pg/aggpass.o src/pg/aggengine.o \
	src/pg/fit_common.o src/pg/fit_linear.o src/pg/fit_pca.o src/pg/fit_glm.o src/pg/fit_kmeans.o \
	src/pg/fit_naive_bayes.o src/pg/fit_tree.o src/pg/fit.o src/pg/train.o \
	src/pg/modelcache.o src/pg/predict.o src/pg/evaluate.o src/pg/drift.o src/pg/aggregates.o src/pg/document.o
OBJS = $(CORE_OBJS) $(PG_OBJS)

# Releases: pg_mlops--0.1.0.sql is the first release's install script, as it
# shipped; each later release is an update script, assembled from the parts
# in src/sql/ (functions, views and aggregates made with CREATE OR REPLACE,
# then the table changes), so a new install (0.1.0, then every update) and an
# updated one end in the same catalog.
# The parts, one per capability, in an order where everything a SQL function
# or view names is made before it (PL/pgSQL bodies are checked only at run).
SQL_PARTS = src/sql/update-prelude.sql src/sql/common.sql src/sql/snapshots.sql src/sql/training.sql \
	src/sql/registry.sql src/sql/evaluation.sql src/sql/scoring.sql src/sql/drift.sql src/sql/lineage.sql \
	src/sql/governance.sql src/sql/export.sql src/sql/aggregates.sql src/sql/migrate-0.2.0.sql src/sql/finish.sql
DATA = src/sql/pg_mlops--0.1.0.sql
DATA_built = $(EXTENSION)--0.1.0--$(EXTVERSION).sql pg_mlops_scorer.h
# pg_regress tests: test/sql/*.sql against test/expected/*.out (results/ and
# regression.diffs land in the current directory, the repository root).
REGRESS = $(patsubst test/sql/%.sql,%,$(sort $(wildcard test/sql/*.sql)))
REGRESS_OPTS = --inputdir=test --load-extension=plpgsql
EXTRA_CLEAN = test/unit/run_core_tests test/unit/*.o test/fuzz/bin

# The backend must load the sequential OpenBLAS (it never starts threads):
# link it and its LAPACK by path and record the directory as DT_RPATH, which
# also steers liblapacke's own liblapack.so.3 dependency there.
MULTIARCH := $(shell gcc -print-multiarch 2>/dev/null)
BLAS_DIR = /usr/lib/$(MULTIARCH)/openblas-serial
BLAS_LIBS = -Wl,--no-as-needed -Wl,--disable-new-dtags -Wl,-rpath,$(BLAS_DIR) \
	$(BLAS_DIR)/libopenblas.so.0 $(BLAS_DIR)/liblapack.so.3 -llapacke -lm
SHLIB_LINK = $(BLAS_LIBS)
PG_CPPFLAGS = -I$(srcdir)/src/core -ffp-contract=off -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-sign-compare

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
else
all:
	@echo "pg_config not found: install postgresql-server-dev-15 (or run 'make demo' / 'make test', which do)" >&2; exit 1
endif

$(EXTENSION)--0.1.0--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $(SQL_PARTS) > $@

# The embeddable scorer (docs/export.md): the core's decoder and scoring in
# one header, installed next to the scripts (ml.scorer_header() returns it).
SCORER_SRCS = src/scorer/scorer.h src/scorer/scorer.c src/core/mlcore.h src/core/classify.h \
	src/core/unsupervised.h src/core/tree.h src/core/json.h $(addprefix src/core/,$(addsuffix .c, \
	util model validate codec forest score hparams json))
pg_mlops_scorer.h: src/scorer/amalgamate.sh $(SCORER_SRCS) Makefile
	sh src/scorer/amalgamate.sh $@

# PGXS does not track headers.
$(OBJS): $(wildcard src/core/*.h) $(wildcard src/pg/*.h)

# Core unit tests (cmocka), linked against the core objects only.
CORE_SRCS = $(CORE_OBJS:.o=.c)
# The embeddable scorer's API (src/scorer) is tested with them.
UNIT_CFLAGS = -std=c99 -D_GNU_SOURCE -O2 -g -ffp-contract=off -Wall -Wextra -Werror -Wno-unused-parameter -Isrc/core -Isrc/scorer
SCORER_API = src/scorer/scorer.c
test/unit/run_core_tests: test/unit/*.c test/unit/unit.h $(CORE_SRCS) $(SCORER_API) src/scorer/scorer.h $(wildcard src/core/*.h)
	$(CC) $(UNIT_CFLAGS) -o $@ test/unit/*.c $(CORE_SRCS) $(SCORER_API) $(BLAS_LIBS) -lcmocka

unit: test/unit/run_core_tests
	test/unit/run_core_tests

# Sanitizers and fuzzing (clang-14 and libclang-rt-14-dev from Debian).  Binaries
# go to test/fuzz/bin (ignored); fuzzing runs on a copy of the seed corpus in a
# temporary directory, where crash artifacts are kept too (the path is printed).
CLANG ?= clang
FUZZ_BIN = test/fuzz/bin
FUZZ_HARNESSES = fuzz_model_decode fuzz_model_ref fuzz_hparams fuzz_agg_state fuzz_plan_decode \
	fuzz_json_plan fuzz_drift_spec fuzz_scorer
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 10
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_CFLAGS = -std=c99 -D_GNU_SOURCE -O1 -g -ffp-contract=off -Wall -Wextra -Werror \
	-Wno-unused-parameter -Isrc/core -Isrc/scorer

$(FUZZ_BIN)/run_core_tests_san: test/unit/*.c test/unit/unit.h $(CORE_SRCS) $(SCORER_API) src/scorer/scorer.h $(wildcard src/core/*.h)
	@mkdir -p $(FUZZ_BIN)
	$(CLANG) $(SAN_CFLAGS) $(SAN_FLAGS) -o $@ test/unit/*.c $(CORE_SRCS) $(SCORER_API) $(BLAS_LIBS) -lcmocka

sanitize: $(FUZZ_BIN)/run_core_tests_san
	ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
	UBSAN_OPTIONS=print_stacktrace=1 $(FUZZ_BIN)/run_core_tests_san

$(addprefix $(FUZZ_BIN)/,$(FUZZ_HARNESSES)): $(FUZZ_BIN)/%: test/fuzz/%.c test/fuzz/fuzz.h $(CORE_SRCS) $(SCORER_API) $(wildcard src/core/*.h)
	@mkdir -p $(FUZZ_BIN)
	$(CLANG) $(SAN_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer -o $@ $< $(CORE_SRCS) $(SCORER_API) $(BLAS_LIBS)

# Regenerate the binary seed models (committed; run after a format change).
fuzz-corpus:
	@mkdir -p $(FUZZ_BIN) test/fuzz/corpus/fuzz_model_decode
	$(CC) $(UNIT_CFLAGS) -o $(FUZZ_BIN)/gen_corpus test/fuzz/gen_corpus.c $(CORE_SRCS) $(BLAS_LIBS)
	$(FUZZ_BIN)/gen_corpus test/fuzz/corpus/fuzz_model_decode

fuzz-build: $(addprefix $(FUZZ_BIN)/,$(FUZZ_HARNESSES))

fuzz: fuzz-build
	@bash test/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_HARNESSES)

fuzz-smoke: fuzz-build
	@bash test/fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_HARNESSES)

# The regression suite again, in a database where a role that is not a
# superuser installed the extension (it is trusted), so the functions write
# the registry as a non-superuser owner.
installcheck-owner:
	psql -X -q -v ON_ERROR_STOP=1 -d postgres \
		-c 'DROP DATABASE IF EXISTS contrib_regression_owner' -c 'DROP ROLE IF EXISTS ml_owner' \
		-c 'CREATE ROLE ml_owner' -c 'CREATE DATABASE contrib_regression_owner' \
		-c 'GRANT CREATE ON DATABASE contrib_regression_owner TO ml_owner'
	psql -X -q -v ON_ERROR_STOP=1 -d contrib_regression_owner -c 'SET ROLE ml_owner' -c 'CREATE EXTENSION pg_mlops'
	@mkdir -p results_owner
	$(pg_regress_installcheck) $(REGRESS_OPTS) --use-existing --dbname=contrib_regression_owner \
		--outputdir=results_owner $(REGRESS)

# The SQL examples of README.md and docs/, each page in its own database, against the output the
# page shows, on the running server that PGHOST, PGPORT and PGUSER name (make test runs it too).
docs-check:
	/usr/bin/python3 test/docs/run_docs.py

demo:
	@bash demo/demo.sh

# make test PG_CONFIG=/path/to/pg_config runs every suite on that installation.
test:
	@PG_CONFIG='$(PG_CONFIG)' bash test/run.sh

.PHONY: docs-check unit demo test installcheck-owner sanitize fuzz fuzz-smoke fuzz-build fuzz-corpus
