# The C module transform_lambda/_native_rows.c (the compiled build only; see native_rows.py).
from transform_lambda.payload import LogEvent

_Written = tuple[list[bytes], list[LogEvent]] | None

def vpc_flow_rows(
    log_events: tuple[LogEvent, ...], owner: str, log_group: str, log_stream: str, source: str, arrival_time: str, /
) -> _Written: ...
def lambda_rows(
    log_events: tuple[LogEvent, ...], owner: str, log_group: str, log_stream: str, source: str, arrival_time: str, /
) -> _Written: ...
def apigateway_rows(
    log_events: tuple[LogEvent, ...], owner: str, log_group: str, log_stream: str, source: str, arrival_time: str, /
) -> _Written: ...
def json_rows(
    log_events: tuple[LogEvent, ...], owner: str, log_group: str, log_stream: str, source: str, arrival_time: str, /
) -> _Written: ...
def text_rows(
    log_events: tuple[LogEvent, ...], owner: str, log_group: str, log_stream: str, source: str, arrival_time: str, /
) -> _Written: ...
