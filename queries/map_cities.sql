-- map_cities: pageview visitors by located city, for the geography map: country_code, country, city,
-- latitude, longitude, visitors (distinct visitor ids per UTC day and site, summed over the days),
-- peak_day_visitors (the most distinct visitor ids the place had on one day: a lower bound on the number of
-- different people), country_peak_day_visitors (the same for the whole country), pageviews. The report's
-- k-anonymity threshold uses the peaks. Places without coordinates are left out. Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH per_day AS (
    SELECT dt, country_code, country, city, latitude, longitude,
           SUM(visitors) AS visitors, SUM(pageviews) AS pageviews
    FROM rollup_cities
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
    GROUP BY dt, country_code, country, city, latitude, longitude
),
country_day AS (
    SELECT dt, country_code, SUM(visitors) AS visitors
    FROM rollup_located_countries
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
    GROUP BY dt, country_code
),
country_peak AS (
    SELECT country_code, MAX(visitors) AS peak
    FROM country_day
    GROUP BY country_code
),
places AS (
    SELECT country_code, country, city, latitude, longitude,
           SUM(visitors) AS visitors,
           MAX(visitors) AS peak_day_visitors,
           SUM(pageviews) AS pageviews
    FROM per_day
    GROUP BY country_code, country, city, latitude, longitude
)
SELECT p.country_code, p.country, p.city, p.latitude, p.longitude, p.visitors, p.peak_day_visitors,
       c.peak AS country_peak_day_visitors, p.pageviews
FROM places AS p
LEFT JOIN country_peak AS c ON c.country_code IS NOT DISTINCT FROM p.country_code
ORDER BY p.visitors DESC, p.country_code, p.city, p.country, p.latitude, p.longitude
