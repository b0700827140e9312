SELECT to_char(DATE '1970-01-01' + d::integer, 'YYYY-MM-DD') AS day, model, messages,
  prompt_tokens, completion_tokens, prompt_tokens + completion_tokens AS total_tokens
FROM (SELECT created_at / 86400000 AS d, model, count(*) AS messages,
        sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens
      FROM messages WHERE created_at >= ?1 AND created_at < ?2 GROUP BY d, model) AS days
ORDER BY d, model NULLS FIRST
