"""Generate a Python client from the live /openapi.json, install it, and send every vector through it.

Run by `cargo xtask pyclient` (inside the project's venv, with the server on loopback):
    run.py BASE_URL WORK_DIR VECTORS_JSON
Each answer must be the native answer (the same JSON), match its schema in the document, and be
read by the generated client into its model; an error answer must be read as the error model.
"""

import importlib
import json
import pkgutil
import subprocess
import sys
import urllib.request
from pathlib import Path

from jsonschema import Draft202012Validator


def main() -> int:
    base, work, cases_path = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    doc_bytes = urllib.request.urlopen(base + "/openapi.json").read()
    (work / "openapi.json").write_bytes(doc_bytes)
    doc = json.loads(doc_bytes)
    title = doc["info"]["title"]
    assert title.isascii(), f"title is not ASCII: {title!r}"
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            str(work / "openapi.json"),
            "--output-path",
            str(work / "client"),
            "--overwrite",
            "--fail-on-warning",
        ],
        check=True,
    )
    # Build and install the generated package as a user would.
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--force-reinstall", str(work / "client")],
        check=True,
    )
    packages = [p.parent.name for p in (work / "client").glob("*/client.py")]
    assert len(packages) == 1, packages
    pkg = importlib.import_module(packages[0])
    models = importlib.import_module(packages[0] + ".models")
    api = importlib.import_module(packages[0] + ".api")
    ops = {}
    for m in pkgutil.walk_packages(api.__path__, api.__name__ + "."):
        mod = importlib.import_module(m.name)
        if hasattr(mod, "sync_detailed"):
            ops[m.name.rsplit(".", 1)[-1]] = mod
    assert "estimate" in ops, sorted(ops)
    client = pkg.Client(base_url=base, raise_on_unexpected_status=True, timeout=60.0)

    def validator(name):
        return Draft202012Validator(
            {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
        )

    answer_schema = validator("EstimateAnswer")
    request_schema = validator("EstimateRequest")
    cases = json.loads(cases_path.read_text())
    failures = []
    with_overrides = 0
    for case in cases:
        cid, request, want = case["id"], case["request"], case["answer"]
        errors = [e.message for e in request_schema.iter_errors(request)][:3]
        if errors:
            failures.append(f"{cid}: the request does not match its schema: {errors}")
            continue
        body = models.EstimateRequest.from_dict(request)
        r = ops["estimate"].sync_detailed(client=client, body=body)
        if r.status_code != 200:
            failures.append(f"{cid}: status {r.status_code}: {r.content[:300]!r}")
            continue
        got = json.loads(r.content)
        if got != want:
            failures.append(f"{cid}: the answer differs from the native one")
        errors = [f"{e.message} at {list(e.path)}" for e in answer_schema.iter_errors(got)][:3]
        if errors:
            failures.append(f"{cid}: the answer does not match its schema: {errors}")
        if not isinstance(r.parsed, models.EstimateAnswer):
            failures.append(f"{cid}: the client read {type(r.parsed).__name__}, not EstimateAnswer")
        elif r.parsed.to_dict() != got:
            failures.append(f"{cid}: the client's model does not give the answer back")
        if '"overridden_with":"' in r.content.decode():
            with_overrides += 1
    # An error answer is read as the error model.
    bad = models.EstimateRequest.from_dict(
        {"policy": "tianjin.resident", "claim": {"date": "2024-05-01", "care": "dental", "amounts": {"total": "1"}}}
    )
    client = pkg.Client(base_url=base, timeout=60.0)
    r = ops["estimate"].sync_detailed(client=client, body=bad)
    if r.status_code != 422 or not isinstance(r.parsed, models.ApiError):
        failures.append(f"an unknown care type: {r.status_code} read as {type(r.parsed).__name__}")
    elif r.parsed.path != "claim.care":
        failures.append(f"an unknown care type: path {r.parsed.path!r}")
    for f in failures[:20]:
        print("FAIL", f)
    print(
        f"{len(cases)} vectors through the generated client ({with_overrides} with overrides): "
        f"{len(failures)} failures"
    )
    if with_overrides == 0:
        print("FAIL no answer with an override")
        return 1
    return 1 if failures or not cases else 0


if __name__ == "__main__":
    sys.exit(main())
