"""Small helpers for the reference checks: run SQL through psql, read CSV back."""
import csv
import io
import os
import time
import re
import subprocess

DB = "pg_mlops_reference"


def psql(sql, db=DB, check=True):
    """Run sql with psql; return (stdout, stderr)."""
    proc = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql],
                          capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"psql failed: {proc.stderr}\nSQL: {sql}")
    return proc.stdout, proc.stderr


def rows(sql, db=DB):
    """Rows of a query as lists of strings (CSV through psql)."""
    out, _ = psql(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", db)
    return list(csv.reader(io.StringIO(out)))


def fresh_database():
    psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
    psql(f"CREATE DATABASE {DB}", db="postgres")
    psql("CREATE EXTENSION pg_mlops; SET ml.progress = off")


def load(table, columns, data):
    """Create table(columns) and copy the rows of data (list of tuples) into it."""
    psql(f"CREATE TABLE {table} ({', '.join(c + ' float8' for c in columns)})")
    buf = io.StringIO()
    csv.writer(buf).writerows(data)
    proc = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", DB, "-c",
                           f"\\copy {table} FROM STDIN CSV"], input=buf.getvalue(), text=True,
                          capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)


class Checks:
    """Collects named assertions; exits non-zero at the end if any failed."""

    def __init__(self):
        self.failed = 0
        self.total = 0

    def close(self, name, got, want, rel=1e-9, abs_=0.0):
        self.total += 1
        ok = abs(got - want) <= max(abs_, rel * abs(want))
        if not ok:
            self.failed += 1
        print(f"{'ok  ' if ok else 'FAIL'} {name}: pg_mlops {got:.12g} reference {want:.12g}")

    def true(self, name, cond, detail=""):
        self.total += 1
        if not cond:
            self.failed += 1
        print(f"{'ok  ' if cond else 'FAIL'} {name} {detail}")

    def finish(self):
        print(f"{self.total - self.failed} of {self.total} checks passed")
        raise SystemExit(1 if self.failed else 0)


def load_typed(table, columns, data, db=DB):
    """Create table(columns), each "name type", and copy the rows of data into it; None is NULL."""
    psql(f"CREATE TABLE {table} ({', '.join(columns)})", db)
    buf = io.StringIO()
    csv.writer(buf).writerows(data)
    proc = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-c",
                           f"\\copy {table} FROM STDIN CSV"], input=buf.getvalue(), text=True,
                          capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)


def retrying(call, text):
    """Run call(text), retrying while a concurrent `make install` leaves the library briefly missing."""
    for attempt in range(5):
        try:
            return call(text)
        except RuntimeError as e:
            if attempt == 4 or not re.search(r"could not (load|access|find)|function ml\.\S+ does not exist", str(e)):
                raise
            time.sleep(2)


def db_helpers(db):
    """sql(text) -> stdout and query(text) -> rows in database db, both retrying."""
    return (lambda text: retrying(lambda t: psql(t, db=db)[0], text),
            lambda text: retrying(lambda t: rows(t, db=db), text))


def floats(text):
    """A float8[] as psql prints it."""
    return [float(v) for v in text.strip("{}").split(",")]
