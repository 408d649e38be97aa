-- logs_vs_beacon: how much each source sees of the same pages: path, log_pageviews (pageviews in the access
-- logs, any format), beacon_pageviews (pageviews the collector received), beacon_per_log (beacon / log
-- pageviews; NULL when the logs saw none, e.g. single-page navigation). The 50 pages with the most pageviews.
-- Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH per_path AS (
    SELECT path,
           SUM(CASE WHEN source <> 'collector' THEN pageviews ELSE 0 END) AS log_pageviews,
           SUM(CASE WHEN source = 'collector' THEN pageviews ELSE 0 END) AS beacon_pageviews
    FROM rollup_page_sources
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND pageviews > 0
    GROUP BY path
)
SELECT path, log_pageviews, beacon_pageviews,
       CASE WHEN log_pageviews = 0 THEN NULL
            ELSE CAST(beacon_pageviews AS DOUBLE) / log_pageviews END AS beacon_per_log
FROM per_path
ORDER BY log_pageviews + beacon_pageviews DESC, path
LIMIT 50
