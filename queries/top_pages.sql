-- top_pages: the most viewed paths: path, pageviews, visitors (distinct visitor ids per UTC day and site, summed
-- over the period's days). Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT path, SUM(pageviews) AS pageviews, SUM(visitors) AS visitors
FROM rollup_pages
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY path
ORDER BY pageviews DESC, path
LIMIT 100
