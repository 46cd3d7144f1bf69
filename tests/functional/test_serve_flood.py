"""``serve`` under a flood: many concurrent connections from a bounded load on 127.0.0.1 mixing valid
PutRecordBatch calls with oversized, malformed and truncated requests. The server answers every
request with the service's error shapes, stays up, and every record it accepted lands in the lake."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

from stream_processor.generate import TrafficGenerator, record_bytes_of
from stream_processor.query import run_query
from tests.functional.test_serve import _start, _stop

THREADS = 24
REQUESTS_PER_THREAD = 25
TARGET = "Firehose_20150804.PutRecordBatch"


def _call(host: str, port: int, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request(
            "POST",
            "/",
            body=body,
            headers={"X-Amz-Target": TARGET, "Content-Type": "application/x-amz-json-1.1", **headers},
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def test_serve_survives_a_flood_of_good_and_hostile_requests(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    proc, url = _start(lake, "--processor-buffer-interval-s", "1", "--s3-buffer-interval-s", "1")
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 0
    payloads = list(TrafficGenerator(31, control_rate=0).payloads(events=THREADS * REQUESTS_PER_THREAD * 5))
    expected_ids: Counter[str] = Counter()
    results: Counter[str] = Counter()
    lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(REQUESTS_PER_THREAD):
            kind = (n + i) % 5
            try:
                if kind in (0, 1):  # a valid batch
                    batch = payloads[(n * REQUESTS_PER_THREAD + i) % len(payloads) :][:1]
                    body = json.dumps(
                        {
                            "DeliveryStreamName": "stream-processor",
                            "Records": [{"Data": base64.b64encode(record_bytes_of(p)).decode()} for p in batch],
                        }
                    ).encode()
                    status, doc = _call(host, port, body, {})
                    if status == 200 and doc.get("FailedPutCount") == 0:
                        with lock:
                            expected_ids.update(e["id"] for p in batch for e in p["logEvents"])
                elif kind == 2:  # malformed JSON
                    status, doc = _call(host, port, b"{not json", {})
                elif kind == 3:  # a record over 1,000 KiB
                    body = json.dumps(
                        {
                            "DeliveryStreamName": "stream-processor",
                            "Records": [{"Data": base64.b64encode(b"x" * 1_100_000).decode()}],
                        }
                    ).encode()
                    status, doc = _call(host, port, body, {})
                else:  # a body declared far over the limit, then the connection dropped
                    with socket.create_connection((host, port), timeout=30) as raw:
                        raw.sendall(
                            b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: "
                            + TARGET.encode()
                            + b"\r\nContent-Length: 999999999\r\n\r\n{"
                        )
                        reply = raw.recv(4096)
                    status, doc = int(reply.split(b" ")[1]), {"__type": "dropped"}
                with lock:
                    results[f"{kind}:{status}:{doc.get('__type', 'ok')}"] += 1
            except OSError as exc:
                with lock:
                    results[f"{kind}:error:{type(exc).__name__}"] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    elapsed = time.perf_counter() - started
    total = THREADS * REQUESTS_PER_THREAD
    assert sum(results.values()) == total
    assert not [k for k in results if ":error:" in k], results  # every request got an answer
    assert results["2:400:SerializationException"] == total // 5
    assert results["3:400:InvalidArgumentException"] == total // 5
    assert results["4:413:dropped"] == total // 5
    assert proc.poll() is None  # still up
    status, _ = _call(
        host,
        port,
        json.dumps(
            {
                "DeliveryStreamName": "stream-processor",
                "Records": [{"Data": base64.b64encode(record_bytes_of(payloads[0])).decode()}],
            }
        ).encode(),
        {},
    )
    assert status == 200
    expected_ids.update(e["id"] for e in payloads[0]["logEvents"])
    _stop(proc)
    landed = Counter(r[0] for r in run_query(lake, "SELECT event_id FROM log_events").rows)
    assert set(landed) == set(expected_ids)
    print(
        f"flood: {total} requests from {THREADS} connections in {elapsed:.2f} s "
        f"({total / elapsed:.0f} req/s); {dict(sorted(results.items()))}"
    )
