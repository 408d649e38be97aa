-- rollup latency: per UTC day and site, CloudFront requests by time taken (a histogram, so percentiles over any
-- days are exact): time_taken_ms, requests.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
SELECT dt, site, time_taken_ms,
       COUNT(*) AS requests
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND source = 'cloudfront' AND time_taken_ms IS NOT NULL
GROUP BY dt, site, time_taken_ms
