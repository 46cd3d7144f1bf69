-- title: Lambda invocations
-- description: One row per Lambda invocation: the REPORT line (text log format) or platform.report event (JSON log format) of each request.
CREATE OR REPLACE VIEW stream_processor.lambda_invocations AS
SELECT
  event_time,
  arrival_time,
  event_id,
  account_id,
  log_group,
  -- Lambda log groups are /aws/lambda/<function>; any other group (a custom log group) names itself.
  coalesce(regexp_extract(log_group, '^/aws/lambda/(.+)$', 1), log_group) AS function_name,
  request_id,
  duration_ms,
  billed_duration_ms,
  memory_size_mb,
  max_memory_used_mb,
  init_duration_ms,
  init_duration_ms IS NOT NULL AS cold_start,
  element_at(fields, 'status') AS status,
  src,
  dt,
  hour
FROM stream_processor.log_events
WHERE src = 'lambda'
  AND element_at(fields, 'type') IN ('REPORT', 'platform.report')
  AND duration_ms IS NOT NULL
