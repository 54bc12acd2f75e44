ALTER TABLE group_categories DROP CONSTRAINT group_categories_id_key;
ALTER TABLE group_categories DROP COLUMN version;
ALTER TABLE group_categories DROP COLUMN id;

ALTER TABLE roles DROP COLUMN version;
