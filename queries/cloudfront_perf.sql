-- cloudfront_perf: CloudFront cache and edge latency per UTC day (CloudFront logs only): day, requests,
-- cache_hits (x-edge-result-type Hit or RefreshHit), cache_hit_ratio (cache_hits / requests), errors (result
-- type Error), p50_ms and p95_ms (exact percentiles of time-taken in milliseconds, by nearest rank: the
-- smallest time with at least that share of the day's timed requests at or below it). Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH perf AS (
    SELECT dt, SUM(requests) AS requests, SUM(cache_hits) AS cache_hits, SUM(errors) AS errors
    FROM rollup_cloudfront
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
    GROUP BY dt
),
histogram AS (
    SELECT dt, time_taken_ms, SUM(requests) AS n
    FROM rollup_latency
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
    GROUP BY dt, time_taken_ms
),
cumulative AS (
    SELECT dt, time_taken_ms,
           SUM(n) OVER (PARTITION BY dt ORDER BY time_taken_ms ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto,
           SUM(n) OVER (PARTITION BY dt) AS total
    FROM histogram
),
pct AS (
    SELECT dt,
           MIN(CASE WHEN upto * 100 >= 50 * total THEN time_taken_ms END) AS p50_ms,
           MIN(CASE WHEN upto * 100 >= 95 * total THEN time_taken_ms END) AS p95_ms
    FROM cumulative
    GROUP BY dt
)
SELECT CAST(f.dt AS DATE) AS day,
       f.requests,
       f.cache_hits,
       CAST(f.cache_hits AS DOUBLE) / f.requests AS cache_hit_ratio,
       f.errors,
       p.p50_ms,
       p.p95_ms
FROM perf AS f
LEFT JOIN pct AS p ON p.dt = f.dt
ORDER BY day
