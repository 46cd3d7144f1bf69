"""Load stage (cold start): the compiled build of the per-event modules, when the package ships one.

Input: ``transform_lambda/_compiled/`` as ``scripts/build-native.sh`` makes it and ``make package
NATIVE=1`` ships it: the mypyc library ``transform_lambda__mypyc``, one small extension module per
compiled module, and ``MANIFEST`` (per line: module name, tab, sha256 of the source it was compiled
from). Output: an import finder, first on ``sys.meta_path``, that loads those modules from their
extension files; or nothing at all, so that every module loads from its source as without a build.
The source is used when there is no build, when ``STREAM_PROCESSOR_NATIVE=off``, when the build is for
another Python or architecture, when a module's source differs from the one compiled (a stale build
never runs), or when the library does not load here. ``STATUS`` says which, for the logs.
Both builds answer with the same bytes: ``make compiled`` runs the transform's tests on the compiled
one, on x86_64 and on arm64.
"""

from __future__ import annotations

import hashlib
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
_PACKAGE_DIR: Final = os.path.dirname(os.path.abspath(__file__))
_PACKAGE_ROOT: Final = os.path.dirname(_PACKAGE_DIR)
# Which build this process runs: COMPILED or why the source (None until ``install``).
STATUS: str | None = None


class CompiledFinder:
    """Finds each compiled module in the compiled directory (any other name: not this finder's)."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        """The spec of ``fullname``'s extension file, or None for a module that was not compiled."""
        file = self.files.get(fullname)
        return None if file is None else importlib.util.spec_from_file_location(fullname, file)


def read_manifest(directory: str) -> dict[str, str]:
    """Module name -> sha256 of its source, from ``directory``'s MANIFEST.

    Raises:
        OSError: no readable manifest.
        ValueError: a line that is not ``module<TAB>sha256``.
    """
    entries: dict[str, str] = {}
    with open(os.path.join(directory, MANIFEST), encoding="utf-8") as manifest:
        for line in manifest:
            module, tab, digest = line.rstrip("\n").partition("\t")
            if not tab or not module.startswith("transform_lambda.") or len(digest) != 64:
                raise ValueError(f"bad manifest line {line!r}")
            entries[module] = digest
    return entries


def source_digest(module: str, root: str = _PACKAGE_ROOT) -> str:
    """The sha256 of a module's source file under ``root`` (the directory holding the package)."""
    with open(os.path.join(root, *module.split(".")) + ".py", "rb") as source:
        return hashlib.sha256(source.read()).hexdigest()


def _load_library(directory: str, suffix: str) -> None:
    """Load the shared library the modules' extension files import, under its module name."""
    spec = importlib.util.spec_from_file_location(LIBRARY, os.path.join(directory, LIBRARY + suffix))
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
        return f"source: {ENV_SWITCH}=off", None
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    try:
        manifest = read_manifest(directory)
    except (OSError, ValueError) as exc:
        return f"source: unreadable compiled build ({exc})", None
    files = {module: os.path.join(directory, module + suffix) for module in manifest}
    needed = [os.path.join(directory, LIBRARY + suffix), *files.values()]
    if not manifest or not all(os.path.isfile(file) for file in needed):
        return f"source: no compiled build for this Python and architecture ({suffix})", None
    root = os.path.dirname(package_dir)
    for module, digest in manifest.items():
        try:
            same = source_digest(module, root) == digest
        except OSError:
            same = False
        if not same:
            return f"source: {module} differs from the source it was compiled from", None
    try:
        _load_library(directory, suffix)
    except (ImportError, OSError) as exc:
        return f"source: the compiled library does not load ({exc})", None
    return COMPILED, CompiledFinder(files)


def install() -> str:
    """Put the compiled build's finder first on ``sys.meta_path`` when ``choose`` takes it (once per
    process: the package's ``__init__`` calls this); sets and returns ``STATUS``."""
    global STATUS
    if STATUS is None:
        status, finder = choose()
        if finder is not None:
            sys.meta_path.insert(0, finder)
        STATUS = status
    return STATUS


__all__ = [
    "COMPILED",
    "ENV_SWITCH",
    "LIBRARY",
    "NO_BUILD",
    "STATUS",
    "CompiledFinder",
    "choose",
    "install",
    "read_manifest",
    "source_digest",
]
