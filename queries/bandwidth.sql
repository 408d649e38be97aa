-- bandwidth: bytes served per UTC day: day, hits, bytes_sent (sum of response bytes), bot_bytes (of which to
-- bots), page_bytes (of which for pageviews). Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT CAST(dt AS DATE) AS day,
       SUM(hits) AS hits,
       SUM(bytes_sent) AS bytes_sent,
       SUM(bot_bytes) AS bot_bytes,
       SUM(page_bytes) AS page_bytes
FROM rollup_totals
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY dt
ORDER BY day
