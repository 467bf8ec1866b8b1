-- title: Customer lifetime value
-- measures: the demo README's Redshift example as published (a group-by over every sale, large result)
-- source: demo README
-- order: 6
SELECT
    customer_id,
    COUNT(*) as total_orders,
    SUM(total_amount) as lifetime_value
FROM sales_fact_redshift
GROUP BY customer_id
HAVING COUNT(*) > 1
ORDER BY lifetime_value DESC
