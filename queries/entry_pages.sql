-- entry_pages: the first page of each session (shared/sessions.sql: one visitor's pageviews of a UTC day, split
-- where two pageviews are more than 30 minutes apart): path, entries (sessions that began there), visitors
-- (distinct visitor ids per UTC day, summed over the days), bounces (one-pageview sessions that began there).
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH per_day AS (
    SELECT dt, site, entry_path,
           COUNT(*) AS entries,
           COUNT(DISTINCT visitor_id) AS visitors,
           COUNT_IF(pageviews = 1) AS bounces
    FROM sessions
    GROUP BY dt, site, entry_path
)
SELECT entry_path AS path,
       SUM(entries) AS entries,
       SUM(visitors) AS visitors,
       SUM(bounces) AS bounces
FROM per_day
GROUP BY entry_path
ORDER BY entries DESC, path
LIMIT 100
