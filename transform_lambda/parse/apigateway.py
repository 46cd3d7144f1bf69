"""Parse stage, API Gateway access logs: JSON (REST and HTTP API) and the CLF text format.

Input: one access log line. Output: request_id, source_ip, http_method, route (resource path, or the
route key's path), path, status_code, response_length, latency_ms, integration_latency_ms, trace_id;
other keys into ``fields`` under their own names. Values arrive as strings; ``-`` and ``""`` mean
absent; a number that does not read stays text in ``fields``. Raises ParseError ``not_json`` (a
``{`` line that is not a JSON object) or ``not_apigateway`` (neither JSON nor CLF).
Formats: https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html and
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html
"""

from __future__ import annotations

import re
from typing import Final

from transform_lambda.errors import ParseError
from transform_lambda.parse.json_log import load_json_object, to_field_string
from transform_lambda.parse.numbers import BIGINT_MAX, INT_MAX, json_to_float, json_to_int, text_to_float, text_to_int
from transform_lambda.schema import BIGINT, DOUBLE, INT, STRING, ColumnValue

_ABSENT: Final = ("-", "")


# JSON key (the $context variable's conventional name) -> (column, Hive type of the column).
_JSON_COLUMNS: Final[dict[str, tuple[str, str]]] = {
    "requestId": ("request_id", STRING),
    "ip": ("source_ip", STRING),
    "sourceIp": ("source_ip", STRING),
    "sourceIP": ("source_ip", STRING),
    "httpMethod": ("http_method", STRING),
    "resourcePath": ("route", STRING),
    "path": ("path", STRING),
    "status": ("status_code", INT),
    "responseLength": ("response_length", BIGINT),
    "responseLatency": ("latency_ms", DOUBLE),
    "latency": ("latency_ms", DOUBLE),
    "integrationLatency": ("integration_latency_ms", DOUBLE),
    "xrayTraceId": ("trace_id", STRING),
}
_INT_HIGH: Final = {INT: INT_MAX, BIGINT: BIGINT_MAX}
_ROUTE_KEY: Final = "routeKey"
# $context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime]
# "$context.httpMethod $context.resourcePath $context.protocol" $context.status
# $context.responseLength $context.requestId  (HTTP APIs log $context.routeKey, "GET /pets", in the quotes)
_CLF: Final = re.compile(
    r'(\S+) (\S+) (\S+) \[([^\]]*)\] "([^"]*)" (\d+|-) (\d+|-) (\S+)(?: (.*))?', re.DOTALL | re.ASCII
)


def parse_apigateway(message: str) -> dict[str, ColumnValue]:
    """Parse an API Gateway access log line (JSON or CLF).

    Raises:
        ParseError: ``not_json`` or ``not_apigateway``.
    """
    if message.startswith("{"):
        return _parse_json(load_json_object(message))
    return _parse_clf(message)


def _parse_json(doc: dict[str, object]) -> dict[str, ColumnValue]:
    out: dict[str, ColumnValue] = {}
    fields: dict[str, str] = {}
    for key, value in doc.items():
        if value is None or value in _ABSENT:
            continue
        column = _JSON_COLUMNS.get(key)
        if column is not None and column[0] not in out:
            name, kind = column
            if kind == STRING and type(value) is str:  # the common case, without a call
                out[name] = value
                continue
            typed = _read(kind, value)
            if typed is not None:
                out[name] = typed
                continue
        fields[key] = value if type(value) is str else to_field_string(value)
    route_key = doc.get(_ROUTE_KEY)
    if isinstance(route_key, str) and route_key not in _ABSENT:
        _put_route_key(route_key, out)
    if fields:
        out["fields"] = fields
    return out


def _read(kind: str, value: object) -> ColumnValue:
    """A JSON value as a column of Hive type ``kind`` (numbers may arrive as strings), or None."""
    if kind == STRING:
        return value if type(value) is str else None
    if kind == DOUBLE:
        return text_to_float(value) if type(value) is str else json_to_float(value)
    high = _INT_HIGH[kind]
    return text_to_int(value, high) if type(value) is str else json_to_int(value, high)


def _put_route_key(route_key: str, out: dict[str, ColumnValue]) -> None:
    # "GET /pets/{id}" -> route "/pets/{id}" (method from httpMethod when logged); "$default" as is.
    method, space, route = route_key.partition(" ")
    out.setdefault("route", route if space else route_key)
    if space and method != "ANY":
        out.setdefault("http_method", method)


def _parse_clf(message: str) -> dict[str, ColumnValue]:
    match = _CLF.fullmatch(message)
    if match is None:
        raise ParseError("not_apigateway")
    ip, caller, user, request_time, request, status, length, request_id, rest = match.groups()
    out: dict[str, ColumnValue] = {}
    fields: dict[str, str] = {}
    for column, value in (("source_ip", ip), ("request_id", request_id)):
        if value != "-":
            out[column] = value
    for key, value in (("caller", caller), ("user", user), ("requestTime", request_time)):
        if value not in _ABSENT:
            fields[key] = value
    parts = request.split(" ")
    if len(parts) == 4:  # HTTP API: "$context.httpMethod $context.routeKey $context.protocol"
        fields[_ROUTE_KEY] = f"{parts[1]} {parts[2]}"
        parts = [parts[0], parts[2], parts[3]]
    if len(parts) != 3:
        raise ParseError("not_apigateway")
    for column, value in (("http_method", parts[0]), ("route", parts[1])):
        if value != "-":
            out[column] = value
    if parts[2] != "-":
        fields["protocol"] = parts[2]
    for column, value, high in (("status_code", status, INT_MAX), ("response_length", length, BIGINT_MAX)):
        number = text_to_int(value, high)
        if number is not None:
            out[column] = number
    if rest:
        fields["rest"] = rest
    if fields:
        out["fields"] = fields
    return out


__all__ = ["parse_apigateway"]
