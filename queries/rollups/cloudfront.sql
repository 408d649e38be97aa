-- rollup cloudfront: per UTC day and site, CloudFront requests (CloudFront logs only): requests, cache_hits
-- (x-edge-result-type Hit or RefreshHit), errors (result type Error).
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
SELECT dt, site,
       COUNT(*) AS requests,
       COUNT_IF(edge_result_type IN ('Hit', 'RefreshHit')) AS cache_hits,
       COUNT_IF(edge_result_type = 'Error') AS errors
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND source = 'cloudfront'
GROUP BY dt, site
