-- countries: pageview visitors by country (geolocated from the full client IP at ingest; 'Unknown' when the
-- address is not in the database or no database is configured): country, country_code, visitors (distinct
-- visitor ids per UTC day, summed over the days), pageviews.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH per_day AS (
    SELECT dt, site, COALESCE(country, 'Unknown') AS country, country_code,
           COUNT(DISTINCT visitor_id) AS visitors,
           COUNT(*) AS pageviews
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
    GROUP BY dt, site, COALESCE(country, 'Unknown'), country_code
)
SELECT country, country_code, SUM(visitors) AS visitors, SUM(pageviews) AS pageviews
FROM per_day
GROUP BY country, country_code
ORDER BY visitors DESC, pageviews DESC, country, country_code
