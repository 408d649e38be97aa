-- rollup bots: per UTC day and site, bot hits by bot name: bot_name, hits.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites); a rollup is built with start = end.
SELECT dt, site, bot_name,
       COUNT(*) AS hits
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_bot
GROUP BY dt, site, bot_name
