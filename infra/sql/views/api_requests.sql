-- title: API requests
-- description: One row per API Gateway access log line (REST and HTTP APIs); route falls back to the request path.
CREATE OR REPLACE VIEW stream_processor.api_requests AS
SELECT
  event_time,
  arrival_time,
  event_id,
  account_id,
  log_group,
  request_id,
  source_ip,
  http_method,
  coalesce(route, path) AS route,
  path,
  status_code,
  -- Integer division on purpose: 404 / 100 = 4 in Athena.
  status_code / 100 AS status_class,
  latency_ms,
  integration_latency_ms,
  response_length,
  src,
  dt,
  hour
FROM stream_processor.log_events
WHERE src = 'apigateway'
  AND parse_error IS NULL
