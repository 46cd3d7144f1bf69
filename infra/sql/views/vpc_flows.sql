-- title: VPC flows
-- description: One row per VPC flow log record that parsed (NODATA and SKIPDATA records have no addresses).
CREATE OR REPLACE VIEW stream_processor.vpc_flows AS
SELECT
  event_time,
  arrival_time,
  event_id,
  account_id,
  log_group,
  interface_id,
  src_addr,
  dst_addr,
  src_port,
  dst_port,
  protocol,
  packets,
  bytes,
  flow_start,
  flow_end,
  action,
  log_status,
  src,
  dt,
  hour
FROM stream_processor.log_events
WHERE src = 'vpc_flow'
  AND parse_error IS NULL
