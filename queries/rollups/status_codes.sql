-- rollup status_codes: per UTC day and site, hits by HTTP status: status, hits, bot_hits.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
SELECT dt, site, status,
       COUNT(*) AS hits,
       COUNT_IF(is_bot) AS bot_hits
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY dt, site, status
