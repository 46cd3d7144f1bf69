"""The transform loop's own row for the usual event (``shape_events``) against ``shape_row``: for any
events, payload envelope and parser outcome, every row has the same keys, in the same order, with
the same values, and the parse-error count is the rows' that carry one. (``shape_row`` itself is held
to explicit rows in test_shape.py.)"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from transform_lambda.decode import LogEvent, Payload
from transform_lambda.errors import ParseError
from transform_lambda.parse import Parser
from transform_lambda.schema import ColumnValue
from transform_lambda.shape import PARSED_COLUMNS, shape_row
from transform_lambda.timefmt import MAX_EPOCH_MS
from transform_lambda.transform import shape_events

BOUNDED = settings(
    max_examples=max(300, int(os.environ.get("FUZZ_EXAMPLES", "300"))),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
ARRIVAL = "2023-11-14T22:13:21.000Z"

# Timestamps around the edges of the spellable range and within one second of each other, so the
# loop's remembered second is both reused and replaced.
timestamps = st.one_of(
    st.none(),
    st.integers(1_700_000_000_000, 1_700_000_002_999),
    st.sampled_from([-1, 0, 999, 1000, MAX_EPOCH_MS, MAX_EPOCH_MS + 1]),
    st.integers(-(2**40), 2**50),
)
extracted = st.none() | st.dictionaries(
    st.sampled_from(["@aws.account", "level", "x"]), st.sampled_from(["", "999988887777", "v"]), max_size=2
)
events = st.builds(
    LogEvent,
    st.sampled_from(["", "id-1", "3720912345678901234567890123456789012345678901234567890"]),
    timestamps,
    st.sampled_from(["plain", "line\n", "line\r\n", "", "ERROR boom", '{"level":"warn"}']),
    extracted,
)
# What a parser may hand back: columns it may fill, envelope columns, unknown keys, a fields map.
parsed_values = st.dictionaries(
    st.sampled_from(sorted(PARSED_COLUMNS)[:6]) | st.sampled_from(["message", "event_time", "bogus"]),
    st.text(max_size=3) | st.integers(0, 9),
    max_size=4,
)
outcomes = st.one_of(
    parsed_values.map(lambda parsed: ("parsed", parsed)),
    st.just(("parsed", {"fields": {"k": "v"}})),
    st.sampled_from(["not_json", "not_vpc_flow", ""]).map(lambda code: ("parse_error", code)),
    st.just(("crash", "")),
)


def scripted(script: list[tuple[str, object]]) -> Parser:
    """A parser that answers the n-th message with the n-th outcome."""
    answers = iter(script)

    def parse(message: str) -> dict[str, ColumnValue]:
        kind, value = next(answers)
        if kind == "parse_error":
            raise ParseError(str(value))
        if kind == "crash":
            raise KeyError(message)
        assert isinstance(value, dict)
        return dict(value)

    return parse


envelopes = st.tuples(
    st.sampled_from(["111122223333", ""]),
    st.sampled_from(["/app/g", "/aws/lambda/f"]),
    st.sampled_from(["s-1", "2024/01/01/[$LATEST]abc"]),
    st.sampled_from(["text", "lambda"]),
)


def expected_rows(
    payload: Payload, source: str, script: list[tuple[str, object]], arrival: str | None
) -> list[dict[str, object]]:
    """What ``shape_row`` alone makes of each event, with the loop's fallbacks spelled out."""
    from transform_lambda.parse.plain import parse_plain

    rows: list[dict[str, object]] = []
    for event, (kind, value) in zip(payload.log_events, script, strict=True):
        message = event.message.rstrip("\r\n")
        if kind == "parsed":
            assert isinstance(value, dict)
            parsed, error = dict(value), None
        elif kind == "parse_error":
            parsed, error = parse_plain(message), str(value)
        else:
            parsed, error = {}, "parser_crash:KeyError"
        rows.append(shape_row(payload, event, source, message, parsed, error, arrival))
    return rows


@BOUNDED
@given(st.lists(st.tuples(events, outcomes), max_size=8), st.sampled_from([ARRIVAL, None]), envelopes)
@example(
    [(LogEvent("id-1", 1_700_000_000_123, "m"), ("parsed", {"level": "INFO"}))],
    ARRIVAL,
    ("111122223333", "/app/g", "s-1", "text"),
)
@example(
    [(LogEvent("id-1", 1_700_000_000_123, "m", {"x": "v"}), ("parsed", {}))],
    ARRIVAL,
    ("111122223333", "/app/g", "s-1", "text"),
)
@example(
    [(LogEvent("id-1", MAX_EPOCH_MS + 1, "m"), ("parsed", {}))], ARRIVAL, ("111122223333", "/app/g", "s-1", "text")
)
@example([(LogEvent("", 1_700_000_000_123, "m"), ("parsed", {}))], ARRIVAL, ("111122223333", "/app/g", "s-1", "text"))
@example(
    [(LogEvent("id-1", 1_700_000_000_123, "m"), ("parsed", {"bogus": "1"}))],
    ARRIVAL,
    ("111122223333", "/app/g", "s-1", "text"),
)
@example(
    [(LogEvent("id-1", 1_700_000_000_123, "m"), ("parse_error", "not_json"))],
    ARRIVAL,
    ("111122223333", "/app/g", "s-1", "text"),
)
@example(
    [
        (LogEvent("id-1", 1_700_000_000_999, "a"), ("parsed", {})),
        (LogEvent("id-2", 1_700_000_001_000, "b"), ("parsed", {})),
        (LogEvent("id-3", 1_700_000_000_001, "c"), ("parsed", {})),
    ],
    ARRIVAL,
    ("", "/app/g", "s-1", "lambda"),
)
def test_loop_rows_are_shape_row_rows(
    pairs: list[tuple[LogEvent, tuple[str, object]]], arrival: str | None, envelope: tuple[str, str, str, str]
) -> None:
    owner, group, stream, source = envelope
    payload = Payload("DATA_MESSAGE", owner, group, stream, ("f",), tuple(e for e, _ in pairs))
    script = [outcome for _, outcome in pairs]
    result = shape_events(payload, source, scripted(script), arrival)
    expected = expected_rows(payload, source, script, arrival)
    assert [list(row.items()) for row in result.rows] == [list(row.items()) for row in expected]
    assert result.parse_errors == sum("parse_error" in row for row in expected)
    assert result.source == source
