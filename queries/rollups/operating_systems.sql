-- rollup operating_systems: per UTC day and site, pageviews by operating system family ('Unknown' when none): visitors (distinct visitor ids), pageviews.
-- (from shared/visitor_pageviews.sql: about one row per visitor rather than one per pageview)
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
SELECT dt, site, COALESCE(os, 'Unknown') AS name,
       COUNT(DISTINCT visitor_id) AS visitors,
       CAST(SUM(pageviews) AS BIGINT) AS pageviews
FROM visitor_pageviews
GROUP BY dt, site, COALESCE(os, 'Unknown')
