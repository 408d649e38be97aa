-- rollup campaigns: per UTC day and site, pageviews by UTM campaign (pageviews whose URL carried one): visitors (distinct visitor ids), pageviews.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
SELECT dt, site, utm_source, utm_medium, utm_campaign,
       COUNT(DISTINCT visitor_id) AS visitors,
       COUNT(*) AS pageviews
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_pageview
  AND (utm_source IS NOT NULL OR utm_medium IS NOT NULL OR utm_campaign IS NOT NULL)
GROUP BY dt, site, utm_source, utm_medium, utm_campaign
