-- Plain reference (tests only): computed from the events directly, to check the rollup path row for row.
-- event_props: the props sent with the collector's events: event, prop, value (as text; a JSON null is NULL),
-- events, visitors (distinct visitor ids per UTC day, summed over the days). The 200 most frequent triples.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
WITH ev AS (
    SELECT dt, site, event_name, visitor_id, CAST(json_parse(props) AS MAP(VARCHAR, JSON)) AS pm
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
      AND source = 'collector' AND props IS NOT NULL AND props <> '{}'
),
pairs AS (
    SELECT ev.dt, ev.site, ev.event_name, ev.visitor_id, t.k AS prop,
           json_extract_scalar(json_format(ev.pm[t.k]), '$') AS value
    FROM ev
    CROSS JOIN UNNEST(map_keys(ev.pm)) AS t (k)
),
per_day AS (
    SELECT dt, site, event_name, prop, value, COUNT(*) AS events, COUNT(DISTINCT visitor_id) AS visitors
    FROM pairs
    GROUP BY dt, site, event_name, prop, value
)
SELECT event_name AS event, prop, value, SUM(events) AS events, SUM(visitors) AS visitors
FROM per_day
GROUP BY event_name, prop, value
ORDER BY events DESC, event, prop, value
LIMIT 200
