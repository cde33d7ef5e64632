"""A full disk gives a clear error and leaves nothing half-written.

The check mounts a 3 MB tmpfs (it runs as root, as make test does), puts a
tablespace on it and makes it the default, so that snapshots and scoring
outputs run out of space."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from pgtest import DB, Checks, fresh_database, psql, rows  # noqa: E402


def verbose_error(sql):
    """Run sql with verbose errors (SQLSTATE shown); return stderr."""
    r = subprocess.run(["psql", "-X", "-q", "-v", "VERBOSITY=verbose", "-d", DB, "-c", sql],
                       capture_output=True, text=True)
    return r.stderr

checks = Checks()
fresh_database()
mnt = tempfile.mkdtemp(prefix="pg_mlops_full.")
r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3M", "tmpfs", mnt], capture_output=True, text=True)
if r.returncode != 0:
    print(f"FAIL cannot mount a small tmpfs (needs root): {r.stderr.strip()}")
    raise SystemExit(1)
try:
    subprocess.run(["chown", "postgres", mnt], check=True)
    psql(f"CREATE TABLESPACE ml_tiny LOCATION '{mnt}'")
    psql("""
SET ml.progress = off;
CREATE TABLE big AS SELECT i AS id, i::float8 AS x, (2 * i + 1)::float8 AS y, md5(i::text) AS pad
FROM generate_series(1, 200000) i;
SELECT ml.train_model('m', 'big', 'y', features => '{x}');
""")
    counts = "SELECT (SELECT count(*) FROM ml.snapshots) || ',' || (SELECT count(*) FROM ml.models) || ',' || " \
             "(SELECT count(*) FROM ml.scoring_runs) || ',' || (SELECT count(*) FROM ml.model_events) || ',' || " \
             "(SELECT count(*) FROM pg_class WHERE relnamespace = 'ml_data'::regnamespace AND relkind = 'r')"
    before = rows(counts)[0][0]
    for what, sql in [("snapshot", "SELECT ml.snapshot('big', name => 'full')"),
                      ("train_model on a table", "SELECT ml.train_model('m', 'big', 'y', features => '{x}')"),
                      ("score into a new table", "SELECT ml.score('m', 'big', 'big_scores', 'id')")]:
        err = verbose_error("SET default_tablespace = ml_tiny; SET ml.progress = off; " + sql)
        checks.true(f"{what}: disk full error 53100", "ERROR:  53100: could not extend file" in err, err.strip()[:160])
        checks.true(f"{what}: nothing half-written", rows(counts)[0][0] == before, f"({before} -> {rows(counts)[0][0]})")
    checks.true("no output table left", rows("SELECT to_regclass('big_scores') IS NULL")[0][0] == "t")
    psql("SET ml.progress = off; SELECT ml.snapshot('big', name => 'fits')")
    checks.true("with space again, the snapshot works", rows("SELECT count(*) FROM ml.snapshots WHERE name = 'fits'")[0][0] == "1")
finally:
    psql("DROP DATABASE IF EXISTS pg_mlops_reference", db="postgres", check=False)
    psql("DROP TABLESPACE IF EXISTS ml_tiny", db="postgres", check=False)
    subprocess.run(["umount", mnt])
    os.rmdir(mnt)
checks.finish()
