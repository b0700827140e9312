INSERT INTO fragment_changes (fragment_id, kind, data, created_at) VALUES (?1, ?2, ?3, ?4)
