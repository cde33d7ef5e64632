#!/bin/bash
# Reproducible benchmark: bash bench/run.sh [rows] [worker counts]
# Builds and installs pg_mlops, starts a throwaway cluster, generates the
# data in SQL and writes docs/benchmarks.md.  Every figure is a ratio
# against a baseline measured in the same run on the same machine.
set -eu
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
WORKERS=${2:-"0 1 2"}
REPS=${REPS:-3}
OUT=${BENCH_OUT:-docs/benchmarks.md}

bash test/setup.sh
make -s >/dev/null && make -s install >/dev/null
source test/pgcluster.sh
PG_TEST_PORT=${PG_TEST_PORT:-55434} PG_EXTRA_CONF="max_parallel_workers = 16" pg_start
trap pg_stop EXIT

echo "==> generating $ROWS rows x 20 features"
psql -X -q -v rows="$ROWS" -f bench/setup.sql >/dev/null
SNAP=$(psql -X -At -c "SELECT relation FROM ml.snapshots WHERE name = 'bench'")
PAR="SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0; SET ml.progress = off;"

# median wall time in ms of REPS runs of SQL (after one warm-up run)
timed() {
  local sql=$1 times=() i
  psql -X -q -c "$sql" >/dev/null
  for i in $(seq "$REPS"); do
    times+=("$(psql -X -q -c '\timing on' -c "$sql" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
secs() { awk -v a="$1" 'BEGIN {printf "%.3f", a / 1000}'; }

SUMQ="SELECT sum(f1), sum(f2), sum(f3), sum(f4), sum(f5), sum(f6), sum(f7), sum(f8), sum(f9), sum(f10), sum(f11), sum(f12), sum(f13), sum(f14), sum(f15), sum(f16), sum(f17), sum(f18), sum(f19), sum(f20), sum(y) FROM $SNAP"
TRAINQ="SELECT ml.train_model('bench', 'snapshot:bench', 'y')"

train_rows=""
for w in $WORKERS; do
  echo "==> training with $w workers"
  base=$(timed "$PAR SET max_parallel_workers_per_gather = $w; $SUMQ")
  train=$(timed "$PAR SET ml.max_parallel_workers = $w; $TRAINQ")
  launched=$(psql -X -At -c "SELECT workers FROM ml.models WHERE name = 'bench' ORDER BY version DESC LIMIT 1")
  train_rows="$train_rows| $w | $launched | $(secs "$base") | $(secs "$train") | **$(ratio "$train" "$base")** |
"
done

echo "==> identical models for every worker count"
identical=$(psql -X -At -c "SELECT count(DISTINCT model_hash) = 1 FROM ml.models WHERE name = 'bench'")

echo "==> scoring"
COEF=$(psql -X -At -c "SELECT string_agg(CASE WHEN feature = 'intercept' THEN coefficient::text ELSE format('%s * %I', coefficient, feature) END, ' + ') FROM ml.explain('bench')")
predict_rows=""
for w in 0 2; do
  base=$(timed "$PAR SET max_parallel_workers_per_gather = $w; SELECT sum($COEF) FROM bench_data")
  pred=$(timed "$PAR SET max_parallel_workers_per_gather = $w; SELECT sum(ml.predict('bench', t)) FROM bench_data t")
  predict_rows="$predict_rows| $w | $(secs "$base") | $(secs "$pred") | **$(ratio "$pred" "$base")** |
"
done
agree=$(psql -X -At -c "SELECT abs(sum(ml.predict('bench', t)) - sum($COEF)) < 1e-6 * abs(sum($COEF)) FROM bench_data t")

echo "==> batch scoring"
score_rows=""
for w in 0 2; do
  S="$PAR SET max_parallel_workers_per_gather = $w;"
  base=$(timed "$S DROP TABLE IF EXISTS ctas_out; CREATE TABLE ctas_out AS SELECT id, ml.predict('bench', t) AS prediction FROM bench_data t")
  new=$(timed "$S DROP TABLE IF EXISTS score_out; SELECT ml.score('bench', 'bench_data', 'score_out', 'id')")
  repl=$(timed "$S SELECT ml.score('bench', 'bench_data', 'score_out', 'id', 'replace')")
  score_rows="$score_rows| $w | $(secs "$base") | $(secs "$new") | **$(ratio "$new" "$base")** | $(secs "$repl") | **$(ratio "$repl" "$base")** |
"
done

cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
cat >"$OUT" <<MD
# Benchmarks

Reproduce with \`bash bench/run.sh $ROWS "$WORKERS"\` (it builds, installs, starts a throwaway
cluster and rewrites this file). Each time is the median of $REPS runs after a warm-up run; each
ratio compares with a baseline measured in the same run, on the same machine and data.

Machine: $(nproc) cores ($cpu), PostgreSQL $(psql -X -At -c 'SHOW server_version'), $(date -u +%Y-%m-%d).
Data: $ROWS rows x 20 float8 features and a float8 target, generated in SQL (\`bench/setup.sql\`),
snapshotted with a 25% test split.

## Training \`linear_regression\` against a parallel scan

Baseline: \`SELECT sum(f1), ..., sum(f20), sum(y)\` over the snapshot relation with
\`max_parallel_workers_per_gather\` = workers. Training: \`ml.train_model('bench', 'snapshot:bench', 'y')\`
with \`ml.max_parallel_workers\` = workers, which reads every row once (keeping the rows in
memory), factors each chunk by QR while it is in cache, merges, solves, computes train and test
metrics in a second pass over the kept rows and registers the model. Goal: ratio at most 1.5.

| workers asked | workers launched | parallel sum (s) | train_model (s) | ratio |
| --- | --- | --- | --- | --- |
$train_rows
All trainings produced the identical model (same hash): **$identical**.

## Scoring with \`ml.predict\` against the same formula in SQL

Baseline: \`SELECT sum(b0 + b1 * f1 + ... + b20 * f20) FROM bench_data\`, the fitted coefficients
written as SQL. Scoring: \`SELECT sum(ml.predict('bench', t)) FROM bench_data t\` (the whole row is
passed, features matched by name). Goal: ratio at most 2.0. Results agree: **$agree**.

| parallel workers | SQL formula (s) | ml.predict (s) | ratio |
| --- | --- | --- | --- |
$predict_rows
## Batch scoring with \`ml.score\` against CREATE TABLE AS

Baseline: \`CREATE TABLE ctas_out AS SELECT id, ml.predict('bench', t) FROM bench_data t\`.
\`ml.score('bench', 'bench_data', 'score_out', 'id')\` into a new table (created with CREATE TABLE AS),
and with mode \`replace\` into the existing table (scored into an unlogged staging table, then
appended). Both also write the model version and time, profile the inputs in a second parallel
pass (per-feature moments and reference-bin counts, and the distribution of the predictions) and
record the run. Goal: ratio at most 1.5.

| parallel workers | CREATE TABLE AS (s) | ml.score, new table (s) | ratio | ml.score, replace (s) | ratio |
| --- | --- | --- | --- | --- | --- |
$score_rows
MD
echo "==> wrote $OUT"
cat "$OUT"

# ml.predict under pgbench while versions are promoted and rolled back: its
# own throwaway cluster, its section appended to $OUT.
pg_stop
echo "==> predict under load with promotions (bench/predict_load.sh)"
SKIP_BUILD=1 bash bench/predict_load.sh "${PREDICT_LOAD_SECONDS:-60}" 16 >>"$OUT"
echo "==> appended the predict-load section to $OUT"
