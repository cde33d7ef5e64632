#!/bin/bash
# ml.predict under pgbench while versions are promoted and rolled back:
#   bash bench/predict_load.sh [seconds] [clients]      (defaults: 60 s, 16 clients)
# Builds and installs pg_mlops (unless SKIP_BUILD=1), starts a throwaway
# cluster, and prints a Markdown section for docs/benchmarks.md on stdout
# (progress goes to stderr).  The workload is the one of
# test/t/005_predict_load.pl: each transaction inserts 5 rows, each with one
# prediction from a float8[] and one from the row.  Four runs, each of
# `seconds`, in the same cluster:
#   formula    ml.predict replaced by the fitted formula of version 1 in SQL
#   fixed      ml.predict('m@1', ...): a fixed version
#   production ml.predict('m', ...): the production version, nothing changes
#   promotions ml.predict('m', ...) while another session promotes version 2
#              and rolls back to version 1 every 50 ms
set -eu
cd "$(dirname "$0")/.."
SECS=${1:-60}
CLIENTS=${2:-16}
THREADS=${THREADS:-4}

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  bash test/setup.sh >&2
  { make -s && make -s install; } >/dev/null
fi
source test/pgcluster.sh
PG_TEST_PORT=${PREDICT_LOAD_PORT:-55435} PG_EXTRA_CONF="max_connections = $((CLIENTS + 20))
ml.progress = off" pg_start >&2
trap pg_stop EXIT
WORK=$(mktemp -d /tmp/pg_mlops_predict_load.XXXXXX)
trap 'pg_stop; rm -rf "$WORK"' EXIT

echo "==> predict_load: two versions of m, $CLIENTS clients, $SECS s per run" >&2
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE EXTENSION pg_mlops;
CREATE TABLE d1 AS SELECT sin(g) AS a, cos(g) AS b, 2 * sin(g) - cos(g) + 1 + 0.01 * sin(7 * g) AS y
FROM generate_series(1, 2000) g;
CREATE TABLE d2 AS SELECT sin(g) AS a, cos(g) AS b, -3 * sin(g) + 5 * cos(g) + 10 + 0.01 * sin(5 * g) AS y
FROM generate_series(1, 2000) g;
SELECT ml.snapshot('SELECT a, b, y FROM d1', name => 's1');
SELECT ml.snapshot('SELECT a, b, y FROM d2', name => 's2');
SELECT ml.train_model('m', 'snapshot:s1', 'y');
SELECT ml.train_model('m', 'snapshot:s2', 'y');
SELECT ml.promote('m', 1);
CREATE TABLE t (id int PRIMARY KEY, a float8, b float8);
INSERT INTO t SELECT g, g / 10.0 - 5, (g % 13) / 3.0 - 2 FROM generate_series(1, 100) g;
CREATE TABLE preds (stmt bigint NOT NULL DEFAULT txid_current(), id int NOT NULL,
                    p_arr float8 NOT NULL, p_row float8 NOT NULL);
CREATE TABLE expected AS
SELECT id, ml.predict('m@1', ARRAY[a, b]::float8[]) AS arr1, ml.predict('m@2', ARRAY[a, b]::float8[]) AS arr2,
       ml.predict('m@1', t) AS row1, ml.predict('m@2', t) AS row2
FROM t;
VACUUM ANALYZE;
SQL
# version 1 as a SQL expression over a and b (float8 text is exact)
F=$(psql -X -At -c "SELECT string_agg(CASE WHEN feature = 'intercept' THEN coefficient::text ELSE format('%s * %I', coefficient, feature) END, ' + ') FROM ml.explain('m@1')")

script() {  # name, array expression, row expression
  printf '%s\n' '\set id random(1, 96)' \
    "INSERT INTO preds (id, p_arr, p_row) SELECT id, $2, $3 FROM t WHERE id BETWEEN :id AND :id + 4;" >"$WORK/$1.sql"
}
script formula "($F)" "($F)"
script fixed "ml.predict('m@1', ARRAY[a, b]::float8[])" "ml.predict('m@1', t)"
script production "ml.predict('m', ARRAY[a, b]::float8[])" "ml.predict('m', t)"
cp "$WORK/production.sql" "$WORK/promotions.sql"

declare -A TPS FAILED TX P50 P99 STEPS
bench() {  # name [log name]
  local log=${2:-$1}
  psql -X -q -c "TRUNCATE preds" -c "CHECKPOINT" >/dev/null
  local out
  rm -f "$WORK/$log.lat".*
  out=$(pgbench -n -c "$CLIENTS" -j "$THREADS" -T "$SECS" -P 10 -l --log-prefix="$WORK/$log.lat" \
          -f "$WORK/$1.sql" 2>"$WORK/$log.err") \
    || { cat "$WORK/$log.err" >&2; echo "pgbench failed for $1" >&2; exit 1; }
  TPS[$log]=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | tail -n 1)
  FAILED[$log]=$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
  TX[$log]=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
  # TPS per 10 s (pgbench -P 10), latency percentiles from the per-transaction log (microseconds)
  STEPS[$log]=$(sed -n 's/^progress: [0-9.]* s, \([0-9.]*\) tps.*/\1/p' "$WORK/$log.err" | awk '{printf "%s%.0f", (NR > 1 ? ", " : ""), $1}')
  read -r P50[$log] P99[$log] <<<"$(cat "$WORK/$log.lat".* | awk '{print $3}' | sort -n | awk '{v[NR] = $1} END {printf "%.2f %.2f", v[int(NR * 0.5) + 1] / 1000, v[int(NR * 0.99) + 1] / 1000}')"
  rm -f "$WORK/$log.lat".*
  echo "    $log: ${TX[$log]} transactions, tps ${TPS[$log]}, failed ${FAILED[$log]:-0}, per 10 s ${STEPS[$log]}, p50 ${P50[$log]} ms, p99 ${P99[$log]} ms" >&2
}

# Interleaved: the baseline runs first and again last, and the ratios use the
# mean of its two runs (the machine is shared).
echo "==> formula" >&2
bench formula
formula_ok=$(psql -X -At -c "SELECT count(*) FROM preds p JOIN expected e USING (id) WHERE p.p_arr <> e.arr1 OR p.p_row <> e.row1")
for w in fixed production; do
  echo "==> $w" >&2
  bench "$w"
done

echo "==> promotions" >&2
ev0=$(psql -X -At -c "SELECT count(*) FROM ml.model_events WHERE action IN ('promote', 'rollback')")
psql -X -q -v ON_ERROR_STOP=1 -c "DO \$\$
DECLARE n int := 0; stop timestamptz := clock_timestamp() + interval '$SECS s';
BEGIN
  WHILE clock_timestamp() < stop LOOP
    PERFORM ml.promote('m', 2);
    COMMIT;
    PERFORM pg_sleep(0.05);
    PERFORM ml.rollback('m');
    COMMIT;
    PERFORM pg_sleep(0.05);
    n := n + 1;
  END LOOP;
  RAISE NOTICE 'cycles: %', n;
END \$\$" 2>"$WORK/promoter.err" &
PROMOTER=$!
bench promotions
wait "$PROMOTER" || { cat "$WORK/promoter.err" >&2; echo "promoter failed" >&2; exit 1; }
cycles=$(sed -n 's/.*cycles: \([0-9]*\).*/\1/p' "$WORK/promoter.err")
ev=$(psql -X -At -c "SELECT count(*) - $ev0 FROM ml.model_events WHERE action IN ('promote', 'rollback')")
read -r n1 n2 bad mixed <<<"$(psql -X -At -F ' ' -c "
  SELECT count(*) FILTER (WHERE p.p_arr = e.arr1 AND p.p_row = e.row1),
         count(*) FILTER (WHERE p.p_arr = e.arr2 AND p.p_row = e.row2),
         count(*) FILTER (WHERE NOT ((p.p_arr = e.arr1 AND p.p_row = e.row1) OR (p.p_arr = e.arr2 AND p.p_row = e.row2))),
         (SELECT count(*) FROM (SELECT stmt FROM preds p JOIN expected e USING (id)
                                GROUP BY stmt HAVING count(DISTINCT p.p_arr = e.arr1) > 1) x)
  FROM preds p JOIN expected e USING (id)")"
prod=$(psql -X -At -c "SELECT string_agg(version::text, ',') FROM ml.models WHERE name = 'm' AND stage = 'production'")
echo "    promoter: $cycles cycles, $ev audit events; predictions v1 $n1, v2 $n2, neither $bad, mixed statements $mixed" >&2

echo "==> formula again" >&2
bench formula formula2

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
fmt() { awk -v a="$1" 'BEGIN {printf "%.0f", a}'; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
f=$(awk -v a="${TPS[formula]}" -v b="${TPS[formula2]}" 'BEGIN {print (a + b) / 2}')
first=$(echo "${STEPS[promotions]}" | awk -F', ' '{print $1}')
last=$(echo "${STEPS[promotions]}" | awk -F', ' '{print $NF}')
load=$(cut -d' ' -f1-3 /proc/loadavg)
cat <<MD
## \`ml.predict\` under pgbench while versions are promoted and rolled back

Reproduce with \`bash bench/predict_load.sh $SECS $CLIENTS\` (\`bench/run.sh\` runs it and appends this
section). Machine: $(nproc) cores ($cpu), PostgreSQL $(psql -X -At -c 'SHOW server_version'), $(date -u +%Y-%m-%d).
pgbench with $CLIENTS clients and $THREADS threads for $SECS s per row, all rows in the same throwaway cluster.
Each transaction is one statement that inserts 5 rows of a 100-row table \`t (id, a, b)\`, each with
two predictions: one from \`ARRAY[a, b]::float8[]\` and one from the row \`t\` (a pgbench script:
\`:id\` is pgbench's variable, so the block is not run by the docs check):

\`\`\`text
INSERT INTO preds (id, p_arr, p_row)
SELECT id, ml.predict('m', ARRAY[a, b]::float8[]), ml.predict('m', t) FROM t WHERE id BETWEEN :id AND :id + 4;
\`\`\`

Model \`m\` has two linear versions with different coefficients. Baseline: the same statement with
both predictions replaced by version 1's fitted formula written in SQL (\`b0 + b1 * a + b2 * b\`). The
test \`test/t/005_predict_load.pl\` runs the same workload for 10 s and checks the same invariants.

| run | reference | transactions | failed | TPS | share of formula TPS | TPS per 10 s | p50 (ms) | p99 (ms) |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
| SQL formula (baseline), first | none | ${TX[formula]} | ${FAILED[formula]:-0} | $(fmt "${TPS[formula]}") | | ${STEPS[formula]} | ${P50[formula]} | ${P99[formula]} |
| fixed version | \`'m@1'\` | ${TX[fixed]} | ${FAILED[fixed]:-0} | $(fmt "${TPS[fixed]}") | **$(ratio "${TPS[fixed]}" "$f")** | ${STEPS[fixed]} | ${P50[fixed]} | ${P99[fixed]} |
| production, no changes | \`'m'\` | ${TX[production]} | ${FAILED[production]:-0} | $(fmt "${TPS[production]}") | **$(ratio "${TPS[production]}" "$f")** | ${STEPS[production]} | ${P50[production]} | ${P99[production]} |
| production, promote/rollback every 50 ms | \`'m'\` | ${TX[promotions]} | ${FAILED[promotions]:-0} | $(fmt "${TPS[promotions]}") | **$(ratio "${TPS[promotions]}" "$f")** | ${STEPS[promotions]} | ${P50[promotions]} | ${P99[promotions]} |
| SQL formula (baseline), last | none | ${TX[formula2]} | ${FAILED[formula2]:-0} | $(fmt "${TPS[formula2]}") | | ${STEPS[formula2]} | ${P50[formula2]} | ${P99[formula2]} |

The share is the run's TPS divided by the mean of the two formula runs ($(fmt "$f") TPS); goals
(issue 16): at least 0.8 for a fixed version and for production, at least 0.7 while promotions run,
and in that run the last 10 s at least 90% of the first 10 s: here $(ratio "$last" "$first").
Load average at the end (the machine is shared): $load.
During the last run a separate session ran $cycles cycles of \`ml.promote('m', 2)\`, 50 ms,
\`ml.rollback('m')\`, 50 ms, each call its own transaction ($ev promote and rollback events in
\`ml.model_events\`). Of the $((n1 + n2 + bad)) stored rows, $n1 came from version 1 and $n2 from
version 2, and $bad matched neither (each row's two predictions are compared bit for bit with
\`ml.predict('m@1', ...)\` and \`ml.predict('m@2', ...)\`). Statements that mixed versions: **$mixed**.
Production version at the end: **$prod**. In the formula run, predictions that differ from
\`ml.predict('m@1', ...)\`: $formula_ok.
MD
