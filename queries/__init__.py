"""The SQL queries (Trino dialect), shipped inside the package as stats_lib.queries (see stats_lib/resources.py)."""
