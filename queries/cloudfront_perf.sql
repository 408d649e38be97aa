-- cloudfront_perf: CloudFront cache and edge latency per UTC day (CloudFront logs only): day, requests,
-- cache_hits (x-edge-result-type Hit or RefreshHit), cache_hit_ratio (cache_hits / requests, 0 when none),
-- errors (result type Error), p50_ms and p95_ms (approximate percentiles of time-taken, milliseconds).
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT CAST(dt AS DATE) AS day,
       COUNT(*) AS requests,
       COUNT_IF(edge_result_type IN ('Hit', 'RefreshHit')) AS cache_hits,
       CAST(COUNT_IF(edge_result_type IN ('Hit', 'RefreshHit')) AS DOUBLE) / COUNT(*) AS cache_hit_ratio,
       COUNT_IF(edge_result_type = 'Error') AS errors,
       APPROX_PERCENTILE(time_taken_ms, 0.5) AS p50_ms,
       APPROX_PERCENTILE(time_taken_ms, 0.95) AS p95_ms
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND source = 'cloudfront'
GROUP BY dt
ORDER BY day
