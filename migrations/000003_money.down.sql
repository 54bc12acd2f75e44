DROP TABLE IF EXISTS payment_allocations, payments, sales_order_lines, sales_orders, customer_prices, price_list_items, items CASCADE;
