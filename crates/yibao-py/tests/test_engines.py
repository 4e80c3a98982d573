"""Spark (local[2]), DuckDB and Polars settle the sample as `yibao batch` does; the README's
"Python and data engines" commands run as written."""

import os
import random
import re
import subprocess
import sys
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import yibao
import yibao.spark

from conftest import BIN, ROOT
from test_tables import as_rows, claims_typed


def by_id(rows):
    out = {}
    for r in rows:
        r = dict(r)
        r.pop("line")
        out[r["id"]] = r
    return out


@pytest.fixture(scope="module")
def spark():
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    s = (SparkSession.builder.master("local[2]").appName("yibao-test")
         .config("spark.sql.shuffle.partitions", "4")
         .config("spark.ui.enabled", "false")
         .config("spark.sql.session.timeZone", "UTC")
         .getOrCreate())
    yield s
    s.stop()


@pytest.fixture(scope="module")
def shuffled(sample, tmp_path_factory):
    """The sample's claims in random row order, as Parquet (what Spark reads)."""
    claims, _, _ = sample
    t = claims_typed(claims)
    order = list(range(t.num_rows))
    random.Random(18).shuffle(order)
    path = tmp_path_factory.mktemp("spark") / "shuffled.parquet"
    pq.write_table(t.take(order), path, row_group_size=25_000)
    return str(path)


def collect(df, tmp_path, name):
    out = str(tmp_path / name)
    df.write.parquet(out)
    return pq.read_table(out)


def test_spark_settles_shuffled_rows_as_batch_does(spark, shuffled, sample, tmp_path):
    _, _, expected = sample
    df = spark.read.parquet(shuffled)
    got = collect(yibao.spark.settle_dataframe(df), tmp_path, "settled")
    assert got.num_rows == len(expected)
    assert by_id(as_rows(got)) == by_id(expected)


def test_spark_without_the_recipe_is_refused_or_wrong(spark, shuffled, sample, tmp_path):
    _, _, expected = sample
    df = spark.read.parquet(shuffled)
    # No partitioning and no sort: each task meets persons scattered, and refuses.
    with pytest.raises(Exception) as e:
        collect(df.mapInArrow(yibao.spark.settle, yibao.spark.schema()), tmp_path, "raw")
    assert "sort the input" in str(e.value)
    # Sorted inside partitions but not partitioned by person: a person's year is split between
    # tasks, each settling part of it from the year's start — wrong amounts.
    split = df.repartition(4).sortWithinPartitions("person", "date", "id")
    got = by_id(as_rows(collect(split.mapInArrow(yibao.spark.settle, yibao.spark.schema()),
                                tmp_path, "split")))
    want = by_id(expected)
    assert got.keys() == want.keys()
    assert sum(got[k] != want[k] for k in want) > 100


def test_duckdb_arrow_in_arrow_out(sample):
    duckdb = pytest.importorskip("duckdb")
    claims, _, expected = sample
    con = duckdb.connect()
    typed = claims_typed(claims)
    con.register("claims", typed)
    t = con.sql("select * from claims where region = 'tianjin' order by person, date, id").arrow()
    if not isinstance(t, pa.Table):
        t = t.read_all()
    settled = yibao.settle_table(t)
    con.register("settled", settled)
    got = con.sql("select sum(fund_total) as fund, count(*) as n from settled").fetchall()[0]
    want = [r for r in expected if r["policy"].startswith("tianjin.")]
    assert got[1] == len(want)
    assert Decimal(got[0]) == sum(Decimal(r["fund_total"]) for r in want)


def test_polars_arrow_in_arrow_out(sample):
    pl = pytest.importorskip("polars")
    claims, _, expected = sample
    df = pl.from_arrow(claims_typed(claims))
    out = pl.from_arrow(yibao.settle_table(df.to_arrow()))
    assert out.height == len(expected)
    total = out.select(pl.col("out_of_pocket").sum()).item()
    assert Decimal(total) == sum(Decimal(r["out_of_pocket"]) for r in expected)


def readme_blocks():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"^## Python and data engines\n(.*?)(?=^## )", text, re.S | re.M)
    assert m, "README has no 'Python and data engines' section"
    return re.findall(r"```(sh|python)\n(.*?)```", m.group(1), re.S)


def test_the_readme_section_runs_as_written(tmp_path):
    blocks = readme_blocks()
    assert [k for k, _ in blocks].count("python") >= 2 and any(k == "sh" for k, _ in blocks)
    env = dict(os.environ)
    env["PATH"] = f"{BIN.parent}{os.pathsep}{os.path.dirname(sys.executable)}{os.pathsep}" \
        + env["PATH"]
    for kind, body in blocks:
        cmd = ["bash", "-euo", "pipefail", "-c", body] if kind == "sh" \
            else [sys.executable, "-c", body]
        p = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert p.returncode == 0, f"README block failed:\n{body}\n{p.stdout}\n{p.stderr}"
