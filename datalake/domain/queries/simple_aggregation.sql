-- title: Simple Aggregation
-- measures: a full scan of three columns grouped by region; the columnar win with nothing to prune
-- source: demo table
-- order: 1
SELECT
    region,
    COUNT(*) AS total_orders,
    SUM(total_amount) AS total_sales,
    AVG(profit_margin) AS avg_profit_margin
FROM sales_fact
GROUP BY region
ORDER BY region
