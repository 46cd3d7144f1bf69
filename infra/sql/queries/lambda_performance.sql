-- title: Lambda duration, cold starts and memory per function
-- description: Invocations, p50/p95/p99 duration, cold-start rate and memory headroom (whole percent of the configured memory never used) per function.
-- parameters: since, until, since, until
SELECT
  function_name,
  count(*) AS invocations,
  approx_percentile(duration_ms, 0.5) AS p50_duration_ms,
  approx_percentile(duration_ms, 0.95) AS p95_duration_ms,
  approx_percentile(duration_ms, 0.99) AS p99_duration_ms,
  count_if(cold_start) AS cold_starts,
  round(CAST(count_if(cold_start) AS double) / count(*), 4) AS cold_start_rate,
  max(memory_size_mb) AS memory_size_mb,
  max(max_memory_used_mb) AS max_memory_used_mb,
  -- Integer division on purpose (whole percent, rounded down): Athena's int / int.
  (max(memory_size_mb) - max(max_memory_used_mb)) * 100 / max(memory_size_mb) AS memory_headroom_pct
FROM stream_processor.lambda_invocations
WHERE concat(dt, ' ', hour) BETWEEN date_format(CAST(? AS timestamp) - INTERVAL '1' HOUR, '%Y-%m-%d %H')
                                AND date_format(CAST(? AS timestamp), '%Y-%m-%d %H')
  AND event_time >= CAST(? AS timestamp) AND event_time < CAST(? AS timestamp)
GROUP BY function_name
ORDER BY invocations DESC, function_name
