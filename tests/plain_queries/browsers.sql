-- browsers: pageview visitors by browser family (ua-parser; 'Unknown' when it names none): name, visitors
-- (distinct visitor ids per UTC day, summed over the days), pageviews. Bots are never pageviews.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH per_day AS (
    SELECT dt, site, COALESCE(browser, 'Unknown') AS name,
           COUNT(DISTINCT visitor_id) AS visitors,
           COUNT(*) AS pageviews
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
    GROUP BY dt, site, COALESCE(browser, 'Unknown')
)
SELECT name, SUM(visitors) AS visitors, SUM(pageviews) AS pageviews
FROM per_day
GROUP BY name
ORDER BY visitors DESC, pageviews DESC, name
