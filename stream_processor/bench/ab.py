"""Bench, A/B: the transform at a git revision against the working tree, in one process, interleaved.

Input: a revision (a commit-ish ``git rev-parse`` resolves), request sizes and a round count.
Output: per size, each tree's handler time per log event and same-round ratio to the blueprint, and
the working tree's same-round ratio to the revision (the change's effect, with its quartiles over
the rounds), plus whether both answered the same response to the workload (one call each: a quick
check, not a proof of equivalence). The revision's ``transform_lambda`` is extracted to a temporary
directory and imported under its own name; each handler is called with its own tree's modules
registered in ``sys.modules`` (so even an import inside a function finds its own tree), and the
working tree's are registered again after. The blueprint runs in the same rounds. Timing two trees
in one process, round by round, is what tells a change of a few per cent from the noise of a shared
machine (docs/performance.md).
"""

from __future__ import annotations

import importlib
import io
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from stream_processor.bench.baselines import blueprint
from stream_processor.bench.offline import REINGESTER_HOOK, in_memory_reingestion, lambda_context, quiet_environment
from stream_processor.bench.rounds import run_rounds
from stream_processor.bench.workload import MIB, firehose_event
from stream_processor.errors import ConfigError

PACKAGE: Final = "transform_lambda"
BASE: Final = "base"
HEAD: Final = "head"
BLUEPRINT: Final = "blueprint"
# What ``offline`` calls in a handler module.
_ENTRY: Final = "lambda_handler"
Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True, slots=True)
class Tree:
    """One copy of the transform: its handler module and every ``transform_lambda`` module it uses."""

    handler: ModuleType
    modules: dict[str, ModuleType]


def repository_root() -> Path:
    """The checkout the working tree's ``transform_lambda`` was imported from."""
    import transform_lambda

    return Path(transform_lambda.__file__).resolve().parents[1]


def resolve_revision(repo: Path, revision: str) -> str:
    """The commit ``revision`` names in ``repo``.

    Raises:
        ConfigError: not a git checkout, or not a revision (an option-like one is refused outright).
    """
    if not revision or revision.startswith("-"):
        raise ConfigError(f"not a revision: {revision!r}")
    done = _git(repo, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    commit = done.stdout.decode(errors="replace").strip()
    if done.returncode != 0 or not commit:
        raise ConfigError(f"unknown revision {revision!r} in {repo}: {_said(done) or 'not a commit'}")
    return commit


def extract_revision(repo: Path, revision: str, dest: Path) -> str:
    """Write ``transform_lambda`` as of ``revision`` under ``dest``; returns the commit it names.

    Raises:
        ConfigError: not a git checkout, an unknown revision, or no transform at that revision.
    """
    commit = resolve_revision(repo, revision)
    done = _git(repo, "archive", "--format=tar", commit, PACKAGE)
    if done.returncode != 0:
        reason = _said(done) or f"git archive exited with {done.returncode}"
        raise ConfigError(f"cannot read {PACKAGE} at revision {revision!r}: {reason}")
    if not hasattr(tarfile, "data_filter"):
        raise ConfigError("reading a revision needs Python 3.11.4 or later (tarfile's data filter)")
    try:
        with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
            archive.extractall(dest, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise ConfigError(f"cannot extract {PACKAGE} at revision {revision!r}: {_first_line(exc)}") from exc
    if not (dest / PACKAGE / "handler.py").is_file():
        raise ConfigError(f"revision {revision!r} has no {PACKAGE}/handler.py")
    return commit


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except OSError as exc:
        raise ConfigError(f"cannot run git: {exc.strerror}") from exc


def _said(done: subprocess.CompletedProcess[bytes]) -> str:
    lines = done.stderr.decode(errors="replace").strip().splitlines()
    return lines[0] if lines else ""


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _package_modules() -> dict[str, ModuleType]:
    return {name: module for name, module in sys.modules.items() if name == PACKAGE or name.startswith(PACKAGE + ".")}


@contextmanager
def _registered(modules: dict[str, ModuleType]) -> Iterator[None]:
    """Register ``modules`` as the transform's for the block, then put back the ones registered
    before in place of whatever the block added under the same names."""
    before = _package_modules()
    for name in before:
        del sys.modules[name]
    sys.modules.update(modules)
    try:
        yield
    finally:
        for name in _package_modules():
            del sys.modules[name]
        sys.modules.update(before)


def import_tree(root: Path) -> Tree:
    """The transform as imported from ``root``, with ``sys.modules`` and ``sys.path`` left as they
    were (the working tree's modules stay the ones every other import finds).

    Raises:
        ConfigError: the tree cannot be imported, or another copy was imported instead.
    """
    quiet_environment()
    entry = str(root)
    with _registered({}):
        sys.path.insert(0, entry)
        importlib.invalidate_caches()
        try:
            handler = importlib.import_module(f"{PACKAGE}.handler")
        except Exception as exc:  # the revision's own code: any failure is the revision's
            raise ConfigError(f"cannot import {PACKAGE}.handler from the revision: {_first_line(exc)}") from exc
        finally:
            with suppress(ValueError):  # the revision's code may have taken it out already
                sys.path.remove(entry)
            sys.path_importer_cache.pop(entry, None)
        modules = _package_modules()
    outside = sorted(name for name, module in modules.items() if not _under(module, root))
    if outside:
        raise ConfigError(f"the revision's {', '.join(outside[:3])} came from outside {root}")
    return Tree(handler, modules)


def working_tree() -> Tree:
    """The transform as this process imported it."""
    import transform_lambda.handler

    return Tree(transform_lambda.handler, _package_modules())


def _under(module: ModuleType, root: Path) -> bool:
    source = getattr(module, "__file__", None)
    return source is not None and Path(source).resolve().is_relative_to(root.resolve())


@contextmanager
def offline(tree: Tree) -> Iterator[Handler]:
    """The tree's ``lambda_handler``, called with the tree's modules registered and re-ingestion kept
    in memory (no AWS calls), for the block.

    Raises:
        ConfigError: the handler has no ``reingester_for`` to replace (a revision too old for this).
    """
    module = tree.handler
    if not hasattr(module, REINGESTER_HOOK) or not hasattr(module, _ENTRY):
        raise ConfigError(f"the revision's handler has no {_ENTRY} and {REINGESTER_HOOK} to run offline")
    with in_memory_reingestion(module):
        yield partial(_call, tree.modules, getattr(module, _ENTRY))


def _call(modules: dict[str, ModuleType], handler: Handler, event: dict[str, Any], context: Any) -> Any:
    with _registered(modules):  # a few microseconds, against milliseconds for the call
        return handler(event, context)


def measure_ab(revision: str, sizes_mb: Sequence[float], rounds: int, repo: Path | None = None) -> dict[str, Any]:
    """Time the revision's handler (``base``), the working tree's (``head``) and the blueprint on the
    same events, interleaved; per size, the medians and same-round ratios.

    Raises:
        ConfigError: the revision cannot be read or imported, or a handler raised while timed.
    """
    quiet_environment()
    root = repo if repo is not None else repository_root()
    head_tree = working_tree()
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-ab-")))
        commit = extract_revision(root, revision, tmp)
        base = stack.enter_context(offline(import_tree(tmp)))
        head = stack.enter_context(offline(head_tree))
        context = lambda_context()
        try:
            sizes = {f"{size:g}": _measure_size(base, head, context, size, rounds) for size in sizes_mb}
        except Exception as exc:  # a handler should never raise; say which run did, in one line
            raise ConfigError(f"a handler raised while timed: {_first_line(exc)}") from exc
    return {"revision": revision, "commit": commit, "sizes": sizes}


def _measure_size(base: Handler, head: Handler, context: Any, size_mb: float, rounds: int) -> dict[str, Any]:
    workload = firehose_event(int(size_mb * MIB))
    event = workload.event
    timings = run_rounds(
        {
            BASE: partial(base, event, context),
            HEAD: partial(head, event, context),
            BLUEPRINT: partial(blueprint, event),
        },
        rounds,
    )
    events = workload.log_events
    return {
        "request_bytes": workload.request_bytes,
        "log_events": events,
        "rounds": rounds,
        "same_response": base(event, context) == head(event, context),
        "base_us_per_event": timings.median(BASE) / events * 1e6,
        "head_us_per_event": timings.median(HEAD) / events * 1e6,
        "blueprint_us_per_event": timings.median(BLUEPRINT) / events * 1e6,
        "base_x_blueprint": timings.ratio(BASE, BLUEPRINT),
        "head_x_blueprint": timings.ratio(HEAD, BLUEPRINT),
        "head_x_base": timings.ratio(HEAD, BASE),
        "head_x_base_quartiles": list(timings.ratio_quartiles(HEAD, BASE)),
    }


__all__ = [
    "Tree",
    "extract_revision",
    "import_tree",
    "measure_ab",
    "offline",
    "repository_root",
    "resolve_revision",
    "working_tree",
]
