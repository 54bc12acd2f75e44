-- The audit trail follows the visibility of what it is about. An event of
-- an object that belongs to a customer (the customer itself, its contacts,
-- locations, orders, payments, own prices, grants of it to a user, a portal
-- user linked to it) records that customer, so that a sales rep or a
-- portal user reads only the events of customers they can see, even after
-- the object itself was deleted. NULL: the event belongs to the tenant as a
-- whole (settings, roles, groups, price lists, ...).
ALTER TABLE audit_events ADD COLUMN customer_id uuid;

-- Fill in the events recorded before. Reading other tenants' rows past
-- row-level security needs the owner with the policies not forced; that
-- lasts only for this migration's transaction (golang-migrate runs the file
-- as one statement string, which PostgreSQL runs as one transaction; DDL is
-- transactional), and nothing else can read these tables meanwhile
-- (ALTER TABLE holds an ACCESS EXCLUSIVE lock until commit).
ALTER TABLE audit_events NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_contacts NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_locations NO FORCE ROW LEVEL SECURITY;
ALTER TABLE sales_orders NO FORCE ROW LEVEL SECURITY;
ALTER TABLE payments NO FORCE ROW LEVEL SECURITY;

UPDATE audit_events SET customer_id = entity_id WHERE entity = 'customer';
UPDATE audit_events e SET customer_id = k.customer_id FROM customer_contacts k
WHERE e.entity = 'contact' AND k.tenant_id = e.tenant_id AND k.id = e.entity_id;
UPDATE audit_events e SET customer_id = l.customer_id FROM customer_locations l
WHERE e.entity = 'location' AND l.tenant_id = e.tenant_id AND l.id = e.entity_id;
UPDATE audit_events e SET customer_id = o.customer_id FROM sales_orders o
WHERE e.entity = 'order' AND o.tenant_id = e.tenant_id AND o.id = e.entity_id;
UPDATE audit_events e SET customer_id = p.customer_id FROM payments p
WHERE e.entity = 'payment' AND p.tenant_id = e.tenant_id AND p.id = e.entity_id;

-- Objects deleted since, grants, customer prices and portal users: the
-- customer the event itself names (a create names it in "to", a delete in
-- "from").
UPDATE audit_events
SET customer_id = coalesce(changes #>> '{customer_id,to}', changes #>> '{customer_id,from}')::uuid
WHERE customer_id IS NULL
  AND entity IN ('contact', 'location', 'order', 'payment', 'grant', 'price', 'user')
  AND coalesce(changes #>> '{customer_id,to}', changes #>> '{customer_id,from}') ~ '^[0-9a-fA-F-]{36}$';

-- The other events of an object whose customer one event names (a portal
-- user's later changes, a deleted contact's updates).
UPDATE audit_events e SET customer_id = known.customer_id
FROM (SELECT DISTINCT ON (tenant_id, entity, entity_id) tenant_id, entity, entity_id, customer_id
      FROM audit_events
      WHERE customer_id IS NOT NULL AND entity IN ('contact', 'location', 'order', 'payment', 'user')
      ORDER BY tenant_id, entity, entity_id, at DESC) known
WHERE e.customer_id IS NULL AND e.tenant_id = known.tenant_id AND e.entity = known.entity AND e.entity_id = known.entity_id;

-- What stays unknown may still have been a customer's (a customer price's
-- update names neither its customer nor its price list): fail closed with
-- the nil id, a customer nobody but users who see every customer can see.
UPDATE audit_events SET customer_id = '00000000-0000-0000-0000-000000000000'
WHERE customer_id IS NULL
  AND (entity IN ('contact', 'location', 'order', 'payment')
       OR (entity = 'price' AND NOT changes ? 'price_list_id'));

ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_contacts FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_locations FORCE ROW LEVEL SECURITY;
ALTER TABLE sales_orders FORCE ROW LEVEL SECURITY;
ALTER TABLE payments FORCE ROW LEVEL SECURITY;
