# Helpers the benchmark scripts share (sourced from the project's root).

# bench_start PORT: build and install (unless SKIP_BUILD is set), then start
# a throwaway cluster with room for workers and no autovacuum in the timings.
bench_start() {
  if [ -z "${SKIP_BUILD:-}" ]; then
    bash test/setup.sh
    make -s >/dev/null && make -s install >/dev/null
  fi
  source test/pgcluster.sh
  PG_TEST_PORT=${PG_TEST_PORT:-$1} PG_EXTRA_CONF="max_parallel_workers = 16
autovacuum = off" pg_start
  trap pg_stop EXIT
}

# wall time in ms of one run of SQL
once() { psql -X -q -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
secs() { awk -v a="$1" 'BEGIN {printf "%.3f", a / 1000}'; }

# write_section FILE NAME TEXT: replace the part of FILE between
# <!-- NAME:begin --> and <!-- NAME:end --> (TEXT includes both), or append it
write_section() {
  [ -f "$1" ] || touch "$1"
  SECTION="$3" NAME="$2" /usr/bin/python3 - "$1" <<'PY'
import os, sys
path, section, name = sys.argv[1], os.environ["SECTION"], os.environ["NAME"]
text = open(path).read()
begin, end = "<!-- %s:begin -->" % name, "<!-- %s:end -->" % name
b, e = text.find(begin), text.find(end)
if b >= 0 and e > b:
    text = text[:b] + section + text[e + len(end):]
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
PY
}
