-- rollup operating_systems: per UTC day and site, pageviews by operating system family ('Unknown' when none): visitors (distinct visitor ids), pageviews.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
SELECT dt, site, COALESCE(os, 'Unknown') AS name,
       COUNT(DISTINCT visitor_id) AS visitors,
       COUNT(*) AS pageviews
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
GROUP BY dt, site, COALESCE(os, 'Unknown')
