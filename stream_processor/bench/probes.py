"""Bench probes in fresh interpreters: cold start (import, first invocation) and peak memory.

Input: the request sizes to probe. Output: median import time of ``transform_lambda.handler``, the
first and second invocation times of a small request, and ``ru_maxrss`` of a process that does what
the Lambda runtime does with the largest request (read the body, ``json.loads``, call the handler,
``json.dumps`` the response), each with the build that ran (``transform_lambda.native.STATUS``).
The package's bytecode is compiled first, as the deployment zip has it. Each probe is a ``python
-c`` child with the bench's quiet Powertools environment; nothing else of the bench is imported
before what is measured.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Final

from stream_processor.bench.offline import QUIET_ENV
from stream_processor.bench.workload import MIB, firehose_event

REPO: Final = Path(__file__).resolve().parents[2]

_IMPORT: Final = """
import time
started = time.perf_counter()
import transform_lambda.handler
elapsed = time.perf_counter() - started
import json, sys
from transform_lambda import native
heavy = sorted({"pyarrow", "duckdb", "stream_processor", "boto3"} & set(sys.modules))
print(json.dumps({"import_s": elapsed, "modules": len(sys.modules), "heavy_modules": heavy, "build": native.STATUS}))
"""

# The handler with re-ingestion accepted in memory, as in the in-process benchmarks.
_INVOKE: Final = """
import resource, sys, time
started = time.perf_counter()
import transform_lambda.handler as h
imported = time.perf_counter() - started
import json

class Accept:
    def put(self, items):
        return set()

class Context:
    function_name = "stream-processor-transform"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:stream-processor-transform"
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/stream-processor-transform"
    log_stream_name = "local"
    def get_remaining_time_in_millis(self):
        return 300_000

h.reingester_for = lambda event, context: Accept()
def rss():
    # VmHWM: this process's own peak. ru_maxrss would also count the parent's size at exec time.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out = {"import_s": imported, "rss_after_import_mib": rss()}
with open(sys.argv[1], "rb") as f:
    body = f.read()
event = json.loads(body)
out["rss_after_event_mib"] = rss()
times = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    response = h.lambda_handler(event, Context())
    times.append(time.perf_counter() - t)
out["rss_after_handler_mib"] = rss()
encoded = json.dumps(response).encode()
out["rss_peak_mib"] = rss()
out["invocations_s"] = times
out["response_bytes"] = len(encoded)
from transform_lambda import native
out["build"] = native.STATUS
print(json.dumps(out))
"""


def _precompile() -> None:
    """Bytecode of the package's sources for this interpreter, as the deployment zip ships it
    (``package_lambda`` precompiles every module). Without it a fresh interpreter compiles each
    module before running it, and with ``PYTHONDONTWRITEBYTECODE`` set it does so at every start,
    which is not what a Lambda's cold start does. Timestamp-checked here (unlike the zip's), since
    these are a working tree's sources."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "transform_lambda")], check=True, capture_output=True
    )


def _child(code: str, *args: str) -> dict[str, Any]:
    env = {**os.environ, **QUIET_ENV}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True, cwd=REPO, env=env
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure_cold_start(runs: int, request_mb: float = 0.25) -> dict[str, Any]:
    """Median import time over ``runs`` fresh interpreters; first and second invocation of a request."""
    _precompile()
    imports = [_child(_IMPORT) for _ in range(runs)]
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        path = Path(tmp) / "event.json"
        workload = firehose_event(int(request_mb * MIB))
        path.write_text(json.dumps(workload.event))
        invokes = [_child(_INVOKE, str(path), "2") for _ in range(max(1, runs // 2))]
    return {
        "import_ms": statistics.median(i["import_s"] for i in imports) * 1000,
        "import_ms_all": [round(i["import_s"] * 1000, 2) for i in imports],
        "modules": imports[0]["modules"],
        "heavy_modules": imports[0]["heavy_modules"],
        "build": imports[0]["build"],
        "first_invocation_request_bytes": workload.request_bytes,
        "first_invocation_ms": statistics.median(i["invocations_s"][0] for i in invokes) * 1000,
        "second_invocation_ms": statistics.median(i["invocations_s"][1] for i in invokes) * 1000,
    }


def measure_peak_rss(request_mb: float, runs: int) -> dict[str, Any]:
    """ru_maxrss of fresh processes handling one request of ``request_mb`` (median over ``runs``)."""
    _precompile()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        path = Path(tmp) / "event.json"
        workload = firehose_event(int(request_mb * MIB), seed=2)
        path.write_text(json.dumps(workload.event))
        probes = [_child(_INVOKE, str(path), "1") for _ in range(runs)]
    keys = ("rss_after_import_mib", "rss_after_event_mib", "rss_after_handler_mib", "rss_peak_mib")
    out: dict[str, Any] = {k: statistics.median(p[k] for p in probes) for k in keys}
    out["request_bytes"] = workload.request_bytes
    out["log_events"] = workload.log_events
    out["handler_ms"] = statistics.median(p["invocations_s"][0] for p in probes) * 1000
    out["response_bytes"] = probes[0]["response_bytes"]
    out["build"] = probes[0]["build"]
    return out


__all__ = ["measure_cold_start", "measure_peak_rss"]
