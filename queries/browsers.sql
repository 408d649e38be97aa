-- browsers: pageview visitors by browser family (ua-parser; 'Unknown' when it names none): name, visitors
-- (distinct visitor ids per UTC day and site, summed over the days), pageviews. Bots are never pageviews. Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT name, SUM(visitors) AS visitors, SUM(pageviews) AS pageviews
FROM rollup_browsers
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY name
ORDER BY visitors DESC, pageviews DESC, name
