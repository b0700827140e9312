-- The change sequence's lock, one per schema: a store's transactions that write history
-- still take their seqs in commit order (see 0006_initial.sql), while stores in other
-- schemas of the database (other tenants) take theirs without waiting for them. Same
-- second key (1) as the history lock of the store's dialect, so a transaction that already
-- holds it takes it again at no cost.
CREATE OR REPLACE FUNCTION aios_take_change_seqs(n bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  last_seq bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(current_schema()), 1);
  UPDATE aios_change_seq SET last = last + n RETURNING last INTO last_seq;
  RETURN last_seq - n + 1;
END
$$;
