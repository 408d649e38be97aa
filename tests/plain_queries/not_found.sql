-- not_found: paths answered with 404, bots included (broken links and probes alike): path, hits, human_hits
-- (hits from non-bots), top_referrer (the referrer most of its hits came with, '' when none was sent).
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH nf AS (
    SELECT path, COALESCE(referrer, '') AS referrer, is_bot
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND status = 404
),
by_referrer AS (
    SELECT path, referrer, COUNT(*) AS n,
           ROW_NUMBER() OVER (PARTITION BY path ORDER BY COUNT(*) DESC, referrer) AS rn
    FROM nf
    GROUP BY path, referrer
),
totals AS (
    SELECT path, COUNT(*) AS hits, COUNT_IF(NOT COALESCE(is_bot, FALSE)) AS human_hits
    FROM nf
    GROUP BY path
)
SELECT t.path, t.hits, t.human_hits, r.referrer AS top_referrer
FROM totals AS t
LEFT JOIN by_referrer AS r ON r.path = t.path AND r.rn = 1
ORDER BY t.hits DESC, t.path
LIMIT 100
