-- exit_pages: the last page of each session (shared/sessions.sql: one visitor's pageviews of a UTC day, split
-- where two pageviews are more than 30 minutes apart): path, exits (sessions that ended there), visitors
-- (distinct visitor ids per UTC day and site, summed over the days), bounces (one-pageview sessions, which begin and end on the same page). Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT path, SUM(exits) AS exits, SUM(visitors) AS visitors, SUM(bounces) AS bounces
FROM rollup_exit_pages
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY path
ORDER BY exits DESC, path
LIMIT 100
