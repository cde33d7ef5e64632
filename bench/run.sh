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
# one run of SQL with ml.progress on: prints its wall time in ms and writes
# its progress notices (where the time goes) to the file $2
timed_progress() {
  psql -X -q -c '\timing on' -c "${1//ml.progress = off/ml.progress = on}" 2>"$2" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1
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

echo "==> logistic_regression and kmeans against the scan and against COPY + scikit-learn"
# All on the 'bench_cls' snapshot (f1..f20 and the boolean label), with the
# largest worker count asked for; scikit-learn gets the training split's rows.
W=$(printf '%s\n' $WORKERS | sort -n | tail -n 1)
KM_REPS=${KM_REPS:-1}
SK_REPS=${SK_REPS:-$REPS}
SNAP_CLS=$(psql -X -At -c "SELECT relation FROM ml.snapshots WHERE name = 'bench_cls'")
TRAIN_CLS=$(psql -X -At -c "SELECT train_count FROM ml.snapshots WHERE name = 'bench_cls'")
FEATS="'{f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20}'"
SUMQ_CLS="SELECT sum(f1), sum(f2), sum(f3), sum(f4), sum(f5), sum(f6), sum(f7), sum(f8), sum(f9), sum(f10), sum(f11), sum(f12), sum(f13), sum(f14), sum(f15), sum(f16), sum(f17), sum(f18), sum(f19), sum(f20), sum(label::int) FROM $SNAP_CLS"
LOGITQ="SELECT ml.train_model('bench_logit', 'snapshot:bench_cls', 'label', 'logistic_regression', features => $FEATS)"
KMQ="SELECT ml.train_model('bench_km', 'snapshot:bench_cls', NULL, 'kmeans', '{\"k\": 8}', features => $FEATS)"
cls_base=$(timed "$PAR SET max_parallel_workers_per_gather = $W; $SUMQ_CLS")
notes_logit=$(mktemp) notes_km=$(mktemp)
# the warm-up run of the logistic regression, with progress notices
timed_progress "$PAR SET ml.max_parallel_workers = $W; $LOGITQ" "$notes_logit" >/dev/null
logit=$(timed "$PAR SET ml.max_parallel_workers = $W; $LOGITQ")
# k-means takes minutes: KM_REPS runs (default 1), the first with progress notices, no warm-up
km_times=("$(timed_progress "$PAR SET ml.max_parallel_workers = $W; $KMQ" "$notes_km")")
for i in $(seq 2 "$KM_REPS"); do
  km_times+=("$(timed_progress "$PAR SET ml.max_parallel_workers = $W; $KMQ" /dev/null)")
done
km=$(printf '%s\n' "${km_times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
model_facts() {  # iterations, converged, workers and the training quality of the latest version of $1
  psql -X -At -F ' ' -c "SELECT summary->>'iterations', summary->>'converged', workers, metrics->'train'->>'$2' FROM ml.models WHERE name = '$1' ORDER BY version DESC LIMIT 1"
}
read -r pg_logit_it pg_logit_conv pg_logit_w pg_logit_q <<<"$(model_facts bench_logit log_loss)"
read -r pg_km_it pg_km_conv pg_km_w pg_km_q <<<"$(model_facts bench_km inertia)"
progress_of() { sed -n 's/^NOTICE:  //p' "$1" | sed 's/^/    /'; }
logit_notes=$(progress_of "$notes_logit") km_notes=$(progress_of "$notes_km")
rm -f "$notes_logit" "$notes_km"
echo "==> scikit-learn: logistic regression ($SK_REPS runs)"
read -r sk_logit_e2e sk_logit_fit sk_logit_copy sk_logit_load sk_logit_q sk_logit_it sk_logit_conv \
  <<<"$(/usr/bin/python3 bench/sklearn_fit.py logistic "$SNAP_CLS" "$SK_REPS")"
echo "==> scikit-learn: k-means ($KM_REPS runs)"
read -r sk_km_e2e sk_km_fit sk_km_copy sk_km_load sk_km_q sk_km_it sk_km_conv \
  <<<"$(/usr/bin/python3 bench/sklearn_fit.py kmeans "$SNAP_CLS" "$KM_REPS")"
sk_version=$(/usr/bin/python3 -c 'import sklearn, numpy; print("scikit-learn", sklearn.__version__, "and numpy", numpy.__version__)')
qual() { awk -v a="$1" 'BEGIN {printf "%.6f", a}'; }
qrel() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.2e", (a - b) / b}'; }
cls_rows="| \`logistic_regression\` | $pg_logit_w | $(secs "$cls_base") | $(secs "$logit") | **$(ratio "$logit" "$cls_base")** | $(secs "$sk_logit_copy") | $(secs "$sk_logit_load") | $(secs "$sk_logit_fit") | $(secs "$sk_logit_e2e") | **$(ratio "$logit" "$sk_logit_e2e")** | **$(ratio "$logit" "$sk_logit_fit")** |
| \`kmeans\` (k = 8) | $pg_km_w | $(secs "$cls_base") | $(secs "$km") | **$(ratio "$km" "$cls_base")** | $(secs "$sk_km_copy") | $(secs "$sk_km_load") | $(secs "$sk_km_fit") | $(secs "$sk_km_e2e") | **$(ratio "$km" "$sk_km_e2e")** | **$(ratio "$km" "$sk_km_fit")** |"
qual_rows="| \`logistic_regression\` | training log loss | $(qual "$pg_logit_q") | $(qual "$sk_logit_q") | $(qrel "$pg_logit_q" "$sk_logit_q") | $pg_logit_it ($pg_logit_conv) | $sk_logit_it ($sk_logit_conv) |
| \`kmeans\` (k = 8) | training inertia | $(awk -v a="$pg_km_q" 'BEGIN {printf "%.2f", a}') | $(awk -v a="$sk_km_q" 'BEGIN {printf "%.2f", a}') | $(qrel "$pg_km_q" "$sk_km_q") | $pg_km_it ($pg_km_conv) | $sk_km_it ($sk_km_conv) |"

cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
cat >"$OUT" <<MD
# Benchmarks

Reproduce with \`bash bench/run.sh $ROWS "$WORKERS"\` (it builds, installs, starts a throwaway
cluster and rewrites this file). Each time is the median of $REPS runs after a warm-up run; each
ratio compares with a baseline measured in the same run, on the same machine and data.

Machine: $(nproc) cores ($cpu), PostgreSQL $(psql -X -At -c 'SHOW server_version'), $(date -u +%Y-%m-%d).
Data: $ROWS rows x 20 float8 features, a float8 target and a boolean label, generated in SQL
(\`bench/setup.sql\`), snapshotted with a 25% test split.

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
## \`logistic_regression\` and \`kmeans\` against a parallel scan and against COPY + scikit-learn

Data: snapshot \`bench_cls\` of the same $ROWS rows (\`f1\` ... \`f20\` and a boolean \`label\` drawn from a
logistic model of the linear rule behind \`y\`: balanced, overlapping classes; \`bench/setup.sql\`),
$TRAIN_CLS rows in its training split. Everything runs with $W workers (\`ml.max_parallel_workers\`,
and \`max_parallel_workers_per_gather\` for the scan); scikit-learn uses the machine's $(nproc) cores
through its own threads.

- pg_mlops: \`ml.train_model('bench_logit', 'snapshot:bench_cls', 'label', 'logistic_regression', features => '{f1,...,f20}')\`
  (unpenalized, Newton/IRLS) and \`ml.train_model('bench_km', 'snapshot:bench_cls', NULL, 'kmeans', '{"k": 8}', features => '{f1,...,f20}')\`
  (defaults: n_init 10, max_iter 300, tol 1e-4 scaled by the mean feature variance as in scikit-learn).
  The time is the whole call: reading the rows, fitting, train and test metrics (for the classifier
  also ROC AUC on both splits, computed by scoring in SQL) and registering the model.
- Scan baseline: \`SELECT sum(f1), ..., sum(f20), sum(label::int)\` over the snapshot relation.
- Export and fit (\`bench/sklearn_fit.py\`, Debian's /usr/bin/python3 with $sk_version):
  \`COPY (SELECT f1, ..., f20[, label::int::float8] FROM <snapshot> WHERE NOT _ml_is_test) TO STDOUT (FORMAT binary)\`
  through psql into memory (the fastest way out: no float-to-text conversion or text parsing), read
  into a float64 numpy array, then \`LogisticRegression(penalty=None, solver='lbfgs', max_iter=10000)\`
  or \`KMeans(n_clusters=8, n_init=10)\` (default max_iter 300, tol 1e-4, Lloyd). End to end is COPY +
  load + fit timed inside the Python process (interpreter start and imports not counted).
- Repetitions: logistic regression, the median of $REPS pg_mlops runs after a warm-up run and of $SK_REPS
  scikit-learn runs after a warm-up export; k-means, which takes minutes per run, $KM_REPS run(s) on each
  side (\`KM_REPS\`), pg_mlops without a warm-up (the snapshot is already cached by the runs before it),
  scikit-learn after a warm-up export. Goal: pg_mlops faster than the export-and-fit path end to end
  (ratio to scikit-learn end to end below 1).

| algorithm | workers launched | parallel sum (s) | train_model (s) | ratio to scan | COPY (s) | load into numpy (s) | scikit-learn fit (s) | scikit-learn end to end (s) | ratio to end to end | ratio to fit alone |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
$cls_rows

Quality of the fits on the same training rows (pg_mlops from the model's stored train metrics,
scikit-learn computed on its fitted model). Iterations: Newton steps against L-BFGS iterations; for
k-means, pg_mlops counts the Lloyd passes over the data, which advance all n_init runs together until
the slowest one converges, and scikit-learn reports the iterations of its best run only.

| algorithm | measure | pg_mlops | scikit-learn | relative difference | pg_mlops iterations (converged) | scikit-learn iterations (converged) |
| --- | --- | --- | --- | --- | --- | --- |
$qual_rows

Where pg_mlops spends the time (\`SET ml.progress = on\`, from the first run). The time on the
\`registering\` line is taken before ROC AUC is computed: for the classifier, the rest of the
\`train_model\` time above is ROC AUC on both splits. Logistic regression:

\`\`\`
$logit_notes
\`\`\`

k-means:

\`\`\`
$km_notes
\`\`\`

MD
echo "==> wrote $OUT"
cat "$OUT"

# ml.predict under pgbench while versions are promoted and rolled back: its
# own throwaway cluster, its section appended to $OUT.
pg_stop
echo "==> predict under load with promotions (bench/predict_load.sh)"
SKIP_BUILD=1 bash bench/predict_load.sh "${PREDICT_LOAD_SECONDS:-60}" 16 >>"$OUT"
echo "==> appended the predict-load section to $OUT"

# Tree models against XGBoost: their own throwaway cluster and data, their
# section (between the trees markers) appended to $OUT.
echo "==> tree models against XGBoost (bench/trees.sh)"
SKIP_BUILD=1 BENCH_OUT="$OUT" bash bench/trees.sh "$ROWS"

# Cancel latency of every algorithm: its own throwaway cluster and data, its
# section (between the cancel markers) appended to $OUT.
echo "==> cancel latency (bench/cancel.sh)"
SKIP_BUILD=1 BENCH_OUT="$OUT" bash bench/cancel.sh 10
