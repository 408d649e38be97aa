-- referrers: pageview visitors by referrer source: source (the listed source name, else the referring host;
-- 'Direct / None' without a referrer), channel (search, social, email, ai, direct, other), visitors (distinct
-- visitor ids per UTC day and site, summed over the days), pageviews. Internal referrers (the site itself) are
-- left out. Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT source, channel, SUM(visitors) AS visitors, SUM(pageviews) AS pageviews
FROM rollup_referrers
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY source, channel
ORDER BY visitors DESC, pageviews DESC, source, channel
LIMIT 100
