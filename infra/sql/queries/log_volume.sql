-- title: Log volume and error rate per minute
-- description: Rows and ERROR/FATAL rows per minute and log group, with the error rate.
-- parameters: since, until, since, until
SELECT
  date_trunc('minute', event_time) AS minute,
  log_group,
  count(*) AS row_count,
  count_if(level IN ('ERROR', 'FATAL')) AS error_count,
  round(CAST(count_if(level IN ('ERROR', 'FATAL')) AS double) / count(*), 4) AS error_rate
FROM stream_processor.log_events
WHERE concat(dt, ' ', hour) BETWEEN date_format(CAST(? AS timestamp) - INTERVAL '1' HOUR, '%Y-%m-%d %H')
                                AND date_format(CAST(? AS timestamp), '%Y-%m-%d %H')
  AND event_time >= CAST(? AS timestamp) AND event_time < CAST(? AS timestamp)
GROUP BY date_trunc('minute', event_time), log_group
ORDER BY minute, log_group
