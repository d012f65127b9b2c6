-- The slowest trainings in flight: live replicas still training, longest first, with hours since created and whether stuck
SELECT
  replica_id,
  replica_name,
  model_name,
  training_progress,
  created_at,
  round(CAST(date_diff('second', from_iso8601_timestamp(created_at), current_timestamp) AS DOUBLE) / 3600, 1) AS hours_training,
  stuck_since
FROM replicas
WHERE status = 'started' AND deleted_at IS NULL
ORDER BY created_at, replica_id
LIMIT 20
