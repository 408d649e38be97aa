-- events_by_source: how much each source (log format, or 'collector' for beacon events) saw of the same pages:
-- path, source, hits, pageviews, visitors (distinct ids per UTC day and site, summed). The 50 most viewed paths
-- only. Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH ev AS (
    SELECT path, source, SUM(hits) AS hits, SUM(pageviews) AS pageviews, SUM(visitors) AS visitors
    FROM rollup_page_sources
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
    GROUP BY path, source
),
top_paths AS (
    SELECT path, SUM(pageviews) AS pv
    FROM ev
    GROUP BY path
    ORDER BY pv DESC, path
    LIMIT 50
)
SELECT e.path, e.source, e.hits, e.pageviews, e.visitors
FROM ev AS e
JOIN top_paths AS t ON t.path = e.path
ORDER BY e.pageviews DESC, e.hits DESC, e.path, e.source
