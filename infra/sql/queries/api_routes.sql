-- title: API error rate and latency per route
-- description: Requests, 4xx and 5xx counts and rates, and p50/p95/p99 latency per method and route.
-- parameters: since, until, since, until
SELECT
  http_method,
  route,
  count(*) AS requests,
  count_if(status_class = 4) AS status_4xx,
  count_if(status_class = 5) AS status_5xx,
  round(CAST(count_if(status_class = 4) AS double) / count(*), 4) AS rate_4xx,
  round(CAST(count_if(status_class = 5) AS double) / count(*), 4) AS rate_5xx,
  approx_percentile(latency_ms, 0.5) AS p50_latency_ms,
  approx_percentile(latency_ms, 0.95) AS p95_latency_ms,
  approx_percentile(latency_ms, 0.99) AS p99_latency_ms
FROM stream_processor.api_requests
WHERE concat(dt, ' ', hour) BETWEEN date_format(CAST(? AS timestamp) - INTERVAL '1' HOUR, '%Y-%m-%d %H')
                                AND date_format(CAST(? AS timestamp), '%Y-%m-%d %H')
  AND event_time >= CAST(? AS timestamp) AND event_time < CAST(? AS timestamp)
GROUP BY http_method, route
ORDER BY requests DESC, http_method, route
