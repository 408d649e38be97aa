"""The event collector: beacon events from the tracker (and signed server-to-server backfills) into the warehouse.

Modules, one concern each: ``validation`` (the request body -> an ``EventIn``, or a 4xx naming the field),
``security`` (sites and origins, CORS, HMAC signatures, the client address, the rate limit), ``store`` (the one
seam to the enrichment shared with log ingest: RAW rows -> StoredEvent rows, and segments -> Parquet),
``wal`` (the write-ahead log with group commit), ``sinks`` (local WAL -> Parquet), ``firehose`` (the AWS sink
and the delivery -> StoredEvent step), ``openapi`` (the document), ``app`` (the Starlette application and
``serve``), ``lambda_app`` (the same application behind a Lambda Function URL), ``tracker.js`` (the browser part).
"""
