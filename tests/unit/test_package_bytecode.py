"""``make package``'s bytecode: the same bytes wherever the tree is staged, and each code object names
its file where the Lambda unpacks the zip."""

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
