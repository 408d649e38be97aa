-- rollup countries: per UTC day and site, pageviews by country ('Unknown' when not located): visitors (distinct visitor ids), pageviews.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
SELECT dt, site, COALESCE(country, 'Unknown') AS country, country_code,
       COUNT(DISTINCT visitor_id) AS visitors,
       COUNT(*) AS pageviews
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
GROUP BY dt, site, COALESCE(country, 'Unknown'), country_code
