-- bots: hits by bot name (crawlers, monitors, previewers, scanners, HTTP libraries, empty user agents):
-- bot_name, hits, days (UTC days on which the bot was seen).
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
SELECT bot_name,
       COUNT(*) AS hits,
       COUNT(DISTINCT dt) AS days
FROM events
WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site) AND is_bot
GROUP BY bot_name
ORDER BY hits DESC, bot_name
LIMIT 100
