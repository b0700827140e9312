SELECT date(d * 86400, 'unixepoch') AS day, added,
  (SELECT count(*) FROM fragments WHERE created_at < ?1) + sum(added) OVER (ORDER BY d) AS total
FROM (SELECT created_at / 86400000 AS d, count(*) AS added
      FROM fragments WHERE created_at >= ?1 AND created_at < ?2 GROUP BY d)
ORDER BY d
