# pg_mlops: PGXS build.  `make demo` and `make test` work on a fresh Debian 12
# machine (they install what is missing with apt-get first); the other
# targets need postgresql-server-dev-15, libopenblas-dev and liblapacke-dev.

EXTENSION = pg_mlops
EXTVERSION = 0.1.0
MODULE_big = pg_mlops

CORE_OBJS = src/core/util.o src/core/linalg.o src/core/hash.o src/core/stats.o \
	src/core/hparams.o src/core/linear.o src/core/codec.o src/core/modelref.o \
	src/core/drift.o
PG_OBJS = src/pg/pg_mlops.o src/pg/engine.o src/pg/train.o src/pg/predict.o \
	src/pg/rowhash.o src/pg/drift.o
OBJS = $(CORE_OBJS) $(PG_OBJS)

# The install script is assembled from the parts in src/sql/, in this order.
SQL_PARTS = src/sql/pg_mlops.sql src/sql/export.sql
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --load-extension=plpgsql
EXTRA_CLEAN = test/unit/run_core_tests test/unit/*.o

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

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $(SQL_PARTS) > $@

# PGXS does not track headers.
$(OBJS): src/core/mlcore.h src/pg/pg_mlops.h src/pg/engine.h

# Core unit tests (cmocka), linked against the core objects only.
CORE_SRCS = $(CORE_OBJS:.o=.c)
UNIT_CFLAGS = -std=c99 -D_GNU_SOURCE -O2 -g -ffp-contract=off -Wall -Wextra -Werror -Wno-unused-parameter -Isrc/core
test/unit/run_core_tests: test/unit/*.c $(CORE_SRCS) src/core/mlcore.h
	$(CC) $(UNIT_CFLAGS) -o $@ test/unit/*.c $(CORE_SRCS) $(BLAS_LIBS) -lcmocka

unit: test/unit/run_core_tests
	test/unit/run_core_tests

demo:
	@bash demo/demo.sh

test:
	@bash test/run.sh

.PHONY: unit demo test
