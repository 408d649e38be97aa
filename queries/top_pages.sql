-- top_pages: the most viewed paths: path, pageviews, visitors (distinct visitor ids over the period's days).
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT path,
       COUNT(*) AS pageviews,
       COUNT(DISTINCT visitor_id) AS visitors
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
GROUP BY path
ORDER BY pageviews DESC, path
LIMIT 100
