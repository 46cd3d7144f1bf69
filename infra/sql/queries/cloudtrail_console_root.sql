-- title: CloudTrail console and root activity
-- description: Every call made as the root user, every console sign-in and every call with console session credentials, newest first.
-- parameters: since, until, since, until
SELECT
  event_time,
  event_name,
  event_source,
  identity_type,
  coalesce(user_arn, user_name) AS principal,
  source_ip,
  from_console,
  mfa_authenticated,
  error_code
FROM stream_processor.cloudtrail_events
WHERE (identity_type = 'Root' OR event_name = 'ConsoleLogin' OR from_console)
  AND concat(dt, ' ', hour) BETWEEN date_format(CAST(? AS timestamp) - INTERVAL '1' HOUR, '%Y-%m-%d %H')
                                    AND date_format(CAST(? AS timestamp), '%Y-%m-%d %H')
  AND event_time >= CAST(? AS timestamp) AND event_time < CAST(? AS timestamp)
ORDER BY event_time DESC, event_id
LIMIT 100
