"""Source stage, CloudWatch Logs API: ``FilterLogEvents`` over a time range into log events.

Input: a log group, a half-open time range ``[start, end)`` cut into windows (one unit of backfill
work each) and a boto3 ``logs`` client. Output: (log stream, ``LogEvent``) pairs with the real event
ids, paginated with ``nextToken``; throttling is retried by botocore's adaptive retry mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from stream_processor.errors import ConfigError
from transform_lambda.decode import LogEvent

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

HOUR_MS: Final = 3_600_000
# FilterLogEvents returns at most 10,000 events (1 MB) per page; asking for the maximum saves calls.
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
PAGE_LIMIT: Final = 10_000


@dataclass(frozen=True, slots=True)
class LogsWindow:
    """One window of one log group: events with ``start_ms <= timestamp < end_ms``. ``scope`` (account
    and region) tells apart log groups of one name in other accounts or regions."""

    log_group: str
    start_ms: int
    end_ms: int
    scope: str = ""

    @property
    def unit_id(self) -> str:
        """The stable name of this unit of work in the backfill state (and of its objects)."""
        where = f"{self.scope}:" if self.scope else ""
        return f"logs:{where}{self.log_group}:{self.start_ms}-{self.end_ms}"


def logs_windows(
    log_group: str, start_ms: int, end_ms: int, window_ms: int = HOUR_MS, scope: str = ""
) -> list[LogsWindow]:
    """``[start, end)`` cut at multiples of ``window_ms`` (so windows line up with hour partitions).

    Raises:
        ConfigError: an empty range or a window that is not a positive divisor of a day.
    """
    if end_ms <= start_ms:
        raise ConfigError("--end must be after --start")
    if window_ms <= 0 or (24 * HOUR_MS) % window_ms:
        raise ConfigError("the window must divide a day evenly")
    windows: list[LogsWindow] = []
    at = start_ms
    while at < end_ms:
        boundary = min(end_ms, (at // window_ms + 1) * window_ms)
        windows.append(LogsWindow(log_group, at, boundary, scope))
        at = boundary
    return windows


def logs_client() -> CloudWatchLogsClient:
    """A ``logs`` client that backs off on ``ThrottlingException`` (adaptive retries, 10 attempts)."""
    import boto3
    from botocore.config import Config

    from stream_processor.sinks.object_store import RETRY_ATTEMPTS, RETRY_MODE

    retries: Any = {"mode": RETRY_MODE, "max_attempts": RETRY_ATTEMPTS}
    return boto3.client("logs", config=Config(retries=retries))


def read_window_events(client: CloudWatchLogsClient, window: LogsWindow) -> Iterator[tuple[str, LogEvent]]:
    """Every event of the window as (log stream, event), in the order the API returns them.

    Raises:
        botocore.exceptions.ClientError: the API refused (after retries); the caller reports it.
    """
    paginator = client.get_paginator("filter_log_events")
    # endTime is inclusive in FilterLogEvents; windows are half-open.
    pages = paginator.paginate(
        logGroupName=window.log_group,
        startTime=window.start_ms,
        endTime=window.end_ms - 1,
        PaginationConfig={"PageSize": PAGE_LIMIT},
    )
    for page in pages:
        for raw in page.get("events", []):
            stream, event_id = raw.get("logStreamName", ""), raw.get("eventId", "")
            ts, message = raw.get("timestamp"), raw.get("message", "")
            yield stream, LogEvent(event_id, ts if isinstance(ts, int) else None, message)


__all__ = ["HOUR_MS", "LogsWindow", "logs_client", "logs_windows", "read_window_events"]
