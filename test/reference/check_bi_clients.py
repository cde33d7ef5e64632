"""The views BI tools query, read as BI tools read them: through Debian's
psqlODBC driver (unixODBC's isql) and the PostgreSQL JDBC driver.  Their
columns use only types ODBC and JDBC clients map cleanly."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from pgtest import DB, Checks, fresh_database, psql, rows  # noqa: E402

VIEWS = ["registry", "lineage", "drift", "drift_summary", "performance"]
ALLOWED = {"text", "bigint", "integer", "double precision", "numeric", "boolean", "timestamp with time zone"}
checks = Checks()
fresh_database()
psql("""
SET ml.progress = off;
CREATE TABLE homes AS SELECT i AS id, (40 + (i * 37) % 160)::float8 AS area, (1 + i % 5)::int AS rooms,
       50 + 2 * ((i * 37) % 160) + 10 * (i % 5) + 5 * sin(i) AS price FROM generate_series(1, 3000) i;
SELECT ml.train_model('homes', 'homes', 'price');
SELECT ml.promote('homes', 1);
SELECT ml.score('homes', 'homes', 'home_scores', 'id');
SELECT count(*) FROM ml.check_drift('homes', 'SELECT id, area * 1.2 AS area, rooms, price FROM homes');
""")

types = rows("""SELECT table_name, column_name, data_type FROM information_schema.columns
                WHERE table_schema = 'ml' AND table_name IN ('registry', 'lineage', 'drift', 'drift_summary', 'performance')""")
bad = [t for t in types if t[2] not in ALLOWED]
checks.true("every view column has a BI-friendly type", not bad and len(types) > 40, f"({len(types)} columns; bad: {bad})")
expected = {v: int(rows(f"SELECT count(*) FROM ml.{v}")[0][0]) for v in VIEWS}
checks.true("every view has rows to read", all(n > 0 for n in expected.values()), f"({expected})")

host, port, user = os.environ["PGHOST"], os.environ["PGPORT"], os.environ["PGUSER"]
with tempfile.TemporaryDirectory() as tmp:
    # ODBC: a DSN for psqlODBC over the server's socket, read with isql.
    ini = os.path.join(tmp, "odbc.ini")
    with open(ini, "w") as f:
        f.write(f"[pgmlops]\nDriver=PostgreSQL Unicode\nServername={host}\nPort={port}\n"
                f"Database={DB}\nUsername={user}\nMaxLongVarcharSize=65536\n")
    env = dict(os.environ, ODBCINI=ini, ODBCSYSINI="/etc")
    for v in VIEWS:
        r = subprocess.run(["isql", "-b", "-d\t", "-x0x09", "pgmlops"], input=f"SELECT * FROM ml.{v}\n",
                           capture_output=True, text=True, env=env)
        lines = [l for l in r.stdout.splitlines() if l.strip()]
        ok = r.returncode == 0 and "ERROR" not in r.stdout + r.stderr and len(lines) == expected[v]
        checks.true(f"ODBC reads ml.{v}", ok, f"({len(lines)} rows, expected {expected[v]}; {r.stderr.strip()[:200]})")

    # JDBC: column types as java.sql.Types and every value read as an object.
    src = os.path.join(tmp, "ReadViews.java")
    with open(src, "w") as f:
        f.write("""
import java.sql.*;
public class ReadViews {
    public static void main(String[] a) throws Exception {
        Connection c = DriverManager.getConnection(a[0], a[1], "");
        for (int i = 2; i < a.length; i++) {
            ResultSet rs = c.createStatement().executeQuery("SELECT * FROM ml." + a[i]);
            ResultSetMetaData md = rs.getMetaData();
            StringBuilder bad = new StringBuilder();
            for (int k = 1; k <= md.getColumnCount(); k++) {
                int t = md.getColumnType(k);
                if (t == Types.ARRAY || t == Types.OTHER || t == Types.BINARY || t == Types.VARBINARY
                    || t == Types.LONGVARBINARY || t == Types.STRUCT || t == Types.JAVA_OBJECT || t == Types.BLOB
                    || t == Types.SQLXML)
                    bad.append(md.getColumnName(k)).append(':').append(md.getColumnTypeName(k)).append(' ');
            }
            int n = 0;
            while (rs.next()) { for (int k = 1; k <= md.getColumnCount(); k++) rs.getObject(k); n++; }
            System.out.println(a[i] + "\\t" + n + "\\t" + md.getColumnCount() + "\\t" + bad.toString().trim());
        }
    }
}
""")
    url = f"jdbc:postgresql://127.0.0.1:{port}/{DB}"
    r = subprocess.run(["java", "-cp", "/usr/share/java/postgresql.jar", src, url, user] + VIEWS,
                       capture_output=True, text=True)
    checks.true("JDBC program ran", r.returncode == 0, r.stderr.strip()[-400:])
    seen = {l.split("\t")[0]: l.split("\t") for l in r.stdout.splitlines() if "\t" in l}
    for v in VIEWS:
        got = seen.get(v)
        ok = got is not None and int(got[1]) == expected[v] and (len(got) < 4 or got[3] == "")
        checks.true(f"JDBC reads ml.{v} with plain types", ok, f"({got})")
checks.finish()
