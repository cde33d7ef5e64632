#!/bin/bash
# Cancel latency benchmark: bash bench/cancel.sh [repeats]
# For every algorithm, starts a training that would run for many seconds
# (the data and hyperparameters of test/t/007_cancel_algorithms.pl), sends
# pg_cancel_backend about 1 s in, and measures the time from sending the
# cancel (before the cancelling psql connects, so an upper bound) until the
# training's psql has exited with SQLSTATE 57014.  Prints the median and the
# maximum of `repeats` (default 10) cancels per algorithm as a markdown table.
#   SKIP_BUILD=1   use the installed pg_mlops (no setup, make, make install)
#   PGBIN=DIR      PostgreSQL binaries to run (default: Debian's)
#   ONLY=REGEX     only the algorithms whose name matches
set -eu
cd "$(dirname "$0")/.."
REPEATS=${1:-10}

if [ -z "${SKIP_BUILD:-}" ]; then
  bash test/setup.sh
  make -s >/dev/null && make -s install >/dev/null
fi
source test/pgcluster.sh
export PATH=$PGBIN:$PATH
PG_TEST_PORT=${PG_TEST_PORT:-55437} PG_EXTRA_CONF="ml.max_parallel_workers = 2
ml.progress = off
autovacuum = off" pg_start
WORK=$(mktemp -d /tmp/pg_mlops_cancel.XXXXXX)
trap 'pg_stop; rm -rf "$WORK"' EXIT

echo "==> generating 200000 rows and the snapshot" >&2
XS=$(seq -s, 3 20 | sed 's/\([0-9][0-9]*\)/random() AS x\1/g')
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
SELECT setseed(0.5);
CREATE EXTENSION pg_mlops;
CREATE TABLE d AS
  SELECT x1, x1 + 1e-3 * random() AS x2, $XS,
         'c' || (g % 300) AS cat,
         10 * x1 + (g % 300) / 150.0 + random() AS y,
         (x1 + random() > 1)::int AS c,
         floor(5 * (x1 + random()) / 2)::int AS k,
         (g % 200)::int AS kk
  FROM (SELECT g, random() AS x1 FROM generate_series(1, 200000) g) s;
SELECT 1 FROM ml.snapshot('d', name => 'ds');
SQL
FEATS="ARRAY[$(seq -s, 1 20 | sed "s/\([0-9][0-9]*\)/'x\1'/g"),'cat']"

CASES='linear_regression|'"'y'"'|{"max_categories": 300}
ridge|'"'y'"'|{"max_categories": 300}
lasso|'"'y'"'|{"alpha": 1e-9, "max_iter": 10000000, "tol": 0}
elastic_net|'"'y'"'|{"alpha": 1e-9, "max_iter": 10000000, "tol": 0}
logistic_regression|'"'c'"'|{"max_iter": 10000, "tol": 0}
softmax_regression|'"'k'"'|{"max_iter": 100000, "tol": 0}
naive_bayes|'"'kk'"'|{"max_categories": 300, "max_classes": 200}
kmeans|NULL|{"k": 500, "max_iter": 100000, "tol": 0}
pca|NULL|{"max_categories": 300}
decision_tree|'"'y'"'|{"max_depth": 20}
random_forest|'"'y'"'|{"n_trees": 100, "max_depth": 20}
gradient_boosting|'"'y'"'|{"n_trees": 100, "max_depth": 20}'

now() { date +%s.%N; }

# one cancel: prints the seconds from pg_cancel_backend to the training's end
cancel_once() {
  local alg=$1 target=$2 hp=$3 app="victim_$1" t0 t1 pid
  PGAPPNAME=$app psql -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose \
    -c "SET ml.work_mem = '512MB'" \
    -c "SELECT version FROM ml.train_model('m_$alg', 'snapshot:ds', $target, algorithm => '$alg', hyperparams => '$hp', features => $FEATS)" \
    >/dev/null 2>"$WORK/err" &
  pid=$!
  t0=$(now)
  until [ "$(psql -X -At -c "SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = '$app' AND state = 'active'")" = t ]; do
    sleep 0.02
  done
  sleep "$(awk -v a="$t0" -v b="$(now)" 'BEGIN {s = 1 - (b - a); printf "%.3f\n", (s > 0 ? s : 0)}')"
  t1=$(now)
  psql -X -At -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = '$app' AND backend_type = 'client backend'" >/dev/null
  wait "$pid" && { echo "$alg finished before the cancel" >&2; exit 1; }
  grep -q '57014' "$WORK/err" || { echo "$alg: no SQLSTATE 57014:" >&2; cat "$WORK/err" >&2; exit 1; }
  awk -v a="$t1" -v b="$(now)" 'BEGIN {printf "%.3f\n", b - a}'
}

echo "| algorithm | median (s) | max (s) |"
echo "| --- | ---: | ---: |"
while IFS='|' read -r alg target hp; do
  [[ "$alg" =~ ${ONLY:-.} ]] || continue
  : >"$WORK/lat"
  for _ in $(seq "$REPEATS"); do
    cancel_once "$alg" "$target" "$hp" >>"$WORK/lat"
  done
  sort -n "$WORK/lat" | awk -v alg="$alg" '{v[NR] = $1}
    END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
         printf "| `%s` | %.3f | %.3f |\n", alg, m, v[NR]}'
done <<<"$CASES"
