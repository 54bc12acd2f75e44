-- Nothing to undo: 000006 only brings older databases to the schema that
-- 000001-000005 give a fresh one.
SELECT 1;
