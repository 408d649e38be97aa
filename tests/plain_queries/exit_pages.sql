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
per_day AS (
    SELECT dt, site, exit_path, COUNT(*) AS exits, COUNT(DISTINCT visitor_id) AS visitors,
           COUNT_IF(pageviews = 1) AS bounces
    FROM visits
    GROUP BY dt, site, exit_path
)
SELECT exit_path AS path, SUM(exits) AS exits, SUM(visitors) AS visitors, SUM(bounces) AS bounces
FROM per_day
GROUP BY exit_path
ORDER BY exits DESC, path
LIMIT 100
