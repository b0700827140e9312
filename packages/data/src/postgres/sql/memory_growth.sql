SELECT to_char(DATE '1970-01-01' + d::integer, 'YYYY-MM-DD') AS day, added,
  (SELECT count(*) FROM fragments WHERE created_at < ?1) + sum(added) OVER (ORDER BY d) AS total
FROM (SELECT created_at / 86400000 AS d, count(*) AS added
      FROM fragments WHERE created_at >= ?1 AND created_at < ?2 GROUP BY d) AS days
ORDER BY d
