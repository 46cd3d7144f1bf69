"""Load stage (cold start): the compiled build of the per-event modules, when the package ships one.

Input: ``transform_lambda/_compiled/`` as ``scripts/build-native.sh`` makes it and ``make package``
ships it (unless ``NATIVE=0``): the mypyc library ``transform_lambda__mypyc``, one small extension module per
compiled module, the hand-written C modules (``_native_rows``, ``_native_payload``), and ``MANIFEST``
(``sources<TAB>sha256`` of every ``.py``, ``.c`` and ``.h`` file of the package it was
compiled with, then ``module<TAB>name`` per compiled module). Output: every compiled module imported
from its extension file, through an import finder first on ``sys.meta_path`` that serves this
package's directory only; or nothing at all, so that every module loads from its source as without
a build. The source is used when there is no build, when ``STREAM_PROCESSOR_NATIVE=off``, when the
build is for another Python or architecture, when any source of the package differs from the ones
it was compiled with (a stale build never runs), or when the library or any compiled module does
not load here (what a failed attempt imported is forgotten). ``STATUS`` says which, for the logs.
Both builds answer with the same bytes: ``make compiled`` runs the transform's tests on the compiled
one, on this machine and on arm64.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Final

ENV_SWITCH: Final = "STREAM_PROCESSOR_NATIVE"
LIBRARY: Final = "transform_lambda__mypyc"
COMPILED_DIR: Final = "_compiled"
MANIFEST: Final = "MANIFEST"
COMPILED: Final = "compiled"
NO_BUILD: Final = "source: no compiled build"
SWITCHED_OFF: Final = f"source: {ENV_SWITCH}=off"
_PACKAGE: Final = "transform_lambda"
_PACKAGE_DIR: Final = os.path.dirname(os.path.abspath(__file__))
# What a build is compiled from: mypyc's modules and the hand-written C ones (``_native_*.c`` and
# the headers they include).
_SOURCE_SUFFIXES: Final = (".py", ".c", ".h")
# Which build this process runs: COMPILED or why the source (None until ``install``).
STATUS: str | None = None


class CompiledFinder:
    """Finds each compiled module in the compiled directory, for the package in ``package_dir`` only
    (another copy of the package, as the A/B bench imports one, gets its own modules)."""

    def __init__(self, package_dir: str, files: dict[str, str]) -> None:
        self.package_dir = package_dir
        self.files = files

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        """The spec of ``fullname``'s extension file, or None for a module that was not compiled or
        whose parent package is not the one in ``package_dir``."""
        file = self.files.get(fullname)
        if file is None or path is None:
            return None
        parent = os.path.join(self.package_dir, *fullname.split(".")[1:-1])
        if not any(os.path.abspath(entry) == parent for entry in path):
            return None
        return importlib.util.spec_from_file_location(fullname, file)


def read_manifest(directory: str) -> tuple[str, tuple[str, ...]]:
    """The sources' digest and the compiled modules' names, from ``directory``'s MANIFEST.

    Raises:
        OSError: no readable manifest.
        ValueError: a manifest not of the form this module writes.
    """
    digest = ""
    modules: list[str] = []
    with open(os.path.join(directory, MANIFEST), encoding="utf-8") as manifest:
        for line in manifest:
            key, tab, value = line.rstrip("\n").partition("\t")
            if tab and key == "sources" and not digest and len(value) == 64:
                digest = value
            elif tab and key == "module" and value.startswith(f"{_PACKAGE}.") and "\t" not in value:
                modules.append(value)
            else:
                raise ValueError(f"bad manifest line {line!r}")
    if not digest or not modules:
        raise ValueError("a manifest names the sources' digest and at least one module")
    return digest, tuple(modules)


def sources_digest(package_dir: str = _PACKAGE_DIR) -> str:
    """The sha256 of every source under ``package_dir``, ``.py``, ``.c`` and ``.h`` files (paths and contents,
    in path order)."""
    files: list[str] = []
    for folder, subfolders, names in os.walk(package_dir):
        subfolders[:] = [name for name in subfolders if name not in (COMPILED_DIR, "__pycache__")]
        files.extend(os.path.join(folder, name) for name in names if name.endswith(_SOURCE_SUFFIXES))
    digest = hashlib.sha256()
    for file in sorted(os.path.relpath(file, package_dir).replace(os.sep, "/") for file in files):
        with open(os.path.join(package_dir, file), "rb") as source:
            digest.update(file.encode() + b"\0" + source.read() + b"\0")
    return digest.hexdigest()


def _load_library(directory: str, suffix: str) -> None:
    """Load the shared library the modules' extension files import, under its module name (once: a
    library of another build already loaded in this process is refused)."""
    path = os.path.join(directory, LIBRARY + suffix)
    loaded = sys.modules.get(LIBRARY)
    if loaded is not None:
        if getattr(loaded, "__file__", None) == path:
            return
        raise ImportError(f"another build's library is loaded in this process ({loaded.__file__})")
    spec = importlib.util.spec_from_file_location(LIBRARY, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"no loader for {LIBRARY}{suffix}")
    library = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(library)
    sys.modules[LIBRARY] = library


def choose(package_dir: str = _PACKAGE_DIR, environ: dict[str, str] | None = None) -> tuple[str, CompiledFinder | None]:
    """Decide between the compiled build in ``package_dir`` and the source: (status, finder or None).

    Loads the library when the build is to be used; never raises (any doubt means source).
    """
    directory = os.path.join(package_dir, COMPILED_DIR)
    if not os.path.isdir(directory):
        return NO_BUILD, None
    if (environ if environ is not None else os.environ).get(ENV_SWITCH, "").lower() == "off":
        return SWITCHED_OFF, None
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    try:
        digest, modules = read_manifest(directory)
    except (OSError, ValueError) as exc:
        return f"source: unreadable compiled build ({exc})", None
    files = {module: os.path.join(directory, module + suffix) for module in modules}
    if not all(os.path.isfile(file) for file in [os.path.join(directory, LIBRARY + suffix), *files.values()]):
        return f"source: no compiled build for this Python and architecture ({suffix})", None
    try:
        same = sources_digest(package_dir) == digest
    except OSError as exc:
        return f"source: the package's sources cannot be read ({exc})", None
    if not same:
        return "source: the package's sources differ from the ones the build was compiled with", None
    try:
        _load_library(directory, suffix)
    except Exception as exc:  # whatever a library's init raises, the source still works
        return f"source: the compiled library does not load ({exc})", None
    return COMPILED, CompiledFinder(package_dir, files)


def _forget(names: list[str]) -> None:
    """Take modules out of ``sys.modules`` and out of their parent package's attributes (an import
    of ``from transform_lambda import accel`` reads the attribute first), children first."""
    for name in sorted(names, key=lambda name: name.count("."), reverse=True):
        module = sys.modules.pop(name)
        parent, _, child = name.rpartition(".")
        package = sys.modules.get(parent)
        if package is not None and getattr(package, child, None) is module:
            delattr(package, child)


def install(package_dir: str = _PACKAGE_DIR) -> str:
    """Decide (``choose``) and, for the compiled build, import every compiled module through its
    finder, put first on ``sys.meta_path``; when one fails, take the finder away again and forget
    every module the attempt imported, so they all load from source. Sets and returns ``STATUS``;
    the package's ``__init__`` calls this once."""
    global STATUS
    if STATUS is not None:
        return STATUS
    before = set(sys.modules)
    status, finder = choose(package_dir)
    if finder is not None:
        sys.meta_path.insert(0, finder)
        try:
            for module in finder.files:
                importlib.import_module(module)
        except Exception as exc:  # any failure means the source, said in STATUS
            sys.meta_path.remove(finder)
            _forget([name for name in set(sys.modules) - before if name == LIBRARY or name.startswith(f"{_PACKAGE}.")])
            status = f"source: a compiled module does not load ({type(exc).__name__}: {exc})"
    STATUS = status
    return STATUS


def shipped_but_unused(status: str | None) -> bool:
    """Whether ``status`` (a ``STATUS``) says a compiled build was shipped and could not be used: the
    transform then runs from source, the same answers at several times the CPU time, which the
    handler reports (a warning at cold start, the ``CompiledBuildUnused`` metric per invocation)."""
    return status is not None and status not in (COMPILED, NO_BUILD, SWITCHED_OFF)


__all__ = [
    "COMPILED",
    "ENV_SWITCH",
    "LIBRARY",
    "NO_BUILD",
    "STATUS",
    "SWITCHED_OFF",
    "CompiledFinder",
    "choose",
    "install",
    "read_manifest",
    "shipped_but_unused",
    "sources_digest",
]
