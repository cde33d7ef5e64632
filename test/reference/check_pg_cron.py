"""pg_cron schedules scoring, drift checks and champion/challenger retraining.

Needs the test cluster started with shared_preload_libraries = 'pg_cron' and
cron.use_background_workers = on (test/run.sh does it).  Jobs run every
minute, so this waits for up to two minutes.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from pgtest import Checks, psql, rows  # noqa: E402

DB = "pg_mlops_cron_test"
checks = Checks()

if rows("SELECT current_setting('shared_preload_libraries')", db="postgres")[0][0].find("pg_cron") < 0:
    print("FAIL the test cluster does not preload pg_cron")
    raise SystemExit(1)

psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
psql(f"CREATE DATABASE {DB}", db="postgres")
psql("CREATE EXTENSION IF NOT EXISTS pg_cron", db="postgres")
psql("""
CREATE EXTENSION pg_mlops;
CREATE TABLE homes AS
SELECT i AS id, (40 + (i * 37) % 160)::float8 AS area, (1 + i % 5)::int AS rooms,
       50 + 2 * ((i * 37) % 160) + 10 * (i % 5) + 5 * sin(i) AS price
FROM generate_series(1, 4000) i;
CREATE TABLE homes_2027 AS SELECT id, area * 1.4 AS area, rooms, price FROM homes;
SET ml.progress = off;
SELECT ml.train_model('homes', 'homes', 'price', features => '{area}');
SELECT ml.promote('homes', 1);
""", db=DB)

jobs = {
    "ml-score": "SELECT ml.score('homes', 'homes', 'homes_scores', 'id', 'replace')",
    "ml-drift": "SELECT count(*) FROM ml.check_drift('homes', 'homes_2027')",
    "ml-retrain": "SELECT ml.promote_if_better('homes', t.version) FROM ml.train_model('homes', 'homes', 'price', features => '{area,rooms}') t",
}
scheduled_at = rows("SELECT clock_timestamp()", db=DB)[0][0]
ids = {}
for name, command in jobs.items():
    ids[name] = int(rows(f"SELECT cron.schedule_in_database('{name}', '* * * * *', $cmd${command}$cmd$, '{DB}')",
                         db="postgres")[0][0])

# Unschedule each job as soon as its first run appears, so that every job runs
# exactly once even when a slow run would overlap the next minute.
deadline = time.time() + 150
pending = dict(ids)
while time.time() < deadline and pending:
    time.sleep(1)
    for name, jobid in list(pending.items()):
        if rows(f"SELECT count(*) FROM cron.job_run_details WHERE jobid = {jobid}", db="postgres")[0][0] != "0":
            psql(f"SELECT cron.unschedule({jobid})", db="postgres")
            del pending[name]
for jobid in pending.values():
    psql(f"SELECT cron.unschedule({jobid})", db="postgres")

done = {}
while time.time() < deadline + 120 and len(done) < len(ids) - len(pending):
    time.sleep(2)
    for name, jobid in ids.items():
        r = rows(f"SELECT status, return_message, start_time, end_time FROM cron.job_run_details "
                 f"WHERE jobid = {jobid} AND status IN ('succeeded', 'failed')", db="postgres")
        if r:
            done[name] = r[0]

for name, jobid in ids.items():
    run = done.get(name)
    checks.true(f"job {name} ran once and succeeded",
                run is not None and run[0] == "succeeded"
                and rows(f"SELECT count(*) FROM cron.job_run_details WHERE jobid = {jobid}", db="postgres") == [["1"]],
                f"({run[0] + ': ' + run[1] if run else 'no run within the time limit'})")

if "ml-score" in done:
    checks.true("scores written", rows("SELECT count(*) FROM homes_scores", db=DB)[0][0] == "4000")
    # pg_cron stamps start_time and end_time from its launcher, which on a
    # loaded machine lags the job itself; bound the run by when the job was
    # scheduled and when pg_cron saw it end.
    r = rows(f"""SELECT count(*) FILTER (WHERE started_at >= '{scheduled_at}'
                                          AND finished_at <= '{done['ml-score'][3]}'::timestamptz + interval '1 second'),
                        string_agg(started_at || ' .. ' || finished_at, '; ')
                 FROM ml.scoring_runs
                 WHERE output = 'public.homes_scores' AND rows = 4000 AND scored_by = 'postgres'""", db=DB)
    checks.true("one scoring run recorded, by the cron job", r[0][0] == "1",
                f"({r[0][0]} runs: {r[0][1]}; scheduled {scheduled_at}, cron run {done['ml-score'][2]} .. {done['ml-score'][3]})")
if "ml-drift" in done:
    r = rows("SELECT status FROM ml.drift_checks WHERE feature = 'area' AND metric = 'psi'", db=DB)
    checks.true("drift check recorded an alert on the shifted feature", r == [["alert"]], f"({r})")
    r = rows("SELECT verdict, worst_feature FROM ml.drift_summary", db=DB)
    checks.true("drift summary gives the verdict and the worst feature", r == [["alert", "area"]], f"({r})")
if "ml-retrain" in done:
    r = rows("SELECT details->>'promoted', details->>'production' FROM ml.model_events WHERE action = 'promote_if_better'", db=DB)
    checks.true("retrained challenger beat the champion and was promoted", r == [["true", "homes@1"]], f"({r})")
    checks.true("production is the challenger",
                rows("SELECT version FROM ml.models WHERE name = 'homes' AND stage = 'production'", db=DB) == [["2"]])

psql(f"DROP DATABASE {DB}", db="postgres")
checks.finish()
