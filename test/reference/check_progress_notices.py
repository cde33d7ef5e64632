"""ml.progress: training reports each phase as a NOTICE with rows and elapsed time; off is silent."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from pgtest import Checks, fresh_database, psql  # noqa: E402

checks = Checks()
fresh_database()
psql("CREATE TABLE t AS SELECT i::float8 AS x, (2 * i + 1)::float8 AS y FROM generate_series(1, 1000) i")
_, err = psql("SET ml.progress = on; SELECT ml.train_model('p', 't', 'y')")
print(err)
for phase in [r"snapshot \S+: copying rows",
              r"fitting: 1000 rows \(\d+ train, \d+ test, 0 skipped\) in 1 chunks with \d+ parallel workers, 1 iterations, [0-9.]+ s",
              r"evaluating: [0-9.]+ s",
              r"registering: p@1 \(id \d+\) trained on snapshot \S+ in [0-9.]+ s"]:
    checks.true(f"NOTICE /{phase}/", re.search("NOTICE:  " + phase, err) is not None)
_, err = psql("SET ml.progress = off; SELECT ml.train_model('p', 't', 'y')")
checks.true("no NOTICE with ml.progress off", "NOTICE" not in err, repr(err))
checks.finish()
