-- visitor_pageviews (shared: the loader inlines it into every query that reads `visitor_pageviews`): the
-- pageviews of the period counted per visitor and UTC day and the attributes a visitor id comes with (its user
-- agent's browser, os and device; its place): dt, site, visitor_id, browser, os, device, country_code, country,
-- city, latitude, longitude, pageviews. A visitor id is a hash of the day's salt, the site, the IP and the user
-- agent, so this has about one row per visitor (53,548 rows for 395,089 pageviews on a bench day): the rollups
-- by those attributes read it instead of every pageview (DuckDB 2.0.1, one thread: browsers, operating systems,
-- devices, countries, located countries and cities 0.58 s from the events, 0.24 s with it, built once).
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT dt, site, visitor_id, browser, os, device, country_code, country, city, latitude, longitude,
       COUNT(*) AS pageviews
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
GROUP BY dt, site, visitor_id, browser, os, device, country_code, country, city, latitude, longitude
