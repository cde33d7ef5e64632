#!/usr/bin/python3
"""XGBoost side of bench/trees.sh: COPY a snapshot out of PostgreSQL, load
it into numpy, fit xgboost's hist method, score.

    /usr/bin/python3 bench/trees_xgb.py RELATION TABLE NTHREAD [N_TREES MAX_DEPTH]

RELATION is the snapshot relation (id, f1 .. f20, y, _ml_is_test), TABLE
the source table (id, f1 .. f20, y) that ml.predict is timed on.  Connects
with psql and the PG* environment.  Runs one warm-up export (page cache),
then one timed export + fit; prints key=value lines:

    copy_s load_s fit_s e2e_s   COPY of the training split, parse into
                                numpy, XGBRegressor.fit, and their sum
    train_rows test_rows        rows of each split
    test_rmse train_rmse        of the fitted model
    base_score                  the mean of y over the training split
    predict_rows predict_s      predict() on every row of TABLE, exported
    peak_rss_fit_mib            process peak RSS (VmHWM) right after fit
    rss_before_fit_mib          RSS with the training data loaded, before fit
    peak_rss_mib                process peak RSS at the end

Times are inside this process (interpreter start and imports excluded).

The export is COPY (FORMAT binary) to STDOUT, the fastest route out of the
server; NULLs are sent as float8 NaN (coalesce) so every row has a fixed
width and numpy reads the stream in place; XGBoost takes NaN as missing,
as pg_mlops takes NULL.  Same hyperparameters as pg_mlops's
gradient_boosting defaults: learning_rate 0.3, max_depth 6,
min_child_weight 1, reg_lambda 1, gamma 0, max_bin 255 (pg_mlops caps at
255 value bins; XGBoost's default is 256), base_score = mean of y
(pg_mlops's base score; Debian's xgboost 1.7 would use 0.5).
"""
import sys
import time

import numpy as np
import xgboost as xgb

import copy_export

NF = 20


export = copy_export.export


def status_mib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def columns():
    return ", ".join("coalesce(f%d, 'NaN'::float8)" % i for i in range(1, NF + 1)) + ", y"


def main():
    relation, table, nthread = sys.argv[1], sys.argv[2], int(sys.argv[3])
    n_trees = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    depth = int(sys.argv[5]) if len(sys.argv) > 5 else 6
    train_sql = "SELECT %s FROM %s WHERE NOT _ml_is_test ORDER BY id" % (columns(), relation)
    test_sql = "SELECT %s FROM %s WHERE _ml_is_test ORDER BY id" % (columns(), relation)
    export(train_sql, NF + 1)  # warm-up: page cache, first COPY
    d, copy_s, load_s = export(train_sql, NF + 1)
    X, y = np.ascontiguousarray(d[:, :NF]), d[:, NF].copy()
    del d
    rss_before = status_mib("VmRSS")
    base = float(np.mean(y))
    m = xgb.XGBRegressor(tree_method="hist", n_estimators=n_trees, max_depth=depth,
                         learning_rate=0.3, min_child_weight=1, reg_lambda=1, gamma=0,
                         max_bin=255, base_score=base, n_jobs=nthread, random_state=0)
    t0 = time.perf_counter()
    m.fit(X, y)
    fit_s = time.perf_counter() - t0
    peak_fit = status_mib("VmHWM")
    train_rmse = float(np.sqrt(np.mean((m.predict(X) - y) ** 2)))
    n_train = len(y)
    del X, y
    dt, _, _ = export(test_sql, NF + 1)
    test_rmse = float(np.sqrt(np.mean((m.predict(dt[:, :NF]) - dt[:, NF]) ** 2)))
    n_test = len(dt)
    del dt
    da, _, _ = export("SELECT %s FROM %s ORDER BY id" % (columns(), table), NF + 1)
    Xa = np.ascontiguousarray(da[:, :NF])
    del da
    m.predict(Xa[:1000])  # warm-up
    t0 = time.perf_counter()
    s = float(np.sum(m.predict(Xa)))
    predict_s = time.perf_counter() - t0
    out = dict(copy_s=copy_s, load_s=load_s, fit_s=fit_s, e2e_s=copy_s + load_s + fit_s,
               train_rows=n_train, test_rows=n_test, train_rmse=train_rmse, test_rmse=test_rmse,
               base_score=base, predict_rows=len(Xa), predict_s=predict_s, predict_sum=s,
               rss_before_fit_mib=rss_before, peak_rss_fit_mib=peak_fit,
               peak_rss_mib=status_mib("VmHWM"), xgboost=xgb.__version__)
    for k, v in out.items():
        print("%s=%s" % (k, v if isinstance(v, (int, str)) else "%.6g" % v))


if __name__ == "__main__":
    main()
