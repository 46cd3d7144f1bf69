-- title: Ingestion lag
-- description: Seconds from a log event's time to its arrival at Firehose, per minute and source (p50, p95, max), and rows at least 5 whole minutes late.
-- parameters: since, until, since, until
SELECT
  date_trunc('minute', event_time) AS minute,
  source,
  count(*) AS row_count,
  approx_percentile(date_diff('millisecond', event_time, arrival_time) / 1000.0, 0.5) AS p50_lag_s,
  approx_percentile(date_diff('millisecond', event_time, arrival_time) / 1000.0, 0.95) AS p95_lag_s,
  max(date_diff('millisecond', event_time, arrival_time)) / 1000.0 AS max_lag_s,
  count_if(date_diff('minute', event_time, arrival_time) >= 5) AS late_rows
FROM stream_processor.log_events
WHERE concat(dt, ' ', hour) BETWEEN date_format(CAST(? AS timestamp) - INTERVAL '1' HOUR, '%Y-%m-%d %H')
                                AND date_format(CAST(? AS timestamp), '%Y-%m-%d %H')
  AND event_time >= CAST(? AS timestamp) AND event_time < CAST(? AS timestamp)
GROUP BY date_trunc('minute', event_time), source
ORDER BY minute, source
