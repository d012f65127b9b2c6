-- Live replicas by status and type
SELECT status, replica_type, count(*) AS replicas
FROM replicas
WHERE deleted_at IS NULL
GROUP BY status, replica_type
ORDER BY replicas DESC, status, replica_type
