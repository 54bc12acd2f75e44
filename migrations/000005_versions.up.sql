-- Versions for the two resources that were still changed without
-- If-Match (custom roles and group categories), so that every PATCH takes
-- an ETag and answers 412 on a stale one; and an id for group categories,
-- so that their changes are audited like any other entity's.
ALTER TABLE roles ADD COLUMN version bigint NOT NULL DEFAULT 1;

ALTER TABLE group_categories ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE group_categories ADD COLUMN version bigint NOT NULL DEFAULT 1;
ALTER TABLE group_categories ADD CONSTRAINT group_categories_id_key UNIQUE (tenant_id, id);
