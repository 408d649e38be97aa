-- hourly: pageviews and visitors per clock hour: hour (the UTC hour's start, a timestamp), pageviews,
-- visitors (distinct visitor ids in that hour, per site, summed). Visitor ids change every UTC day, so summing
-- visitors over the hours of several days (for example into an hour-of-day pattern in any time zone) counts a
-- person once per day, like daily.sql. Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT hour, SUM(pageviews) AS pageviews, SUM(visitors) AS visitors
FROM rollup_hourly
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY hour
ORDER BY hour
