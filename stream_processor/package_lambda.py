"""Package: the transform's deployment zip for the Lambda target (arm64, CPython 3.13).

Input: ``transform_lambda/`` and its runtime dependencies, pinned by ``constraints.txt`` and fetched
as manylinux2014_aarch64 wheels only (nothing is compiled on the host). Output: a deterministic zip
(sorted entries, fixed timestamps, the same bytes from any checkout) whose ``.pyc`` files were
compiled by the target Python with unchecked-hash invalidation and ``/var/task`` paths, since
``/var/task`` is read-only and a package without them pays 5-7x the import time at every cold
start. With ``--native DIR`` (``make package``, unless ``NATIVE=0``) the zip also holds the compiled
build of the per-event modules that ``scripts/build-native.sh arm64 DIR`` made, as
``transform_lambda/_compiled``, checked first: for the Lambda's Python and architecture, and compiled
from exactly the sources being packaged (``transform_lambda.native`` checks that again at cold start
and runs the source otherwise).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from stream_processor.errors import ConfigError, ProcessorError
from stream_processor.infra_gen import TARGET_PYTHON
from transform_lambda import native

REPO: Final = Path(__file__).resolve().parent.parent
DEFAULT_OUT: Final = REPO / "build" / "transform_lambda.zip"
PLATFORM: Final = "manylinux2014_aarch64"
# The file name suffix of an extension module for the Lambda's Python and architecture.
EXTENSION_SUFFIX: Final = f".cpython-{TARGET_PYTHON.replace('.', '')}-aarch64-linux-gnu.so"

# What the transform imports besides the standard library (pyproject.toml, first group), and its
# optional accelerators (the "fast" extra; transform_lambda/accel.py falls back to the stdlib).
# aws-kinesis-agg imports six but does not declare it, so it is named here. The runtime test venvs
# (scripts/runtime-venv.sh, scripts/arm64-sysroot.sh) install this same list.
LAMBDA_REQUIREMENTS: Final = (
    "aws-lambda-powertools",
    "aws-kinesis-agg",
    "six",
    "orjson",
    "isal",
    "pybase64",
    "msgspec",
)
# Provided by the Lambda Python runtime. Bundling boto3 would pin it (+~15 MB unzipped, slower
# cold start) for code that only calls firehose:PutRecordBatch, an API stable for years.
RUNTIME_PROVIDED: Final = ("boto3", "botocore", "s3transfer")
_ZIP_EPOCH: Final = (1980, 1, 1, 0, 0, 0)
# Where the Lambda unpacks the zip (LAMBDA_TASK_ROOT).
TASK_ROOT: Final = "/var/task"


class PackageError(ProcessorError):
    """pip, the target interpreter or the zip step failed."""


def _run(argv: Sequence[str]) -> str:
    try:
        done = subprocess.run(argv, check=True, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise PackageError(f"{argv[0]} not found") from exc
    except subprocess.CalledProcessError as exc:
        raise PackageError(f"{' '.join(argv[:4])} ... failed:\n{exc.stderr.strip()}") from exc
    return done.stdout


def install_dependencies(staging: Path) -> None:
    """pip-install the requirements as target-platform wheels into ``staging``."""
    _run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-compile",
            "--platform", PLATFORM, "--implementation", "cp", "--python-version", TARGET_PYTHON,
            "--only-binary=:all:", "--target", str(staging),
            "-c", str(REPO / "constraints.txt"), *LAMBDA_REQUIREMENTS,
        ]
    )  # fmt: skip
    drop_console_scripts(staging)
    for entry in list(staging.iterdir()):
        base = entry.name.split("-", 1)[0].lower() if entry.name.endswith(".dist-info") else entry.name
        if base.replace("_", "-") in RUNTIME_PROVIDED or base in RUNTIME_PROVIDED:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def drop_console_scripts(staging: Path) -> None:
    """Remove the console scripts pip installed into ``staging`` (of no use on the Lambda) and their
    lines in each RECORD: each names the hash of a script whose shebang is this machine's interpreter
    path, which made two checkouts' zips differ."""
    shutil.rmtree(staging / "bin", ignore_errors=True)
    for record in sorted(staging.glob("*.dist-info/RECORD")):
        lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
        record.write_text("".join(line for line in lines if not line.startswith("../../bin/")), encoding="utf-8")


def copy_sources(staging: Path) -> None:
    """Copy the ``transform_lambda`` package (sources only: ``.py``, and the ``.c`` and ``.h`` a compiled
    build's check of its sources reads too) into ``staging``."""
    package = REPO / "transform_lambda"
    for source in sorted([*package.rglob("*.py"), *package.rglob("*.c"), *package.rglob("*.h")]):
        target = staging / source.relative_to(REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def copy_native(build: Path, staging: Path) -> int:
    """Copy a compiled build (``scripts/build-native.sh arm64 DIR``) into the staged package as
    ``transform_lambda/_compiled``; returns how many modules it compiles.

    Raises:
        ConfigError: no build there, a build for another Python or architecture, or one compiled from
            sources other than the staged ones.
    """
    try:
        digest, modules = native.read_manifest(str(build))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"no compiled build in {build}: {exc}") from exc
    needed = [native.LIBRARY, *modules]
    missing = [name for name in needed if not (build / (name + EXTENSION_SUFFIX)).is_file()]
    if missing:
        raise ConfigError(
            f"{build} is not a build for python{TARGET_PYTHON} on arm64 (no {missing[0]}{EXTENSION_SUFFIX})"
        )
    if native.sources_digest(str(staging / "transform_lambda")) != digest:
        raise ConfigError(f"{build} was compiled with other sources than these; build it again")
    target = staging / "transform_lambda" / native.COMPILED_DIR
    target.mkdir()
    shutil.copyfile(build / native.MANIFEST, target / native.MANIFEST)
    for name in needed:
        shutil.copyfile(build / (name + EXTENSION_SUFFIX), target / (name + EXTENSION_SUFFIX))
    return len(modules)


def compile_bytecode(staging: Path, target_python: str) -> None:
    """Precompile every module with the target interpreter.

    Raises:
        ConfigError: the interpreter is not CPython ``TARGET_PYTHON``.
    """
    version = _run([target_python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]).strip()
    if version != TARGET_PYTHON:
        raise ConfigError(f"{target_python} is Python {version}; the Lambda runtime is {TARGET_PYTHON}")
    precompile(staging, target_python)


def precompile(staging: Path, python: str) -> None:
    """Bytecode for every module under ``staging``, by ``python``, the same bytes wherever the tree is
    staged: each code object names its file as the Lambda sees it (under ``TASK_ROOT``, so tracebacks
    there point at real paths) rather than the staging directory, which made two checkouts' zips
    differ. (Set constants need nothing: marshal writes them sorted since Python 3.11.)"""
    argv = [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    _run([*argv, "-s", str(staging), "-p", TASK_ROOT, str(staging)])


def write_zip(staging: Path, out: Path) -> str:
    """Zip ``staging`` deterministically; returns the zip's sha256."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in staging.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(staging).as_posix(), date_time=_ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return hashlib.sha256(out.read_bytes()).hexdigest()


def main(argv: Sequence[str] | None = None) -> int:
    """Build the zip; prints its path, size and sha256."""
    parser = argparse.ArgumentParser(prog="python -m stream_processor.package_lambda", description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--target-python", default=f"python{TARGET_PYTHON}", help="interpreter for the .pyc files")
    parser.add_argument("--no-pyc", action="store_true", help="skip precompiling (slower cold starts)")
    parser.add_argument("--native", type=Path, metavar="DIR", help="ship this compiled build (build-native.sh arm64)")
    args = parser.parse_args(argv)
    staging = args.out.parent / "lambda"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        copy_sources(staging)
        compiled = copy_native(args.native, staging) if args.native else 0
        install_dependencies(staging)
        if not args.no_pyc:
            compile_bytecode(staging, args.target_python)
        digest = write_zip(staging, args.out)
    except ProcessorError as exc:
        sys.stderr.write(f"package: {exc}\n")
        return exc.exit_code
    build = f", {compiled} modules compiled" if compiled else ", source only (no compiled build)"
    sys.stdout.write(f"{args.out} {args.out.stat().st_size} bytes sha256={digest}{build}\n")
    return 0


__all__ = [
    "EXTENSION_SUFFIX",
    "LAMBDA_REQUIREMENTS",
    "RUNTIME_PROVIDED",
    "PackageError",
    "copy_native",
    "drop_console_scripts",
    "main",
    "precompile",
    "write_zip",
]

if __name__ == "__main__":
    raise SystemExit(main())
