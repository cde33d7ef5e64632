#!/usr/bin/python3
"""Run the SQL examples of the documentation and compare their output with the pages.

    /usr/bin/python3 test/docs/run_docs.py [--accept] [--keep] [PAGE ...]

Pages: README.md, docs/*.md and docs/algorithms/*.md (or the ones named).  Each page runs in a
fresh database docs_<page> (README.md: docs_readme, docs/algorithms/pca.md: docs_algorithms_pca),
through one psql session (psql -X -q, from the repository's root, with the server that PGHOST,
PGPORT and PGUSER name), so every ```sql block runs in order, in the state the blocks above it
left.  Nothing is set up behind the page's back: the page's own blocks create the extension and
the data.

Fences:
  ```sql      run; with no ```output block right after it, it must not raise an ERROR
  ```output   what psql prints for the ```sql block right above it (NOTICEs and errors too):
              compared with the actual output
  ```text, ```sh, ```yaml, ...   shown, never run (signatures, pseudo-code, shell commands)
  a fence without a language is an error: say what the block is.

Comparison, line by line, blank lines left out:
  - psql's "psql:FILE:LINE: " prefix of messages is dropped;
  - runs of spaces count as one space and runs of '-' as one '-' (column widths follow values);
  - masks (the same on both sides), for what legitimately changes from run to run:
      timestamps (2026-11-30 02:00:00.123+00)   -> <timestamp>
      durations in NOTICE/INFO/WARNING lines (0.004 s, 12 ms) -> <t> s
      pids in "process 1234"                   -> process <pid>
    content hashes, model hashes, ids and versions are not masked: in a fresh database they are
    the same on every run, and a reader relies on them;
  - a number on the page with d decimals matches any actual number that rounds to it at d
    decimals (0.9766 matches 0.9766355140186916); integers and numbers with an exponent must
    match exactly;
  - a line "..." on the page stands for any number of lines, and "…" in a line for any text
    (long outputs cut short).

Directives, as HTML comments (invisible on the rendered page):
  <!-- docs-test: database postgres -->  run the page in that database instead of its own (the
      pg_cron database: pg_cron runs jobs in one database only).  What the page creates there
      (extensions, schemas, tables, cron jobs) is removed afterwards.
  <!-- docs-test: skip REASON -->  the next ```sql block is not run, and the page FAILS with
      REASON (a known bug the example shows: kept on the page, never silently skipped).

Roles a page creates are dropped after it.  --accept rewrites each ```output block that does not
match with what psql printed (review with git diff).  --keep keeps the databases.  Prints
"ok PAGE" or "FAILED PAGE" with the differences, then "N passed, N failed"; exits 1 on a failure.
"""
import difflib
import glob
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FENCE = re.compile(r"^(```+)\s*([\w+-]*)\s*(.*)$")
DIRECTIVE = re.compile(r"<!--\s*docs-test:\s*(\w[\w-]*)\s*(.*?)\s*-->")
PSQL_PREFIX = re.compile(r"^psql:[^\n]*?:\d+: ", re.M)
MARK = "@@docs-block {}@@"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d(:?\d\d)?|Z)?")
DURATION = re.compile(r"\b\d+(\.\d+)?(e-?\d+)? ?(s|ms)\b")
NUMBER = re.compile(r"(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)")


def default_pages():
    pages = ["README.md"] + sorted(glob.glob("docs/*.md")) + sorted(glob.glob("docs/algorithms/*.md"))
    return pages


def dbname(page):
    slug = re.sub(r"\.md$", "", page)
    slug = re.sub(r"^docs/", "", slug)
    return "docs_" + re.sub(r"\W+", "_", slug).lower()


def psql(sql, db, check=True):
    proc = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql],
                          capture_output=True, text=True, cwd=ROOT)
    if check and proc.returncode != 0:
        raise RuntimeError(f"psql -d {db}: {proc.stderr.strip()}\nSQL: {sql}")
    return [l for l in proc.stdout.splitlines() if l]


class Block:
    def __init__(self, lang, start, end, body):
        self.lang, self.start, self.end, self.body = lang, start, end, body  # lines [start, end)
        self.output = None          # the ```output Block after a ```sql block
        self.skip = None            # reason, from a skip directive


def parse(lines):
    """Blocks of a page, page-level directives and lint errors."""
    blocks, directives, errors = [], [], []
    pending_skip = None
    i = 0
    while i < len(lines):
        line = lines[i]
        for d in DIRECTIVE.finditer(line):
            if d.group(1) == "skip":
                pending_skip = d.group(2) or "(no reason given)"
            else:
                directives.append((d.group(1), d.group(2)))
        m = FENCE.match(line)
        if not m:
            i += 1
            continue
        ticks, lang = m.group(1), m.group(2)
        j = i + 1
        while j < len(lines) and not lines[j].startswith(ticks):
            j += 1
        if j >= len(lines):
            errors.append(f"line {i + 1}: code block never closed")
            break
        b = Block(lang, i, j + 1, lines[i + 1:j])
        if not lang:
            errors.append(f"line {i + 1}: code block without a language (use ```sql, ```output or ```text)")
        if lang == "sql":
            b.skip, pending_skip = pending_skip, None
        if lang == "output":
            prev = blocks[-1] if blocks else None
            between = lines[prev.end:i] if prev else []
            if prev is None or prev.lang != "sql" or any(l.strip() and not DIRECTIVE.search(l) for l in between):
                errors.append(f"line {i + 1}: ```output block that does not follow a ```sql block")
            else:
                prev.output = b
        blocks.append(b)
        i = j + 1
    return blocks, directives, errors


def mask(line):
    line = TIMESTAMP.sub("<timestamp>", line)
    if re.match(r"\s*(NOTICE|INFO|WARNING|DETAIL):", line):
        line = DURATION.sub("<t> s", line)
    line = re.sub(r"\bprocess \d+", "process <pid>", line)
    line = re.sub(r"\s+", " ", line).strip()
    line = re.sub(r"-+", "-", line)
    return line


def normalise(text):
    return [mask(l) for l in text.splitlines() if l.strip()]


def number_matches(expected, actual):
    if expected == actual:
        return True
    if re.search(r"[eE]", expected) or "." not in expected:
        return False
    decimals = len(expected.split(".")[1])
    try:
        return abs(float(actual) - float(expected)) <= 0.5 * 10 ** -decimals * (1 + 1e-9) + 1e-15
    except ValueError:
        return False


def line_matches(expected, actual):
    if expected == actual:
        return True
    if "…" in expected:
        return re.fullmatch(".*".join(re.escape(part) for part in expected.split("…")), actual) is not None
    e, a = NUMBER.split(expected), NUMBER.split(actual)
    if len(e) != len(a):
        return False
    for k, (x, y) in enumerate(zip(e, a)):
        if k % 2 == 0:
            if x != y:
                return False
        elif not number_matches(x, y):
            return False
    return True


def lines_match(expected, actual):
    """expected (with "..." lines) against actual, both normalised."""
    memo = {}

    def go(i, j):
        if (i, j) in memo:
            return memo[(i, j)]
        if i == len(expected):
            r = j == len(actual)
        elif expected[i] in ("...", "…"):
            r = any(go(i + 1, k) for k in range(j, len(actual) + 1))
        else:
            r = j < len(actual) and line_matches(expected[i], actual[j]) and go(i + 1, j + 1)
        memo[(i, j)] = r
        return r

    return go(0, 0)


def run_page(page, accept=False, keep=False):
    """Returns (ok, report lines)."""
    path = os.path.join(ROOT, page)
    lines = open(path).read().split("\n")
    blocks, directives, errors = parse(lines)
    report = list(errors)
    sql_blocks = [b for b in blocks if b.lang == "sql"]
    db = (dict(directives).get("database") or dbname(page)).split()[0]
    own_db = db == dbname(page)
    roles_before = set(psql("SELECT rolname FROM pg_roles", "postgres"))
    if own_db:
        psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)", "postgres")
        psql(f"CREATE DATABASE {db}", "postgres")
    else:
        before = shared_state(db)

    script = []
    for n, b in enumerate(sql_blocks):
        script.append("\\echo " + MARK.format(n))
        if b.skip:
            report.append(f"line {b.start + 1}: block not run: {b.skip}")
            continue
        script.extend(b.body)
    script.append("\\echo " + MARK.format("end"))
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write("\n".join(script) + "\n")
        script_path = f.name
    try:
        proc = subprocess.run(f"psql -X -q -d {db} -f {script_path} 2>&1", shell=True, capture_output=True,
                              text=True, cwd=ROOT, timeout=900)
        out = proc.stdout
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        report.append("psql timed out after 900 s")
    finally:
        os.unlink(script_path)
    out = PSQL_PREFIX.sub("", out)

    # Split the output at the markers.
    pieces = {}
    current, buf = None, []
    for l in out.split("\n"):
        m = re.fullmatch(r"@@docs-block (\w+)@@", l)
        if m:
            if current is not None:
                pieces[current] = "\n".join(buf)
            current, buf = m.group(1), []
        elif current is not None:
            buf.append(l)
    if current is not None:
        pieces[current] = "\n".join(buf)
    if "end" not in pieces:
        report.append("psql stopped before the end of the page:\n" + out[-3000:])

    replacements = []
    compared = 0
    for n, b in enumerate(sql_blocks):
        if b.skip:
            continue
        actual = pieces.get(str(n), "").strip("\n")
        if b.output is None:
            if re.search(r"^(ERROR|FATAL|PANIC):|^error:", actual, re.M):
                report.append(f"line {b.start + 1}: the block failed and the page shows no output for it:\n"
                              + indent(actual))
            continue
        compared += 1
        expected = "\n".join(b.output.body)
        if not lines_match(normalise(expected), normalise(actual)):
            diff = difflib.unified_diff([l.rstrip() for l in expected.splitlines()], [l.rstrip() for l in actual.splitlines()],
                                        "page", "psql", lineterm="", n=2)
            report.append(f"line {b.output.start + 1}: output differs:\n" + indent("\n".join(diff)))
            replacements.append((b.output, actual))
            if accept and re.search(r"^(ERROR|FATAL|PANIC):", actual, re.M) and "ERROR" not in expected:
                report.append(f"line {b.output.start + 1}: --accept wrote an output with an ERROR: check it")

    if accept and replacements:
        for blk, actual in sorted(replacements, key=lambda r: -r[0].start):
            lines[blk.start + 1:blk.end - 1] = [l.rstrip() for l in actual.split("\n")]
        open(path, "w").write("\n".join(lines))

    # Clean up.
    for role in sorted(set(psql("SELECT rolname FROM pg_roles", "postgres")) - roles_before):
        for d in {db, "postgres"}:
            psql(f'DROP OWNED BY "{role}"', d, check=False)
        psql(f'DROP ROLE IF EXISTS "{role}"', "postgres", check=False)
    ok = not report
    if own_db:
        if ok and not keep:
            psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)", "postgres")
    else:
        restore_shared_state(db, before)
    return ok, report, len(sql_blocks), compared


def shared_state(db):
    return {
        "extensions": set(psql("SELECT extname FROM pg_extension", db)),
        "schemas": set(psql("SELECT nspname FROM pg_namespace", db)),
        "relations": set(psql("SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n "
                              "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r','v','m','p','f')",
                              db)),
        "cron_jobs": set(psql("SELECT jobid FROM cron.job", db, check=False)),
    }


def restore_shared_state(db, before):
    after = shared_state(db)
    for job in sorted(after["cron_jobs"] - before["cron_jobs"]):
        psql(f"SELECT cron.unschedule({job})", db, check=False)
    for ext in sorted(after["extensions"] - before["extensions"]):
        psql(f'DROP EXTENSION IF EXISTS "{ext}" CASCADE', db, check=False)
    for nsp in sorted(after["schemas"] - before["schemas"]):
        psql(f'DROP SCHEMA IF EXISTS "{nsp}" CASCADE', db, check=False)
    for rel in sorted(shared_state(db)["relations"] - before["relations"]):
        psql(f"DROP TABLE IF EXISTS {rel} CASCADE", db, check=False)
        psql(f"DROP VIEW IF EXISTS {rel} CASCADE", db, check=False)


def indent(text):
    return "\n".join("    " + l for l in text.split("\n"))


def main(argv):
    accept = "--accept" in argv
    keep = "--keep" in argv
    pages = [a for a in argv if not a.startswith("--")] or default_pages()
    os.chdir(ROOT)
    passed = failed = 0
    for page in pages:
        try:
            ok, report, nblocks, compared = run_page(page, accept, keep)
        except Exception as e:  # noqa: BLE001 - a page that cannot run is a failed page
            ok, report, nblocks, compared = False, [f"runner error: {e}"], 0, 0
        if ok:
            passed += 1
            print(f"ok     {page} ({nblocks} sql blocks, {compared} outputs compared)", flush=True)
        else:
            failed += 1
            print(f"FAILED {page}", flush=True)
            for r in report:
                print(indent(r), flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
