# The C module transform_lambda/_native_rows.c (the compiled build only; see native_rows.py).
from collections.abc import Callable

from transform_lambda.payload import LogEvent

# (log_events, owner, log_group, log_stream, source, arrival_time) -> (chunks, missing) | None
_RowWriter = Callable[[tuple[LogEvent, ...], str, str, str, str, str], tuple[list[bytes], list[LogEvent]] | None]

vpc_flow_rows: _RowWriter
lambda_rows: _RowWriter
apigateway_rows: _RowWriter
json_rows: _RowWriter
text_rows: _RowWriter
