-- map_edges: traffic by CloudFront edge location (a coarse location that needs no IP database): edge_city,
-- latitude, longitude, hits, visitors (pageview visitor ids per UTC day and site, summed), peak_day_visitors
-- (the most on one day; the report's k-anonymity threshold uses it), pageviews. Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH per_day AS (
    SELECT dt, edge_city, edge_latitude, edge_longitude,
           SUM(hits) AS hits, SUM(visitors) AS visitors, SUM(pageviews) AS pageviews
    FROM rollup_edges
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
    GROUP BY dt, edge_city, edge_latitude, edge_longitude
)
SELECT edge_city,
       edge_latitude AS latitude,
       edge_longitude AS longitude,
       SUM(hits) AS hits,
       SUM(visitors) AS visitors,
       MAX(visitors) AS peak_day_visitors,
       SUM(pageviews) AS pageviews
FROM per_day
GROUP BY edge_city, edge_latitude, edge_longitude
ORDER BY hits DESC, edge_city, latitude, longitude
