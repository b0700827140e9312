SELECT to_char(DATE '1970-01-01' + d::integer, 'YYYY-MM-DD') AS day, messages, conversations
FROM (SELECT created_at / 86400000 AS d, count(*) AS messages,
        count(DISTINCT conversation_id) AS conversations
      FROM messages WHERE created_at >= ?1 AND created_at < ?2 GROUP BY d) AS days
ORDER BY d
