-- title: Window Functions
-- measures: windows over every sale partitioned by customer (order sequence, gap to the previous order)
-- source: demo table
-- order: 3
WITH customer_orders AS (
    SELECT
        customer_segment,
        sale_date,
        total_amount,
        LAG(sale_date) OVER (PARTITION BY customer_id ORDER BY sale_timestamp, sale_id) AS previous_sale_date,
        ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY sale_timestamp, sale_id) AS order_number
    FROM sales_fact
)
SELECT
    customer_segment,
    COUNT(*) AS total_orders,
    COUNT(previous_sale_date) AS repeat_orders,
    AVG(date_diff('day', previous_sale_date, sale_date)) AS avg_days_between_orders,
    SUM(CASE WHEN order_number = 1 THEN total_amount END) AS first_order_sales
FROM customer_orders
GROUP BY customer_segment
ORDER BY customer_segment
