-- title: CloudTrail access denied
-- description: Calls refused for lack of permission, per identity, service, API and error code.
-- parameters: since, until, since, until
SELECT
  user_arn,
  event_source,
  event_name,
  error_code,
  count(*) AS attempts,
  count(DISTINCT source_ip) AS source_ips,
  min(event_time) AS first_seen,
  max(event_time) AS last_seen
FROM stream_processor.cloudtrail_events
WHERE (error_code LIKE '%AccessDenied%' OR error_code LIKE '%UnauthorizedOperation%' OR error_code = 'UnauthorizedAccess')
  AND concat(dt, ' ', hour) BETWEEN date_format(CAST(? AS timestamp) - INTERVAL '1' HOUR, '%Y-%m-%d %H')
                                    AND date_format(CAST(? AS timestamp), '%Y-%m-%d %H')
  AND event_time >= CAST(? AS timestamp) AND event_time < CAST(? AS timestamp)
GROUP BY user_arn, event_source, event_name, error_code
ORDER BY attempts DESC, user_arn, event_source, event_name
