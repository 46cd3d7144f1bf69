"""Unit tests of the ``cloudtrail`` parser."""

from __future__ import annotations

import json

import pytest

from transform_lambda.errors import ParseError
from transform_lambda.parse.cloudtrail import parse_cloudtrail

EVENT = {
    "eventVersion": "1.08",
    "userIdentity": {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLEID:session",
        "arn": "arn:aws:sts::123456789012:assumed-role/deployer/session",
        "accountId": "123456789012",
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::123456789012:role/deployer"},
            "attributes": {"mfaAuthenticated": "false"},
        },
    },
    "eventTime": "2024-06-01T12:11:05Z",
    "eventSource": "ec2.amazonaws.com",
    "eventName": "TerminateInstances",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "198.51.100.23",
    "userAgent": "Boto3/1.34.0",
    "errorCode": "Client.UnauthorizedOperation",
    "errorMessage": "You are not authorized to perform this operation.",
    "requestParameters": {"instancesSet": {"items": [{"instanceId": "i-0123"}]}},
    "responseElements": None,
    "requestID": "3f0c4b0e",
    "eventID": "5c0e4b5f",
    "readOnly": False,
    "eventType": "AwsApiCall",
    "managementEvent": True,
    "recipientAccountId": "123456789012",
}


def test_parse_cloudtrail_event_fills_columns_and_chosen_fields() -> None:
    assert parse_cloudtrail(json.dumps(EVENT)) == {
        "event_name": "TerminateInstances",
        "event_source": "ec2.amazonaws.com",
        "aws_region": "us-east-1",
        "source_ip": "198.51.100.23",
        "error_code": "Client.UnauthorizedOperation",
        "request_id": "3f0c4b0e",
        "user_arn": "arn:aws:sts::123456789012:assumed-role/deployer/session",
        "fields": {
            "eventID": "5c0e4b5f",
            "eventType": "AwsApiCall",
            "eventVersion": "1.08",
            "eventTime": "2024-06-01T12:11:05Z",
            "managementEvent": "true",
            "readOnly": "false",
            "recipientAccountId": "123456789012",
            "userAgent": "Boto3/1.34.0",
            "errorMessage": "You are not authorized to perform this operation.",
            "userIdentity.type": "AssumedRole",
            "userIdentity.principalId": "AROAEXAMPLEID:session",
            "userIdentity.accountId": "123456789012",
            "userIdentity.sessionContext.sessionIssuer.arn": "arn:aws:iam::123456789012:role/deployer",
            "userIdentity.sessionContext.attributes.mfaAuthenticated": "false",
        },
    }


def test_parse_cloudtrail_odd_shapes_do_not_crash() -> None:
    event = {**EVENT, "userIdentity": "not an object", "awsRegion": 5, "readOnly": None}
    parsed = parse_cloudtrail(json.dumps(event))
    assert "user_arn" not in parsed and "aws_region" not in parsed
    assert "readOnly" not in parsed["fields"]
    event = {**EVENT, "userIdentity": {"sessionContext": {"sessionIssuer": "x", "attributes": []}}}
    assert "userIdentity.sessionContext.sessionIssuer.arn" not in parse_cloudtrail(json.dumps(event))["fields"]


def test_parse_cloudtrail_truncated_event_raises_not_json() -> None:
    # As in the OpenTelemetry conformance payload (otel-cloudtrail-truncated.json).
    with pytest.raises(ParseError) as info:
        parse_cloudtrail('{"eventVersion":"1.03","userIdentity":{"type":"Root"}')
    assert info.value.code == "not_json"


@pytest.mark.parametrize("message", ['{"message":"hello"}', '{"eventName":"X"}', '{"eventName":"","eventSource":"s"}'])
def test_parse_cloudtrail_other_json_raises_not_cloudtrail(message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_cloudtrail(message)
    assert info.value.code == "not_cloudtrail"
