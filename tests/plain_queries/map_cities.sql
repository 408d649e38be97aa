-- Plain reference (tests only): computed from the events directly, to check the rollup path row for row.
WITH located AS (
    SELECT dt, site, visitor_id, country_code, country, city, latitude, longitude
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
      AND latitude IS NOT NULL AND longitude IS NOT NULL
),
per_site_day AS (
    SELECT dt, site, country_code, country, city, latitude, longitude,
           COUNT(DISTINCT visitor_id) AS visitors, COUNT(*) AS pageviews
    FROM located
    GROUP BY dt, site, country_code, country, city, latitude, longitude
),
per_day AS (
    SELECT dt, country_code, country, city, latitude, longitude, SUM(visitors) AS visitors, SUM(pageviews) AS pageviews
    FROM per_site_day
    GROUP BY dt, country_code, country, city, latitude, longitude
),
country_site_day AS (
    SELECT dt, site, country_code, COUNT(DISTINCT visitor_id) AS visitors
    FROM located
    GROUP BY dt, site, country_code
),
country_peak AS (
    SELECT country_code, MAX(visitors) AS peak
    FROM (SELECT dt, country_code, SUM(visitors) AS visitors FROM country_site_day GROUP BY dt, country_code)
    GROUP BY country_code
),
places AS (
    SELECT country_code, country, city, latitude, longitude,
           SUM(visitors) AS visitors, MAX(visitors) AS peak_day_visitors, SUM(pageviews) AS pageviews
    FROM per_day
    GROUP BY country_code, country, city, latitude, longitude
)
SELECT p.country_code, p.country, p.city, p.latitude, p.longitude, p.visitors, p.peak_day_visitors,
       c.peak AS country_peak_day_visitors, p.pageviews
FROM places AS p
LEFT JOIN country_peak AS c ON c.country_code IS NOT DISTINCT FROM p.country_code
ORDER BY p.visitors DESC, p.country_code, p.city, p.country, p.latitude, p.longitude
