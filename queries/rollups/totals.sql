-- rollup totals: per UTC day and site: hits, bot_hits, pageviews, visitors (distinct visitor ids among the
-- pageviews), bytes_sent, bot_bytes, page_bytes, sessions, bounces, duration_ms (sessions' summed length in ms:
-- the sum of their last pageviews' times minus the sum of their first pageviews' times, each counted from the
-- day's start; shared/session_pageviews.sql).
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
WITH hits AS (
    SELECT dt, site,
           COUNT(*) AS hits,
           COUNT_IF(is_bot) AS bot_hits,
           COUNT_IF(is_pageview) AS pageviews,
           COUNT(DISTINCT CASE WHEN is_pageview THEN visitor_id END) AS visitors,
           CAST(COALESCE(SUM(bytes_sent), 0) AS BIGINT) AS bytes_sent,
           CAST(COALESCE(SUM(CASE WHEN is_bot THEN bytes_sent ELSE 0 END), 0) AS BIGINT) AS bot_bytes,
           CAST(COALESCE(SUM(CASE WHEN is_pageview THEN bytes_sent ELSE 0 END), 0) AS BIGINT) AS page_bytes
    FROM events
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
    GROUP BY dt, site
),
visits AS (
    SELECT dt, site,
           COUNT_IF(starts_session) AS sessions,
           COUNT_IF(starts_session AND ends_session) AS bounces,
           CAST(SUM(CASE WHEN ends_session THEN DATE_DIFF('millisecond', day_start, ts) ELSE 0 END)
                - SUM(CASE WHEN starts_session THEN DATE_DIFF('millisecond', day_start, ts) ELSE 0 END)
                AS BIGINT) AS duration_ms
    FROM (SELECT *, CAST(CAST(dt AS DATE) AS TIMESTAMP) AS day_start FROM session_pageviews) AS edges
    GROUP BY dt, site
)
SELECT h.dt, h.site, h.hits, h.bot_hits, h.pageviews, h.visitors, h.bytes_sent, h.bot_bytes, h.page_bytes,
       COALESCE(v.sessions, 0) AS sessions,
       COALESCE(v.bounces, 0) AS bounces,
       COALESCE(v.duration_ms, 0) AS duration_ms
FROM hits AS h
LEFT JOIN visits AS v ON v.dt = h.dt AND v.site IS NOT DISTINCT FROM h.site
