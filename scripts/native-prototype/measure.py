"""Measure the C VPC writer (transform_lambda/_native_rows.c) against the Python path and the blueprint.

Usage: .venv/bin/python scripts/native-prototype/measure.py [--rounds N]
Builds transform_lambda/_native_rows.c with this machine's compiler for this Python (into a temporary directory), takes
the VPC Flow Log records of the bench's 3 MB workload, checks that the C writes the same
bytes as the shipped Python path for every record (and for a few unusual lines it must hand back or
get right), then times, interleaved in one process: the blueprint-equivalent, the Python path
(decode, transform, encode, base64) and the same with the C writer in place of transform + encode.
Prints medians in µs per log event and the per-round ratios to the blueprint.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from stream_processor.bench.baselines import blueprint
from stream_processor.bench.workload import firehose_event
from transform_lambda import accel
from transform_lambda.config import TransformConfig
from transform_lambda.decode import LogEvent, Payload, decode_record
from transform_lambda.encode import encode_shaped_rows
from transform_lambda.transform import transform_payload

ARRIVAL = "2025-11-23T10:00:00.000Z"
_MAX_BYTES = 1 << 30


def build(directory: Path) -> ModuleType:
    """transform_lambda/_native_rows.c compiled for this interpreter and imported."""
    source = Path(__file__).resolve().parents[2] / "transform_lambda" / "_native_rows.c"
    target = directory / f"_native_rows{importlib.machinery.EXTENSION_SUFFIXES[0]}"
    include = sysconfig.get_paths()["include"]
    subprocess.run(["cc", "-shared", "-fPIC", "-O3", f"-I{include}", str(source), "-o", str(target)], check=True)
    spec = importlib.util.spec_from_file_location("transform_lambda._native_rows", target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(native: ModuleType, payload: Payload) -> bytes | None:
    """The payload's NDJSON from the C, or None where it hands the payload back."""
    written: bytes | None = native.vpc_flow_rows(
        payload.log_events, payload.owner, payload.log_group, payload.log_stream, "vpc_flow", ARRIVAL
    )
    return written


def python_path(payload: Payload, config: TransformConfig) -> bytes:
    return encode_shaped_rows(transform_payload(payload, ARRIVAL, config).rows)


def check_unusual(native: ModuleType, config: TransformConfig) -> None:
    """Lines the C must either write exactly as Python does or hand back (None)."""
    lines = [
        "2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1700000000 1700000060 ACCEPT OK",
        "2 123456789012 eni-1 - - - - - - - 1700000000 1700000060 - NODATA",
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end"
        " action log-status",
        "2 123456789012 eni-1 10.0.0.1 10.0.0.2 99999 1 6 10 840 1700000000 1700000060 ACCEPT OK",
        "2 123456789012 eni-1 10.0.0.1 10.0.0.2 000443 1 6 10 840 1700000000 1700000060 ACCEPT OK",
        "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 1 6 10 840 1700000000 1700000060 DENY OK",
        "2 123456789012 éni-1 10.0.0.1 10.0.0.2 1 1 6 10 840 1700000000 1700000060 ACCEPT OK",
        '2\t123456789012  eni-"1" 10.0.0.1 10.0.0.2 1 1 6 10 840 1700000000 1700000060 REJECT SKIPDATA\r\n',
        "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 1 6 10 840 253402300799 253402300800 ACCEPT OK",
    ]
    handed_back = 0
    for n, line in enumerate(lines):
        payload = Payload(
            "DATA_MESSAGE",
            "123456789012",
            "/vpc/flow-logs",
            "eni-1-all",
            ("f",),
            (LogEvent(str(n), 1_700_000_000_123 + n, line),),
        )
        written = write(native, payload)
        if written is None:
            handed_back += 1
        elif written != python_path(payload, config):
            raise SystemExit(f"the C differs from the Python path on {line!r}")
    print(f"unusual lines: {len(lines)}, written as the Python path writes them: {len(lines) - handed_back}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    rounds = parser.parse_args().rounds
    config = TransformConfig()
    records = [
        record
        for record in firehose_event(3 << 20).event["records"]
        if (payloads := decode_record(record["data"], _MAX_BYTES))
        and payloads[0].message_type == "DATA_MESSAGE"
        and payloads[0].log_group.startswith("/vpc/")
    ]
    events = sum(len(p.log_events) for r in records for p in decode_record(r["data"], _MAX_BYTES))
    with tempfile.TemporaryDirectory() as work:
        native = build(Path(work))
        check_unusual(native, config)
        handed_back = 0

        def shipped() -> list[str]:
            out = []
            for record in records:
                data = b"".join(python_path(p, config) for p in decode_record(record["data"], _MAX_BYTES))
                out.append(accel.b64encode(data))
            return out

        def native_path() -> list[str]:
            nonlocal handed_back
            out = []
            for record in records:
                parts = []
                for payload in decode_record(record["data"], _MAX_BYTES):
                    written = write(native, payload)
                    if written is None:
                        handed_back += 1
                        written = python_path(payload, config)
                    parts.append(written)
                out.append(accel.b64encode(b"".join(parts)))
            return out

        if shipped() != native_path():
            raise SystemExit("the C's rows differ from the Python path's")
        print(f"VPC records: {len(records)}, log events: {events}, payloads handed back: {handed_back}")
        event = {"records": records}
        runs: dict[str, Callable[[], Any]] = {
            "blueprint": lambda: blueprint(event),
            "python": shipped,
            "C": native_path,
        }
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(rounds):
            for name, run in runs.items():
                started = time.perf_counter()
                run()
                times[name].append((time.perf_counter() - started) / events * 1e6)
    for name, values in times.items():
        ratio = statistics.median(t / b for t, b in zip(values, times["blueprint"], strict=True))
        print(f"{name:10s} {statistics.median(values):6.2f} µs/event  x blueprint {ratio:.2f}")
    print(f"python {sys.version.split()[0]}, accelerators: {', '.join(accel.active()) or 'none'}")


if __name__ == "__main__":
    main()
