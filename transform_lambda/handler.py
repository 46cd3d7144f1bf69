"""Lambda entry points: a Firehose transformation event in, the transformation response out.

Input: the Firehose data-transformation event (``wire.FirehoseEvent``). Output: ``{"records": [...]}``
with every recordId once (``lambda_handler``), or the same response already encoded as compact JSON
bytes (``lambda_handler_bytes``). Only translates: wire -> ``batch.run_batch`` -> wire, plus one
summary log line and EMF metrics per invocation (Powertools). Never raises because of bad data.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit

from transform_lambda import accel, native
from transform_lambda.batch import BatchOutcome, Record, Result, run_batch
from transform_lambda.config import ENV_PREFIX, TransformConfig
from transform_lambda.reingest import StreamReingester, target_from_event

SERVICE = "stream-processor"
METRICS_NAMESPACE = "StreamProcessor"

CONFIG = TransformConfig.from_env()
_CONFIG_ENV = ""
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
# The stages log through stdlib loggers under "transform_lambda"; give them the same JSON output.
copy_config_to_registered_loggers(source_logger=logger, include={"transform_lambda.batch"})
if native.shipped_but_unused(native.STATUS):
    logger.warning("The compiled build is not used; running from source.", extra={"build": native.STATUS})


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    """Transform a Firehose batch of CloudWatch Logs subscription records."""
    started = time.perf_counter()
    records, unanswerable = read_records(event)
    batch = run_batch(records, current_config(), int(time.time() * 1000), reingester_for(event, context))
    response = {"records": [outcome.to_wire() for outcome in batch.outcomes]}
    report(batch, records, unanswerable, time.perf_counter() - started)
    return response


def lambda_handler_bytes(event: Mapping[str, Any], context: object) -> bytes:
    """``lambda_handler``'s response as compact UTF-8 JSON.

    The Python runtime hands a handler's ``bytes`` to Lambda as they are and JSON-encodes anything
    else itself (awslambdaric's ``LambdaMarshaller.marshal_response``, with json). For a
    transform whose response is megabytes of base64 that encoding is billed time: about a fifth of
    the invocation here (docs/performance.md). Firehose receives the same JSON document either way;
    the pipeline stack's ``ResponseEncoding`` parameter chooses this entry point.
    """
    return response_json(lambda_handler(event, context))


def response_json(response: Mapping[str, Any]) -> bytes:
    """A response as compact JSON bytes: orjson when it is on, else json with the same spelling
    (non-ASCII as UTF-8; escaped instead when a lone surrogate cannot be UTF-8)."""
    fast = accel.dumps_document(response)
    if fast is not None:
        return fast
    text = json.dumps(response, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(response, separators=(",", ":")).encode("ascii")


def current_config() -> TransformConfig:
    """The config from ``STREAM_PROCESSOR_*`` variables, re-read only when they change (the local twin
    sets them between runs; in Lambda they never change after cold start)."""
    global CONFIG, _CONFIG_ENV
    env = "\0".join(f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith(ENV_PREFIX))
    if env != _CONFIG_ENV:
        CONFIG, _CONFIG_ENV = TransformConfig.from_env(), env
    return CONFIG


def reingester_for(event: object, context: object) -> StreamReingester | None:
    """A re-ingester into the stream this batch came from (None when the event names no stream)."""
    target = target_from_event(event) if isinstance(event, Mapping) else None
    if target is None:
        return None
    remaining = getattr(context, "get_remaining_time_in_millis", None)

    def seconds_left() -> float:
        return float(remaining()) / 1000 if callable(remaining) else 60.0

    return StreamReingester(target, deadline=seconds_left)


def _arrival_ms(arrival: object) -> int | None:
    """A record's ``approximateArrivalTimestamp`` as epoch ms, or None when it is no usable number (an
    int is taken as it is: ``math.isfinite`` cannot even take one past a float's range)."""
    if type(arrival) is int:
        return arrival
    if isinstance(arrival, float) and math.isfinite(arrival):
        return int(arrival)
    return None


def read_records(event: object) -> tuple[list[Record], int]:
    """Wire records -> ``Record``; returns them and how many entries had no usable recordId."""
    raw_records = event.get("records") if isinstance(event, Mapping) else None
    if not isinstance(raw_records, list):
        logger.error("Event is not a Firehose transformation event.", extra={"code": "not_a_firehose_event"})
        return [], 0
    records: list[Record] = []
    unanswerable = 0
    for raw in raw_records:
        record_id = raw.get("recordId") if isinstance(raw, Mapping) else None
        if not isinstance(record_id, str) or not record_id:
            unanswerable += 1
            continue
        arrival_ms = _arrival_ms(raw.get("approximateArrivalTimestamp"))
        metadata = raw.get("kinesisRecordMetadata")
        partition_key = metadata.get("partitionKey") if isinstance(metadata, Mapping) else None
        records.append(
            Record(record_id, raw.get("data"), arrival_ms, partition_key if isinstance(partition_key, str) else None)
        )
    if unanswerable:
        logger.error("Records without a recordId cannot be answered.", extra={"count": unanswerable})
    return records, unanswerable


def report(batch: BatchOutcome, records: list[Record], unanswerable: int, elapsed_s: float) -> None:
    """Publish the invocation's metrics and its one summary log line."""
    # With POWERTOOLS_METRICS_DISABLED set, Powertools never flushes, so values of earlier invocations
    # would pile up in a warm container (and print once 100 accumulate): start from an empty set.
    metrics.clear_metrics()
    outcomes = batch.outcomes
    results = {result: 0 for result in Result}
    for outcome in outcomes:
        results[outcome.result] += 1
    log_events = sum(o.log_events for o in outcomes)
    rows = sum(o.rows for o in outcomes)
    parse_errors = sum(o.parse_errors for o in outcomes)
    bytes_in = sum(len(r.data) for r in records if isinstance(r.data, str))
    figures = {
        "RecordsOk": results[Result.OK],
        "RecordsDropped": results[Result.DROPPED],
        "RecordsFailed": results[Result.FAILED],
        "LogEvents": log_events,
        "Rows": rows,
        "ParseErrors": parse_errors,
        "ReingestedRecords": sum(1 for o in outcomes if o.reingested_payloads),
        "ReingestedPayloads": sum(o.reingested_payloads for o in outcomes),
        "ReingestedEvents": sum(o.reingested_events for o in outcomes),
        "Splits": sum(1 for o in outcomes if o.split),
        "OversizeEventFailures": sum(1 for o in outcomes if o.error_code == "event_too_large"),
        "ReingestFailures": sum(1 for o in outcomes if o.error_code == "reingest_failed"),
        # 1 while a shipped compiled build cannot be used here (the pipeline stack alarms on it).
        "CompiledBuildUnused": int(native.shipped_but_unused(native.STATUS)),
    }
    for name, value in figures.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    metrics.add_metric(name="BytesIn", unit=MetricUnit.Bytes, value=bytes_in)
    metrics.add_metric(name="BytesOut", unit=MetricUnit.Bytes, value=batch.response_bytes)
    logger.info(
        "Batch transformed.",
        extra={
            "records": len(outcomes),
            "unanswerable_records": unanswerable,
            "ok": results[Result.OK],
            "dropped": results[Result.DROPPED],
            "failed": results[Result.FAILED],
            "failures": dict(batch.failures),
            "log_events": log_events,
            "rows": rows,
            "parse_errors": parse_errors,
            "reingested_events": figures["ReingestedEvents"],
            "splits": figures["Splits"],
            "bytes_in": bytes_in,
            "response_bytes": batch.response_bytes,
            "elapsed_ms": round(elapsed_s * 1000, 3),
            "build": native.STATUS,
        },
    )


__all__ = ["CONFIG", "current_config", "lambda_handler", "lambda_handler_bytes", "read_records", "response_json"]
