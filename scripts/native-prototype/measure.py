"""Measure the C row writers (transform_lambda/_native_rows.c): the handler with them and without.

Usage: .venv/bin/python scripts/native-prototype/measure.py [--rounds N]
Builds transform_lambda/_native_rows.c with this machine's compiler for this Python (into a temporary
directory) and puts it in ``native_rows``, as the compiled build does. Then, for the bench's mixed
workload at 0.25 and 1 MB and for the 3 MB workload's VPC and Lambda records alone: checks that the
handler answers the same with the C and without, and times, interleaved in one process, the
blueprint-equivalent, the handler without the C and the handler with it (quiet, re-ingestion in memory,
as ``make bench`` runs it). Prints medians in µs per log
event, the per-round ratios to the blueprint, and with/without.
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
from stream_processor.bench.offline import lambda_context, offline_handler
from stream_processor.bench.workload import firehose_event
from transform_lambda import accel, native_rows
from transform_lambda.decode import decode_record

_MAX_BYTES = 1 << 30


def build(directory: Path) -> ModuleType:
    """transform_lambda/_native_rows.c compiled for this interpreter and imported."""
    source = Path(__file__).resolve().parents[2] / "transform_lambda" / "_native_rows.c"
    target = directory / f"_native_rows{importlib.machinery.EXTENSION_SUFFIXES[0]}"
    include = sysconfig.get_paths()["include"]
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", f"-I{include}", str(source), "-o", str(target)], check=True)
    spec = importlib.util.spec_from_file_location("transform_lambda._native_rows", target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def records_of(request_bytes: int, group_prefix: str | None) -> list[dict[str, Any]]:
    """The workload's records, or only those whose first payload's log group has the prefix."""
    records: list[dict[str, Any]] = firehose_event(request_bytes).event["records"]
    if group_prefix is None:
        return records
    return [
        record
        for record in records
        if (payloads := decode_record(record["data"], _MAX_BYTES))
        and payloads[0].message_type == "DATA_MESSAGE"
        and payloads[0].log_group.startswith(group_prefix)
    ]


def measure(name: str, event: dict[str, Any], native: ModuleType, rounds: int, handler_fn: Any) -> None:
    events = sum(len(p.log_events) for r in event["records"] for p in decode_record(r["data"], _MAX_BYTES))

    def handler(module: ModuleType | None) -> Callable[[], Any]:
        def run() -> Any:
            native_rows._native = module
            return handler_fn(event, lambda_context())

        return run

    runs: dict[str, Callable[[], Any]] = {
        "blueprint": lambda: blueprint(event),
        "without C": handler(None),
        "with C": handler(native),
    }
    if runs["without C"]() != runs["with C"]():
        raise SystemExit(f"{name}: the handler answers differently with the C")
    times: dict[str, list[float]] = {run: [] for run in runs}
    for _ in range(rounds):
        for run_name, run in runs.items():
            started = time.perf_counter()
            run()
            times[run_name].append((time.perf_counter() - started) / events * 1e6)
    print(f"{name}: {len(event['records'])} records, {events} log events")
    for run_name, values in times.items():
        ratio = statistics.median(t / b for t, b in zip(values, times["blueprint"], strict=True))
        print(f"  {run_name:10s} {statistics.median(values):6.2f} µs/event  x blueprint {ratio:.2f}")
    gain = statistics.median(w / o for w, o in zip(times["with C"], times["without C"], strict=True))
    print(f"  with / without C {gain:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    saved = native_rows._native
    with tempfile.TemporaryDirectory() as work, offline_handler() as (handler_fn, _):
        native = saved or build(Path(work))
        try:
            for name, size, prefix in (
                ("mixed 0.25 MB", 1 << 18, None),
                ("mixed 1 MB", 1 << 20, None),
                ("VPC records of 3 MB", 3 << 20, "/vpc/"),
                ("Lambda records of 3 MB", 3 << 20, "/aws/lambda/"),
                ("API Gateway records of 3 MB", 3 << 20, "/aws/apigateway/"),
                ("text records of 3 MB", 3 << 20, "/ecs/checkout"),
            ):
                measure(name, {"records": records_of(size, prefix)}, native, rounds, handler_fn)
        finally:
            native_rows._native = saved
    build_name = "compiled build" if saved is not None else "source, the C built here"
    print(f"python {sys.version.split()[0]} ({build_name}), accelerators: {', '.join(accel.active()) or 'none'}")


if __name__ == "__main__":
    main()
