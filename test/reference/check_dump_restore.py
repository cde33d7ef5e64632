"""pg_dump and restore keep the registry, snapshots, lineage and events, and
restored models predict identically and reproduce bit for bit."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from pgtest import DB, Checks, fresh_database, psql, rows  # noqa: E402

RESTORED = "pg_mlops_restored"
checks = Checks()
fresh_database()
psql("""
SET ml.progress = off;
CREATE TABLE homes AS SELECT i AS id, (40 + (i * 37) % 160)::float8 AS area, (1 + i % 5)::int AS rooms,
       50 + 2 * ((i * 37) % 160) + 10 * (i % 5) + 5 * sin(i) AS price FROM generate_series(1, 20000) i;
SELECT ml.snapshot('homes', name => 'homes_v1');
SELECT ml.train_model('homes', 'snapshot:homes_v1', 'price');
SELECT ml.train_model('homes', 'snapshot:homes_v1', 'price', 'ridge', '{"alpha": 2}');
SELECT ml.promote('homes', 1);
SELECT ml.train_model('homes_cv', 'snapshot:homes_v1', 'price', 'ridge', search => '{"params": {"alpha": [0.1, 10]}, "folds": 2}');
SELECT ml.score('homes', 'homes', 'home_scores', 'id');
SELECT count(*) FROM ml.check_drift('homes', 'SELECT id, area * 1.2 AS area, rooms, price FROM homes');
""")

TABLES = ["ml.snapshots", "ml.models", "ml.model_events", "ml.scoring_runs", "ml.drift_checks",
          "ml.prediction_baselines", "ml.model_owners", "ml.trials", "ml.lineage"]


def state(db):
    out = {}
    for t in TABLES:
        out[t] = rows(f"SELECT count(*) FROM {t}", db=db)[0][0]
    out["hashes"] = rows("SELECT name, version, model_hash, stage FROM ml.models ORDER BY id", db=db)
    out["snapshots"] = rows("SELECT name, content_hash, row_count FROM ml.snapshots ORDER BY id", db=db)
    out["predictions"] = rows("SELECT md5(string_agg(ml.predict('homes@1', h)::text, ',' ORDER BY id)) FROM homes h", db=db)
    return out


before = state(DB)
with tempfile.TemporaryDirectory() as tmp:
    dump = os.path.join(tmp, "db.dump")
    subprocess.run(["pg_dump", "-Fc", "-f", dump, DB], check=True)
    psql(f"DROP DATABASE IF EXISTS {RESTORED}", db="postgres")
    psql(f"CREATE DATABASE {RESTORED}", db="postgres")
    r = subprocess.run(["pg_restore", "--exit-on-error", "-d", RESTORED, dump], capture_output=True, text=True)
    checks.true("pg_restore succeeded", r.returncode == 0, r.stderr[-500:])
after = state(RESTORED)

for t in TABLES:
    checks.true(f"{t} rows kept", before[t] == after[t], f"({before[t]} -> {after[t]})")
checks.true("model versions, hashes and stages kept", before["hashes"] == after["hashes"])
checks.true("snapshot names, hashes and row counts kept", before["snapshots"] == after["snapshots"])
checks.true("restored model predicts identically on 20000 rows", before["predictions"] == after["predictions"])
checks.true("restored snapshot verifies",
            rows("SELECT intact, split_intact FROM ml.verify_snapshot('homes_v1')", db=RESTORED) == [["t", "t"]])
for ref in ("homes@1", "homes@2"):
    checks.true(f"{ref} reproduces bit for bit after restore",
                rows(f"SELECT identical FROM ml.reproduce('{ref}')", db=RESTORED) == [["t"]])
checks.true("snapshot relation is immutable after restore",
            "immutable" in psql(f"UPDATE {rows('SELECT relation FROM ml.snapshots', db=RESTORED)[0][0]} SET area = 0",
                                db=RESTORED, check=False)[1])
psql(f"DROP DATABASE {RESTORED}", db="postgres")
checks.finish()
