-- status_daily: hits per UTC day and status class: day, status_class ('2xx', '3xx', '4xx', '5xx', or '000'
-- for a request the client aborted), hits, bot_hits. Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT CAST(dt AS DATE) AS day,
       CASE WHEN status IS NULL OR status < 100 THEN '000'
            ELSE CAST(CAST(FLOOR(status / 100) AS INTEGER) AS VARCHAR) || 'xx' END AS status_class,
       SUM(hits) AS hits,
       SUM(bot_hits) AS bot_hits
FROM rollup_status_codes
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY 1, 2
ORDER BY day, status_class
