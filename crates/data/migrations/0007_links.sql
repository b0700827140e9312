-- Schema version 7: the fragments that link to others (their attributes hold a non-empty
-- `links` array), indexed, so that the fragments linking to one being deleted are found
-- by reading those rows alone, not every row of the table (with its vector, 1.1 s at a
-- million fragments). Attributes that are not JSON are left out rather than failing.
CREATE INDEX fragments_linking ON fragments (id)
  WHERE CASE WHEN json_valid(attributes) THEN json_array_length(attributes, '$.links') ELSE 0 END > 0;
