"""A fault-injecting HTTP proxy for tests: sits on 127.0.0.1 in front of the moto server and makes
PutRecordBatch / PutRecords partially fail (FailedPutCount > 0) or fail whole (throttling, 503), the
way the services do. Entries it fails are not forwarded, so moto holds exactly what "got in"."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# decide(call_number, entry_index) -> True to fail that entry
EntryRule = Callable[[int, int], bool]
# decide(call_number) -> (status, error type) to fail the whole call, or None
CallRule = Callable[[int], tuple[int, str] | None]

_BATCH_TARGETS = {
    "Firehose_20150804.PutRecordBatch": (
        "Records",
        "RequestResponses",
        "FailedPutCount",
        "ServiceUnavailableException",
    ),
    "Kinesis_20131202.PutRecords": (
        "Records",
        "Records",
        "FailedRecordCount",
        "ProvisionedThroughputExceededException",
    ),
}


@dataclass
class FaultProxy:
    upstream: str
    fail_entry: EntryRule = lambda call, index: False
    fail_call: CallRule = lambda call: None
    calls: dict[str, int] = field(default_factory=dict)
    failed_entries: int = 0
    failed_calls: int = 0

    def __post_init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FaultProxy:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def count(self, target: str) -> int:
        with self._lock:
            self.calls[target] = self.calls.get(target, 0) + 1
            return self.calls[target]


def _forward(proxy: FaultProxy, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(proxy.upstream + path, data=body, method="POST")
    for key, value in headers.items():
        if key.lower() not in ("host", "content-length", "connection"):
            request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            target = self.headers.get("X-Amz-Target", "")
            headers = dict(self.headers)
            if target not in _BATCH_TARGETS:
                self._send(*_forward(proxy, self.path, headers, body))
                return
            call = proxy.count(target)
            whole = proxy.fail_call(call)
            if whole is not None:
                proxy.failed_calls += 1
                status, error_type = whole
                self._send(
                    status,
                    {"Content-Type": "application/x-amz-json-1.1"},
                    json.dumps({"__type": error_type, "message": "injected"}).encode(),
                )
                return
            request = json.loads(body)
            records: list[Any] = request["Records"]
            failing = [i for i in range(len(records)) if proxy.fail_entry(call, i)]
            in_key, out_key, count_key, code = _BATCH_TARGETS[target]
            forwarded = [r for i, r in enumerate(records) if i not in failing]
            results: list[dict[str, Any]] = []
            if forwarded:
                status, out_headers, out_body = _forward(
                    proxy, self.path, headers, json.dumps({**request, in_key: forwarded}).encode()
                )
                if status != 200:
                    self._send(status, out_headers, out_body)
                    return
                results = json.loads(out_body)[out_key]
            merged, upstream = [], iter(results)
            for i in range(len(records)):
                if i in failing:
                    merged.append({"ErrorCode": code, "ErrorMessage": "injected partial failure"})
                else:
                    merged.append(next(upstream))
            proxy.failed_entries += len(failing)
            doc = {count_key: len(failing), out_key: merged}
            if target.startswith("Firehose"):
                doc["Encrypted"] = False
            self._send(200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(doc).encode())

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", headers.get("Content-Type", "application/x-amz-json-1.1"))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
