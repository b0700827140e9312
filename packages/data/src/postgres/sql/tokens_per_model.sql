SELECT model, count(*) AS messages,
  sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens,
  sum(prompt_tokens) + sum(completion_tokens) AS total_tokens
FROM messages WHERE created_at >= ?1 AND created_at < ?2
GROUP BY model ORDER BY total_tokens DESC, model NULLS FIRST
