#!/bin/bash
# Batch scoring benchmark: bash bench/scoring.sh [rows]
# ml.predict over every row of a table against the model's formula written
# in SQL, with 0 and 2 workers, the table's row planned as its columns
# (FROM bench_data t) and passed as a row (FROM (SELECT ... OFFSET 0) t);
# ml.score into an existing table (mode replace) against CREATE TABLE AS with
# 2 workers.  Medians of ROUNDS rounds, every run of a round interleaved.
# Rewrites the section of docs/benchmarks.md between <!-- scoring:begin -->
# and <!-- scoring:end -->.
#   SKIP_BUILD=1   use the installed pg_mlops
#   BENCH_OUT=F    write to F instead of docs/benchmarks.md
set -eu
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
ROUNDS=${ROUNDS:-5}
OUT=${BENCH_OUT:-docs/benchmarks.md}

source bench/lib.sh
bench_start 55438
echo "==> generating $ROWS rows x 20 features (bench/setup.sql)"
psql -X -q -v rows="$ROWS" -f bench/setup.sql >/dev/null
psql -X -q -c "SET ml.progress = off; SELECT ml.train_model('bench', 'snapshot:bench', 'y')" >/dev/null
COEF=$(psql -X -At -c "SELECT string_agg(CASE WHEN feature = 'intercept' THEN coefficient::text ELSE format('%s * %I', coefficient, feature) END, ' + ') FROM ml.explain('bench')")
PAR="SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0; SET ml.progress = off;"
COLS="id, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, y, label"
declare -A Q T
for w in 0 2; do
  Q[formula$w]="$PAR SET max_parallel_workers_per_gather = $w; SELECT sum($COEF) FROM bench_data"
  Q[columns$w]="$PAR SET max_parallel_workers_per_gather = $w; SELECT sum(ml.predict('bench', t)) FROM bench_data t"
  Q[row$w]="$PAR SET max_parallel_workers_per_gather = $w; SELECT sum(ml.predict('bench', t)) FROM (SELECT $COLS FROM bench_data OFFSET 0) t"
done
Q[ctas]="$PAR SET max_parallel_workers_per_gather = 2; DROP TABLE IF EXISTS ctas_out; CREATE TABLE ctas_out AS SELECT id, ml.predict('bench', t) AS prediction FROM bench_data t"
Q[replace]="$PAR SET max_parallel_workers_per_gather = 2; SELECT ml.score('bench', 'bench_data', 'score_out', 'id', 'replace')"
psql -X -q -c "$PAR SELECT ml.score('bench', 'bench_data', 'score_out', 'id')" >/dev/null
KEYS="formula0 columns0 row0 formula2 columns2 row2 ctas replace"
for k in $KEYS; do once "${Q[$k]}" >/dev/null; done   # warm-up
for r in $(seq "$ROUNDS"); do
  echo "==> round $r of $ROUNDS"
  for k in $KEYS; do T[$k]+="$(once "${Q[$k]}") "; done
done
med() { tr ' ' '\n' <<<"${T[$1]}" | grep . | median; }
agree=$(psql -X -At -c "SELECT abs(sum(ml.predict('bench', t)) - sum($COEF)) < 1e-9 * abs(sum($COEF)) FROM bench_data t")
rows_md=""
for w in 0 2; do
  f=$(med formula$w) c=$(med columns$w) p=$(med row$w)
  rows_md+="| $w | $(secs "$f") | $(secs "$c") | **$(ratio "$c" "$f")** | $(secs "$p") | **$(ratio "$p" "$f")** |
"
done
ctas=$(med ctas) repl=$(med replace)

section=$(cat <<MD
<!-- scoring:begin -->
## Batch scoring (bench/scoring.sh)

$ROWS rows x 20 float8 features, the \`linear_regression\` model of the whole table. Baseline: the
model's formula written in SQL, \`SELECT sum(b0 + b1 * f1 + ... + b20 * f20) FROM bench_data\`.
\`ml.predict('bench', t) FROM bench_data t\` is planned as the table's columns; the same call on
the rows of a subquery (\`FROM (SELECT ... FROM bench_data OFFSET 0) t\`) passes a row value per call
(and \`OFFSET\` keeps that subquery out of parallel workers, so its 2-worker figure is serial).
Medians of $ROUNDS rounds, every run of a round interleaved. Machine: $(nproc) cores,
$(date -u +%Y-%m-%d); load average at the end $(cut -d' ' -f1-3 /proc/loadavg).
Predictions agree with the formula: **$agree**.

| workers | SQL formula (s) | ml.predict, table's row (s) | ratio | ml.predict, subquery's row (s) | ratio |
|---|---|---|---|---|---|
$rows_md
\`ml.score('bench', 'bench_data', 'score_out', 'id', 'replace')\` with 2 workers: $(secs "$repl") s
against \`CREATE TABLE ctas_out AS SELECT id, ml.predict('bench', t) ...\` $(secs "$ctas") s:
**$(ratio "$repl" "$ctas")** (ml.score also records the run and profiles its inputs).
Goals (issue 16): ml.predict at most 1.3 times the formula, serially and with 2 workers;
ml.score replace at most 1.5 times CREATE TABLE AS.
<!-- scoring:end -->
MD
)
write_section "$OUT" scoring "$section"
echo "==> wrote $OUT"
echo "$section"
