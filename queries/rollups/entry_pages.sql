-- rollup entry_pages: per UTC day and site, sessions (shared/session_pageviews.sql) by their entry page: path, entries,
-- visitors (distinct visitor ids), bounces (one-pageview sessions): the first pageviews of the sessions, grouped.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
SELECT dt, site, path,
       COUNT(*) AS entries,
       COUNT(DISTINCT visitor_id) AS visitors,
       COUNT_IF(ends_session) AS bounces
FROM session_pageviews
WHERE starts_session
GROUP BY dt, site, path
