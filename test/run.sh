#!/bin/bash
# `make test`: install what is missing, build, install, start a throwaway
# cluster, run every suite (core unit tests, the same under ASan/UBSan, a
# libFuzzer smoke run of each harness, pg_regress, reference checks
# against scikit-learn/statsmodels, TAP), and end with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
passed=0
failed=0
failures=""

pass() { passed=$((passed + $1)); }
fail() { failed=$((failed + $1)); failures="$failures $2"; }

bash test/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
echo "==> building and installing"
if ! { make -s clean >/dev/null 2>&1; make -s && make -s install; } >/tmp/pg_mlops_build.log 2>&1; then
  cat /tmp/pg_mlops_build.log
  echo "0 passed, 1 failed"; exit 1
fi

echo "==> core unit tests (cmocka)"
out=$(make -s unit 2>&1); rc=$?
echo "$out" | grep -E '^\[  (PASSED|FAILED)  \]|^\[  ERROR   \]|^\[   LINE   \]|min coefficient LRE|core unit tests' | sed 's/^/    /'

p=$(echo "$out" | grep -E '^\[  PASSED  \] [0-9]+ test' | awk '{s+=$4} END {print s+0}')
f=$(echo "$out" | grep -E '^\[  FAILED  \] [0-9]+ test' | awk '{s+=$4} END {print s+0}')
pass "$p"
[ "$f" -gt 0 ] && fail "$f" "unit"
[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && fail 1 "unit(exit $rc)"

echo "==> core unit tests under AddressSanitizer and UndefinedBehaviorSanitizer (clang)"
out=$(make -s sanitize 2>&1); rc=$?
echo "$out" | grep -E '^\[  (PASSED|FAILED)  \]|^\[  ERROR   \]|^\[   LINE   \]|core unit tests|ERROR: |SUMMARY: |runtime error|error:' | sed 's/^/    /'
p=$(echo "$out" | grep -E '^\[  PASSED  \] [0-9]+ test' | awk '{s+=$4} END {print s+0}')
f=$(echo "$out" | grep -E '^\[  FAILED  \] [0-9]+ test' | awk '{s+=$4} END {print s+0}')
pass "$p"
[ "$f" -gt 0 ] && fail "$f" "sanitize"
[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && fail 1 "sanitize(exit $rc)"

echo "==> fuzz smoke (libFuzzer + ASan + UBSan, ${FUZZ_SMOKE_SECONDS:-10} s per harness)"
out=$(make -s fuzz-smoke 2>&1); rc=$?
echo "$out" | sed 's/^/    /'
p=$(echo "$out" | grep -c '^PASS ')
f=$(echo "$out" | grep -c '^FAIL ')
pass "$p"
[ "$f" -gt 0 ] && fail "$f" "fuzz-smoke"
[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && fail 1 "fuzz-smoke(exit $rc)"

source test/pgcluster.sh
trap pg_stop EXIT
PG_PRELOAD=pg_cron PG_EXTRA_CONF="cron.use_background_workers = on" pg_start || { echo "could not start PostgreSQL"; echo "$passed passed, $((failed + 1)) failed"; exit 1; }

echo "==> pg_regress"
make -s installcheck >/tmp/pg_mlops_regress.log 2>&1
sed 's/^/    /' /tmp/pg_mlops_regress.log | grep -E '\.\.\.|tests|failed|passed' 
p=$(grep -E '\.\.\. ok' /tmp/pg_mlops_regress.log | wc -l)
f=$(grep -E '\.\.\. FAILED' /tmp/pg_mlops_regress.log | wc -l)
pass "$p"
if [ "$f" -gt 0 ]; then
  fail "$f" "pg_regress"
  [ -f regression.diffs ] && head -n 200 regression.diffs
elif [ "$p" -eq 0 ]; then
  fail 1 "pg_regress(no tests ran)"; cat /tmp/pg_mlops_regress.log
fi

echo "==> reference checks (statsmodels, scikit-learn) and client-side checks"
for t in test/reference/check_*.py; do
  [ -f "$t" ] || continue
  if out=$(/usr/bin/python3 "$t" 2>&1); then
    echo "    ok     $t"; echo "$out" | sed 's/^/           /'; pass 1
  else
    echo "    FAILED $t"; echo "$out" | sed 's/^/           /'; fail 1 "$t"
  fi
done

if ls test/t/*.pl >/dev/null 2>&1; then
  echo "==> TAP tests"
  pg_stop
  trap - EXIT
  out=$(PERL5LIB=/usr/lib/postgresql/15/lib/pgxs/src/test/perl prove test/t 2>&1); rc=$?
  echo "$out" | sed 's/^/    /'
  # prove: count test files
  tp=$(echo "$out" | grep -E '^test/t/.* ok$' | wc -l)
  tf=$(echo "$out" | grep -E '^test/t/.*(Failed|Dubious|not ok)' | wc -l)
  pass "$tp"
  [ "$tf" -gt 0 ] && fail "$tf" "tap"
  [ "$rc" -ne 0 ] && [ "$tf" -eq 0 ] && fail 1 "tap(exit $rc)"
fi

[ -n "$failures" ] && echo "failed suites:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
