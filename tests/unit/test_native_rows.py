"""The C row writers (transform_lambda/_native_rows.c) write exactly the bytes the Python path writes for
the events they know to be usual, and hand every other event back for the Python path to write: a
payload's NDJSON is never different with them. The C is the compiled build's module when that build is
loaded (``make compiled``), and otherwise built here for this Python with the host's compiler,
warnings as errors; this module's tests run with it in ``native_rows``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import transform_lambda
from stream_processor.bench.offline import lambda_context
from stream_processor.bench.workload import firehose_event
from tests.conftest import transform_c_module
from tests.functional.test_parser_golden import ALL_CASES, CASE_CONFIGS, record_data
from transform_lambda import native_rows
from transform_lambda.config import TransformConfig
from transform_lambda.decode import decode_record
from transform_lambda.detect import detect_source
from transform_lambda.encode import encode_shaped_rows
from transform_lambda.handler import lambda_handler
from transform_lambda.parse import Parser
from transform_lambda.parse.apigateway import parse_apigateway
from transform_lambda.parse.json_log import parse_json_log
from transform_lambda.parse.lambda_log import parse_lambda
from transform_lambda.parse.levels import _ALIASES
from transform_lambda.parse.plain import _STEMS, _UPPER_WORDS, parse_plain
from transform_lambda.parse.vpc_flow import parse_vpc_flow
from transform_lambda.payload import DATA_MESSAGE, LogEvent, Payload
from transform_lambda.transform import shape_events

REPO = Path(transform_lambda.__file__).parent.parent
ARRIVAL = "2025-11-23T10:00:00.000Z"
TS = 1_700_000_000_123
LINE = "2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1700000000 1700000060 ACCEPT OK"
BOUNDED = settings(
    max_examples=max(300, int(os.environ.get("FUZZ_EXAMPLES", "300"))),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def c_rows(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The prebuilt C (``make sanitize``'s), the compiled build's when loaded, or the C built here."""
    return transform_c_module("transform_lambda._native_rows", native_rows._native, tmp_path_factory.mktemp("c"))


# (source, parser, the C function writing its rows)
Kind = tuple[str, Parser, str]
VPC: Kind = ("vpc_flow", parse_vpc_flow, "vpc_flow_rows")
LAMBDA: Kind = ("lambda", parse_lambda, "lambda_rows")
APIGATEWAY: Kind = ("apigateway", parse_apigateway, "apigateway_rows")
JSON: Kind = ("json", parse_json_log, "json_rows")
TEXT: Kind = ("text", parse_plain, "text_rows")
KINDS = (VPC, LAMBDA, APIGATEWAY, JSON, TEXT)
RID = "8f5a3e4e-1b2c-4d5e-9f60-7a8b9c0d1e2f"
TIME = "2024-06-01T12:00:00.123Z"
REPORT = (
    f"REPORT RequestId: {RID}\tDuration: 9.14 ms\tBilled Duration: 10 ms\tMemory Size: 128 MB\tMax Memory Used: 71 MB"
)
XRAY = "XRAY TraceId: 1-5759e988-bd862e3fe1be46a994272793\tSegmentId: 53995c3f42cd8ad8\tSampled: true\t"


@pytest.fixture(scope="module", autouse=True)
def with_the_c(c_rows: ModuleType) -> Iterator[None]:
    """``native_rows`` uses the C in this module's tests (a test may still take it away)."""
    saved = native_rows._native
    native_rows._native = c_rows
    yield
    native_rows._native = saved


def payload_of(
    *events: LogEvent, owner: str = "123456789012", group: str = "/vpc/flow-logs", stream: str = "eni-1-all"
) -> Payload:
    return Payload(DATA_MESSAGE, owner, group, stream, ("to-firehose",), events)


def lambda_payload(*messages: str) -> Payload:
    events = (LogEvent(str(n), TS + n, message) for n, message in enumerate(messages))
    return payload_of(*events, group="/aws/lambda/orders", stream="2025/11/23/[$LATEST]0123")


def python_path(payload: Payload, kind: Kind, arrival: str = ARRIVAL) -> tuple[bytes, int]:
    """What the transform writes for the payload without the C, and its rows with a parse error."""
    shaped = shape_events(payload, kind[0], kind[1], arrival)
    return encode_shaped_rows(shaped.rows), shaped.parse_errors


def handed_back(c_rows: ModuleType, payload: Payload, kind: Kind, arrival: str = ARRIVAL) -> list[LogEvent] | None:
    """The events the C leaves to the Python path (None: the whole payload)."""
    written = getattr(c_rows, kind[2])(
        payload.log_events, payload.owner, payload.log_group, payload.log_stream, kind[0], arrival
    )
    if written is None:
        return None
    chunks, missing = written
    assert len(chunks) == len(missing) + 1
    assert all(chunk.startswith(b"\n") for chunk in chunks[1:])
    assert all(isinstance(event, LogEvent) for event in missing)
    return list(missing)


def check(c_rows: ModuleType, payload: Payload, kind: Kind, arrival: str = ARRIVAL) -> list[LogEvent]:
    """Asserts the payload's NDJSON with the C is the Python path's; the events the C handed back."""
    assert native_rows.payload_ndjson(payload, kind[0], kind[1], arrival) == python_path(payload, kind, arrival)
    back = handed_back(c_rows, payload, kind, arrival)
    assert back is not None
    return back


def workload_payloads(kind: Kind) -> Iterator[Payload]:
    """The bench workload's payloads of one source."""
    for record in firehose_event(1 << 20).event["records"]:
        for payload in decode_record(record["data"], 1 << 26):
            if payload.message_type == DATA_MESSAGE and detect_source(payload, TransformConfig())[1] is kind[1]:
                yield payload


# ---- VPC Flow Logs


def test_every_usual_vpc_payload_is_written_by_the_c(c_rows: ModuleType) -> None:
    payloads = list(workload_payloads(VPC))
    assert len(payloads) > 20
    for payload in payloads:
        assert check(c_rows, payload, VPC) == []
        assert python_path(payload, VPC)[0].count(b"\n") == len(payload.log_events)


def test_the_fixture_payloads_unusual_events_are_handed_back(c_rows: ModuleType) -> None:
    doc = json.loads((REPO / "fixtures" / "payloads" / "vpc_flow" / "default_v2.json").read_text(encoding="utf-8"))
    events = [LogEvent(e["id"], e["timestamp"], e["message"]) for e in doc["logEvents"]]
    back = check(c_rows, payload_of(*events), VPC)
    assert 1 <= len(back) <= 2  # a line of another shape, and the header
    assert all(handed_back(c_rows, payload_of(event), VPC) == [event] for event in back)
    header = payload_of(LogEvent("0", TS, LINE), LogEvent("1", TS, "version account-id " + LINE[15:]))
    assert native_rows.payload_ndjson(header, "vpc_flow", parse_vpc_flow, ARRIVAL) == python_path(header, VPC)
    assert python_path(header, VPC)[1] == 1  # the header's row carries a parse error, counted


@pytest.mark.parametrize(
    "line",
    [
        LINE,
        "2 123456789012 eni-1 - - - - - - - 1700000000 1700000060 - NODATA",
        "- - - - - - - - - - - - - -",
        '2\t123456789012  eni-"1"\\ 10.0.0.1 10.0.0.2 1 1 6 10 840 1700000000 1700000060 REJECT SKIPDATA\r\n\n',
        "2 123456789012 eni-\x01\x08\x7f 10.0.0.1 10.0.0.2 0 65535 0 0 9223372036854775807 0 253402300799 ACCEPT OK",
        "  2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 1 0006 10 840 1700000000 1700000060 ACCEPT OK\x1c",
    ],
    ids=["default", "nodata", "all absent", "escapes and whitespace", "extremes", "padding"],
)
def test_vpc_lines_the_c_writes(c_rows: ModuleType, line: str) -> None:
    assert check(c_rows, payload_of(LogEvent("1", TS, line), LogEvent("2", TS + 1000, line)), VPC) == []


@pytest.mark.parametrize(
    ("event", "why"),
    [
        (LogEvent("1", TS, LINE.replace("2 ", "version ", 1)), "the header line"),
        (LogEvent("1", TS, "${version} " + LINE.split(" ", 1)[1]), "the header line, as a format"),
        (LogEvent("1", TS, LINE + " extra"), "15 fields"),
        (LogEvent("1", TS, LINE.replace("443", "000443")), "a port of six digits (Python reads it)"),
        (LogEvent("1", TS, LINE.replace("443", "65536")), "a port out of range"),
        (LogEvent("1", TS, LINE.replace("ACCEPT", "DENY")), "an unknown action"),
        (LogEvent("1", TS, LINE.replace("eni-1", "éni-1")), "a non-ASCII message"),
        (LogEvent("1", TS, LINE.replace("eni-1", "eni-\ud800")), "a lone surrogate in the message"),
        (LogEvent("1", TS, LINE.replace(" 6 ", " 256 ")), "a protocol out of range"),
        (LogEvent("1", TS, LINE.replace(" 10 ", " 9223372036854775808 ")), "packets past bigint"),
        (LogEvent("1", TS, LINE.replace("1700000060", "253402300800")), "a flow end past year 9999"),
        (LogEvent("", TS, LINE), "no event id"),
        (LogEvent("\udc00", TS, LINE), "a lone surrogate in the event id"),
        (LogEvent("1", None, LINE), "no timestamp"),
        (LogEvent("1", 253_402_300_800_000, LINE), "a timestamp past year 9999"),
        (LogEvent("1", -1, LINE), "a timestamp before 1970"),
        (LogEvent("1", 1 << 70, LINE), "a timestamp past 64 bits"),
        (LogEvent("1", TS, LINE, {"k": "v"}), "extracted fields"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_an_unusual_vpc_event_is_handed_back_and_the_others_written(
    c_rows: ModuleType, event: LogEvent, why: str
) -> None:
    usual = LogEvent("0", TS, LINE)
    assert check(c_rows, payload_of(usual, event, usual), VPC) == [event], why
    assert check(c_rows, payload_of(event, event), VPC) == [event, event], why


def test_the_envelope_is_escaped_and_a_lone_surrogate_hands_the_payload_back(c_rows: ModuleType) -> None:
    payload = payload_of(LogEvent("é\u2028", TS, LINE), group='/vpc/"flöw"\\\n\U0001f600', stream="\x00")
    assert check(c_rows, payload, VPC) == []
    assert check(c_rows, payload, VPC, arrival="2025\u00e9") == []
    broken = payload_of(LogEvent("1", TS, LINE), stream="eni-\ud800")
    assert handed_back(c_rows, broken, VPC) is None
    assert native_rows.payload_ndjson(broken, "vpc_flow", parse_vpc_flow, ARRIVAL) is None
    assert check(c_rows, payload_of(), VPC) == []
    assert native_rows.payload_ndjson(payload_of(), "vpc_flow", parse_vpc_flow, ARRIVAL) == (b"", 0)


_TOKENS = st.sampled_from(
    ["-", "2", "0", "443", "65535", "65536", "000443", "6", "255", "256", "9223372036854775807", "1" * 20,
     "1700000000", "253402300799", "ACCEPT", "REJECT", "OK", "NODATA", "SKIPDATA", "eni-1", "10.0.0.1",
     "version", "${version}", '"q"', "\\", "é", "\x00", "a\x1fb"]
)  # fmt: skip
_SPACES = st.sampled_from([" ", "  ", "\t", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\xa0", "\u2003"])


@st.composite
def vpc_lines(draw: st.DrawFn) -> str:
    """Lines of about fourteen fields, from the values each field takes or refuses, apart by any space."""
    count = draw(st.sampled_from([14, 14, 14, 13, 15]))
    tokens = draw(st.lists(_TOKENS, min_size=count, max_size=count))
    line = "".join(token + draw(_SPACES) for token in tokens)
    return draw(st.sampled_from(["", " ", "\n"])) + line + draw(st.sampled_from(["", "\n", "\r\n", "\n\r\r"]))


@BOUNDED
@given(
    lines=st.lists(vpc_lines(), min_size=1, max_size=4),
    timestamps=st.lists(st.integers(-1, 253_402_300_800_000) | st.none(), min_size=4, max_size=4),
    ids=st.lists(st.sampled_from(["1", "", "ü", "a" * 56]), min_size=4, max_size=4),
    stream=st.text(max_size=8),
)
def test_random_vpc_lines_are_written_as_python_writes_them(
    c_rows: ModuleType, lines: list[str], timestamps: list[int | None], ids: list[str], stream: str
) -> None:
    payload = payload_of(*(LogEvent(i, t, m) for i, t, m in zip(ids, timestamps, lines, strict=False)), stream=stream)
    if handed_back(c_rows, payload, VPC) is not None:
        check(c_rows, payload, VPC)
    else:  # only a lone surrogate in the envelope hands the whole payload back
        assert not stream.isprintable() or any("\ud800" <= c <= "\udfff" for c in stream)
        assert native_rows.payload_ndjson(payload, "vpc_flow", parse_vpc_flow, ARRIVAL) is None


_USUAL = [
    st.sampled_from(["2", "-", "${version}x", '"']),
    st.sampled_from(["123456789012", "-", "\\"]),
    st.from_regex(r"eni-[0-9a-f\x01]{0,8}", fullmatch=True) | st.just("-"),
    st.sampled_from(["10.0.0.1", "2001:db8::1", "-"]),
    st.sampled_from(["10.0.0.2", "-"]),
    *[st.integers(0, 65535).map(str) | st.just("-")] * 2,
    st.integers(0, 255).map(str) | st.sampled_from(["-", "006"]),
    *[st.integers(0, 2**63 - 1).map(str) | st.just("-")] * 2,
    *[st.integers(0, 253_402_300_799).map(str) | st.just("-")] * 2,
    st.sampled_from(["ACCEPT", "REJECT", "-"]),
    st.sampled_from(["OK", "NODATA", "SKIPDATA", "-"]),
]


@BOUNDED
@given(
    fields=st.lists(st.tuples(*_USUAL), min_size=1, max_size=5),
    timestamps=st.lists(st.integers(0, 253_402_300_799_999), min_size=5, max_size=5),
    space=_SPACES.filter(lambda c: c.isascii()),
)
def test_random_usual_vpc_lines_are_all_written_by_the_c(
    c_rows: ModuleType, fields: list[tuple[str, ...]], timestamps: list[int], space: str
) -> None:
    events = (LogEvent(str(n), t, space.join(f)) for n, (t, f) in enumerate(zip(timestamps, fields, strict=False)))
    assert check(c_rows, payload_of(*events), VPC) == []


# ---- Lambda function logs


def test_the_workloads_lambda_payloads_leave_only_init_lines_to_python(c_rows: ModuleType) -> None:
    payloads = list(workload_payloads(LAMBDA))
    assert len(payloads) > 20
    written = 0
    for payload in payloads:
        back = check(c_rows, payload, LAMBDA)
        assert all(event.message.startswith("INIT_START ") for event in back)
        written += len(payload.log_events) - len(back)
    assert written > 1000


def test_every_fixture_and_conformance_payload_comes_out_as_the_python_path_writes_it(c_rows: ModuleType) -> None:
    seen: set[str] = set()
    for case in ALL_CASES:
        config = CASE_CONFIGS.get(case, TransformConfig())
        for payload in decode_record(record_data(case), 1 << 26):
            if payload.message_type != DATA_MESSAGE:
                continue
            parser = detect_source(payload, config)[1]
            for kind in KINDS:
                if parser is kind[1]:
                    back = check(c_rows, payload, kind)
                    if len(back) < len(payload.log_events):
                        seen.add(kind[0])
    assert seen == {kind[0] for kind in KINDS}


@pytest.mark.parametrize(
    "message",
    [
        f"START RequestId: {RID} Version: $LATEST\n",
        f"START RequestId: {RID}",
        "START RequestId:  Version: 7",
        f'START RequestId: {RID} Version: é\t"x"\\ Version: 2',
        f"START RequestId: {RID} Version: 3\n{XRAY}\n",
        f"START RequestId: {RID}\nnot an XRAY line\n\nXRAY TraceId: a\tSegmentId: b\tSampled: false",
        f"END RequestId: {RID}\n",
        f"END RequestId: {'a' * 64}",
        f"END RequestId: {RID}\n{XRAY}",
        f"END RequestId: {RID}\nXRAY TraceId: {'t' * 64}\tSegmentId: {'s' * 64}\tSampled: false",
        REPORT + "\t\n",
        REPORT,
        REPORT + "\tInit Duration: 180.83 ms\t",
        REPORT + "\tInit Duration: 1 ms",
        f"{REPORT}\t\n{XRAY}\n",
        REPORT.replace("9.14", "007.50").replace("10 ms", "0010 ms"),
        REPORT.replace("9.14", "0.000000000000001").replace("10 ms", "999999999999999999 ms"),
        REPORT.replace("9.14", "999999999999999.999999999999999").replace("128 MB", "999999999 MB"),
        REPORT.replace("9.14", "1.000000000000000"),
        REPORT.replace(RID, "r" * 64),
        REPORT.replace("128 MB", "999999999 MB").replace("71 MB", "000000071 MB"),
        f'[INFO]\t{TIME}\t{RID}\tHello é\t"tabs"\\\n',
        f"[warning]\t{TIME}\tnot-a-request-id\tmsg",
        f"[ Error\x1f]\t{TIME}\t{RID}\t",
        f"[NOPE]\t{TIME}\t{RID}\tno level",
        f"[]\t{TIME}\tx\ty",
        f"[CRITICAL]\t2024-06-01T12:00:00Z\t{RID.upper()}\t\U0001f600\x00",
    ],
)
def test_lambda_lines_the_c_writes(c_rows: ModuleType, message: str) -> None:
    assert check(c_rows, lambda_payload(message, message), LAMBDA) == []


@pytest.mark.parametrize(
    "message",
    [
        "INIT_START Runtime Version: python:3.12.v38\tRuntime Version ARN: arn",
        f"{TIME}\t{RID}\tINFO\tthe Node runtime's line",
        "Processing 3 records",
        "LAMBDA_WARNING: Unhandled exception",
        "STARTED the job",
        "[ERROR] Runtime.ImportModuleError: Unable to import module",
        f"[INFO]\t{TIME}\ttwo tabs only",
        f"[INFO]\tnot a time at all here\t{RID}\tmsg",
        f"[\u0131nfo]\t{TIME}\t{RID}\ta level upper-cased outside ASCII",
        f"[INFO]\t{TIME}\t{RID[:-1]}é\ta request id outside ASCII",
        f"[INFO\t{TIME}\t{RID}\tno closing bracket",
        f"[INFO]\t{TIME}\t{RID}\ta lone surrogate \ud800",
        f"END RequestId: {'a' * 65}",
        f"END RequestId: {RID} extra",
        "END RequestId: ",
        f"START RequestId: {RID}\n{XRAY}\n{XRAY}",
        f"START RequestId: {RID}\nXRAY TraceId: a\tSegmentId: b\tSampled: maybe",
        f"START RequestId: {RID}\nXRAY TraceId: a\tSegmentId: b\tSampled: truex",
        f"END RequestId: {RID}\nXRAY TraceId: {'t' * 65}\tSegmentId: b\tSampled: true",
        f"END RequestId: {RID}\nXRAY TraceId: a\tSegmentId: {'s' * 65}\tSampled: true",
        f"[INFO]\t2024-06-01T12:00:0Z\t{RID}\ta time of 19 characters",
        f"END RequestId: {RID}\nXRAY TraceId: a\tSegmentId: b-c\tSampled: true",
        REPORT.replace("9.14", "1" * 16),
        REPORT.replace("9.14", "1.").replace("71 MB", "71 MB\t"),
        REPORT.replace("10 ms", "10 ms "),
        REPORT.replace("128 MB", "1234567890 MB"),
        REPORT.replace(RID, "r" * 65),
        REPORT.replace("71 MB", "1234567890 MB"),
        REPORT.replace("10 ms", "1234567890123456789 ms"),
        REPORT + "\tInit Duration: x ms",
        REPORT + "\tStatus: timeout",
        REPORT + "\t\t",
        "",
    ],
)
def test_an_unusual_lambda_line_is_handed_back(c_rows: ModuleType, message: str) -> None:
    payload = lambda_payload(f"START RequestId: {RID}", message, f"END RequestId: {RID}")
    assert check(c_rows, payload, LAMBDA) == [payload.log_events[1]]


_PIECES = st.sampled_from(
    ["START RequestId: ", "END RequestId: ", "REPORT RequestId: ", "XRAY TraceId: ", "\tSegmentId: ", "\tSampled: ",
     "true", "false", " Version: ", "$LATEST", "\tDuration: ", "\tBilled Duration: ", "\tMemory Size: ",
     "\tMax Memory Used: ", "\tInit Duration: ", " ms", " MB", "\t", "\n", "\r", " ", "\x1c", "[", "]", "INFO",
     "warning", "\u0131nfo", TIME, RID, "9.14", "10", ".", "0.000000000000001", "1" * 16, "é", '"', "\\", "-", "abc",
     "\U0001f600", "{", "}", "\ud800"]
)  # fmt: skip


@BOUNDED
@given(messages=st.lists(st.lists(_PIECES, max_size=14).map("".join), min_size=1, max_size=5))
def test_random_lambda_lines_are_written_as_python_writes_them(c_rows: ModuleType, messages: list[str]) -> None:
    check(c_rows, lambda_payload(*messages), LAMBDA)


@BOUNDED
@given(
    numbers=st.lists(st.from_regex(r"[0-9]{1,16}(\.[0-9]{0,16})?", fullmatch=True), min_size=5, max_size=5),
    tail=st.sampled_from(["", "\t", "\t\t", " "]),
    init=st.booleans(),
)
def test_random_report_lines_are_written_as_python_writes_them(
    c_rows: ModuleType, numbers: list[str], tail: str, init: bool
) -> None:
    duration, billed, memory, used, init_ms = numbers
    message = (
        f"REPORT RequestId: {RID}\tDuration: {duration} ms\tBilled Duration: {billed} ms\tMemory Size: {memory} MB"
        f"\tMax Memory Used: {used} MB" + (f"\tInit Duration: {init_ms} ms" if init else "") + tail
    )
    back = check(c_rows, lambda_payload(message), LAMBDA)
    usual = all(n.isdigit() and len(n) <= 9 for n in (memory, used)) and billed.isdigit() and len(billed) <= 18
    if usual and tail in ("", "\t") and not back:
        assert b'"duration_ms":' in native_rows.payload_ndjson(lambda_payload(message), *LAMBDA[:2], ARRIVAL)[0]  # type: ignore[index]


_LEVEL_WORDS = [*sorted(_ALIASES), "NOPE", "INFOS", "WARNINGS", "", "10"]


@pytest.mark.parametrize("word", _LEVEL_WORDS)
def test_every_level_spelling_is_read_as_python_reads_it(c_rows: ModuleType, word: str) -> None:
    spellings = (word, word.lower(), word.title(), f" {word.lower()}\t", f"\x1c{word}\x0b")
    payload = lambda_payload(*(f"[{spelling}]\t{TIME}\t{RID}\tmsg" for spelling in spellings))
    # A tab inside the brackets makes a line of another shape: the Python path reads it as plain text.
    split = [event for event, spelling in zip(payload.log_events, spellings, strict=True) if "\t" in spelling]
    assert check(c_rows, payload, LAMBDA) == split


@BOUNDED
@given(
    level=st.sampled_from(_LEVEL_WORDS).map(str.lower) | st.text(max_size=6),
    time=st.from_regex(r"[0-9]{3,5}-[0-9]{2}-[0-9]{2}T[0-9:.]{0,14}Z?", fullmatch=True) | st.just(TIME),
    request=st.from_regex(r"[0-9a-f-]{34,38}", fullmatch=True) | st.just(RID),
    text=st.text(max_size=8),
)
def test_random_python_runtime_lines_are_written_as_python_writes_them(
    c_rows: ModuleType, level: str, time: str, request: str, text: str
) -> None:
    check(c_rows, lambda_payload(f"[{level}]\t{time}\t{request}\t{text}"), LAMBDA)


@BOUNDED
@given(
    trace=st.from_regex(r"[0-9a-z-]{0,66}", fullmatch=True),
    segment=st.from_regex(r"[0-9a-z-]{0,66}", fullmatch=True),
    sampled=st.sampled_from(["true", "false", "truex", "tru", "", "True"]),
    tail=st.sampled_from(["", "\t", "\t\t", " ", "\tx"]),
    first=st.sampled_from([f"START RequestId: {RID} Version: 1", f"END RequestId: {RID}", REPORT + "\t"]),
)
def test_random_xray_lines_are_written_as_python_writes_them(
    c_rows: ModuleType, trace: str, segment: str, sampled: str, tail: str, first: str
) -> None:
    xray = f"XRAY TraceId: {trace}\tSegmentId: {segment}\tSampled: {sampled}{tail}"
    check(c_rows, lambda_payload(f"{first}\n{xray}", f"{first}\n\n{xray}\n"), LAMBDA)


# ---- JSON lines: Lambda's JSON application lines, API Gateway, JSON logs

POWERTOOLS = (
    '{"level":"INFO","location":"handler:42","message":"Charged card","timestamp":"2025-11-23 10:00:00,123+0000",'
    '"service":"payments","cold_start":false,"function_name":"payments-webhook","function_memory_size":512,'
    f'"function_request_id":"{RID}","xray_trace_id":"1-6740a1b0-0123456789abcdef01234567","order_id":"ord_1"}}'
)
ACCESS = (
    '{"requestId":"c0ffee00-1111-2222-3333-444455556666","ip":"203.0.113.9","caller":"-","user":"-",'
    '"requestTime":"23/Nov/2025:10:00:00 +0000","httpMethod":"GET","resourcePath":"/orders/{id}",'
    '"path":"/orders/0a1b2c3d","status":"200","protocol":"HTTP/1.1","responseLength":"1234",'
    '"integrationLatency":"41","responseLatency":"45"}'
)
FLAT_JSON = [
    POWERTOOLS,
    ACCESS,
    "{}",
    ' {"not": "at the start"}'[1:] + " \t\r",
    '{ "level" : 30 , "msg" : "pino" , "pid" : -0 , "hostname" : "h" , "time" : 1700000000123 }',
    '{"level":"warn","severity":"ERROR","requestId":"","reqId":"r2","traceId":"t1","trace.id":"t2"}',
    '{"lvl":"nope","level":" Info ","log.level":"debug"}',
    '{"msg":"\\"q\\" \\\\ \\/ \\b\\f\\n\\r\\t \\u0000 \\u001f \\u00e9 \\u2028 \\ud83d\\ude00 é 😀"}',
    '{"a":true,"b":false,"c":null,"d":123456789012345678,"e":-123456789012345678,"f":0,"":"empty key"}',
    '{"status":"2147483647","responseLength":"9223372036854775807","latency":"0012.50","routeKey":"GET /x"}',
    '{"status":"2147483648","responseLength":"9223372036854775808","latency":"1.","integrationLatency":".5"}',
    '{"status":200,"responseLength":0,"latency":9007199254740992,"integrationLatency":-1,"ip":7}',
    '{"status":true,"latency":9007199254740993,"responseLatency":12,"sourceIp":"a","ip":"b","sourceIP":"-"}',
    '{"routeKey":"ANY /proxy","httpMethod":"-","path":""}',
    '{"routeKey":"$default","resourcePath":"/r"}',
    '{"httpMethod":"POST","routeKey":"GET /pets/{id}"}',
    '{"routeKey":5,"path":"/p","xrayTraceId":"Root=1"}',
    '{"status":"٢٠٠","latency":"1" }',
]


@pytest.mark.parametrize("kind", [LAMBDA, APIGATEWAY, JSON], ids=lambda kind: kind[0])
@pytest.mark.parametrize("message", FLAT_JSON)
def test_flat_json_lines_the_c_writes(c_rows: ModuleType, kind: Kind, message: str) -> None:
    payload = lambda_payload(message, message + "\n")
    assert check(c_rows, payload, kind) == []


NOT_FLAT = [
    '{"a":{"b":1}}',
    '{"a":[1]}',
    '{"a":1.5}',
    '{"a":1e5}',
    '{"a":1E5}',
    '{"a":NaN}',
    '{"a":-Infinity}',
    '{"a":1234567890123456789}',
    '{"a":01}',
    '{"a":-}',
    '{"a":1,"a":2}',
    '{"a":"\\ud800"}',
    '{"a":"\\udc00"}',
    '{"a":"\\ud800\\u0041"}',
    '{"a":"\\x41"}',
    '{"a":"\\u12"}',
    '{"a":"tab\there"}',
    '{"a":"x"',
    '{"a":"',  # strings cut short at the end of the message: nothing left to reserve
    '{"a":"x',
    '{"a":"x\\',
    '{"a":"\\u00',
    '{"a":"\\ud83d',
    '{"',
    '{"a":"x",}',
    '{"a" "x"}',
    "{a:1}",
    '{"a":"x"} {"b":1}',
    '{"a":"x"}x',
    '{"a":tru}',
    '{"a":"\ud800"}',
    "{" + ",".join(f'"k{n}":{n}' for n in range(49)) + "}",
]


@pytest.mark.parametrize("kind", [LAMBDA, APIGATEWAY, JSON], ids=lambda kind: kind[0])
@pytest.mark.parametrize("message", NOT_FLAT)
def test_other_json_lines_are_handed_back(c_rows: ModuleType, kind: Kind, message: str) -> None:
    payload = lambda_payload(POWERTOOLS, message, ACCESS)
    assert check(c_rows, payload, kind) == [payload.log_events[1]]


@pytest.mark.parametrize("message", ['{"type":"platform.start","time":"t"}', '{"a":1,"type":"platform.x"}'])
def test_the_json_log_formats_platform_lines_are_handed_back(c_rows: ModuleType, message: str) -> None:
    payload = lambda_payload(POWERTOOLS, message, ACCESS)
    assert check(c_rows, payload, LAMBDA) == [payload.log_events[1]]
    assert check(c_rows, payload, JSON) == []


@pytest.mark.parametrize("level", ["\u0131nfo", "\u2003INFO", "\ufb01ne", "\u00e9"])
def test_a_level_spelled_outside_ascii_is_handed_back(c_rows: ModuleType, level: str) -> None:
    message = json.dumps({"level": level, "msg": "m"}, ensure_ascii=False)
    payload = lambda_payload(ACCESS, message)
    assert check(c_rows, payload, JSON) == check(c_rows, payload, LAMBDA) == [payload.log_events[1]]
    assert check(c_rows, payload, APIGATEWAY) == []


def test_forty_eight_members_are_read_and_api_gateways_text_lines_handed_back(c_rows: ModuleType) -> None:
    many = "{" + ",".join(f'"k{n}":{n}' for n in range(48)) + "}"
    assert check(c_rows, lambda_payload(many), JSON) == []
    clf = '203.0.113.9 - - [23/Nov/2025:10:00:00 +0000] "GET /pets HTTP/1.1" 200 12 c0ffee00'
    payload = lambda_payload(ACCESS, clf)
    assert check(c_rows, payload, APIGATEWAY) == [payload.log_events[1]]


def test_the_workloads_api_gateway_payloads_are_written_by_the_c(c_rows: ModuleType) -> None:
    payloads = list(workload_payloads(APIGATEWAY))
    assert len(payloads) > 10
    for payload in payloads:
        assert check(c_rows, payload, APIGATEWAY) == []


_KEYS = st.sampled_from(
    ["level", "severity", "lvl", "log.level", "requestId", "request_id", "reqId", "traceId", "xray_trace_id",
     "trace.id", "type", "message", "ip", "sourceIp", "httpMethod", "resourcePath", "path", "status",
     "responseLength", "responseLatency", "latency", "integrationLatency", "xrayTraceId", "routeKey", "", "é"]
) | st.text(max_size=4)  # fmt: skip
_TEXTS = st.sampled_from(
    ["", "-", "INFO", " warn ", "platform.start", "GET /a", "ANY /b", "$default", "12", "0012.50", "1.", "x y",
     "9223372036854775807", "2147483648", "\u0662"]
)  # fmt: skip
_VALUES = (
    _TEXTS
    | st.text(max_size=6)
    | st.integers(-(10**19), 10**19)
    | st.sampled_from([10, 30, 60, 0, -0, 2**53, 2**53 + 1])
    | st.booleans()
    | st.none()
    | st.floats(allow_nan=True)
    | st.lists(st.integers(), max_size=2)
)


@st.composite
def json_lines(draw: st.DrawFn) -> str:
    """JSON objects of the keys the parsers read and others, spelled in any way json may spell them,
    some made invalid."""
    members = draw(st.lists(st.tuples(_KEYS, _VALUES), max_size=8))
    ascii_only = draw(st.booleans())
    space = draw(st.sampled_from(["", " ", "\t", "\n ", "\r"]))
    body = f",{space}".join(
        json.dumps(key, ensure_ascii=ascii_only) + f"{space}:{space}" + json.dumps(value, ensure_ascii=ascii_only)
        for key, value in members
    )
    line = "{" + space + body + space + "}"
    cut = draw(st.integers(0, 3))
    if cut == 1 and len(line) > 2:  # damage it
        at = draw(st.integers(1, len(line) - 1))
        line = line[:at] + draw(st.sampled_from(["", "\\", '"', ",", "}", "x"])) + line[at + 1 :]
    return line + draw(st.sampled_from(["", " ", "\n"]))


@BOUNDED
@given(messages=st.lists(json_lines(), min_size=1, max_size=4))
def test_random_json_lines_are_written_as_python_writes_them(c_rows: ModuleType, messages: list[str]) -> None:
    payload = lambda_payload(*messages)
    for kind in (LAMBDA, APIGATEWAY, JSON):
        check(c_rows, payload, kind)


# ---- Plain text


def test_the_workloads_text_payloads_are_written_by_the_c(c_rows: ModuleType) -> None:
    payloads = list(workload_payloads(TEXT))
    assert len(payloads) > 5
    for payload in payloads:
        assert check(c_rows, payload, TEXT) == []


@pytest.mark.parametrize(
    "message",
    [
        "2025-11-23T10:00:06.252Z INFO  [main] com.acme.Service - started",
        "2025-11-23 10:00:06,252 WARNING [worker-1] low disk\njava.lang.Exception\n\tat x",
        "2025-11-23\t10:00:06.252+0000\x1cSEVERE x",
        "10:00:06 NOTICE",
        "I1123 10:00:06.252 123 main.go:42] started",
        "E1123 10:00:06.252 123 main.go:42] failed é",
        "F0000 00:00",
        "<0>kernel panic",
        "<191>debug line",
        "<13>",
        "<192>no level in it",
        "<1a>no level in it",
        "<>x",
        "",
        "nothing to see here \x00" + " " * 140 + "é 😀 past the prefix",
        "12 apples, 3 pears",
        "2025-11-23T10:00:06Z user logged in",
        "2025-11-23T10:00:06Z" + " " * 200 + "INFO",
        "a" * 160 + "ERROR past the prefix é",
        "x" * 158 + "err, a stem across the prefix's end",
        "\x001234 67:9 a NUL where glog's level letter goes",
    ],
)
def test_text_lines_the_c_writes(c_rows: ModuleType, message: str) -> None:
    assert check(c_rows, lambda_payload(message, message + "\r\n"), TEXT) == []


@pytest.mark.parametrize(
    "message",
    [
        "[ERROR] the level pattern reads brackets",
        "level=warn logfmt",
        "error: a compiler's line",
        "2025-11-23T10:00:06Z something INFO later",
        "2025-11-23T10:00:06Z x ERROR",
        "java.lang.Exception: an error",
        "\u0661 a digit outside ASCII first",
        "2025-11-23T10:00:06Z\u00a0INFO a space outside ASCII",
        "I11\u00e923 10:00:06.252 x",
        "<1\u00e9>x",
        "\u212aelvin: not ASCII before the stems are looked for",
        "no stem but é in the prefix",
        "10:00 10:00 10:00 INFO the fourth token",
    ],
)
def test_a_text_line_the_level_pattern_reads_is_handed_back(c_rows: ModuleType, message: str) -> None:
    payload = lambda_payload("2025-11-23T10:00:06Z INFO ok", message, "nothing")
    assert check(c_rows, payload, TEXT) == [payload.log_events[1]]


@pytest.mark.parametrize("word", sorted(_UPPER_WORDS))
def test_every_upper_case_level_word_after_a_timestamp_is_read(c_rows: ModuleType, word: str) -> None:
    payload = lambda_payload(f"2025-11-23T10:00:06Z {word} x", f"10:00 +0000 {word}", f"10:00 {word.lower()} x")
    assert check(c_rows, payload, TEXT) == [payload.log_events[2]]  # lower case: the level pattern's


@pytest.mark.parametrize("stem", _STEMS.pattern.split("|"))
def test_a_line_with_a_level_words_stem_is_left_to_the_level_pattern(c_rows: ModuleType, stem: str) -> None:
    payload = lambda_payload(f"the {stem}ish", f"THE {stem.upper()}ISH", "nothing")
    assert check(c_rows, payload, TEXT) == list(payload.log_events[:2])


_TEXT_PIECES = st.sampled_from(
    ["2025-11-23T10:00:06.252Z", "10:00:06", "+0000", "-", ",", " ", "  ", "\t", "\x1c", "\n", "\xa0", "INFO", "WARN",
     "WARNING", "NOTICE", "SEVERE", "info", "Error", "[", "]", "level=", ":", "<", ">", "13", "191", "192", "I1123",
     "E", "W0101", "é", "\u0661", "\u212a", "x", "the", "a" * 60, "\x00"]
)  # fmt: skip


@BOUNDED
@given(messages=st.lists(st.lists(_TEXT_PIECES, max_size=12).map("".join), min_size=1, max_size=5))
def test_random_text_lines_are_written_as_python_writes_them(c_rows: ModuleType, messages: list[str]) -> None:
    check(c_rows, lambda_payload(*messages), TEXT)


# ---- Escaping and reading strings eight bytes at a time

# Each byte JSON escapes, its neighbours on both sides of the range, and multi-byte UTF-8.
ESCAPED = ['"', "\\", "\x00", "\x1f", "\n", "\t", "\x08", "\x0c", "\r"]
PLAIN = [" ", "!", "#", "[", "]", "\x7f", "\u0080", "é", "\u2028", "😀"]


@pytest.mark.parametrize("char", ESCAPED + PLAIN)
def test_a_character_at_every_place_of_an_eight_byte_block_is_written_as_python_writes_it(
    c_rows: ModuleType, char: str
) -> None:
    """Messages whose one special character falls on each byte of a block, and in the tail after the
    last whole block; the C writes every one of them (as text, and inside a JSON line's string). The
    first 160 characters are ASCII: plain text with anything else there goes to the level pattern."""
    prefix = "ab" * 80
    messages = [prefix + "x" * before + char + "y" * after for before in range(9) for after in (0, 1, 7, 8, 9)]
    messages += [prefix + char * count for count in range(1, 18)]
    assert check(c_rows, lambda_payload(*messages), TEXT) == []
    lines = [json.dumps({"msg": message, "n": 1}, ensure_ascii=False) for message in messages]
    lines += [json.dumps({"msg": message}) for message in messages]  # \uXXXX escapes too
    assert check(c_rows, lambda_payload(*lines), JSON) == []


@pytest.mark.parametrize("char", ["\x00", "\x1f", "\n"])
def test_a_raw_control_character_in_a_json_lines_string_is_handed_back_at_every_place(
    c_rows: ModuleType, char: str
) -> None:
    lines = ['{"msg": "' + "x" * before + char + '"}' for before in range(17)]
    assert len(check(c_rows, lambda_payload(*lines), JSON)) == len(lines)


# ---- The handler


class _Counting:
    """The C module, counting its calls and the events it handed back."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.calls: dict[str, int] = {}
        self.events = self.handed_back = 0

    def __getattr__(self, name: str) -> Any:
        function = getattr(self.module, name)

        def counted(*args: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            result = function(*args)
            self.events += len(args[0])
            self.handed_back += len(args[0]) if result is None else len(result[1])
            return result

        return counted


def test_the_handler_answers_with_the_same_bytes_with_the_c_and_without(
    c_rows: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = firehose_event(1 << 20).event
    monkeypatch.setattr(native_rows, "_native", None)
    without = lambda_handler(event, lambda_context())
    counting = _Counting(c_rows)
    monkeypatch.setattr(native_rows, "_native", counting)
    with_c = lambda_handler(event, lambda_context())
    assert with_c == without
    assert counting.calls["vpc_flow_rows"] > 20 and counting.calls["lambda_rows"] > 20
    assert counting.calls["apigateway_rows"] > 10 and counting.calls["text_rows"] > 5
    assert 0 < counting.handed_back < counting.events / 100  # the cold starts' INIT_START lines


def test_without_the_c_every_payload_goes_the_python_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native_rows, "_native", None)
    assert not native_rows.available()
    assert native_rows.payload_ndjson(payload_of(LogEvent("1", TS, LINE)), "vpc_flow", parse_vpc_flow, ARRIVAL) is None
    assert native_rows.payload_ndjson(lambda_payload(REPORT), "lambda", parse_lambda, ARRIVAL) is None


def test_only_the_default_vpc_format_and_rows_with_an_arrival_time_go_to_the_c() -> None:
    payload = payload_of(LogEvent("1", TS, LINE))
    config = TransformConfig(vpc_flow_formats=(("/vpc/*", ("version", "account-id", "interface-id")),))
    custom = detect_source(payload, config)[1]
    assert native_rows.available()
    assert native_rows.payload_ndjson(payload, "vpc_flow", parse_vpc_flow, ARRIVAL) == python_path(payload, VPC)
    assert native_rows.payload_ndjson(payload, "vpc_flow", custom, ARRIVAL) is None
    assert native_rows.payload_ndjson(payload, "vpc_flow", parse_vpc_flow, None) is None
    assert native_rows.payload_ndjson(lambda_payload(REPORT), "lambda", parse_lambda, None) is None
