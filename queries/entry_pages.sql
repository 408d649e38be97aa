-- entry_pages: the first page of each session (shared/sessions.sql: one visitor's pageviews of a UTC day, split
-- where two pageviews are more than 30 minutes apart): path, entries (sessions that began there), visitors
-- (distinct visitor ids per UTC day and site, summed over the days), bounces (one-pageview sessions that began there). Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT path, SUM(entries) AS entries, SUM(visitors) AS visitors, SUM(bounces) AS bounces
FROM rollup_entry_pages
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY path
ORDER BY entries DESC, path
LIMIT 100
