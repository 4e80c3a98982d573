"""Shared fixtures: the repository, the release `yibao` binary, and one `yibao gen` sample with
its `yibao batch` results (CSV, one column per layer id), made once per run in a temporary
folder — nothing generated is kept in the repository."""

import csv
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(os.environ.get("YIBAO_ROOT", Path(__file__).resolve().parents[3]))
BIN = Path(os.environ.get("YIBAO_BIN", ROOT / "target" / "release" / "yibao"))
# About 6.5 claims a person: 15,400 persons ≈ 100,000 claims across every bundled city.
PERSONS = int(os.environ.get("YIBAO_PY_PERSONS", "15400"))


def run(*args, cwd=None, check=True):
    """Runs the yibao binary; its completed process."""
    p = subprocess.run([str(BIN), *map(str, args)], cwd=cwd, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"yibao {' '.join(map(str, args))} failed:\n{p.stderr}")
    return p


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="session")
def sample(tmp_path_factory):
    """(claims.csv, settled.csv, number of claims): `yibao gen` then `yibao batch
    --layer-columns`."""
    d = tmp_path_factory.mktemp("sample")
    claims = d / "claims.csv"
    settled = d / "settled.csv"
    run("gen", "--persons", PERSONS, "--seed", 18, "--output", claims)
    run("batch", "--input", claims, "--output", settled, "--layer-columns", "--quiet")
    rows = read_csv(settled)
    return claims, settled, rows
