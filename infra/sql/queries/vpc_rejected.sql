-- title: VPC rejected flows
-- description: REJECT flow records per source, destination, port and protocol, most frequent first.
-- parameters: since, until, since, until
SELECT
  src_addr,
  dst_addr,
  dst_port,
  protocol,
  count(*) AS flows,
  sum(packets) AS packets,
  sum(bytes) AS bytes
FROM stream_processor.vpc_flows
WHERE action = 'REJECT'
  AND concat(dt, ' ', hour) BETWEEN date_format(CAST(? AS timestamp) - INTERVAL '1' HOUR, '%Y-%m-%d %H')
                                    AND date_format(CAST(? AS timestamp), '%Y-%m-%d %H')
  AND event_time >= CAST(? AS timestamp) AND event_time < CAST(? AS timestamp)
GROUP BY src_addr, dst_addr, dst_port, protocol
ORDER BY flows DESC, bytes DESC, src_addr, dst_addr, dst_port
LIMIT 20
