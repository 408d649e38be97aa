-- rollup edges: per UTC day and site, traffic by CloudFront edge location: edge_city, edge_latitude,
-- edge_longitude, hits, visitors (distinct visitor ids among the pageviews), pageviews.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
SELECT dt, site, edge_city, edge_latitude, edge_longitude,
       COUNT(*) AS hits,
       COUNT(DISTINCT CASE WHEN is_pageview THEN visitor_id END) AS visitors,
       COUNT_IF(is_pageview) AS pageviews
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND edge_latitude IS NOT NULL AND edge_longitude IS NOT NULL
GROUP BY dt, site, edge_city, edge_latitude, edge_longitude
