-- Plain reference (tests only): computed from the events directly, to check the rollup path row for row.
-- custom_events: the collector's custom events (every event name but 'pageview'): event, events, visitors
-- (distinct visitor ids per UTC day, summed over the days), first_seen, last_seen (to the minute). Bots never reach the
-- warehouse from the collector (they are dropped and counted as rejects).
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH per_day AS (
    SELECT dt, site, event_name,
           COUNT(*) AS events,
           COUNT(DISTINCT visitor_id) AS visitors,
           MIN(ts) AS first_seen,
           MAX(ts) AS last_seen
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
      AND source = 'collector' AND event_name IS NOT NULL AND event_name <> 'pageview'
    GROUP BY dt, site, event_name
)
SELECT event_name AS event,
       SUM(events) AS events,
       SUM(visitors) AS visitors,
       date_trunc('minute', MIN(first_seen)) AS first_seen,
       date_trunc('minute', MAX(last_seen)) AS last_seen
FROM per_day
GROUP BY event_name
ORDER BY events DESC, event
LIMIT 100
