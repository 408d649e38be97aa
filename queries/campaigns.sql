-- campaigns: pageview visitors by UTM campaign (pageviews whose URL carried utm_source, or ref/source as its
-- fallback): utm_source, utm_medium, utm_campaign, visitors (distinct visitor ids per UTC day and site, summed
-- over the days), pageviews. Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT utm_source, utm_medium, utm_campaign, SUM(visitors) AS visitors, SUM(pageviews) AS pageviews
FROM rollup_campaigns
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY utm_source, utm_medium, utm_campaign
ORDER BY visitors DESC, pageviews DESC, utm_source, utm_medium, utm_campaign
LIMIT 100
