-- rollup custom_events: per UTC day and site, the collector's custom events by name: event_name, events,
-- visitors (distinct visitor ids), first_seen, last_seen.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
SELECT dt, site, event_name,
       COUNT(*) AS events,
       COUNT(DISTINCT visitor_id) AS visitors,
       MIN(ts) AS first_seen,
       MAX(ts) AS last_seen
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
  AND source = 'collector' AND event_name IS NOT NULL AND event_name <> 'pageview'
GROUP BY dt, site, event_name
