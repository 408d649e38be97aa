-- channels: pageview visitors by acquisition channel (search, social, email, ai, direct, internal, other;
-- 'unknown' before referrers are classified): channel, visitors (distinct ids per UTC day, summed), pageviews.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH per_day AS (
    SELECT dt, site, COALESCE(referrer_channel, 'unknown') AS channel,
           COUNT(DISTINCT visitor_id) AS visitors,
           COUNT(*) AS pageviews
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
    GROUP BY dt, site, COALESCE(referrer_channel, 'unknown')
)
SELECT channel, SUM(visitors) AS visitors, SUM(pageviews) AS pageviews
FROM per_day
GROUP BY channel
ORDER BY visitors DESC, channel
