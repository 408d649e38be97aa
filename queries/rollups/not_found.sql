-- rollup not_found: per UTC day and site, hits answered 404 by path and referrer ('' when none was sent): path,
-- referrer, hits, human_hits (hits from non-bots).
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
SELECT dt, site, path, COALESCE(referrer, '') AS referrer,
       COUNT(*) AS hits,
       COUNT_IF(NOT COALESCE(is_bot, FALSE)) AS human_hits
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND status = 404
GROUP BY dt, site, path, COALESCE(referrer, '')
