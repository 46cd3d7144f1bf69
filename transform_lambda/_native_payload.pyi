# The C module transform_lambda/_native_payload.c (the compiled build, and the twin's; see decode.py).
from transform_lambda.payload import LogEvent, Payload

def read_payload(
    body: bytes | bytearray, payload_type: type[Payload], event_type: type[LogEvent], /
) -> Payload | None: ...
