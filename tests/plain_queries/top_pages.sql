-- Plain reference (tests only): computed from the events directly, to check the rollup path row for row.
SELECT path, SUM(pageviews) AS pageviews, SUM(visitors) AS visitors
FROM (
    SELECT dt, site, path, COUNT(*) AS pageviews, COUNT(DISTINCT visitor_id) AS visitors
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
    GROUP BY dt, site, path
)
GROUP BY path
ORDER BY pageviews DESC, path
LIMIT 100
