"""`cargo xtask bench-python [PERSONS]`: the Python package's table path beside `yibao batch`,
on the same generated claims, in one run.

Rows (each in its own process, so each peak RSS is its own):
- `yibao batch`, CSV in and out (every core);
- `settle_table` on the claims read with pyarrow (every core), the read timed apart;
- `settle_table` with one thread (the per-core rate a Spark task gets);
- PySpark local[2]: the recipe of `yibao.spark` on the CSV, results to Spark's `noop` sink, and
  the same plan with a pass-through `mapInArrow` in place of `yibao.spark.settle` (what Spark
  costs on its own); the difference is yibao's part.

Every settled table is checked against `yibao batch`'s fund total before its time is reported.
Prints a Markdown table for BENCHMARKS.md. Environment: YIBAO_BIN (the release binary).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = os.environ["YIBAO_BIN"]
PY = sys.executable


def child(code, *args):
    """Runs `code` in a fresh Python; it prints one JSON object on its last line."""
    p = subprocess.run([PY, "-c", code, *map(str, args)], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"bench child failed:\n{p.stderr[-4000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


COMMON = r"""
import json, resource, sys, time
from decimal import Decimal
import pyarrow as pa, pyarrow.csv as pacsv
def read_text(path):
    with open(path, encoding="utf-8") as f:
        names = f.readline().strip().split(",")
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names}, strings_can_be_null=False))
def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

BATCH = COMMON + r"""
import subprocess, csv
bin, claims, out = sys.argv[1:4]
t0 = time.perf_counter()
subprocess.run([bin, "batch", "--input", claims, "--output", out, "--layer-columns", "--quiet"],
               check=True)
wall = time.perf_counter() - t0
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
fund = Decimal(0)
n = 0
with open(out, newline="", encoding="utf-8") as f:
    for r in csv.DictReader(f):
        fund += Decimal(r["fund_total"]); n += 1
print(json.dumps({"wall": wall, "rss": child, "fund": str(fund), "n": n}))
"""

TABLE = COMMON + r"""
import yibao
claims, threads = sys.argv[1], int(sys.argv[2])
t0 = time.perf_counter()
t = read_text(claims)
read = time.perf_counter() - t0
t0 = time.perf_counter()
out = yibao.settle_table(t, threads=threads or None)
wall = time.perf_counter() - t0
fund = sum((v for v in out["fund_total"].to_pylist()), Decimal(0))
print(json.dumps({"read": read, "wall": wall, "rss": rss_mb(), "fund": str(fund),
                  "n": out.num_rows}))
"""

SPARK = COMMON + r"""
import os
os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
from pyspark.sql import SparkSession
import yibao.spark
claims = sys.argv[1]
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.driver.memory", "4g").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
df = spark.read.option("header", True).csv(claims).cache()
n = df.count()
def passthrough(batches):
    for b in batches:
        yield b
def timed(plan):
    t0 = time.perf_counter()
    plan.write.format("noop").mode("overwrite").save()
    return time.perf_counter() - t0
# Warm the JVM and the Python workers once on a small slice.
yibao.spark.settle_dataframe(df.limit(20000)).write.format("noop").mode("overwrite").save()
ordered = df.repartition("person").sortWithinPartitions("person", "date", "id")
spark_only = timed(ordered.mapInArrow(passthrough, df.schema))
settled = yibao.spark.settle_dataframe(df)
full = timed(settled)
fund = settled.agg({"fund_total": "sum"}).collect()[0][0]
spark.stop()
print(json.dumps({"full": full, "spark_only": spark_only, "fund": str(fund), "n": n}))
"""


def main():
    persons = int(sys.argv[1]) if len(sys.argv) > 1 else 154_000
    work = Path(os.environ.get("YIBAO_BENCH_DIR") or tempfile.mkdtemp(prefix="yibao-bench-py-"))
    work.mkdir(parents=True, exist_ok=True)
    claims = work / f"claims-{persons}.csv"
    if not claims.exists():
        subprocess.run([BIN, "gen", "--persons", str(persons), "--seed", "20",
                        "--output", str(claims)], check=True)
    print(f"claims: {claims}", file=sys.stderr)
    b = child(BATCH, BIN, claims, work / "settled.csv")
    n = b["n"]
    rows = [("`yibao batch` CSV → CSV, every core", b["wall"], b["rss"], "")]
    for threads, label in [(0, "every core"), (1, "one thread")]:
        t = child(TABLE, claims, threads)
        if t["fund"] != b["fund"] or t["n"] != n:
            raise SystemExit(f"settle_table ({label}) differs from yibao batch: {t} vs {b}")
        rows.append((f"`settle_table`, {label} (pyarrow CSV read {t['read']:.2f} s apart)",
                     t["wall"], t["rss"], ""))
    s = child(SPARK, claims)
    if Decimal_eq(s["fund"], b["fund"]) is False or s["n"] != n:
        raise SystemExit(f"Spark differs from yibao batch: {s} vs {b}")
    rows.append(("PySpark local[2]: the recipe, CSV read cached, noop sink", s["full"], None,
                 f"Spark alone (pass-through mapInArrow): {s['spark_only']:.1f} s"))
    print(f"\n{n:,} claims ({persons:,} persons), fund total {b['fund']} in every row\n")
    print("| path | wall (s) | claims/s | peak RSS (MB) | note |")
    print("|---|---|---|---|---|")
    for label, wall, rss, note in rows:
        r = f"{rss:.0f}" if rss is not None else "—"
        print(f"| {label} | {wall:.2f} | {n / wall:,.0f} | {r} | {note} |")


def Decimal_eq(a, b):
    from decimal import Decimal
    return Decimal(a) == Decimal(b)


if __name__ == "__main__":
    main()
