-- countries: pageview visitors by country (geolocated from the full client IP at ingest; 'Unknown' when the
-- address is not in the database or no database is configured): country, country_code, visitors (distinct
-- visitor ids per UTC day and site, summed over the days), pageviews. Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT country, country_code, SUM(visitors) AS visitors, SUM(pageviews) AS pageviews
FROM rollup_countries
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY country, country_code
ORDER BY visitors DESC, pageviews DESC, country, country_code
