-- A notice on channel aios_changes for every statement that adds history rows, payload
-- "<schema> <highest seq of the statement>". NOTIFY inside a transaction is delivered at
-- its commit (and never when it rolls back), so a follower that hears seq N may read
-- every change up to N. The schema tells apart the stores of one database.
CREATE OR REPLACE FUNCTION aios_notify_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  top bigint;
BEGIN
  SELECT max(seq) INTO top FROM aios_new_changes;
  IF top IS NOT NULL THEN
    PERFORM pg_notify('aios_changes', TG_TABLE_SCHEMA || ' ' || top);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER fragment_changes_notify AFTER INSERT ON fragment_changes
  REFERENCING NEW TABLE AS aios_new_changes
  FOR EACH STATEMENT EXECUTE FUNCTION aios_notify_changes();
