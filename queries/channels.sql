-- channels: pageview visitors by acquisition channel (search, social, email, ai, direct, internal, other;
-- 'unknown' before referrers are classified): channel, visitors (distinct ids per UTC day and site, summed),
-- pageviews. Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT channel, SUM(visitors) AS visitors, SUM(pageviews) AS pageviews
FROM rollup_channels
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY channel
ORDER BY visitors DESC, channel
