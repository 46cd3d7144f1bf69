"""Bench probes: the cold start is timed with the package's bytecode in place, as the deployment zip
ships it, even where the environment says never to write bytecode."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stream_processor.bench import probes

ROOT = Path(__file__).resolve().parents[2]

# The package's modules this interpreter loaded from source, and those among them without bytecode.
CHECK = """
import json, os, sys
import transform_lambda.handler
loaded = [m for name, m in sys.modules.items() if name.split(".")[0] == "transform_lambda"
          and (getattr(m, "__file__", None) or "").endswith(".py")]
print(json.dumps({
    "files": sorted(m.__file__ for m in loaded),
    "without_bytecode": sorted(m.__name__ for m in loaded if not os.path.exists(m.__cached__)),
}))
"""


def test_probes_import_the_package_from_its_bytecode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a copy of the package without bytecode, where no interpreter writes any
    ignore = shutil.ignore_patterns("__pycache__", "_compiled")
    shutil.copytree(ROOT / "transform_lambda", tmp_path / "transform_lambda", ignore=ignore)
    monkeypatch.setattr(probes, "REPO", tmp_path)
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    # WHEN the probes prepare it, and a fresh interpreter imports the handler from it
    probes._precompile()
    done = subprocess.run([sys.executable, "-c", CHECK], cwd=tmp_path, capture_output=True, text=True, check=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    # THEN every module of the package it loaded came from the copy, with its bytecode beside it
    assert len(out["files"]) > 10
    assert all(file.startswith(str(tmp_path)) for file in out["files"]), out["files"]
    assert out["without_bytecode"] == []
