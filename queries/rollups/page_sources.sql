-- rollup page_sources: per UTC day and site, hits by path and source (log format or 'collector'): path, source,
-- hits, pageviews, visitors (distinct visitor ids among the pageviews).
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
SELECT dt, site, path, source,
       COUNT(*) AS hits,
       COUNT_IF(is_pageview) AS pageviews,
       COUNT(DISTINCT CASE WHEN is_pageview THEN visitor_id END) AS visitors
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY dt, site, path, source
