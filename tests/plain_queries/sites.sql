-- Plain reference (tests only): computed from the events directly, to check the rollup path row for row.
-- sites: the sites with pageviews in the period, busiest first: site, pageviews, visitors (distinct visitor ids
-- per UTC day, summed over the days). The report's index shows one dashboard card per site.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH per_day AS (
    SELECT dt, site, COUNT(*) AS pageviews, COUNT(DISTINCT visitor_id) AS visitors
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
    GROUP BY dt, site
)
SELECT site, SUM(pageviews) AS pageviews, SUM(visitors) AS visitors
FROM per_day
GROUP BY site
ORDER BY visitors DESC, pageviews DESC, site
