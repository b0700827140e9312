-- Schema version 7 (as SQLite's): the fragments whose attributes hold a non-empty `links`
-- array, indexed, so that the fragments linking to one being deleted are found without
-- reading every row. Attributes are JSON text written by @aios/data.
CREATE INDEX fragments_linking ON fragments (id)
  WHERE jsonb_typeof(attributes::jsonb -> 'links') = 'array'
    AND attributes::jsonb -> 'links' <> '[]'::jsonb;
