#!/bin/bash
# `make test`: install what is missing, build, install, start a throwaway
# cluster, run every suite (core unit tests, the same under ASan/UBSan, a
# libFuzzer smoke run of each harness, pg_regress, reference checks
# against scikit-learn/statsmodels, the docs' SQL examples, TAP), and end
# with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
passed=0
failed=0
failures=""

pass() { passed=$((passed + $1)); }
fail() { failed=$((failed + $1)); failures="$failures $2"; }

bash test/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
# The PostgreSQL to build against and test on: Debian's 15 unless
# `make test PG_CONFIG=/path/to/pg_config` names another installation.
export PG_CONFIG=${PG_CONFIG:-pg_config}
export PGBIN=$("$PG_CONFIG" --bindir)
PGLIB=$("$PG_CONFIG" --pkglibdir)
echo "==> PostgreSQL: $("$PG_CONFIG" --version) ($PGBIN)"
echo "==> building and installing"
if ! { make -s clean >/dev/null 2>&1; make -s && make -s install; } >/tmp/pg_mlops_build.log 2>&1; then
  cat /tmp/pg_mlops_build.log
  echo "0 passed, 1 failed"; exit 1
fi

echo "==> no file cycles among src/pg and src/core (object files' symbols)"
if out=$(/usr/bin/python3 test/check_cycles.py 2>&1); then
  echo "    ok     $out"; pass 1
else
  echo "$out" | sed 's/^/    /'; fail 1 "cycles"
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

# pg_regress through a make target; counts its tests, shows the diffs of failures.
run_regress() {  # target log diffs label
  make -s "$1" >"$2" 2>&1
  sed 's/^/    /' "$2" | grep -E '\.\.\.|tests|failed|passed'
  local p f
  p=$(grep -E '\.\.\. ok' "$2" | wc -l)
  f=$(grep -E '\.\.\. FAILED' "$2" | wc -l)
  pass "$p"
  if [ "$f" -gt 0 ]; then
    fail "$f" "$4"
    [ -f "$3" ] && head -n 200 "$3"
  elif [ "$p" -eq 0 ]; then
    fail 1 "$4(no tests ran)"; cat "$2"
  fi
}

echo "==> pg_regress"
run_regress installcheck /tmp/pg_mlops_regress.log regression.diffs pg_regress
echo "==> pg_regress again, the extension installed by a role that is not a superuser"
run_regress installcheck-owner /tmp/pg_mlops_regress_owner.log results_owner/regression.diffs "pg_regress(owner)"

echo "==> reference checks (statsmodels, scikit-learn) and client-side checks"
for t in test/reference/check_*.py; do
  [ -f "$t" ] || continue
  if out=$(/usr/bin/python3 "$t" 2>&1); then
    echo "    ok     $t"; echo "$out" | sed 's/^/           /'; pass 1
  else
    echo "    FAILED $t"; echo "$out" | sed 's/^/           /'; fail 1 "$t"
  fi
done

echo "==> docs: the SQL examples of README.md and docs/ against their pages (test/docs/run_docs.py)"
out=$(/usr/bin/python3 test/docs/run_docs.py 2>&1); rc=$?
echo "$out" | sed 's/^/    /'
p=$(echo "$out" | grep -c '^ok ')
f=$(echo "$out" | grep -c '^FAILED ')
pass "$p"
[ "$f" -gt 0 ] && fail "$f" "docs"
[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && fail 1 "docs(exit $rc)"

if ls test/t/*.pl >/dev/null 2>&1; then
  echo "==> TAP tests (PostgreSQL::Test::Cluster)"
  pg_stop
  trap - EXIT
  # Each test starts its own cluster. PostgreSQL refuses to run as root, and
  # the repository belongs to root: run prove as postgres (when root), with
  # the framework's tmp_check (data directories, logs) in a fresh directory
  # under /tmp that the postgres user owns.
  TAP_TMP=$(mktemp -d /tmp/pg_mlops_tap.XXXXXX)
  chmod 755 "$TAP_TMP"
  [ "$(id -u)" = 0 ] && chown postgres "$TAP_TMP"
  tap_cmd="cd '$ROOT' && PATH=$PGBIN:\$PATH PERL5LIB=$PGLIB/pgxs/src/test/perl TESTDIR='$TAP_TMP' PG_REGRESS=$PGLIB/pgxs/src/test/regress/pg_regress PGHOST= PGPORT= PGUSER= PGDATABASE= prove test/t/*.pl"
  if [ "$(id -u)" = 0 ]; then
    out=$(su postgres -s /bin/bash -c "$tap_cmd" 2>&1); rc=$?
  else
    out=$(bash -c "$tap_cmd" 2>&1); rc=$?
  fi
  echo "$out" | sed 's/^/    /'
  # prove: count test files
  tp=$(echo "$out" | grep -E '^test/t/.* ok$' | wc -l)
  tf=$(echo "$out" | grep -E '^test/t/.*(Failed|Dubious|not ok)' | wc -l)
  pass "$tp"
  [ "$tf" -gt 0 ] && fail "$tf" "tap"
  [ "$rc" -ne 0 ] && [ "$tf" -eq 0 ] && fail 1 "tap(exit $rc)"
  [ "$rc" -eq 0 ] && [ "$tp" -eq 0 ] && fail 1 "tap(no tests ran)"
  if [ "$rc" -ne 0 ]; then
    for f in "$TAP_TMP"/tmp_check/log/regress_log_*; do
      [ -f "$f" ] && { echo "    --- tail of $f"; tail -n 40 "$f" | sed 's/^/    /'; }
    done
  fi
  rm -rf "$TAP_TMP"
fi

[ -n "$failures" ] && echo "failed suites:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
