-- custom_events: the collector's custom events (every event name but 'pageview'): event, events, visitors
-- (distinct visitor ids per UTC day and site, summed over the days), first_seen, last_seen (to the minute). Bots
-- never reach the warehouse from the collector (they are dropped and counted as rejects). Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT event_name AS event,
       SUM(events) AS events,
       SUM(visitors) AS visitors,
       date_trunc('minute', MIN(first_seen)) AS first_seen,
       date_trunc('minute', MAX(last_seen)) AS last_seen
FROM rollup_custom_events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY event_name
ORDER BY events DESC, event
LIMIT 100
