-- rollup cities: per UTC day and site, pageviews by located place (places without coordinates left out): visitors (distinct visitor ids), pageviews.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
SELECT dt, site, country_code, country, city, latitude, longitude,
       COUNT(DISTINCT visitor_id) AS visitors,
       COUNT(*) AS pageviews
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
  AND latitude IS NOT NULL AND longitude IS NOT NULL
GROUP BY dt, site, country_code, country, city, latitude, longitude
