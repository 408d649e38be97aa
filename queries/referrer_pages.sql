-- referrer_pages: referrer drill-down: source (classified referrer source, else the referrer host),
-- referrer (the full referring URL as logged), landing_path (the page it led to), visitors (distinct ids per
-- UTC day and site, summed), pageviews. Internal referrers (from the site itself) and direct visits are left
-- out. Reads the daily rollups (queries/rollups/), computed from the events for days without them.
-- Parameters: :start, :end (inclusive 'YYYY-MM-DD'), :site ('' for all sites).
--
-- The top 100 of a sum over a long tail, exact without summing the whole tail (the threshold method of
-- Fagin et al. / TPUT): a rollup has one row per part (a day, or a month read whole), site and group, so
-- the 100 largest rows of one part and site are 100 different groups; the 100th of them (`floor`) is
-- reached by at least 100 groups, so the 100th largest total is at least `floor`. A group with a total of
-- `floor` or more has at most `parts` rows, so one of them holds `floor / parts` or more: only the groups
-- with such a row (`candidates`) can be in the top 100, and their totals are summed from all their rows.
-- Every other group totals less than `floor` and ranks after the top 100. Fewer than 100 rows in the
-- heaviest part: `floor` is 0 and every group is a candidate.
WITH ext AS (
    SELECT part, site, source, referrer, path, visitors, pageviews
    FROM rollup_referrer_pages
    WHERE dt BETWEEN :start AND :end AND (:site = '' OR site = :site)
),
heaviest AS (
    SELECT part, site FROM ext ORDER BY visitors DESC, part, site LIMIT 1
),
floor AS (
    SELECT CASE WHEN COUNT(*) = 100 THEN MIN(visitors) ELSE 0 END AS visitors
    FROM (SELECT e.visitors FROM ext AS e JOIN heaviest AS h ON e.part = h.part AND e.site IS NOT DISTINCT FROM h.site
          ORDER BY e.visitors DESC LIMIT 100) AS top
),
parts AS (  -- the (part, site) pairs present, an unknown (NULL) site one of them: the most rows a group has
    SELECT COUNT(*) AS n FROM (SELECT DISTINCT part, site FROM ext) AS pairs
),
candidates AS (
    SELECT DISTINCT e.source, e.referrer, COALESCE(e.path, '') AS path
    FROM ext AS e CROSS JOIN floor AS f CROSS JOIN parts AS p
    WHERE e.visitors * p.n >= f.visitors
)
SELECT e.source, e.referrer, e.path AS landing_path,
       SUM(e.visitors) AS visitors, SUM(e.pageviews) AS pageviews
FROM ext AS e
JOIN candidates AS c ON e.source = c.source AND e.referrer = c.referrer AND COALESCE(e.path, '') = c.path
GROUP BY e.source, e.referrer, e.path
ORDER BY visitors DESC, pageviews DESC, e.source, e.referrer, landing_path
LIMIT 100
