-- title: Sales per day, last 30 days
-- measures: the demo README's Athena example as published (sale_date filter only: row-group pruning, no partition pruning)
-- source: demo README
-- order: 5
SELECT
    sale_date,
    COUNT(*) as total_orders,
    SUM(total_amount) as total_sales
FROM sales_fact
WHERE sale_date >= CURRENT_DATE - INTERVAL '30' DAY
GROUP BY sale_date
ORDER BY sale_date DESC
