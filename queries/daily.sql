-- daily: one row per UTC day: hits, bot_hits, pageviews, visitors, sessions, bounces, bounce_rate,
-- avg_visit_duration (seconds, at millisecond precision). Sessions as in shared/sessions.sql: split where a
-- visitor's pageviews are more than 30 minutes apart. With several sites, visitors and sessions are summed over
-- the sites (a visitor id belongs to one site). Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT CAST(dt AS DATE) AS day,
       SUM(hits) AS hits,
       SUM(bot_hits) AS bot_hits,
       SUM(pageviews) AS pageviews,
       SUM(visitors) AS visitors,
       SUM(sessions) AS sessions,
       SUM(bounces) AS bounces,
       CASE WHEN SUM(sessions) = 0 THEN CAST(0 AS DOUBLE)
            ELSE CAST(SUM(bounces) AS DOUBLE) / SUM(sessions) END AS bounce_rate,
       CASE WHEN SUM(sessions) = 0 THEN CAST(0 AS DOUBLE)
            ELSE CAST(SUM(duration_ms) AS DOUBLE) / 1000 / SUM(sessions) END AS avg_visit_duration
FROM rollup_totals
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY dt
ORDER BY day
