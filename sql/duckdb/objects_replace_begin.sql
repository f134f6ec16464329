-- First statement of a snapshot's transaction: the source's previous
-- objects go, in the same transaction that writes the new ones.
DELETE FROM storage_objects WHERE source = $1;
