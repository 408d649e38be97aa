-- event_props: the props sent with the collector's events: event, prop, value (as text; a JSON null is NULL),
-- events, visitors (distinct visitor ids per UTC day and site, summed over the days). The 200 most frequent
-- triples. Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT event_name AS event, prop, value, SUM(events) AS events, SUM(visitors) AS visitors
FROM rollup_event_props
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY event_name, prop, value
ORDER BY events DESC, event, prop, value
LIMIT 200
