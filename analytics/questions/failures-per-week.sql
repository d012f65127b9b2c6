-- Failures per week (weeks start Monday, UTC): trainings that turned error and fine-tunes that failed, by when a sync saw it
SELECT
  CAST(date_trunc('week', from_iso8601_timestamp("at")) AS DATE) AS week,
  sum(CASE WHEN type IN ('created', 'status_changed') THEN 1 ELSE 0 END) AS training_failures,
  sum(CASE WHEN type = 'finetune_changed' THEN 1 ELSE 0 END) AS finetune_failures
FROM events
WHERE (type IN ('created', 'status_changed') AND "to" = 'error')
   OR (type = 'finetune_changed' AND "to" IN ('errored', 'error', 'failed'))
GROUP BY CAST(date_trunc('week', from_iso8601_timestamp("at")) AS DATE)
ORDER BY week
