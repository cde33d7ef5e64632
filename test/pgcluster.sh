#!/bin/bash
# Throwaway PostgreSQL 15 cluster for tests, demo and benchmarks.
#   source test/pgcluster.sh; pg_start; ...; pg_stop
# Exports PGHOST, PGPORT, PGUSER, PGDATABASE for psql and pg_regress.
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

as_owner() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

pg_start() {
  PG_TMP=$(mktemp -d /tmp/pg_mlops.XXXXXX)
  chmod 755 "$PG_TMP"
  [ "$(id -u)" = 0 ] && chown postgres "$PG_TMP"
  export PGHOST=$PG_TMP PGPORT=${PG_TEST_PORT:-55432} PGUSER=${PGUSER_OVERRIDE:-$( [ "$(id -u)" = 0 ] && echo postgres || id -un )}
  export PGDATABASE=postgres
  as_owner "$PGBIN/initdb -D $PG_TMP/data -A trust -U $PGUSER --no-sync >$PG_TMP/initdb.log 2>&1" \
    || { cat "$PG_TMP/initdb.log"; return 1; }
  cat >>"$PG_TMP/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_TMP'
port = $PGPORT
fsync = off
max_worker_processes = 16
max_parallel_workers = 8
max_parallel_workers_per_gather = 4
shared_buffers = 512MB
lc_messages = 'C'
shared_preload_libraries = '${PG_PRELOAD:-}'
${PG_EXTRA_CONF:-}
CONF
  as_owner "$PGBIN/pg_ctl -D $PG_TMP/data -l $PG_TMP/server.log -w start >/dev/null" \
    || { cat "$PG_TMP/server.log"; return 1; }
}

pg_stop() {
  [ -n "${PG_TMP:-}" ] || return 0
  as_owner "$PGBIN/pg_ctl -D $PG_TMP/data -m fast -w stop >/dev/null 2>&1" || true
  rm -rf "$PG_TMP"
  PG_TMP=
}
