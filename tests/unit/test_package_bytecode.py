"""``make package`` makes the same zip from any checkout: its bytecode names each file where the Lambda
unpacks the zip, and no RECORD names a console script (whose shebang is this machine's path)."""

from __future__ import annotations

import marshal
import sys
from pathlib import Path

from stream_processor import package_lambda

SOURCE = """NAMES = frozenset({"alpha", "beta", "gamma", "delta"})


def known(x):
    return x in {"one", "two", "three", "four", "five", "six"}
"""


def bytecode_staged_at(staging: Path) -> bytes:
    (staging / "pkg").mkdir(parents=True)
    (staging / "pkg" / "mod.py").write_text(SOURCE, encoding="utf-8")
    package_lambda.precompile(staging, sys.executable)
    (pyc,) = (staging / "pkg" / "__pycache__").glob("mod.*.pyc")
    return pyc.read_bytes()


def test_bytecode_is_the_same_wherever_it_is_staged(tmp_path: Path) -> None:
    # GIVEN the same module staged at two paths
    first = bytecode_staged_at(tmp_path / "a")
    second = bytecode_staged_at(tmp_path / "somewhere" / "else")
    # THEN the bytes are the same, and the code names the file the Lambda has
    assert first == second
    code = marshal.loads(first[16:])  # after the header: magic, flags, source hash
    assert code.co_filename == f"{package_lambda.TASK_ROOT}/pkg/mod.py"


def test_console_scripts_leave_no_trace_in_the_records(tmp_path: Path) -> None:
    # GIVEN what pip installs for a distribution with a console script
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "tool").write_text("#!/home/someone/.venv/bin/python\n", encoding="utf-8")
    info = tmp_path / "tool-1.0.dist-info"
    info.mkdir()
    kept = "tool/__init__.py,sha256=abc,10\ntool-1.0.dist-info/RECORD,,\n"
    (info / "RECORD").write_text("../../bin/tool,sha256=def,35\n" + kept, encoding="utf-8")
    # WHEN the package drops the console scripts THEN the script and its RECORD line are gone
    package_lambda.drop_console_scripts(tmp_path)
    assert not (tmp_path / "bin").exists()
    assert (info / "RECORD").read_text(encoding="utf-8") == kept
