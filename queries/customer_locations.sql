-- LocationCustomerGet returns the code and name of a customer the caller
-- can see (row-level security hides the others).
-- name: LocationCustomerGet :one
SELECT id, code, name FROM customers WHERE tenant_id = @tenant_id AND id = @id;

-- LocationCustomerLock locks a visible customer's row for the rest of the
-- transaction. Every location write takes it first, so writes to one
-- customer's locations run one after another: the default flags and the
-- primary address are then computed from every committed sibling, and two
-- concurrent creates cannot both become the default. NO KEY UPDATE does not
-- block foreign-key checks of other tables that reference the customer.
-- name: LocationCustomerLock :one
SELECT id, code, name FROM customers WHERE tenant_id = @tenant_id AND id = @id FOR NO KEY UPDATE;

-- LocationCustomerLockByLocation is LocationCustomerLock for the customer
-- of a location (no row when the location or its customer is not visible).
-- name: LocationCustomerLockByLocation :one
SELECT c.id, c.code, c.name
FROM customers c
JOIN customer_locations l ON l.tenant_id = c.tenant_id AND l.customer_id = c.id
WHERE c.tenant_id = @tenant_id AND l.tenant_id = @tenant_id AND l.id = @location_id
FOR NO KEY UPDATE OF c;

-- LocationInsert adds a location with its customer's reach, as
-- CustomerReachForShare read it (a rep override it names joins the reach
-- at the refresh that follows).
-- name: LocationInsert :one
INSERT INTO customer_locations (
    tenant_id, id, customer_id, label, line1, line2, city, region, postal_code, country, phone, kinds,
    is_default_billing, is_default_shipping, sales_rep_id, reach
) VALUES (
    @tenant_id, @id, @customer_id, @label, @line1, sqlc.narg(line2), @city, sqlc.narg(region),
    sqlc.narg(postal_code), @country, sqlc.narg(phone), @kinds::text[], @is_default_billing,
    @is_default_shipping, sqlc.narg(sales_rep_id), @reach
)
RETURNING *;

-- name: LocationGetByID :one
SELECT sqlc.embed(l), c.code AS customer_code, c.name AS customer_name
FROM customer_locations l
JOIN customers c ON c.tenant_id = l.tenant_id AND c.id = l.customer_id
WHERE l.tenant_id = @tenant_id AND l.id = @id;

-- name: LocationGetByIDForUpdate :one
SELECT * FROM customer_locations WHERE tenant_id = @tenant_id AND id = @id FOR UPDATE;

-- LocationDefaults returns a customer's default billing and default
-- shipping locations (at most two rows: the partial unique indexes allow
-- one of each).
-- name: LocationDefaults :many
SELECT * FROM customer_locations
WHERE tenant_id = @tenant_id AND customer_id = @customer_id AND (is_default_billing OR is_default_shipping)
ORDER BY id;

-- LocationDefaultsForCustomers returns the default billing and default
-- shipping locations of many customers at once (an export fills a batch of
-- records with one statement).
-- name: LocationDefaultsForCustomers :many
SELECT * FROM customer_locations
WHERE tenant_id = @tenant_id AND customer_id = ANY (@customer_ids::uuid[]) AND (is_default_billing OR is_default_shipping)
ORDER BY customer_id, id;

-- LocationClearDefaults takes the default billing (@billing) and/or
-- default shipping (@shipping) flag off every other location of the
-- customer. It runs before the flag is set on @keep_id, because the partial
-- unique indexes allow one default of each kind per customer at any moment.
-- The cleared locations get a new version: their representation changed.
-- name: LocationClearDefaults :many
UPDATE customer_locations SET
    is_default_billing = is_default_billing AND NOT @billing::boolean,
    is_default_shipping = is_default_shipping AND NOT @shipping::boolean,
    version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND customer_id = @customer_id AND id <> @keep_id
  AND ((@billing::boolean AND is_default_billing) OR (@shipping::boolean AND is_default_shipping))
RETURNING *;

-- LocationUpdate writes every field but the sales rep, which
-- LocationSetSalesRep changes after the customer's address is synced (see
-- Service.Update for why).
-- name: LocationUpdate :one
UPDATE customer_locations SET
    label = @label, line1 = @line1, line2 = sqlc.narg(line2), city = @city, region = sqlc.narg(region),
    postal_code = sqlc.narg(postal_code), country = @country, phone = sqlc.narg(phone), kinds = @kinds::text[],
    is_default_billing = @is_default_billing, is_default_shipping = @is_default_shipping,
    version = version + 1, updated_at = now()
WHERE tenant_id = @tenant_id AND id = @id
RETURNING *;

-- LocationSetSalesRep changes a location's sales rep within an update that
-- already took a new version. Its trigger moves the rep's mirror row in
-- customer_location_reps, and with it who can see the customer.
-- name: LocationSetSalesRep :one
UPDATE customer_locations SET sales_rep_id = sqlc.narg(sales_rep_id)
WHERE tenant_id = @tenant_id AND id = @id
RETURNING *;

-- name: LocationDelete :execrows
DELETE FROM customer_locations WHERE tenant_id = @tenant_id AND id = @id;

-- LocationSyncCustomerAddress sets the customer's city and country from
-- its primary address: the default billing location, else the default
-- shipping one, else the oldest; NULL when it has no location. The columns
-- are derived, so the customer's version and updated_at stay as they are.
-- @exclude_location_id leaves out a location about to be deleted: the sync
-- runs before the delete, while the caller still sees the customer (a rep
-- who sees it only as that location's rep would not afterwards, and the
-- update would silently match no row).
-- name: LocationSyncCustomerAddress :execrows
WITH p AS (
    SELECT l.city, l.country FROM customer_locations l
    WHERE l.tenant_id = @tenant_id AND l.customer_id = @customer_id
      AND l.id IS DISTINCT FROM sqlc.narg(exclude_location_id)::uuid
    ORDER BY l.is_default_billing DESC, l.is_default_shipping DESC, l.created_at, l.id
    LIMIT 1
)
UPDATE customers c SET city = (SELECT p.city FROM p), country = (SELECT p.country FROM p)
WHERE c.tenant_id = @tenant_id AND c.id = @customer_id;

-- LocationList pages through the locations the caller can see, by customer
-- name, then label, then id; row-level security limits both tables to the
-- caller's customers.
-- name: LocationList :many
SELECT sqlc.embed(l), c.code AS customer_code, c.name AS customer_name
FROM customer_locations l
JOIN customers c ON c.tenant_id = l.tenant_id AND c.id = l.customer_id
WHERE l.tenant_id = @tenant_id AND c.tenant_id = @tenant_id
  AND (sqlc.narg(customer_id)::uuid IS NULL OR l.customer_id = sqlc.narg(customer_id)::uuid)
  AND (sqlc.narg(city)::text IS NULL OR lower(l.city) = lower(sqlc.narg(city)::text))
  AND (sqlc.narg(country)::text IS NULL OR l.country = sqlc.narg(country)::text)
  AND (sqlc.narg(sales_rep_id)::uuid IS NULL OR l.sales_rep_id = sqlc.narg(sales_rep_id)::uuid)
  AND (sqlc.narg(after_id)::uuid IS NULL
       OR (c.name, l.label, l.id) > (sqlc.narg(after_name)::text, sqlc.narg(after_label)::text, sqlc.narg(after_id)::uuid))
ORDER BY c.name, l.label, l.id
LIMIT @row_limit;

-- LocationListForCustomers returns every location of many customers at
-- once, grouped by customer, defaults first: an export with
-- include=locations reads a page's locations with one statement.
-- name: LocationListForCustomers :many
SELECT * FROM customer_locations
WHERE tenant_id = @tenant_id AND customer_id = ANY (@customer_ids::uuid[])
ORDER BY customer_id, is_default_billing DESC, is_default_shipping DESC, label, id;
