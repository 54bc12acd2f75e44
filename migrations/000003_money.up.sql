-- 000003: money (issue 4): items and prices, sales orders with lines,
-- payments and their allocation to orders. Customer figures (order count,
-- totals, balance, overdue) live on customers (000002) and are recomputed
-- in the same transaction as every order or payment write.
--
-- Amounts are numeric(19,4), in the order's or payment's currency (the
-- customer's effective currency when it was written). Orders and payments
-- follow their customer's visibility, like every child of customers.

CREATE TABLE items (
    tenant_id  uuid           NOT NULL REFERENCES tenants (id),
    id         uuid           NOT NULL,
    sku        text           NOT NULL,
    name       text           NOT NULL,
    -- In the tenant's default currency.
    base_price numeric(19, 4) NOT NULL,
    active     boolean        NOT NULL DEFAULT true,
    version    bigint         NOT NULL DEFAULT 1,
    created_at timestamptz    NOT NULL DEFAULT now(),
    updated_at timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT items_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT items_sku_key UNIQUE (tenant_id, sku),
    CONSTRAINT items_base_price_check CHECK (base_price >= 0)
);

-- A price list's price for an item, in the list's currency.
CREATE TABLE price_list_items (
    tenant_id     uuid           NOT NULL REFERENCES tenants (id),
    price_list_id uuid           NOT NULL,
    item_id       uuid           NOT NULL,
    price         numeric(19, 4) NOT NULL,
    updated_at    timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT price_list_items_pkey PRIMARY KEY (tenant_id, price_list_id, item_id),
    CONSTRAINT price_list_items_list_fkey FOREIGN KEY (tenant_id, price_list_id) REFERENCES price_lists (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT price_list_items_item_fkey FOREIGN KEY (tenant_id, item_id) REFERENCES items (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT price_list_items_price_check CHECK (price >= 0)
);

-- A customer's own price for an item, in the customer's currency.
CREATE TABLE customer_prices (
    tenant_id   uuid           NOT NULL REFERENCES tenants (id),
    customer_id uuid           NOT NULL,
    item_id     uuid           NOT NULL,
    price       numeric(19, 4) NOT NULL,
    updated_at  timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT customer_prices_pkey PRIMARY KEY (tenant_id, customer_id, item_id),
    CONSTRAINT customer_prices_customer_fkey FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT customer_prices_item_fkey FOREIGN KEY (tenant_id, item_id) REFERENCES items (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT customer_prices_price_check CHECK (price >= 0)
);

CREATE TABLE sales_orders (
    tenant_id        uuid           NOT NULL REFERENCES tenants (id),
    id               uuid           NOT NULL,
    number           text           NOT NULL,
    customer_id      uuid           NOT NULL,
    location_id      uuid,
    currency         text           NOT NULL,
    order_date       date           NOT NULL,
    due_date         date           NOT NULL,
    payment_terms_id uuid,
    status           text           NOT NULL DEFAULT 'pending',
    total            numeric(19, 4) NOT NULL,
    paid_amount      numeric(19, 4) NOT NULL DEFAULT 0,
    notes            text,
    -- Set when a user with credit:override passed a blocking credit check.
    credit_override  boolean        NOT NULL DEFAULT false,
    created_by       uuid,
    version          bigint         NOT NULL DEFAULT 1,
    created_at       timestamptz    NOT NULL DEFAULT now(),
    updated_at       timestamptz    NOT NULL DEFAULT now(),
    shipped_at       timestamptz,
    invoiced_at      timestamptz,
    paid_at          timestamptz,
    cancelled_at     timestamptz,
    CONSTRAINT sales_orders_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT sales_orders_number_key UNIQUE (tenant_id, number),
    -- No cascade: a customer with orders cannot be deleted (merge or
    -- deactivate it instead).
    CONSTRAINT sales_orders_customer_fkey FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
    CONSTRAINT sales_orders_location_fkey FOREIGN KEY (tenant_id, location_id) REFERENCES customer_locations (tenant_id, id),
    CONSTRAINT sales_orders_payment_terms_fkey FOREIGN KEY (tenant_id, payment_terms_id) REFERENCES payment_terms (tenant_id, id),
    CONSTRAINT sales_orders_status_check CHECK (status IN ('pending', 'shipped', 'invoiced', 'paid', 'cancelled')),
    CONSTRAINT sales_orders_total_check CHECK (total >= 0),
    CONSTRAINT sales_orders_paid_check CHECK (paid_amount >= 0 AND paid_amount <= total)
);
CREATE INDEX sales_orders_customer_idx ON sales_orders (tenant_id, customer_id, order_date DESC, id);
CREATE INDEX sales_orders_date_idx ON sales_orders (tenant_id, order_date DESC, id);
CREATE INDEX sales_orders_open_idx ON sales_orders (tenant_id, customer_id, due_date)
    WHERE status <> 'cancelled' AND paid_amount < total;
CREATE INDEX sales_orders_location_idx ON sales_orders (tenant_id, location_id) WHERE location_id IS NOT NULL;

CREATE TABLE sales_order_lines (
    tenant_id     uuid           NOT NULL REFERENCES tenants (id),
    order_id      uuid           NOT NULL,
    line_no       integer        NOT NULL,
    item_id       uuid           NOT NULL,
    sku           text           NOT NULL,
    name          text           NOT NULL,
    quantity      numeric(19, 4) NOT NULL,
    unit_price    numeric(19, 4) NOT NULL,
    discount_rate numeric(5, 2)  NOT NULL DEFAULT 0,
    amount        numeric(19, 4) NOT NULL,
    -- Where the unit price came from: given, customer_price, price_list,
    -- group_price_list or base_price.
    price_source  text           NOT NULL,
    CONSTRAINT sales_order_lines_pkey PRIMARY KEY (tenant_id, order_id, line_no),
    CONSTRAINT sales_order_lines_order_fkey FOREIGN KEY (tenant_id, order_id) REFERENCES sales_orders (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT sales_order_lines_item_fkey FOREIGN KEY (tenant_id, item_id) REFERENCES items (tenant_id, id),
    CONSTRAINT sales_order_lines_quantity_check CHECK (quantity > 0),
    CONSTRAINT sales_order_lines_price_check CHECK (unit_price >= 0),
    CONSTRAINT sales_order_lines_discount_check CHECK (discount_rate BETWEEN 0 AND 100)
);
CREATE INDEX sales_order_lines_item_idx ON sales_order_lines (tenant_id, item_id);

-- Payments (collections) from a customer, in the customer's currency.
CREATE TABLE payments (
    tenant_id   uuid           NOT NULL REFERENCES tenants (id),
    id          uuid           NOT NULL,
    number      text           NOT NULL,
    customer_id uuid           NOT NULL,
    amount      numeric(19, 4) NOT NULL,
    currency    text           NOT NULL,
    received_at date           NOT NULL,
    method      text,
    reference   text,
    created_by  uuid,
    created_at  timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT payments_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT payments_number_key UNIQUE (tenant_id, number),
    CONSTRAINT payments_customer_fkey FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
    CONSTRAINT payments_amount_check CHECK (amount > 0)
);
CREATE INDEX payments_customer_idx ON payments (tenant_id, customer_id, received_at DESC, id);

-- The part of a payment applied to an order.
CREATE TABLE payment_allocations (
    tenant_id  uuid           NOT NULL REFERENCES tenants (id),
    payment_id uuid           NOT NULL,
    order_id   uuid           NOT NULL,
    amount     numeric(19, 4) NOT NULL,
    CONSTRAINT payment_allocations_pkey PRIMARY KEY (tenant_id, payment_id, order_id),
    CONSTRAINT payment_allocations_payment_fkey FOREIGN KEY (tenant_id, payment_id) REFERENCES payments (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT payment_allocations_order_fkey FOREIGN KEY (tenant_id, order_id) REFERENCES sales_orders (tenant_id, id),
    CONSTRAINT payment_allocations_amount_check CHECK (amount > 0)
);
CREATE INDEX payment_allocations_order_idx ON payment_allocations (tenant_id, order_id);

-- Row-level security: items and price list prices are the tenant's; the
-- rest follow their customer (sales_order_lines and payment_allocations
-- through their order or payment, which follow the customer).
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
ALTER TABLE items FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON items
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

ALTER TABLE price_list_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE price_list_items FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON price_list_items
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

ALTER TABLE customer_prices ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_prices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_prices
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_prices.tenant_id AND c.id = customer_prices.customer_id)))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = customer_prices.tenant_id AND c.id = customer_prices.customer_id)));

ALTER TABLE sales_orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE sales_orders FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sales_orders
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = sales_orders.tenant_id AND c.id = sales_orders.customer_id)))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = sales_orders.tenant_id AND c.id = sales_orders.customer_id)));

ALTER TABLE sales_order_lines ENABLE ROW LEVEL SECURITY;
ALTER TABLE sales_order_lines FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sales_order_lines
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM sales_orders o WHERE o.tenant_id = sales_order_lines.tenant_id AND o.id = sales_order_lines.order_id)))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM sales_orders o WHERE o.tenant_id = sales_order_lines.tenant_id AND o.id = sales_order_lines.order_id)));

ALTER TABLE payments ENABLE ROW LEVEL SECURITY;
ALTER TABLE payments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON payments
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = payments.tenant_id AND c.id = payments.customer_id)))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = payments.tenant_id AND c.id = payments.customer_id)));

ALTER TABLE payment_allocations ENABLE ROW LEVEL SECURITY;
ALTER TABLE payment_allocations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON payment_allocations
    USING (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM payments p WHERE p.tenant_id = payment_allocations.tenant_id AND p.id = payment_allocations.payment_id)))
    WITH CHECK (tenant_id = app_tenant_id()
           AND (app_visibility() = 'all'
                OR EXISTS (SELECT 1 FROM payments p WHERE p.tenant_id = payment_allocations.tenant_id AND p.id = payment_allocations.payment_id)));

GRANT SELECT, INSERT, UPDATE, DELETE ON items, price_list_items, customer_prices, sales_orders, sales_order_lines,
    payments, payment_allocations TO customerhub_app;
