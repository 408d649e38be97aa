-- funnel: sessions that reach each step in order, for up to 8 steps :step1 .. :step8 (a path such as
-- '/pricing' matching pageviews, or an event name such as 'signup' matching collector events; '' = no such
-- step): step, name, sessions (reaching this step after every earlier one, in time order, in one session),
-- drop_off (sessions of the step before that did not get here), conversion (sessions / sessions of step 1).
-- Sessions here are one visitor's pageviews and named events of a UTC day in time order, split wherever two
-- are more than 30 minutes apart (at full timestamp precision): the shared `session_pageviews` holds pageviews
-- only, so the funnel keeps its own, same rule over both kinds. Bots never count.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites), :step1 .. :step8.
WITH steps AS (
    SELECT step, name FROM (VALUES (1, :step1), (2, :step2), (3, :step3), (4, :step4),
                                   (5, :step5), (6, :step6), (7, :step7), (8, :step8)) AS s (step, name)
    WHERE name <> ''
),
ordered AS (
    SELECT dt, site, visitor_id, ts, path, event_name,
           ROW_NUMBER() OVER (PARTITION BY dt, site, visitor_id ORDER BY ts, source_file, line_number) AS seq
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND NOT is_bot
      AND (is_pageview OR (event_name IS NOT NULL AND event_name NOT IN ('', 'pageview')))
),
marked AS (
    SELECT dt, site, visitor_id, ts, path, event_name, seq,
           CASE WHEN seq = 1
                  OR ts > LAG(ts) OVER (PARTITION BY dt, site, visitor_id ORDER BY seq) + INTERVAL '30' MINUTE
                THEN 1 ELSE 0 END AS starts_session
    FROM ordered
),
numbered AS (
    SELECT dt, site, visitor_id, path, event_name, seq,
           SUM(starts_session) OVER (PARTITION BY dt, site, visitor_id ORDER BY seq
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_no
    FROM marked
),
matches AS (
    SELECT n.dt, n.site, n.visitor_id, n.session_no, n.seq, s.step
    FROM numbered AS n
    JOIN steps AS s ON s.name = n.path OR s.name = n.event_name
),
-- The earliest match of each step after the step before it (earliest is best for every later step).
reached1 AS (
    SELECT dt, site, visitor_id, session_no, MIN(seq) AS seq FROM matches WHERE step = 1
    GROUP BY dt, site, visitor_id, session_no
),
reached2 AS (
    SELECT m.dt, m.site, m.visitor_id, m.session_no, MIN(m.seq) AS seq
    FROM matches AS m JOIN reached1 AS r USING (dt, site, visitor_id, session_no)
    WHERE m.step = 2 AND m.seq > r.seq GROUP BY m.dt, m.site, m.visitor_id, m.session_no
),
reached3 AS (
    SELECT m.dt, m.site, m.visitor_id, m.session_no, MIN(m.seq) AS seq
    FROM matches AS m JOIN reached2 AS r USING (dt, site, visitor_id, session_no)
    WHERE m.step = 3 AND m.seq > r.seq GROUP BY m.dt, m.site, m.visitor_id, m.session_no
),
reached4 AS (
    SELECT m.dt, m.site, m.visitor_id, m.session_no, MIN(m.seq) AS seq
    FROM matches AS m JOIN reached3 AS r USING (dt, site, visitor_id, session_no)
    WHERE m.step = 4 AND m.seq > r.seq GROUP BY m.dt, m.site, m.visitor_id, m.session_no
),
reached5 AS (
    SELECT m.dt, m.site, m.visitor_id, m.session_no, MIN(m.seq) AS seq
    FROM matches AS m JOIN reached4 AS r USING (dt, site, visitor_id, session_no)
    WHERE m.step = 5 AND m.seq > r.seq GROUP BY m.dt, m.site, m.visitor_id, m.session_no
),
reached6 AS (
    SELECT m.dt, m.site, m.visitor_id, m.session_no, MIN(m.seq) AS seq
    FROM matches AS m JOIN reached5 AS r USING (dt, site, visitor_id, session_no)
    WHERE m.step = 6 AND m.seq > r.seq GROUP BY m.dt, m.site, m.visitor_id, m.session_no
),
reached7 AS (
    SELECT m.dt, m.site, m.visitor_id, m.session_no, MIN(m.seq) AS seq
    FROM matches AS m JOIN reached6 AS r USING (dt, site, visitor_id, session_no)
    WHERE m.step = 7 AND m.seq > r.seq GROUP BY m.dt, m.site, m.visitor_id, m.session_no
),
reached8 AS (
    SELECT m.dt, m.site, m.visitor_id, m.session_no, MIN(m.seq) AS seq
    FROM matches AS m JOIN reached7 AS r USING (dt, site, visitor_id, session_no)
    WHERE m.step = 8 AND m.seq > r.seq GROUP BY m.dt, m.site, m.visitor_id, m.session_no
),
counts AS (
    SELECT 1 AS step, COUNT(*) AS sessions FROM reached1
    UNION ALL SELECT 2, COUNT(*) FROM reached2
    UNION ALL SELECT 3, COUNT(*) FROM reached3
    UNION ALL SELECT 4, COUNT(*) FROM reached4
    UNION ALL SELECT 5, COUNT(*) FROM reached5
    UNION ALL SELECT 6, COUNT(*) FROM reached6
    UNION ALL SELECT 7, COUNT(*) FROM reached7
    UNION ALL SELECT 8, COUNT(*) FROM reached8
),
shown AS (
    SELECT s.step, s.name, c.sessions,
           LAG(c.sessions) OVER (ORDER BY s.step) AS before,
           FIRST_VALUE(c.sessions) OVER (ORDER BY s.step) AS first
    FROM steps AS s JOIN counts AS c ON c.step = s.step
)
SELECT step, name, sessions,
       COALESCE(before, sessions) - sessions AS drop_off,
       CASE WHEN first = 0 THEN CAST(0 AS DOUBLE) ELSE CAST(sessions AS DOUBLE) / first END AS conversion
FROM shown
ORDER BY step
