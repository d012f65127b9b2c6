-- Fine-tune durations: each finished Phoenix-4.5 fine-tune, from when a sync first saw it under way to its end, in hours, with its outcome
SELECT
  f.replica_id,
  r.replica_name,
  ended."to" AS outcome,
  f.started_at,
  f.ended_at,
  round(CAST(date_diff('second', from_iso8601_timestamp(f.started_at), from_iso8601_timestamp(f.ended_at)) AS DOUBLE) / 3600, 1) AS hours
FROM (
  SELECT
    replica_id,
    min(CASE WHEN "to" NOT IN ('completed', 'errored', 'error', 'failed') THEN "at" END) AS started_at,
    min(CASE WHEN "to" IN ('completed', 'errored', 'error', 'failed') THEN "at" END) AS ended_at
  FROM events
  WHERE type = 'finetune_changed'
  GROUP BY replica_id
) AS f
JOIN events AS ended ON ended.replica_id = f.replica_id AND ended."at" = f.ended_at AND ended.type = 'finetune_changed'
JOIN replicas AS r ON r.replica_id = f.replica_id
WHERE f.started_at < f.ended_at
ORDER BY hours DESC, f.replica_id
