SELECT date(d * 86400, 'unixepoch') AS day, messages, conversations
FROM (SELECT created_at / 86400000 AS d, count(*) AS messages,
        count(DISTINCT conversation_id) AS conversations
      FROM messages WHERE created_at >= ?1 AND created_at < ?2 GROUP BY d)
ORDER BY d
