-- Plain reference (tests only): computed from the events directly, to check the rollup path row for row. Percentiles by nearest rank: the smallest time with at least p of the day's requests at or below it.
WITH cf AS (
    SELECT dt, edge_result_type, time_taken_ms
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND source = 'cloudfront'
),
ranked AS (
    SELECT dt, time_taken_ms,
           ROW_NUMBER() OVER (PARTITION BY dt ORDER BY time_taken_ms) AS rank_no,
           COUNT(*) OVER (PARTITION BY dt) AS n
    FROM cf
    WHERE time_taken_ms IS NOT NULL
),
pct AS (
    SELECT dt,
           MIN(CASE WHEN rank_no * 100 >= 50 * n THEN time_taken_ms END) AS p50_ms,
           MIN(CASE WHEN rank_no * 100 >= 95 * n THEN time_taken_ms END) AS p95_ms
    FROM ranked
    GROUP BY dt
)
SELECT CAST(c.dt AS DATE) AS day,
       COUNT(*) AS requests,
       COUNT_IF(c.edge_result_type IN ('Hit', 'RefreshHit')) AS cache_hits,
       CAST(COUNT_IF(c.edge_result_type IN ('Hit', 'RefreshHit')) AS DOUBLE) / COUNT(*) AS cache_hit_ratio,
       COUNT_IF(c.edge_result_type = 'Error') AS errors,
       MIN(p.p50_ms) AS p50_ms,
       MIN(p.p95_ms) AS p95_ms
FROM cf AS c
LEFT JOIN pct AS p ON p.dt = c.dt
GROUP BY c.dt
ORDER BY day
