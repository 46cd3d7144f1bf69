"""Encode stage: compact NDJSON, one row per line, valid UTF-8 even for hostile strings."""

from __future__ import annotations

import json

from transform_lambda.encode import encode_rows


def test_encode_rows_are_compact_ndjson_in_order() -> None:
    body = encode_rows([{"a": 1, "b": "x"}, {"a": 2, "m": {"k": "v"}}])
    assert body == b'{"a":1,"b":"x"}\n{"a":2,"m":{"k":"v"}}\n'


def test_encode_no_rows_is_empty() -> None:
    assert encode_rows([]) == b""


def test_encode_non_ascii_is_utf8_not_escaped() -> None:
    body = encode_rows([{"message": "héllo ✓ 日本"}])
    assert "héllo ✓ 日本".encode() in body


def test_encode_lone_surrogate_is_replaced_and_pairs_survive() -> None:
    body = encode_rows([{"message": "bad \ud800 end"}, {"message": "emoji \U0001f600"}])
    body.decode("utf-8")  # strictly valid
    first, second = (json.loads(line) for line in body.splitlines())
    assert first["message"] == "bad \ufffd end"
    assert second["message"] == "emoji \U0001f600"


def test_encode_newlines_inside_messages_stay_escaped() -> None:
    body = encode_rows([{"message": "line1\nline2"}])
    assert body.count(b"\n") == 1
