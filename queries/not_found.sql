-- not_found: paths answered with 404, bots included (broken links and probes alike): path, hits, human_hits
-- (hits from non-bots), top_referrer (the referrer most of its hits came with, '' when none was sent).
-- Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH nf AS (
    SELECT path, referrer, SUM(hits) AS hits, SUM(human_hits) AS human_hits
    FROM rollup_not_found
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
    GROUP BY path, referrer
),
by_referrer AS (
    SELECT path, referrer,
           ROW_NUMBER() OVER (PARTITION BY path ORDER BY hits DESC, referrer) AS rn
    FROM nf
),
totals AS (
    SELECT path, SUM(hits) AS hits, SUM(human_hits) AS human_hits
    FROM nf
    GROUP BY path
)
SELECT t.path, t.hits, t.human_hits, r.referrer AS top_referrer
FROM totals AS t
LEFT JOIN by_referrer AS r ON r.path = t.path AND r.rn = 1
ORDER BY t.hits DESC, t.path
LIMIT 100
