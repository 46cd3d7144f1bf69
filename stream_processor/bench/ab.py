"""Bench, A/B: the transform at a git revision against the working tree, in one process, interleaved.

Input: a revision (anything ``git archive`` takes), request sizes and a round count. Output: per
size, each tree's handler time per log event and same-round ratio to the blueprint, and the working
tree's same-round ratio to the revision (the change's effect, with its quartiles over the rounds),
plus whether both answered the same response. The revision's ``transform_lambda`` is extracted to a
temporary directory and imported under its own name while the working tree's modules are set aside,
so each handler runs with its own modules; the blueprint runs in the same rounds. Timing two trees
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
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from stream_processor.bench.baselines import blueprint
from stream_processor.bench.offline import AcceptingReingester, lambda_context, quiet_environment
from stream_processor.bench.rounds import run_rounds
from stream_processor.bench.workload import MIB, firehose_event
from stream_processor.errors import ConfigError

PACKAGE: Final = "transform_lambda"
BASE: Final = "base"
HEAD: Final = "head"
BLUEPRINT: Final = "blueprint"
# What ``offline`` replaces and calls in a handler module (as ``offline.offline_handler`` does).
_REINGESTER_HOOK: Final = "reingester_for"
_ENTRY: Final = "lambda_handler"
Handler = Callable[[dict[str, Any], Any], Any]


def repository_root() -> Path:
    """The checkout the working tree's ``transform_lambda`` was imported from."""
    import transform_lambda

    return Path(transform_lambda.__file__).resolve().parents[1]


def extract_revision(repo: Path, revision: str, dest: Path) -> Path:
    """Write ``transform_lambda`` as of ``revision`` under ``dest``; returns ``dest``.

    Raises:
        ConfigError: not a git checkout, an unknown revision, or no transform at that revision.
    """
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), "archive", "--format=tar", revision, PACKAGE],
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        raise ConfigError(f"cannot run git to read revision {revision!r}: {exc.strerror}") from exc
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        reason = said[0] if said else f"git archive exited with {done.returncode}"
        raise ConfigError(f"cannot read {PACKAGE} at revision {revision!r}: {reason}")
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        archive.extractall(dest, filter="data")
    if not (dest / PACKAGE / "handler.py").is_file():
        raise ConfigError(f"revision {revision!r} has no {PACKAGE}/handler.py")
    return dest


def _package_modules() -> dict[str, ModuleType]:
    return {name: module for name, module in sys.modules.items() if name == PACKAGE or name.startswith(PACKAGE + ".")}


@contextmanager
def _modules_set_aside() -> Iterator[None]:
    """Take the working tree's transform modules out of ``sys.modules`` for the block, then put them
    back in place of whatever the block imported under the same names."""
    current = _package_modules()
    for name in current:
        del sys.modules[name]
    try:
        yield
    finally:
        for name in _package_modules():
            del sys.modules[name]
        sys.modules.update(current)


def import_handler(root: Path) -> ModuleType:
    """``transform_lambda.handler`` as imported from ``root``, with ``sys.modules`` and ``sys.path``
    left as they were (the working tree's modules stay the ones every other import finds).

    Raises:
        ConfigError: the tree cannot be imported, or another copy was imported instead.
    """
    quiet_environment()
    with _modules_set_aside():
        sys.path.insert(0, str(root))
        importlib.invalidate_caches()
        try:
            module = importlib.import_module(f"{PACKAGE}.handler")
        except Exception as exc:  # the revision's own code: any failure is the revision's
            raise ConfigError(
                f"cannot import {PACKAGE}.handler from the revision: {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            sys.path.remove(str(root))
    source = Path(module.__file__ or "")
    if not source.resolve().is_relative_to(root.resolve()):
        raise ConfigError(f"imported {source}, not the revision's copy under {root}")
    return module


@contextmanager
def offline(handler_module: ModuleType) -> Iterator[Handler]:
    """The module's ``lambda_handler`` with re-ingestion kept in memory (no AWS calls) for the block.

    Raises:
        ConfigError: the module has no ``reingester_for`` to replace (a revision too old for this).
    """
    if not hasattr(handler_module, _REINGESTER_HOOK) or not hasattr(handler_module, _ENTRY):
        raise ConfigError(f"the revision's handler has no {_ENTRY} and {_REINGESTER_HOOK} to run offline")
    reingester = AcceptingReingester()
    original = getattr(handler_module, _REINGESTER_HOOK)
    setattr(handler_module, _REINGESTER_HOOK, lambda event, context: reingester)
    try:
        yield getattr(handler_module, _ENTRY)
    finally:
        setattr(handler_module, _REINGESTER_HOOK, original)


def measure_ab(revision: str, sizes_mb: Sequence[float], rounds: int, repo: Path | None = None) -> dict[str, Any]:
    """Time the revision's handler (``base``), the working tree's (``head``) and the blueprint on the
    same events, interleaved; per size, the medians and same-round ratios.

    Raises:
        ConfigError: the revision cannot be read or imported.
    """
    quiet_environment()
    import transform_lambda.handler as working

    root = repo if repo is not None else repository_root()
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-ab-")))
        base = stack.enter_context(offline(import_handler(extract_revision(root, revision, tmp))))
        head = stack.enter_context(offline(working))
        context = lambda_context()
        sizes = {f"{size:g}": _measure_size(base, head, context, size, rounds) for size in sizes_mb}
    return {"revision": revision, "sizes": sizes}


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


__all__ = ["extract_revision", "import_handler", "measure_ab", "offline", "repository_root"]
