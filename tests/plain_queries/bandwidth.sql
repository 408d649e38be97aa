-- bandwidth: bytes served per UTC day: day, hits, bytes_sent (sum of response bytes), bot_bytes (of which to
-- bots), page_bytes (of which for pageviews).
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT CAST(dt AS DATE) AS day,
       COUNT(*) AS hits,
       COALESCE(SUM(bytes_sent), 0) AS bytes_sent,
       COALESCE(SUM(CASE WHEN is_bot THEN bytes_sent ELSE 0 END), 0) AS bot_bytes,
       COALESCE(SUM(CASE WHEN is_pageview THEN bytes_sent ELSE 0 END), 0) AS page_bytes
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY dt
ORDER BY day
