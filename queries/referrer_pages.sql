-- referrer_pages: referrer drill-down: source (classified referrer source, else the referrer host),
-- referrer (the full referring URL as logged), landing_path (the page it led to), visitors (distinct ids per
-- UTC day and site, summed), pageviews. Internal referrers (from the site itself) and direct visits are left
-- out. Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT source, referrer, path AS landing_path,
       SUM(visitors) AS visitors, SUM(pageviews) AS pageviews
FROM rollup_referrer_pages
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY source, referrer, path
ORDER BY visitors DESC, pageviews DESC, source, referrer, landing_path
LIMIT 100
