#!/bin/bash
# Tree benchmark: bash bench/trees.sh [rows]
# pg_mlops gradient_boosting against XGBoost's hist method (Debian's
# python3-xgboost) on the same rows, in one run on the same machine:
# training time (ml.max_parallel_workers 0 and 2 against nthread = 2, fit
# alone and COPY + load + fit), peak memory, scoring throughput and test
# RMSE.  Starts a throwaway cluster, generates the data in SQL
# (bench/trees_setup.sql) and rewrites the section of docs/benchmarks.md
# between <!-- trees:begin --> and <!-- trees:end --> (appended when absent).
#   SKIP_BUILD=1   use the installed pg_mlops (no setup, make, make install)
#   BENCH_OUT=F    write to F instead of docs/benchmarks.md
set -eu
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
OUT=${BENCH_OUT:-docs/benchmarks.md}
TREES=100 DEPTH=6

if [ -z "${SKIP_BUILD:-}" ]; then
  bash test/setup.sh
  make -s >/dev/null && make -s install >/dev/null
fi
source test/pgcluster.sh
# autovacuum off: no background worker competes with the timed runs
PG_TEST_PORT=${PG_TEST_PORT:-55436} PG_EXTRA_CONF="max_parallel_workers = 16
autovacuum = off" pg_start
WORK=$(mktemp -d /tmp/pg_mlops_trees.XXXXXX)
trap 'pg_stop; rm -rf "$WORK"' EXIT
POSTMASTER=$(head -n 1 "$PG_TMP/data/postmaster.pid")

echo "==> generating $ROWS rows x 20 features (bench/trees_setup.sql)"
t0=$(date +%s.%N)
psql -X -q -v rows="$ROWS" -f bench/trees_setup.sql >/dev/null
gen_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
SNAP=$(psql -X -At -c "SELECT relation FROM ml.snapshots WHERE name = 'trees'")
read -r TRAIN_ROWS TEST_ROWS <<<"$(psql -X -At -F ' ' -c "SELECT train_count, test_count FROM ml.snapshots WHERE name = 'trees'")"
PAR="SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;"
FEATS="ARRAY[$(seq -s, 1 20 | sed 's/\([0-9]*\)/'"'"'f\1'"'"'/g')]"
HP="{\"n_trees\": $TREES, \"max_depth\": $DEPTH, \"learning_rate\": 0.3, \"lambda\": 1, \"min_child_weight\": 1, \"gamma\": 0, \"max_bins\": 255}"
COLS=$(seq -s, 1 20 | sed 's/\([0-9]*\)/sum(f\1)/g')

# wall time in ms of one psql run of $1 (its notices go to file $2)
timed_once() {
  psql -X -q -v ON_ERROR_STOP=1 -c '\timing on' -c "$1" 2>"$2" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1
}
secs() { awk -v a="$1" 'BEGIN {printf "%.2f", a / 1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
# number in a progress notice: notice_s FILE PHASE -> the seconds at its end
notice_s() { sed -n "s/^NOTICE:  $2: .* \([0-9.]*\) s\$/\1/p; s/^NOTICE:  $2: \([0-9.]*\) s\$/\1/p" "$1" | tail -n 1; }

echo "==> parallel scan baseline"
declare -A SCAN
for w in 0 2; do
  q="$PAR SET max_parallel_workers_per_gather = $w; SELECT $COLS, sum(y) FROM $SNAP"
  timed_once "$q" /dev/null >/dev/null  # warm-up: page cache, shared buffers
  SCAN[$w]=$(timed_once "$q" /dev/null)
done

declare -A TRAIN FIT EVAL READ ROUND MEM RMSE HASH LAUNCHED
for w in 0 2; do
  echo "==> pg_mlops gradient_boosting, ml.max_parallel_workers = $w"
  /usr/bin/python3 bench/trees_mem.py "$POSTMASTER" "$WORK/mem_$w" &
  sampler=$!
  sleep 0.5
  TRAIN[$w]=$(timed_once "$PAR SET ml.progress = on; SET ml.max_parallel_workers = $w; SELECT ml.train_model('trees_gb_w$w', 'snapshot:trees', 'y', 'gradient_boosting', '$HP', $FEATS)" "$WORK/notes_$w")
  kill -TERM "$sampler"; wait "$sampler" || true
  MEM[$w]=$(cat "$WORK/mem_$w")
  FIT[$w]=$(notice_s "$WORK/notes_$w" fitting)
  EVAL[$w]=$(notice_s "$WORK/notes_$w" evaluating)
  # ml.training_info: elapsed_s at round 0 is the first pass (read, bin, base
  # score); the rest divided by the rounds is the time per tree
  read -r READ[$w] ROUND[$w] <<<"$(psql -X -At -F ' ' -c "SELECT round(min(elapsed_s) FILTER (WHERE iteration = 0)::numeric, 2), round(((max(elapsed_s) - min(elapsed_s) FILTER (WHERE iteration = 0)) / nullif(max(iteration), 0))::numeric, 3) FROM ml.training_info('trees_gb_w$w')")"
  read -r RMSE[$w] HASH[$w] LAUNCHED[$w] <<<"$(psql -X -At -F ' ' -c "SELECT metrics->'test'->>'rmse', model_hash, workers FROM ml.models WHERE name = 'trees_gb_w$w'")"
  sed -n 's/^NOTICE:  //p' "$WORK/notes_$w" | sed 's/^/    /'
done
identical=$([ "${HASH[0]}" = "${HASH[2]}" ] && echo yes || echo no)

echo "==> XGBoost hist, nthread = 2"
/usr/bin/python3 bench/trees_xgb.py "$SNAP" trees_data 2 "$TREES" "$DEPTH" >"$WORK/xgb"
cat "$WORK/xgb" | sed 's/^/    /'
x() { sed -n "s/^$1=//p" "$WORK/xgb"; }

echo "==> scoring: sum(ml.predict(...)) over trees_data"
declare -A SCORE
for w in 0 2; do
  SCORE[$w]=$(timed_once "$PAR SET max_parallel_workers_per_gather = $w; SELECT sum(ml.predict('trees_gb_w2', t)) FROM trees_data t" /dev/null)
done

f2() { awk -v a="$1" 'BEGIN {printf "%.2f", a}'; }
ms() { awk -v a="$1" 'BEGIN {printf "%.0f", a * 1000}'; }
xfit=$(ms "$(x fit_s)") xe2e=$(ms "$(x e2e_s)") xpred=$(ms "$(x predict_s)")
rate() { awk -v n="$1" -v t="$2" 'BEGIN {printf "%.0f", n / (t / 1000)}'; }
mem_cols() { awk '{printf "%.0f | %.0f | %.0f", $1, $2, $4}' <<<"$1"; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
load=$(cut -d' ' -f1-3 /proc/loadavg)

section=$(cat <<MD
<!-- trees:begin -->
## Gradient boosting against XGBoost (\`bench/trees.sh\`)

Reproduce with \`bash bench/trees.sh $ROWS\` (it builds, installs, starts a throwaway cluster,
generates the data in SQL and rewrites this section). One run of each measurement, all in the
same run on the same machine: $(nproc) cores ($cpu), PostgreSQL $(psql -X -At -c 'SHOW server_version'),
XGBoost $(x xgboost) (Debian's python3-xgboost), $(date -u +%Y-%m-%d); load average at the end $load.

Data: \`bench/trees_setup.sql\`, $ROWS rows x 20 float8 features (f7 NULL in about 5% of rows) and
a float8 target with interactions, generated in $gen_s s; snapshot with a 25% test split
($TRAIN_ROWS training rows, $TEST_ROWS test rows). Both sides: $TREES trees, depth $DEPTH,
learning rate 0.3, lambda 1, min_child_weight 1, gamma 0, 255 bins, base score = mean of y.
XGBoost: \`XGBRegressor(tree_method='hist', n_jobs=2)\` on the training split exported with
\`COPY ... (FORMAT binary)\` and parsed by numpy (\`bench/trees_xgb.py\`).

### Training time

\`train_model\` is the whole \`ml.train_model\` call: it reads the snapshot, bins, grows the trees,
computes train and test metrics and registers the model. *fit phase* is its \`fitting\` progress
notice (read + bin + $TREES rounds), *metrics phase* the \`evaluating\` notice.
Goal (issue 4): \`train_model\` at most 1.5x XGBoost's fit time.

| | workers | parallel scan (s) | train_model (s) | fit phase (s) | first pass: read + bin (s) | per tree (s) | metrics phase (s) | ratio to XGBoost fit | ratio to XGBoost COPY + load + fit |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
| pg_mlops | 0 | $(secs "${SCAN[0]}") | $(secs "${TRAIN[0]}") | $(f2 "${FIT[0]}") | ${READ[0]} | ${ROUND[0]} | $(f2 "${EVAL[0]}") | **$(ratio "${TRAIN[0]}" "$xfit")** | **$(ratio "${TRAIN[0]}" "$xe2e")** |
| pg_mlops | 2 (launched ${LAUNCHED[2]}) | $(secs "${SCAN[2]}") | $(secs "${TRAIN[2]}") | $(f2 "${FIT[2]}") | ${READ[2]} | ${ROUND[2]} | $(f2 "${EVAL[2]}") | **$(ratio "${TRAIN[2]}" "$xfit")** | **$(ratio "${TRAIN[2]}" "$xe2e")** |

XGBoost, nthread = 2: COPY $(f2 "$(x copy_s)") s, load into numpy $(f2 "$(x load_s)") s, fit **$(f2 "$(x fit_s)") s**,
COPY + load + fit **$(f2 "$(x e2e_s)") s**. Fit phase alone against XGBoost's fit: $(ratio "$(ms "${FIT[0]}")" "$xfit")x (0 workers),
$(ratio "$(ms "${FIT[2]}")" "$xfit")x (2 workers). Models with 0 and 2 workers identical (same hash): **$identical**.

### Peak memory

pg_mlops: peak resident set (VmHWM) of the session's backend and of its largest parallel worker,
and the largest sampled sum of private memory (RssAnon) of backend and workers together (VmHWM
also counts the shared buffers a process touched; \`bench/trees_mem.py\` samples /proc every 50 ms).
XGBoost: VmHWM of the Python process (training data loaded, then after fit).

| | backend VmHWM (MiB) | largest worker VmHWM (MiB) | peak private, all processes (MiB) |
| --- | --- | --- | --- |
| pg_mlops, 0 workers | $(mem_cols "${MEM[0]}") |
| pg_mlops, 2 workers | $(mem_cols "${MEM[2]}") |

XGBoost: $(x rss_before_fit_mib | awk '{printf "%.0f", $1}') MiB with the training split loaded, **$(x peak_rss_fit_mib | awk '{printf "%.0f", $1}') MiB** peak after fit.

### Scoring throughput and accuracy

\`SELECT sum(ml.predict('trees_gb_w2', t)) FROM trees_data t\` over all $ROWS rows against
\`XGBRegressor.predict\` (nthread = 2) on the same rows already exported as a numpy array.

| | workers / threads | time (s) | rows per second |
| --- | --- | --- | --- |
| \`ml.predict\` | 0 | $(secs "${SCORE[0]}") | $(rate "$ROWS" "${SCORE[0]}") |
| \`ml.predict\` | 2 | $(secs "${SCORE[2]}") | $(rate "$ROWS" "${SCORE[2]}") |
| XGBoost \`predict\` | 2 | $(secs "$xpred") | $(rate "$(x predict_rows)" "$xpred") |

Test RMSE ($TEST_ROWS rows): pg_mlops **$(awk -v a="${RMSE[2]}" 'BEGIN {printf "%.6f", a}')**, XGBoost **$(awk -v a="$(x test_rmse)" 'BEGIN {printf "%.6f", a}')**
(relative difference $(awk -v a="${RMSE[2]}" -v b="$(x test_rmse)" 'BEGIN {printf "%+.2f%%", 100 * (a - b) / b}')).
<!-- trees:end -->
MD
)

# splice the section between the markers (append when absent), leave the rest untouched
[ -f "$OUT" ] || touch "$OUT"
SECTION="$section" /usr/bin/python3 - "$OUT" <<'PY'
import os, sys
path, section = sys.argv[1], os.environ["SECTION"]
text = open(path).read()
b, e = text.find("<!-- trees:begin -->"), text.find("<!-- trees:end -->")
if b >= 0 and e > b:
    text = text[:b] + section + text[e + len("<!-- trees:end -->"):]
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
PY
echo "==> wrote $OUT"
