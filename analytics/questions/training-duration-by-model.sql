-- Training duration by model: hours from training (started) to completed, median and p90, as the syncs saw it in the history
SELECT
  r.model_name,
  count(*) AS trainings,
  round(approx_percentile(t.hours, 0.5), 2) AS median_hours,
  round(approx_percentile(t.hours, 0.9), 2) AS p90_hours
FROM (
  SELECT
    training.replica_id,
    CAST(date_diff('second', from_iso8601_timestamp(training.valid_from), from_iso8601_timestamp(training.valid_to)) AS DOUBLE) / 3600 AS hours
  FROM status_history AS training
  JOIN status_history AS done
    ON done.replica_id = training.replica_id AND done.valid_from = training.valid_to AND done.status = 'completed'
  WHERE training.status = 'started'
) AS t
JOIN replicas AS r ON r.replica_id = t.replica_id
GROUP BY r.model_name
ORDER BY r.model_name
