-- title: Date Range Scan
-- measures: the last 30 days, filtered on sale_date and on the year/month partition columns so that
--   partitions and row groups outside the range are skipped (the pruning the demo's claims rest on)
-- source: demo table
-- pruning: yes
-- order: 4
SELECT
    sale_date,
    region,
    COUNT(*) AS total_orders,
    SUM(total_amount) AS total_sales
FROM sales_fact
WHERE sale_date BETWEEN CURRENT_DATE - INTERVAL '30' DAY AND CURRENT_DATE
  AND (
    year > year(CURRENT_DATE - INTERVAL '30' DAY)
    OR (year = year(CURRENT_DATE - INTERVAL '30' DAY) AND month >= month(CURRENT_DATE - INTERVAL '30' DAY))
  )
GROUP BY sale_date, region
ORDER BY sale_date, region
