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
    lines = [f"{module}\t{native.source_digest(module, str(root))}\n" for module in modules]
    (build / native.MANIFEST).write_text("".join(lines), encoding="utf-8")
    for name in (native.LIBRARY, *modules):
        (build / (name + suffix)).write_bytes(b"not a shared object")
    return package


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


def test_a_build_of_other_sources_is_not_used(tmp_path: Path) -> None:
    package = package_with_build(tmp_path)
    source = package / "parse" / "vpc_flow.py"
    source.write_text(source.read_text(encoding="utf-8") + "\n# changed after the build\n", encoding="utf-8")
    status, finder = native.choose(str(package), {})
    assert finder is None
    assert status == "source: transform_lambda.parse.vpc_flow differs from the source it was compiled from"


def test_a_manifest_naming_a_module_without_source_is_not_used(tmp_path: Path) -> None:
    package = package_with_build(tmp_path)
    build = package / native.COMPILED_DIR
    with (build / native.MANIFEST).open("a", encoding="utf-8") as manifest:
        manifest.write(f"transform_lambda.gone\t{'0' * 64}\n")
    (build / ("transform_lambda.gone" + SUFFIX)).write_bytes(b"")
    status, finder = native.choose(str(package), {})
    assert (status, finder) == ("source: transform_lambda.gone differs from the source it was compiled from", None)


@pytest.mark.parametrize("content", ["transform_lambda.timefmt\n", "os\t" + "0" * 64 + "\n", "x\ty\tz\n"])
def test_an_unreadable_manifest_means_the_source(tmp_path: Path, content: str) -> None:
    package = package_with_build(tmp_path)
    (package / native.COMPILED_DIR / native.MANIFEST).write_text(content, encoding="utf-8")
    status, finder = native.choose(str(package), {})
    assert finder is None
    assert status.startswith("source: unreadable compiled build (bad manifest line")


def test_an_empty_manifest_means_the_source(tmp_path: Path) -> None:
    package = package_with_build(tmp_path, modules=())
    status, finder = native.choose(str(package), {})
    assert finder is None
    assert status.startswith("source: no compiled build")


def test_a_library_that_does_not_load_means_the_source(tmp_path: Path) -> None:
    package = package_with_build(tmp_path)
    status, finder = native.choose(str(package), {})
    assert finder is None
    assert status.startswith("source: the compiled library does not load (")
    assert native.LIBRARY not in sys.modules


def test_the_finder_finds_only_the_compiled_modules(tmp_path: Path) -> None:
    file = tmp_path / ("transform_lambda.timefmt" + SUFFIX)
    finder = native.CompiledFinder({"transform_lambda.timefmt": str(file)})
    spec = finder.find_spec("transform_lambda.timefmt")
    assert spec is not None
    assert spec.origin == str(file)
    assert isinstance(spec.loader, importlib.machinery.ExtensionFileLoader)
    assert finder.find_spec("transform_lambda.shape") is None
    assert finder.find_spec("json") is None


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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_", "STREAM_PROCESSOR_"))}
    env |= {"PYTHONPATH": f"{tmp_path}{os.pathsep}{REPO}", "POWERTOOLS_METRICS_DISABLED": "true"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(EVENT)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    seen = json.loads(done.stderr.strip().splitlines()[-1])
    assert seen["file"] == str(tmp_path / "transform_lambda" / "native.py")
    assert seen["status"].startswith("source: the compiled library does not load")
    assert seen["vpc_flow"] == str(tmp_path / "transform_lambda" / "parse" / "vpc_flow.py")
    warning = [json.loads(line) for line in done.stdout.splitlines() if "compiled build is not used" in line]
    assert len(warning) == 1 and warning[0]["build"] == seen["status"], done.stdout
    expected = lambda_handler_bytes(json.loads(EVENT.read_text(encoding="utf-8")), lambda_context())
    assert seen["response"] == expected.decode()
    assert len(json.loads(expected)["records"]) == len(json.loads(EVENT.read_text(encoding="utf-8"))["records"])
