"""Subscription messages at the edge of the usual one (transform_lambda/_subscription.h): each with
whether the C walks it (the census counts it, the payload reader builds it) or hands it back to the
Python paths. Shared by the census counter's and the payload reader's tests."""

from __future__ import annotations

import random

# Bytes a mutation writes: JSON's structure, digits, literals' letters, control characters and bytes
# of UTF-8 sequences (valid, cut short, surrogate, never valid).
MUTATIONS = b'"\\{}[],: 0123456789-.eEtnulfa\x00\x1f\x7f\x80\xc3\xa9\xed\xff'


def mutated(rng: random.Random, texts: list[bytes]) -> bytes:
    """One of the texts with one to three bytes deleted or overwritten."""
    text = bytearray(rng.choice(texts))
    for _ in range(rng.randint(1, 3)):
        if not text:
            break
        at = rng.randrange(len(text))
        if rng.random() < 0.3:
            del text[at]
        else:
            text[at] = rng.choice(MUTATIONS)
    return bytes(text)


def data_message(events: bytes, envelope: bytes = b'"logGroup":"g","logStream":"s"') -> bytes:
    return b'{"messageType":"DATA_MESSAGE",' + envelope + b',"logEvents":[' + events + b"]}"


def event(timestamp: bytes = b"1", message: bytes = b'""', more: bytes = b"") -> bytes:
    return b'{"id":"1",' + more + b'"timestamp":' + timestamp + b',"message":' + message + b"}"


CONTROL = b'{"messageType":"CONTROL_MESSAGE","logEvents":[]}'
TEXTS: list[tuple[bytes, bool]] = [  # (a subscription message, whether the C walks it)
    (data_message(b""), True),
    (b' \t\r\n{ "messageType" : "CONTROL_MESSAGE" , "logEvents" : [ ] } \n', True),
    (data_message(event(b"-0")), True),
    (data_message(event(b"123456789012345678", b'"\\ud83d\\ude00\\u00e9\\n\\/\\"\\\\"')), True),
    (data_message(event() + b" , " + event(b"2")), True),
    (data_message(b"", b'"logGroup":"g","logStream":"s","policyLevel":null,"streamProcessorSource":"x"'), True),
    (data_message(b"", b'"logGroup":"g","logStream":"s","subscriptionFilters":["a",""],"owner":"\\u0031"'), True),
    (data_message(event(message='"é"'.encode())), True),
    (data_message(b"", b'"logGroup":"g","logStream":"s","subscriptionFilters":[ ]'), True),
    (data_message(b"", b'"policyLevel":"ACCOUNT_LEVEL_POLICY","logGroup":"g","logStream":"s","owner":"1"'), True),
    (
        data_message(
            event(message=b'"a\\tb\\u0000"'),
            b'"subscriptionFilters":[ "f\\u00e9" , "" ],"logGroup":"g","logStream":"s"',
        ),
        True,
    ),
    # not walked: the Python paths decide
    (data_message(event(b"1234567890123456789")), False),
    (data_message(event(b"1.0")), False),
    (data_message(event(b"1e3")), False),
    (data_message(event(b"01")), False),
    (data_message(event(b'"1"')), False),
    (data_message(event(message=b'"\\ud800"')), False),
    (data_message(event(message=b'"\\udc00"')), False),
    (data_message(event(message=b'"\\ud800\\u0041"')), False),
    (data_message(event(message=b'"a\tb"')), False),
    (data_message(event(message=b'"\\x"')), False),
    (data_message(event(message=b'"\\u00g0"')), False),
    (data_message(event(message=b'"open')), False),
    (data_message(event(message=b"null")), False),
    (data_message(event(more=b'"id":"2",')), False),
    (data_message(event(more=b'"extractedFields":{},')), False),
    (data_message(b'{"id":"1","timestamp":1}'), False),
    (data_message(b'{"i\\u0064":"1","timestamp":1,"message":""}'), False),
    (data_message(event() + b","), False),
    (data_message(b"", b'"logGroup":"","logStream":"s"'), False),
    (data_message(b"", b'"logStream":"s"'), False),
    (data_message(b"", b'"logGroup":"g","logStream":"s","owner":null'), False),
    (data_message(b"", b'"logGroup":"g","logStream":"s","extra":1'), False),
    (data_message(b"", b'"logGroup":"g","logStream":"s","messageType":"DATA_MESSAGE"'), False),
    (data_message(b"", b'"logGroup":"g","logStream":"s","subscriptionFilters":[1]'), False),
    (b'{"messageType":"DATA\\u005fMESSAGE","logGroup":"g","logStream":"s","logEvents":[]}', False),
    (b'{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s"}', False),
    (b'{"messageType":"OTHER","logEvents":[]}', False),
    (b'{"logGroup":"g","logStream":"s","logEvents":[]}', False),
    (CONTROL + b" x", False),
    (CONTROL + b"{}", False),
    (b"\x0c" + CONTROL, False),
    (b"\xef\xbb\xbf" + CONTROL, False),
    (b'{"messageType":"CONTROL_MESSAGE","logEvents":[],}', False),
    (b'{"messageType":"CONTROL_MESSAGE","logEvents":[' + event(message=b'"\xff"') + b"]}", False),
    (b'{"messageType":"CONTROL_MESSAGE","logEvents":[' + event(message=b'"\xed\xa0\x80"') + b"]}", False),
    (b'{"messageType":"CONTROL_MESSAGE","logEvents":[' + event(message=b'"\xc3"') + b"]}", False),
    (data_message(b"", b'"logGroup":"\xff","logStream":"s"'), False),
    (b"[]", False),
    (b"", False),
]
