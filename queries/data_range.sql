-- data_range: the UTC days the warehouse holds events for: first_day, last_day, days (how many days have
-- events), hits. The report uses it to pick a default period. Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT CAST(MIN(dt) AS DATE) AS first_day,
       CAST(MAX(dt) AS DATE) AS last_day,
       COUNT(DISTINCT dt) AS days,
       COALESCE(SUM(hits), 0) AS hits
FROM rollup_totals
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
