-- sessions (shared: the loader inlines it into every query that reads `sessions`): one row per session (see
-- session_pageviews.sql): dt, site, visitor_id, session_no, pageviews, started_at, ended_at, duration_ms (last
-- pageview time - first pageview time, in whole milliseconds, the stored timestamps' precision), entry_path,
-- exit_path.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT dt, site, visitor_id, session_no,
       COUNT(*) AS pageviews,
       MIN(ts) AS started_at,
       MAX(ts) AS ended_at,
       DATE_DIFF('millisecond', MIN(ts), MAX(ts)) AS duration_ms,
       MIN_BY(path, seq) AS entry_path,
       MAX_BY(path, seq) AS exit_path
FROM session_pageviews
GROUP BY dt, site, visitor_id, session_no
