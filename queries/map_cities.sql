-- map_cities: pageview visitors by located city, for the geography map: country_code, country, city,
-- latitude, longitude, visitors (distinct visitor ids per UTC day, summed over the days), peak_day_visitors
-- (the most distinct visitor ids the place had on one day: a lower bound on the number of different people,
-- which the report uses for its k-anonymity threshold), pageviews. Places without coordinates are left out.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH per_day AS (
    SELECT dt, country_code, country, city, latitude, longitude,
           COUNT(DISTINCT visitor_id) AS visitors,
           COUNT(*) AS pageviews
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
      AND latitude IS NOT NULL AND longitude IS NOT NULL
    GROUP BY dt, country_code, country, city, latitude, longitude
)
SELECT country_code, country, city, latitude, longitude,
       SUM(visitors) AS visitors,
       MAX(visitors) AS peak_day_visitors,
       SUM(pageviews) AS pageviews
FROM per_day
GROUP BY country_code, country, city, latitude, longitude
ORDER BY visitors DESC, country_code, city
