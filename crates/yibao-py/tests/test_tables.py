"""settle_table, and Parquet/Arrow in `yibao batch`: the same results as the CSV path, row for
row; bad tables raise yibao.Error naming the column and the row."""

import random
from decimal import Decimal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

import yibao

from conftest import read_csv, run

MONEY = ["total", "out_of_list", "pre_self_pay", "over_limit"]


def claims_as_text(path):
    """The claims CSV with every column read as text (what the CSV path sees)."""
    with open(path, encoding="utf-8") as f:
        names = f.readline().strip().split(",")
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names}, strings_can_be_null=False))


def claims_typed(path):
    """The claims with money as decimal128(18, 2) and the date as date32."""
    t = claims_as_text(path)
    for name in MONEY:
        i = t.schema.get_field_index(name)
        t = t.set_column(i, name, t[name].cast(pa.decimal128(18, 2)))
    i = t.schema.get_field_index("date")
    return t.set_column(i, "date", t["date"].cast(pa.date32()))


def text(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Decimal):
        return f"{v:.2f}"
    return str(v)


def as_rows(table, line_offset=0):
    """A result table as the CSV path's rows (dicts of text), `line` shifted to CSV lines."""
    out = []
    for r in table.to_pylist():
        row = {k: text(v) for k, v in r.items()}
        row["line"] = str(int(r["line"]) + line_offset)
        out.append(row)
    return out


def test_the_schema_has_a_column_per_layer_id():
    s = yibao.schema()
    names = s.names
    assert names[:6] == ["line", "id", "person", "policy", "version", "date"]
    assert s.field("total").type == pa.decimal128(18, 2)
    assert s.field("date").type == pa.date32()
    layers = [n for n in names if n.startswith("layer_")]
    # Guangzhou's basic-kind layers each have their own column.
    assert len(layers) >= 10 and len(set(layers)) == len(layers)


def test_settle_table_is_yibao_batch_row_for_row(sample):
    claims, _, expected = sample
    assert len(expected) >= 90_000
    assert len({r["policy"] for r in expected}) >= 8, "the sample covers every city"
    # Arrow rows count from 1; the CSV's first claim is on line 2.
    got = as_rows(yibao.settle_table(claims_as_text(claims)), line_offset=1)
    assert got == expected
    typed = yibao.settle_table(claims_typed(claims))
    assert typed.schema == yibao.schema()
    assert as_rows(typed, line_offset=1) == expected


def test_layer_columns_add_up_to_the_kind_columns(sample):
    _, _, rows = sample
    layer_cols = [k for k in rows[0] if k.startswith("layer_")]
    for r in rows[:5000]:
        layers = sum(Decimal(r[c]) for c in layer_cols if r[c])
        kinds = sum(Decimal(r[k]) for k in
                    ["basic", "serious_illness", "supplementary", "medical_aid", "commercial"])
        assert layers == kinds, r["id"]


def test_a_record_batch_and_platform_names_work(sample):
    claims, _, expected = sample
    t = claims_as_text(claims).slice(0, 2000)
    renamed = t.rename_columns([{"person": "psn_no", "date": "setl_time", "care": "med_type",
                                 "total": "medfee_sumamt"}.get(n, n) for n in t.column_names])
    got = yibao.settle_table(renamed.to_batches(max_chunksize=5000)[0])
    # The sample's first 2,000 rows may end inside a person: compare the persons it holds whole.
    last = t["person"][t.num_rows - 1].as_py()
    want = [r for r in expected[:2000] if r["person"] != last]
    assert as_rows(got, 1)[:len(want)] == want


def test_sort_inside_or_fail_with_the_row(sample):
    claims, _, expected = sample
    t = claims_as_text(claims).slice(0, 3000)
    # Persons interleaved at random, each person's own claims left in their order: the rows are
    # out of order for batch, and a stable sort by person and date gives back the file's order
    # (two claims of a person on one date keep theirs, as `yibao batch --sort` keeps it).
    queues = {}
    for i, p in enumerate(t["person"].to_pylist()):
        queues.setdefault(p, []).append(i)
    rng = random.Random(3)
    pending = [q[::-1] for q in queues.values()]
    order = []
    while pending:
        k = rng.randrange(len(pending))
        order.append(pending[k].pop())
        if not pending[k]:
            pending[k] = pending[-1]
            pending.pop()
    assert order != sorted(order)
    shuffled = t.take(order)
    with pytest.raises(yibao.Error) as e:
        yibao.settle_table(shuffled)
    assert e.value.kind == "order"
    assert "sort" in e.value.message
    got = yibao.settle_table(shuffled, sort=True)
    by_id = {r["id"]: r for r in as_rows(got)}
    last = t["person"][t.num_rows - 1].as_py()
    for r in expected[:3000]:
        if r["person"] == last:
            continue
        mine = dict(by_id[r["id"]])
        mine["line"] = r["line"]
        assert mine == r


def test_parquet_and_arrow_round_trips_equal_the_csv_path(sample, tmp_path):
    claims, _, expected = sample
    typed = claims_typed(claims)
    pq.write_table(typed, tmp_path / "claims.parquet", row_group_size=20_000)
    with ipc.new_file(str(tmp_path / "claims.arrow"), typed.schema) as w:
        w.write_table(typed)
    for src, dst in [("claims.parquet", "out.parquet"), ("claims.arrow", "out.arrow"),
                     ("claims.parquet", "out.csv")]:
        run("batch", "--input", tmp_path / src, "--output", tmp_path / dst,
            "--layer-columns", "--quiet")
    for dst in ["out.parquet", "out.arrow"]:
        out = pq.read_table(tmp_path / dst) if dst.endswith("parquet") \
            else ipc.open_file(str(tmp_path / dst)).read_all()
        assert out.schema == yibao.schema()
        assert as_rows(out, line_offset=1) == expected, dst
    got = read_csv(tmp_path / "out.csv")
    for r in got:
        r["line"] = str(int(r["line"]) + 1)
    assert got == expected
    # Parquet output read back as batch input is refused: those are results, not claims.
    p = run("batch", "--input", tmp_path / "out.parquet", "--output", tmp_path / "x.csv",
            check=False)
    assert p.returncode != 0 and "unknown column" in p.stderr


def small():
    return pa.table({
        "id": ["a1", "a2", "a3"],
        "person": ["p1", "p1", "p2"],
        "region": ["tianjin"] * 3,
        "scheme": ["resident"] * 3,
        "date": ["2024-01-05", "2024-03-01", "2024-02-01"],
        "care": ["inpatient"] * 3,
        "level": ["3"] * 3,
        "total": pa.array([Decimal("1000.00"), Decimal("25000.50"), Decimal("300.00")],
                          pa.decimal128(18, 2)),
    })


def test_a_float_money_column_is_refused():
    t = small()
    t = t.set_column(7, "total", pa.array([1000.0, 25000.5, 300.0], pa.float64()))
    with pytest.raises(yibao.Error) as e:
        yibao.settle_table(t)
    assert e.value.path == "total" and e.value.row == 1
    assert "float" in str(e.value) and "total" in str(e.value)


def test_a_wrong_column_type_names_column_and_row():
    t = small().set_column(4, "date", pa.array([20240105, 20240301, 20240201], pa.int64()))
    with pytest.raises(yibao.Error) as e:
        yibao.settle_table(t)
    assert (e.value.path, e.value.row) == ("date", 1)
    assert "int64" in e.value.message.lower()


def test_a_missing_column_is_named():
    with pytest.raises(yibao.Error) as e:
        yibao.settle_table(small().drop_columns(["care"]))
    assert e.value.kind == "column" and e.value.path == "care"


def test_a_null_amount_names_column_and_row():
    t = small().set_column(7, "total", pa.array([Decimal("1000.00"), None, Decimal("300.00")],
                                                pa.decimal128(18, 2)))
    with pytest.raises(yibao.Error) as e:
        yibao.settle_table(t)
    assert (e.value.kind, e.value.path, e.value.row) == ("row", "total", 2)
    assert "row 2" in str(e.value) and "total" in str(e.value)


def test_bad_values_name_column_and_row():
    t = small().set_column(7, "total", pa.array(["1000", "12.345", "300"]))
    with pytest.raises(yibao.Error) as e:
        yibao.settle_table(t)
    assert (e.value.path, e.value.row) == ("total", 2)
    assert "12.345" in e.value.message


def test_strings_and_decimals_give_the_same_results():
    t = small()
    as_text = t.set_column(7, "total", pa.array(["1000.00", "25000.50", "300"]))
    assert yibao.settle_table(t) == yibao.settle_table(as_text)
    out = yibao.settle_table(t)
    assert out["total"].to_pylist() == [Decimal("1000.00"), Decimal("25000.50"),
                                        Decimal("300.00")]
    fund = out["fund_total"].to_pylist()
    oop = out["out_of_pocket"].to_pylist()
    assert all(f + o == tot for f, o, tot in zip(fund, oop, out["total"].to_pylist()))


def test_random_tables_raise_only_yibao_error():
    rng = random.Random(18)
    cols = ["id", "person", "region", "scheme", "date", "care", "level", "group", "categories",
            "referral", "total", "out_of_list", "over_limit", "place", "bogus"]
    kinds = [pa.string(), pa.int64(), pa.float64(), pa.decimal128(18, 2), pa.date32(),
             pa.bool_(), pa.decimal128(10, 4)]
    values = ["", "x", "inpatient", "3", "2024-02-30", "2024-05-01", "-1", "1e9", "tianjin",
              "resident", "guangzhou", "employee", "999999999999999", "0.001", None]
    ok = failed = 0
    for _ in range(300):
        names = rng.sample(cols, rng.randint(1, 9))
        n = rng.randint(0, 6)
        arrays = {}
        for name in names:
            k = rng.choice(kinds)
            try:
                if k == pa.string():
                    a = pa.array([rng.choice(values) for _ in range(n)], k)
                elif k == pa.int64():
                    a = pa.array([rng.randint(-5, 10**6) for _ in range(n)], k)
                elif k == pa.float64():
                    a = pa.array([rng.random() * 1000 for _ in range(n)], k)
                elif k == pa.bool_():
                    a = pa.array([rng.random() < 0.5 for _ in range(n)], k)
                elif k == pa.date32():
                    a = pa.array([rng.randint(-800_000, 3_000_000) for _ in range(n)],
                                 pa.int32()).cast(k)
                else:
                    scale = k.scale
                    a = pa.array([Decimal(rng.randint(-10, 10**9)).scaleb(-scale)
                                  for _ in range(n)], k)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                continue
            arrays[name] = a
        t = pa.table(arrays) if arrays else pa.table({"x": pa.array([], pa.int64())})
        try:
            yibao.settle_table(t, policy=rng.choice([None, "tianjin.resident"]),
                               sort=rng.random() < 0.3)
            ok += 1
        except yibao.Error as e:
            assert e.kind in ("row", "column", "order", "input", "request"), e
            failed += 1
    assert failed > 100
