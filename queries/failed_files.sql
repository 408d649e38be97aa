-- failed_files: the source files whose last ingest failed (format not recognised, unreadable) or that were
-- ingested only up to a damaged part (a gzip cut short): source, format, status ('failed' or 'damaged'),
-- reason (client IPs masked), last_attempt (UTC, ISO text). A failed file is not counted as ingested: the next
-- ingest reads it again, and its record goes once it is ingested.
-- DuckDB only: it reads the local warehouse's `failures` view (from the ledger), which Athena does not have.
-- :start, :end and :site are not used (a failed file has no days).
SELECT source, format, status, reason, COALESCE(attempted_at, ingested_at) AS last_attempt
FROM failures
ORDER BY last_attempt DESC, source
