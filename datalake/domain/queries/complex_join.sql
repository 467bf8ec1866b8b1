-- title: Complex Join
-- measures: the fact joined to all three dimensions (attributes and costs only the dimensions hold)
-- source: demo table
-- order: 2
SELECT
    p.category,
    c.customer_segment,
    COALESCE(s.region, 'online') AS store_region,
    COUNT(*) AS total_orders,
    COUNT(DISTINCT f.customer_id) AS customers,
    SUM(f.total_amount) AS total_sales,
    SUM(f.total_amount - f.quantity * p.unit_cost) AS gross_profit
FROM sales_fact f
JOIN products p ON p.product_id = f.product_id
JOIN customers c ON c.customer_id = f.customer_id
LEFT JOIN stores s ON s.store_id = f.store_id
GROUP BY p.category, c.customer_segment, COALESCE(s.region, 'online')
ORDER BY p.category, c.customer_segment, store_region
