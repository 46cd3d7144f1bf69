"""The C row writer (transform_lambda/_native_rows.c) writes exactly the bytes the Python path writes for
a payload, or hands the payload back (None) for the Python path to decide: never different bytes. It
is the compiled build's module when that build is loaded (``make compiled``), and otherwise built here
for this Python with the host's compiler, warnings as errors."""

from __future__ import annotations

import base64
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sysconfig
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
from transform_lambda import native_rows
from transform_lambda.config import TransformConfig
from transform_lambda.decode import decode_record
from transform_lambda.encode import encode_shaped_rows
from transform_lambda.handler import lambda_handler
from transform_lambda.parse.vpc_flow import parse_vpc_flow
from transform_lambda.payload import DATA_MESSAGE, LogEvent, Payload
from transform_lambda.transform import shape_events

SOURCE = Path(transform_lambda.__file__).with_name("_native_rows.c")
REPO = SOURCE.parent.parent
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
    """The compiled build's C module when it is loaded, else the C built here."""
    if native_rows._native is not None:
        return native_rows._native
    directory = tmp_path_factory.mktemp("native_rows")
    target = directory / f"_native_rows{importlib.machinery.EXTENSION_SUFFIXES[0]}"
    include = sysconfig.get_paths()["include"]
    subprocess.run(
        [
            "cc",
            "-shared",
            "-fPIC",
            "-O2",
            "-Wall",
            "-Wextra",
            "-Werror",
            f"-I{include}",
            str(SOURCE),
            "-o",
            str(target),
        ],
        check=True,
    )
    spec = importlib.util.spec_from_file_location("transform_lambda._native_rows", target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def payload_of(
    *events: LogEvent, owner: str = "123456789012", group: str = "/vpc/flow-logs", stream: str = "eni-1-all"
) -> Payload:
    return Payload(DATA_MESSAGE, owner, group, stream, ("to-firehose",), events)


def python_path(payload: Payload, arrival: str = ARRIVAL) -> bytes:
    """What the transform writes for the payload without the C."""
    return encode_shaped_rows(shape_events(payload, "vpc_flow", parse_vpc_flow, arrival).rows)


def written(c_rows: ModuleType, payload: Payload, arrival: str = ARRIVAL) -> bytes | None:
    result: bytes | None = c_rows.vpc_flow_rows(
        payload.log_events, payload.owner, payload.log_group, payload.log_stream, "vpc_flow", arrival
    )
    return result


def workload_payloads() -> Iterator[Payload]:
    """The VPC payloads of the bench's workload (default format, every line usual)."""
    for record in firehose_event(1 << 20).event["records"]:
        for payload in decode_record(record["data"], 1 << 26):
            if payload.message_type == DATA_MESSAGE and payload.log_group.startswith("/vpc/"):
                yield payload


def test_every_usual_payload_is_written_as_the_python_path_writes_it(c_rows: ModuleType) -> None:
    payloads = list(workload_payloads())
    assert len(payloads) > 20
    for payload in payloads:
        expected = python_path(payload)
        assert written(c_rows, payload) == expected
        assert expected.count(b"\n") == len(payload.log_events)


def test_the_fixture_payload_is_handed_back_whole_and_its_usual_events_written(c_rows: ModuleType) -> None:
    doc = json.loads((REPO / "fixtures" / "payloads" / "vpc_flow" / "default_v2.json").read_text(encoding="utf-8"))
    events = [LogEvent(e["id"], e["timestamp"], e["message"]) for e in doc["logEvents"]]
    assert written(c_rows, payload_of(*events)) is None  # it holds a line of another shape, and NODATA rows
    alone = [written(c_rows, payload_of(event)) for event in events]
    assert [w for w in alone if w is not None] == [
        python_path(payload_of(e)) for e, w in zip(events, alone, strict=True) if w is not None
    ]
    assert sum(w is not None for w in alone) >= len(events) - 2


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
def test_lines_the_c_writes(c_rows: ModuleType, line: str) -> None:
    payload = payload_of(LogEvent("1", TS, line), LogEvent("2", TS + 1000, line))
    assert written(c_rows, payload) == python_path(payload)


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
        (LogEvent("1", TS, LINE.replace(" 6 ", " 256 ")), "a protocol out of range"),
        (LogEvent("1", TS, LINE.replace(" 10 ", " 9223372036854775808 ")), "packets past bigint"),
        (LogEvent("1", TS, LINE.replace("1700000060", "253402300800")), "a flow end past year 9999"),
        (LogEvent("", TS, LINE), "no event id"),
        (LogEvent("1", None, LINE), "no timestamp"),
        (LogEvent("1", 253_402_300_800_000, LINE), "a timestamp past year 9999"),
        (LogEvent("1", -1, LINE), "a timestamp before 1970"),
        (LogEvent("1", 1 << 70, LINE), "a timestamp past 64 bits"),
        (LogEvent("1", TS, LINE, {"k": "v"}), "extracted fields"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_anything_unusual_hands_the_payload_back(c_rows: ModuleType, event: LogEvent, why: str) -> None:
    payload = payload_of(LogEvent("0", TS, LINE), event)
    assert written(c_rows, payload) is None, why
    assert written(c_rows, payload_of(LogEvent("0", TS, LINE))) is not None


def test_the_envelope_is_escaped_and_a_lone_surrogate_hands_the_payload_back(c_rows: ModuleType) -> None:
    payload = payload_of(LogEvent("é\u2028", TS, LINE), group='/vpc/"flöw"\\\n\U0001f600', stream="\x00")
    assert written(c_rows, payload) == python_path(payload)
    assert written(c_rows, payload, arrival="2025\u00e9") == python_path(payload, "2025\u00e9")
    assert written(c_rows, payload_of(LogEvent("1", TS, LINE), stream="eni-\ud800")) is None
    assert written(c_rows, payload_of()) == b"" == python_path(payload_of())


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
def test_random_lines_are_written_as_python_writes_them_or_handed_back(
    c_rows: ModuleType, lines: list[str], timestamps: list[int | None], ids: list[str], stream: str
) -> None:
    payload = payload_of(*(LogEvent(i, t, m) for i, t, m in zip(ids, timestamps, lines, strict=False)), stream=stream)
    result = written(c_rows, payload)
    if result is not None:
        assert result == python_path(payload)


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
def test_random_usual_lines_are_written_as_python_writes_them(
    c_rows: ModuleType, fields: list[tuple[str, ...]], timestamps: list[int], space: str
) -> None:
    events = (LogEvent(str(n), t, space.join(f)) for n, (t, f) in enumerate(zip(timestamps, fields, strict=False)))
    payload = payload_of(*events)
    assert written(c_rows, payload) == python_path(payload)


class _Counting:
    """The C module, counting its calls and what it handed back."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.calls = self.handed_back = 0

    def vpc_flow_rows(self, *args: Any) -> bytes | None:
        self.calls += 1
        result: bytes | None = self.module.vpc_flow_rows(*args)
        self.handed_back += result is None
        return result


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
    assert counting.calls > 20 and counting.handed_back < counting.calls
    vpc_rows = [
        line
        for record in with_c["records"]
        if record["result"] == "Ok" and record["metadata"]["partitionKeys"]["src"] == "vpc_flow"
        for line in base64.b64decode(record["data"]).splitlines()
    ]
    assert len(vpc_rows) > 100


def test_without_the_c_every_payload_goes_the_python_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native_rows, "_native", None)
    payload = payload_of(LogEvent("1", TS, LINE))
    assert not native_rows.available()
    assert native_rows.payload_ndjson(payload, "vpc_flow", parse_vpc_flow, ARRIVAL) is None


def test_only_the_default_format_and_rows_with_an_arrival_time_go_to_the_c(
    c_rows: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(native_rows, "_native", c_rows)
    payload = payload_of(LogEvent("1", TS, LINE))
    config = TransformConfig(vpc_flow_formats=(("/vpc/*", ("version", "account-id", "interface-id")),))
    custom = transform_lambda.detect.detect_source(payload, config)[1]
    assert native_rows.payload_ndjson(payload, "vpc_flow", parse_vpc_flow, ARRIVAL) == python_path(payload)
    assert native_rows.payload_ndjson(payload, "vpc_flow", custom, ARRIVAL) is None
    assert native_rows.payload_ndjson(payload, "vpc_flow", parse_vpc_flow, None) is None
