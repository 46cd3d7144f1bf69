"""Parse stage, CloudTrail events delivered to CloudWatch Logs (one event JSON per log event).

Input: a message holding one CloudTrail event record. Output: event_name, event_source, aws_region,
source_ip, user_arn, error_code, request_id, and a fixed set of further keys in ``fields`` (flattened
with dots: ``userIdentity.type``). Large nested parts (requestParameters, responseElements,
resources) stay only in the raw ``message``. ``level`` stays null: CloudTrail has no levels.
Raises ParseError ``not_json`` (e.g. a truncated event) or ``not_cloudtrail``.
Record format: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
"""

from __future__ import annotations

from typing import Final

from transform_lambda.errors import ParseError
from transform_lambda.parse.json_log import load_json_object, to_field_string
from transform_lambda.schema import ColumnValue

_COLUMNS: Final = (
    ("eventName", "event_name"),
    ("eventSource", "event_source"),
    ("awsRegion", "aws_region"),
    ("sourceIPAddress", "source_ip"),
    ("errorCode", "error_code"),
    ("requestID", "request_id"),
)
_TOP_FIELDS: Final = (
    "eventID",
    "eventType",
    "eventVersion",
    "eventTime",
    "eventCategory",
    "managementEvent",
    "readOnly",
    "recipientAccountId",
    "sharedEventID",
    "vpcEndpointId",
    "apiVersion",
    "userAgent",
    "errorMessage",
    "sessionCredentialFromConsole",
)
_IDENTITY_FIELDS: Final = ("type", "principalId", "accountId", "accessKeyId", "userName", "invokedBy")


def parse_cloudtrail(message: str) -> dict[str, ColumnValue]:
    """Parse one CloudTrail event.

    Raises:
        ParseError: ``not_json``, or ``not_cloudtrail`` for JSON without eventName and eventSource.
    """
    doc = load_json_object(message)
    out: dict[str, ColumnValue] = {}
    for key, column in _COLUMNS:
        value = doc.get(key)
        if isinstance(value, str) and value:
            out[column] = value
    if "event_name" not in out or "event_source" not in out:
        raise ParseError("not_cloudtrail")
    fields: dict[str, str] = {}
    for key in _TOP_FIELDS:
        value = doc.get(key)
        if value is not None:
            fields[key] = to_field_string(value)
    identity = doc.get("userIdentity")
    if isinstance(identity, dict):
        arn = identity.get("arn")
        if isinstance(arn, str) and arn:
            out["user_arn"] = arn
        for key in _IDENTITY_FIELDS:
            value = identity.get(key)
            if value is not None:
                fields["userIdentity." + key] = to_field_string(value)
        issuer = _dig(identity, "sessionContext", "sessionIssuer")
        if isinstance(issuer, dict) and (issuer_arn := issuer.get("arn")) is not None:
            fields["userIdentity.sessionContext.sessionIssuer.arn"] = to_field_string(issuer_arn)
        mfa = _dig(identity, "sessionContext", "attributes", "mfaAuthenticated")
        if mfa is not None:
            fields["userIdentity.sessionContext.attributes.mfaAuthenticated"] = to_field_string(mfa)
    if fields:
        out["fields"] = fields
    return out


def _dig(doc: dict[str, object], *keys: str) -> object:
    value: object = doc
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


__all__ = ["parse_cloudtrail"]
