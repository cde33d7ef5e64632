#!/bin/bash
# Install what building, testing and the demo need, from Debian's packages.
# Safe to run again: only missing packages are installed.
set -eu

PACKAGES="make gcc postgresql-15 postgresql-server-dev-15 postgresql-common
  libopenblas-dev libopenblas0-serial liblapacke-dev libcmocka-dev
  perl libipc-run-perl postgresql-client-15 python3-numpy python3-sklearn python3-statsmodels python3-xgboost postgresql-15-cron
  clang libclang-rt-14-dev libxml2-utils
  odbc-postgresql unixodbc libpostgresql-jdbc-java default-jdk-headless"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "pg_mlops needs these Debian packages:$missing" >&2
    echo "install them as root: apt-get install$missing" >&2
    exit 1
  fi
  echo "==> installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
