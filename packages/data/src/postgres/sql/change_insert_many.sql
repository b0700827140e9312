INSERT INTO fragment_changes (seq, fragment_id, kind, data, created_at)
  SELECT ?5::bigint + c.ord - 1, c.fragment_id, c.kind, c.data, c.created_at
    FROM unnest(?1::text[], ?2::text[], ?3::text[], ?4::bigint[])
      WITH ORDINALITY AS c(fragment_id, kind, data, created_at, ord)
    ORDER BY c.ord
