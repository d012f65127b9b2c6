-- Replicas created and deleted per month (UTC): created by the API's created_at, deleted by when a sync saw the replica go
SELECT month, sum(created) AS created, sum(deleted) AS deleted
FROM (
  SELECT substr(created_at, 1, 7) AS month, 1 AS created, 0 AS deleted FROM replicas WHERE created_at IS NOT NULL
  UNION ALL
  SELECT substr(deleted_at, 1, 7) AS month, 0 AS created, 1 AS deleted FROM replicas WHERE deleted_at IS NOT NULL
) AS changes
GROUP BY month
ORDER BY month
