-- rollup referrer_pages: per UTC day and site, pageviews by external referrer (source, full referring URL) and landing path; internal and direct left out: visitors (distinct visitor ids), pageviews.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
-- Counted in two steps, each visitor's pageviews of a (source, referrer, path) first: on DuckDB the rollup's
-- heaviest query, 0.21 -> 0.16 CPU s a day of the bench corpus (same rows), against COUNT(DISTINCT visitor_id)
-- over the events.
WITH visits AS (
    SELECT dt, site, COALESCE(referrer_source, referrer_host, '') AS source, referrer, path, visitor_id,
           COUNT(*) AS pageviews
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
      AND referrer IS NOT NULL AND referrer NOT IN ('', '-')
      AND COALESCE(referrer_channel, '') NOT IN ('internal', 'direct')
    GROUP BY dt, site, COALESCE(referrer_source, referrer_host, ''), referrer, path, visitor_id
)
SELECT dt, site, source, referrer, path,
       COUNT(visitor_id) AS visitors,
       CAST(SUM(pageviews) AS BIGINT) AS pageviews
FROM visits
GROUP BY dt, site, source, referrer, path
