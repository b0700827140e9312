-- Schema version 4: messages found by the exchange they belong to. An exchange is a group
-- of messages written together (a question and its answer), named by the string
-- `metadata.exchangeId` of each of them; this index makes finding one a single probe, from
-- any process, instead of a read of every conversation.
-- Luna's messages written before this version carry the id as `metadata.luna.exchangeId`
-- only: it is copied to `metadata.exchangeId`.
UPDATE messages
  SET metadata = json_set(metadata, '$.exchangeId', json_extract(metadata, '$.luna.exchangeId'))
  WHERE json_valid(metadata)
    AND json_type(metadata, '$.luna.exchangeId') = 'text'
    AND json_type(metadata, '$.exchangeId') IS NULL;
CREATE INDEX messages_exchange ON messages (json_extract(metadata, '$.exchangeId'), id)
  WHERE json_extract(metadata, '$.exchangeId') IS NOT NULL;
