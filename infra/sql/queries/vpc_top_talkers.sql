-- title: VPC top talkers
-- description: Source and destination pairs by bytes transferred (accepted and rejected flows), largest first.
-- parameters: since, until, since, until
SELECT
  src_addr,
  dst_addr,
  sum(bytes) AS bytes,
  sum(packets) AS packets,
  count(*) AS flows,
  count_if(action = 'REJECT') AS rejected_flows
FROM stream_processor.vpc_flows
WHERE src_addr IS NOT NULL
  AND concat(dt, ' ', hour) BETWEEN date_format(CAST(? AS timestamp) - INTERVAL '1' HOUR, '%Y-%m-%d %H')
                                    AND date_format(CAST(? AS timestamp), '%Y-%m-%d %H')
  AND event_time >= CAST(? AS timestamp) AND event_time < CAST(? AS timestamp)
GROUP BY src_addr, dst_addr
ORDER BY bytes DESC, src_addr, dst_addr
LIMIT 10
