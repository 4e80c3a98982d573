"""Generate a Python client from the live /openapi.json, install it, and send every vector through it.

Run by `cargo xtask pyclient` (inside the project's venv, with the server on loopback):
    run.py BASE_URL WORK_DIR VECTORS_JSON
Each answer must be the native answer (the same bytes), match its schema in the document, and be
read by the generated client into its model; an error answer must be read as the error model.
"""

import importlib
import json
import os
import pkgutil
import re
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
    # The generator formats its output with ruff, installed beside it in the venv.
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    gen = subprocess.run(
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            str(work / "openapi.json"),
            "--output-path",
            str(work / "client"),
            "--overwrite",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    print(gen.stdout + gen.stderr)
    if gen.returncode != 0:
        print(f"FAIL the generator exited with {gen.returncode}")
        return 1
    # Every warning fails, except the generator's one known gap: it cannot send a text/plain
    # body, so `/v1/check` gets only its JSON form (`{name, text}`).
    lines = [line for line in (gen.stdout + gen.stderr).splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if line.startswith(("WARNING", "ERROR")):
            after = lines[i + 1] if i + 1 < len(lines) else ""
            known = line.startswith("WARNING parsing POST /v1/check ") and after == (
                "Unsupported content type text/plain"
            )
            if not known:
                print(f"FAIL the generator warned: {line} {after}")
                return 1
        if "is not in PATH" in line:
            print(f"FAIL {line}")
            return 1
    # Build and install the generated package as a user would.
    # (An earlier run's build is removed first, so this one is built and installed afresh while
    # its dependencies, already there, are not fetched again.)
    meta = (work / "client" / "pyproject.toml").read_text()
    dist = re.search(r'^name = "([^"]+)"', meta, re.M).group(1)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    subprocess.run(pip + ["uninstall", "--quiet", "--yes", dist], check=False, capture_output=True)
    subprocess.run(pip + ["install", "--quiet", str(work / "client")], check=True)
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
    for op in ["estimate", "estimate_batch", "check", "policy_versions", "policy_params"]:
        assert op in ops, f"no operation {op}: {sorted(ops)}"
    # Every object schema of the document is a model of the client (a schema the generator
    # cannot read becomes `Any` and loses its model). A name Python has (`Warning`) gets a `_`.
    missing = [
        name
        for name, schema in doc["components"]["schemas"].items()
        if schema.get("type") == "object"
        and schema.get("properties")
        and not (hasattr(models, name) or hasattr(models, name + "_"))
    ]
    assert not missing, f"schemas without a model in the generated client: {missing}"
    client = pkg.Client(base_url=base, raise_on_unexpected_status=True, timeout=60.0)

    def validator(name):
        return Draft202012Validator(
            {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
        )

    answer_schema = validator("EstimateAnswer")
    request_schema = validator("EstimateRequest")
    batch_schema = validator("BatchAnswer")
    cases = json.loads(cases_path.read_text())
    failures = []
    with_overrides = 0
    batches = 0
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
        if r.content.decode() != want:
            failures.append(f"{cid}: the answer's bytes differ from the native answer's")
        got = json.loads(r.content)
        errors = [f"{e.message} at {list(e.path)}" for e in answer_schema.iter_errors(got)][:3]
        if errors:
            failures.append(f"{cid}: the answer does not match its schema: {errors}")
        if not isinstance(r.parsed, models.EstimateAnswer):
            failures.append(f"{cid}: the client read {type(r.parsed).__name__}, not EstimateAnswer")
        elif r.parsed.to_dict() != got:
            failures.append(f"{cid}: the client's model does not give the answer back")
        if '"overridden_with":"' in r.content.decode():
            with_overrides += 1
        # The same claims as one person's batch (a batch takes no starting state): the same
        # settlements, a valid BatchAnswer read into its model.
        if "state" in request:
            continue
        claims = [dict(c, person=c.get("person", "p")) for c in request["claims"]]
        batch = {k: request[k] for k in ["policy", "version", "overrides", "trace"] if k in request}
        batch["claims"] = claims
        rb = ops["estimate_batch"].sync_detailed(
            client=client, body=models.BatchRequest.from_dict(batch)
        )
        if rb.status_code != 200 or not isinstance(rb.parsed, models.BatchAnswer):
            failures.append(f"{cid} as a batch: status {rb.status_code}: {rb.content[:300]!r}")
            continue
        got_batch = json.loads(rb.content)
        errors = [f"{e.message} at {list(e.path)}" for e in batch_schema.iter_errors(got_batch)][:3]
        if errors:
            failures.append(f"{cid} as a batch: the answer does not match its schema: {errors}")
        if rb.parsed.to_dict() != got_batch:
            failures.append(f"{cid} as a batch: the client's model does not give the answer back")
        settled = [item.get("settlement") for item in got_batch["results"]]
        if settled != got["settlements"]:
            failures.append(f"{cid} as a batch: settlements differ from the estimate's")
        batches += 1
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
    # The figures of a version, as the params route lists them.
    versions = ops["policy_versions"].sync_detailed("tianjin", "resident", client=client)
    first = versions.parsed[0]
    rp = ops["policy_params"].sync_detailed(
        "tianjin", "resident", first.effective.isoformat(), client=client
    )
    listed = json.loads(rp.content)
    if rp.status_code != 200 or not isinstance(rp.parsed, models.VersionParams):
        failures.append(f"params: status {rp.status_code} read as {type(rp.parsed).__name__}")
    elif list(validator("VersionParams").iter_errors(listed)) or rp.parsed.to_dict() != listed:
        failures.append("params: the answer does not match its schema or its model")
    elif not listed["params"]:
        failures.append("params: no figures listed")
    for f in failures[:20]:
        print("FAIL", f)
    print(
        f"{len(cases)} vectors through the generated client ({with_overrides} with overrides, "
        f"{batches} also as batches): {len(failures)} failures"
    )
    if with_overrides == 0:
        print("FAIL no answer with an override")
        return 1
    return 1 if failures or not cases else 0


if __name__ == "__main__":
    sys.exit(main())
