-- daily: one row per UTC day: hits, bot_hits, pageviews, visitors, sessions, bounces, bounce_rate,
-- avg_visit_duration (seconds). Sessions split where a visitor's pageviews are more than 30 minutes apart.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH ev AS (
    SELECT dt, ts, visitor_id, is_bot, is_pageview
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
),
hits AS (
    SELECT dt,
           COUNT(*) AS hits,
           COUNT_IF(is_bot) AS bot_hits,
           COUNT_IF(is_pageview) AS pageviews,
           COUNT(DISTINCT CASE WHEN is_pageview THEN visitor_id END) AS visitors
    FROM ev
    GROUP BY dt
),
marked AS (
    SELECT dt, visitor_id, ts,
           CASE WHEN LAG(ts) OVER (PARTITION BY dt, visitor_id ORDER BY ts) IS NULL
                  OR DATE_DIFF('second', LAG(ts) OVER (PARTITION BY dt, visitor_id ORDER BY ts), ts) > 1800
                THEN 1 ELSE 0 END AS starts_session
    FROM ev
    WHERE is_pageview
),
numbered AS (
    SELECT dt, visitor_id, ts,
           SUM(starts_session) OVER (PARTITION BY dt, visitor_id ORDER BY ts
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_no
    FROM marked
),
sessions AS (
    SELECT dt, visitor_id, session_no,
           COUNT(*) AS pageviews,
           DATE_DIFF('second', MIN(ts), MAX(ts)) AS duration
    FROM numbered
    GROUP BY dt, visitor_id, session_no
),
per_day AS (
    SELECT dt,
           COUNT(*) AS sessions,
           COUNT_IF(pageviews = 1) AS bounces,
           AVG(CAST(duration AS DOUBLE)) AS avg_visit_duration
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
       COALESCE(p.avg_visit_duration, CAST(0 AS DOUBLE)) AS avg_visit_duration
FROM hits AS h
LEFT JOIN per_day AS p ON p.dt = h.dt
ORDER BY day
