"""Where StoredEvents live: a local Parquet folder (default) or S3 + Glue."""
