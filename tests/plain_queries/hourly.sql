-- Plain reference (tests only): computed from the events directly, to check the rollup path row for row.
SELECT hour, SUM(pageviews) AS pageviews, SUM(visitors) AS visitors
FROM (
    SELECT site, DATE_TRUNC('hour', ts) AS hour, COUNT(*) AS pageviews, COUNT(DISTINCT visitor_id) AS visitors
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
    GROUP BY site, DATE_TRUNC('hour', ts)
)
GROUP BY hour
ORDER BY hour
