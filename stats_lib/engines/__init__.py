"""Query engines: the same ``queries/*.sql`` (Athena/Trino dialect) on DuckDB locally or on Athena."""
