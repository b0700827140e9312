SELECT to_char(DATE '1970-01-01' + d::integer, 'YYYY-MM-DD') AS day, type, count, sum, average, min, max
FROM (SELECT created_at / 86400000 AS d, type, count(*) AS count, sum(value) AS sum,
        avg(value) AS average, min(value) AS min, max(value) AS max
      FROM events WHERE created_at >= ?1 AND created_at < ?2 AND (?4::text IS NULL OR type = ?4)
      GROUP BY d, type) AS days
ORDER BY d, type
