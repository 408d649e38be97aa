-- exit_pages: the last page of each session (shared/sessions.sql: one visitor's pageviews of a UTC day, split
-- where two pageviews are more than 30 minutes apart): path, exits (sessions that ended there), visitors
-- (distinct visitor ids per UTC day, summed over the days), bounces (one-pageview sessions, which begin and end
-- on the same page).
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH per_day AS (
    SELECT dt, site, exit_path,
           COUNT(*) AS exits,
           COUNT(DISTINCT visitor_id) AS visitors,
           COUNT_IF(pageviews = 1) AS bounces
    FROM sessions
    GROUP BY dt, site, exit_path
)
SELECT exit_path AS path,
       SUM(exits) AS exits,
       SUM(visitors) AS visitors,
       SUM(bounces) AS bounces
FROM per_day
GROUP BY exit_path
ORDER BY exits DESC, path
LIMIT 100
