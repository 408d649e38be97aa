-- daily: one row per UTC day: hits, bot_hits, pageviews, visitors, sessions, bounces, bounce_rate,
-- avg_visit_duration (seconds, at millisecond precision). Sessions as in shared/sessions.sql: split where a
-- visitor's pageviews are more than 30 minutes apart.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH hits AS (
    SELECT dt,
           COUNT(*) AS hits,
           COUNT_IF(is_bot) AS bot_hits,
           COUNT_IF(is_pageview) AS pageviews,
           COUNT(DISTINCT CASE WHEN is_pageview THEN visitor_id END) AS visitors
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
    GROUP BY dt
),
per_day AS (
    SELECT dt,
           COUNT(*) AS sessions,
           COUNT_IF(pageviews = 1) AS bounces,
           SUM(duration_ms) AS duration_ms
    FROM sessions
    GROUP BY dt
)
SELECT CAST(h.dt AS DATE) AS day,
       h.hits,
       h.bot_hits,
       h.pageviews,
       h.visitors,
       COALESCE(p.sessions, 0) AS sessions,
       COALESCE(p.bounces, 0) AS bounces,
       CASE WHEN COALESCE(p.sessions, 0) = 0 THEN CAST(0 AS DOUBLE)
            ELSE CAST(p.bounces AS DOUBLE) / p.sessions END AS bounce_rate,
       CASE WHEN COALESCE(p.sessions, 0) = 0 THEN CAST(0 AS DOUBLE)
            ELSE CAST(p.duration_ms AS DOUBLE) / 1000 / p.sessions END AS avg_visit_duration
FROM hits AS h
LEFT JOIN per_day AS p ON p.dt = h.dt
ORDER BY day
