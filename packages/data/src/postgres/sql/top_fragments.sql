SELECT id, substr(text, 1, 200) AS preview, use_count, last_used_at
FROM fragments WHERE use_count > 0
ORDER BY use_count DESC, last_used_at DESC NULLS LAST, id LIMIT ?3
