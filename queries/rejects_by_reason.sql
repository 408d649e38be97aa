-- rejects_by_reason: lines that did not become events, by file and reason: source_file, kind ('rejected' for
-- malformed lines, 'skipped' for well-formed lines that are not requests), reason, lines.
-- DuckDB only: it reads the local warehouse's `rejects` view, which Athena does not have. Rejects carry no
-- date of their own, so :start/:end/:site are not used: it covers every ingested file.
SELECT source_file, kind, reason, COUNT(*) AS lines
FROM rejects
GROUP BY source_file, kind, reason
ORDER BY lines DESC, source_file, kind, reason
