"""Unit tests of the ``text`` parser (level detection) and of level normalization."""

from __future__ import annotations

import pytest

from transform_lambda.parse.levels import LEVELS, normalize_level
from transform_lambda.parse.numbers import json_to_float, json_to_int, text_to_float, text_to_int
from transform_lambda.parse.plain import parse_plain


@pytest.mark.parametrize(
    ("message", "level"),
    [
        ("2024-01-01 12:00:00,123 ERROR [main] c.a.Foo - msg", "ERROR"),
        ("2024-01-01T12:00:00.000Z INFO  [main] c.a.Pool - started", "INFO"),
        ("ERROR:root:msg", "ERROR"),
        ("CRITICAL:app.db:connection lost", "FATAL"),
        ("2024-01-01 12:00:00,123 - app.db - WARNING - slow", "WARN"),
        ("level=error msg=boom", "ERROR"),
        ('time="2024-01-01T00:00:00Z" level="warning" msg="x"', "WARN"),
        ("ts=1 lvl=dbg msg=x", "DEBUG"),
        ("E0101 12:00:00.000000       1 main.go:10] failed", "ERROR"),
        ("W0101 12:00:00.000000       1 main.go:10] careful", "WARN"),
        ("F0101 12:00:00.000000       1 main.go:10] dead", "FATAL"),
        ("I0101 12:00:00.000000       1 main.go:10] ok", "INFO"),
        ("2024/01/01 12:00:00 [error] 123#0: *1 connect() failed", "ERROR"),
        ("2024/01/01 12:00:00 [emerg] 1#1: bind() failed", "FATAL"),
        ("2024/01/01 12:00:00 [notice] 1#1: signal process started", "INFO"),
        ("[Wed Oct 11 14:32:52 2000] [core:crit] [pid 1] x", "FATAL"),
        ("<11>Jan  1 12:00:00 host app[1]: x", "ERROR"),
        ("<134>1 2024-01-01T00:00:00Z host app - - - y", "INFO"),
        ("<15>Jan  1 12:00:00 host app: z", "DEBUG"),
        ("Jan  1 12:00:00 host sshd[1]: error: kex_exchange_identification", "ERROR"),
        ("[2024-01-01T00:00:00Z WARN  app::index] slow", "WARN"),
        ("2024-01-01T00:00:00.000Z\tERROR\tmain.go:12\tboom", "ERROR"),
        ("[ERROR] First test message", "ERROR"),
        ("Warning: deprecated option", "WARN"),
    ],
)
def test_parse_plain_common_shapes_detect_level(message: str, level: str) -> None:
    assert parse_plain(message) == {"level": level}


@pytest.mark.parametrize(
    "message",
    [
        "",
        "Fetched 12 items from table orders in 31ms",
        "no error was found while scanning",
        "information about the user was fetched",
        "com.acme.ERROR_CODES loaded",
        "ERRORS=0",
        "<999>Jan 1 x",
        "E01 not glog",
        "x" * 200 + " ERROR late in the line",
    ],
)
def test_parse_plain_no_level_word_gives_nothing(message: str) -> None:
    assert parse_plain(message) == {}


@pytest.mark.parametrize(
    ("raw", "level"),
    [
        ("warning", "WARN"),
        ("Critical", "FATAL"),
        (" info ", "INFO"),
        ("SEVERE", "ERROR"),
        ("trace", "TRACE"),
        (30, "INFO"),
        (60, "FATAL"),
        ("chatty", None),
        (True, None),
        (None, None),
        (3.0, None),
        (31, None),
    ],
)
def test_parse_levels_normalize_known_spellings(raw: object, level: str | None) -> None:
    assert normalize_level(raw) == level


def test_parse_levels_every_alias_is_a_level() -> None:
    for word in ("trace", "debug", "info", "notice", "warn", "error", "err", "fatal", "panic", "emerg", "alert"):
        assert normalize_level(word) in LEVELS


def test_parse_numbers_text_is_strict() -> None:
    assert text_to_int("128") == 128
    for bad in ("", "-1", "+1", "1_000", "١٢", "1.0", " 1", "9" * 30):
        assert text_to_int(bad) is None
    assert text_to_int("300", high=255) is None
    assert text_to_float("9.14") == 9.14 and text_to_float("10") == 10.0
    for bad in ("nan", "inf", "1e3", ".5", "5.", "-1.0", "1.2.3", "9" * 400):
        assert text_to_float(bad) is None


def test_parse_numbers_json_values() -> None:
    assert json_to_int(3.0) == 3 and json_to_int("7") == 7
    assert json_to_int(True) is None and json_to_int(3.5) is None and json_to_int(-1) is None
    assert json_to_float(2) == 2.0 and json_to_float("2.5") == 2.5
    assert json_to_float(float("inf")) is None and json_to_float(False) is None and json_to_float([1]) is None
