"""Bench set-up of the transform as Firehose calls it, offline: quiet Powertools, no re-ingestion calls.

Input: nothing. Output: ``lambda_handler`` and a Lambda context. Powertools metrics are disabled
(``POWERTOOLS_METRICS_DISABLED=true``) and the log level is WARNING so stdout is not what is measured;
re-ingestion (records past the 6 MB response budget) goes to an in-memory fake that accepts
everything, so a benchmark never reaches AWS and always sees the same results.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any, Final

from stream_processor.firehose.invoke import Handler, LocalLambdaContext
from transform_lambda.reingest import ReingestItem

QUIET_ENV: Final = {"POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING"}
# What the handler calls for the re-ingester of an invocation; the bench replaces it.
REINGESTER_HOOK: Final = "reingester_for"


class AcceptingReingester:
    """Takes every item, puts nothing anywhere, and counts what it was given."""

    def __init__(self) -> None:
        self.items = 0

    def put(self, items: Sequence[ReingestItem]) -> set[int]:
        """Accept all items (none lost)."""
        self.items += len(items)
        return set()


def quiet_environment() -> None:
    """Set the Powertools variables before ``transform_lambda.handler`` is imported."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)


@contextmanager
def offline_handler() -> Iterator[tuple[Handler, AcceptingReingester]]:
    """The real ``lambda_handler`` with re-ingestion replaced by ``AcceptingReingester``."""
    quiet_environment()
    import transform_lambda.handler as handler_module

    with in_memory_reingestion(handler_module) as reingester:
        yield handler_module.lambda_handler, reingester


@contextmanager
def in_memory_reingestion(handler_module: ModuleType) -> Iterator[AcceptingReingester]:
    """For the block, a handler module's ``reingester_for`` answers with one ``AcceptingReingester``
    (any copy of ``transform_lambda.handler``: the A/B bench imports two)."""
    reingester = AcceptingReingester()
    original = getattr(handler_module, REINGESTER_HOOK)
    setattr(handler_module, REINGESTER_HOOK, lambda event, context: reingester)
    try:
        yield reingester
    finally:
        setattr(handler_module, REINGESTER_HOOK, original)


def lambda_context() -> Any:
    """A Lambda context like the runtime's, five minutes from its deadline."""
    return LocalLambdaContext(
        function_name="stream-processor-transform",
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:stream-processor-transform",
        aws_request_id="00000000-0000-4000-8000-000000000000",
        deadline_ms=int(time.time() * 1000) + 300_000,
    )


__all__ = [
    "QUIET_ENV",
    "REINGESTER_HOOK",
    "AcceptingReingester",
    "in_memory_reingestion",
    "lambda_context",
    "offline_handler",
    "quiet_environment",
]
