"""ml.export_model: the C export, compiled with gcc, scores bit for bit like ml.predict
(linear_regression, ridge, lasso; a row of NULLs through the exported impute values);
the PMML export parses and has the model's structure and exact values; models
outside the linear family, or with a text column, are refused with 0A000."""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))
from pgtest import Checks, fresh_database, psql, rows  # noqa: E402

N_ROWS = 10000
FEATURES = ["f1", "f2", "f3", "f4", "f5"]


def bits(hex16):
    """float8send's 16 hex digits (big-endian IEEE-754) -> float."""
    return struct.unpack(">d", bytes.fromhex(hex16))[0]


checks = Checks()
fresh_database()
# Negative values, values near zero (down to subnormal-free 1e-300), mixed scales.
psql(f"""CREATE TABLE exp_data AS
SELECT i AS id,
       (i % 201 - 100)::float8 / 7 AS f1,
       sin(i) * 1e-8 AS f2,
       CASE WHEN i % 3 = 0 THEN -1e-300 * i ELSE cos(i * 0.37) * 1e3 END AS f3,
       ((i * 7919) % 1000 - 500)::float8 * 1e-4 AS f4,
       -abs(sin(i * 1.3)) AS f5,
       0.5 + 2.0 * ((i % 201 - 100)::float8 / 7) - 3e6 * sin(i) * 1e-8 + 1e-3 * cos(i * 0.37) * 1e3
           - 7 * ((i * 7919) % 1000 - 500)::float8 * 1e-4 + 0.25 * abs(sin(i * 1.3)) + 0.01 * cos(i * 11) AS y
FROM generate_series(1, {N_ROWS}) i""")
psql("SET ml.progress = off; SELECT ml.train_model('edge.scorer-1', 'exp_data', 'y', features => '{f1,f2,f3,f4,f5}')")
psql("SET ml.progress = off; SELECT ml.train_model('edge.scorer-1', 'exp_data', 'y', 'ridge', '{\"alpha\": 0.5}', '{f1,f2,f3,f4,f5}')")
psql("SET ml.progress = off; SELECT ml.train_model('edge.scorer-1', 'exp_data', 'y', 'lasso', '{\"alpha\": 0.01}', '{f1,f2,f3,f4,f5}')")

gcc = shutil.which("gcc")
checks.true("gcc is available", gcc is not None)
tmp = tempfile.mkdtemp(prefix="pg_mlops_export_")
try:
    for version in (1, 2, 3):
        ref = f"edge.scorer-1@{version}"
        src = rows(f"SELECT ml.export_model('{ref}', 'c')")[0][0]
        checks.true(f"{ref}: C export defines edge_scorer_1_predict",
                    "double edge_scorer_1_predict(const double *x)" in src)
        checks.true(f"{ref}: no #include", "#include" not in src)
        c_path = os.path.join(tmp, f"model{version}.c")
        with open(c_path, "w") as f:
            f.write(src)
        # The driver reads rows of hex-float text (%a) and prints predictions with %a.
        main_path = os.path.join(tmp, f"main{version}.c")
        with open(main_path, "w") as f:
            f.write("""#include <stdio.h>
#include <stdlib.h>
double edge_scorer_1_predict(const double *x);
extern const char *const edge_scorer_1_features[];
extern const double edge_scorer_1_impute[];
int main(void)
{
    char buf[4096];
    double x[EDGE_SCORER_1_N_FEATURES];
    while (fgets(buf, sizeof buf, stdin)) {
        char *p = buf, *end;
        int j;
        if (buf[0] == 'N') {    /* a row of NULLs: the imputed values */
            for (j = 0; j < EDGE_SCORER_1_N_FEATURES; j++)
                x[j] = edge_scorer_1_impute[j];
            printf("%a\\n", edge_scorer_1_predict(x));
            continue;
        }
        for (j = 0; j < EDGE_SCORER_1_N_FEATURES; j++) {
            x[j] = strtod(p, &end);
            if (end == p) return 2;
            p = end;
        }
        printf("%a\\n", edge_scorer_1_predict(x));
    }
    return 0;
}
""")
        n_features = re.search(r"#define EDGE_SCORER_1_N_FEATURES (\d+)", src)
        checks.true(f"{ref}: N_FEATURES is 5", n_features is not None and n_features.group(1) == "5")
        exe = os.path.join(tmp, f"score{version}")
        cc = subprocess.run([gcc or "gcc", "-std=c99", "-O2", "-ffp-contract=off", "-Wall", "-Wextra", "-pedantic",
                             "-Werror", f"-DEDGE_SCORER_1_N_FEATURES={n_features.group(1) if n_features else 5}",
                             "-o", exe, main_path, c_path],
                            capture_output=True, text=True)
        # The model file must compile on its own too (warnings are errors).
        cc_alone = subprocess.run([gcc or "gcc", "-std=c99", "-O2", "-ffp-contract=off", "-Wall", "-Wextra",
                                   "-pedantic", "-Wmissing-prototypes", "-Werror", "-c", "-o",
                                   os.path.join(tmp, f"model{version}.o"), c_path], capture_output=True, text=True)
        checks.true(f"{ref}: model file compiles alone with -Wall -Wextra -pedantic -Werror",
                    cc_alone.returncode == 0, cc_alone.stderr)
        checks.true(f"{ref}: compiles with gcc -std=c99 -O2 -ffp-contract=off", cc.returncode == 0, cc.stderr)
        if cc.returncode != 0:
            continue
        # Inputs and ml.predict, both as exact bits.
        data = rows(f"""SELECT id, {', '.join(f"encode(float8send({c}), 'hex')" for c in FEATURES)},
                               encode(float8send(ml.predict('{ref}', t)), 'hex')
                        FROM exp_data t ORDER BY id""")
        checks.true(f"{ref}: {N_ROWS} rows read", len(data) == N_ROWS, str(len(data)))
        inputs = "".join(" ".join(float.hex(bits(h)) for h in r[1:6]) + "\n" for r in data)
        run = subprocess.run([exe], input=inputs, capture_output=True, text=True)
        checks.true(f"{ref}: scorer ran", run.returncode == 0, run.stderr)
        got = [float.fromhex(s) for s in run.stdout.split()]
        want = [bits(r[6]) for r in data]
        same = sum(1 for g, w in zip(got, want) if struct.pack(">d", g) == struct.pack(">d", w))
        first_diff = next((i for i, (g, w) in enumerate(zip(got, want))
                           if struct.pack(">d", g) != struct.pack(">d", w)), None)
        checks.true(f"{ref}: C predictions bit-identical to ml.predict on all {N_ROWS} rows",
                    len(got) == N_ROWS and same == N_ROWS,
                    f"{same} of {len(got)} identical" + ("" if first_diff is None else
                                                         f"; row {data[first_diff][0]}: C {got[first_diff].hex()}"
                                                         f" ml.predict {want[first_diff].hex()}"))
        # A row of NULLs: ml.predict imputes, the C caller passes <name>_impute.
        null_pred = rows(f"""SELECT encode(float8send(ml.predict('{ref}', t)), 'hex')
                             FROM (SELECT {', '.join(f'NULL::float8 AS {c}' for c in FEATURES)}) t""")[0][0]
        run_null = subprocess.run([exe], input="N\n", capture_output=True, text=True)
        checks.true(f"{ref}: a row of NULLs scores bit-identically through {ref.split('@')[0]}_impute",
                    run_null.returncode == 0 and run_null.stdout.split()
                    and struct.pack(">d", float.fromhex(run_null.stdout.split()[0])) == struct.pack(">d", bits(null_pred)),
                    f"C {run_null.stdout.strip()} ml.predict {bits(null_pred).hex()}")
        # The inputs include values near zero and negative ones.
        checks.true(f"{ref}: inputs cover negatives and tiny magnitudes",
                    any(bits(r[3]) < 0 and abs(bits(r[3])) < 1e-290 for r in data)
                    and any(abs(bits(r[2])) < 1e-12 for r in data))

        # PMML: structure and exact values.
        pmml = rows(f"SELECT ml.export_model('{ref}', 'pmml')")[0][0]
        try:
            root = ET.fromstring(pmml.encode("utf-8"))
            parsed = True
        except ET.ParseError as e:
            root, parsed = None, False
            print(e)
        checks.true(f"{ref}: PMML parses", parsed)
        if not parsed:
            continue
        ns = {"p": "http://www.dmg.org/PMML-4_4"}
        checks.true(f"{ref}: PMML root and version",
                    root.tag == "{http://www.dmg.org/PMML-4_4}PMML" and root.get("version") == "4.4")
        checks.true(f"{ref}: Header, DataDictionary, RegressionModel in order",
                    [c.tag.split("}")[1] for c in root] == ["Header", "DataDictionary", "RegressionModel"])
        fields = root.findall("p:DataDictionary/p:DataField", ns)
        checks.true(f"{ref}: DataDictionary: 5 features and the target, continuous doubles",
                    [f.get("name") for f in fields] == FEATURES + ["y"]
                    and all(f.get("optype") == "continuous" and f.get("dataType") == "double" for f in fields)
                    and root.find("p:DataDictionary", ns).get("numberOfFields") == "6")
        model = root.find("p:RegressionModel", ns)
        checks.true(f"{ref}: RegressionModel functionName=regression", model.get("functionName") == "regression")
        mining = model.findall("p:MiningSchema/p:MiningField", ns)
        checks.true(f"{ref}: MiningSchema: active features and the target",
                    [(m.get("name"), m.get("usageType")) for m in mining]
                    == [(f, "active") for f in FEATURES] + [("y", "target")])
        impute = rows(f"""SELECT i->>'impute' FROM ml.models m, ml._model_document(m.model) d,
                                 jsonb_array_elements(d->'inputs') WITH ORDINALITY x(i, o)
                          WHERE m.id = ml._resolve_model('{ref}') ORDER BY o""")
        checks.true(f"{ref}: MiningFields carry the imputed values exactly (missingValueReplacement)",
                    len(impute) == len(FEATURES)
                    and all(float(m.get("missingValueReplacement")) == float(i[0]) for m, i in zip(mining, impute)),
                    str([m.get("missingValueReplacement") for m in mining]))
        table = model.find("p:RegressionTable", ns)
        preds = table.findall("p:NumericPredictor", ns)
        explain = rows(f"SELECT feature, encode(float8send(coefficient), 'hex') FROM ml.explain('{ref}')")
        exact = float(table.get("intercept")) == bits(explain[0][1]) and len(preds) == len(FEATURES) and all(
            p.get("name") == e[0] and float(p.get("coefficient")) == bits(e[1]) and p.get("exponent") == "1"
            for p, e in zip(preds, explain[1:]))
        checks.true(f"{ref}: RegressionTable intercept and NumericPredictors equal ml.explain exactly", exact)
    # The JSON document re-imports to the same bytes (lasso included).
    psql("SET ml.progress = off; SELECT ml.import_model('edge_copy', ml.export_model('edge.scorer-1@3')::jsonb)")
    same = rows("""SELECT a.model = b.model FROM ml.models a, ml.models b
                   WHERE a.name = 'edge.scorer-1' AND a.version = 3 AND b.name = 'edge_copy' AND b.version = 1""")
    checks.true("lasso JSON export re-imports byte-identically", same == [["t"]], str(same))

    # Outside the linear family, or with a text column: a clear 0A000.
    psql("""CREATE TABLE exp_text AS SELECT i AS id, (i % 7)::float8 AS f1, (ARRAY['a', 'b', 'c'])[i % 3 + 1] AS city,
                   (i % 7) * 2.0 + (i % 3) AS y FROM generate_series(1, 300) i""")
    psql("SET ml.progress = off; SELECT ml.train_model('edge_text', 'exp_text', 'y', 'ridge', '{}', '{f1,city}')")
    psql("SET ml.progress = off; SELECT ml.train_model('edge_km', 'exp_text', NULL, 'kmeans', '{\"k\": 2}', '{f1}')")
    for ref, fmt in (("edge_text", "c"), ("edge_km", "json"), ("edge_km", "pmml")):
        out, err = psql(f"SELECT ml.export_model('{ref}', '{fmt}')", check=False)
        checks.true(f"{ref} ({fmt}): export refused with a clear error",
                    "cannot export" in err and "Only linear models" in err, err.strip())
finally:
    shutil.rmtree(tmp, ignore_errors=True)
checks.finish()
