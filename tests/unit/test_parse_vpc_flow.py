"""Unit tests of the ``vpc_flow`` parser (default v2 and configured custom formats)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transform_lambda.errors import ParseError
from transform_lambda.parse.vpc_flow import DEFAULT_FIELDS, _build_parser, make_vpc_flow_parser, parse_vpc_flow

# The v3 example format of the flow-log-records AWS doc page.
V3_FORMAT = (
    "${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${account-id} ${type} ${srcaddr} "
    "${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${protocol} ${bytes} ${packets} ${start} "
    "${end} ${action} ${tcp-flags} ${log-status}"
)
V2 = (
    "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
)


def test_parse_vpc_flow_default_record_fills_columns() -> None:
    assert parse_vpc_flow(V2) == {
        "interface_id": "eni-1235b8ca123456789",
        "src_addr": "172.31.16.139",
        "dst_addr": "172.31.16.21",
        "src_port": 20641,
        "dst_port": 22,
        "protocol": 6,
        "packets": 20,
        "bytes": 4249,
        "flow_start": "2014-12-14T04:06:50.000Z",
        "flow_end": "2014-12-14T04:07:50.000Z",
        "action": "ACCEPT",
        "log_status": "OK",
        "fields": {"version": "2", "account_id": "123456789010"},
    }


@pytest.mark.parametrize("status", ["NODATA", "SKIPDATA"])
def test_parse_vpc_flow_nodata_dashes_become_null(status: str) -> None:
    parsed = parse_vpc_flow(f"2 123456789010 eni-1a2b3c4d - - - - - - - 1431280876 1431280934 - {status}")
    assert parsed == {
        "interface_id": "eni-1a2b3c4d",
        "flow_start": "2015-05-10T18:01:16.000Z",
        "flow_end": "2015-05-10T18:02:14.000Z",
        "log_status": status,
        "fields": {"version": "2", "account_id": "123456789010"},
    }


def test_parse_vpc_flow_header_line_raises_header() -> None:
    with pytest.raises(ParseError) as info:
        parse_vpc_flow(" ".join(DEFAULT_FIELDS))
    assert info.value.code == "vpc_flow_header"


@pytest.mark.parametrize(
    "message",
    [
        "",
        "hello world",
        V2 + " extra",
        V2.replace(" 22 ", " 65536 "),
        V2.replace(" 6 ", " 256 "),
        V2.replace(" 20 ", " -5 "),
        V2.replace(" 4249 ", " 4e3 "),
        V2.replace(" 4249 ", " ٤٢ "),
        V2.replace("ACCEPT", "ALLOW"),
        V2.replace(" OK", " FINE"),
        V2.replace("1418530010", "99999999999999"),
        V2.replace(" 4249 ", " 99999999999999999999 "),
    ],
)
def test_parse_vpc_flow_near_miss_raises_not_vpc_flow(message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_vpc_flow(message)
    assert info.value.code == "not_vpc_flow"


def test_parse_vpc_flow_custom_format_extra_fields_go_to_fields() -> None:
    parser = make_vpc_flow_parser(V3_FORMAT.split())
    message = (
        "3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789012 "
        "IPv4 52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 568 8 1566848875 1566848933 ACCEPT 2 OK"
    )
    parsed = parser(message)
    assert parsed["bytes"] == 568 and parsed["packets"] == 8
    assert parsed["fields"] == {
        "version": "3",
        "vpc_id": "vpc-abcdefab012345678",
        "subnet_id": "subnet-aaaaaaaa012345678",
        "instance_id": "i-01234567890123456",
        "account_id": "123456789012",
        "type": "IPv4",
        "pkt_srcaddr": "52.213.180.42",
        "pkt_dstaddr": "10.0.0.62",
        "tcp_flags": "2",
    }


def test_parse_vpc_flow_factory_caches_parsers() -> None:
    assert make_vpc_flow_parser(["version", "srcaddr"]) is make_vpc_flow_parser(("${version}", "${srcaddr}"))
    assert make_vpc_flow_parser(DEFAULT_FIELDS) is parse_vpc_flow


def test_parse_vpc_flow_custom_format_header_raises_header() -> None:
    parser = make_vpc_flow_parser(["srcaddr", "dstaddr"])
    with pytest.raises(ParseError) as info:
        parser("${srcaddr} ${dstaddr}")
    assert info.value.code == "vpc_flow_header"


def test_parse_vpc_flow_empty_format_raises_not_vpc_flow() -> None:
    with pytest.raises(ParseError):
        make_vpc_flow_parser([])("")


FIELD_LOOP = _build_parser(DEFAULT_FIELDS, written_out=False)
# Tokens around every edge the written-out default record checks: dashes, digit counts, ranges,
# non-ASCII digits, enum spellings.
EDGE_TOKENS = [
    "-", "0", "00", "65535", "65536", "99999", "123456", "255", "256", "9" * 19, "9" * 20, "9223372036854775807",
    "9223372036854775808", "253402300799", "253402300800", "٣", "1.5", "+1", "ACCEPT", "REJECT", "accept", "OK",
    "NODATA", "SKIPDATA", "eni-1", "10.0.0.1", "version", "2", "x" * 5000, "1" * 5000,
]  # fmt: skip
V2_TOKENS = V2.split()


def outcome(parser, message: str) -> object:  # type: ignore[no-untyped-def]
    try:
        return list(parser(message).items())
    except ParseError as exc:
        return exc.code


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 13), st.sampled_from(EDGE_TOKENS) | st.text(min_size=1, max_size=4)),
        max_size=4,
    )
)
def test_parse_vpc_flow_written_out_default_record_matches_the_field_loop(changes: list[tuple[int, str]]) -> None:
    tokens = list(V2_TOKENS)
    for index, token in changes:
        tokens[index] = token
    message = " ".join(tokens)
    assert outcome(parse_vpc_flow, message) == outcome(FIELD_LOOP, message)


@pytest.mark.parametrize("index", range(5, 12))
@pytest.mark.parametrize("digits", ["1" * 20, "1" * 5000])
def test_parse_vpc_flow_overlong_numbers_are_not_vpc_flow(index: int, digits: str) -> None:
    # 5000 digits would pass CPython's int() limit (4300): the length is checked before converting.
    tokens = list(V2_TOKENS)
    tokens[index] = digits
    with pytest.raises(ParseError) as info:
        parse_vpc_flow(" ".join(tokens))
    assert info.value.code == "not_vpc_flow"
