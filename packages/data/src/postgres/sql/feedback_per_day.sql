SELECT to_char(DATE '1970-01-01' + d::integer, 'YYYY-MM-DD') AS day, count, average, min, max
FROM (SELECT created_at / 86400000 AS d, count(*) AS count, avg(rating) AS average,
        min(rating) AS min, max(rating) AS max
      FROM feedback WHERE created_at >= ?1 AND created_at < ?2 GROUP BY d) AS days
ORDER BY d
