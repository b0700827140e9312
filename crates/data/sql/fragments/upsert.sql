INSERT INTO fragments (id, namespace, text, metadata, attributes, vector,
    created_at, updated_at, use_count, last_used_at)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
  ON CONFLICT (id) DO UPDATE SET namespace = excluded.namespace, text = excluded.text,
    metadata = excluded.metadata, attributes = excluded.attributes,
    vector = CASE WHEN (?11 & 2) AND excluded.vector IS NULL THEN vector ELSE excluded.vector END,
    updated_at = excluded.updated_at,
    use_count = CASE WHEN ?11 & 4 THEN excluded.use_count ELSE use_count END,
    last_used_at = CASE WHEN ?11 & 8 THEN excluded.last_used_at ELSE last_used_at END
