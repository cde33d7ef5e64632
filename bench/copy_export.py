"""Binary COPY out of PostgreSQL into a numpy array, for the bench scripts
that fit the same rows with Python libraries."""
import subprocess
import time

import numpy as np

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


def export(sql_from, ncol):
    """COPY ncol float8 expressions out (binary); returns (array, copy_s, load_s)."""
    t0 = time.perf_counter()
    raw = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                          "COPY (%s) TO STDOUT (FORMAT binary)" % sql_from],
                         check=True, stdout=subprocess.PIPE).stdout
    t1 = time.perf_counter()
    # header: signature, int32 flags, int32 extension length, extension
    if raw[:11] != SIGNATURE:
        raise SystemExit("not a binary COPY stream")
    ext = int.from_bytes(raw[15:19], "big")
    body = memoryview(raw)[19 + ext:len(raw) - 2]  # drop the int16 -1 trailer
    # each row: int16 field count, then per field int32 length + float8
    fields = [("n", ">i2")]
    for j in range(ncol):
        fields += [("l%d" % j, ">i4"), ("v%d" % j, ">f8")]
    recs = np.frombuffer(body, dtype=np.dtype(fields))
    if not (recs["n"] == ncol).all() or any((recs["l%d" % j] != 8).any() for j in range(ncol)):
        raise SystemExit("unexpected row layout (NULLs or a non-float8 column)")
    data = np.empty((len(recs), ncol), dtype=np.float64)
    for j in range(ncol):
        data[:, j] = recs["v%d" % j]
    del recs, raw
    return data, t1 - t0, time.perf_counter() - t1
