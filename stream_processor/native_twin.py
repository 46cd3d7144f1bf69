"""Load stage (the local twin's): the hand-written C, built for the tooling's Python.

Input: the directory ``python -m stream_processor.native_twin build DIR`` writes (``make`` builds it
into ``.venv/native``): the transform's payload reader and row writers
(``transform_lambda/_native_payload.c``, ``_native_rows.c``), the twin's reader of rows into Arrow
buffers (``stream_processor/firehose/_native_convert.c``) and its counter of a record's log events
(``_native_census.c``), compiled with this machine's C compiler for this Python, and ``MANIFEST``,
the sha256 of the sources they were built from. Output: the modules put where the twin's transform,
conversion and census use them (``transform_lambda.decode``, ``native_rows``, ``convert_columns``,
``census``), which then read, write and count what the Python paths do, faster; or nothing, and the
Python paths run. Nothing is loaded without a build, with
a build of other sources (a stale build never runs), with ``STREAM_PROCESSOR_NATIVE=off``, or when a
module does not load. The Lambda's build is ``transform_lambda.native``'s; this one never ships.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.machinery
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Final

from stream_processor.firehose import census, convert_columns
from transform_lambda import decode, native_rows
from transform_lambda.native import ENV_SWITCH, sources_digest

REPO: Final = Path(__file__).resolve().parent.parent
ROW_WRITERS: Final = "transform_lambda._native_rows"
READER: Final = "stream_processor.firehose._native_convert"
COUNTER: Final = "stream_processor.firehose._native_census"
PAYLOAD_READER: Final = "transform_lambda._native_payload"
_TWIN_C: Final = REPO / "stream_processor" / "firehose"
READER_SOURCE: Final = _TWIN_C / "_native_convert.c"
# The twin's own C: its modules' sources and the header they share.
TWIN_SOURCES: Final = (READER_SOURCE, _TWIN_C / "_native_census.c", _TWIN_C / "_utf8.h")
# (module name, source): each built as one extension module of that name.
MODULES: Final = (
    (ROW_WRITERS, REPO / "transform_lambda" / "_native_rows.c"),
    (PAYLOAD_READER, REPO / "transform_lambda" / "_native_payload.c"),
    (READER, READER_SOURCE),
    (COUNTER, _TWIN_C / "_native_census.c"),
)
MANIFEST: Final = "MANIFEST"
DEFAULT_DIR: Final = Path(sys.prefix) / "native"
LOADED: Final = "native"
# What the last ``load`` found: LOADED or why the Python paths run (None before any).
STATUS: str | None = None


def digest() -> str:
    """The sha256 of what a build is made from: the transform package's sources (the row writers
    mirror its parsers) and the twin's own C."""
    combined = hashlib.sha256(sources_digest().encode())
    for source in TWIN_SOURCES:
        combined.update(source.name.encode() + b"\0" + source.read_bytes())
    return combined.hexdigest()


def _file(directory: Path, name: str) -> Path:
    return directory / (name.rpartition(".")[2] + importlib.machinery.EXTENSION_SUFFIXES[0])


def _link_command() -> list[str]:
    """How this Python links an extension module (sysconfig's LDSHARED: ``gcc -shared`` on Linux,
    ``-bundle -undefined dynamic_lookup`` on macOS), with ``CC`` from the environment as the compiler,
    or ``cc`` when the one this Python was built with is not installed.

    Raises:
        FileNotFoundError: no such compiler.
    """
    command = shlex.split(sysconfig.get_config_var("LDSHARED") or "cc -shared")
    wanted = os.environ.get("CC")
    if wanted:
        command[0] = wanted
    elif shutil.which(command[0]) is None:
        command[0] = "cc"
    if shutil.which(command[0]) is None:
        raise FileNotFoundError(f"no C compiler ({command[0]}) found")
    return command


# ``make sanitize``'s build: AddressSanitizer and UndefinedBehaviorSanitizer, stopping at the first report.
SANITIZE_FLAGS: Final = (
    "-O1",
    "-g",
    "-fno-omit-frame-pointer",
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=undefined",
)


def build(directory: Path, *, strict: bool = False, sanitize: bool = False) -> None:
    """Compile every module for this Python into ``directory`` and write its MANIFEST; ``strict``
    makes warnings errors (the tests' build), ``sanitize`` builds with the sanitizers (loaded only
    into a Python started with their runtime preloaded: ``make sanitize``).

    Raises:
        FileNotFoundError: no C compiler.
        subprocess.CalledProcessError: a module did not compile.
    """
    link = _link_command()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MANIFEST).unlink(missing_ok=True)
    include = sysconfig.get_paths()["include"]
    optimize = list(SANITIZE_FLAGS) if sanitize else ["-O2"]
    flags = ["-fPIC", *optimize, "-Wall", "-Wextra", *(["-Werror"] if strict else [])]
    for name, source in MODULES:
        subprocess.run([*link, *flags, f"-I{include}", str(source), "-o", str(_file(directory, name))], check=True)
    (directory / MANIFEST).write_text(f"sources\t{digest()}\n", encoding="utf-8")


def import_built(directory: Path) -> dict[str, ModuleType]:
    """Every module of the build in ``directory``, imported (not registered in ``sys.modules``).

    Raises:
        ImportError: a module did not load.
    """
    modules: dict[str, ModuleType] = {}
    for name, _ in MODULES:
        spec = importlib.util.spec_from_file_location(name, _file(directory, name))
        if spec is None or spec.loader is None:
            raise ImportError(f"no module {name} in {directory}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules[name] = module
    return modules


def use(modules: dict[str, ModuleType] | None) -> None:
    """Put the built modules where the twin uses them, or take them away (None)."""
    native_rows.use(None if modules is None else modules[ROW_WRITERS])
    decode.use_native(None if modules is None else modules[PAYLOAD_READER])
    convert_columns.use(None if modules is None else modules[READER])
    census.use(None if modules is None else modules[COUNTER])


def load(directory: Path | None = None) -> str:
    """Use the build in ``directory`` (default ``DEFAULT_DIR``) if it is current; returns LOADED or why
    the Python paths run (also kept in ``STATUS``)."""
    global STATUS
    STATUS = _load(DEFAULT_DIR if directory is None else directory)
    return STATUS


def _load(directory: Path) -> str:
    if os.environ.get(ENV_SWITCH, "").lower() == "off":
        return f"python: {ENV_SWITCH}=off"
    try:
        recorded = (directory / MANIFEST).read_text(encoding="utf-8")
    except OSError:
        return "python: no native build (make builds one)"
    try:
        current = digest()
    except OSError:  # sources not at hand (an installed copy without its C)
        return "python: no native build (its sources are not at hand)"
    if recorded != f"sources\t{current}\n":
        return "python: the native build is of other sources (make rebuilds it)"
    try:
        modules = import_built(directory)
    except ImportError as exc:
        return f"python: the native build does not load ({exc})"
    use(modules)
    return LOADED


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m stream_processor.native_twin build [DIR]``: build for this Python. Without a C
    compiler, or when the build fails (the compiler says why), a note and exit 0: the build is
    optional, and the twin then runs the Python paths."""
    parser = argparse.ArgumentParser(prog="python -m stream_processor.native_twin", description=__doc__)
    parser.add_argument("command", choices=["build"])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--sanitize", action="store_true", help="build with ASan and UBSan (make sanitize)")
    args = parser.parse_args(argv)
    try:
        build(args.directory, sanitize=args.sanitize)
    except FileNotFoundError as exc:
        print(f"native_twin: {exc}; the local twin runs the Python paths", file=sys.stderr)
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"native_twin: the build failed ({exc}); the local twin runs the Python paths", file=sys.stderr)
        return 0
    print(f"native_twin: built {len(MODULES)} modules into {args.directory}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

__all__ = [
    "COUNTER",
    "DEFAULT_DIR",
    "LOADED",
    "MODULES",
    "PAYLOAD_READER",
    "READER",
    "ROW_WRITERS",
    "SANITIZE_FLAGS",
    "STATUS",
    "TWIN_SOURCES",
    "build",
    "digest",
    "import_built",
    "load",
    "main",
    "use",
]
