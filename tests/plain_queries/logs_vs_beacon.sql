-- Plain reference (tests only): computed from the events directly, to check the rollup path row for row.
-- logs_vs_beacon: how much each source sees of the same pages: path, log_pageviews (pageviews in the access
-- logs, any format), beacon_pageviews (pageviews the collector received), beacon_per_log (beacon / log
-- pageviews; NULL when the logs saw none, e.g. single-page navigation). The 50 pages with the most pageviews.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH pv AS (
    SELECT path, source = 'collector' AS beacon
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
),
per_path AS (
    SELECT path, COUNT_IF(NOT beacon) AS log_pageviews, COUNT_IF(beacon) AS beacon_pageviews
    FROM pv
    GROUP BY path
)
SELECT path, log_pageviews, beacon_pageviews,
       CASE WHEN log_pageviews = 0 THEN NULL
            ELSE CAST(beacon_pageviews AS DOUBLE) / log_pageviews END AS beacon_per_log
FROM per_path
ORDER BY log_pageviews + beacon_pageviews DESC, path
LIMIT 50
