-- campaigns: pageview visitors by UTM campaign (pageviews whose URL carried utm_source, or ref/source as its
-- fallback): utm_source, utm_medium, utm_campaign, visitors (distinct visitor ids per UTC day, summed over the
-- days), pageviews.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH per_day AS (
    SELECT dt, site, utm_source, utm_medium, utm_campaign,
           COUNT(DISTINCT visitor_id) AS visitors,
           COUNT(*) AS pageviews
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
      AND (utm_source IS NOT NULL OR utm_medium IS NOT NULL OR utm_campaign IS NOT NULL)
    GROUP BY dt, site, utm_source, utm_medium, utm_campaign
)
SELECT utm_source, utm_medium, utm_campaign, SUM(visitors) AS visitors, SUM(pageviews) AS pageviews
FROM per_day
GROUP BY utm_source, utm_medium, utm_campaign
ORDER BY visitors DESC, pageviews DESC, utm_source, utm_medium, utm_campaign
LIMIT 100
