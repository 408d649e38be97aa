-- rollup exit_pages: per UTC day and site, sessions (shared/sessions.sql) by their exit page: path, exits,
-- visitors (distinct visitor ids), bounces (one-pageview sessions).
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
SELECT dt, site, exit_path AS path,
       COUNT(*) AS exits,
       COUNT(DISTINCT visitor_id) AS visitors,
       COUNT_IF(pageviews = 1) AS bounces
FROM sessions
GROUP BY dt, site, exit_path
