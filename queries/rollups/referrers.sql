-- rollup referrers: per UTC day and site, pageviews by referrer source ('Direct / None' without a referrer; internal referrers left out) and channel: visitors (distinct visitor ids), pageviews.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
SELECT dt, site, CASE WHEN referrer_channel = 'direct' THEN 'Direct / None'
            ELSE COALESCE(referrer_source, referrer_host, 'Unknown') END AS source,
       COALESCE(referrer_channel, 'unknown') AS channel,
       COUNT(DISTINCT visitor_id) AS visitors,
       COUNT(*) AS pageviews
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
  AND COALESCE(referrer_channel, '') <> 'internal'
GROUP BY dt, site, CASE WHEN referrer_channel = 'direct' THEN 'Direct / None'
              ELSE COALESCE(referrer_source, referrer_host, 'Unknown') END,
         COALESCE(referrer_channel, 'unknown')
