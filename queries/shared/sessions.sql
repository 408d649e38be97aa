-- sessions (shared: the loader inlines it into every query that reads `sessions`): one row per session (see
-- session_pageviews.sql): dt, site, visitor_id, session_no (1, 2, ... in time order), pageviews, started_at,
-- ended_at, duration_ms (last pageview time - first pageview time, in whole milliseconds, the stored timestamps'
-- precision), entry_path, exit_path.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH numbered AS (
    SELECT dt, site, visitor_id, ts, path, seq,
           SUM(CASE WHEN starts_session THEN 1 ELSE 0 END)
               OVER (PARTITION BY dt, site, visitor_id ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
               AS session_no
    FROM session_pageviews
)
SELECT dt, site, visitor_id, session_no,
       COUNT(*) AS pageviews,
       MIN(ts) AS started_at,
       MAX(ts) AS ended_at,
       DATE_DIFF('millisecond', MIN(ts), MAX(ts)) AS duration_ms,
       MIN_BY(path, seq) AS entry_path,
       MAX_BY(path, seq) AS exit_path
FROM numbered
GROUP BY dt, site, visitor_id, session_no
