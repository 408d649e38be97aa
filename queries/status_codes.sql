-- status_codes: hits per HTTP status (0 is CloudFront's 000, a request the client aborted): status, hits.
-- Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT status,
       SUM(hits) AS hits
FROM rollup_status_codes
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY status
ORDER BY hits DESC, status
