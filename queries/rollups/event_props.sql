-- rollup event_props: per UTC day and site, the props sent with the collector's events: event_name, prop, value
-- (as text; a JSON null is NULL), events, visitors (distinct visitor ids).
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
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
)
SELECT dt, site, event_name, prop, value, COUNT(*) AS events, COUNT(DISTINCT visitor_id) AS visitors
FROM pairs
GROUP BY dt, site, event_name, prop, value
