-- ingest_ledger: one row per ingested source file: source (its path when ingested), format, lines, events,
-- rejected, skipped, first_day and last_day (UTC days its events fall on), days (how many), ingested_at.
-- DuckDB only: it reads the local warehouse's `ledger` view, which Athena does not have. Lists the files with
-- events in :start..:end (and every file without events); :site is not used, a file may hold several sites.
SELECT source, format, lines, events, rejected, skipped,
       ARRAY_MIN(days) AS first_day,
       ARRAY_MAX(days) AS last_day,
       CARDINALITY(days) AS days,
       ingested_at
FROM ledger
WHERE CARDINALITY(days) = 0 OR (ARRAY_MAX(days) >= :start AND ARRAY_MIN(days) <= :end)
ORDER BY first_day, source
