"""Unit tests of the ``lambda`` parser: platform lines (text and JSON) and runtime app lines."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transform_lambda.parse.lambda_log import parse_lambda
from transform_lambda.parse.lambda_platform import (
    _matched_word,
    _read_pairs,
    _read_report,
    _read_xray,
    parse_platform_text,
    platform_word,
    snake_case,
)

RID = "06e46194-f277-454e-88d3-1dd7e3860eaa"
TRACE = "1-636d1462-33ef10600061cad86dab71c8"


def test_parse_lambda_start_line_fills_request_id() -> None:
    assert parse_lambda(f"START RequestId: {RID} Version: $LATEST") == {
        "request_id": RID,
        "fields": {"type": "START", "version": "$LATEST"},
    }


def test_parse_lambda_end_line_fills_request_id() -> None:
    assert parse_lambda(f"END RequestId: {RID}") == {"request_id": RID, "fields": {"type": "END"}}


def test_parse_lambda_cold_report_with_xray_fills_metrics_and_trace() -> None:
    # The real capture (powertools-kinesis-cwl-1): REPORT and XRAY arrive as ONE log event.
    message = (
        f"REPORT RequestId: {RID}\tDuration: 9.14 ms\tBilled Duration: 10 ms\tMemory Size: 128 MB\t"
        f"Max Memory Used: 36 MB\tInit Duration: 190.62 ms\t\nXRAY TraceId: {TRACE}\tSegmentId: 7ccb4860675ee485\t"
        "Sampled: true\t"
    )
    assert parse_lambda(message) == {
        "request_id": RID,
        "duration_ms": 9.14,
        "billed_duration_ms": 10,
        "memory_size_mb": 128,
        "max_memory_used_mb": 36,
        "init_duration_ms": 190.62,
        "trace_id": TRACE,
        "fields": {"type": "REPORT", "segment_id": "7ccb4860675ee485", "sampled": "true"},
    }


def test_parse_lambda_warm_report_old_runtime_space_before_tab_parses() -> None:
    message = (
        f"REPORT RequestId: {RID}\tDuration: 0.97 ms\tBilled Duration: 100 ms \tMemory Size: 128 MB\t"
        "Max Memory Used: 37 MB\t"
    )
    parsed = parse_lambda(message)
    assert parsed["billed_duration_ms"] == 100
    assert parsed["memory_size_mb"] == 128
    assert "init_duration_ms" not in parsed
    assert isinstance(parsed["duration_ms"], float)


def test_parse_lambda_report_with_status_keeps_status_in_fields() -> None:
    message = (
        f"REPORT RequestId: {RID}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 50 MB\tStatus: timeout\tError Type: Runtime.ExitError"
    )
    fields = parse_lambda(message)["fields"]
    assert fields == {"type": "REPORT", "status": "timeout", "error_type": "Runtime.ExitError"}


def test_parse_lambda_report_bad_number_goes_to_fields_not_column() -> None:
    parsed = parse_lambda(f"REPORT RequestId: {RID}\tDuration: nan ms\tMemory Size: 1e3 MB")
    assert "duration_ms" not in parsed and "memory_size_mb" not in parsed
    assert parsed["fields"] == {"type": "REPORT", "duration_ms": "nan", "memory_size_mb": "1e3"}


def test_parse_lambda_init_start_fills_fields() -> None:
    message = "INIT_START Runtime Version: python:3.12.v38\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:ab12"
    assert parse_lambda(message) == {
        "fields": {
            "type": "INIT_START",
            "runtime_version": "python:3.12.v38",
            "runtime_version_arn": "arn:aws:lambda:us-east-1::runtime:ab12",
        }
    }


def test_parse_lambda_init_report_space_separated_fills_init_duration() -> None:
    parsed = parse_lambda("INIT_REPORT Init Duration: 3000.31 ms Phase: init Status: timeout")
    assert parsed == {
        "init_duration_ms": 3000.31,
        "fields": {"type": "INIT_REPORT", "phase": "init", "status": "timeout"},
    }


def test_parse_lambda_xray_line_fills_trace_id() -> None:
    parsed = parse_lambda(f"XRAY TraceId: {TRACE}\tSegmentId: 6e696167787807b9\tSampled: true")
    assert parsed["trace_id"] == TRACE
    assert parsed["fields"] == {"type": "XRAY", "segment_id": "6e696167787807b9", "sampled": "true"}


def test_parse_lambda_platform_lines_leave_level_null() -> None:
    for message in (
        f"START RequestId: {RID} Version: $LATEST",
        f"END RequestId: {RID}",
        "INIT_START Runtime Version: x",
    ):
        assert "level" not in parse_lambda(message)


def test_parse_lambda_json_platform_report_fills_metrics() -> None:
    message = json.dumps(
        {
            "time": "2024-06-01T12:00:00.000Z",
            "type": "platform.report",
            "record": {
                "requestId": RID,
                "metrics": {
                    "durationMs": 2,
                    "billedDurationMs": 3.0,
                    "memorySizeMB": 128,
                    "maxMemoryUsedMB": 68,
                    "initDurationMs": 215.52,
                },
                "tracing": {"spanId": "s1", "type": "X-Amzn-Trace-Id", "value": f"Root={TRACE};Parent=p;Sampled=1"},
                "status": "success",
            },
        }
    )
    assert parse_lambda(message) == {
        "request_id": RID,
        "duration_ms": 2.0,
        "billed_duration_ms": 3,
        "memory_size_mb": 128,
        "max_memory_used_mb": 68,
        "init_duration_ms": 215.52,
        "trace_id": TRACE,
        "fields": {"type": "platform.report", "span_id": "s1", "status": "success"},
    }


def test_parse_lambda_json_platform_init_report_fills_init_duration() -> None:
    message = (
        '{"time":"t","type":"platform.initReport","record":{"initializationType":"on-demand","phase":"init",'
        '"status":"success","metrics":{"durationMs":120.5}}}'
    )
    assert parse_lambda(message) == {
        "init_duration_ms": 120.5,
        "fields": {
            "type": "platform.initReport",
            "initialization_type": "on-demand",
            "phase": "init",
            "status": "success",
        },
    }


def test_parse_lambda_json_runtime_done_metrics_stay_in_fields() -> None:
    message = (
        '{"time":"t","type":"platform.runtimeDone","record":{"requestId":"r","status":"success",'
        '"metrics":{"durationMs":5.5,"producedBytes":7}}}'
    )
    parsed = parse_lambda(message)
    assert "duration_ms" not in parsed
    assert parsed["fields"] == {
        "type": "platform.runtimeDone",
        "status": "success",
        "duration_ms": "5.5",
        "produced_bytes": "7",
    }


def test_parse_lambda_json_platform_bad_metric_goes_to_fields() -> None:
    message = '{"type":"platform.report","record":{"metrics":{"memorySizeMB":"lots","durationMs":-1}}}'
    parsed = parse_lambda(message)
    assert "memory_size_mb" not in parsed and "duration_ms" not in parsed
    assert parsed["fields"] == {"type": "platform.report", "memory_size_mb": "lots", "duration_ms": "-1"}


def test_parse_lambda_python_runtime_line_fills_level_and_request_id() -> None:
    message = f"[WARNING]\t2024-06-01T12:00:00.123Z\t{RID}\tRetrying\nsecond line"
    assert parse_lambda(message) == {"level": "WARN", "request_id": RID}


def test_parse_lambda_python_runtime_traceback_keeps_level() -> None:
    message = (
        f'[ERROR]\t2024-06-01T12:00:00.123Z\t{RID}\tTraceback (most recent call last):\n  File "x", line 1\n'
        "KeyError: 'a'"
    )
    assert parse_lambda(message) == {"level": "ERROR", "request_id": RID}


def test_parse_lambda_python_init_error_line_detects_level() -> None:
    assert parse_lambda("[ERROR] Runtime.ImportModuleError: Unable to import module 'app'") == {"level": "ERROR"}


def test_parse_lambda_node_runtime_line_fills_level_and_request_id() -> None:
    assert parse_lambda(f"2024-06-01T12:00:00.123Z\t{RID}\tINFO\tFetched cart") == {"request_id": RID, "level": "INFO"}


def test_parse_lambda_node_undefined_request_id_fills_level_only() -> None:
    assert parse_lambda("2024-06-01T12:00:00.123Z\tundefined\tERROR\tUncaught Exception \t{}") == {"level": "ERROR"}


def test_parse_lambda_timeout_line_is_error_with_request_id() -> None:
    parsed = parse_lambda(f"2024-06-01T12:00:03.010Z {RID} Task timed out after 3.01 seconds")
    assert parsed == {"request_id": RID, "level": "ERROR"}


def test_parse_lambda_powertools_line_fills_columns_and_fields() -> None:
    message = json.dumps(
        {
            "level": "INFO",
            "location": "collect_payment:12",
            "message": "Collecting payment",
            "timestamp": "2021-05-03 11:47:12,494+0000",
            "service": "payment",
            "cold_start": True,
            "function_request_id": RID,
            "xray_trace_id": TRACE,
            "order": {"id": 1},
        }
    )
    assert parse_lambda(message) == {
        "level": "INFO",
        "request_id": RID,
        "trace_id": TRACE,
        "fields": {
            "location": "collect_payment:12",
            "message": "Collecting payment",
            "timestamp": "2021-05-03 11:47:12,494+0000",
            "service": "payment",
            "cold_start": "true",
            "order": '{"id":1}',
        },
    }


def test_parse_lambda_json_app_log_fills_level_and_request_id() -> None:
    message = (
        f'{{"timestamp":"2024-06-01T12:00:00Z","level":"ERROR","message":"x","logger":"root","requestId":"{RID}"}}'
    )
    parsed = parse_lambda(message)
    assert parsed["level"] == "ERROR"
    assert parsed["request_id"] == RID


@pytest.mark.parametrize(
    "message", ["hello world", "{'a': 1}", "{not json", "", "REPORTED nothing", "[]", "END of batch", "START x"]
)
def test_parse_lambda_print_line_is_plain_without_error(message: str) -> None:
    assert parse_lambda(message) == {}


def test_parse_lambda_lambda_warning_is_warn() -> None:
    assert parse_lambda("LAMBDA_WARNING: Unhandled exception. The most likely cause") == {"level": "WARN"}


def test_parse_lambda_platform_word_rejects_other_words() -> None:
    assert platform_word("REPORT RequestId: x") == "REPORT"
    assert platform_word("STARTED RequestId: x") is None
    assert platform_word("END") is None
    assert platform_word("XRAY") == "XRAY"


def test_parse_lambda_snake_case_converts_labels() -> None:
    assert snake_case("Runtime Version ARN") == "runtime_version_arn"
    assert snake_case("maxMemoryUsedMB") == "max_memory_used_mb"
    assert snake_case("SegmentId") == "segment_id"


_numbers = st.one_of(
    st.from_regex(r"[0-9]{1,20}(\.[0-9]{1,17})?", fullmatch=True),
    st.sampled_from(["nan", "1e3", "-1", "", " 5", "٣", "2147483648", "99999999999999999999"]),
)


@settings(max_examples=600, deadline=None)
@given(
    request_id=st.one_of(st.uuids().map(str), st.text(max_size=12)),
    duration=_numbers,
    billed=_numbers,
    memory=_numbers,
    max_memory=_numbers,
    init=st.one_of(st.none(), _numbers),
    tail=st.sampled_from(["", "\t", "\t\t", " "]),
)
def test_report_fast_path_reads_what_the_pair_reader_reads(
    request_id: str, duration: str, billed: str, memory: str, max_memory: str, init: str | None, tail: str
) -> None:
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration} ms\tBilled Duration: {billed} ms\t"
        f"Memory Size: {memory} MB\tMax Memory Used: {max_memory} MB"
        + (f"\tInit Duration: {init} ms" if init is not None else "")
        + tail
    )
    fast: dict[str, object] = {}
    slow: dict[str, object] = {}
    slow_fields: dict[str, str] = {}
    _read_pairs(line[len("REPORT") :], slow, slow_fields)  # type: ignore[arg-type]
    if _read_report(line, fast):  # type: ignore[arg-type]
        assert fast == slow and slow_fields == {}
        assert [type(v) for v in fast.values()] == [type(v) for v in slow.values()]


def test_report_fast_path_takes_the_usual_line() -> None:
    out: dict[str, object] = {}
    line = f"REPORT RequestId: {RID}\tDuration: 9.14 ms\tBilled Duration: 10 ms\tMemory Size: 128 MB\t"
    assert _read_report(line + "Max Memory Used: 71 MB\tInit Duration: 180.83 ms\t", out)  # type: ignore[arg-type]
    assert out["init_duration_ms"] == 180.83 and out["max_memory_used_mb"] == 71
    assert not _read_report(line + "Max Memory Used: 71 MB\tRestore Duration: 3 ms\t", {})


@settings(max_examples=300, deadline=None)
@given(
    request_id=st.one_of(st.uuids().map(str), st.text(st.characters(blacklist_characters="\n"), max_size=12)),
    tail=st.sampled_from(["", " ", "\t"]),
)
def test_end_fast_path_reads_what_the_pair_reader_reads(request_id: str, tail: str) -> None:
    line = f"END RequestId: {request_id}{tail}"
    slow: dict[str, object] = {}
    fields: dict[str, str] = {"type": "END"}
    _read_pairs(line[len("END") :], slow, fields)  # type: ignore[arg-type]
    assert parse_platform_text(line, "END") == {**slow, "fields": fields}


_xray_ids = st.one_of(st.from_regex(r"[0-9a-f-]{1,40}", fullmatch=True), st.text(max_size=8))


@settings(max_examples=600, deadline=None)
@given(
    trace=_xray_ids,
    segment=_xray_ids,
    sampled=st.sampled_from(["true", "false", "1", "", "true ms"]),
    tail=st.sampled_from(["", "\t", "\t\t", " "]),
    traced_before=st.booleans(),
)
def test_xray_fast_path_reads_what_the_pair_reader_reads(
    trace: str, segment: str, sampled: str, tail: str, traced_before: bool
) -> None:
    line = f"XRAY TraceId: {trace}\tSegmentId: {segment}\tSampled: {sampled}{tail}"
    start: dict[str, object] = {"trace_id": "earlier"} if traced_before else {}
    slow, slow_fields = dict(start), {"type": "REPORT"}
    _read_pairs(line[5:], slow, slow_fields)  # type: ignore[arg-type]
    fast, fast_fields = dict(start), {"type": "REPORT"}
    if _read_xray(line, fast, fast_fields):  # type: ignore[arg-type]
        assert (list(fast.items()), list(fast_fields.items())) == (list(slow.items()), list(slow_fields.items()))
    else:
        assert (fast, fast_fields) == (start, {"type": "REPORT"}), "a refused line is left to the pair reader"


def test_xray_fast_path_takes_the_usual_line() -> None:
    out: dict[str, object] = {}
    fields = {"type": "REPORT"}
    assert _read_xray(f"XRAY TraceId: {TRACE}\tSegmentId: 08d6af57da711448\tSampled: true\t", out, fields)  # type: ignore[arg-type]
    assert out == {"trace_id": TRACE} and fields == {
        "type": "REPORT",
        "segment_id": "08d6af57da711448",
        "sampled": "true",
    }


@settings(max_examples=600, deadline=None)
@given(
    st.one_of(
        st.sampled_from(["START", "END", "REPORT", "XRAY", "INIT_START", "END of batch"]),
        st.text(alphabet="SRTAEND_ ", max_size=8),
    ),
    st.sampled_from([" RequestId: ", " RequestId:", "  RequestId: ", "\tRequestId: ", " ", ""]),
    st.text(max_size=12),
)
def test_platform_word_prefix_check_agrees_with_the_pattern(word: str, middle: str, rest: str) -> None:
    message = word + middle + rest
    assert platform_word(message) == _matched_word(message)


@pytest.mark.timeout(60)
def test_parse_lambda_long_spaced_pairs_take_linear_time() -> None:
    # Regression: the look-ahead for the next "Label: " re-read a whole run of capitalised words at
    # every space: 32 KB took seconds and 256 KB minutes, enough for one small record (this compresses
    # well) to time out the invocation. Now about 50 ms here; the timeout is the assertion.
    for run in ("A " * 128_000, "Abcdefghijklmnopqrstuvwxyzabcdef " * 8_000):
        parsed = parse_lambda("INIT_START Runtime Version: " + run + "x Runtime Version ARN: arn:aws:lambda:r")
        fields = parsed["fields"]
        assert isinstance(fields, dict)
        assert fields["type"] == "INIT_START"
        assert fields["runtime_version_arn"] == "arn:aws:lambda:r"
