-- title: CloudTrail events
-- description: One row per CloudTrail event, with the identity type, console flag and error message out of the fields map.
CREATE OR REPLACE VIEW stream_processor.cloudtrail_events AS
SELECT
  event_time,
  arrival_time,
  event_id,
  account_id,
  log_group,
  event_name,
  event_source,
  aws_region,
  source_ip,
  user_arn,
  element_at(fields, 'userIdentity.type') AS identity_type,
  element_at(fields, 'userIdentity.userName') AS user_name,
  element_at(fields, 'sessionCredentialFromConsole') = 'true' AS from_console,
  element_at(fields, 'userIdentity.sessionContext.attributes.mfaAuthenticated') AS mfa_authenticated,
  element_at(fields, 'readOnly') = 'true' AS read_only,
  error_code,
  element_at(fields, 'errorMessage') AS error_message,
  request_id,
  src,
  dt,
  hour
FROM stream_processor.log_events
WHERE src = 'cloudtrail'
  AND parse_error IS NULL
