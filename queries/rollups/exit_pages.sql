-- rollup exit_pages: per UTC day and site, sessions (shared/session_pageviews.sql) by their exit page: path, exits,
-- visitors (distinct visitor ids), bounces (one-pageview sessions): the last pageviews of the sessions, grouped.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
SELECT dt, site, path,
       COUNT(*) AS exits,
       COUNT(DISTINCT visitor_id) AS visitors,
       COUNT_IF(starts_session) AS bounces
FROM session_pageviews
WHERE ends_session
GROUP BY dt, site, path
