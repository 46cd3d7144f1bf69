"""Parse stage, VPC Flow Logs: one space-separated flow log record into the flow columns.

Input: a message in the default version-2 format or a custom format given by its field list
(``make_vpc_flow_parser``). Output: interface_id, src/dst addresses and ports, protocol, packets,
bytes, flow_start/flow_end (epoch seconds -> ISO-8601 text), action, log_status; other fields (v3-v8:
vpc-id, tcp-flags, flow-direction, ...) into ``fields`` with ``_`` for ``-`` in their names.
``-`` is an absent value (NODATA / SKIPDATA rows). Raises ParseError ``vpc_flow_header`` for the
field-name line and ``not_vpc_flow`` for a line of another shape.
Format: https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Final

from transform_lambda.errors import ParseError
from transform_lambda.parse.numbers import BIGINT_MAX, MAX_DIGITS
from transform_lambda.schema import ColumnValue
from transform_lambda.timefmt import iso_from_epoch_s

DEFAULT_FIELDS: Final = (
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
)
_MAX_PORT: Final = 65_535
_MAX_PROTOCOL: Final = 255
_PORT_DIGITS: Final = len(str(_MAX_PORT))
_MAX_EPOCH_S: Final = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a row can spell
_ABSENT: Final = "-"

# How one field is read: (kind, column or fields key, largest value for "int" and "time").
_Reader = tuple[str, str, int]
_ENUMS: Final[dict[str, frozenset[str]]] = {
    "action": frozenset({"ACCEPT", "REJECT"}),
    "log_status": frozenset({"OK", "NODATA", "SKIPDATA"}),
}
_ACTIONS: Final = _ENUMS["action"]
_STATUSES: Final = _ENUMS["log_status"]
_READERS: Final[dict[str, _Reader]] = {
    "interface-id": ("str", "interface_id", 0),
    "srcaddr": ("str", "src_addr", 0),
    "dstaddr": ("str", "dst_addr", 0),
    "srcport": ("int", "src_port", _MAX_PORT),
    "dstport": ("int", "dst_port", _MAX_PORT),
    "protocol": ("int", "protocol", _MAX_PROTOCOL),
    "packets": ("int", "packets", BIGINT_MAX),
    "bytes": ("int", "bytes", BIGINT_MAX),
    "start": ("time", "flow_start", _MAX_EPOCH_S),
    "end": ("time", "flow_end", _MAX_EPOCH_S),
    "action": ("enum", "action", 0),
    "log-status": ("enum", "log_status", 0),
}


def make_vpc_flow_parser(field_names: Sequence[str]) -> Callable[[str], dict[str, ColumnValue]]:
    """Build (or reuse) the parser of a flow log format given as its field names, in order."""
    return _build_parser(tuple(name.strip().strip("${}") for name in field_names))


@lru_cache(maxsize=64)
def _build_parser(names: tuple[str, ...], written_out: bool = True) -> Callable[[str], dict[str, ColumnValue]]:
    """The parser of one format; the default format first tries ``_default_record`` unless
    ``written_out`` is False (the field loop alone, which tests compare it with)."""
    plan = tuple(_READERS.get(name, ("field", name.replace("-", "_"), 0)) for name in names)
    count = len(names)
    header_first = names[0] if names else ""
    default = written_out and names == DEFAULT_FIELDS

    def parse_vpc_flow(message: str) -> dict[str, ColumnValue]:
        """Parse one flow log record of this format.

        Raises:
            ParseError: ``vpc_flow_header`` or ``not_vpc_flow``.
        """
        values = message.split()
        if len(values) != count or not count:
            raise ParseError("not_vpc_flow")
        if values[0].strip("${}") == header_first:
            raise ParseError("vpc_flow_header")
        if default and (row := _default_record(values)) is not None:
            return row
        out: dict[str, ColumnValue] = {}
        fields: dict[str, str] = {}
        for (kind, name, high), value in zip(plan, values, strict=True):
            if value == _ABSENT:
                continue
            if kind == "str":
                out[name] = value
            elif kind == "field":
                fields[name] = value
            elif kind == "enum":
                if value not in _ENUMS[name]:
                    raise ParseError("not_vpc_flow")
                out[name] = value
            else:
                # text_to_int, inlined: seven of the fourteen default fields are numbers.
                if not (len(value) <= MAX_DIGITS and value.isascii() and value.isdigit()):
                    raise ParseError("not_vpc_flow")
                number = int(value)
                if number > high:
                    raise ParseError("not_vpc_flow")
                out[name] = iso_from_epoch_s(number) if kind == "time" else number
        if fields:
            out["fields"] = fields
        return out

    return parse_vpc_flow


def _default_record(values: list[str]) -> dict[str, ColumnValue] | None:
    """The row of a default-format record with every field present and in range, written out (the
    loop above costs a third more); None sends anything else to the loop, which decides."""
    version, account, eni, src, dst, sport, dport, proto, packets, size, start, end, action, status = values
    numbers = sport + dport + proto + packets + size + start + end
    if (
        _ABSENT in values
        or not (numbers.isascii() and numbers.isdigit())
        or max(len(proto), len(packets), len(size), len(start), len(end)) > MAX_DIGITS  # ports: below
        or action not in _ACTIONS
        or status not in _STATUSES
        or len(sport) > _PORT_DIGITS
        or len(dport) > _PORT_DIGITS
    ):
        return None
    src_port, dst_port, protocol, first, last = int(sport), int(dport), int(proto), int(start), int(end)
    packet_count, byte_count = int(packets), int(size)
    if (
        src_port > _MAX_PORT
        or dst_port > _MAX_PORT
        or protocol > _MAX_PROTOCOL
        or packet_count > BIGINT_MAX
        or byte_count > BIGINT_MAX
        or first > _MAX_EPOCH_S
        or last > _MAX_EPOCH_S
    ):
        return None
    return {
        "interface_id": eni,
        "src_addr": src,
        "dst_addr": dst,
        "src_port": src_port,
        "dst_port": dst_port,
        "protocol": protocol,
        "packets": packet_count,
        "bytes": byte_count,
        "flow_start": iso_from_epoch_s(first),
        "flow_end": iso_from_epoch_s(last),
        "action": action,
        "log_status": status,
        "fields": {"version": version, "account_id": account},
    }


parse_vpc_flow: Final = make_vpc_flow_parser(DEFAULT_FIELDS)

__all__ = ["DEFAULT_FIELDS", "make_vpc_flow_parser", "parse_vpc_flow"]
