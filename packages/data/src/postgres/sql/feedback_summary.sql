SELECT count(*) AS count, avg(rating) AS average,
  min(rating) AS min, max(rating) AS max
FROM feedback WHERE created_at >= ?1 AND created_at < ?2
