-- title: Application errors
-- description: One row per ERROR or FATAL log event of any source, with the error's message (first line, runtime prefixes removed) and type.
CREATE OR REPLACE VIEW stream_processor.app_errors AS
SELECT
  event_time,
  arrival_time,
  event_id,
  account_id,
  log_group,
  log_stream,
  source,
  level,
  request_id,
  -- JSON logs keep their message in fields; text lines lose the Python ([LEVEL] time id) or Node
  -- (time id LEVEL) runtime prefix.
  regexp_replace(
    regexp_replace(
      split_part(coalesce(element_at(fields, 'message'), element_at(fields, 'msg'), message), chr(10), 1),
      '^\[[A-Z]+\]\t[^\t]*\t[^\t]*\t', ''),
    '^[0-9T:.Z-]+\t[^\t]+\t[A-Z]+\t', '') AS error_message,
  coalesce(element_at(fields, 'errorType'), element_at(fields, 'error_type'), json_extract_scalar(message, '$.errorType')) AS error_type,
  message,
  src,
  dt,
  hour
FROM stream_processor.log_events
WHERE level IN ('ERROR', 'FATAL')
