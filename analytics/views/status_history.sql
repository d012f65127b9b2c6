-- Each interval a replica held a status (valid_to NULL while it still holds it), from its events: created and status_changed start one; deleted ends it; restored starts one with the status held before the deletion
SELECT replica_id, status, valid_from, valid_to
FROM (
  SELECT
    replica_id,
    status,
    "at" AS valid_from,
    lead("at") OVER (PARTITION BY replica_id ORDER BY event_key) AS valid_to
  FROM (
    SELECT
      replica_id,
      event_key,
      "at",
      CASE
        WHEN type = 'deleted' THEN NULL
        ELSE max(CASE WHEN type IN ('created', 'status_changed') THEN "to" END) OVER (PARTITION BY replica_id, status_changes)
      END AS status
    FROM (
      SELECT
        replica_id,
        event_key,
        "at",
        type,
        "to",
        -- Numbers the stretches between status changes: a restore takes the status of its stretch.
        sum(CASE WHEN type IN ('created', 'status_changed') THEN 1 ELSE 0 END)
          OVER (PARTITION BY replica_id ORDER BY event_key ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS status_changes
      FROM events
      WHERE type IN ('created', 'status_changed', 'deleted', 'restored')
    ) AS marks
  ) AS statuses
) AS intervals
-- A deletion holds no status; a restore followed by a status change in the same run lasts no time.
WHERE status IS NOT NULL AND (valid_to IS NULL OR valid_to > valid_from)
