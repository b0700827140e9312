INSERT INTO fragments (id, namespace, text, metadata, attributes, vector,
    created_at, updated_at, use_count, last_used_at)
  SELECT r.id, r.namespace, r.text, r.metadata, r.attributes,
      CASE WHEN r.vi IS NULL THEN NULL ELSE substring(?6::bytea FROM r.vi * ?7::integer + 1 FOR ?7::integer) END,
      r.created_at, r.updated_at, r.use_count, r.last_used_at
    FROM unnest(?1::text[], ?2::text[], ?3::text[], ?4::text[], ?5::text[], ?8::integer[],
        ?9::bigint[], ?10::bigint[], ?11::bigint[], ?12::bigint[])
      WITH ORDINALITY AS r(id, namespace, text, metadata, attributes, vi,
        created_at, updated_at, use_count, last_used_at, ord)
    ORDER BY r.ord
  ON CONFLICT (id) DO UPDATE SET namespace = excluded.namespace, text = excluded.text,
    metadata = excluded.metadata, attributes = excluded.attributes,
    vector = CASE WHEN (?13::integer & 2) <> 0 AND excluded.vector IS NULL THEN fragments.vector ELSE excluded.vector END,
    updated_at = excluded.updated_at,
    use_count = CASE WHEN (?13::integer & 4) <> 0 THEN excluded.use_count ELSE fragments.use_count END,
    last_used_at = CASE WHEN (?13::integer & 8) <> 0 THEN excluded.last_used_at ELSE fragments.last_used_at END
