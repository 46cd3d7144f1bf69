"""Source stage, synthetic: deterministic CloudWatch Logs subscription traffic for load tests,
benchmarks and demos.

Input: a seed, a source mix and an amount (log events or bytes). Output: subscription payloads
(dicts in the exact wire shape, 20-100 events each, one source per payload as CloudWatch batches per
stream) and their gzip record bytes. The same (seed, mix, amount) always gives the same bytes.
"""

from __future__ import annotations

import gzip
import json
import random
import time
from collections.abc import Iterator, Mapping
from typing import Any, Final

ACCOUNT: Final = "123456789012"
REGION: Final = "us-east-1"
DEFAULT_START_MS: Final = 1_763_892_000_000  # 2025-11-23T10:00:00Z
DEFAULT_MIX: Final[dict[str, float]] = {"lambda": 50, "vpc_flow": 20, "apigateway": 20, "text": 10}
SOURCES: Final = ("lambda", "vpc_flow", "apigateway", "cloudtrail", "json", "text")
CONTROL_RATE: Final = 0.002

_FUNCTIONS: Final = (
    ("orders-api", "orders", 256, True),
    ("payments-webhook", "payments", 512, True),
    ("inventory-sync", "inventory", 1024, False),
    ("thumbnailer", "media", 2048, False),
    ("auth-authorizer", "auth", 128, True),
    ("report-builder", "reports", 3008, False),
)
_MESSAGES: Final = (
    "Processing order {n}",
    "Order {n} persisted in {ms} ms",
    "Cache miss for key {t}:{n}",
    "Downstream {t} responded {code} after {ms} ms",
    "Retrying request to {t} (attempt {a})",
    "Fetched {n} items from table {t}",
    "Published event {u} to EventBridge",
    "Validation failed for payload {u}",
)
_TABLES: Final = ("orders", "payments", "inventory", "users", "sessions", "carts")
_LEVELS: Final = ("INFO",) * 70 + ("DEBUG",) * 12 + ("WARNING",) * 12 + ("ERROR",) * 6
_ROUTES: Final = (
    ("GET", "/orders/{id}"),
    ("POST", "/orders"),
    ("GET", "/carts/{id}"),
    ("PUT", "/carts/{id}/items"),
    ("GET", "/health"),
    ("POST", "/payments/webhook"),
    ("GET", "/products"),
)
_EVENT_NAMES: Final = (
    ("s3.amazonaws.com", "GetObject"),
    ("s3.amazonaws.com", "PutObject"),
    ("ec2.amazonaws.com", "DescribeInstances"),
    ("iam.amazonaws.com", "CreateAccessKey"),
    ("sts.amazonaws.com", "AssumeRole"),
    ("signin.amazonaws.com", "ConsoleLogin"),
)
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def parse_mix(spec: str) -> dict[str, float]:
    """``"lambda=50,vpc_flow=20"`` -> weights.

    Raises:
        ValueError: an unknown source or a weight that is not a positive number.
    """
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, weight = part.partition("=")
        if not sep or name not in SOURCES:
            raise ValueError(f"mix entry {part!r}: expected SOURCE=WEIGHT with SOURCE in {', '.join(SOURCES)}")
        try:
            value = float(weight)
        except ValueError as exc:
            raise ValueError(f"mix entry {part!r}: weight is not a number") from exc
        if value <= 0:
            raise ValueError(f"mix entry {part!r}: weight must be positive")
        mix[name] = value
    if not mix:
        raise ValueError("the mix is empty")
    return mix


class TrafficGenerator:
    """Produces subscription payloads of a source mix, deterministically from a seed."""

    def __init__(
        self,
        seed: int = 1,
        mix: Mapping[str, float] | None = None,
        start_ms: int = DEFAULT_START_MS,
        control_rate: float = CONTROL_RATE,
    ) -> None:
        self.rng = random.Random(seed)
        self.mix = dict(mix or DEFAULT_MIX)
        self.now = start_ms
        self.control_rate = control_rate
        self._enis = [f"eni-{self.rng.getrandbits(68):017x}" for _ in range(8)]

    def payloads(self, *, events: int | None = None, record_bytes: int | None = None) -> Iterator[dict[str, Any]]:
        """Payloads until ``events`` data log events or ``record_bytes`` gzip bytes are produced."""
        produced_events = produced_bytes = 0
        while (events is None or produced_events < events) and (record_bytes is None or produced_bytes < record_bytes):
            payload = self.payload(None if events is None else events - produced_events)
            if payload["messageType"] == "DATA_MESSAGE":
                produced_events += len(payload["logEvents"])
            if record_bytes is not None:
                produced_bytes += len(record_bytes_of(payload))
            yield payload

    def payload(self, at_most: int | None = None) -> dict[str, Any]:
        """One payload: a rare CONTROL_MESSAGE, else 20-100 events of one source."""
        r = self.rng
        if r.random() < self.control_rate:
            return control_message(self.now)
        source = r.choices(list(self.mix), weights=list(self.mix.values()))[0]
        n = r.randrange(20, 101) if at_most is None else max(1, min(at_most, r.randrange(20, 101)))
        group, stream, messages = getattr(self, f"_{source}")(n)
        return {
            "messageType": "DATA_MESSAGE",
            "owner": ACCOUNT,
            "logGroup": group,
            "logStream": stream,
            "subscriptionFilters": ["stream-processor"],
            "logEvents": [{"id": self._event_id(ts), "timestamp": ts, "message": m} for ts, m in messages[:n]],
        }

    # --- one builder per source: (log group, log stream, [(timestamp ms, message)])
    def _lambda(self, n: int) -> tuple[str, str, list[tuple[int, str]]]:
        r = self.rng
        name, service, memory, powertools = r.choice(_FUNCTIONS)
        stream = time.strftime("%Y/%m/%d", time.gmtime(self.now // 1000)) + f"/[$LATEST]{r.getrandbits(128):032x}"
        out: list[tuple[int, str]] = []
        cold = r.random() < 0.15
        while len(out) < n:
            rid, trace = self._uuid(), f"1-{self.now // 1000:08x}-{r.getrandbits(96):024x}"
            if cold:
                out.append(
                    (
                        self._tick(5, 50),
                        "INIT_START Runtime Version: python:3.12.v38\tRuntime Version ARN: "
                        f"arn:aws:lambda:{REGION}::runtime:{r.getrandbits(256):064x}\n",
                    )
                )
            out.append((self._tick(1, 400), f"START RequestId: {rid} Version: $LATEST\n"))
            for _ in range(r.randrange(1, 6)):
                ts, level = self._tick(0, 60), r.choice(_LEVELS)
                text = self._message()
                if powertools:
                    doc: dict[str, Any] = {
                        "level": level,
                        "location": "handler:42",
                        "message": text,
                        "timestamp": self._powertools_time(ts),
                        "service": service,
                        "cold_start": cold,
                        "function_name": name,
                        "function_memory_size": memory,
                        "function_request_id": rid,
                        "xray_trace_id": trace,
                    }
                    if r.random() < 0.3:
                        doc["order_id"] = f"ord_{r.getrandbits(48):012x}"
                    out.append((ts, json.dumps(doc, separators=(",", ":")) + "\n"))
                else:
                    out.append((ts, f"[{level}]\t{self._iso(ts)}\t{rid}\t{text}\n"))
            duration = r.uniform(200.0, 3000.0) if cold else r.uniform(1.0, 900.0)
            report = (
                f"REPORT RequestId: {rid}\tDuration: {duration:.2f} ms\tBilled Duration: {int(duration) + 1} ms\t"
                f"Memory Size: {memory} MB\tMax Memory Used: {r.randrange(40, min(memory, 400))} MB\t"
            )
            if cold:
                report += f"Init Duration: {r.uniform(150.0, 1200.0):.2f} ms\t"
            if r.random() < 0.5:
                report += f"\nXRAY TraceId: {trace}\tSegmentId: {r.getrandbits(64):016x}\tSampled: true\t"
            out.append((self._tick(0, 2), f"END RequestId: {rid}\n"))
            out.append((self._tick(0, 2), report + "\n"))
            cold = False
        return f"/aws/lambda/{name}", stream, out

    def _vpc_flow(self, n: int) -> tuple[str, str, list[tuple[int, str]]]:
        r = self.rng
        eni = r.choice(self._enis)
        out = []
        for _ in range(n):
            ts = self._tick(0, 20)
            start = ts // 1000 - r.randrange(60, 120)
            if r.random() < 0.03:
                out.append((ts, f"2 {ACCOUNT} {eni} - - - - - - - {start} {start + 60} - NODATA"))
                continue
            packets = r.randrange(1, 2000)
            action = "ACCEPT" if r.random() < 0.92 else "REJECT"
            out.append(
                (
                    ts,
                    f"2 {ACCOUNT} {eni} {self._ip()} {self._ip(r.random() < 0.6)} {r.randrange(1024, 65535)} "
                    f"{r.choice((443, 443, 80, 53, 5432, 22))} {r.choice((6, 6, 6, 17, 1))} {packets} "
                    f"{packets * r.randrange(40, 1500)} {start} {start + 60} {action} OK",
                )
            )
        return "/vpc/flow-logs", f"{eni}-all", out

    def _apigateway(self, n: int) -> tuple[str, str, list[tuple[int, str]]]:
        r = self.rng
        out = []
        for _ in range(n):
            ts = self._tick(0, 30)
            method, route = r.choice(_ROUTES)
            latency = r.randrange(2, 1500)
            doc = {
                "requestId": self._uuid(),
                "ip": self._ip(False),
                "caller": "-",
                "user": "-",
                "requestTime": self._clf_time(ts),
                "httpMethod": method,
                "resourcePath": route,
                "path": route.replace("{id}", f"{r.getrandbits(32):08x}"),
                "status": r.choice(("200",) * 14 + ("201", "400", "403", "404", "429", "500", "502")),
                "protocol": "HTTP/1.1",
                "responseLength": str(r.randrange(0, 20000)),
                "integrationLatency": str(latency),
                "responseLatency": str(latency + r.randrange(0, 30)),
            }
            out.append((ts, json.dumps(doc, separators=(",", ":"))))
        return f"/aws/apigateway/{r.getrandbits(40):010x}/prod/access", f"{r.getrandbits(128):032x}", out

    def _cloudtrail(self, n: int) -> tuple[str, str, list[tuple[int, str]]]:
        r = self.rng
        out = []
        for _ in range(n):
            ts = self._tick(0, 200)
            source, name = r.choice(_EVENT_NAMES)
            doc: dict[str, Any] = {
                "eventVersion": "1.09",
                "eventTime": self._iso(ts)[:19] + "Z",
                "eventSource": source,
                "eventName": name,
                "awsRegion": REGION,
                "sourceIPAddress": self._ip(False),
                "userAgent": "aws-cli/2.15.0",
                "requestID": self._uuid(),
                "eventID": self._uuid(),
                "readOnly": name.startswith(("Get", "Describe")),
                "eventType": "AwsApiCall",
                "recipientAccountId": ACCOUNT,
                "userIdentity": {
                    "type": "AssumedRole",
                    "principalId": f"AROA{r.getrandbits(64):016X}:ci",
                    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci",
                    "accountId": ACCOUNT,
                },
            }
            if r.random() < 0.05:
                doc["errorCode"], doc["errorMessage"] = "AccessDenied", "User is not authorized"
            out.append((ts, json.dumps(doc, separators=(",", ":"))))
        return "aws-cloudtrail-logs-123456789012", f"{ACCOUNT}_CloudTrail_{REGION}", out

    def _json(self, n: int) -> tuple[str, str, list[tuple[int, str]]]:
        r = self.rng
        out = []
        for _ in range(n):
            ts = self._tick(0, 50)
            doc = {
                "time": self._iso(ts),
                "level": r.choice(_LEVELS).lower(),
                "msg": self._message(),
                "request_id": self._uuid(),
                "user_id": r.randrange(1, 10_000),
            }
            out.append((ts, json.dumps(doc, separators=(",", ":"))))
        return "/ecs/catalog", f"catalog/app/{r.getrandbits(128):032x}", out

    def _text(self, n: int) -> tuple[str, str, list[tuple[int, str]]]:
        r = self.rng
        out = []
        for _ in range(n):
            ts, level = self._tick(0, 50), r.choice(_LEVELS)
            line = (
                f"{self._iso(ts)} {level:<5} [{r.choice(('main', 'worker-1', 'http-nio-8080-exec-3'))}] "
                f"com.acme.checkout.Service - {self._message()}"
            )
            if level == "ERROR" and r.random() < 0.3:
                line += (
                    "\njava.net.SocketTimeoutException: Read timed out\n\tat com.acme.http.Client.send(Client.java:211)"
                )
            out.append((ts, line))
        return "/ecs/checkout", f"checkout/web/{r.getrandbits(128):032x}", out

    # --- small helpers
    def _tick(self, low: int, high: int) -> int:
        self.now += self.rng.randrange(low, high + 1)
        return self.now

    def _uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def _event_id(self, ts: int) -> str:
        return f"{ts:013d}{self.rng.getrandbits(140):043d}"[:56]

    def _ip(self, private: bool = True) -> str:
        r = self.rng
        if private:
            return f"10.{r.randrange(0, 4)}.{r.randrange(0, 256)}.{r.randrange(1, 255)}"
        return f"{r.randrange(1, 224)}.{r.randrange(0, 256)}.{r.randrange(0, 256)}.{r.randrange(1, 255)}"

    def _message(self) -> str:
        r = self.rng
        return r.choice(_MESSAGES).format(
            n=r.randrange(1, 50_000),
            ms=r.randrange(1, 3000),
            t=r.choice(_TABLES),
            code=r.choice((200, 200, 404, 500, 503)),
            a=r.randrange(1, 4),
            u=self._uuid(),
        )

    @staticmethod
    def _iso(ms: int) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"

    @staticmethod
    def _powertools_time(ms: int) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms // 1000)) + f",{ms % 1000:03d}+0000"

    @staticmethod
    def _clf_time(ms: int) -> str:
        t = time.gmtime(ms // 1000)
        return (
            f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
        )


def control_message(timestamp_ms: int) -> dict[str, Any]:
    """The CONTROL_MESSAGE CloudWatch Logs sends to check a Firehose destination (firehose-contract
    §1.3: owner ``CloudwatchLogs``, empty group, stream and event id)."""
    return {
        "messageType": "CONTROL_MESSAGE",
        "owner": "CloudwatchLogs",
        "logGroup": "",
        "logStream": "",
        "subscriptionFilters": [],
        "logEvents": [
            {
                "id": "",
                "timestamp": timestamp_ms,
                "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose.",
            }
        ],
    }


def record_bytes_of(payload: Mapping[str, Any]) -> bytes:
    """A payload as CloudWatch Logs delivers it: compact JSON, gzip level 6 (mtime 0 for reproducibility)."""
    return gzip.compress(json.dumps(payload, separators=(",", ":")).encode(), compresslevel=6, mtime=0)


__all__ = ["DEFAULT_MIX", "SOURCES", "TrafficGenerator", "control_message", "parse_mix", "record_bytes_of"]
