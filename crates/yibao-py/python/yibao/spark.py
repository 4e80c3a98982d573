"""Settling a Spark DataFrame of claims with yibao, on every executor.

The recipe (what :func:`settle_dataframe` does)::

    df.repartition("person") \\
      .sortWithinPartitions("person", "date", "id") \\
      .mapInArrow(yibao.spark.settle, yibao.spark.schema())

``repartition("person")`` hash-partitions by person, so all of a person's claims are in one
partition and so in one task; ``sortWithinPartitions`` puts each person's claims together and in
date order inside it (``id`` last, because Spark's sort keeps no input order: two claims of one
day must come in a fixed order). Each task then settles its partition with the engine of
``yibao batch`` (:func:`yibao.settle_table`), a person's claims as one year. Without the
repartition a person's year would be split across tasks; without the sort the task refuses the
partition (claims out of order) rather than settling it wrong.

The workers must run the Python that has ``yibao`` installed: set ``PYSPARK_PYTHON`` (and
``PYSPARK_DRIVER_PYTHON``) to it.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Optional

import pyarrow as pa

import yibao


def schema() -> Any:
    """The Spark schema (a ``StructType``) of the results: :func:`yibao.schema` in Spark types."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(yibao.schema())


def settle(batches: Iterator[pa.RecordBatch], policy: Optional[str] = None,
           overrides: Optional[Mapping[str, str]] = None) -> Iterator[pa.RecordBatch]:
    """For ``mapInArrow``: settles one partition (its batches taken together, so a person's claims
    split across batches stay one year) and yields the results. The partition must hold each
    person's claims together and in date order (see the module's recipe)."""
    parts = list(batches)
    if not parts:
        return
    table = pa.Table.from_batches(parts)
    if table.num_rows == 0:
        return
    out = yibao.settle_table(table, policy, overrides, threads=1)
    # Spark's schema has every field nullable.
    out = out.cast(pa.schema([f.with_nullable(True) for f in out.schema]))
    for b in out.to_batches():
        yield b


def settle_dataframe(df: Any, policy: Optional[str] = None,
                     overrides: Optional[Mapping[str, str]] = None,
                     partitions: Optional[int] = None) -> Any:
    """Settles a DataFrame of claims (``yibao batch``'s columns, ``person`` required): the
    recipe of this module. ``partitions`` sets the number of partitions (default: Spark's
    ``spark.sql.shuffle.partitions``)."""
    parts = df.repartition(partitions, "person") if partitions else df.repartition("person")
    ordered = parts.sortWithinPartitions("person", "date", "id") if "id" in df.columns \
        else parts.sortWithinPartitions("person", "date")

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return settle(batches, policy, overrides)

    return ordered.mapInArrow(run, schema())
