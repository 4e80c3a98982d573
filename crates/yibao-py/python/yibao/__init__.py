"""yibao: Chinese medical-insurance reimbursement, policy as code.

A thin layer over the Rust engine that the ``yibao`` command, the HTTP server and the web page
use — no rule logic in Python.

* :func:`estimate` settles a request (the JSON of ``yibao estimate`` and ``POST /v1/estimate``).
* :func:`policies` lists the bundled policy versions; :func:`check` checks a policy text.
* :func:`settle_table` settles an Arrow table of claims with the engine of ``yibao batch``.
* :mod:`yibao.spark` settles a Spark DataFrame the same way, partitioned by person.

Every failure raises :class:`Error`, with ``kind``, ``path`` (the field or column at fault),
``message`` and ``row`` (1-based, for tables).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Union

import pyarrow as pa

from . import _native

__all__ = ["Error", "estimate", "estimate_json", "policies", "check", "settle_table", "schema"]


class Error(Exception):
    """A yibao failure.

    Attributes:
        kind: whose mistake and what kind: ``request``, ``claim``, ``not_found``, ``policy``
            (estimate); ``row``, ``column``, ``order``, ``input``, ``request`` (tables);
            ``internal`` for a fault of yibao itself (please report it).
        path: the field (``claims[0].amounts.total``) or column (``total``) at fault, if any.
        message: what was wrong, in English.
        row: the table row (1 = the first row) at fault, if any.
        code: a stable name of the mistake, for estimate (``amount_syntax`` …), else ``None``.
        details: the whole error object as the API returns it.
    """

    def __init__(self, kind: str, path: Optional[str], message: str,
                 row: Optional[int] = None, code: Optional[str] = None,
                 details: Optional[Dict[str, Any]] = None) -> None:
        self.kind = kind
        self.path = path
        self.message = message
        self.row = row
        self.code = code
        self.details = details or {}
        where = []
        if row is not None:
            where.append(f"row {row}")
        if path:
            where.append(f"column `{path}`" if row is not None or kind == "column" else path)
        super().__init__((", ".join(where) + ": " if where else "") + message)

    @classmethod
    def _from_native(cls, e: BaseException) -> "Error":
        try:
            d = json.loads(e.args[0])
        except Exception:  # pragma: no cover - the native side always sends JSON
            return cls("internal", None, str(e))
        return cls(d.get("kind", "internal"), d.get("path"), d.get("message", ""),
                   d.get("row"), d.get("code"), d)


def _call(f, *args, **kwargs):
    try:
        return f(*args, **kwargs)
    except _native.NativeError as e:
        raise Error._from_native(e) from None


def estimate_json(request: str, policies: Optional[Mapping[str, str]] = None) -> str:
    """Settles a request given as JSON text; returns the canonical JSON text, byte for byte what
    ``yibao estimate --json`` prints for it. ``policies``: extra policy files, name → text,
    loaded over the bundled ones (as ``yibao estimate --policies``)."""
    if not isinstance(request, str):
        raise Error("request", None, "estimate_json takes the request as a JSON string")
    files = sorted(policies.items()) if policies is not None else None
    return _call(_native.estimate_json, request, files)


def estimate(request: Union[Mapping[str, Any], str],
             policies: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """Settles a request: ``{"policy": "guangzhou.employee", "claim": {...}}`` or with
    ``"claims": [...]`` (a year in date order), optional ``state``, ``overrides``, ``trace``.

    Takes a dict or JSON text; returns the answer as a dict (``settlements``, ``state``,
    ``notices``). Money is text such as ``"1234.50"`` both ways. ``policies``: extra policy
    files (name → text), e.g. a draft. Raises :class:`Error`.
    """
    text = request if isinstance(request, str) else json.dumps(request, ensure_ascii=False)
    return json.loads(estimate_json(text, policies))


def policies() -> List[Dict[str, Any]]:
    """Every bundled policy version: id, region, scheme, names, effective date, content hash,
    provenance counts."""
    return json.loads(_call(_native.policies_json))


def check(text: str, name: str = "draft.yb") -> Dict[str, Any]:
    """Checks a policy text: ``{"ok", "errors", "warnings", "diagnostics"}`` (each diagnostic
    with file, line, column and span). A text that ``extends`` a bundled version is checked
    against it."""
    return json.loads(_call(_native.check_json, name, text))


def schema() -> pa.Schema:
    """The schema of :func:`settle_table`'s result: ``line`` (int64, the input row, 1-based),
    ``id``, ``person``, ``policy``, ``version`` and ``date`` (date32), the money columns of
    ``yibao batch`` as ``decimal128(18, 2)`` (``total``, ``in_scope``, what each kind of layer
    paid, ``fund_total``, ``out_of_pocket`` and its parts), ``unverified`` (bool), then
    ``layer_<id>`` for every layer id of the bundled policies (null where the row's policy has no
    such layer)."""
    return pa.ipc.open_stream(_call(_native.schema_ipc)).schema


def _as_table(table: Any) -> pa.Table:
    if isinstance(table, pa.Table):
        return table
    if isinstance(table, pa.RecordBatch):
        return pa.Table.from_batches([table])
    if hasattr(table, "__arrow_c_stream__"):
        return pa.table(table)
    raise Error("input", None,
                f"settle_table takes a pyarrow.Table or RecordBatch, not {type(table).__name__}")


def settle_table(table: Union[pa.Table, pa.RecordBatch], policy: Optional[str] = None,
                 overrides: Optional[Mapping[str, str]] = None, *, sort: bool = False,
                 threads: Optional[int] = None) -> pa.Table:
    """Settles a table of claims with the engine of ``yibao batch`` (its numbers-only fast path,
    every core), one result row per claim, in input order.

    Columns are ``yibao batch``'s CSV names (``id, person, region, scheme, date, group,
    categories, care, level, place, referral, disease, case_code, stay_days, total, out_of_list,
    pre_self_pay, over_limit, special_drugs``; the national platform's ``psn_no, setl_time, med_type,
    act_ipt_days, medfee_sumamt, fulamt_ownpay_amt, preselfpay_amt, overlmt_selfpay`` also
    work); ``date``, ``care`` and ``total`` are required. Money is ``decimal128`` (e.g.
    ``decimal128(18, 2)``) or text such as ``"1234.50"`` — a float column is refused; dates are
    ``date32`` or text; ``stay_days`` (the stay's length in days) is ``int32``, ``int64`` or text.

    A person's claims are one year, settled in date order: they must be together and in date
    order, or the call fails naming the row — unless ``sort=True`` (sorts by person and date,
    input order kept among equals).

    Args:
        table: a ``pyarrow.Table`` or ``RecordBatch`` (or anything with ``__arrow_c_stream__``).
        policy: ``region.scheme`` for rows without region and scheme.
        overrides: replaced policy figures, as ``yibao batch --set``: ``{"basic.ratio": "80%"}``.
        sort: sort by person and date first.
        threads: worker threads (default: every core).

    Returns:
        a ``pyarrow.Table`` with :func:`schema`.

    Raises:
        Error: a bad column (kind ``column``, or ``row`` with the row for a wrong type), a bad
            row (kind ``row``, with ``row`` and ``path``), claims out of order (``order``).
    """
    # The table crosses into the engine through the Arrow C stream interface, without a copy.
    return _call(_native.settle_stream, _as_table(table), policy,
                 dict(overrides) if overrides is not None else None, sort, threads)
