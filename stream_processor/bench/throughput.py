"""Bench: transform throughput against the blueprint and the decode-only floor, interleaved.

Input: request sizes and a round count. Output: per size, medians and same-round ratios of the
handler (as Firehose calls it), the handler with accelerators off (when there are any), the two
baselines and the runtime's serialization of the responses (``json.dumps``, as current runtimes
encode; older ones used simplejson), plus the response amplification and how many records went
past the response budget. "Billed" adds the runtime's serialization: handler + dumps for
``lambda_handler``, ``lambda_handler_bytes`` alone (it encodes its own response), blueprint + dumps
of its response.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from stream_processor.bench.baselines import blueprint, decode_floor
from stream_processor.bench.offline import lambda_context, offline_handler
from stream_processor.bench.rounds import run_rounds
from stream_processor.bench.workload import MIB, Workload, firehose_event
from transform_lambda.batch import Record, Result, run_batch
from transform_lambda.config import RESPONSE_BUDGET_BYTES, TransformConfig

HANDLER = "handler"
HANDLER_STDLIB = "handler_stdlib"
BLUEPRINT = "blueprint"
FLOOR = "floor"
RESPONSE_DUMPS = "response_dumps"
HANDLER_BYTES = "handler_bytes"
BLUEPRINT_DUMPS = "blueprint_dumps"


def accelerator_switch() -> Callable[[bool], None] | None:
    """``transform_lambda.accel.use_accelerators`` when accelerators are in use, else None."""
    try:
        from transform_lambda import accel
    except ImportError:
        return None
    return accel.use_accelerators if accel.active() else None


@contextmanager
def accelerators(switch: Callable[[bool], None] | None, enabled: bool) -> Iterator[None]:
    """Run a block with the accelerators on or off (a no-op without any)."""
    if switch is None:
        yield
        return
    switch(enabled)
    try:
        yield
    finally:
        switch(True)


def measure_size(workload: Workload, rounds: int) -> dict[str, Any]:
    """Time every variant on one event and describe the results."""
    event = workload.event
    context = lambda_context()
    switch = accelerator_switch()
    with offline_handler() as (handler, _):
        from transform_lambda.handler import lambda_handler_bytes  # after offline_handler quietened it

        response = handler(event, context)
        encoded = json.dumps(response)
        blueprint_response = blueprint(event)

        def handler_stdlib() -> object:
            with accelerators(switch, False):
                return handler(event, context)

        variants: dict[str, Callable[[], object]] = {
            FLOOR: lambda: decode_floor(event),
            BLUEPRINT: lambda: blueprint(event),
            HANDLER: lambda: handler(event, context),
            RESPONSE_DUMPS: lambda: json.dumps(response),
            HANDLER_BYTES: lambda: lambda_handler_bytes(event, context),
            BLUEPRINT_DUMPS: lambda: json.dumps(blueprint_response),
        }
        if switch is not None:
            variants[HANDLER_STDLIB] = handler_stdlib
        timings = run_rounds(variants, rounds)
    events = workload.log_events
    mb = workload.request_bytes / MIB
    result: dict[str, Any] = {
        "request_bytes": workload.request_bytes,
        "records": workload.records,
        "log_events": events,
        "gzip_bytes": workload.gzip_bytes,
        "payload_bytes": workload.payload_bytes,
        "rounds": rounds,
        "response_bytes": len(encoded.encode()),
        "records_past_budget": sum(1 for r in response["records"] if r["result"] == Result.DROPPED)
        - _control_records(event),
        "variants": {},
    }
    for name in timings.seconds:
        seconds = timings.median(name)
        result["variants"][name] = {
            "median_ms": seconds * 1000,
            "iqr": timings.iqr(name),
            "us_per_event": seconds / events * 1e6,
            "mb_per_s": mb / seconds,
            "events_per_s": events / seconds,
            "x_blueprint": timings.ratio(name, BLUEPRINT),
            "x_floor": timings.ratio(name, FLOOR),
        }
    billed_blueprint = [BLUEPRINT, BLUEPRINT_DUMPS]
    result["billed"] = {
        "handler_us_per_event": timings.median_of_sums([HANDLER, RESPONSE_DUMPS]) / events * 1e6,
        "handler_bytes_us_per_event": timings.median(HANDLER_BYTES) / events * 1e6,
        "blueprint_us_per_event": timings.median_of_sums(billed_blueprint) / events * 1e6,
        "handler_x_blueprint": timings.ratio_of_sums([HANDLER, RESPONSE_DUMPS], billed_blueprint),
        "handler_bytes_x_blueprint": timings.ratio_of_sums([HANDLER_BYTES], billed_blueprint),
        "handler_bytes_x_handler": timings.ratio_of_sums([HANDLER_BYTES], [HANDLER, RESPONSE_DUMPS]),
    }
    result["amplification"] = amplification(workload)
    return result


def amplification(workload: Workload) -> dict[str, float]:
    """Response bytes / request bytes with no budget (every Ok record answered), for the transform
    and the blueprint; and the largest request whose response fits the budget at that ratio."""
    records = [Record(r["recordId"], r["data"], r["approximateArrivalTimestamp"]) for r in workload.event["records"]]
    unbounded = TransformConfig(response_budget_bytes=1 << 62)
    outcomes = run_batch(records, unbounded, records[0].arrival_ms or 0).outcomes
    ours = len(json.dumps({"records": [o.to_wire() for o in outcomes]}).encode()) / workload.request_bytes
    theirs = len(json.dumps(blueprint(workload.event)).encode()) / workload.request_bytes
    return {
        "transform": ours,
        "blueprint": theirs,
        "max_request_mb_within_budget": RESPONSE_BUDGET_BYTES / ours / MIB,
    }


def _control_records(event: dict[str, Any]) -> int:
    return sum(1 for r in blueprint(event)["records"] if r["result"] == "Dropped")


def measure_throughput(sizes_mb: list[float], rounds: int, seed: int = 1) -> dict[str, Any]:
    """Every request size in turn (the rounds of one size are interleaved, sizes are not)."""
    return {f"{size:g}": measure_size(firehose_event(int(size * MIB), seed), rounds) for size in sizes_mb}


__all__ = ["accelerator_switch", "accelerators", "amplification", "measure_size", "measure_throughput"]
