-- rollup referrer_pages: per UTC day and site, pageviews by external referrer (source, full referring URL) and landing path; internal and direct left out: visitors (distinct visitor ids), pageviews.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
SELECT dt, site, COALESCE(referrer_source, referrer_host, '') AS source, referrer, path,
       COUNT(DISTINCT visitor_id) AS visitors,
       COUNT(*) AS pageviews
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
  AND referrer IS NOT NULL AND referrer NOT IN ('', '-')
  AND COALESCE(referrer_channel, '') NOT IN ('internal', 'direct')
GROUP BY dt, site, COALESCE(referrer_source, referrer_host, ''), referrer, path
