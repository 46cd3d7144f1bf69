-- title: Top error messages
-- description: ERROR/FATAL messages grouped after normalising timestamps, UUIDs, hex and numbers, most frequent first.
-- parameters: since, until, since, until
SELECT
  pattern,
  count(*) AS occurrences,
  count(DISTINCT log_group) AS log_groups,
  min(log_group) AS example_log_group,
  min(event_time) AS first_seen,
  max(event_time) AS last_seen
FROM (
  SELECT
    log_group,
    event_time,
    regexp_replace(
      regexp_replace(
        regexp_replace(
          regexp_replace(error_message, '[0-9]{4}[-/][0-9]{2}[-/][0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.,][0-9]+)?Z?', '<ts>'),
          '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '<uuid>'),
        '0x[0-9a-fA-F]+', '<hex>'),
      '[0-9]+', '<n>') AS pattern
  FROM stream_processor.app_errors
  WHERE concat(dt, ' ', hour) BETWEEN date_format(CAST(? AS timestamp) - INTERVAL '1' HOUR, '%Y-%m-%d %H')
                                  AND date_format(CAST(? AS timestamp), '%Y-%m-%d %H')
    AND event_time >= CAST(? AS timestamp) AND event_time < CAST(? AS timestamp)
) AS errors
GROUP BY pattern
ORDER BY occurrences DESC, pattern
LIMIT 20
