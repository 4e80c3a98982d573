"""estimate, policies and check: the same answers as the CLI, errors as yibao.Error."""

import json

import pytest

import yibao
from yibao import _native

from conftest import ROOT, run

FIXTURES = ROOT / "tests" / "vectors" / "fixture"


def fixture_files():
    """The fixture policies named as the CLI's `--policies tests/vectors/fixture` names them."""
    return {
        str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
        for p in sorted(FIXTURES.rglob("*.policy"))
    }


def vector_requests():
    out = []
    for f in sorted((ROOT / "tests" / "vectors").rglob("*.yaml")):
        for v in json.loads(_native.vector_requests(f.read_text(encoding="utf-8"))):
            out.append((f"{f.relative_to(ROOT)}:{v['id']}", v["request"]))
    return out


def test_estimate_is_the_cli_json_byte_for_byte_on_every_vector(tmp_path):
    files = fixture_files()
    cases = vector_requests()
    assert len(cases) >= 100, "the vectors were not found"
    answered = 0
    for name, request in cases:
        req = tmp_path / "request.json"
        req.write_text(request, encoding="utf-8")
        cli = run("estimate", req, "--json", "--policies", FIXTURES.relative_to(ROOT),
                  cwd=ROOT, check=False)
        try:
            mine = yibao.estimate_json(request, policies=files)
        except yibao.Error as e:
            assert cli.returncode != 0, f"{name}: the CLI answered but Python raised {e}"
            cli_error = json.loads(cli.stdout)
            details = {k: v for k, v in e.details.items() if k != "row"}
            assert details == cli_error, name
            continue
        assert cli.returncode == 0, f"{name}: Python answered but the CLI failed: {cli.stderr}"
        assert mine + "\n" == cli.stdout, name
        answered += 1
    assert answered >= 100


def test_estimate_takes_a_dict_and_returns_one():
    # 30,000 inpatient at a level-3 hospital, Tianjin residents (the README's example): a
    # settlement whose fund and out-of-pocket amounts add up to the bill.
    a = yibao.estimate({
        "policy": "tianjin.resident",
        "claim": {"date": "2024-05-01", "care": "inpatient", "level": "3",
                  "amounts": {"total": "30000", "out_of_list": "2000"}},
    })
    s = a["settlements"][0]
    from decimal import Decimal
    assert Decimal(s["fund_total"]) + Decimal(s["out_of_pocket"]["total"]) == Decimal("30000")
    assert Decimal(s["fund_total"]) > 0


def test_estimate_errors_carry_kind_path_and_message():
    with pytest.raises(yibao.Error) as e:
        yibao.estimate({"policy": "tianjin.resident",
                        "claim": {"date": "2024-05-01", "care": "inpatient",
                                  "amounts": {"total": "12.345"}}})
    assert e.value.kind in ("request", "claim")
    assert e.value.path is not None and "total" in e.value.path
    assert e.value.code == "amount_precision"
    assert "12.345" in e.value.message
    with pytest.raises(yibao.Error) as e:
        yibao.estimate("{not json")
    assert e.value.kind == "request"
    with pytest.raises(yibao.Error) as e:
        yibao.estimate({"policy": "atlantis.resident",
                        "claim": {"date": "2024-05-01", "care": "inpatient",
                                  "amounts": {"total": "100"}}})
    assert e.value.kind == "not_found"


def test_policies_and_check():
    ps = yibao.policies()
    ids = {p["id"] for p in ps}
    assert {"guangzhou.employee", "tianjin.resident"} <= ids
    assert all(p["effective"] for p in ps)
    bad = yibao.check("policy x.y {\n  this is not a policy\n}\n")
    assert bad["ok"] is False and bad["errors"] >= 1
    d = bad["diagnostics"][0]
    assert d["line"] >= 1 and d["column"] >= 1


def test_no_panic_crosses_into_python():
    # The native guard turns a panic into yibao.Error(kind="internal"), not PanicException.
    with pytest.raises(yibao.Error) as e:
        yibao._call(_native._panic_for_test)
    assert e.value.kind == "internal"
    assert "a test panic" in e.value.message
