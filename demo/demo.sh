#!/bin/bash
# `make demo`: the whole lifecycle on real data, in a throwaway cluster.
set -eu
cd "$(dirname "$0")/.."

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "Installing what is missing (Debian packages, needs root the first time)"
bash test/setup.sh

say "Building and installing pg_mlops"
make -s >/dev/null
make -s install >/dev/null
echo "installed $(pg_config --pkglibdir)/pg_mlops.so"

say "Starting a throwaway PostgreSQL 15 cluster"
# shellcheck source=../test/pgcluster.sh
source test/pgcluster.sh
PG_TEST_PORT=${PG_TEST_PORT:-55433} pg_start
trap 'say "Removing the cluster"; pg_stop' EXIT
echo "cluster in $PG_TMP, port $PGPORT"

CSV=/usr/lib/python3/dist-packages/sklearn/datasets/data/boston_house_prices.csv
say "Loading the Boston housing data that python3-sklearn ships ($CSV)"
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE TABLE houses (id serial PRIMARY KEY,
  crim float8, zn float8, indus float8, chas int, nox float8, rm float8, age float8,
  dis float8, rad int, tax float8, ptratio float8, b float8, lstat float8, medv float8)"
# The file's first line holds its shape; the second the column names.
tail -n +2 "$CSV" | psql -X -q -v ON_ERROR_STOP=1 \
  -c "\copy houses (crim, zn, indus, chas, nox, rm, age, dis, rad, tax, ptratio, b, lstat, medv) FROM STDIN CSV HEADER"
psql -X -q -At -c "SELECT count(*) || ' houses loaded; median value (medv, k\$) from ' || min(medv) || ' to ' || max(medv) FROM houses"

say "Running demo/demo.sql"
psql -X -v ON_ERROR_STOP=1 --echo-queries -f demo/demo.sql
