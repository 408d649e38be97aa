-- referrers: pageview visitors by referrer source: source (the listed source name, else the referring host;
-- 'Direct / None' without a referrer), channel (search, social, email, ai, direct, other), visitors (distinct
-- visitor ids per UTC day, summed over the days), pageviews. Internal referrers (the site itself) are left out.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH per_day AS (
    SELECT dt, site,
           CASE WHEN referrer_channel = 'direct' THEN 'Direct / None'
                ELSE COALESCE(referrer_source, referrer_host, 'Unknown') END AS source,
           COALESCE(referrer_channel, 'unknown') AS channel,
           COUNT(DISTINCT visitor_id) AS visitors,
           COUNT(*) AS pageviews
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
      AND COALESCE(referrer_channel, '') <> 'internal'
    GROUP BY dt, site,
             CASE WHEN referrer_channel = 'direct' THEN 'Direct / None'
                  ELSE COALESCE(referrer_source, referrer_host, 'Unknown') END,
             COALESCE(referrer_channel, 'unknown')
)
SELECT source, channel, SUM(visitors) AS visitors, SUM(pageviews) AS pageviews
FROM per_day
GROUP BY source, channel
ORDER BY visitors DESC, pageviews DESC, source, channel
LIMIT 100
