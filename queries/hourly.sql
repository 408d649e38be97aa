-- hourly: pageviews and visitors per clock hour: hour (the UTC hour's start, a timestamp), pageviews,
-- visitors (distinct visitor ids in that hour). Visitor ids change every UTC day, so summing visitors over
-- the hours of several days (for example into an hour-of-day pattern in any time zone) counts a person once
-- per day, like daily.sql.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT DATE_TRUNC('hour', ts) AS hour,
       COUNT(*) AS pageviews,
       COUNT(DISTINCT visitor_id) AS visitors
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
GROUP BY DATE_TRUNC('hour', ts)
ORDER BY hour
