"""Loading the compiled build: it is used only when it is for this Python and architecture, compiled
from exactly the sources beside it, switched on and loadable; any doubt means the source, and the
handler then answers exactly as without a build. (The build itself, loaded and tested on x86_64 and
arm64, is ``make compiled``'s part: scripts/test-compiled.sh.)"""

from __future__ import annotations

import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import transform_lambda
from stream_processor.bench.offline import lambda_context
from transform_lambda import native
from transform_lambda.handler import lambda_handler_bytes

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]
PACKAGE = Path(transform_lambda.__file__).parent
REPO = PACKAGE.parent
MODULES = ("transform_lambda.timefmt", "transform_lambda.parse.vpc_flow")
EVENT = REPO / "fixtures" / "events" / "lambda-json.json"


def package_with_build(root: Path, modules: tuple[str, ...] = MODULES, suffix: str = SUFFIX) -> Path:
    """A copy of the package under ``root`` with a build of ``modules`` whose files are not loadable
    (nothing here can compile one): the manifest matches the sources unless a test changes them."""
    package = root / "transform_lambda"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__", native.COMPILED_DIR))
    build = package / native.COMPILED_DIR
    build.mkdir()
    lines = [f"sources\t{native.sources_digest(str(package))}\n", *(f"module\t{m}\n" for m in modules)]
    (build / native.MANIFEST).write_text("".join(lines), encoding="utf-8")
    for name in (native.LIBRARY, *modules):
        (build / (name + suffix)).write_bytes(b"not a shared object")
    return package


def fresh_interpreter(root: Path, script: str, **environ: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (argv[1]: the fixture event) in a fresh interpreter that finds the package copy
    under ``root`` first, with ``environ`` set; it must succeed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_", "STREAM_PROCESSOR_"))}
    env |= {"PYTHONPATH": f"{root}{os.pathsep}{REPO}", **environ}
    done = subprocess.run(
        [sys.executable, "-c", script, str(EVENT)], env=env, cwd=root, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def run_fresh(root: Path, script: str, with_stdout: bool = False) -> Any:
    """``fresh_interpreter`` with metrics off: what the script wrote last on stderr, as JSON (and its
    stdout, if asked)."""
    done = fresh_interpreter(root, script, POWERTOOLS_METRICS_DISABLED="true")
    seen = json.loads(done.stderr.strip().splitlines()[-1])
    return (seen, done.stdout) if with_stdout else seen


def test_without_a_build_the_source_is_used(tmp_path: Path) -> None:
    shutil.copytree(
        PACKAGE, tmp_path / "transform_lambda", ignore=shutil.ignore_patterns("__pycache__", native.COMPILED_DIR)
    )
    assert native.choose(str(tmp_path / "transform_lambda"), {}) == (native.NO_BUILD, None)


def test_the_switch_turns_a_build_off(tmp_path: Path) -> None:
    package = package_with_build(tmp_path)
    status, finder = native.choose(str(package), {native.ENV_SWITCH: "OFF"})
    assert (status, finder) == (f"source: {native.ENV_SWITCH}=off", None)


def test_a_build_for_another_python_or_architecture_is_not_used(tmp_path: Path) -> None:
    other = ".cpython-313-aarch64-linux-gnu.so" if SUFFIX != ".cpython-313-aarch64-linux-gnu.so" else ".cpython-312.so"
    package = package_with_build(tmp_path, suffix=other)
    status, finder = native.choose(str(package), {})
    assert finder is None
    assert status == f"source: no compiled build for this Python and architecture ({SUFFIX})"


@pytest.mark.parametrize(
    "change",
    ["parse/vpc_flow.py", "schema.py", "new.py", "-detect.py", "_native_rows.c", "_json_text.h"],
    ids=[
        "a compiled module",
        "a module compiled ones inline constants from",
        "a new module",
        "a removed one",
        "a C module",
        "a header the C modules include",
    ],
)
def test_a_build_of_other_sources_is_not_used(tmp_path: Path, change: str) -> None:
    package = package_with_build(tmp_path)
    if change.startswith("-"):
        (package / change[1:]).unlink()
    else:
        source = package / change
        text = source.read_text(encoding="utf-8") if source.exists() else ""
        source.write_text(text + "\n# changed after the build\n", encoding="utf-8")
    status, finder = native.choose(str(package), {})
    assert finder is None
    assert status == "source: the package's sources differ from the ones the build was compiled with"


def test_the_sources_digest_ignores_bytecode_and_the_build(tmp_path: Path) -> None:
    package = package_with_build(tmp_path)
    before = native.sources_digest(str(package))
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.py").write_text("cached", encoding="utf-8")
    (package / native.COMPILED_DIR / "y.py").write_text("built", encoding="utf-8")
    (package / "notes.txt").write_text("not a source", encoding="utf-8")
    assert native.sources_digest(str(package)) == before
    assert before != native.sources_digest(str(PACKAGE.parent / "stream_processor"))


@pytest.mark.parametrize(
    "content",
    [
        "module\ttransform_lambda.timefmt\n",  # no sources line
        f"sources\t{'0' * 64}\n",  # no module
        f"sources\t{'0' * 63}\nmodule\ttransform_lambda.timefmt\n",
        f"sources\t{'0' * 64}\nmodule\tos\n",
        f"sources\t{'0' * 64}\ntransform_lambda.timefmt\n",
        f"sources\t{'0' * 64}\nsources\t{'1' * 64}\nmodule\ttransform_lambda.timefmt\n",
    ],
)
def test_an_unreadable_manifest_means_the_source(tmp_path: Path, content: str) -> None:
    package = package_with_build(tmp_path)
    (package / native.COMPILED_DIR / native.MANIFEST).write_text(content, encoding="utf-8")
    status, finder = native.choose(str(package), {})
    assert finder is None
    assert status.startswith("source: unreadable compiled build (")


def test_a_library_that_does_not_load_means_the_source(tmp_path: Path) -> None:
    package = package_with_build(tmp_path)
    library = sys.modules.get(native.LIBRARY)  # loaded when these tests run on the compiled build
    status, finder = native.choose(str(package), {})
    assert finder is None
    assert status.startswith("source: the compiled library does not load (")
    assert sys.modules.get(native.LIBRARY) is library


def test_the_finder_serves_only_compiled_modules_of_its_own_package(tmp_path: Path) -> None:
    package = str(tmp_path / "transform_lambda")
    timefmt = str(tmp_path / ("transform_lambda.timefmt" + SUFFIX))
    flow = str(tmp_path / ("transform_lambda.parse.vpc_flow" + SUFFIX))
    finder = native.CompiledFinder(
        package, {"transform_lambda.timefmt": timefmt, "transform_lambda.parse.vpc_flow": flow}
    )
    spec = finder.find_spec("transform_lambda.timefmt", [package])
    assert spec is not None
    assert spec.origin == timefmt
    assert isinstance(spec.loader, importlib.machinery.ExtensionFileLoader)
    spec = finder.find_spec("transform_lambda.parse.vpc_flow", [os.path.join(package, "parse")])
    assert spec is not None and spec.origin == flow
    assert finder.find_spec("transform_lambda.parse.vpc_flow", [package]) is None  # not its parent
    assert finder.find_spec("transform_lambda.timefmt", [str(tmp_path / "elsewhere" / "transform_lambda")]) is None
    assert finder.find_spec("transform_lambda.timefmt", None) is None
    assert finder.find_spec("transform_lambda.shape", [package]) is None
    assert finder.find_spec("json", None) is None


def test_install_decides_once_and_the_finder_is_there_only_for_a_compiled_build() -> None:
    # The source here; the compiled build when make compiled runs these tests on it.
    expected = native.COMPILED if (PACKAGE / native.COMPILED_DIR).is_dir() else native.NO_BUILD
    status = native.STATUS
    assert status == expected
    finders = [finder for finder in sys.meta_path if isinstance(finder, native.CompiledFinder)]
    assert len(finders) == (1 if expected == native.COMPILED else 0)
    assert native.install() == expected
    assert [finder for finder in sys.meta_path if isinstance(finder, native.CompiledFinder)] == finders


def test_a_package_whose_build_cannot_load_answers_as_the_source_and_says_why(tmp_path: Path) -> None:
    """A whole cold start in a fresh interpreter: the package with a broken build beside its sources."""
    package_with_build(tmp_path)
    script = """
import json, sys
from stream_processor.bench.offline import lambda_context
from transform_lambda import native
from transform_lambda.handler import lambda_handler_bytes
event = json.load(open(sys.argv[1]))
response = lambda_handler_bytes(event, lambda_context())
sys.stderr.write(json.dumps({"status": native.STATUS, "file": native.__file__,
    "vpc_flow": sys.modules["transform_lambda.parse.vpc_flow"].__file__, "response": response.decode()}))
"""
    seen, stdout = run_fresh(tmp_path, script, with_stdout=True)
    assert seen["file"] == str(tmp_path / "transform_lambda" / "native.py")
    assert seen["status"].startswith("source: the compiled library does not load")
    assert seen["vpc_flow"] == str(tmp_path / "transform_lambda" / "parse" / "vpc_flow.py")
    warning = [json.loads(line) for line in stdout.splitlines() if "compiled build is not used" in line]
    assert len(warning) == 1 and warning[0]["build"] == seen["status"], stdout
    expected = lambda_handler_bytes(json.loads(EVENT.read_text(encoding="utf-8")), lambda_context())
    assert seen["response"] == expected.decode()
    assert len(json.loads(expected)["records"]) == len(json.loads(EVENT.read_text(encoding="utf-8"))["records"])


def test_a_compiled_module_that_does_not_load_takes_the_whole_build_back(tmp_path: Path) -> None:
    """The library loads (here: pretended), the first compiled module too (here: its source, served by
    the finder), but the next one's extension file does not: the finder goes, every module the attempt
    imported is forgotten, also as an attribute of its package, and the handler answers from source."""
    package_with_build(tmp_path, modules=("transform_lambda.accel", "transform_lambda.parse.vpc_flow"))
    script = """
import importlib.util, json, os, sys
import transform_lambda
from transform_lambda import native
native.STATUS = None
native._load_library = lambda directory, suffix: None
find_spec = native.CompiledFinder.find_spec
def pretend(self, fullname, path=None, target=None):
    if fullname == "transform_lambda.accel":  # "loads": a module object of its own, as a compiled one
        return importlib.util.spec_from_file_location(fullname, os.path.join(self.package_dir, "accel.py"))
    return find_spec(self, fullname, path, target)
native.CompiledFinder.find_spec = pretend
status = native.install()
left = sorted(m for m in sys.modules if m.startswith("transform_lambda.") and m != "transform_lambda.native")
attributes = [name for name in ("accel", "parse", "errors") if hasattr(transform_lambda, name)]
finders = [type(f).__name__ for f in sys.meta_path if isinstance(f, native.CompiledFinder)]
from stream_processor.bench.offline import lambda_context
from transform_lambda.handler import lambda_handler_bytes
from transform_lambda import accel, parse
response = lambda_handler_bytes(json.load(open(sys.argv[1])), lambda_context())
sys.stderr.write(json.dumps({"status": status, "left": left, "attributes": attributes, "finders": finders,
    "response": response.decode(), "vpc_flow": sys.modules["transform_lambda.parse.vpc_flow"].__file__,
    "one_accel": accel is sys.modules["transform_lambda.accel"],
    "one_parse": parse is sys.modules["transform_lambda.parse"]}))
"""
    seen = run_fresh(tmp_path, script)
    assert seen["status"].startswith("source: a compiled module does not load (ImportError: ")
    assert seen["left"] == []
    assert seen["attributes"] == []
    assert seen["finders"] == []
    assert seen["one_accel"] and seen["one_parse"]
    assert seen["vpc_flow"] == str(tmp_path / "transform_lambda" / "parse" / "vpc_flow.py")
    expected = lambda_handler_bytes(json.loads(EVENT.read_text(encoding="utf-8")), lambda_context())
    assert seen["response"] == expected.decode()


# One invocation with metrics on: the CompiledBuildUnused values of its EMF documents.
EMF_SCRIPT = """
import json, sys
from stream_processor.bench.offline import lambda_context
from transform_lambda.handler import lambda_handler
lambda_handler(json.load(open(sys.argv[1])), lambda_context())
"""


def compiled_build_unused(root: Path) -> list[float]:
    done = fresh_interpreter(root, EMF_SCRIPT, POWERTOOLS_LOG_LEVEL="ERROR")
    documents = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{") and '"_aws"' in line]
    values = [doc["CompiledBuildUnused"] for doc in documents]  # a list when a document holds several
    return [v for value in values for v in (value if isinstance(value, list) else [value])]


def test_a_shipped_build_that_is_not_used_is_counted_for_the_alarm(tmp_path: Path) -> None:
    # GIVEN a package whose shipped build cannot load, and the same package without a build
    broken, plain = tmp_path / "broken", tmp_path / "plain"
    package_with_build(broken)
    shutil.copytree(PACKAGE, plain / "transform_lambda", ignore=shutil.ignore_patterns("__pycache__", "_compiled"))
    # WHEN each answers an invocation in a fresh interpreter, metrics on
    # THEN only the broken one counts itself (the pipeline stack's CompiledBuildUnusedAlarm)
    assert compiled_build_unused(broken) == [1]
    assert compiled_build_unused(plain) == [0]


def test_only_a_shipped_build_that_failed_counts_as_unused() -> None:
    assert native.shipped_but_unused("source: the compiled library does not load (OSError: bad)")
    for status in (native.COMPILED, native.NO_BUILD, native.SWITCHED_OFF, None):
        assert not native.shipped_but_unused(status), status
