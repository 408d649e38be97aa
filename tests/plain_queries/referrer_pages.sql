-- referrer_pages: referrer drill-down: source (classified referrer source, else the referrer host),
-- referrer (the full referring URL as logged), landing_path (the page it led to), visitors (distinct ids per
-- UTC day, summed), pageviews. Internal referrers (from the site itself) and direct visits are left out.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH ext AS (
    SELECT dt, site, visitor_id, path,
           COALESCE(referrer_source, referrer_host, '') AS source,
           referrer
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
      AND referrer IS NOT NULL AND referrer NOT IN ('', '-')
      AND COALESCE(referrer_channel, '') NOT IN ('internal', 'direct')
),
per_day AS (
    SELECT dt, site, source, referrer, path,
           COUNT(DISTINCT visitor_id) AS visitors,
           COUNT(*) AS pageviews
    FROM ext
    GROUP BY dt, site, source, referrer, path
)
SELECT source, referrer, path AS landing_path,
       SUM(visitors) AS visitors, SUM(pageviews) AS pageviews
FROM per_day
GROUP BY source, referrer, path
ORDER BY visitors DESC, pageviews DESC, source, referrer, landing_path
LIMIT 100
