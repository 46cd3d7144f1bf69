"""Bench baselines, standard library only: what the transform is compared with in the same run.

Input: a Firehose transformation event (dict, as the runtime hands it over). Output: a Firehose
response. Like the transform, neither baseline enforces the 6 MB response cap, so all of them do
the same amount of work on the same input.
- ``blueprint``: AWS's CloudWatch Logs processor blueprint, equivalent: base64 -> gunzip ->
  json.loads -> each message + "\\n" joined -> base64; CONTROL_MESSAGE -> Dropped, any other type
  -> ProcessingFailed.
- ``decode_floor``: base64 decode + gunzip + base64 encode of the decompressed payload, the least any
  transform of these records can do.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from collections.abc import Mapping
from typing import Any

_GZIP_WBITS = 31


def blueprint(event: Mapping[str, Any]) -> dict[str, Any]:
    """The blueprint-equivalent transform."""
    out: list[dict[str, Any]] = []
    for record in event["records"]:
        data = json.loads(gzip.decompress(base64.b64decode(record["data"])))
        kind = data["messageType"]
        if kind == "CONTROL_MESSAGE":
            out.append({"recordId": record["recordId"], "result": "Dropped"})
        elif kind == "DATA_MESSAGE":
            joined = "".join([event["message"] + "\n" for event in data["logEvents"]])
            encoded = base64.b64encode(joined.encode("utf-8")).decode("utf-8")
            out.append({"recordId": record["recordId"], "result": "Ok", "data": encoded})
        else:
            out.append({"recordId": record["recordId"], "result": "ProcessingFailed"})
    return {"records": out}


def decode_floor(event: Mapping[str, Any]) -> dict[str, Any]:
    """The decode-only floor: every record's payload decompressed and re-encoded, nothing parsed."""
    out: list[dict[str, Any]] = []
    for record in event["records"]:
        payload = zlib.decompress(binascii.a2b_base64(record["data"]), _GZIP_WBITS)
        encoded = binascii.b2a_base64(payload, newline=False).decode("ascii")
        out.append({"recordId": record["recordId"], "result": "Ok", "data": encoded})
    return {"records": out}


__all__ = ["blueprint", "decode_floor"]
