-- Replicas stuck now, in training or in fine-tune, with the hours each has been stuck
SELECT
  replica_id,
  replica_name,
  model_name,
  coalesce(stuck_reason, 'training') AS stuck_in,
  CASE WHEN stuck_reason = 'finetune' THEN finetune_status ELSE training_progress END AS progress,
  stuck_since,
  round(CAST(date_diff('second', from_iso8601_timestamp(stuck_since), current_timestamp) AS DOUBLE) / 3600, 1) AS hours_stuck
FROM replicas
WHERE stuck_since IS NOT NULL AND deleted_at IS NULL
ORDER BY stuck_since, replica_id
