-- sites: the sites with pageviews in the period, busiest first: site, pageviews, visitors (distinct visitor ids
-- per UTC day, summed over the days). The report's index shows one dashboard card per site. Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT site, SUM(pageviews) AS pageviews, SUM(visitors) AS visitors
FROM rollup_totals
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND pageviews > 0
GROUP BY site
ORDER BY visitors DESC, pageviews DESC, site
