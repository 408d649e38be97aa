-- events_by_source: how much each source (log format, or 'collector' for beacon events) saw of the same pages:
-- path, source, hits, pageviews, visitors (distinct ids per UTC day, summed). The 50 most viewed paths only.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH ev AS (
    SELECT dt, site, path, source, visitor_id, is_pageview
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
),
top_paths AS (
    SELECT path, COUNT_IF(is_pageview) AS pv
    FROM ev
    GROUP BY path
    ORDER BY pv DESC, path
    LIMIT 50
),
per_day AS (
    SELECT e.dt, e.site, e.path, e.source,
           COUNT(*) AS hits,
           COUNT_IF(e.is_pageview) AS pageviews,
           COUNT(DISTINCT CASE WHEN e.is_pageview THEN e.visitor_id END) AS visitors
    FROM ev AS e
    JOIN top_paths AS t ON t.path = e.path
    GROUP BY e.dt, e.site, e.path, e.source
)
SELECT path, source, SUM(hits) AS hits, SUM(pageviews) AS pageviews, SUM(visitors) AS visitors
FROM per_day
GROUP BY path, source
ORDER BY pageviews DESC, hits DESC, path, source
