-- exit_pages: the last page of each session: path, exits (sessions that ended there), visitors,
-- bounces (one-pageview sessions, which begin and end on the same page). Sessions as in daily.sql: one visitor's pageviews of a
-- UTC day, split where two pageviews are more than 30 minutes apart.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH pv AS (
    SELECT dt, visitor_id, ts, path,
           CASE WHEN LAG(ts) OVER (PARTITION BY dt, visitor_id ORDER BY ts) IS NULL
                  OR DATE_DIFF('second', LAG(ts) OVER (PARTITION BY dt, visitor_id ORDER BY ts), ts) > 1800
                THEN 1 ELSE 0 END AS starts_session
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
),
numbered AS (
    SELECT dt, visitor_id, ts, path,
           SUM(starts_session) OVER (PARTITION BY dt, visitor_id ORDER BY ts
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_no
    FROM pv
),
sessions AS (
    SELECT dt, visitor_id, session_no,
           MAX_BY(path, ts) AS exit_path,
           COUNT(*) AS pageviews
    FROM numbered
    GROUP BY dt, visitor_id, session_no
)
SELECT exit_path AS path,
       COUNT(*) AS exits,
       COUNT(DISTINCT visitor_id) AS visitors,
       COUNT_IF(pageviews = 1) AS bounces
FROM sessions
GROUP BY exit_path
ORDER BY exits DESC, path
LIMIT 100
