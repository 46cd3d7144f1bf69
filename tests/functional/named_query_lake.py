"""A small lake built from hand-written payloads, for the named-query tests.

Every expected answer in test_named_queries.py was worked out by hand from the payloads below, in
the window [2025-11-23 10:00, 11:00). Outside it: one row at 09:59:59 (same record as a row inside,
so that record sits in partition hour 09: the window's one-hour partition slack must find it), a
row on the day before and one at 12:00.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stream_processor.pipeline import LocalFirehose, RunStats
from stream_processor.settings import DeliverySettings
from stream_processor.sources.fixture import SourceRecord
from tests.conftest import data_message
from transform_lambda.handler import lambda_handler

SINCE = "2025-11-23T10:00:00Z"
UNTIL = "2025-11-23T11:00:00Z"
RID = ("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222")


def ms(text: str) -> int:
    """``"10:00:00.100"`` on 2025-11-23, or a full ``"2025-11-22 10:00:00"``, as epoch milliseconds."""
    full = text if " " in text else f"2025-11-23 {text}"
    moment = datetime.strptime(full, "%Y-%m-%d %H:%M:%S.%f" if "." in full else "%Y-%m-%d %H:%M:%S")
    return int(moment.replace(tzinfo=UTC).timestamp() * 1000)


def _report(duration: float, memory: int, used: int, init: float | None = None) -> str:
    line = (
        f"REPORT RequestId: {RID[0]}\tDuration: {duration:.2f} ms\tBilled Duration: {int(duration) + 1} ms\t"
        f"Memory Size: {memory} MB\tMax Memory Used: {used} MB\t"
    )
    return line + (f"Init Duration: {init:.2f} ms\t" if init is not None else "") + "\n"


def _access(method: str, route: str, status: int, latency: int) -> str:
    return json.dumps(
        {
            "requestId": f"req-{status}-{latency}",
            "ip": "203.0.113.5",
            "httpMethod": method,
            "resourcePath": route,
            "path": route.replace("{id}", "42"),
            "status": str(status),
            "responseLatency": str(latency),
        }
    )


def _trail(name: str, identity: dict[str, Any], ip: str, **extra: Any) -> str:
    source = "signin.amazonaws.com" if name == "ConsoleLogin" else "s3.amazonaws.com"
    doc = {"eventVersion": "1.09", "eventSource": source, "eventName": name, "awsRegion": "us-east-1"}
    return json.dumps({**doc, "sourceIPAddress": ip, "userIdentity": identity, **extra})


ROLE = "arn:aws:sts::123456789012:assumed-role/dev/alice"
_FLOW = "2 123456789012 eni-0abc {} {} {} {} 6 {} {} 1763892000 1763892060 {} OK"

# (log group, log stream, [(event time, message)], arrival time)
RECORDS: list[tuple[str, str, list[tuple[str, str]], str]] = [
    (
        "/aws/lambda/orders-api",
        "2025/11/23/[$LATEST]abc",
        [
            ("10:00:00.000", f"START RequestId: {RID[0]} Version: $LATEST\n"),
            ("10:00:00.100", f"[ERROR]\t2025-11-23T10:00:00.100Z\t{RID[0]}\tPayment 123 failed for order 456\n"),
            ("10:00:00.200", _report(100, 128, 100, init=200)),
            ("10:01:00.000", _report(300, 128, 64)),
            ("10:02:00.000", _report(200, 128, 90)),
        ],
        "10:02:30.000",
    ),
    (
        # Not a Lambda log group: detected as lambda by its START line; the function is the group.
        "/custom/worker",
        "worker-1",
        [
            ("10:05:00.000", f"START RequestId: {RID[1]} Version: $LATEST\n"),
            ("10:05:00.050", _report(50, 256, 256)),
        ],
        "10:05:05.000",
    ),
    (
        "API-Gateway-Access-Logs_abc123/prod",
        "stream-1",
        [
            ("10:10:00.000", _access("GET", "/orders/{id}", 200, 10)),
            ("10:10:01.000", _access("GET", "/orders/{id}", 404, 20)),
            ("10:10:02.000", _access("GET", "/orders/{id}", 500, 30)),
            ("10:10:03.000", _access("POST", "/orders", 201, 40)),
        ],
        "10:10:10.000",
    ),
    (
        "/vpc/flow-logs",
        "eni-0abc-all",
        [
            ("10:20:00.000", _FLOW.format("10.0.0.1", "10.0.0.2", 40000, 443, 10, 1000, "ACCEPT")),
            ("10:20:01.000", _FLOW.format("10.0.0.1", "10.0.0.2", 40001, 443, 5, 500, "ACCEPT")),
            ("10:20:02.000", _FLOW.format("10.0.0.9", "10.0.0.2", 50000, 22, 1, 60, "REJECT")),
            ("10:20:03.000", _FLOW.format("10.0.0.9", "10.0.0.2", 50001, 22, 2, 120, "REJECT")),
            ("10:20:04.000", "2 123456789012 eni-0abc - - - - - - - 1763892000 1763892060 - NODATA"),
        ],
        "10:20:30.000",
    ),
    (
        "aws-cloudtrail-logs-123456789012",
        "123456789012_CloudTrail_us-east-1",
        [
            (
                "10:30:00.000",
                _trail("ConsoleLogin", {"type": "Root", "arn": "arn:aws:iam::123456789012:root"}, "198.51.100.7"),
            ),
            (
                "10:30:01.000",
                _trail("GetObject", {"type": "AssumedRole", "arn": ROLE}, "198.51.100.8", errorCode="AccessDenied"),
            ),
            (
                "10:30:02.000",
                _trail("GetObject", {"type": "AssumedRole", "arn": ROLE}, "198.51.100.9", errorCode="AccessDenied"),
            ),
            (
                "10:30:03.000",
                _trail(
                    "PutObject",
                    {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/bob", "userName": "bob"},
                    "198.51.100.10",
                    sessionCredentialFromConsole="true",
                ),
            ),
        ],
        "10:30:20.000",
    ),
    (
        # Arrives late: 300.0 s and 240.1 s after the events (5 and 4 whole minutes).
        "/ecs/api",
        "api/web/1",
        [
            ("10:40:00.000", json.dumps({"level": "error", "msg": "Payment 789 failed for order 1"})),
            ("10:40:59.900", json.dumps({"level": "fatal", "msg": "disk full on /dev/sda1"})),
        ],
        "10:45:00.000",
    ),
    (
        # Partition hour 09 (its earliest event); its second event is inside the window.
        "/ecs/slack",
        "slack/1",
        [
            ("09:59:59.000", json.dumps({"level": "info", "msg": "before the window"})),
            ("10:00:30.000", json.dumps({"level": "info", "msg": "inside the window"})),
        ],
        "10:00:31.000",
    ),
    ("/ecs/old", "old/1", [("2025-11-22 10:30:00", json.dumps({"level": "error", "msg": "yesterday 1"}))], "10:30:01"),
    ("/ecs/late", "late/1", [("12:00:00.000", json.dumps({"level": "error", "msg": "after the window"}))], "12:00:01"),
]


def build_lake(root: Path) -> RunStats:
    """Write the records above into a lake under ``root`` through the transform and local Firehose."""
    records = []
    for group, stream, events, arrival in RECORDS:
        payload = data_message([(ms(t), m) for t, m in events], log_group=group, log_stream=stream)
        records.append(SourceRecord(gzip.compress(json.dumps(payload).encode(), mtime=0), ms(arrival), group))
    records.sort(key=lambda r: r.arrival_ms)
    firehose = LocalFirehose(root, DeliverySettings(), lambda_handler, clock_ms=lambda: ms("12:00:01.000"))
    return firehose.run(records)
