-- Plain reference (tests only): computed from the events directly, to check the rollup path row for row.
WITH pv AS (
    SELECT dt, site, visitor_id, ts, path, is_bot, source_file, line_number,
           LAG(ts) OVER (PARTITION BY dt, site, visitor_id ORDER BY ts, source_file, line_number) AS prev_ts
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
),
numbered AS (
    SELECT *, SUM(CASE WHEN prev_ts IS NULL OR ts - prev_ts > INTERVAL '30' MINUTE THEN 1 ELSE 0 END)
                  OVER (PARTITION BY dt, site, visitor_id ORDER BY ts, source_file, line_number
                        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_no
    FROM pv
),
visits AS (
    SELECT dt, site, visitor_id, session_no, COUNT(*) AS pageviews,
           DATE_DIFF('millisecond', MIN(ts), MAX(ts)) AS duration_ms,
           MIN_BY(path, ROW(ts, source_file, line_number)) AS entry_path,
           MAX_BY(path, ROW(ts, source_file, line_number)) AS exit_path
    FROM numbered
    GROUP BY dt, site, visitor_id, session_no
),
hits AS (
    SELECT dt, site, COUNT(*) AS hits, COUNT_IF(is_bot) AS bot_hits, COUNT_IF(is_pageview) AS pageviews,
           COUNT(DISTINCT CASE WHEN is_pageview THEN visitor_id END) AS visitors
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
    GROUP BY dt, site
),
day_hits AS (
    SELECT dt, SUM(hits) AS hits, SUM(bot_hits) AS bot_hits, SUM(pageviews) AS pageviews, SUM(visitors) AS visitors
    FROM hits
    GROUP BY dt
),
day_visits AS (
    SELECT dt, COUNT(*) AS sessions, COUNT_IF(pageviews = 1) AS bounces, SUM(duration_ms) AS duration_ms
    FROM visits
    GROUP BY dt
)
SELECT CAST(h.dt AS DATE) AS day, h.hits, h.bot_hits, h.pageviews, h.visitors,
       COALESCE(v.sessions, 0) AS sessions,
       COALESCE(v.bounces, 0) AS bounces,
       CASE WHEN COALESCE(v.sessions, 0) = 0 THEN CAST(0 AS DOUBLE)
            ELSE CAST(v.bounces AS DOUBLE) / v.sessions END AS bounce_rate,
       CASE WHEN COALESCE(v.sessions, 0) = 0 THEN CAST(0 AS DOUBLE)
            ELSE CAST(v.duration_ms AS DOUBLE) / 1000 / v.sessions END AS avg_visit_duration
FROM day_hits AS h
LEFT JOIN day_visits AS v ON v.dt = h.dt
ORDER BY day
