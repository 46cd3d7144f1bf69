"""Bench: the cost of each stage of the transform, and of each parser, per log event.

Input: one workload and a round count. Output: µs per log event of decode (base64, inflate, JSON,
envelope), parse (per parser and in all), detect+parse+shape (``transform_payload``, with an arrival
time as the handler passes it), encode (NDJSON, ``encode_shaped_rows`` as the handler calls it) and
the base64 of the encoded rows, each timed alone on the same data, interleaved.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from stream_processor.bench.rounds import run_rounds
from stream_processor.bench.workload import Workload
from transform_lambda import accel
from transform_lambda.config import TransformConfig
from transform_lambda.decode import DATA_MESSAGE, Payload, decode_record
from transform_lambda.detect import detect_source
from transform_lambda.encode import encode_shaped_rows
from transform_lambda.errors import ParseError
from transform_lambda.parse import Parser
from transform_lambda.timefmt import iso_from_epoch_ms
from transform_lambda.transform import transform_payload


def _parse_all(parser: Parser, messages: list[str]) -> int:
    failed = 0
    for message in messages:
        try:
            parser(message)
        except ParseError:
            failed += 1
    return failed


def measure_stages(workload: Workload, rounds: int) -> dict[str, Any]:
    """Time each stage over the whole workload; µs per log event (per parser: per event it parsed)."""
    config = TransformConfig()
    cap = config.max_decompressed_bytes
    datas = [r["data"] for r in workload.event["records"]]
    arrival = iso_from_epoch_ms(workload.event["records"][0]["approximateArrivalTimestamp"])
    per_record = [decode_record(d, cap) for d in datas]
    payloads: list[Payload] = [p for ps in per_record for p in ps if p.message_type == DATA_MESSAGE]
    by_source: dict[str, tuple[Parser, list[str]]] = {}
    for payload in payloads:
        source, parser = detect_source(payload, config)
        messages = by_source.setdefault(source, (parser, []))[1]
        messages.extend(e.message.rstrip("\r\n") for e in payload.log_events)
    record_rows = [
        [row for p in ps if p.message_type == DATA_MESSAGE for row in transform_payload(p, arrival, config).rows]
        for ps in per_record
    ]
    encoded = [encode_shaped_rows(rows) for rows in record_rows]
    events = sum(len(p.log_events) for p in payloads)

    def decode() -> None:
        for d in datas:
            decode_record(d, cap)

    def parse() -> None:
        for parser, messages in by_source.values():
            _parse_all(parser, messages)

    def shape() -> None:
        for p in payloads:
            transform_payload(p, arrival, config)

    def encode() -> None:
        for rows in record_rows:
            encode_shaped_rows(rows)

    def b64() -> None:
        for data in encoded:
            accel.b64encode(data)  # as the handler writes each record's data

    variants: dict[str, Callable[[], object]] = {
        "decode": decode,
        "parse": parse,
        "detect_parse_shape": shape,
        "encode": encode,
        "base64_out": b64,
    }
    for source, (parser, messages) in by_source.items():
        variants[f"parser:{source}"] = partial(_parse_all, parser, messages)
    timings = run_rounds(variants, rounds)
    counts = {f"parser:{s}": len(m) for s, (_, m) in by_source.items()}
    out: dict[str, Any] = {"log_events": events, "stages": {}, "parsers": {}}
    for name in variants:
        n = counts.get(name, events)
        figures = {"us_per_event": timings.median(name) / n * 1e6, "iqr": timings.iqr(name), "events": n}
        if name.startswith("parser:"):
            out["parsers"][name.removeprefix("parser:")] = figures
        else:
            out["stages"][name] = figures
    return out


__all__ = ["measure_stages"]
