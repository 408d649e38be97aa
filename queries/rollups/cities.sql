-- rollup cities: per UTC day and site, pageviews by located place (places without coordinates left out): visitors (distinct visitor ids), pageviews.
-- (from shared/visitor_pageviews.sql: about one row per visitor rather than one per pageview)
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
SELECT dt, site, country_code, country, city, latitude, longitude,
       COUNT(DISTINCT visitor_id) AS visitors,
       CAST(SUM(pageviews) AS BIGINT) AS pageviews
FROM visitor_pageviews
WHERE latitude IS NOT NULL AND longitude IS NOT NULL
GROUP BY dt, site, country_code, country, city, latitude, longitude
