-- status_codes: hits per HTTP status (0 is CloudFront's 000, a request the client aborted): status, hits.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT status,
       COUNT(*) AS hits
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY status
ORDER BY hits DESC, status
