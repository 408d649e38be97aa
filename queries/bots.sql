-- bots: hits by bot name (crawlers, monitors, previewers, scanners, HTTP libraries, empty user agents):
-- bot_name, hits, days (UTC days on which the bot was seen). Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT bot_name,
       SUM(hits) AS hits,
       COUNT(DISTINCT dt) AS days
FROM rollup_bots
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
GROUP BY bot_name
ORDER BY hits DESC, bot_name
LIMIT 100
